/* teleop — the operator console's parts (private to ui/console*.c): the
 * window and its frame loop (console_window.c), keys into workflow commands
 * (console_keys.c), the status figures as text (console_status.c), camera
 * frames into images (console_cameras.c), the robot's pose in 3D
 * (console_robot.c). Each file has one job; console.c-level callers see only
 * ui/console.h.
 *
 * Threads: the window and the keys on the main thread, the drawing (and
 * every read of the tap but commands) on the console's drawing thread
 * (console_window.c); the session is reached only through the tap.
 */
#ifndef TELEOP_UI_CONSOLE_INTERNAL_H
#define TELEOP_UI_CONSOLE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "console.h"
#include "teleop/console_tap.h"
#include "teleop/workflow.h"
#include "uikit.h"

/* ---- the window (console_window.c) ---- */

typedef struct console console;
/* Opens the window on this thread. NULL with one line in err. */
console *console_open(const tp_session_config *cfg, tp_console_tap *tap, const tp_console_options *opt, char *err,
                      size_t errlen);
/* Draws and takes keys until the tap says the session ended (a window
 * closed by the window manager stops drawing; the session goes on). */
void console_loop(console *c);
void console_close(console *c);

/* ---- keys (console_keys.c) ---- */

typedef struct console_keys {
    tp_keys keys;            /* the terminal's key machine (workflow.h) */
    bool skip_char;          /* the next character event comes from a held key's repeat */
    char message[256];       /* the last command's answer (a refused task, a full queue) */
    double message_until_s;  /* shown until then (uk_time) */
    int sent;                /* commands sent so far */
} console_keys;

void console_keys_init(console_keys *k);
/* A key or character event from the window: fed to the terminal's key
 * machine as the bytes a terminal would send, its result sent to the
 * session. Other events are ignored. */
void console_keys_event(console_keys *k, const uk_event *ev, tp_console_tap *tap);
/* The task text being typed ('t' ... Enter), or NULL when not typing. */
const char *console_keys_typing(console_keys *k);

/* ---- status figures (console_status.c) ---- */

typedef struct console_rates {
    bool have;                 /* two samples taken: the rates are measured */
    int64_t t_ns;              /* the sample the rates run from */
    long long cycles, captured[TP_SESSION_MAX_CAMERAS];
    /* Frames each camera delivers a second (live whether or not an episode
     * records: the terminal's line counts encoded frames, recording only). */
    double control_hz, fps[TP_SESSION_MAX_CAMERAS];
} console_rates;

/* Rates over about a second from successive statuses. */
void console_rates_update(console_rates *r, const tp_console_status *st);

/* The recording state as a badge: its label and colour. */
const char *console_state_label(const tp_console_status *st, uint32_t *rgb);
/* "episode 3  (2 kept, 1 discarded)" */
void console_episode_text(const tp_console_status *st, char *buf, size_t len);
/* "12.4 s  (7.6 s left)" in the current state; "" idle without a limit. */
void console_time_text(const tp_console_status *st, int64_t now_ns, char *buf, size_t len);
/* The figures, one "label\tvalue" line each, into lines (at most max);
 * returns the count. disk_free_gb < 0: unknown. */
int console_figure_lines(const tp_console_status *st, const console_rates *r, const char *const *camera_names,
                         double disk_free_gb, char lines[][96], int max);
/* The control flags that are set, as short words ("engaged", "EMERGENCY",
 * "limit clamp", ...), into words; returns the count. */
int console_flag_words(unsigned flags, const char **words, int max);

/* ---- camera views (console_cameras.c) ---- */

typedef struct console_camera_view {
    uk_image *image;
    int64_t shown_index, shown_t_ns; /* the frame on screen; -1 before the first */
    int64_t frames_shown;
    int width, height;
    void *decoder; /* tp_video_decoder for an MJPEG camera, made on first use */
} console_camera_view;

/* Takes each camera's newest frame from the tap into its image (decoding
 * MJPEG). Returns how many views changed. */
int console_cameras_update(console_camera_view *views, int count, tp_console_tap *tap);
void console_cameras_free(console_camera_view *views, int count);

/* ---- robot view (console_robot.c) ---- */

typedef struct console_robot console_robot;
/* The 3D view of the station's robot model (MJCF). NULL with err when the
 * model cannot be loaded (the console goes on without it). */
console_robot *console_robot_open(const char *model_path, char *err, size_t errlen);
void console_robot_close(console_robot *r);
/* Draws the robot posed by qpos (nq values; NULL: the model's rest pose)
 * into rect. */
void console_robot_draw(console_robot *r, uk_window *w, uk_rect rect, const double *qpos, int nq);

#endif
