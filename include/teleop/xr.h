/* teleop — the OpenXR client: a headless OpenXR session, through the Khronos
 * loader, that turns a headset's head pose, both hands (XR_EXT_hand_tracking,
 * 26 joints) and both controllers (action system) into operator frames.
 *
 * It works with whatever runtime the loader selects (Monado, SteamVR, WiVRn,
 * ALVR, ..., or teleop's replay runtime through XR_RUNTIME_JSON); see
 * docs/devices/xr.md for what it relies on. By default the session needs no
 * graphics: XR_MND_headless is required; with view = TP_XR_VIEW_HEADSET it
 * is an OpenGL session (XR_KHR_opengl_enable) instead. XR_EXT_hand_tracking
 * and XR_KHR_convert_timespec_time are used when offered.
 *
 * One thread drives a tp_xr: tp_xr_poll handles the runtime's events (the
 * whole session lifecycle) and, while the session runs, paces itself on
 * xrWaitFrame and locates everything at the frame's predicted display time.
 * Frames are stamped on the station's monotonic clock at that instant (see
 * tp_xr_poll). A graphics session shown in the headset has a second thread,
 * the view thread, which then owns the frame loop (below, "the view's frame
 * loop"); tp_xr_poll locates at the display times it publishes.
 *
 * Memory: tp_xr_create allocates the client; tp_xr_destroy frees it and every
 * OpenXR handle. tp_xr_poll allocates nothing. Pointers returned by
 * tp_xr_get_info stay valid until tp_xr_destroy.
 */
#ifndef TELEOP_XR_H
#define TELEOP_XR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/operator.h"
#include "teleop/operator_feedback.h"

typedef struct tp_xr tp_xr;

typedef struct tp_xr_config {
    const char *app_name; /* default "teleop" */
    /* Without XR_EXT_hand_tracking the hands read inactive; true makes its
     * absence an error instead. */
    bool require_hand_tracking;
    /* TP_XR_VIEW_OFF: the headless session (XR_MND_headless), nothing shown.
     * TP_XR_VIEW_HEADSET: a graphics session (XR_KHR_opengl_enable, a GLX
     * context from a hidden GLFW window: needs an X display); tp_xr_create
     * must then run on the process's main thread. */
    enum tp_xr_view { TP_XR_VIEW_OFF = 0, TP_XR_VIEW_HEADSET = 1 } view;
    /* Graphics session only: > 0 shows the GL context's window, this many
     * pixels, as the desktop mirror (tp_xr_mirror_draw). 0: it stays a
     * hidden 64x64 window. */
    int mirror_width, mirror_height;
} tp_xr_config;

void tp_xr_default_config(tp_xr_config *cfg);

#define TP_XR_MAX_EXTENSIONS 128
#define TP_XR_MAX_SPACES 16

/* What the runtime and system are; filled by tp_xr_create. */
typedef struct tp_xr_info {
    char runtime_name[128];
    char runtime_version[32]; /* "major.minor.patch" */
    char system_name[256];
    uint32_t vendor_id;
    bool orientation_tracking, position_tracking;
    uint32_t max_layers;
    bool hand_tracking_supported; /* extension enabled and the system says so */
    bool timespec_conversion;     /* XR_KHR_convert_timespec_time enabled */
    int extension_count;
    struct {
        char name[128];
        uint32_t version;
        bool enabled; /* teleop enabled it */
    } extensions[TP_XR_MAX_EXTENSIONS];
    int space_count;
    const char *spaces[TP_XR_MAX_SPACES]; /* "VIEW", "LOCAL", "STAGE", ... */
    const char *base_space;               /* the operator frame's space: "STAGE" or "LOCAL" */
    bool graphics;                        /* an OpenGL session (TP_XR_VIEW_HEADSET) */
    /* XR_KHR_opengl_enable's requirements (graphics only), "major.minor". */
    char gl_min_version[16], gl_max_version[16];
} tp_xr_info;

/* Creates the instance (app name, extensions), gets the head-mounted system,
 * creates the headless session, the reference spaces, the hand trackers and
 * the controller actions with suggested bindings. NULL with a one-line
 * message when no runtime is installed, a required extension is missing or
 * no headset is connected. */
tp_xr *tp_xr_create(const tp_xr_config *cfg, char *err, size_t errlen);
void tp_xr_destroy(tp_xr *xr);
const tp_xr_info *tp_xr_get_info(const tp_xr *xr);

/* Something that happened in the runtime, for the episode's events. kind is
 * a static string: "xr_session_state" (detail: IDLE, READY, SYNCHRONIZED,
 * VISIBLE, FOCUSED, STOPPING, LOSS_PENDING, EXITING), "xr_tracking_lost" and
 * "xr_tracking_found" (detail: head, left_hand, right_hand, left_controller,
 * right_controller), "xr_interaction_profile" (detail: "left
 * /interaction_profiles/..."), "xr_session_lost", "xr_instance_lost",
 * "xr_exit", "xr_reference_space_change", "xr_events_lost". */
typedef struct tp_xr_event {
    int64_t t_ns; /* station monotonic clock when teleop saw it */
    const char *kind;
    char detail[96];
} tp_xr_event;

enum tp_xr_status {
    TP_XR_ERROR = -1,
    TP_XR_IDLE = 0,  /* no frame: the session is not running (waited ~10 ms) */
    TP_XR_FRAME = 1, /* *frame holds a new frame */
    TP_XR_ENDED = 2, /* the session is over: exit, session loss or instance loss */
};

/* Handles pending runtime events, then, while the session runs, waits for
 * the next frame (xrWaitFrame) and locates head, hands and controllers at its
 * predicted display time. frame->t_ns is that display time on the station's
 * monotonic clock: the instant the poses describe, typically one or two
 * display periods after the call returns (a prediction). frame->engaged is
 * left false (the operator controls set it). Up to max events go to events,
 * their number to *n_events. Returns a tp_xr_status; on TP_XR_ERROR a
 * one-line message is in err. */
int tp_xr_poll(tp_xr *xr, tp_operator_frame *frame, tp_xr_event *events, int max, int *n_events, char *err,
               size_t errlen);

/* Asks the runtime to end the session (xrRequestExitSession); keep polling
 * until TP_XR_ENDED. When the session is not running it ends at once. */
void tp_xr_request_exit(tp_xr *xr);

/* Current session state name ("FOCUSED", ...). */
const char *tp_xr_session_state(const tp_xr *xr);
/* Current interaction profile of a hand (TP_LEFT/TP_RIGHT), "" when none. */
const char *tp_xr_interaction_profile(const tp_xr *xr, int side);

/* Plays a haptic pulse on a controller, side TP_LEFT/TP_RIGHT, or stops
 * one (operator_feedback.h: TP_HAPTIC_PULSE, TP_HAPTIC_STOP; NONE does
 * nothing), through the client's haptic output action (bound to
 * /user/hand/{left,right}/output/haptic in every suggested profile).
 * Nothing while the session is not running. Returns the XrResult: >= 0
 * (XR_SESSION_NOT_FOCUSED: the runtime plays nothing while unfocused), or
 * an error (tp_xr_result_name). Allocates nothing; call from one thread
 * (the view thread when there is one). */
int tp_xr_haptic(tp_xr *xr, int side, const tp_haptic_pulse *pulse);

/* ------------------------------------------------ the view's frame loop
 * A graphics session (TP_XR_VIEW_HEADSET) is shown by a second thread, the
 * view thread: it waits for, begins and ends every display frame and draws
 * into swapchains, while the thread calling tp_xr_poll keeps the events and
 * the session's lifecycle and locates the operator at the display times the
 * view thread publishes (docs/devices/xr.md, Threads). Call
 * tp_xr_view_attach before either thread starts; then, on the view thread
 * only: tp_xr_view_enter (makes the GL context current there), the
 * swapchain and frame functions, tp_xr_view_leave. The view thread must
 * have left before tp_xr_destroy. None of these allocates except
 * tp_xr_swapchain_create. */

/* From now on tp_xr_poll never calls xrWaitFrame itself. -1 when the
 * session is headless. */
int tp_xr_view_attach(tp_xr *xr);
/* Makes the session's GL context current on the calling thread. */
int tp_xr_view_enter(tp_xr *xr, char *err, size_t errlen);
void tp_xr_view_leave(tp_xr *xr);

typedef struct tp_xr_frame {
    int64_t display_time; /* predicted display time (XrTime) */
    int64_t display_ns;   /* the same on the station's clock */
    int64_t period_ns;    /* predicted display period */
    int64_t woke_ns;      /* when xrWaitFrame returned (station clock) */
    bool should_render;   /* false: submit no layers (the runtime shows nothing) */
} tp_xr_frame;

/* Waits for the next display frame (xrWaitFrame) and begins it. Returns
 * TP_XR_FRAME (end it with tp_xr_frame_submit), TP_XR_IDLE when the session
 * is not running (after about 5 ms; nothing to end), TP_XR_ENDED when the
 * runtime reported the session or instance lost, TP_XR_ERROR with err. */
int tp_xr_frame_begin(tp_xr *xr, tp_xr_frame *f, char *err, size_t errlen);

/* The head (the VIEW space) in the session's base space at a display
 * time: 0, or -1 when the runtime cannot locate it then. */
int tp_xr_locate_head(tp_xr *xr, int64_t display_time, tp_pose *head);

typedef struct tp_xr_swapchain tp_xr_swapchain;

/* A quad layer showing a swapchain's last released image (its full size). */
typedef struct tp_xr_quad {
    const tp_xr_swapchain *swapchain;
    bool head_locked;   /* the VIEW space (moves with the head); else the base space (world-locked) */
    int eye;            /* 0 both eyes, 1 left only, 2 right only */
    tp_pose pose;       /* the quad's centre and orientation in that space (it faces +z) */
    double width_m, height_m;
    bool blend;         /* blend by the image's (straight) alpha; else opaque */
} tp_xr_quad;

/* Ends the frame begun by tp_xr_frame_begin with these quads, back to
 * front (a quad whose swapchain was never released is left out).
 * *submitted_ns: the station clock just before xrEndFrame. Returns as
 * tp_xr_frame_begin. */
int tp_xr_frame_submit(tp_xr *xr, const tp_xr_frame *f, const tp_xr_quad *quads, int n, int64_t *submitted_ns,
                       char *err, size_t errlen);

/* A swapchain of width x height RGBA images (GL_SRGB8_ALPHA8 when the
 * runtime offers it, else GL_RGBA8: the bytes uploaded are stored as they
 * are, camera images being sRGB-encoded already). NULL with err. */
tp_xr_swapchain *tp_xr_swapchain_create(tp_xr *xr, int width, int height, char *err, size_t errlen);
void tp_xr_swapchain_destroy(tp_xr_swapchain *sc);
/* The GL internal format chosen (GL_SRGB8_ALPHA8 or GL_RGBA8). */
int64_t tp_xr_swapchain_format(const tp_xr_swapchain *sc);
/* Acquires the next image, uploads the picture into it and releases it:
 * pixels top row first, channels 3 (RGB, alpha 255) or 4 (RGBA), stride
 * bytes per row. Rows are flipped to OpenGL's bottom-up order, so the
 * headset shows the picture upright. 0; -2 when the runtime reported the
 * session or instance lost (as TP_XR_ENDED); -1 with err. */
int tp_xr_swapchain_upload(tp_xr_swapchain *sc, const uint8_t *pixels, int channels, int stride, char *err,
                           size_t errlen);

/* The desktop mirror (mirror_width > 0): copies swapchains' last released
 * images 1:1 into rectangles of the mirror window (x, y from its top left)
 * and shows the result. The window's own events are GLFW's, polled on the
 * process's main thread. */
typedef struct tp_xr_mirror_rect {
    const tp_xr_swapchain *swapchain;
    int x, y;
} tp_xr_mirror_rect;
/* read_rgb (may be NULL) gets the picture drawn (RGB, top row first,
 * mirror_width x mirror_height x 3 bytes). */
int tp_xr_mirror_draw(tp_xr *xr, const tp_xr_mirror_rect *rects, int n, uint8_t *read_rgb, char *err,
                      size_t errlen);

/* Runtime time ↔ station monotonic nanoseconds (XR_KHR_convert_timespec_time;
 * without it, 0 and -1). */
int tp_xr_time_to_ns(const tp_xr *xr, int64_t xr_time, int64_t *ns);
int tp_xr_ns_to_time(const tp_xr *xr, int64_t ns, int64_t *xr_time);

/* Selects teleop's bundled replay runtime for instances created after the
 * call (XR_RUNTIME_JSON = its manifest, found like other bundled data) and
 * what it plays: TELEOP_XR_REPLAY_SOURCE = source (a motion CSV or an
 * episode), TELEOP_XR_REPLAY_LOOP, and TELEOP_XR_REPLAY_SCRIPT when script is
 * given. Call before other threads run (it sets environment variables). */
int tp_xr_use_replay_runtime(const char *source, bool loop, const char *script, char *err, size_t errlen);

/* "XR_ERROR_RUNTIME_FAILURE", ... for any XrResult (no instance needed). */
const char *tp_xr_result_name(int result);

#endif
