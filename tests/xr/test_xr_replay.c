/* The replay OpenXR runtime through the real Khronos loader (XR_RUNTIME_JSON
 * points at the built manifest), with the core validation layer on for
 * every well-formed scenario.
 *
 * The played source is an episode this test writes itself; expected poses
 * are computed here from those rows with an independent interpolation
 * (lerp + shortest-path slerp in double), at the exact display times the
 * runtime hands out, with stream time 0 = the session's t0 (the time of the
 * SYNCHRONIZED event, also the anchor of the 90 Hz display-time grid).
 */
#include <time.h>

#define XR_USE_TIMESPEC
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>

#include "teleop/episode.h"
#include "teleop/operator.h"

#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_checks;

#define CHECK(cond, ...)                                                                                           \
    do {                                                                                                           \
        g_checks++;                                                                                                \
        if (!(cond)) {                                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                               \
            fprintf(stderr, __VA_ARGS__);                                                                          \
            fputc('\n', stderr);                                                                                   \
            exit(1);                                                                                               \
        }                                                                                                          \
    } while (0)

#define EXPECT(expected, call)                                                                                     \
    do {                                                                                                           \
        XrResult r_ = (call);                                                                                      \
        CHECK(r_ == (expected), "%s returned %d, expected %d (%s)", #call, (int)r_, (int)(expected), #expected);   \
    } while (0)
#define OK(call) EXPECT(XR_SUCCESS, call)

static char g_dir[256];

static XrTime now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (XrTime)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- the source: synthetic operator rows with irregular timing ---- */

#define ROWS 40
static int64_t g_t_ns[ROWS];
static tp_operator_frame g_frames[ROWS];

static tp_quat quat_axis_angle(double x, double y, double z, double angle)
{
    double n = sqrt(x * x + y * y + z * z), s = sin(angle / 2) / n;
    return (tp_quat){x * s, y * s, z * s, cos(angle / 2)};
}

static void make_rows(void)
{
    int64_t t = 5000000000LL;
    for (int i = 0; i < ROWS; i++) {
        g_t_ns[i] = t;
        t += 20000000 + (int64_t)(i % 7) * 3000000; /* 20-38 ms */
        tp_operator_frame *f = &g_frames[i];
        memset(f, 0, sizeof *f);
        f->head = (tp_pose){{0.1 * sin(0.3 * i), 1.6 + 0.01 * i, -0.02 * i},
                            quat_axis_angle(0.2, 1, 0.1 * i, 0.05 * i - 0.4)};
        f->head_valid = true;
        for (int s = 0; s < 2; s++) {
            f->hand[s].active = true;
            for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
                tp_hand_joint *jt = &f->hand[s].joints[j];
                jt->pose = (tp_pose){{(s ? 0.2 : -0.2) + 0.01 * j + 0.003 * i, 1.0 + 0.002 * j * sin(0.2 * i),
                                      -0.3 - 0.004 * i},
                                     quat_axis_angle(1, 0.1 * j, 0.3 * s + 0.05 * i, 0.07 * i + 0.1 * j)};
                jt->radius = (float)(0.005 + 0.0005 * j + 0.0001 * i);
                jt->valid = true;
            }
            tp_controller_frame *c = &f->ctrl[s];
            c->active = true;
            c->squeeze = (float)i / ROWS;
            c->trigger = 1.0f - (float)i / ROWS;
            c->stick[0] = 0.01f * i;
            c->stick[1] = -0.01f * i;
            c->buttons = (i % 10 < 5) ? TP_BTN_A : 0;
            c->grip = f->hand[s].joints[0].pose;
            c->grip_valid = true;
            c->aim = f->hand[s].joints[1].pose;
            c->aim_valid = true;
        }
        f->engaged = true;
    }
}

static void write_episode(const char *path, int rows)
{
    char err[512];
    unlink(path);
    tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
    CHECK(w, "%s", err);
    tp_stream_desc d = {.name = "operator", .kind = TP_STREAM_OPERATOR, .dims = TP_OPERATOR_DIMS, .rate_hz = 40};
    int id = tp_episode_writer_add_stream(w, &d);
    CHECK(id > 0, "add_stream");
    CHECK(tp_episode_writer_begin(w) == 0, "begin");
    for (int i = 0; i < rows; i++) {
        float v[TP_OPERATOR_DIMS];
        tp_operator_pack(&g_frames[i], v);
        CHECK(tp_episode_writer_sample(w, id, i, g_t_ns[i], v, TP_OPERATOR_DIMS) == 0, "sample");
    }
    CHECK(tp_episode_writer_commit(w) == 0, "commit");
    CHECK(tp_episode_writer_finish(w, "ok") == 0, "finish");
    tp_episode_writer_close(w);
}

/* Expected interpolation, written independently of src/retarget/motion.c. */
static void bracket(double s, int *i, double *u)
{
    double t = s * 1e9 + (double)g_t_ns[0];
    if (t <= (double)g_t_ns[0]) {
        *i = 0;
        *u = 0;
        return;
    }
    for (int k = 0; k + 1 < ROWS; k++) {
        if (t < (double)g_t_ns[k + 1]) {
            *i = k;
            *u = (t - (double)g_t_ns[k]) / (double)(g_t_ns[k + 1] - g_t_ns[k]);
            return;
        }
    }
    *i = ROWS - 1;
    *u = 0;
}

static tp_quat qnorm(tp_quat q)
{
    double n = sqrt(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w);
    return (tp_quat){q.x / n, q.y / n, q.z / n, q.w / n};
}

/* Rows are stored as floats: interpolate what the episode holds. */
static tp_pose stored(tp_pose p)
{
    return (tp_pose){{(float)p.p.x, (float)p.p.y, (float)p.p.z}, qnorm((tp_quat){(float)p.q.x, (float)p.q.y, (float)p.q.z, (float)p.q.w})};
}

static tp_pose interp(tp_pose a, tp_pose b, double u)
{
    a = stored(a);
    b = stored(b);
    tp_pose r;
    r.p = (tp_vec3){a.p.x + u * (b.p.x - a.p.x), a.p.y + u * (b.p.y - a.p.y), a.p.z + u * (b.p.z - a.p.z)};
    double d = a.q.x * b.q.x + a.q.y * b.q.y + a.q.z * b.q.z + a.q.w * b.q.w;
    if (d < 0) {
        d = -d;
        b.q = (tp_quat){-b.q.x, -b.q.y, -b.q.z, -b.q.w};
    }
    double wa, wb;
    if (d > 0.9995) {
        wa = 1 - u;
        wb = u;
    } else {
        double th = acos(d);
        wa = sin((1 - u) * th) / sin(th);
        wb = sin(u * th) / sin(th);
    }
    r.q = qnorm((tp_quat){wa * a.q.x + wb * b.q.x, wa * a.q.y + wb * b.q.y, wa * a.q.z + wb * b.q.z,
                          wa * a.q.w + wb * b.q.w});
    return r;
}

static tp_pose expected_head(double s)
{
    int i;
    double u;
    bracket(s, &i, &u);
    return interp(g_frames[i].head, g_frames[i + (i + 1 < ROWS)].head, u);
}

static tp_pose expected_joint(double s, int side, int j, double *radius)
{
    int i;
    double u;
    bracket(s, &i, &u);
    int k = i + (i + 1 < ROWS);
    double ra = g_frames[i].hand[side].joints[j].radius, rb = g_frames[k].hand[side].joints[j].radius;
    *radius = (float)ra + u * ((float)rb - (float)ra);
    return interp(g_frames[i].hand[side].joints[j].pose, g_frames[k].hand[side].joints[j].pose, u);
}

static double expected_squeeze(double s, int side)
{
    int i;
    double u;
    bracket(s, &i, &u);
    int k = i + (i + 1 < ROWS);
    return g_frames[i].ctrl[side].squeeze + u * (g_frames[k].ctrl[side].squeeze - g_frames[i].ctrl[side].squeeze);
}

/* Every position and quaternion component within tol (q and -q alike). */
static void check_pose(XrPosef got, tp_pose want, double tol, const char *what)
{
    double dp = fmax(fabs(got.position.x - want.p.x), fmax(fabs(got.position.y - want.p.y), fabs(got.position.z - want.p.z)));
    double dq[2];
    for (int sgn = 0; sgn < 2; sgn++) {
        double k = sgn ? -1 : 1;
        dq[sgn] = fmax(fmax(fabs(got.orientation.x - k * want.q.x), fabs(got.orientation.y - k * want.q.y)),
                       fmax(fabs(got.orientation.z - k * want.q.z), fabs(got.orientation.w - k * want.q.w)));
    }
    double q = fmin(dq[0], dq[1]);
    CHECK(dp <= tol && q <= tol, "%s: position off by %g, orientation by %g", what, dp, q);
}

/* ---- helpers around the loader ---- */

static const char *const all_ext[] = {XR_MND_HEADLESS_EXTENSION_NAME, XR_EXT_HAND_TRACKING_EXTENSION_NAME,
                                      XR_KHR_CONVERT_TIMESPEC_TIME_EXTENSION_NAME};

static XrInstance create_instance(bool validate, int ext_count)
{
    static const char *const layers[] = {"XR_APILAYER_LUNARG_core_validation"};
    XrInstanceCreateInfo ci = {XR_TYPE_INSTANCE_CREATE_INFO};
    snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName, "test_xr_replay");
    ci.applicationInfo.apiVersion = XR_MAKE_VERSION(1, 0, 0);
    ci.enabledExtensionCount = (uint32_t)ext_count;
    ci.enabledExtensionNames = all_ext;
    ci.enabledApiLayerCount = validate ? 1 : 0;
    ci.enabledApiLayerNames = layers;
    XrInstance inst = XR_NULL_HANDLE;
    OK(xrCreateInstance(&ci, &inst));
    return inst;
}

static XrSystemId get_system(XrInstance inst)
{
    XrSystemGetInfo gi = {XR_TYPE_SYSTEM_GET_INFO, NULL, XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY};
    XrSystemId sys = XR_NULL_SYSTEM_ID;
    OK(xrGetSystem(inst, &gi, &sys));
    return sys;
}

static XrSession create_session(XrInstance inst, XrSystemId sys)
{
    XrSessionCreateInfo sci = {XR_TYPE_SESSION_CREATE_INFO, NULL, 0, sys};
    XrSession s = XR_NULL_HANDLE;
    OK(xrCreateSession(inst, &sci, &s));
    return s;
}

/* Next event, or type 0 when none. */
static XrEventDataBuffer poll(XrInstance inst)
{
    XrEventDataBuffer ev = {XR_TYPE_EVENT_DATA_BUFFER};
    XrResult r = xrPollEvent(inst, &ev);
    CHECK(r == XR_SUCCESS || r == XR_EVENT_UNAVAILABLE, "xrPollEvent %d", r);
    if (r == XR_EVENT_UNAVAILABLE)
        ev.type = 0;
    return ev;
}

static XrTime expect_state(XrInstance inst, XrSession s, XrSessionState state)
{
    XrEventDataBuffer ev = poll(inst);
    CHECK(ev.type == XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED, "event type %d, expected a state change to %d",
          ev.type, state);
    const XrEventDataSessionStateChanged *e = (const XrEventDataSessionStateChanged *)&ev;
    CHECK(e->session == s && e->state == state, "state %d, expected %d", e->state, state);
    return e->time;
}

static void expect_no_event(XrInstance inst)
{
    XrEventDataBuffer ev = poll(inst);
    CHECK(ev.type == 0, "unexpected event type %d", ev.type);
}

static XrSpace ref_space(XrSession s, XrReferenceSpaceType type)
{
    XrReferenceSpaceCreateInfo ci = {XR_TYPE_REFERENCE_SPACE_CREATE_INFO, NULL, type, {{0, 0, 0, 1}, {0, 0, 0}}};
    XrSpace sp;
    OK(xrCreateReferenceSpace(s, &ci, &sp));
    return sp;
}

static XrPath path(XrInstance inst, const char *str)
{
    XrPath p;
    OK(xrStringToPath(inst, str, &p));
    return p;
}

#define PROC(inst, name, var)                                                                                      \
    PFN_##name var;                                                                                                \
    OK(xrGetInstanceProcAddr(inst, #name, (PFN_xrVoidFunction *)&var))

typedef struct actions {
    XrActionSet set;
    XrAction squeeze, trigger, stick, a_click, grip, aim, haptic, menu;
    XrPath left, right;
} actions;

static XrAction make_action(XrActionSet set, const char *name, XrActionType type, const XrPath *sub, uint32_t n)
{
    XrActionCreateInfo ci = {XR_TYPE_ACTION_CREATE_INFO};
    snprintf(ci.actionName, sizeof ci.actionName, "%s", name);
    snprintf(ci.localizedActionName, sizeof ci.localizedActionName, "%s action", name);
    ci.actionType = type;
    ci.countSubactionPaths = n;
    ci.subactionPaths = sub;
    XrAction a;
    OK(xrCreateAction(set, &ci, &a));
    return a;
}

static void make_actions(XrInstance inst, actions *a)
{
    XrActionSetCreateInfo ci = {XR_TYPE_ACTION_SET_CREATE_INFO, NULL, "teleop", "Teleoperation", 0};
    OK(xrCreateActionSet(inst, &ci, &a->set));
    a->left = path(inst, "/user/hand/left");
    a->right = path(inst, "/user/hand/right");
    XrPath both[2] = {a->left, a->right};
    a->squeeze = make_action(a->set, "squeeze", XR_ACTION_TYPE_FLOAT_INPUT, both, 2);
    a->trigger = make_action(a->set, "trigger", XR_ACTION_TYPE_FLOAT_INPUT, both, 2);
    a->stick = make_action(a->set, "stick", XR_ACTION_TYPE_VECTOR2F_INPUT, both, 2);
    a->a_click = make_action(a->set, "a_click", XR_ACTION_TYPE_BOOLEAN_INPUT, both, 2);
    a->grip = make_action(a->set, "grip", XR_ACTION_TYPE_POSE_INPUT, both, 2);
    a->aim = make_action(a->set, "aim", XR_ACTION_TYPE_POSE_INPUT, both, 2);
    a->haptic = make_action(a->set, "haptic", XR_ACTION_TYPE_VIBRATION_OUTPUT, both, 2);
    a->menu = make_action(a->set, "menu", XR_ACTION_TYPE_BOOLEAN_INPUT, NULL, 0);
}

static void suggest(XrInstance inst, const actions *a, const char *profile)
{
    XrActionSuggestedBinding b[32];
    uint32_t n = 0;
    bool index = strstr(profile, "index") != NULL, vive = strstr(profile, "vive") != NULL;
    const char *sides[2] = {"/user/hand/left", "/user/hand/right"};
    char buf[256];
#define BIND(action, fmt)                                                                                          \
    do {                                                                                                           \
        snprintf(buf, sizeof buf, fmt, sides[s]);                                                                  \
        b[n++] = (XrActionSuggestedBinding){action, path(inst, buf)};                                              \
    } while (0)
    for (int s = 0; s < 2; s++) {
        BIND(a->trigger, "%s/input/trigger/value");
        BIND(a->grip, "%s/input/grip/pose");
        BIND(a->aim, "%s/input/aim");  /* identifier path: the pose component */
        BIND(a->haptic, "%s/output/haptic");
        if (vive) {
            BIND(a->squeeze, "%s/input/squeeze"); /* identifier path: squeeze/click */
            BIND(a->stick, "%s/input/trackpad");
            BIND(a->a_click, "%s/input/trackpad/click");
        } else {
            BIND(a->squeeze, "%s/input/squeeze/value");
            BIND(a->stick, "%s/input/thumbstick");
            if (index || s == 1)
                BIND(a->a_click, "%s/input/a/click");
            else
                BIND(a->a_click, "%s/input/x/click");
        }
    }
    int s = 0;
    if (!index)
        BIND(a->menu, "%s/input/menu/click");
#undef BIND
    XrInteractionProfileSuggestedBinding sb = {XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING, NULL,
                                               path(inst, profile), n, b};
    OK(xrSuggestInteractionProfileBindings(inst, &sb));
}

static void attach(XrSession s, XrActionSet set)
{
    XrSessionActionSetsAttachInfo ai = {XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO, NULL, 1, &set};
    OK(xrAttachSessionActionSets(s, &ai));
}

static XrResult sync_actions(XrSession s, XrActionSet set)
{
    XrActiveActionSet as = {set, XR_NULL_PATH};
    XrActionsSyncInfo si = {XR_TYPE_ACTIONS_SYNC_INFO, NULL, 1, &as};
    return xrSyncActions(s, &si);
}

static XrActionStateFloat get_float(XrSession s, XrAction a, XrPath sub)
{
    XrActionStateGetInfo gi = {XR_TYPE_ACTION_STATE_GET_INFO, NULL, a, sub};
    XrActionStateFloat st = {XR_TYPE_ACTION_STATE_FLOAT};
    OK(xrGetActionStateFloat(s, &gi, &st));
    return st;
}

static XrActionStateBoolean get_bool(XrSession s, XrAction a, XrPath sub)
{
    XrActionStateGetInfo gi = {XR_TYPE_ACTION_STATE_GET_INFO, NULL, a, sub};
    XrActionStateBoolean st = {XR_TYPE_ACTION_STATE_BOOLEAN};
    OK(xrGetActionStateBoolean(s, &gi, &st));
    return st;
}

static XrActionStateVector2f get_vec2(XrSession s, XrAction a, XrPath sub)
{
    XrActionStateGetInfo gi = {XR_TYPE_ACTION_STATE_GET_INFO, NULL, a, sub};
    XrActionStateVector2f st = {XR_TYPE_ACTION_STATE_VECTOR2F};
    OK(xrGetActionStateVector2f(s, &gi, &st));
    return st;
}

/* Begins the session; returns t0 (the SYNCHRONIZED event's time), after
 * checking it lies within the xrBeginSession call. */
static XrTime begin(XrInstance inst, XrSession s)
{
    XrSessionBeginInfo bi = {XR_TYPE_SESSION_BEGIN_INFO, NULL, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO};
    XrTime before = now_ns();
    OK(xrBeginSession(s, &bi));
    XrTime after = now_ns();
    XrTime t0 = expect_state(inst, s, XR_SESSION_STATE_SYNCHRONIZED);
    CHECK(t0 >= before && t0 <= after, "t0 %lld outside [%lld, %lld]", (long long)t0, (long long)before,
          (long long)after);
    CHECK(expect_state(inst, s, XR_SESSION_STATE_VISIBLE) == t0, "VISIBLE time");
    CHECK(expect_state(inst, s, XR_SESSION_STATE_FOCUSED) == t0, "FOCUSED time");
    return t0;
}

static XrTime frame(XrSession s, XrTime t0, XrTime *last)
{
    XrFrameState fs = {XR_TYPE_FRAME_STATE};
    XrTime called = now_ns();
    OK(xrWaitFrame(s, NULL, &fs));
    CHECK(fs.predictedDisplayPeriod == 11111111, "period %lld", (long long)fs.predictedDisplayPeriod);
    CHECK((fs.predictedDisplayTime - t0) % fs.predictedDisplayPeriod == 0, "display time off the grid");
    /* At least a period after the call (not after the return: a loaded
     * machine may deschedule us past it). */
    CHECK(fs.predictedDisplayTime > *last && fs.predictedDisplayTime >= called + fs.predictedDisplayPeriod,
          "display time not ahead");
    CHECK(!fs.shouldRender, "headless must not render");
    *last = fs.predictedDisplayTime;
    OK(xrBeginFrame(s, NULL));
    XrFrameEndInfo fe = {XR_TYPE_FRAME_END_INFO, NULL, fs.predictedDisplayTime, XR_ENVIRONMENT_BLEND_MODE_OPAQUE, 0,
                         NULL};
    OK(xrEndFrame(s, &fe));
    return fs.predictedDisplayTime;
}

/* ---- validation layer output ----
 * The core validation layer writes its findings to stdout; stdout goes to a
 * file for the whole run, read back at the end. */

static int g_stdout_fd = -1;
static char g_stdout_path[512];

static void capture_stdout(void)
{
    snprintf(g_stdout_path, sizeof g_stdout_path, "%s/stdout.txt", g_dir);
    fflush(stdout);
    g_stdout_fd = dup(1);
    CHECK(freopen(g_stdout_path, "w", stdout), "capture stdout");
}

/* Lines of captured output naming a validation finding. */
static int validation_findings(bool print)
{
    fflush(stdout);
    FILE *f = fopen(g_stdout_path, "r");
    CHECK(f, "read captured stdout");
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "VUID") || strstr(line, "Error") || strstr(line, "ERROR") || strstr(line, "Warning") ||
            strstr(line, "WARNING")) {
            n++;
            if (print)
                fprintf(stderr, "core validation: %s", line);
        }
    }
    fclose(f);
    return n;
}

static void restore_stdout(void)
{
    fflush(stdout);
    dup2(g_stdout_fd, 1);
    close(g_stdout_fd);
}

/* ---- scenarios ---- */

/* Instance, system, a headless session to FOCUSED, head and both hands at
 * every frame, actions from the stream, time conversion, and the end of a
 * played-once source requesting exit. */
static void scenario_playback(void)
{
    char db[512];
    snprintf(db, sizeof db, "%s/play.db", g_dir);
    setenv("TELEOP_XR_REPLAY_SOURCE", db, 1);
    unsetenv("TELEOP_XR_REPLAY_SCRIPT");
    setenv("TELEOP_XR_REPLAY_LOOP", "0", 1);
    XrInstance inst = create_instance(true, 3);

    XrInstanceProperties ip = {XR_TYPE_INSTANCE_PROPERTIES};
    OK(xrGetInstanceProperties(inst, &ip));
    CHECK(strcmp(ip.runtimeName, "teleop replay") == 0, "runtime name '%s'", ip.runtimeName);
    XrSystemId sys = get_system(inst);
    XrSystemHandTrackingPropertiesEXT hp = {XR_TYPE_SYSTEM_HAND_TRACKING_PROPERTIES_EXT};
    XrSystemProperties sp = {XR_TYPE_SYSTEM_PROPERTIES, &hp};
    OK(xrGetSystemProperties(inst, sys, &sp));
    CHECK(hp.supportsHandTracking == XR_TRUE, "hand tracking");
    CHECK(sp.trackingProperties.positionTracking && sp.trackingProperties.orientationTracking, "tracking");

    uint32_t n = 0;
    OK(xrEnumerateViewConfigurations(inst, sys, 0, &n, NULL));
    CHECK(n == 1, "view configurations %u", n);
    XrViewConfigurationType vct;
    OK(xrEnumerateViewConfigurations(inst, sys, 1, &n, &vct));
    CHECK(vct == XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO, "stereo");
    XrViewConfigurationView vcv[2] = {{XR_TYPE_VIEW_CONFIGURATION_VIEW}, {XR_TYPE_VIEW_CONFIGURATION_VIEW}};
    OK(xrEnumerateViewConfigurationViews(inst, sys, vct, 2, &n, vcv));
    CHECK(n == 2 && vcv[0].recommendedImageRectWidth > 0, "views");
    XrEnvironmentBlendMode bm;
    OK(xrEnumerateEnvironmentBlendModes(inst, sys, vct, 1, &n, &bm));
    CHECK(n == 1 && bm == XR_ENVIRONMENT_BLEND_MODE_OPAQUE, "blend");

    XrSession s = create_session(inst, sys);
    expect_state(inst, s, XR_SESSION_STATE_IDLE);
    expect_state(inst, s, XR_SESSION_STATE_READY);
    expect_no_event(inst);

    XrSpace stage = ref_space(s, XR_REFERENCE_SPACE_TYPE_STAGE), local = ref_space(s, XR_REFERENCE_SPACE_TYPE_LOCAL),
            view = ref_space(s, XR_REFERENCE_SPACE_TYPE_VIEW);
    XrExtent2Df bounds;
    OK(xrGetReferenceSpaceBoundsRect(s, XR_REFERENCE_SPACE_TYPE_STAGE, &bounds));
    CHECK(bounds.width > 0 && bounds.height > 0, "stage bounds");

    PROC(inst, xrCreateHandTrackerEXT, create_tracker);
    PROC(inst, xrLocateHandJointsEXT, locate_joints);
    PROC(inst, xrDestroyHandTrackerEXT, destroy_tracker);
    PROC(inst, xrConvertTimeToTimespecTimeKHR, to_timespec);
    PROC(inst, xrConvertTimespecTimeToTimeKHR, from_timespec);
    XrHandTrackerEXT tracker[2];
    for (int h = 0; h < 2; h++) {
        XrHandTrackerCreateInfoEXT tci = {XR_TYPE_HAND_TRACKER_CREATE_INFO_EXT, NULL,
                                          h ? XR_HAND_RIGHT_EXT : XR_HAND_LEFT_EXT, XR_HAND_JOINT_SET_DEFAULT_EXT};
        OK(create_tracker(s, &tci, &tracker[h]));
    }

    actions a;
    make_actions(inst, &a);
    suggest(inst, &a, "/interaction_profiles/oculus/touch_controller");
    suggest(inst, &a, "/interaction_profiles/valve/index_controller");
    attach(s, a.set);
    XrEventDataBuffer ev = poll(inst);
    CHECK(ev.type == XR_TYPE_EVENT_DATA_INTERACTION_PROFILE_CHANGED, "profile event, got %d", ev.type);
    XrInteractionProfileState ps = {XR_TYPE_INTERACTION_PROFILE_STATE};
    OK(xrGetCurrentInteractionProfile(s, a.left, &ps));
    char buf[256];
    OK(xrPathToString(inst, ps.interactionProfile, sizeof buf, &n, buf));
    CHECK(strcmp(buf, "/interaction_profiles/oculus/touch_controller") == 0, "profile %s", buf);

    XrActionSpaceCreateInfo asci = {XR_TYPE_ACTION_SPACE_CREATE_INFO, NULL, a.grip, a.right, {{0, 0, 0, 1}, {0, 0, 0}}};
    XrSpace grip_right;
    OK(xrCreateActionSpace(s, &asci, &grip_right));

    XrTime t0 = begin(inst, s);

    /* LOCAL: at the first head position, turned by its yaw. */
    tp_pose h0 = stored(g_frames[0].head);
    tp_vec3 fwd = tp_quat_rotate(h0.q, (tp_vec3){0, 0, -1});
    double yaw = atan2(-fwd.x, -fwd.z);
    tp_pose local_in_stage = {h0.p, quat_axis_angle(0, 1, 0, yaw)};

    double duration = (double)(g_t_ns[ROWS - 1] - g_t_ns[0]) * 1e-9;
    XrTime last = 0;
    int frames = 0, checked_syncs = 0;
    bool stopping = false;
    while (!stopping) {
        XrTime T = frame(s, t0, &last);
        double returned = (double)(now_ns() - t0) * 1e-9;
        frames++;
        double st = (double)(T - t0) * 1e-9;
        for (XrEventDataBuffer e = poll(inst); e.type; e = poll(inst)) {
            const XrEventDataSessionStateChanged *sc = (const XrEventDataSessionStateChanged *)&e;
            CHECK(e.type == XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED, "event %d", e.type);
            CHECK(returned >= duration, "state %d before the end of the source (%.3f s)", sc->state, returned);
            if (sc->state == XR_SESSION_STATE_STOPPING)
                stopping = true;
            else
                CHECK(sc->state == XR_SESSION_STATE_VISIBLE || sc->state == XR_SESSION_STATE_SYNCHRONIZED,
                      "state %d", sc->state);
        }
        if (stopping)
            break;
        XrSpaceVelocity vel = {XR_TYPE_SPACE_VELOCITY};
        XrSpaceLocation loc = {XR_TYPE_SPACE_LOCATION, &vel};
        OK(xrLocateSpace(view, stage, T, &loc));
        CHECK(loc.locationFlags == (XR_SPACE_LOCATION_POSITION_VALID_BIT | XR_SPACE_LOCATION_ORIENTATION_VALID_BIT |
                                    XR_SPACE_LOCATION_POSITION_TRACKED_BIT |
                                    XR_SPACE_LOCATION_ORIENTATION_TRACKED_BIT),
              "head flags %llx", (unsigned long long)loc.locationFlags);
        check_pose(loc.pose, expected_head(st), 1e-6, "head in STAGE");
        CHECK(vel.velocityFlags & XR_SPACE_VELOCITY_LINEAR_VALID_BIT, "velocity");
        XrViewLocateInfo vli = {XR_TYPE_VIEW_LOCATE_INFO, NULL, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO, T, stage};
        XrViewState vs = {XR_TYPE_VIEW_STATE};
        XrView views[2] = {{XR_TYPE_VIEW}, {XR_TYPE_VIEW}};
        uint32_t nv;
        OK(xrLocateViews(s, &vli, &vs, 2, &nv, views));
        CHECK(nv == 2 && vs.viewStateFlags == loc.locationFlags, "views");
        {
            tp_pose hd = expected_head(st);
            for (int e = 0; e < 2; e++) {
                tp_pose eye = tp_pose_mul(hd, (tp_pose){{e ? 0.0315 : -0.0315, 0, 0}, {0, 0, 0, 1}});
                check_pose(views[e].pose, eye, 1e-6, e ? "right eye" : "left eye");
                CHECK(views[e].fov.angleLeft < 0 && views[e].fov.angleRight > 0 && views[e].fov.angleUp > 0 &&
                          views[e].fov.angleDown < 0,
                      "fov");
            }
        }
        XrSpaceLocation lloc = {XR_TYPE_SPACE_LOCATION};
        OK(xrLocateSpace(view, local, T, &lloc));
        check_pose(lloc.pose, tp_pose_mul(tp_pose_inverse(local_in_stage), expected_head(st)), 1e-6, "head in LOCAL");

        for (int h = 0; h < 2; h++) {
            XrHandJointLocationEXT jl[XR_HAND_JOINT_COUNT_EXT];
            XrHandJointsLocateInfoEXT li = {XR_TYPE_HAND_JOINTS_LOCATE_INFO_EXT, NULL, stage, T};
            XrHandJointLocationsEXT locs = {XR_TYPE_HAND_JOINT_LOCATIONS_EXT, NULL, XR_FALSE, XR_HAND_JOINT_COUNT_EXT,
                                            jl};
            OK(locate_joints(tracker[h], &li, &locs));
            CHECK(locs.isActive, "hand %d active", h);
            for (int j = 0; j < XR_HAND_JOINT_COUNT_EXT; j++) {
                double radius;
                tp_pose want = expected_joint(st, h, j, &radius);
                char what[64];
                snprintf(what, sizeof what, "hand %d joint %d at %.4f s", h, j, st);
                check_pose(jl[j].pose, want, 1e-6, what);
                CHECK(fabs(jl[j].radius - radius) <= 1e-6, "%s radius %g vs %g", what, jl[j].radius, radius);
                CHECK(jl[j].locationFlags == loc.locationFlags, "%s flags", what);
            }
        }

        XrTime before = now_ns();
        OK(sync_actions(s, a.set));
        XrTime after = now_ns();
        for (int h = 0; h < 2; h++) {
            XrActionStateFloat sq = get_float(s, a.squeeze, h ? a.right : a.left);
            double lo = expected_squeeze((double)(before - t0) * 1e-9, h),
                   hi = expected_squeeze((double)(after - t0) * 1e-9, h);
            CHECK(sq.isActive && sq.currentState >= lo - 1e-6 && sq.currentState <= hi + 1e-6,
                  "squeeze %g not in [%g, %g]", sq.currentState, lo, hi);
        }
        checked_syncs++;
        XrSpaceLocation gloc = {XR_TYPE_SPACE_LOCATION};
        OK(xrLocateSpace(grip_right, stage, T, &gloc));
        double r_unused;
        check_pose(gloc.pose, expected_joint(st, 1, 0, &r_unused), 1e-6, "right grip");

        CHECK(returned < duration + 3.0, "no exit request after the source ended");
    }
    CHECK(frames > 20 && checked_syncs == frames - 1, "frames %d, checked %d", frames, checked_syncs);
    /* Not focused any more: actions are inactive. */
    EXPECT(XR_SESSION_NOT_FOCUSED, sync_actions(s, a.set));
    CHECK(!get_float(s, a.squeeze, a.left).isActive, "inactive when not focused");

    /* Time conversion both ways. */
    struct timespec ts;
    OK(to_timespec(inst, last, &ts));
    XrTime back;
    OK(from_timespec(inst, &ts, &back));
    CHECK(back == last, "round trip %lld vs %lld", (long long)back, (long long)last);
    struct timespec mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    XrTime conv;
    OK(from_timespec(inst, &mono, &conv));
    CHECK(conv == (XrTime)mono.tv_sec * 1000000000LL + mono.tv_nsec, "XrTime is CLOCK_MONOTONIC");

    OK(xrEndSession(s));
    expect_state(inst, s, XR_SESSION_STATE_IDLE);
    expect_state(inst, s, XR_SESSION_STATE_EXITING);
    for (int h = 0; h < 2; h++)
        OK(destroy_tracker(tracker[h]));
    OK(xrDestroySession(s));
    OK(xrDestroyInstance(inst));
}

/* Scripted controls, tracking loss, a profile switch and an exit. */
static void scenario_script(void)
{
    char db[512], script[512];
    snprintf(db, sizeof db, "%s/play.db", g_dir);
    snprintf(script, sizeof script, "%s/script.txt", g_dir);
    FILE *f = fopen(script, "w");
    CHECK(f, "script");
    fprintf(f, "# test script\n"
               "0.0 profile /interaction_profiles/oculus/touch_controller\n"
               "0.30 /user/hand/left/input/squeeze/value 0.75   # squeeze\n"
               "0.30 /user/hand/right/input/a/click 0\n"
               "0.40 /user/hand/right/input/thumbstick 0.5 -0.25\n"
               "0.45 /user/hand/left/input/menu/click 1\n"
               "0.50 tracking left_hand lost\n"
               "0.60 tracking left_hand found\n"
               "0.60 tracking head lost\n"
               "0.70 profile /interaction_profiles/valve/index_controller\n"
               "0.75 /user/hand/right/input/trigger/click 1\n"
               "0.90 exit\n");
    fclose(f);
    setenv("TELEOP_XR_REPLAY_SOURCE", db, 1);
    setenv("TELEOP_XR_REPLAY_SCRIPT", script, 1);
    setenv("TELEOP_XR_REPLAY_LOOP", "1", 1);
    XrInstance inst = create_instance(true, 3);
    XrSystemId sys = get_system(inst);
    XrSession s = create_session(inst, sys);
    expect_state(inst, s, XR_SESSION_STATE_IDLE);
    expect_state(inst, s, XR_SESSION_STATE_READY);
    actions a;
    make_actions(inst, &a);
    /* Before attach: no state, no profile. */
    XrActionStateGetInfo gi = {XR_TYPE_ACTION_STATE_GET_INFO, NULL, a.squeeze, XR_NULL_PATH};
    XrActionStateFloat fst = {XR_TYPE_ACTION_STATE_FLOAT};
    EXPECT(XR_ERROR_ACTIONSET_NOT_ATTACHED, xrGetActionStateFloat(s, &gi, &fst));
    suggest(inst, &a, "/interaction_profiles/oculus/touch_controller");
    suggest(inst, &a, "/interaction_profiles/valve/index_controller");
    attach(s, a.set);
    CHECK(poll(inst).type == XR_TYPE_EVENT_DATA_INTERACTION_PROFILE_CHANGED, "profile event");
    /* Attached but not running: inactive, no error. */
    EXPECT(XR_SESSION_NOT_FOCUSED, sync_actions(s, a.set));
    CHECK(!get_float(s, a.squeeze, XR_NULL_PATH).isActive, "inactive before the session runs");

    PROC(inst, xrCreateHandTrackerEXT, create_tracker);
    PROC(inst, xrLocateHandJointsEXT, locate_joints);
    XrHandTrackerEXT left;
    XrHandTrackerCreateInfoEXT tci = {XR_TYPE_HAND_TRACKER_CREATE_INFO_EXT, NULL, XR_HAND_LEFT_EXT,
                                      XR_HAND_JOINT_SET_DEFAULT_EXT};
    OK(create_tracker(s, &tci, &left));
    XrSpace stage = ref_space(s, XR_REFERENCE_SPACE_TYPE_STAGE), view = ref_space(s, XR_REFERENCE_SPACE_TYPE_VIEW);

    XrTime t0 = begin(inst, s);
    bool saw_index = false, saw_squeeze = false, saw_lost = false, saw_head_lost = false;
    XrTime last = 0;
    for (;;) {
        XrTime T = frame(s, t0, &last);
        XrTime before = now_ns();
        XrResult r = sync_actions(s, a.set);
        XrTime after = now_ns();
        double s0 = (double)(before - t0) * 1e-9, s1 = (double)(after - t0) * 1e-9;
        double sT = (double)(T - t0) * 1e-9;
        bool exited = false;
        for (XrEventDataBuffer e = poll(inst); e.type; e = poll(inst)) {
            if (e.type == XR_TYPE_EVENT_DATA_INTERACTION_PROFILE_CHANGED) {
                CHECK(s1 >= 0.70, "profile change at %.3f s", s1);
                XrInteractionProfileState ps = {XR_TYPE_INTERACTION_PROFILE_STATE};
                OK(xrGetCurrentInteractionProfile(s, a.right, &ps));
                char buf[256];
                uint32_t n;
                OK(xrPathToString(inst, ps.interactionProfile, sizeof buf, &n, buf));
                CHECK(strcmp(buf, "/interaction_profiles/valve/index_controller") == 0, "now %s", buf);
                saw_index = true;
                continue;
            }
            const XrEventDataSessionStateChanged *sc = (const XrEventDataSessionStateChanged *)&e;
            CHECK(e.type == XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED, "event %d", e.type);
            CHECK(s1 >= 0.90, "state %d at %.3f s", sc->state, s1);
            if (sc->state == XR_SESSION_STATE_STOPPING)
                exited = true;
        }
        if (exited)
            break;
        CHECK(r == XR_SUCCESS, "sync %d", r);
        XrActionStateFloat sq = get_float(s, a.squeeze, a.left);
        if (s0 >= 0.30)
            CHECK(sq.currentState == 0.75f, "scripted squeeze %g at %.3f s", sq.currentState, s0);
        else if (s1 < 0.30)
            CHECK(sq.currentState < 0.5f, "stream squeeze %g", sq.currentState);
        if (sq.currentState == 0.75f) {
            /* The first sync that sees it: changed, at the script's time. */
            if (!saw_squeeze) {
                CHECK(sq.changedSinceLastSync, "changed");
                CHECK(sq.lastChangeTime == t0 + 300000000, "lastChangeTime %lld, want t0 + 0.3 s",
                      (long long)(sq.lastChangeTime - t0));
            }
            saw_squeeze = true;
        }
        XrActionStateVector2f st = get_vec2(s, a.stick, a.right);
        if (s0 >= 0.40)
            CHECK(st.currentState.x == 0.5f && st.currentState.y == -0.25f, "stick %g %g", st.currentState.x,
                  st.currentState.y);
        XrActionStateBoolean ab = get_bool(s, a.a_click, a.right);
        if (s0 >= 0.30 && s1 < 0.70)
            CHECK(ab.isActive && !ab.currentState, "a/click overridden to 0");
        XrActionStateBoolean menu = get_bool(s, a.menu, XR_NULL_PATH);
        if (s0 >= 0.45 && s1 < 0.70)
            CHECK(menu.isActive && menu.currentState, "menu");
        if (s0 >= 0.70)
            CHECK(!menu.isActive, "menu is not bound on the index profile");
        XrActionStateFloat trig = get_float(s, a.trigger, a.right);
        if (s0 >= 0.75)
            CHECK(trig.currentState == 1.0f, "trigger/click 1 drives the trigger: %g", trig.currentState);

        XrHandJointLocationEXT jl[XR_HAND_JOINT_COUNT_EXT];
        XrHandJointsLocateInfoEXT li = {XR_TYPE_HAND_JOINTS_LOCATE_INFO_EXT, NULL, stage, T};
        XrHandJointLocationsEXT locs = {XR_TYPE_HAND_JOINT_LOCATIONS_EXT, NULL, XR_FALSE, XR_HAND_JOINT_COUNT_EXT, jl};
        OK(locate_joints(left, &li, &locs));
        if (sT >= 0.50 && sT < 0.60) {
            CHECK(!locs.isActive && jl[3].locationFlags == 0, "left hand lost at %.3f", sT);
            saw_lost = true;
        } else {
            CHECK(locs.isActive, "left hand at %.3f", sT);
        }
        XrSpaceLocation loc = {XR_TYPE_SPACE_LOCATION};
        OK(xrLocateSpace(view, stage, T, &loc));
        if (sT >= 0.60) {
            CHECK(loc.locationFlags == 0, "head lost");
            saw_head_lost = true;
        } else {
            CHECK(loc.locationFlags != 0, "head");
        }
        CHECK(s0 < 3.0, "no exit");
    }
    CHECK(saw_index && saw_squeeze && saw_lost && saw_head_lost, "script steps seen");
    OK(xrEndSession(s));
    expect_state(inst, s, XR_SESSION_STATE_IDLE);
    expect_state(inst, s, XR_SESSION_STATE_EXITING);
    OK(xrDestroySession(s));
    OK(xrDestroyInstance(inst));
    unsetenv("TELEOP_XR_REPLAY_SCRIPT");
}

static void write_script(const char *text)
{
    char script[512];
    snprintf(script, sizeof script, "%s/script.txt", g_dir);
    FILE *f = fopen(script, "w");
    CHECK(f, "script");
    fputs(text, f);
    fclose(f);
    setenv("TELEOP_XR_REPLAY_SCRIPT", script, 1);
}

/* Explicit exit, session loss, instance loss. */
static void scenario_lifecycle(void)
{
    unsetenv("TELEOP_XR_REPLAY_SCRIPT");
    setenv("TELEOP_XR_REPLAY_LOOP", "1", 1);
    XrInstance inst = create_instance(true, 1);
    XrSession s = create_session(inst, get_system(inst));
    expect_state(inst, s, XR_SESSION_STATE_IDLE);
    expect_state(inst, s, XR_SESSION_STATE_READY);
    EXPECT(XR_ERROR_SESSION_NOT_RUNNING, xrRequestExitSession(s));
    XrFrameState fs = {XR_TYPE_FRAME_STATE};
    EXPECT(XR_ERROR_SESSION_NOT_RUNNING, xrWaitFrame(s, NULL, &fs));
    XrTime t0 = begin(inst, s);
    XrSessionBeginInfo bi = {XR_TYPE_SESSION_BEGIN_INFO, NULL, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO};
    EXPECT(XR_ERROR_SESSION_RUNNING, xrBeginSession(s, &bi));
    EXPECT(XR_ERROR_SESSION_NOT_STOPPING, xrEndSession(s));
    XrTime last = 0;
    frame(s, t0, &last);
    OK(xrRequestExitSession(s));
    expect_state(inst, s, XR_SESSION_STATE_VISIBLE);
    expect_state(inst, s, XR_SESSION_STATE_SYNCHRONIZED);
    expect_state(inst, s, XR_SESSION_STATE_STOPPING);
    OK(xrEndSession(s));
    expect_state(inst, s, XR_SESSION_STATE_IDLE);
    expect_state(inst, s, XR_SESSION_STATE_EXITING);
    OK(xrDestroySession(s));
    OK(xrDestroyInstance(inst));

    /* Session loss: LOSS_PENDING, then the session is lost; a new one can
     * be created. */
    write_script("0.1 session_loss\n");
    inst = create_instance(false, 1);
    XrSystemId sys = get_system(inst);
    s = create_session(inst, sys);
    expect_state(inst, s, XR_SESSION_STATE_IDLE);
    expect_state(inst, s, XR_SESSION_STATE_READY);
    begin(inst, s);
    usleep(150000);
    expect_state(inst, s, XR_SESSION_STATE_LOSS_PENDING);
    EXPECT(XR_ERROR_SESSION_LOST, xrWaitFrame(s, NULL, &fs));
    EXPECT(XR_ERROR_SESSION_LOST, xrRequestExitSession(s));
    OK(xrDestroySession(s));
    s = create_session(inst, sys);
    OK(xrDestroySession(s));
    expect_no_event(inst); /* no events naming a destroyed session */
    s = create_session(inst, sys);
    expect_state(inst, s, XR_SESSION_STATE_IDLE);
    OK(xrDestroySession(s));
    OK(xrDestroyInstance(inst));

    /* Instance loss. */
    write_script("# lose it\n0.1 instance_loss\n");
    inst = create_instance(false, 1);
    s = create_session(inst, get_system(inst));
    expect_state(inst, s, XR_SESSION_STATE_IDLE);
    expect_state(inst, s, XR_SESSION_STATE_READY);
    begin(inst, s);
    usleep(150000);
    XrEventDataBuffer ev = poll(inst);
    CHECK(ev.type == XR_TYPE_EVENT_DATA_INSTANCE_LOSS_PENDING, "instance loss event, got %d", ev.type);
    XrEventDataBuffer ev2 = {XR_TYPE_EVENT_DATA_BUFFER};
    EXPECT(XR_ERROR_INSTANCE_LOST, xrPollEvent(inst, &ev2));
    EXPECT(XR_ERROR_INSTANCE_LOST, xrWaitFrame(s, NULL, &fs));
    OK(xrDestroyInstance(inst));
    unsetenv("TELEOP_XR_REPLAY_SCRIPT");
}

/* Invalid calls the runtime itself must answer (no validation layer). */
static void scenario_errors(void)
{
    unsetenv("TELEOP_XR_REPLAY_SCRIPT");
    XrInstanceCreateInfo ci = {XR_TYPE_INSTANCE_CREATE_INFO};
    snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName, "errors");
    ci.applicationInfo.apiVersion = XR_MAKE_VERSION(1, 0, 0);
    const char *bad_ext[] = {"XR_KHR_vulkan_enable"};
    ci.enabledExtensionCount = 1;
    ci.enabledExtensionNames = bad_ext;
    XrInstance inst;
    EXPECT(XR_ERROR_EXTENSION_NOT_PRESENT, xrCreateInstance(&ci, &inst));

    inst = create_instance(false, 1); /* headless only */
    PFN_xrVoidFunction fn = (PFN_xrVoidFunction)1;
    EXPECT(XR_ERROR_FUNCTION_UNSUPPORTED, xrGetInstanceProcAddr(inst, "xrNoSuchFunction", &fn));
    CHECK(fn == NULL, "unsupported function pointer must be NULL");
    EXPECT(XR_ERROR_FUNCTION_UNSUPPORTED, xrGetInstanceProcAddr(inst, "xrCreateHandTrackerEXT", &fn));
    EXPECT(XR_ERROR_FUNCTION_UNSUPPORTED, xrGetInstanceProcAddr(inst, "xrConvertTimeToTimespecTimeKHR", &fn));
    OK(xrGetInstanceProcAddr(inst, "xrLocateViews", &fn));

    XrSystemGetInfo gi = {XR_TYPE_SYSTEM_GET_INFO, NULL, XR_FORM_FACTOR_HANDHELD_DISPLAY};
    XrSystemId sys;
    EXPECT(XR_ERROR_FORM_FACTOR_UNSUPPORTED, xrGetSystem(inst, &gi, &sys));
    gi.type = XR_TYPE_SESSION_CREATE_INFO;
    gi.formFactor = XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY;
    EXPECT(XR_ERROR_VALIDATION_FAILURE, xrGetSystem(inst, &gi, &sys));
    sys = get_system(inst);
    XrSystemProperties sp = {XR_TYPE_SYSTEM_PROPERTIES};
    EXPECT(XR_ERROR_SYSTEM_INVALID, xrGetSystemProperties(inst, sys + 7, &sp));
    EXPECT(XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED,
           xrEnumerateViewConfigurationViews(inst, sys, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_MONO, 0, &(uint32_t){0},
                                             NULL));

    XrPath p;
    EXPECT(XR_ERROR_PATH_FORMAT_INVALID, xrStringToPath(inst, "no/leading/slash", &p));
    EXPECT(XR_ERROR_PATH_FORMAT_INVALID, xrStringToPath(inst, "/Upper", &p));
    EXPECT(XR_ERROR_PATH_FORMAT_INVALID, xrStringToPath(inst, "/a//b", &p));
    EXPECT(XR_ERROR_PATH_FORMAT_INVALID, xrStringToPath(inst, "/a/", &p));
    EXPECT(XR_ERROR_PATH_INVALID, xrPathToString(inst, 987654, 0, &(uint32_t){0}, NULL));
    p = path(inst, "/user/hand/left");
    uint32_t n;
    char small[4];
    EXPECT(XR_ERROR_SIZE_INSUFFICIENT, xrPathToString(inst, p, sizeof small, &n, small));
    CHECK(n == strlen("/user/hand/left") + 1, "needed %u", n);
    char res[XR_MAX_RESULT_STRING_SIZE];
    OK(xrResultToString(inst, XR_ERROR_PATH_UNSUPPORTED, res));
    CHECK(strcmp(res, "XR_ERROR_PATH_UNSUPPORTED") == 0, "%s", res);
    OK(xrResultToString(inst, (XrResult)-999999, res));
    CHECK(strcmp(res, "XR_UNKNOWN_FAILURE_-999999") == 0, "%s", res);
    char sname[XR_MAX_STRUCTURE_NAME_SIZE];
    OK(xrStructureTypeToString(inst, XR_TYPE_HAND_JOINT_LOCATIONS_EXT, sname));
    CHECK(strcmp(sname, "XR_TYPE_HAND_JOINT_LOCATIONS_EXT") == 0, "%s", sname);

    /* Wrong structure type. */
    XrSessionCreateInfo sci = {XR_TYPE_SESSION_BEGIN_INFO, NULL, 0, sys};
    XrSession s;
    EXPECT(XR_ERROR_VALIDATION_FAILURE, xrCreateSession(inst, &sci, &s));
    sci.type = XR_TYPE_SESSION_CREATE_INFO;
    s = create_session(inst, sys);
    EXPECT(XR_ERROR_LIMIT_REACHED, xrCreateSession(inst, &sci, &(XrSession){0}));
    /* Null and stale handles. */
    EXPECT(XR_ERROR_HANDLE_INVALID, xrRequestExitSession(XR_NULL_HANDLE));
    XrSpace sp_bad = (XrSpace)(uintptr_t)0x1234;
    XrSpaceLocation loc = {XR_TYPE_SPACE_LOCATION};
    EXPECT(XR_ERROR_HANDLE_INVALID, xrLocateSpace(sp_bad, sp_bad, 1, &loc));
    XrSpace stage = ref_space(s, XR_REFERENCE_SPACE_TYPE_STAGE);
    OK(xrDestroySpace(stage));
    EXPECT(XR_ERROR_HANDLE_INVALID, xrDestroySpace(stage));
    XrReferenceSpaceCreateInfo rci = {XR_TYPE_REFERENCE_SPACE_CREATE_INFO, NULL, XR_REFERENCE_SPACE_TYPE_STAGE,
                                      {{0, 0, 0, 2}, {0, 0, 0}}};
    EXPECT(XR_ERROR_POSE_INVALID, xrCreateReferenceSpace(s, &rci, &stage));
    rci.referenceSpaceType = XR_REFERENCE_SPACE_TYPE_UNBOUNDED_MSFT;
    rci.poseInReferenceSpace.orientation.w = 1;
    EXPECT(XR_ERROR_REFERENCE_SPACE_UNSUPPORTED, xrCreateReferenceSpace(s, &rci, &stage));
    stage = ref_space(s, XR_REFERENCE_SPACE_TYPE_STAGE);
    EXPECT(XR_ERROR_TIME_INVALID, xrLocateSpace(stage, stage, 0, &loc));

    /* Swapchains in a headless session. */
    OK(xrEnumerateSwapchainFormats(s, 0, &n, NULL));
    CHECK(n == 0, "headless has no formats");
    XrSwapchainCreateInfo swci = {XR_TYPE_SWAPCHAIN_CREATE_INFO};
    XrSwapchain sw;
    EXPECT(XR_ERROR_SWAPCHAIN_FORMAT_UNSUPPORTED, xrCreateSwapchain(s, &swci, &sw));

    /* Frame call order. */
    XrFrameEndInfo fe = {XR_TYPE_FRAME_END_INFO, NULL, 1, XR_ENVIRONMENT_BLEND_MODE_OPAQUE, 0, NULL};
    EXPECT(XR_ERROR_SESSION_NOT_RUNNING, xrBeginFrame(s, NULL));
    expect_state(inst, s, XR_SESSION_STATE_IDLE);
    expect_state(inst, s, XR_SESSION_STATE_READY);

    /* Actions. */
    actions a;
    make_actions(inst, &a);
    XrActionSetCreateInfo dup = {XR_TYPE_ACTION_SET_CREATE_INFO, NULL, "teleop", "Other", 0};
    XrActionSet set2;
    EXPECT(XR_ERROR_NAME_DUPLICATED, xrCreateActionSet(inst, &dup, &set2));
    XrActionSetCreateInfo badname = {XR_TYPE_ACTION_SET_CREATE_INFO, NULL, "Bad Name", "Bad", 0};
    EXPECT(XR_ERROR_PATH_FORMAT_INVALID, xrCreateActionSet(inst, &badname, &set2));
    XrPath head = path(inst, "/user/head"), bogus = path(inst, "/user/hand/middle");
    XrActionCreateInfo aci = {XR_TYPE_ACTION_CREATE_INFO, NULL, "x", XR_ACTION_TYPE_FLOAT_INPUT, 1, &bogus, "X"};
    XrAction ax;
    EXPECT(XR_ERROR_PATH_UNSUPPORTED, xrCreateAction(a.set, &aci, &ax));
    XrActionSuggestedBinding bb = {a.squeeze, path(inst, "/user/hand/left/input/squeeze/value")};
    XrInteractionProfileSuggestedBinding sb = {XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING, NULL,
                                               path(inst, "/interaction_profiles/acme/controller"), 1, &bb};
    EXPECT(XR_ERROR_PATH_UNSUPPORTED, xrSuggestInteractionProfileBindings(inst, &sb));
    sb.interactionProfile = path(inst, "/interaction_profiles/khr/simple_controller");
    EXPECT(XR_ERROR_PATH_UNSUPPORTED, xrSuggestInteractionProfileBindings(inst, &sb)); /* no squeeze there */
    sb.interactionProfile = path(inst, "/interaction_profiles/htc/vive_controller");
    bb.binding = path(inst, "/user/hand/left/input/thumbstick/x");
    EXPECT(XR_ERROR_PATH_UNSUPPORTED, xrSuggestInteractionProfileBindings(inst, &sb));
    EXPECT(XR_ERROR_ACTIONSET_NOT_ATTACHED, sync_actions(s, a.set));
    XrInteractionProfileState ps = {XR_TYPE_INTERACTION_PROFILE_STATE};
    EXPECT(XR_ERROR_ACTIONSET_NOT_ATTACHED, xrGetCurrentInteractionProfile(s, a.left, &ps));
    suggest(inst, &a, "/interaction_profiles/htc/vive_controller");
    attach(s, a.set);
    XrSessionActionSetsAttachInfo ai = {XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO, NULL, 1, &a.set};
    EXPECT(XR_ERROR_ACTIONSETS_ALREADY_ATTACHED, xrAttachSessionActionSets(s, &ai));
    EXPECT(XR_ERROR_ACTIONSETS_ALREADY_ATTACHED, xrSuggestInteractionProfileBindings(inst, &sb));
    aci.countSubactionPaths = 0;
    EXPECT(XR_ERROR_ACTIONSETS_ALREADY_ATTACHED, xrCreateAction(a.set, &aci, &ax));
    EXPECT(XR_ERROR_PATH_UNSUPPORTED, xrGetCurrentInteractionProfile(s, bogus, &ps));
    OK(xrGetCurrentInteractionProfile(s, head, &ps));
    CHECK(ps.interactionProfile == XR_NULL_PATH, "no head profile");
    XrActionStateGetInfo sgi = {XR_TYPE_ACTION_STATE_GET_INFO, NULL, a.squeeze, XR_NULL_PATH};
    XrActionStateBoolean bst = {XR_TYPE_ACTION_STATE_BOOLEAN};
    EXPECT(XR_ERROR_ACTION_TYPE_MISMATCH, xrGetActionStateBoolean(s, &sgi, &bst));
    sgi.subactionPath = head;
    XrActionStateFloat fst = {XR_TYPE_ACTION_STATE_FLOAT};
    EXPECT(XR_ERROR_PATH_UNSUPPORTED, xrGetActionStateFloat(s, &sgi, &fst));
    sgi.subactionPath = XR_NULL_PATH;
    OK(xrGetActionStateFloat(s, &sgi, &fst));
    CHECK(!fst.isActive, "not running: inactive");
    XrActiveActionSet as = {a.set, head};
    XrActionsSyncInfo si = {XR_TYPE_ACTIONS_SYNC_INFO, NULL, 1, &as};
    EXPECT(XR_ERROR_PATH_UNSUPPORTED, xrSyncActions(s, &si));

    /* Bound sources and names on the Vive profile. */
    XrBoundSourcesForActionEnumerateInfo bse = {XR_TYPE_BOUND_SOURCES_FOR_ACTION_ENUMERATE_INFO, NULL, a.stick};
    XrPath srcs[4];
    OK(xrEnumerateBoundSourcesForAction(s, &bse, 4, &n, srcs));
    CHECK(n == 2, "stick sources %u", n);
    char buf[256];
    OK(xrPathToString(inst, srcs[0], sizeof buf, &n, buf));
    CHECK(strcmp(buf, "/user/hand/left/input/trackpad") == 0, "%s", buf);
    XrInputSourceLocalizedNameGetInfo lni = {XR_TYPE_INPUT_SOURCE_LOCALIZED_NAME_GET_INFO, NULL, srcs[0],
                                             XR_INPUT_SOURCE_LOCALIZED_NAME_USER_PATH_BIT |
                                                 XR_INPUT_SOURCE_LOCALIZED_NAME_COMPONENT_BIT};
    OK(xrGetInputSourceLocalizedName(s, &lni, sizeof buf, &n, buf));
    CHECK(strcmp(buf, "Left Hand Trackpad") == 0, "%s", buf);
    lni.whichComponents = 0;
    EXPECT(XR_ERROR_VALIDATION_FAILURE, xrGetInputSourceLocalizedName(s, &lni, sizeof buf, &n, buf));

    /* Hand tracking with a wrong joint count. */
    xrDestroyInstance(inst);
    inst = create_instance(false, 2);
    sys = get_system(inst);
    s = create_session(inst, sys);
    expect_state(inst, s, XR_SESSION_STATE_IDLE);
    expect_state(inst, s, XR_SESSION_STATE_READY);
    PROC(inst, xrCreateHandTrackerEXT, create_tracker);
    PROC(inst, xrLocateHandJointsEXT, locate_joints);
    XrHandTrackerEXT tr;
    XrHandTrackerCreateInfoEXT tci = {XR_TYPE_HAND_TRACKER_CREATE_INFO_EXT, NULL, (XrHandEXT)3,
                                      XR_HAND_JOINT_SET_DEFAULT_EXT};
    EXPECT(XR_ERROR_VALIDATION_FAILURE, create_tracker(s, &tci, &tr));
    tci.hand = XR_HAND_LEFT_EXT;
    OK(create_tracker(s, &tci, &tr));
    stage = ref_space(s, XR_REFERENCE_SPACE_TYPE_STAGE);
    XrHandJointLocationEXT jl[XR_HAND_JOINT_COUNT_EXT];
    XrHandJointsLocateInfoEXT li = {XR_TYPE_HAND_JOINTS_LOCATE_INFO_EXT, NULL, stage, now_ns()};
    XrHandJointLocationsEXT locs = {XR_TYPE_HAND_JOINT_LOCATIONS_EXT, NULL, XR_FALSE, 25, jl};
    EXPECT(XR_ERROR_VALIDATION_FAILURE, locate_joints(tr, &li, &locs));
    locs.jointCount = XR_HAND_JOINT_COUNT_EXT;
    OK(locate_joints(tr, &li, &locs));
    CHECK(!locs.isActive && jl[0].locationFlags == 0, "not focused: no hand");
    /* Frame order while running. */
    begin(inst, s);
    EXPECT(XR_ERROR_CALL_ORDER_INVALID, xrBeginFrame(s, NULL));
    EXPECT(XR_ERROR_CALL_ORDER_INVALID, xrEndFrame(s, &fe));
    XrFrameState fs = {XR_TYPE_FRAME_STATE};
    OK(xrWaitFrame(s, NULL, &fs));
    OK(xrBeginFrame(s, NULL));
    fe.environmentBlendMode = XR_ENVIRONMENT_BLEND_MODE_ADDITIVE;
    fe.displayTime = fs.predictedDisplayTime;
    EXPECT(XR_ERROR_ENVIRONMENT_BLEND_MODE_UNSUPPORTED, xrEndFrame(s, &fe));
    OK(xrWaitFrame(s, NULL, &fs));
    EXPECT(XR_FRAME_DISCARDED, xrBeginFrame(s, NULL));
    fe.environmentBlendMode = XR_ENVIRONMENT_BLEND_MODE_OPAQUE;
    OK(xrEndFrame(s, &fe));
    xrDestroyInstance(inst);

    /* A graphics binding, or no headless extension: no session. */
    inst = create_instance(false, 0);
    sys = get_system(inst);
    EXPECT(XR_ERROR_GRAPHICS_DEVICE_INVALID, xrCreateSession(inst, &sci, &s));
    xrDestroyInstance(inst);
}

/* Bad sources and scripts fail xrCreateInstance with one line naming them. */
static void expect_create_fails(const char *needle)
{
    char log[512];
    snprintf(log, sizeof log, "%s/stderr.txt", g_dir);
    fflush(stderr);
    int saved = dup(2);
    FILE *f = freopen(log, "w", stderr);
    CHECK(f, "redirect");
    XrInstanceCreateInfo ci = {XR_TYPE_INSTANCE_CREATE_INFO};
    snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName, "bad");
    ci.applicationInfo.apiVersion = XR_MAKE_VERSION(1, 0, 0);
    XrInstance inst;
    XrResult r = xrCreateInstance(&ci, &inst);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CHECK(r == XR_ERROR_RUNTIME_FAILURE, "bad input: xrCreateInstance returned %d", r);
    char text[2048] = "";
    f = fopen(log, "r");
    size_t got = fread(text, 1, sizeof text - 1, f);
    text[got] = '\0';
    fclose(f);
    CHECK(strstr(text, needle), "stderr '%s' lacks '%s'", text, needle);
}

static void scenario_bad_input(void)
{
    char db[512], csv[512], script[512];
    snprintf(db, sizeof db, "%s/play.db", g_dir);
    snprintf(csv, sizeof csv, "%s/bad.csv", g_dir);
    snprintf(script, sizeof script, "%s/script.txt", g_dir);
    setenv("TELEOP_XR_REPLAY_SOURCE", db, 1);
    write_script("0.1 /user/hand/left/input/squeeze/value 0.5\n0.2 /user/hand/left/input/bogus/click 1\n");
    char needle[600];
    snprintf(needle, sizeof needle, "%s:2: /user/hand/left/input/bogus/click is not an input of", script);
    expect_create_fails(needle);
    write_script("0.5 exit\n0.2 exit\n");
    snprintf(needle, sizeof needle, "%s:2: time 0.2 is before", script);
    expect_create_fails(needle);
    write_script("0.5 tracking nose lost\n");
    snprintf(needle, sizeof needle, "%s:1:", script);
    expect_create_fails(needle);
    unsetenv("TELEOP_XR_REPLAY_SCRIPT");
    FILE *f = fopen(csv, "w");
    fputs("t_s,head.px\n0,1\n", f);
    fclose(f);
    setenv("TELEOP_XR_REPLAY_SOURCE", csv, 1);
    snprintf(needle, sizeof needle, "%s:1: column 3", csv);
    expect_create_fails(needle);
    /* An episode without an operator stream, and one with the wrong dims. */
    char ep[512];
    snprintf(ep, sizeof ep, "%s/noop.db", g_dir);
    for (int variant = 0; variant < 2; variant++) {
        unlink(ep);
        char err[512];
        tp_episode_writer *w = tp_episode_writer_create(ep, err, sizeof err);
        CHECK(w, "%s", err);
        tp_stream_desc d = {.name = variant ? "operator" : "state", .kind = variant ? TP_STREAM_OPERATOR : TP_STREAM_STATE,
                            .dims = 3, .rate_hz = 10};
        int id = tp_episode_writer_add_stream(w, &d);
        CHECK(id > 0, "add_stream");
        CHECK(tp_episode_writer_begin(w) == 0 &&
                  tp_episode_writer_sample(w, id, 0, 1000, (const float[3]){1, 2, 3}, 3) == 0 &&
                  tp_episode_writer_commit(w) == 0 && tp_episode_writer_finish(w, "ok") == 0,
              "write");
        tp_episode_writer_close(w);
        setenv("TELEOP_XR_REPLAY_SOURCE", ep, 1);
        snprintf(needle, sizeof needle, variant ? "%s: stream 'operator' has 3 dims, expected 523" : "%s: no 'operator' stream", ep);
        expect_create_fails(needle);
    }
    unlink(ep);
    setenv("TELEOP_XR_REPLAY_SOURCE", "/nonexistent/episode.db", 1);
    expect_create_fails("/nonexistent/episode.db");
    setenv("TELEOP_XR_REPLAY_SOURCE", db, 1);
    setenv("TELEOP_XR_REPLAY_LOOP", "yes", 1);
    expect_create_fails("TELEOP_XR_REPLAY_LOOP");
    setenv("TELEOP_XR_REPLAY_LOOP", "0", 1);
}

static void write_csv(const char *path)
{
    FILE *f = fopen(path, "w");
    CHECK(f, "%s", path);
    fputs("t_s", f);
    for (size_t d = 0; d < TP_OPERATOR_DIMS; d++) {
        char name[64];
        tp_operator_dim_name(d, name, sizeof name);
        fprintf(f, ",%s", name);
    }
    fputc('\n', f);
    for (int i = 0; i < ROWS; i++) {
        float v[TP_OPERATOR_DIMS];
        tp_operator_pack(&g_frames[i], v);
        fprintf(f, "%.17g", (double)(g_t_ns[i] - g_t_ns[0]) * 1e-9);
        for (int d = 0; d < TP_OPERATOR_DIMS; d++)
            fprintf(f, ",%.9g", v[d]);
        fputc('\n', f);
    }
    fclose(f);
}

/* A CSV source, looped: poses at arbitrary times (xrLocateSpace takes any
 * time) wrap around; played once they hold the last frame; before t0 the
 * first. */
static void scenario_csv_loop(void)
{
    char csv[512];
    snprintf(csv, sizeof csv, "%s/play.csv", g_dir);
    write_csv(csv);
    setenv("TELEOP_XR_REPLAY_SOURCE", csv, 1);
    unsetenv("TELEOP_XR_REPLAY_SCRIPT");
    double duration = (double)(g_t_ns[ROWS - 1] - g_t_ns[0]) * 1e-9;
    for (int loop = 0; loop < 2; loop++) {
        setenv("TELEOP_XR_REPLAY_LOOP", loop ? "1" : "0", 1);
        XrInstance inst = create_instance(true, 2);
        XrSession s = create_session(inst, get_system(inst));
        expect_state(inst, s, XR_SESSION_STATE_IDLE);
        expect_state(inst, s, XR_SESSION_STATE_READY);
        XrSpace stage = ref_space(s, XR_REFERENCE_SPACE_TYPE_STAGE), view = ref_space(s, XR_REFERENCE_SPACE_TYPE_VIEW);
        PROC(inst, xrCreateHandTrackerEXT, create_tracker);
        PROC(inst, xrLocateHandJointsEXT, locate_joints);
        XrHandTrackerEXT right;
        XrHandTrackerCreateInfoEXT tci = {XR_TYPE_HAND_TRACKER_CREATE_INFO_EXT, NULL, XR_HAND_RIGHT_EXT,
                                          XR_HAND_JOINT_SET_DEFAULT_EXT};
        OK(create_tracker(s, &tci, &right));
        XrTime t0 = begin(inst, s);
        for (int k = -3; k < 200; k++) {
            XrTime T = t0 + (XrTime)k * 13700000 + 12345;
            double st = (double)(T - t0) * 1e-9, want = st < 0 ? 0 : st;
            if (loop)
                want = fmod(want, duration);
            else if (want > duration)
                want = duration;
            XrSpaceLocation loc = {XR_TYPE_SPACE_LOCATION};
            OK(xrLocateSpace(view, stage, T, &loc));
            char what[64];
            snprintf(what, sizeof what, "head at %.4f s (loop %d)", st, loop);
            check_pose(loc.pose, expected_head(want), 1e-6, what);
            XrHandJointLocationEXT jl[XR_HAND_JOINT_COUNT_EXT];
            XrHandJointsLocateInfoEXT li = {XR_TYPE_HAND_JOINTS_LOCATE_INFO_EXT, NULL, stage, T};
            XrHandJointLocationsEXT locs = {XR_TYPE_HAND_JOINT_LOCATIONS_EXT, NULL, XR_FALSE, XR_HAND_JOINT_COUNT_EXT,
                                            jl};
            OK(locate_joints(right, &li, &locs));
            CHECK(locs.isActive, "right hand");
            for (int j = 0; j < XR_HAND_JOINT_COUNT_EXT; j++) {
                double radius;
                snprintf(what, sizeof what, "right joint %d at %.4f s (loop %d)", j, st, loop);
                check_pose(jl[j].pose, expected_joint(want, 1, j, &radius), 1e-6, what);
                CHECK(fabs(jl[j].radius - radius) <= 1e-6, "%s radius", what);
            }
        }
        OK(xrDestroySession(s));
        OK(xrDestroyInstance(inst));
    }
    unlink(csv);
}

/* ---- the runtime without the loader ----
 * dlopen + negotiation by hand: checks the single export and the
 * negotiation answers, and runs a full object lifecycle with only the test
 * and the runtime in the stack (the sanitizer run leak-checks the runtime
 * here; the loader's own leaks are suppressed). Structures declared from
 * the loader specification. */

typedef struct {
    int type;
    uint32_t version;
    size_t size;
    uint32_t min_interface, max_interface;
    XrVersion min_api, max_api;
} loader_info;

typedef struct {
    int type;
    uint32_t version;
    size_t size;
    uint32_t interface_version;
    XrVersion api_version;
    PFN_xrGetInstanceProcAddr gipa;
} runtime_request;

static PFN_xrGetInstanceProcAddr g_gipa;

static PFN_xrVoidFunction fn(XrInstance inst, const char *name)
{
    PFN_xrVoidFunction f = NULL;
    XrResult r = g_gipa(inst, name, &f);
    CHECK(r == XR_SUCCESS && f, "%s: %d", name, r);
    return f;
}
#define FN(inst, name) ((PFN_##name)fn(inst, #name))

static void scenario_direct(const char *manifest)
{
    FILE *f = fopen(manifest, "r");
    CHECK(f, "%s", manifest);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    char *lib = strstr(text, "\"library_path\"");
    CHECK(lib, "library_path in %s", manifest);
    lib = strchr(strchr(lib + 14, ':'), '"') + 1;
    *strchr(lib, '"') = '\0';
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    CHECK(h, "dlopen %s: %s", lib, dlerror());
    typedef XrResult (*negotiate_fn)(const loader_info *, runtime_request *);
    negotiate_fn negotiate = (negotiate_fn)dlsym(h, "xrNegotiateLoaderRuntimeInterface");
    CHECK(negotiate, "negotiation symbol");
    CHECK(!dlsym(h, "xrCreateInstance") && !dlsym(h, "rt_xrCreateInstance") && !dlsym(h, "tp_motion_load") &&
              !dlsym(h, "tp_episode_open") && !dlsym(h, "rt_handle_new"),
          "the runtime exports more than the negotiation function");
    loader_info li = {1, 1, sizeof li, 1, 1, XR_MAKE_VERSION(1, 0, 0), XR_MAKE_VERSION(1, 0, 0xFFFFFFFF)};
    runtime_request rq = {3, 1, sizeof rq, 0, 0, NULL};
    li.version = 2;
    EXPECT(XR_ERROR_INITIALIZATION_FAILED, negotiate(&li, &rq));
    li.version = 1;
    li.min_interface = li.max_interface = 2;
    EXPECT(XR_ERROR_INITIALIZATION_FAILED, negotiate(&li, &rq));
    li.min_interface = li.max_interface = 1;
    OK(negotiate(&li, &rq));
    CHECK(rq.interface_version == 1 && rq.gipa && XR_VERSION_MAJOR(rq.api_version) == 1, "negotiated");
    g_gipa = rq.gipa;

    PFN_xrVoidFunction pf;
    EXPECT(XR_ERROR_HANDLE_INVALID, g_gipa(XR_NULL_HANDLE, "xrGetSystem", &pf));
    uint32_t count;
    OK(FN(XR_NULL_HANDLE, xrEnumerateInstanceExtensionProperties)(NULL, 0, &count, NULL));
    CHECK(count == 4, "extensions %u", count);
    XrExtensionProperties props[4] = {{XR_TYPE_EXTENSION_PROPERTIES}, {XR_TYPE_EXTENSION_PROPERTIES},
                                      {XR_TYPE_EXTENSION_PROPERTIES}, {XR_TYPE_EXTENSION_PROPERTIES}};
    EXPECT(XR_ERROR_SIZE_INSUFFICIENT, FN(XR_NULL_HANDLE, xrEnumerateInstanceExtensionProperties)(NULL, 3, &count, props));
    OK(FN(XR_NULL_HANDLE, xrEnumerateInstanceExtensionProperties)(NULL, 4, &count, props));
    CHECK(strcmp(props[0].extensionName, XR_MND_HEADLESS_EXTENSION_NAME) == 0 &&
              strcmp(props[1].extensionName, XR_EXT_HAND_TRACKING_EXTENSION_NAME) == 0 &&
              strcmp(props[2].extensionName, XR_KHR_CONVERT_TIMESPEC_TIME_EXTENSION_NAME) == 0 &&
              strcmp(props[3].extensionName, "XR_KHR_opengl_enable") == 0,
          "extension names");

    write_script("0.0 /user/hand/left/input/squeeze/value 1\n0.05 exit\n");
    setenv("TELEOP_XR_REPLAY_LOOP", "1", 1);
    for (int round = 0; round < 2; round++) {
        XrInstanceCreateInfo ci = {XR_TYPE_INSTANCE_CREATE_INFO};
        snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName, "direct");
        ci.applicationInfo.apiVersion = XR_MAKE_VERSION(1, 0, 0);
        ci.enabledExtensionCount = 3;
        ci.enabledExtensionNames = all_ext;
        XrInstance inst;
        ci.applicationInfo.apiVersion = XR_MAKE_VERSION(2, 0, 0);
        EXPECT(XR_ERROR_API_VERSION_UNSUPPORTED, FN(XR_NULL_HANDLE, xrCreateInstance)(&ci, &inst));
        ci.applicationInfo.apiVersion = XR_MAKE_VERSION(1, 0, 0);
        OK(FN(XR_NULL_HANDLE, xrCreateInstance)(&ci, &inst));
        XrSystemGetInfo gi = {XR_TYPE_SYSTEM_GET_INFO, NULL, XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY};
        XrSystemId sys;
        OK(FN(inst, xrGetSystem)(inst, &gi, &sys));
        XrSessionCreateInfo sci = {XR_TYPE_SESSION_CREATE_INFO, NULL, 0, sys};
        XrSession s;
        OK(FN(inst, xrCreateSession)(inst, &sci, &s));
        XrReferenceSpaceCreateInfo rci = {XR_TYPE_REFERENCE_SPACE_CREATE_INFO, NULL, XR_REFERENCE_SPACE_TYPE_LOCAL,
                                          {{0, 0, 0, 1}, {0, 0, 0}}};
        XrSpace local;
        OK(FN(inst, xrCreateReferenceSpace)(s, &rci, &local));
        XrHandTrackerCreateInfoEXT tci = {XR_TYPE_HAND_TRACKER_CREATE_INFO_EXT, NULL, XR_HAND_LEFT_EXT,
                                          XR_HAND_JOINT_SET_DEFAULT_EXT};
        XrHandTrackerEXT tr;
        OK(FN(inst, xrCreateHandTrackerEXT)(s, &tci, &tr));
        XrActionSetCreateInfo asci = {XR_TYPE_ACTION_SET_CREATE_INFO, NULL, "direct", "Direct", 0};
        XrActionSet set;
        OK(FN(inst, xrCreateActionSet)(inst, &asci, &set));
        XrPath left;
        OK(FN(inst, xrStringToPath)(inst, "/user/hand/left/input/squeeze/value", &left));
        XrActionCreateInfo aci = {XR_TYPE_ACTION_CREATE_INFO, NULL, "squeeze", XR_ACTION_TYPE_FLOAT_INPUT, 0, NULL,
                                  "Squeeze"};
        XrAction act;
        OK(FN(inst, xrCreateAction)(set, &aci, &act));
        XrActionSuggestedBinding b = {act, left};
        XrPath prof;
        OK(FN(inst, xrStringToPath)(inst, "/interaction_profiles/oculus/touch_controller", &prof));
        XrInteractionProfileSuggestedBinding sb = {XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING, NULL, prof, 1, &b};
        OK(FN(inst, xrSuggestInteractionProfileBindings)(inst, &sb));
        XrSessionActionSetsAttachInfo ai = {XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO, NULL, 1, &set};
        OK(FN(inst, xrAttachSessionActionSets)(s, &ai));
        XrSessionBeginInfo bi = {XR_TYPE_SESSION_BEGIN_INFO, NULL, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO};
        OK(FN(inst, xrBeginSession)(s, &bi));
        XrActiveActionSet as = {set, XR_NULL_PATH};
        XrActionsSyncInfo si = {XR_TYPE_ACTIONS_SYNC_INFO, NULL, 1, &as};
        OK(FN(inst, xrSyncActions)(s, &si));
        XrActionStateGetInfo sgi = {XR_TYPE_ACTION_STATE_GET_INFO, NULL, act, XR_NULL_PATH};
        XrActionStateFloat st = {XR_TYPE_ACTION_STATE_FLOAT};
        OK(FN(inst, xrGetActionStateFloat)(s, &sgi, &st));
        CHECK(st.isActive && st.currentState == 1.0f, "scripted squeeze without the loader");
        usleep(60000);
        int events = 0;
        XrEventDataBuffer ev = {XR_TYPE_EVENT_DATA_BUFFER};
        while (FN(inst, xrPollEvent)(inst, &ev) == XR_SUCCESS) {
            events++;
            ev.type = XR_TYPE_EVENT_DATA_BUFFER;
        }
        /* IDLE READY profile SYNCHRONIZED VISIBLE FOCUSED VISIBLE SYNCHRONIZED STOPPING */
        CHECK(events == 9, "events %d", events);
        if (round == 0)
            OK(FN(inst, xrDestroyInstance)(inst)); /* children go with it */
        /* round 1 leaves the instance to the module's unload */
    }
    unsetenv("TELEOP_XR_REPLAY_SCRIPT");
    CHECK(dlclose(h) == 0, "dlclose");
}

/* The default source: the bundled demo motion. */
static void scenario_default_source(void)
{
    unsetenv("TELEOP_XR_REPLAY_SOURCE");
    unsetenv("TELEOP_XR_REPLAY_SCRIPT");
    unsetenv("TELEOP_XR_REPLAY_LOOP");
    XrInstance inst = create_instance(true, 2);
    XrSession s = create_session(inst, get_system(inst));
    expect_state(inst, s, XR_SESSION_STATE_IDLE);
    expect_state(inst, s, XR_SESSION_STATE_READY);
    XrSpace stage = ref_space(s, XR_REFERENCE_SPACE_TYPE_STAGE), view = ref_space(s, XR_REFERENCE_SPACE_TYPE_VIEW);
    XrTime t0 = begin(inst, s), last = 0;
    XrTime T = frame(s, t0, &last);
    XrSpaceLocation loc = {XR_TYPE_SPACE_LOCATION};
    OK(xrLocateSpace(view, stage, T, &loc));
    CHECK(loc.locationFlags & XR_SPACE_LOCATION_POSITION_VALID_BIT, "demo head");
    CHECK(loc.pose.position.y > 1.0f && loc.pose.position.y < 2.0f, "demo head height %g", loc.pose.position.y);
    OK(xrDestroySession(s));
    OK(xrDestroyInstance(inst));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_xr_replay MANIFEST\n");
        return 2;
    }
    setenv("XR_RUNTIME_JSON", argv[1], 1);
    snprintf(g_dir, sizeof g_dir, "/tmp/test_xr_replay.XXXXXX");
    CHECK(mkdtemp(g_dir), "mkdtemp");
    unsetenv("XR_CORE_VALIDATION_FILE_NAME");
    setenv("XR_CORE_VALIDATION_EXPORT_TYPE", "text", 1);
    capture_stdout();
    make_rows();
    char db[512];
    snprintf(db, sizeof db, "%s/play.db", g_dir);
    write_episode(db, ROWS);

    scenario_direct(argv[1]);
    fprintf(stderr, "direct: ok\n");
    scenario_errors();
    fprintf(stderr, "errors: ok\n");
    scenario_bad_input();
    fprintf(stderr, "bad input: ok\n");
    scenario_playback();
    fprintf(stderr, "playback: ok\n");
    scenario_script();
    fprintf(stderr, "script: ok\n");
    scenario_lifecycle();
    fprintf(stderr, "lifecycle: ok\n");
    scenario_csv_loop();
    fprintf(stderr, "csv and loop: ok\n");
    scenario_default_source();
    fprintf(stderr, "default source: ok\n");
    int findings = validation_findings(true);
    CHECK(findings == 0, "the core validation layer reported %d findings (above)", findings);
    /* The capture sees the layer: a call it must flag shows up. */
    XrInstance inst = create_instance(true, 1);
    XrSystemGetInfo bad = {XR_TYPE_SESSION_CREATE_INFO, NULL, XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY};
    XrSystemId sys;
    EXPECT(XR_ERROR_VALIDATION_FAILURE, xrGetSystem(inst, &bad, &sys));
    OK(xrDestroyInstance(inst));
    CHECK(validation_findings(false) > 0, "the validation layer's output is not captured");
    restore_stdout();
    static const char *const files[] = {"play.db", "script.txt", "bad.csv", "stderr.txt", "stdout.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char f[600];
        snprintf(f, sizeof f, "%s/%s", g_dir, files[i]);
        unlink(f);
    }
    rmdir(g_dir);
    printf("%d checks passed\n", g_checks);
    return 0;
}
