/* teleop — operator device registry and the motion replay device. */
#include "teleop/operator_device.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/clock.h"
#include "teleop/motion.h"

static const tp_operator_device_ops *const drivers[] = {&tp_motion_operator_device, &tp_xr_operator_device};

const tp_operator_device_ops *tp_operator_device_find(const char *name)
{
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
        if (strcmp(drivers[i]->name, name) == 0)
            return drivers[i];
    return NULL;
}

const char *tp_operator_device_names(void) { return "motion, xr"; }

int tp_operator_device_open(tp_operator_device *dev, const char *name, const tp_operator_device_config *cfg,
                            char *err, size_t errlen)
{
    memset(dev, 0, sizeof *dev);
    const tp_operator_device_ops *ops = tp_operator_device_find(name);
    if (!ops) {
        snprintf(err, errlen, "operator source '%s': no such device (known: %s)", name, tp_operator_device_names());
        return -1;
    }
    if (ops->open(&dev->state, cfg, err, errlen) != 0)
        return -1;
    dev->ops = ops;
    return 0;
}

void tp_operator_device_close(tp_operator_device *dev)
{
    if (dev->ops)
        dev->ops->close(dev->state);
    memset(dev, 0, sizeof *dev);
}

/* ------------------------------------------------------- motion replay */

/* Plays a motion in real time at a fixed rate, like a headset runtime
 * delivering frames: frame k is due at start + k periods and samples the
 * motion at that time. */
typedef struct motion_device {
    tp_motion *motion;
    bool loop;
    int64_t period_ns, t_start_ns, next_ns;
    char path[512];
} motion_device;

static int motion_open(void **state, const tp_operator_device_config *cfg, char *err, size_t errlen)
{
    if (!(cfg->rate_hz > 0)) {
        snprintf(err, errlen, "motion device: rate must be positive");
        return -1;
    }
    motion_device *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "motion device: out of memory");
        return -1;
    }
    m->motion = tp_motion_load(cfg->motion_path, err, errlen);
    if (!m->motion) {
        free(m);
        return -1;
    }
    m->loop = cfg->loop;
    m->period_ns = (int64_t)llround(1e9 / cfg->rate_hz);
    snprintf(m->path, sizeof m->path, "%s", cfg->motion_path);
    *state = m;
    return 0;
}

static int motion_start(void *state, int64_t t_start_ns, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    motion_device *m = state;
    m->t_start_ns = m->next_ns = t_start_ns;
    return 0;
}

static int motion_poll(void *state, tp_operator_frame *f, tp_device_event *events, int max_events, int *n_events,
                       char *err, size_t errlen)
{
    (void)events;
    (void)max_events;
    (void)err;
    (void)errlen;
    motion_device *m = state;
    *n_events = 0;
    tp_sleep_until_ns(m->next_ns);
    int64_t now = tp_now_ns();
    tp_motion_sample(m->motion, (double)(now - m->t_start_ns) / 1e9, m->loop, f);
    f->t_ns = now;
    m->next_ns += m->period_ns;
    if (m->next_ns < now)
        m->next_ns = now + m->period_ns;
    return TP_DEVICE_FRAME;
}

static void motion_stop(void *state, tp_device_event *events, int max_events, int *n_events)
{
    (void)state;
    (void)events;
    (void)max_events;
    *n_events = 0;
}

static void motion_close(void *state)
{
    motion_device *m = state;
    if (!m)
        return;
    tp_motion_free(m->motion);
    free(m);
}

static void motion_describe(void *state, char *buf, size_t len)
{
    motion_device *m = state;
    snprintf(buf, len, "motion replay of %s (%zu frames, %.1f s%s)", m->path, tp_motion_frame_count(m->motion),
             tp_motion_duration(m->motion), m->loop ? ", looped" : "");
}

const tp_operator_device_ops tp_motion_operator_device = {
    .name = "motion",
    .open = motion_open,
    .start = motion_start,
    .poll = motion_poll,
    .stop = motion_stop,
    .close = motion_close,
    .describe = motion_describe,
};
