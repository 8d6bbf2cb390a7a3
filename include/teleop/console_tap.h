/* teleop — the operator console's tap on a running session: what the console
 * window shows and the commands it sends, crossing threads without locks.
 *
 * The session feeds the tap from where the figures arise (src/station/
 * console_feed.h): each camera's capture thread the newest frame, the
 * control thread the robot pose (qpos) about 60 times a second, the recorder
 * thread the recording status every batch. Each goes through a triple buffer
 * (triple_buffer.h): the session side never waits and never allocates, and a
 * console that falls behind just sees fewer values (a frame is not even
 * copied while the console has not taken the previous one). Commands go the
 * other way through an SPSC ring into the recorder's workflow, the same path
 * the terminal's keys take.
 *
 * One console thread reads (the consumer of every buffer, the producer of
 * the command ring), and the headset view's frame loop reads its own
 * buffers (the view functions below); the session's threads feed. Without
 * a console (tp_session_config.console NULL) the session feeds a tap of its
 * own when the headset view is on ([xr] view = headset), else nothing.
 * Each frame is stamped with the moment the capture thread handed it over
 * (published_ns), for the headset view's latency figures.
 *
 * Memory: tp_console_tap_create allocates every buffer up front from the
 * config (camera sizes); the caller owns the tap and destroys it after both
 * the session and the console are done with it. Pointers returned by the
 * read functions point into the tap and stay valid until the next call of
 * the same function.
 */
#ifndef TELEOP_CONSOLE_TAP_H
#define TELEOP_CONSOLE_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/operator_feedback.h"
#include "teleop/session.h"
#include "teleop/text.h"
#include "teleop/workflow.h"

typedef struct tp_console_tap tp_console_tap;

/* The most qpos values a pose carries (the bundled humanoid has about 60). */
#define TP_CONSOLE_MAX_QPOS 1024

typedef struct tp_console_frame {
    int64_t t_ns;   /* capture time (CLOCK_MONOTONIC) */
    int64_t published_ns; /* when the capture thread handed it to the tap: its arrival (CLOCK_MONOTONIC) */
    int64_t index;  /* the device's frame counter */
    int width, height;
    tp_pixel_format format; /* rgb: width*height*3 bytes; mjpeg: one JPEG */
    size_t size;
    const uint8_t *data;
} tp_console_frame;

typedef struct tp_console_pose {
    int64_t t_ns;
    unsigned control_flags; /* tp_control_flag bits (controller.h) of the last control tick */
    int nq;
    double qpos[TP_CONSOLE_MAX_QPOS]; /* the simulation's full qpos, nq values */
    tp_limit_figures limits; /* the newest limit figures (operator_feedback.h); t_ns 0: none yet */
} tp_console_pose;

typedef struct tp_console_camera_counts {
    long long captured, dropped, missed, encoded; /* as tp_session_camera_stats */
    int lost;
} tp_console_camera_counts;

/* What the status line shows, as the recorder saw it at t_ns. */
typedef struct tp_console_status {
    int64_t t_ns;
    int64_t start_ns;       /* the session clock's start */
    double duration_s;      /* the session's length (a cap for a recording session) */
    bool record;            /* episodes are written */
    tp_wf_state state;
    int64_t state_since_ns;
    double time_left_s;     /* in the current state (episode limit, pause); < 0: no limit */
    int episode;            /* the episode being recorded, or the next one */
    int kept, discarded;
    bool emergency;         /* the robot is held by an emergency (key, headset) */
    bool recording_stopped; /* a disk fault ended the recording */
    long long control_cycles, deadline_misses;
    int camera_count;
    tp_console_camera_counts cameras[TP_SESSION_MAX_CAMERAS];
    char task[TP_TASK_MAX_BYTES + 1];
    char episode_path[4096]; /* the episode being recorded (else the last kept); "" when none */
    double disk_free_mb;     /* free space in the recordings folder (statvfs); < 0: unknown */
} tp_console_status;

/* Buffers for the config's cameras (their sizes and formats). NULL with a
 * one-line message when out of memory. */
tp_console_tap *tp_console_tap_create(const tp_session_config *cfg, char *err, size_t errlen);
void tp_console_tap_destroy(tp_console_tap *tap);

/* ----------------------------------------------------- console side */

int tp_console_tap_camera_count(const tp_console_tap *tap);
const char *tp_console_tap_camera_name(const tp_console_tap *tap, int camera);
/* The newest frame of a camera: false when none came yet. *fresh (may be
 * NULL): newer than the previous call's. */
bool tp_console_tap_frame(tp_console_tap *tap, int camera, tp_console_frame *out, bool *fresh);
/* NULL until the control loop published one. */
const tp_console_pose *tp_console_tap_pose(tp_console_tap *tap, bool *fresh);
/* NULL until the recorder published one. */
const tp_console_status *tp_console_tap_status(tp_console_tap *tap, bool *fresh);

/* ----------------------------------------------------- headset view side
 * A second consumer, the headset view's frame loop (its own buffers, so it
 * and the console each see every newest value): the control loop's limit
 * figures (about 60 a second, with the console's pose) and the recorder's
 * status (each batch), for the operator's warnings and status overlay. */
/* The newest frame of a camera, as tp_console_tap_frame (own buffers). */
bool tp_console_tap_view_frame(tp_console_tap *tap, int camera, tp_console_frame *out, bool *fresh);
/* The index of the config's camera with this name, or -1. */
int tp_console_tap_camera_index(const tp_console_tap *tap, const char *name);
/* NULL until the control loop published figures. */
const tp_limit_figures *tp_console_tap_view_limits(tp_console_tap *tap, bool *fresh);
/* NULL until the recorder published a status. */
const tp_console_status *tp_console_tap_view_status(tp_console_tap *tap, bool *fresh);

/* Commands into the session's workflow, as the terminal's keys send them
 * (keyboard.c). 0, or -1 when the command queue is full (the session is not
 * reading it: it is ending) or, for a task, the text is refused (why says
 * why: the rule of tp_keys_task_check). */
int tp_console_tap_send_input(tp_console_tap *tap, tp_wf_input input);
int tp_console_tap_send_emergency(tp_console_tap *tap);
int tp_console_tap_send_task(tp_console_tap *tap, const char *text, size_t len, char *why, size_t whylen);

/* Whoever runs the session marks its end (tp_session_run returned); the
 * console reads it. */
void tp_console_tap_set_ended(tp_console_tap *tap);
bool tp_console_tap_ended(const tp_console_tap *tap);

#endif
