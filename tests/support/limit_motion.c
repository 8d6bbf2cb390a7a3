/* Test support: the limit-reaching operator motion (limit_motion.h). */
#include "limit_motion.h"

#include <math.h>
#include <string.h>

#include "teleop/controller.h"
#include "teleop/handmodel.h"
#include "teleop/sim.h"

void limit_motion_frame(int64_t t_ns, tp_operator_frame *f)
{
    memset(f, 0, sizeof *f);
    f->t_ns = t_ns;
    f->engaged = true;
    double t = (double)(t_ns - LIMIT_MOTION_T0_NS) / 1e9;
    double out = t < 1 ? 0 : t < 5 ? 0.25 * (t - 1) : fmax(0, 1.0 - 0.25 * (t - 5));
    const double open[5] = {0, 0, 0, 0, 0};
    for (int s = 0; s < 2; s++) {
        tp_vec3 p = tp_v3(s ? 0.15 : -0.15, 1.30, -0.35);
        if (s == 0)
            p = tp_v3(p.x - out, p.y + 0.4 * out, p.z);
        tp_hand_model_pose(s, (tp_pose){p, tp_quat_from_axis_angle(tp_v3(1, 0, 0), -0.3)}, open, &f->hand[s]);
    }
}

int limit_motion_run(const char *model_path, void (*sample)(void *user, const double *command,
                                                             const tp_limit_figures *fig),
                     void *user, char *err, size_t errlen)
{
    tp_sim *sim = tp_sim_create(model_path, err, errlen);
    if (!sim)
        return -1;
    tp_retarget_config rcfg;
    tp_retarget_default_config(&rcfg);
    tp_controller_config ccfg;
    tp_controller_default_config(&ccfg);
    tp_controller *c = tp_controller_create_for_sim(sim, &ccfg, &rcfg, err, errlen);
    if (!c) {
        tp_sim_destroy(sim);
        return -1;
    }
    double home[TP_SIM_ACTION_DIMS], cmd[TP_SIM_ACTION_DIMS];
    tp_sim_read_state(sim, home, NULL);
    tp_controller_reset(c, home);
    const int64_t frame_ns = 11111111;
    int64_t next_frame = LIMIT_MOTION_T0_NS;
    tp_operator_frame f;
    for (int k = 0; k < LIMIT_MOTION_TICKS; k++) {
        int64_t t = LIMIT_MOTION_T0_NS + k * LIMIT_MOTION_TICK_NS;
        for (; next_frame <= t; next_frame += frame_ns) {
            limit_motion_frame(next_frame, &f);
            tp_controller_push_frame(c, &f, next_frame);
        }
        unsigned flags = tp_controller_step(c, NULL, t, cmd);
        if (k % LIMIT_MOTION_SAMPLE_EVERY)
            continue;
        tp_limit_figures fig;
        tp_controller_limit_figures(c, t, flags, cmd, &fig);
        sample(user, cmd, &fig);
    }
    tp_controller_destroy(c);
    tp_sim_destroy(sim);
    return 0;
}
