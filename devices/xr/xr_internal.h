/* teleop — the OpenXR client's internals, shared by the files of
 * devices/xr: xr.c (instance, session, events, locating), xr_frame.c (the
 * graphics frame loop, swapchains, the mirror). Private to devices/xr.
 */
#ifndef TELEOP_XR_INTERNAL_H
#define TELEOP_XR_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>

#define XR_USE_TIMESPEC
#define XR_USE_GRAPHICS_API_OPENGL /* the requirements call; the Xlib binding is in xr_gl.c */
#include <time.h>
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>

#include "teleop/xr.h"
#include "xr_gl.h"
#include "xr_haptics.h"

enum { PART_HEAD, PART_LEFT_HAND, PART_RIGHT_HAND, PART_LEFT_CTRL, PART_RIGHT_CTRL, PART_COUNT };
enum {
    ACT_GRIP,
    ACT_AIM,
    ACT_TRIGGER,
    ACT_SQUEEZE,
    ACT_PRIMARY,   /* A / X */
    ACT_SECONDARY, /* B / Y */
    ACT_MENU,
    ACT_STICK,
    ACT_STICK_CLICK,
    ACT_COUNT
};

/* How the operator device thread (events, session lifecycle, locating) and
 * the view thread (xrWaitFrame, xrBeginFrame, xrEndFrame) share a session
 * without a lock (docs/devices/xr.md, Threads). */
typedef struct xr_view_sync {
    atomic_bool active;       /* a view thread drives the frames: tp_xr_poll never calls xrWaitFrame */
    atomic_bool in_frame;     /* the view thread is between its check of running and xrEndFrame */
    atomic_bool stopping;     /* the operator thread is about to end the session: begin no frame */
    atomic_bool lost;         /* the view thread's frame call reported session or instance loss */
    _Atomic int64_t display_time; /* the newest frame's predicted display time (XrTime) */
    atomic_llong display_seq;     /* bumped after each display_time store */
    _Atomic int64_t period_ns;    /* the newest frame's predicted display period */
    long long located_seq;        /* operator thread: the last display_seq it took */
    XrTime located_time;          /* operator thread: the last display time it located at */
    int wake_fd;                  /* eventfd: written after each publication; -1 when none */
} xr_view_sync;

struct tp_xr {
    tp_xr_config cfg;
    tp_xr_info info;
    XrInstance instance;
    XrSystemId system;
    XrSession session;
    XrSessionState state;
    /* Between xrBeginSession and xrEndSession; read by the view thread. */
    atomic_bool running;
    bool began;         /* xrBeginSession succeeded once */
    bool exit_requested;
    bool ended;
    XrSpace base, view;
    XrReferenceSpaceType base_type;
    bool hand_ext, headless_ext, timespec_ext, opengl_ext;
    tp_xr_gl *gl; /* graphics session only */
    xr_view_sync sync; /* the view thread's frame loop (xr_frame.c) */
    unsigned mirror_fbo; /* GL framebuffer the mirror reads swapchain images through (view thread) */
    XrHandTrackerEXT hand_tracker[2];
    XrActionSet action_set;
    XrAction actions[ACT_COUNT];
    xr_haptics haptics; /* the haptic output action (xr_haptics.c) */
    XrPath hand_path[2];
    XrSpace grip_space[2], aim_space[2];
    char profile[2][128];
    bool tracked[PART_COUNT]; /* for lost/found events */
    bool tracked_known[PART_COUNT];
    PFN_xrCreateHandTrackerEXT create_hand_tracker;
    PFN_xrDestroyHandTrackerEXT destroy_hand_tracker;
    PFN_xrLocateHandJointsEXT locate_hand_joints;
    PFN_xrConvertTimeToTimespecTimeKHR time_to_timespec;
    PFN_xrConvertTimespecTimeToTimeKHR timespec_to_time;
};

/* "OpenXR: CALL failed: XR_ERROR_..." into err; false when r failed. */
bool xr_check(XrResult r, const char *call, char *err, size_t errlen);

/* xr_frame.c: the view sync's eventfd (at create) and its release. */
int xr_view_sync_init(xr_view_sync *v, char *err, size_t errlen);
void xr_view_sync_free(xr_view_sync *v);
/* Operator thread, before xrEndSession with a view thread active: asks it
 * to begin no further frame and waits (at most 1 s) for its current one to
 * end. */
void xr_view_quiesce(tp_xr *xr);
/* Operator thread, after xrBeginSession: frames may begin again. */
void xr_view_resume(tp_xr *xr);
/* Operator thread, with a view thread active: the next display time to
 * locate at. Waits for the view thread's next publication, at most one and
 * a half display periods; when none comes (the view thread is held up), it
 * goes on one period after the last time it located at, so operator input
 * keeps the display rate. Times only increase. False (after about 50 ms)
 * until the view published a first frame. */
bool xr_view_next_display_time(tp_xr *xr, XrTime *t);

#endif
