/* teleop xr-replay — internal interface of the replay OpenXR runtime.
 *
 * The runtime is one shared module loaded by the Khronos loader. Every entry
 * point takes the one runtime lock (rt_lock) for its whole body, except
 * xrWaitFrame, which sleeps outside it. Handles are indices into one table of
 * objects (rt_obj), checked for type and generation on every use, so a stale
 * or foreign handle is XR_ERROR_HANDLE_INVALID rather than a crash.
 *
 * Ownership: the handle table owns every object; destroying a handle destroys
 * its children first (instance → sessions, action sets → actions; session →
 * spaces, hand trackers). The instance owns its playback source (rt_source).
 */
#ifndef TELEOP_XR_REPLAY_RT_H
#define TELEOP_XR_REPLAY_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <GL/glx.h>
#include <X11/Xlib.h>

#define XR_USE_TIMESPEC
#define XR_USE_PLATFORM_XLIB
#define XR_USE_GRAPHICS_API_OPENGL
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>

#include "teleop/motion.h"
#include "teleop/operator.h"

#define RT_RUNTIME_NAME "teleop replay"
#define RT_SYSTEM_ID ((XrSystemId)1)
#define RT_FRAME_PERIOD_NS 11111111 /* 90 Hz */
#define RT_MAX_EVENTS 64
#define RT_MAX_SUBACTIONS 8
#define RT_MAX_SESSION_SETS 32

/* ---- source: operator motion plus script, sampled by stream time ---- */

/* Physical controls of one emulated controller. Interaction-profile input
 * paths read these; script lines override them. */
enum rt_control {
    RC_SQUEEZE,
    RC_SQUEEZE_FORCE,
    RC_TRIGGER,
    RC_TRIGGER_TOUCH,
    RC_STICK_X,
    RC_STICK_Y,
    RC_STICK_CLICK,
    RC_STICK_TOUCH,
    RC_A,
    RC_A_TOUCH,
    RC_B,
    RC_B_TOUCH,
    RC_MENU,
    RC_SYSTEM,
    RC_SYSTEM_TOUCH,
    RC_THUMBREST_TOUCH,
    RC_TRACKPAD_X,
    RC_TRACKPAD_Y,
    RC_TRACKPAD_FORCE,
    RC_TRACKPAD_TOUCH,
    RC_COUNT,
    RC_NONE = -1,
};

enum rt_profile {
    RP_SIMPLE,
    RP_TOUCH,
    RP_INDEX,
    RP_VIVE,
    RP_COUNT,
    RP_NONE = -1,
};

enum rt_input_kind { RK_BOOL, RK_FLOAT, RK_VEC2, RK_POSE, RK_HAPTIC };
enum rt_pose_source { RPS_NONE, RPS_GRIP, RPS_AIM };

/* One input or output path of a profile, relative to the hand's user path
 * ("input/squeeze/value"). */
typedef struct rt_input {
    const char *path;
    enum rt_input_kind kind;
    unsigned sides;         /* bit 0 left, bit 1 right */
    enum rt_control control; /* RK_BOOL/RK_FLOAT/RK_VEC2 (x) */
    enum rt_control control_y; /* RK_VEC2 */
    bool threshold;         /* a click read from an analog control (> 0.5) */
    enum rt_pose_source pose;
    const char *label;      /* localized component name */
} rt_input;

typedef struct rt_profile_desc {
    const char *path; /* /interaction_profiles/... */
    const char *label;
    const rt_input *inputs;
    size_t input_count;
} rt_profile_desc;

const rt_profile_desc *rt_profile_get(int profile);
int rt_profile_find(const char *path); /* RP_* or RP_NONE */
/* Input of profile for hand side (0 left, 1 right) at a path relative to the
 * hand ("input/trigger/value"), or NULL. */
const rt_input *rt_profile_input(int profile, int side, const char *rel);

enum rt_script_kind {
    RS_CONTROL,   /* side, control, value */
    RS_CONTROL2,  /* side, control, control_y, value, value_y */
    RS_PROFILE,   /* profile */
    RS_TRACKING,  /* target (0 head, 1 left hand, 2 right hand), lost */
    RS_EXIT,
    RS_SESSION_LOSS,
    RS_INSTANCE_LOSS,
};

typedef struct rt_script_event {
    double t; /* seconds of stream time */
    enum rt_script_kind kind;
    int side, profile, target;
    enum rt_control control, control_y;
    float value, value_y;
    bool lost;
} rt_script_event;

/* Everything the runtime knows at one stream time. */
typedef struct rt_sample {
    tp_operator_frame frame;
    bool tracking_lost[3]; /* head, left hand, right hand */
    float control[2][RC_COUNT];
    double control_since[2][RC_COUNT]; /* stream time of the script override in effect, or -1 */
    int profile;           /* emulated interaction profile */
} rt_sample;

typedef struct rt_source {
    tp_motion *motion;
    bool loop;
    char description[512]; /* what is played, for messages */
    rt_script_event *events;
    size_t event_count;
    tp_pose local_in_stage; /* LOCAL space origin in STAGE */
    /* Recent samples: an app locates head, hands and controllers at the same
     * display time (and velocities at ±1 ms), so most lookups repeat. */
    rt_sample cache[4];
    double cache_s[4];
    bool cache_valid[4];
    unsigned cache_next;
} rt_source;

/* Loads the source and script the environment selects. 0, or -1 with a
 * one-line message in err. */
int rt_source_load(rt_source *src, char *err, size_t errlen);
void rt_source_free(rt_source *src);
double rt_source_duration(const rt_source *src);
/* Sample at stream time s (seconds; negative is clamped to 0). */
void rt_source_sample(rt_source *src, double s, rt_sample *out);
/* Script parsing on its own (tests and error messages). */
int rt_script_parse(const char *path, rt_script_event **events, size_t *count, char *err, size_t errlen);

/* ---- objects and handles ---- */

enum rt_obj_type {
    RT_INSTANCE = 1,
    RT_SESSION,
    RT_SPACE,
    RT_ACTION_SET,
    RT_ACTION,
    RT_HAND_TRACKER,
    RT_SWAPCHAIN,
};

typedef struct rt_obj {
    enum rt_obj_type type;
    uint64_t handle;
    uint64_t parent; /* handle of the owning object, 0 for instances */
} rt_obj;

uint64_t rt_handle_new(rt_obj *obj, enum rt_obj_type type, uint64_t parent);
void *rt_handle_get(uint64_t handle, enum rt_obj_type type);
/* Destroys the object and its children (calls rt_obj_free on each). */
void rt_handle_destroy(uint64_t handle);
void rt_obj_free(rt_obj *obj);
/* Iterates objects of type with the given parent (parent 0: any). */
rt_obj *rt_handle_next(enum rt_obj_type type, uint64_t parent, size_t *cursor);

void rt_lock(void);
void rt_unlock(void);

/* Entry points hold the runtime lock for their whole body: ENTER_* takes it
 * and resolves the handle (returning its error with the lock released), and
 * RETURN releases it on every way out. */
#define RETURN(r)                                                                                                  \
    do {                                                                                                           \
        XrResult r_ = (r);                                                                                         \
        rt_unlock();                                                                                               \
        return r_;                                                                                                 \
    } while (0)

#define ENTER_INSTANCE(instance)                                                                                   \
    XrResult res_;                                                                                                 \
    rt_lock();                                                                                                     \
    rt_instance *inst = rt_instance_get(instance, &res_);                                                          \
    if (!inst) {                                                                                                   \
        rt_unlock();                                                                                               \
        return res_;                                                                                               \
    }

#define ENTER_SESSION(h)                                                                                           \
    XrResult res_;                                                                                                 \
    rt_lock();                                                                                                     \
    rt_session *s = rt_session_get(h, &res_);                                                                      \
    if (!s) {                                                                                                      \
        rt_unlock();                                                                                               \
        return res_;                                                                                               \
    }

/* ---- instance ---- */

typedef struct rt_binding {
    uint64_t action; /* XrAction */
    XrPath path;
} rt_binding;

typedef struct rt_instance {
    rt_obj obj;
    bool ext_headless, ext_hand_tracking, ext_timespec, ext_opengl;
    bool gl_requirements_queried; /* xrGetOpenGLGraphicsRequirementsKHR called */
    bool lost;          /* instance loss delivered: everything but destroy fails */
    bool system_gotten;
    char **paths;
    size_t path_count, path_cap;
    XrEventDataBuffer events[RT_MAX_EVENTS];
    size_t event_head, event_count;
    rt_binding *suggested[RP_COUNT];
    size_t suggested_count[RP_COUNT];
    bool suggested_set[RP_COUNT];
    rt_source source;
} rt_instance;

rt_instance *rt_instance_get(XrInstance h, XrResult *res); /* checks lost */
XrPath rt_path_intern(rt_instance *inst, const char *s); /* 0 when full */
const char *rt_path_string(const rt_instance *inst, XrPath p); /* NULL if invalid */
void rt_event_push(rt_instance *inst, const void *event, size_t size);
XrTime rt_now(void);

/* ---- session ---- */

typedef struct rt_action_state {
    bool active;
    float v[2];
    bool changed;
    XrTime last_change;
} rt_action_state;

typedef struct rt_session {
    rt_obj obj;
    rt_instance *inst;
    XrSessionState state;
    bool running;
    bool exit_requested;
    bool loss_pending; /* LOSS_PENDING queued: calls return XR_ERROR_SESSION_LOST */
    XrTime t0;          /* xrBeginSession: stream time 0 */
    bool begun_once;
    size_t script_cursor;
    bool stream_end_handled;
    /* frame loop */
    int64_t frame_k;     /* last display slot handed out */
    int waits_pending;   /* xrWaitFrame returns not yet consumed by xrBeginFrame */
    bool frame_begun;
    /* graphics (XR_KHR_opengl_enable); false for a headless session */
    bool graphics;
    int64_t frames_submitted;
    /* actions */
    bool attached;
    uint64_t sets[RT_MAX_SESSION_SETS];
    size_t set_count;
    int profile[2];      /* current interaction profile per hand (RP_*) */
    XrTime last_sync;
    bool synced_once;
} rt_session;

rt_session *rt_session_get(XrSession h, XrResult *res); /* checks loss */
/* Stream time (seconds) of XrTime t: 0 before xrBeginSession. */
double rt_session_stream_time(const rt_session *s, XrTime t);
/* Emits script and end-of-stream events due by now. */
void rt_session_advance(rt_session *s);
void rt_session_queue_state(rt_session *s, XrSessionState state);
/* Pose of a space in STAGE at time t; false when not locatable. */
bool rt_space_pose_in_stage(uint64_t space, XrTime t, tp_pose *out);

/* ---- graphics (rt_gfx.c): XR_KHR_opengl_enable with GLX ---- */

/* XR_SUCCESS with *found false when next has no graphics binding; an error
 * for an unsupported or invalid binding. */
XrResult rt_gfx_binding_check(const rt_instance *inst, const void *next, bool *found);
/* Validates one layer of xrEndFrame for a graphics session. */
XrResult rt_gfx_layer_check(rt_session *s, const XrCompositionLayerBaseHeader *layer);
/* Writes the frame's layers to the dump directory when one is set. */
void rt_gfx_dump_frame(rt_session *s, const XrFrameEndInfo *info);
void rt_swapchain_free(rt_obj *obj);

/* ---- actions ---- */

typedef struct rt_action_set {
    rt_obj obj;
    rt_instance *inst;
    char name[XR_MAX_ACTION_SET_NAME_SIZE];
    char localized[XR_MAX_LOCALIZED_ACTION_SET_NAME_SIZE];
    uint32_t priority;
    bool attached;
} rt_action_set;

typedef struct rt_bound {
    int side;
    const rt_input *input;
} rt_bound;

typedef struct rt_action {
    rt_obj obj;
    rt_action_set *set;
    char name[XR_MAX_ACTION_NAME_SIZE];
    char localized[XR_MAX_LOCALIZED_ACTION_NAME_SIZE];
    XrActionType type;
    XrPath subactions[RT_MAX_SUBACTIONS];
    size_t subaction_count;
    rt_bound bound[16];
    size_t bound_count;
    rt_action_state state[3]; /* [0] left, [1] right, [2] any */
} rt_action;

/* Top-level user path → 0 left, 1 right, 2 head, 3 gamepad, -1 other. */
int rt_user_path_index(const rt_instance *inst, XrPath p);
/* Recomputes bindings after attach or a profile change; queues
 * XrEventDataInteractionProfileChanged when a hand's profile changed. */
void rt_actions_rebind(rt_session *s, int emulated_profile, bool notify);
/* Whether the pose action with subaction slot (0, 1, or 2 = any) is active,
 * and which side and pose it reads. */
bool rt_action_pose_source(const rt_action *a, int slot, int *side, enum rt_pose_source *pose);

/* ---- shared helpers ---- */

XrResult rt_two_call(uint32_t capacity, uint32_t *count_out, const void *array, uint32_t count);
static inline XrPosef rt_to_xr_pose(tp_pose p)
{
    return (XrPosef){{(float)p.q.x, (float)p.q.y, (float)p.q.z, (float)p.q.w},
                     {(float)p.p.x, (float)p.p.y, (float)p.p.z}};
}
static inline tp_pose rt_from_xr_pose(XrPosef p)
{
    return (tp_pose){{p.position.x, p.position.y, p.position.z},
                     {p.orientation.x, p.orientation.y, p.orientation.z, p.orientation.w}};
}
bool rt_pose_valid(XrPosef p);
/* Velocity (linear, angular) of a pose function by central difference. */
void rt_velocity(tp_pose before, tp_pose after, double dt, XrVector3f *linear, XrVector3f *angular);

#endif
