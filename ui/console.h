/* teleop — the operator console: a window beside `teleop run` showing the
 * session live (camera views, the robot's pose, the status line's figures,
 * the recording state) and taking the terminal's workflow keys, so an
 * assistant next to the operator can follow and control the session
 * (docs/recording.md, Operator console).
 *
 * The console only reads the session's tap (include/teleop/console_tap.h)
 * and sends commands through it: nothing it does can make the control loop
 * or the recorder wait. Its window lives on the process's main thread (as
 * GLFW wants; the session then runs on another), which reads the keys; it
 * draws on a thread of its own at a lowered priority.
 *
 * Memory: everything is owned inside the call; the config is borrowed.
 */
#ifndef TELEOP_UI_CONSOLE_H
#define TELEOP_UI_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "teleop/session.h"

typedef struct tp_console_options {
    int mode;                       /* TP_CONSOLE_AUTO, _ON or _OFF (session.h) */
    const char *screenshot_path;    /* a PNG of the console window, or NULL */
    double screenshot_after_s;      /* ... this long after the session started (its clock) */
} tp_console_options;

/* A display to open a window on: DISPLAY or WAYLAND_DISPLAY set, not empty. */
bool tp_console_display_present(void);

/* Runs the session (tp_session_run) with the console beside it when the mode
 * asks for one: TP_CONSOLE_ON opens it or fails before the session starts
 * (-1, err: why no window); TP_CONSOLE_AUTO opens it when a display is
 * present and the window opens, else runs without; TP_CONSOLE_OFF never.
 * With the headset view's desktop mirror on (cfg->xr_layout.mirror and
 * [xr] view = headset) and no console window, the session runs on a thread
 * of its own while this (main) thread processes GLFW's events until it
 * ends (no display: -1 before the session starts). Returns the session's
 * result (0, or -1 with err). */
int tp_console_run_session(tp_session_config *cfg, const tp_console_options *opt, volatile int *stop_flag,
                           tp_session_stats *stats, char *err, size_t errlen);

#endif
