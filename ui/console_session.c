/* teleop — a session with the console beside it: the session runs on a
 * thread of its own, the console's window on the calling (main) thread, as
 * GLFW wants (console_window.c draws on a low-priority thread of its own).
 * Without a console but with the headset view's desktop mirror ([xr]
 * mirror), the main thread processes GLFW's events for the mirror window
 * in the same way while the session runs on its thread. */
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
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
    tp_console_tap *tap; /* NULL without a console */
    atomic_int ended;    /* tp_session_run returned (or was never called) */
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
    if (j->tap)
        tp_console_tap_set_ended(j->tap);
    atomic_store(&j->ended, 1);
    return NULL;
}

/* The headset view's desktop mirror is on: [xr] view = headset and mirror. */
static bool mirror_on(const tp_session_config *cfg)
{
    return cfg->xr_layout.mirror && cfg->xr_view && !strcmp(cfg->xr_view, "headset");
}

/* The main thread's GLFW event loop while the session (already told to go)
 * runs on its thread: the mirror window's events are processed here, as
 * GLFW requires, until the session has ended. */
static void process_events_until_ended(session_job *job)
{
    while (!atomic_load(&job->ended))
        glfwWaitEventsTimeout(0.05);
}

/* No console, the mirror on: the session on a thread of its own, GLFW's
 * events on this (the main) thread. */
static int run_with_mirror(tp_session_config *cfg, volatile int *stop_flag, tp_session_stats *stats, char *err,
                           size_t errlen)
{
    /* Before the session's thread exists: glfwInit is the main thread's
     * (the OpenXR client's own glfwInit then finds GLFW started). */
    if (!glfwInit()) {
        const char *why = NULL;
        glfwGetError(&why);
        snprintf(err, errlen, "mirror: '[xr] mirror' needs a display for its window (%s)",
                 why ? why : "glfwInit failed");
        return -1;
    }
    session_job job = {.cfg = cfg, .stop_flag = stop_flag, .stats = stats, .err = err, .errlen = errlen, .rc = -1};
    atomic_init(&job.go, 1);
    atomic_init(&job.ended, 0);
    pthread_t th;
    if (pthread_create(&th, NULL, session_main, &job) != 0) {
        snprintf(err, errlen, "mirror: cannot start the session thread");
        return -1;
    }
    process_events_until_ended(&job);
    pthread_join(th, NULL);
    /* GLFW is not terminated, as the OpenXR client never terminates it:
     * that would unload the GL driver while its allocations are still
     * owned (the process ends soon after the session). */
    return job.rc;
}

int tp_console_run_session(tp_session_config *cfg, const tp_console_options *opt, volatile int *stop_flag,
                           tp_session_stats *stats, char *err, size_t errlen)
{
    bool display = tp_console_display_present();
    if (opt->mode == TP_CONSOLE_OFF || (opt->mode == TP_CONSOLE_AUTO && !display))
        return mirror_on(cfg) ? run_with_mirror(cfg, stop_flag, stats, err, errlen)
                              : tp_session_run(cfg, stop_flag, stats, err, errlen);
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
    atomic_init(&job.ended, 0);
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
    /* Without the window, the mirror's events are still this thread's. */
    bool mirror_events = !c && mirror_on(cfg) && glfwInit();
    atomic_store(&job.go, 1);
    if (c) {
        console_loop(c); /* polls GLFW's events, the mirror's too */
        console_close(c);
    } else if (mirror_events) {
        process_events_until_ended(&job);
    }
    pthread_join(th, NULL);
    cfg->console = NULL;
    tp_console_tap_destroy(tap);
    return job.rc;
}
