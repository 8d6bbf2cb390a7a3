/* teleop — a station session: operator input → retargeting → safety → robot,
 * with everything that flows recorded into one episode database.
 *
 * Threads (docs/architecture.md): an operator device thread, the fixed-rate
 * control thread (no allocation, locks, logging or blocking I/O), per camera
 * a capture thread and an encoder thread, and a recorder thread, joined by
 * SPSC rings. tp_session_run blocks for the whole session.
 *
 * Memory: the config's strings are borrowed for the duration of the call; the
 * caller owns the config and stats structs. The per-camera counters in the
 * stats are atomics, updated while the session runs: another thread may read
 * them live (atomic_load) for a status display.
 */
#ifndef TELEOP_SESSION_H
#define TELEOP_SESSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/calibration.h"
#include "teleop/camera.h"
#include "teleop/config.h"
#include "teleop/controller.h"
#include "teleop/controls.h"
#include "teleop/glove.h"
#include "teleop/operator_feedback.h"
#include "teleop/retarget.h"
#include "teleop/robot_link.h"
#include "teleop/station_sync.h"
#include "teleop/video.h"
#include "teleop/workflow.h"

#define TP_SESSION_MAX_CAMERAS 8

typedef struct tp_console_tap tp_console_tap; /* console_tap.h */

/* What the headset view shows and where ([xr] head_camera, stereo_cameras,
 * wrist_cameras, panel_lock, panel_distance, panel_width, wrist_panels,
 * mirror). Camera names are the config's [camera.NAME] names. */
typedef struct tp_xr_view_layout {
    char head_camera[64];       /* mono view: this camera; "" = the first camera */
    char stereo_cameras[2][64]; /* left eye, right eye; both "" = mono (head_camera) */
    char wrist_cameras[2][64];  /* left and right wrist panels; "" = none on that side */
    bool world_locked;          /* panel_lock = world (LOCAL/STAGE space); false: head (VIEW space) */
    double distance_m;          /* panel_distance: metres in front of the eyes, default 1.0 */
    double width_m;             /* panel_width: the head panel's width in metres, default 1.2 */
    bool wrist_panels;          /* wrist_panels: shown at the start (a controller button toggles), default true */
    bool mirror;                /* mirror: the desktop mirror window, default false */
} tp_xr_view_layout;

/* One camera of the station: the device and how its stream is encoded. */
typedef struct tp_session_camera {
    tp_camera_params device;       /* device.name is the stream name */
    tp_video_encoder_config video; /* h264 (default), ffv1, or mjpeg passthrough */
    /* Test hook (no config key): every frame's encode also sleeps this long,
     * to make an encoder fall behind on purpose. */
    double test_encode_delay_ms;
} tp_session_camera;

typedef struct tp_session_config {
    double duration_s;  /* default 20 */
    double control_hz;  /* default 500 */
    double operator_hz; /* motion device rate, default 90 (a headset's); an XR runtime paces itself */
    double stale_input_s; /* hold when the newest operator frame is older, default 0.1 */
    const char *out_dir;  /* default "recordings" */
    const char *task;     /* free text stored in the episode */
    const char *operator_name;
    bool record;                /* default true */
    const char *model_path;     /* MJCF; default: bundled humanoid */
    const char *motion_path;    /* operator motion CSV; default: bundled demo */
    bool loop_motion;           /* default true */
    const char *robot_link;      /* robot link: "sim" (default, the embedded simulator; robot_link.h) */
    tp_unitree_link_config unitree; /* the "unitree" link's [unitree] section */
    const char *operator_source; /* operator device: "xr" (default) or "motion" (operator_device.h) */
    const char *xr_runtime;      /* "replay" (default: the bundled replay runtime plays motion_path) or "system" */
    const char *xr_replay_script; /* scripted controller input for the replay runtime, or NULL */
    const char *xr_view;          /* [xr] view: "off" (default: headless session) or "headset" (OpenGL session) */
    /* [xr] layout of the headset view (view = headset; docs/devices/xr.md). */
    tp_xr_view_layout xr_layout;
    /* Test and documentation hook (`teleop run --mirror-screenshot`): the
     * mirror's picture is written to this PNG (and PNG.txt: each panel's
     * place and frame) this many seconds into the session; NULL: never. */
    const char *xr_mirror_screenshot;
    double xr_mirror_screenshot_after_s;
    tp_controls_config controls; /* [controls]: clutch and command bindings */
    /* Default: one sim camera, "head_camera", 640x480 at 30 fps, H.264. */
    tp_session_camera cameras[TP_SESSION_MAX_CAMERAS];
    int camera_count;
    tp_retarget_config retarget;
    tp_controller_config control; /* filters, safety limits, workspace ([filter], [safety]) */
    char calibration_id[64];    /* recorded in meta.calibration; "default" unless a file is used */
    const char *calibration_file; /* [calibration] file the calibration came from, or NULL */
    bool realtime_priority; /* try SCHED_FIFO for the control thread, default true */
    double min_free_mb;     /* free space the recordings folder needs to start an episode, default 100 */
    /* The recording workflow ([recording] episodes, episode_time,
     * reset_time, auto_start; docs/recording.md). Default: one episode from
     * start to end. */
    tp_workflow_config workflow;
    /* Operator commands from this file descriptor (terminal keys or command
     * lines, docs/recording.md); -1 (default): none. */
    int command_fd;
    /* Told of every episode that is kept, discarded or deleted ("kept",
     * "discarded", "deleted"), from the recorder thread; may be NULL. */
    void (*on_episode)(void *user, const char *path, const char *what);
    void *on_episode_user;
    double max_recorder_behind_s; /* recorder rings overflowing this long ends the recording, default 1 */
    /* Embedded in every episode when set (docs/episode-format.md,
     * attachments): the station config file as given, the calibration file. */
    const char *config_path;
    const char *calibration_path;
    /* [upload]: background upload of kept episodes (station_sync.h); the
     * session itself only shows its status line text. */
    tp_upload_config upload;
    /* Appended to the live status line when set (from the recorder thread;
     * must not block): e.g. the upload queue's state. */
    void (*status_extra)(void *user, char *buf, size_t len);
    void *status_extra_user;
    /* Test hook (no config key): the control loop stalls once, for this
     * long, this many seconds after the start (0: never). */
    double test_control_stall_at_s, test_control_stall_for_s;
    /* [xr] haptics, warn_*: the operator's warnings and controller haptics
     * near the robot's limits (operator_feedback.h). */
    tp_feedback_config feedback;
    /* [console] enabled: whether `teleop run` opens the operator console
     * (TP_CONSOLE_AUTO: when a display is present). The session itself only
     * feeds the tap below. */
    int console_mode;
    /* The operator console's tap (console_tap.h), fed while the session
     * runs, and its commands read like the terminal's; NULL (default): no
     * console. Borrowed: it outlives the call. */
    tp_console_tap *console;
    /* [usb] monitor: USB plugs and unplugs become episode events
     * (usb_device_added/usb_device_removed, docs/devices/usb.md); default true. */
    bool usb_monitor;
    /* Test hook (no config key): instead of the USB monitor, this device is
     * reported plugged in test_usb_plug_at_s after the start and unplugged
     * at test_usb_unplug_at_s (0: never), through the function the
     * monitor's callback calls. NULL (default): the real monitor. */
    const struct tp_usb_device *test_usb_device;
    double test_usb_plug_at_s, test_usb_unplug_at_s;
    /* [glove.left] / [glove.right] (docs/devices/gloves.md, In the station):
     * a glove is configured when its port is set. */
    struct tp_session_glove {
        const char *driver;           /* "opengloves" */
        const char *port;             /* the tty; empty (default): no glove on that side */
        int baud;                     /* default 115200 */
        int max_value;                /* 0 (learn), 1023 or 4095 */
        int timeout_ms;               /* no accepted line for this long: the glove is silent, default 100 */
        const char *calibration_file; /* [glove.SIDE] calibration, or NULL: the default calibration */
        tp_glove_calibration calibration; /* loaded from calibration_file when the config is applied */
    } gloves[2];
} tp_session_config;

enum { TP_CONSOLE_AUTO = 0, TP_CONSOLE_ON, TP_CONSOLE_OFF };

void tp_session_default_config(tp_session_config *cfg);
/* Applies a station config file through the key tables
 * (src/station/station_config.c, docs/configuration.md); rejects unknown
 * sections and keys. 0 or -1 with a one-line message
 * "FILE:LINE: [section] key: message". */
int tp_session_apply_config(tp_session_config *cfg, tp_config *file, char *err, size_t errlen);
/* Task and operator of the embedded default session (the bundled demo motion
 * replayed): the motion reaches for the cube, lifts it and sets it down about
 * 12 cm to the robot's left. */
#define TP_DEMO_MOTION_TASK "pick up the cube and place it 12 cm to the left"
#define TP_DEMO_MOTION_OPERATOR "bundled-demo-motion"
/* Resolves bundled defaults (model, motion) into buf-backed paths; when the
 * bundled motion is replayed, an empty task and operator become the two
 * above. */
int tp_session_resolve_paths(tp_session_config *cfg, char *model_buf, char *motion_buf, size_t buflen, char *err,
                             size_t errlen);

typedef struct tp_session_camera_stats {
    char name[64];
    atomic_llong captured; /* frames the device delivered (dropped ones included) */
    atomic_llong dropped;  /* dropped at capture: the encoder queue was full */
    atomic_llong missed;   /* skipped by the device: it fell behind its rate (a render ran late) */
    atomic_llong encoded;  /* packets stored */
    atomic_llong bytes;    /* encoded bytes */
    atomic_llong gaps;     /* times no frame came for over three frame periods */
    atomic_llong gap_ms;   /* their total length */
    atomic_int lost;       /* the device vanished or failed; the session went on */
    int queue_frames;      /* frames the capture → encoder queue holds */
    double capture_median_ms; /* render or read of one frame */
    double encode_median_ms;
    double capture_cpu_s, encoder_cpu_s; /* thread CPU time */
} tp_session_camera_stats;

typedef struct tp_session_stats {
    char episode_path[4096]; /* the last episode kept; empty when none */
    int episodes_kept;       /* still on disk at the end */
    int episodes_discarded;  /* discarded takes and deleted episodes */
    int64_t control_cycles;
    int64_t deadline_misses;   /* cycles that started more than one period late */
    int64_t watchdog_stalls;   /* times the control loop stopped cycling for 10 periods */
    double period_median_us;   /* control period, start to start */
    double period_p99_us;
    double period_max_us;      /* the longest: a loop that waited on anything shows here */
    double jitter_median_us;   /* |period - nominal| */
    double jitter_p99_us;
    double compute_median_us;  /* one control cycle's work */
    double compute_p99_us;
    int camera_count;
    tp_session_camera_stats cameras[TP_SESSION_MAX_CAMERAS];
    int64_t frames_rendered;   /* sums over the cameras */
    int64_t frames_dropped;    /* encoder queue full */
    int64_t frames_encoded;
    int64_t samples_recorded;  /* state/action rows */
    int64_t samples_dropped;   /* state/action rows lost to a full recorder queue (first one is an event) */
    int64_t operator_frames_dropped;
    int64_t operator_frames;
    int64_t bytes_video;
    double render_median_ms;   /* the first camera's */
    double encode_median_ms;
    double control_cpu_s, recorder_cpu_s; /* thread CPU time */
    double wall_s;             /* session start to return */
    double stop_to_final_s;    /* end of control to file final */
    double stop_to_encoded_s;  /* end of control to the last encoder flushed */
    double stop_to_recorded_s; /* ... to the recorder's last batch committed */
    int64_t recording_stopped_ns; /* when a disk fault ended the recording (robot held since); 0 if not */
    unsigned final_control_flags;  /* tp_control_flag bits of the last control cycle */
    /* Simulation time against the clock (docs/robot-sim.md): ticks run late
     * to catch up after stalls, the most it fell behind, the longest it
     * stayed behind, ticks skipped (a stall beyond 0.5 s), and how far
     * behind it was when the session ended. */
    int64_t sim_catch_up_ticks;
    int64_t control_ticks; /* simulation ticks run: one state row each (a cycle after a catch-up runs none) */
    double sim_max_lag_ms, sim_max_catch_up_ms;
    int64_t sim_ticks_skipped;
    double sim_lag_at_end_ms;
    tp_robot_link_health robot_link; /* the link's figures over the whole run */
} tp_session_stats;

/* Runs the session to completion. With a non-NULL stop flag set to non-zero
 * from a signal handler, the session ends early and keeps the episode. */
int tp_session_run(const tp_session_config *cfg, volatile int *stop_flag, tp_session_stats *stats, char *err,
                   size_t errlen);

#endif
