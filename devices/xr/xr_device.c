/* teleop — the OpenXR operator device: tp_xr behind the station's device
 * interface, with the runtime chosen by config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/clock.h"
#include "teleop/operator_device.h"
#include "teleop/paths.h"
#include "teleop/xr.h"

/* The replay runtime's manifest in the build tree, then as installed. */
static const char *const replay_manifests[] = {"devices/xr-replay/teleop_xr_replay.json",
                                               "devices/xr-replay/teleop_xr_replay.installed.json"};

typedef struct xr_device {
    tp_xr *xr;
    bool stopped;
    tp_xr_event ev[16];
} xr_device;

int tp_xr_use_replay_runtime(const char *source, bool loop, const char *script, char *err, size_t errlen)
{
    char manifest[4096];
    if (tp_find_data(replay_manifests[0], manifest, sizeof manifest, err, errlen) != 0 &&
        tp_find_data(replay_manifests[1], manifest, sizeof manifest, err, errlen) != 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "the replay OpenXR runtime is not built or installed: %s", why);
        return -1;
    }
    if (setenv("XR_RUNTIME_JSON", manifest, 1) != 0 || (source && setenv("TELEOP_XR_REPLAY_SOURCE", source, 1) != 0) ||
        setenv("TELEOP_XR_REPLAY_LOOP", loop ? "1" : "0", 1) != 0 ||
        (script && script[0] && setenv("TELEOP_XR_REPLAY_SCRIPT", script, 1) != 0)) {
        snprintf(err, errlen, "xr: cannot set the replay runtime's environment");
        return -1;
    }
    return 0;
}

static int xr_open(void **state, const tp_operator_device_config *cfg, char *err, size_t errlen)
{
    const char *runtime = cfg->xr_runtime ? cfg->xr_runtime : "replay";
    if (strcmp(runtime, "replay") == 0) {
        if (tp_xr_use_replay_runtime(cfg->motion_path, cfg->loop, cfg->xr_replay_script, err, errlen) != 0)
            return -1;
    } else if (strcmp(runtime, "system") != 0) {
        snprintf(err, errlen, "xr device: runtime '%s' is neither 'replay' nor 'system'", runtime);
        return -1;
    }
    xr_device *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "xr device: out of memory");
        return -1;
    }
    tp_xr_config xc;
    tp_xr_default_config(&xc);
    if (cfg->xr_view && strcmp(cfg->xr_view, "headset") == 0) {
        xc.view = TP_XR_VIEW_HEADSET;
        xc.mirror_width = cfg->xr_mirror_width;
        xc.mirror_height = cfg->xr_mirror_height;
    }
    d->xr = tp_xr_create(&xc, err, errlen);
    if (!d->xr) {
        free(d);
        return -1;
    }
    *state = d;
    return 0;
}

static int xr_start(void *state, int64_t t_start_ns, char *err, size_t errlen)
{
    (void)state;
    (void)t_start_ns;
    (void)err;
    (void)errlen;
    return 0; /* the runtime paces the frames; nothing to anchor */
}

static int copy_events(const tp_xr_event *in, int n, tp_device_event *out, int max)
{
    int k = 0;
    for (int i = 0; i < n && k < max; i++, k++) {
        out[k].t_ns = in[i].t_ns;
        out[k].kind = in[i].kind;
        memcpy(out[k].detail, in[i].detail, sizeof out[k].detail);
    }
    return k;
}

static int xr_poll(void *state, tp_operator_frame *f, tp_device_event *events, int max_events, int *n_events,
                   char *err, size_t errlen)
{
    xr_device *d = state;
    int n = 0;
    int max = max_events < 16 ? max_events : 16;
    int rc = tp_xr_poll(d->xr, f, d->ev, max, &n, err, errlen);
    *n_events = copy_events(d->ev, n, events, max_events);
    switch (rc) {
    case TP_XR_FRAME: return TP_DEVICE_FRAME;
    case TP_XR_IDLE: return TP_DEVICE_IDLE;
    case TP_XR_ENDED: return TP_DEVICE_ENDED;
    default: return TP_DEVICE_ERROR;
    }
}

/* Follows the session to its end (STOPPING → xrEndSession → EXITING) so the
 * runtime sees a clean exit; gives up after two seconds. */
static void xr_stop(void *state, tp_device_event *events, int max_events, int *n_events)
{
    xr_device *d = state;
    *n_events = 0;
    if (d->stopped)
        return;
    d->stopped = true;
    tp_xr_request_exit(d->xr);
    int64_t deadline = tp_now_ns() + 2000000000LL;
    tp_operator_frame f;
    char err[256];
    int n;
    while (tp_now_ns() < deadline) {
        int rc = tp_xr_poll(d->xr, &f, d->ev, 16, &n, err, sizeof err);
        *n_events += copy_events(d->ev, n, events + *n_events, max_events - *n_events);
        if (rc == TP_XR_ENDED || rc == TP_XR_ERROR)
            break;
    }
}

static void xr_close(void *state)
{
    xr_device *d = state;
    if (!d)
        return;
    tp_xr_destroy(d->xr);
    free(d);
}

static void xr_describe(void *state, char *buf, size_t len)
{
    xr_device *d = state;
    const tp_xr_info *in = tp_xr_get_info(d->xr);
    snprintf(buf, len, "OpenXR runtime '%s' %s, system '%s', %s space, hand tracking %s", in->runtime_name,
             in->runtime_version, in->system_name, in->base_space, in->hand_tracking_supported ? "yes" : "no");
}

static struct tp_xr *xr_client(void *state)
{
    xr_device *d = state;
    return tp_xr_get_info(d->xr)->graphics ? d->xr : NULL;
}

const tp_operator_device_ops tp_xr_operator_device = {
    .name = "xr",
    .open = xr_open,
    .start = xr_start,
    .poll = xr_poll,
    .stop = xr_stop,
    .close = xr_close,
    .describe = xr_describe,
    .xr = xr_client,
};
