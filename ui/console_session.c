/* teleop — a session with the console beside it: the session runs on a
 * thread of its own, the console's window on the calling (main) thread, as
 * GLFW wants (console_window.c draws on a low-priority thread of its own). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "console_internal.h"
#include "teleop/log.h"

bool tp_console_display_present(void)
{
    const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
    return (x && x[0]) || (wl && wl[0]);
}

typedef struct session_job {
    tp_session_config *cfg;
    volatile int *stop_flag;
    tp_session_stats *stats;
    char *err;
    size_t errlen;
    int rc;
    atomic_int go; /* 0: wait; 1: run the session; -1: do not */
    tp_console_tap *tap;
} session_job;

static void *session_main(void *arg)
{
    session_job *j = arg;
    pthread_setname_np(pthread_self(), "tp-session");
    while (atomic_load(&j->go) == 0) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&j->go) > 0)
        j->rc = tp_session_run(j->cfg, j->stop_flag, j->stats, j->err, j->errlen);
    tp_console_tap_set_ended(j->tap);
    return NULL;
}

int tp_console_run_session(tp_session_config *cfg, const tp_console_options *opt, volatile int *stop_flag,
                           tp_session_stats *stats, char *err, size_t errlen)
{
    bool display = tp_console_display_present();
    if (opt->mode == TP_CONSOLE_OFF || (opt->mode == TP_CONSOLE_AUTO && !display))
        return tp_session_run(cfg, stop_flag, stats, err, errlen);
    if (!display) {
        snprintf(err, errlen, "console: no display (DISPLAY and WAYLAND_DISPLAY are not set); --no-console or "
                              "[console] enabled = off runs without the console");
        return -1;
    }
    tp_console_tap *tap = tp_console_tap_create(cfg, err, errlen);
    if (!tap)
        return -1;
    session_job job = {.cfg = cfg, .stop_flag = stop_flag, .stats = stats, .err = err, .errlen = errlen,
                       .rc = -1, .tap = tap};
    atomic_init(&job.go, 0);
    cfg->console = tap;
    /* The session thread waits until the window is open (or not). */
    pthread_t th;
    if (pthread_create(&th, NULL, session_main, &job) != 0) {
        cfg->console = NULL;
        tp_console_tap_destroy(tap);
        snprintf(err, errlen, "console: cannot start the session thread");
        return -1;
    }
    char werr[512];
    console *c = console_open(cfg, tap, opt, werr, sizeof werr);
    if (!c) {
        if (opt->mode == TP_CONSOLE_ON) {
            atomic_store(&job.go, -1);
            pthread_join(th, NULL);
            cfg->console = NULL;
            tp_console_tap_destroy(tap);
            snprintf(err, errlen, "console: %s", werr);
            return -1;
        }
        tp_log_info("console: %s; the session runs without it", werr);
        cfg->console = NULL; /* the session has not started: it never sees the tap */
    }
    atomic_store(&job.go, 1);
    if (c) {
        console_loop(c);
        console_close(c);
    }
    pthread_join(th, NULL);
    cfg->console = NULL;
    tp_console_tap_destroy(tap);
    return job.rc;
}
