/* teleop — the session's inside, shared by its files (not a public API).
 *
 * One session is a set of threads joined by SPSC rings, each thread in a
 * file of its own; the data path reads one way through them:
 *   session_operator.c  the operator device thread (frames, commands)
 *   session_control.c   the control loop (robot link state → controller →
 *                       safety → robot link command) and its watchdog
 *   session_recorder.c  the recorder thread: drains the rings into the
 *                       open episode's transaction every 50 ms
 *   session_episode.c   an episode file: its path, streams, meta
 *   session_workflow.c  episode lifecycle: begin, end (keep or discard),
 *                       the recording workflow's actions
 *   session_status.c    the operator's status line and the console's figures
 *   session.c           setup, thread start and join, teardown, statistics
 *
 * Memory: the session and recorder live on tp_session_run's stack; every
 * buffer and ring is allocated at setup (init_session) and freed at teardown.
 */
#ifndef TELEOP_STATION_SESSION_INTERNAL_H
#define TELEOP_STATION_SESSION_INTERNAL_H

#include "teleop/session.h"
#include "teleop/station_config.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "station/cameras.h"
#include "station/console_feed.h"
#include "station/episode_setup.h"
#include "station/keyboard.h"
#include "teleop/clock.h"
#include "teleop/controller.h"
#include "teleop/episode.h"
#include "teleop/glove.h"
#include "teleop/log.h"
#include "teleop/motion.h"
#include "teleop/operator_device.h"
#include "teleop/paths.h"
#include "teleop/qa.h"
#include "teleop/ring.h"
#include "teleop/triple_buffer.h"
#include "teleop/robot_link.h"
#include "teleop/safety.h"
#include "teleop/sim.h"
#include "teleop/text.h"

#define N_JOINTS TP_SIM_ACTION_DIMS
#define RECORD_BATCH_NS (50 * 1000000LL)

/* Events raised on real-time threads travel as fixed-size codes; the
 * recorder thread turns them into text. */
typedef enum event_code {
    EV_CONTROL, /* a change in the controller's state; kind says which */
    EV_DEADLINE_MISS,
    EV_RECORDER_BEHIND,
    EV_WATCHDOG_STALL,
    EV_WATCHDOG_RESUMED,
    EV_SIM_SKIPPED, /* the simulation jumped to the clock; arg: ms skipped */
} event_code;

typedef struct station_event {
    int64_t t_ns;
    event_code code;
    int64_t arg;
    const char *kind; /* EV_CONTROL: a static string from tp_control_flag_events */
} station_event;

typedef struct control_sample {
    int64_t t_ns;
    float state[N_JOINTS];
    float velocity[N_JOINTS];
    float action[N_JOINTS];
} control_sample;

typedef struct session {
    const tp_session_config *cfg;
    volatile int *external_stop;
    tp_robot_link link; /* opened at setup; the control thread reads and commands it */
    tp_sim *sim;        /* the link's simulated world (cameras, object poses, the controller's model), borrowed;
                         * for a real robot, the mirror below */
    bool link_started; /* the control thread started the link: the session stops it after the loop */
    tp_sim *mirror;     /* a real robot's link: the model posed from its measured state (cameras, the
                         * controller's model), owned; NULL for a simulating link */
    tp_operator_device device; /* opened at setup, driven by the device thread */
    tp_controls controls;      /* device thread only */
    tp_controller *controller;
    camera_rig *cameras;
    tp_ring *snapshot_rings[TP_SESSION_MAX_CAMERAS]; /* one per sim camera, control → camera */
    double snapshot_fps[TP_SESSION_MAX_CAMERAS];     /* each one's camera rate */
    int snapshot_ring_count;
    int64_t period_ns; /* one control tick */
    /* The sim_objects stream: every free body's pose, control → recorder,
     * rows of int64 t_ns + object_count * TP_SIM_POSE_DIMS floats. */
    tp_ring objects;
    int object_count;
    int object_decimation; /* a row every this many control ticks */
    double *object_poses;  /* scratch, object_count * TP_SIM_POSE_DIMS */
    int console_every;     /* the console's pose: every this many control ticks */
    /* What the capture, control and recorder threads feed (console_tap.h)
     * and the headset view reads: the console's tap (cfg->console), else,
     * for the headset view ([xr] view = headset), the session's own
     * (own_tap, created at setup and destroyed at teardown), else NULL. */
    tp_console_tap *tap;
    tp_console_tap *own_tap;
    atomic_llong emergency_cause_ns; /* the command that last set or cleared an emergency hold */

    tp_ring op_to_control;   /* tp_operator_frame, device → control */
    tp_ring op_to_recorder;  /* tp_operator_frame, device → recorder */
    tp_ring samples;         /* control_sample, control → recorder */
    tp_ring control_events;  /* station_event, control → recorder */
    tp_ring watchdog_events; /* station_event, watchdog → recorder */
    tp_ring device_events;   /* tp_device_event, device → recorder */
    tp_ring usb_events;      /* tp_device_event, USB monitor → recorder (session_usb.c) */
    struct session_usb *usb; /* the USB monitor, or NULL */
    /* Gloves (session_gloves.c): one reader thread per configured side. */
    struct session_glove {
        bool enabled;
        tp_glove_config cfg;
        const tp_glove_calibration *cal; /* the config's */
        int64_t timeout_ns;
        tp_glove *dev;          /* the reader thread's while it runs */
        pthread_t thread;
        bool started;
        tp_triple newest;       /* glove_newest, reader → operator thread */
        tp_ring samples;        /* tp_glove_sample, reader → recorder */
        tp_ring events;         /* tp_device_event, reader → recorder */
        atomic_llong samples_dropped;
        tp_glove_stats totals;  /* over every open of the device; read after the join */
        bool silent;            /* the operator thread's: held inactive last frame */
        struct session *s;
    } gloves[2];
    atomic_int glove_stop;
    /* tp_command_msg, device → recorder: operator commands (record start,
     * stop, clutch, emergency), written as events; the one consumer that a
     * recording workflow takes over. */
    tp_ring commands;
    atomic_int emergency;    /* operator's emergency hold, device → control */
    atomic_int device_ended; /* the device ended the session (XR exit or loss) */
    atomic_int device_done;  /* device thread finished (its last reports are queued) */

    atomic_llong start_ns;   /* published once all threads may start; 0 before */
    atomic_int control_done; /* control thread finished (duration or stop) */
    atomic_llong heartbeat;  /* control cycles completed, for the watchdog */
    atomic_int device_stop;
    atomic_int failed; /* a worker hit a fatal error */
    atomic_int recording_failed; /* the recorder stopped writing: control holds the robot */
    atomic_int keyboard_emergency; /* the operator's emergency key, recorder → control */
    atomic_int workflow_done;      /* the recording workflow ended the session */
    /* The operator's wrist-panel toggles (a controller binding), counted by
     * the operator device thread; the headset view flips its wrist panels
     * on each new count. */
    atomic_int view_wrist_toggles;
    /* The headset view (session_view.c); NULL unless [xr] view = headset
     * with the xr source. */
    struct session_view *view;
    tp_ring inputs;                /* station_input, keyboard → recorder */
    keyboard *keys;
    atomic_llong drop_since_ns;  /* first state/action row lost in the current overflow; 0: none */
    char fail_msg[512];

    int64_t t_start_ns, t_end_ns;
    int64_t *periods_ns; /* preallocated, one per cycle */
    int64_t *compute_ns;
    size_t period_cap, period_count;

    tp_session_stats *stats;
    char device_description[512];
} session;

/* The sim_objects stream's rate. */
#define OBJECTS_RATE_HZ 100.0
/* The console's robot pose: a display's rate. */
#define CONSOLE_POSE_HZ 60.0

typedef struct recorder {
    session *s;
    tp_episode_writer *w;
    int id_state, id_velocity, id_action, id_operator, id_objects, id_glove[2], id_view;
    int64_t seq_samples, seq_operator, seq_objects, seq_glove[2], seq_view;
    bool broken; /* a write failed: stop writing, keep what was committed */
    char error[512];
    float op_buf[TP_OPERATOR_DIMS];
    /* The workflow: which episode is open and which rows belong to it. */
    tp_workflow wf;
    int64_t epoch;                  /* the open episode's camera epoch */
    int64_t ep_start_ns, ep_end_ns; /* rows stamped in [start, end) are the episode's */
    /* Rows stamped before this have been written or dropped: the time up to
     * which the workflow had decided when the last batch was drained. Rows
     * stamped later stay queued, so a boundary decided later (a stop key
     * read a moment after a batch) still finds them. */
    int64_t decided_ns;
    /* Device events and operator commands stamped from here on are the
     * open episode's: its start, or for the first episode of an
     * auto-started session any time, so the operator device's start-up
     * (XR session states, early commands, before the control loop's first
     * cycle) is recorded with it. */
    int64_t events_from_ns;
    bool first_opened;              /* the first episode was set up before the threads started */
    int episode_index;              /* episodes opened, discarded takes included */
    char task[TP_TASK_MAX_BYTES + 1]; /* whole: checked where it enters (text.h) */
    char stamp[32];                 /* the session's start, in episode names */
    char path[4096];                /* the open episode */
    char last_kept[4096];
    tp_command_msg pending_cmds[64]; /* operator commands to write as events */
    int pending_count;
    int64_t status_ns;
    int64_t link_said_ns; /* the last robot-link message on stderr ... */
    int link_unsaid;      /* ... and how many reports came since, untold */
    int64_t encoded_seen[TP_SESSION_MAX_CAMERAS];
    uint64_t link_states_seen, link_commands_seen; /* the robot link's totals at the last status line */
    tp_qa_worker *qa; /* QA flags of kept episodes, off the recorder thread */
} recorder;

/* session.c: shared helpers */
void session_fail(session *s, const char *msg); /* the first failure wins; it ends the session */
double session_thread_cpu_s(void);
bool session_stopping(session *s);
void session_set_thread_name(const char *name);
void session_push_event(tp_ring *ring, int64_t t_ns, event_code code, int64_t arg); /* never blocks */

/* session_usb.c: USB plugs and unplugs as events (before the recorder
 * starts; stopped before it is joined). */
/* Gloves (session_gloves.c): open at setup (a configured glove that cannot
 * be opened fails the session with its message), reader threads started
 * with the other workers and stopped after the operator thread; the
 * operator thread fuses the newest calibrated values into its frame for
 * the control thread; the recorder writes glove_left/glove_right rows and
 * the readers' events. */
int session_gloves_open(session *s, char *err, size_t errlen);
int session_gloves_start(session *s);
void session_gloves_stop(session *s);
void session_gloves_close(session *s);
void session_gloves_fuse(session *s, tp_operator_frame *f, int64_t now_ns);
int session_gloves_add_streams(session *s, recorder *rec);
int session_gloves_drain(recorder *rec, int64_t until);
tp_ring *session_glove_events(session *s, int side); /* NULL without a glove */

/* The headset view (session_view.c): prepared before the operator device
 * opens (its layout, overlay and the mirror's size, which the device's
 * window needs), attached to the device's OpenXR session before any thread
 * starts, its tp-xr-view thread started with the workers and stopped after
 * the operator thread; the recorder writes its headset_view rows and
 * events. All are no-ops without a headset view. */
int session_view_prepare(session *s, int *mirror_w, int *mirror_h, char *err, size_t errlen);
int session_view_attach(session *s, char *err, size_t errlen);
int session_view_start(session *s);
void session_view_stop(session *s);
void session_view_close(session *s);
int session_view_add_streams(session *s, recorder *rec);
int session_view_drain(recorder *rec, int64_t until);
tp_ring *session_view_events(session *s); /* NULL without a view */
void session_usb_start(session *s);
void session_usb_stop(session *s);

/* The threads (arg: the session; the recorder's: its recorder). */
void *session_operator_thread(void *arg);
void *session_control_thread(void *arg);
void *session_watchdog_thread(void *arg);
void *session_recorder_thread(void *arg);

/* session_recorder.c */
int session_flush_batch(recorder *rec);
void session_stop_recording(recorder *rec, int64_t now, const char *why);

/* session_episode.c */
int session_open_episode(session *s, recorder *rec, char *err, size_t errlen);

/* session_workflow.c */
void session_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void session_notify(recorder *rec, const char *path, const char *what);
bool session_chatty(const tp_session_config *cfg);
void session_store_qa(recorder *rec, const char *path);
void session_perform(recorder *rec, const tp_wf_action *a, int n);
void session_workflow_step(recorder *rec, int64_t now);

/* session_status.c */
void session_status_line(recorder *rec, int64_t now);
void session_console_status(recorder *rec, int64_t now);

#endif
