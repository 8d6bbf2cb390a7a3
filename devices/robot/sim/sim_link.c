/* teleop — the "sim" robot link: the embedded MuJoCo humanoid. A command
 * becomes the position targets for one control period, over which the
 * physics advances a whole number of steps; the state is read straight from
 * the simulation, so it is never stale and never late. */
#include "teleop/robot_link.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sim_link {
    tp_sim *sim;
    int substeps;       /* physics steps per control period */
    double control_hz;
    char model[256];
    _Atomic uint64_t states, commands;
    int64_t start_ns;
} sim_link;

static int sim_link_open(void **state, const tp_robot_link_config *cfg, char *err, size_t errlen)
{
    sim_link *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "sim link: out of memory");
        return -1;
    }
    l->sim = tp_sim_create(cfg->model_path, err, errlen);
    if (!l->sim) {
        free(l);
        return -1;
    }
    if (tp_sim_joint_count(l->sim) != TP_SIM_ACTION_DIMS) {
        snprintf(err, errlen, "%s: expected %d actuated joints, found %d", cfg->model_path, TP_SIM_ACTION_DIMS,
                 tp_sim_joint_count(l->sim));
        goto fail;
    }
    /* A control tick is a whole number of physics steps, so simulation time
     * and the session clock advance together. */
    int64_t period_ns = (int64_t)llround(1e9 / cfg->control_hz);
    double dt = tp_sim_timestep(l->sim);
    l->substeps = (int)lround((double)period_ns / 1e9 / dt);
    if (l->substeps < 1 || llabs((int64_t)llround(l->substeps * dt * 1e9) - period_ns) > 1000) {
        snprintf(err, errlen,
                 "session.control_rate_hz: %g Hz is not the model's physics rate (%g Hz) divided by a whole "
                 "number", cfg->control_hz, 1.0 / dt);
        goto fail;
    }
    l->control_hz = cfg->control_hz;
    const char *base = strrchr(cfg->model_path, '/');
    snprintf(l->model, sizeof l->model, "%s", base ? base + 1 : cfg->model_path);
    *state = l;
    return 0;
fail:
    tp_sim_destroy(l->sim);
    free(l);
    return -1;
}

static int sim_link_start(void *state, int64_t t_start_ns, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    sim_link *l = state;
    l->start_ns = t_start_ns;
    return 0;
}

static int sim_link_read_state(void *state, int64_t t_ns, double *q, double *qd)
{
    (void)t_ns;
    sim_link *l = state;
    tp_sim_read_state(l->sim, q, qd);
    atomic_fetch_add_explicit(&l->states, 1, memory_order_relaxed);
    return 0;
}

static int sim_link_write_command(void *state, int64_t t_ns, const double *command, unsigned control_flags)
{
    (void)t_ns;
    (void)control_flags; /* the simulated arms are always ours */
    sim_link *l = state;
    tp_sim_set_targets(l->sim, command);
    for (int k = 0; k < l->substeps; k++)
        tp_sim_step(l->sim);
    atomic_fetch_add_explicit(&l->commands, 1, memory_order_relaxed);
    return 0;
}

static void sim_link_health(void *state, int64_t now_ns, tp_robot_link_health *out)
{
    sim_link *l = state;
    memset(out, 0, sizeof *out);
    out->states = atomic_load_explicit(&l->states, memory_order_relaxed);
    out->commands = atomic_load_explicit(&l->commands, memory_order_relaxed);
    out->blend_weight = 1; /* the simulated arms are always the station's */
    double span_s = (double)(now_ns - l->start_ns) / 1e9;
    if (span_s > 0) {
        out->state_hz = (double)out->states / span_s;
        out->command_hz = (double)out->commands / span_s;
    }
}

static int sim_link_events(void *state, tp_device_event *events, int max_events)
{
    /* The simulation is in-process: it is never lost, so it has nothing to report. */
    (void)state;
    (void)events;
    (void)max_events;
    return 0;
}

static void sim_link_stop(void *state)
{
    (void)state; /* the simulation just stops being stepped */
}

static void sim_link_close(void *state)
{
    sim_link *l = state;
    if (!l)
        return;
    tp_sim_destroy(l->sim);
    free(l);
}

static void sim_link_describe(void *state, char *buf, size_t len)
{
    sim_link *l = state;
    snprintf(buf, len, "MuJoCo simulation of %s, %d physics step%s per %g Hz control tick", l->model, l->substeps,
             l->substeps == 1 ? "" : "s", l->control_hz);
}

static tp_sim *sim_link_simulator(void *state) { return ((sim_link *)state)->sim; }

const tp_robot_link_ops tp_sim_robot_link = {
    .name = "sim",
    .open = sim_link_open,
    .start = sim_link_start,
    .read_state = sim_link_read_state,
    .write_command = sim_link_write_command,
    .health = sim_link_health,
    .events = sim_link_events,
    .stop = sim_link_stop,
    .close = sim_link_close,
    .describe = sim_link_describe,
    .simulator = sim_link_simulator,
};
