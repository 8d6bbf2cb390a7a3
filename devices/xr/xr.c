/* teleop — OpenXR client: headless or OpenGL session, head, hands and controllers. */
#include "teleop/xr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openxr/openxr_reflection.h>

#include "teleop/clock.h"
#include "xr_internal.h"

static const char *const part_names[PART_COUNT] = {"head", "left_hand", "right_hand", "left_controller",
                                                   "right_controller"};

static const struct {
    const char *name, *label;
    XrActionType type;
} action_desc[ACT_COUNT] = {
    {"grip_pose", "Grip pose", XR_ACTION_TYPE_POSE_INPUT},
    {"aim_pose", "Aim pose", XR_ACTION_TYPE_POSE_INPUT},
    {"trigger", "Trigger", XR_ACTION_TYPE_FLOAT_INPUT},
    {"squeeze", "Squeeze (clutch)", XR_ACTION_TYPE_FLOAT_INPUT},
    {"primary", "A or X", XR_ACTION_TYPE_BOOLEAN_INPUT},
    {"secondary", "B or Y", XR_ACTION_TYPE_BOOLEAN_INPUT},
    {"menu", "Menu", XR_ACTION_TYPE_BOOLEAN_INPUT},
    {"stick", "Thumbstick", XR_ACTION_TYPE_VECTOR2F_INPUT},
    {"stick_click", "Thumbstick click", XR_ACTION_TYPE_BOOLEAN_INPUT},
};

/* Suggested bindings (docs/devices/xr.md has the same table). Paths are
 * relative to /user/hand/{left,right}/; side 0 both hands, 1 left only,
 * 2 right only. */
typedef struct binding_desc {
    int action, side;
    const char *path;
} binding_desc;

static const binding_desc simple_bindings[] = {
    {ACT_GRIP, 0, "input/grip/pose"},      {ACT_AIM, 0, "input/aim/pose"},
    {ACT_TRIGGER, 0, "input/select/click"}, {ACT_SQUEEZE, 0, "input/select/click"},
    {ACT_MENU, 0, "input/menu/click"},
};
static const binding_desc touch_bindings[] = {
    {ACT_GRIP, 0, "input/grip/pose"},         {ACT_AIM, 0, "input/aim/pose"},
    {ACT_TRIGGER, 0, "input/trigger/value"},  {ACT_SQUEEZE, 0, "input/squeeze/value"},
    {ACT_PRIMARY, 1, "input/x/click"},        {ACT_SECONDARY, 1, "input/y/click"},
    {ACT_PRIMARY, 2, "input/a/click"},        {ACT_SECONDARY, 2, "input/b/click"},
    {ACT_MENU, 1, "input/menu/click"},        {ACT_STICK, 0, "input/thumbstick"},
    {ACT_STICK_CLICK, 0, "input/thumbstick/click"},
};
static const binding_desc index_bindings[] = {
    {ACT_GRIP, 0, "input/grip/pose"},        {ACT_AIM, 0, "input/aim/pose"},
    {ACT_TRIGGER, 0, "input/trigger/value"}, {ACT_SQUEEZE, 0, "input/squeeze/value"},
    {ACT_PRIMARY, 0, "input/a/click"},       {ACT_SECONDARY, 0, "input/b/click"},
    {ACT_STICK, 0, "input/thumbstick"},      {ACT_STICK_CLICK, 0, "input/thumbstick/click"},
};
static const binding_desc vive_bindings[] = {
    {ACT_GRIP, 0, "input/grip/pose"},        {ACT_AIM, 0, "input/aim/pose"},
    {ACT_TRIGGER, 0, "input/trigger/value"}, {ACT_SQUEEZE, 0, "input/squeeze/click"},
    {ACT_MENU, 0, "input/menu/click"},       {ACT_STICK, 0, "input/trackpad"},
    {ACT_STICK_CLICK, 0, "input/trackpad/click"},
};

static const struct {
    const char *profile;
    const binding_desc *b;
    size_t n;
} profiles[] = {
    {"/interaction_profiles/khr/simple_controller", simple_bindings,
     sizeof simple_bindings / sizeof simple_bindings[0]},
    {"/interaction_profiles/oculus/touch_controller", touch_bindings,
     sizeof touch_bindings / sizeof touch_bindings[0]},
    {"/interaction_profiles/valve/index_controller", index_bindings,
     sizeof index_bindings / sizeof index_bindings[0]},
    {"/interaction_profiles/htc/vive_controller", vive_bindings, sizeof vive_bindings / sizeof vive_bindings[0]},
};


/* -------------------------------------------------------------- naming */

const char *tp_xr_result_name(int result)
{
    switch (result) {
#define TP_XR_RESULT_CASE(name, value)                                                                           \
    case value: return #name;
        XR_LIST_ENUM_XrResult(TP_XR_RESULT_CASE)
#undef TP_XR_RESULT_CASE
    }
    return result < 0 ? "XR_ERROR_(unknown)" : "XR_(unknown success code)";
}

static const char *state_name(XrSessionState s)
{
    switch (s) {
    case XR_SESSION_STATE_UNKNOWN: return "UNKNOWN";
    case XR_SESSION_STATE_IDLE: return "IDLE";
    case XR_SESSION_STATE_READY: return "READY";
    case XR_SESSION_STATE_SYNCHRONIZED: return "SYNCHRONIZED";
    case XR_SESSION_STATE_VISIBLE: return "VISIBLE";
    case XR_SESSION_STATE_FOCUSED: return "FOCUSED";
    case XR_SESSION_STATE_STOPPING: return "STOPPING";
    case XR_SESSION_STATE_LOSS_PENDING: return "LOSS_PENDING";
    case XR_SESSION_STATE_EXITING: return "EXITING";
    default: return "UNKNOWN";
    }
}

static const char *space_name(XrReferenceSpaceType t)
{
    switch (t) {
#define TP_XR_SPACE_CASE(name, value)                                                                            \
    case value: return #name + sizeof "XR_REFERENCE_SPACE_TYPE_" - 1;
        XR_LIST_ENUM_XrReferenceSpaceType(TP_XR_SPACE_CASE)
#undef TP_XR_SPACE_CASE
    default: return "(vendor space)";
    }
}

const char *tp_xr_session_state(const tp_xr *xr) { return state_name(xr->state); }
const char *tp_xr_interaction_profile(const tp_xr *xr, int side) { return xr->profile[side & 1]; }

int tp_xr_haptic(tp_xr *xr, int side, const tp_haptic_pulse *pulse)
{
    if (!atomic_load(&xr->running))
        return XR_SUCCESS;
    return xr_haptics_apply(&xr->haptics, xr->session, side, pulse);
}

const tp_xr_info *tp_xr_get_info(const tp_xr *xr) { return &xr->info; }

void tp_xr_default_config(tp_xr_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->app_name = "teleop";
}

/* "xrCreateSession: XR_ERROR_..." into err; false when r failed. */
bool xr_check(XrResult r, const char *call, char *err, size_t errlen)
{
    if (XR_SUCCEEDED(r))
        return true;
    snprintf(err, errlen, "OpenXR: %s failed: %s", call, tp_xr_result_name(r));
    return false;
}

/* ------------------------------------------------------------- create */

static int enumerate_extensions(tp_xr *xr, char *err, size_t errlen)
{
    uint32_t n = 0;
    XrResult r = xrEnumerateInstanceExtensionProperties(NULL, 0, &n, NULL);
    if (XR_FAILED(r)) {
        snprintf(err, errlen,
                 "OpenXR: no runtime available (%s): install and activate one (Monado, SteamVR, WiVRn, ALVR, ...), "
                 "point XR_RUNTIME_JSON at its manifest, or use '[operator] xr_runtime = replay'",
                 tp_xr_result_name(r));
        return -1;
    }
    XrExtensionProperties *props = calloc(n ? n : 1, sizeof *props);
    if (!props) {
        snprintf(err, errlen, "OpenXR: out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < n; i++)
        props[i].type = XR_TYPE_EXTENSION_PROPERTIES;
    r = xrEnumerateInstanceExtensionProperties(NULL, n, &n, props);
    if (!xr_check(r, "xrEnumerateInstanceExtensionProperties", err, errlen)) {
        free(props);
        return -1;
    }
    xr->info.extension_count = 0;
    for (uint32_t i = 0; i < n && xr->info.extension_count < TP_XR_MAX_EXTENSIONS; i++) {
        int k = xr->info.extension_count++;
        snprintf(xr->info.extensions[k].name, sizeof xr->info.extensions[k].name, "%s", props[i].extensionName);
        xr->info.extensions[k].version = props[i].extensionVersion;
        if (strcmp(props[i].extensionName, XR_EXT_HAND_TRACKING_EXTENSION_NAME) == 0)
            xr->hand_ext = xr->info.extensions[k].enabled = true;
        else if (strcmp(props[i].extensionName, XR_MND_HEADLESS_EXTENSION_NAME) == 0)
            xr->headless_ext = xr->info.extensions[k].enabled = xr->cfg.view == TP_XR_VIEW_OFF;
        else if (strcmp(props[i].extensionName, XR_KHR_OPENGL_ENABLE_EXTENSION_NAME) == 0)
            xr->opengl_ext = xr->info.extensions[k].enabled = xr->cfg.view == TP_XR_VIEW_HEADSET;
        else if (strcmp(props[i].extensionName, XR_KHR_CONVERT_TIMESPEC_TIME_EXTENSION_NAME) == 0)
            xr->timespec_ext = xr->info.extensions[k].enabled = true;
    }
    free(props);
    return 0;
}

static int create_instance(tp_xr *xr, char *err, size_t errlen)
{
    if (enumerate_extensions(xr, err, errlen) != 0)
        return -1;
    const bool graphics = xr->cfg.view == TP_XR_VIEW_HEADSET;
    if (!graphics && !xr->headless_ext) {
        snprintf(err, errlen,
                 "OpenXR: the runtime does not offer %s, which teleop needs for a session without rendering",
                 XR_MND_HEADLESS_EXTENSION_NAME);
        return -1;
    }
    if (graphics && !xr->opengl_ext) {
        snprintf(err, errlen, "OpenXR: the runtime does not offer %s, which '[xr] view = headset' needs",
                 XR_KHR_OPENGL_ENABLE_EXTENSION_NAME);
        return -1;
    }
    if (!xr->hand_ext && xr->cfg.require_hand_tracking) {
        snprintf(err, errlen, "OpenXR: the runtime does not offer %s (hand tracking)",
                 XR_EXT_HAND_TRACKING_EXTENSION_NAME);
        return -1;
    }
    const char *ext[3];
    uint32_t n_ext = 0;
    ext[n_ext++] = graphics ? XR_KHR_OPENGL_ENABLE_EXTENSION_NAME : XR_MND_HEADLESS_EXTENSION_NAME;
    if (xr->hand_ext)
        ext[n_ext++] = XR_EXT_HAND_TRACKING_EXTENSION_NAME;
    if (xr->timespec_ext)
        ext[n_ext++] = XR_KHR_CONVERT_TIMESPEC_TIME_EXTENSION_NAME;

    XrInstanceCreateInfo ci = {.type = XR_TYPE_INSTANCE_CREATE_INFO};
    snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName, "%s",
             xr->cfg.app_name ? xr->cfg.app_name : "teleop");
    ci.applicationInfo.applicationVersion = 1;
    snprintf(ci.applicationInfo.engineName, sizeof ci.applicationInfo.engineName, "teleop");
    ci.applicationInfo.engineVersion = 1;
    ci.applicationInfo.apiVersion = XR_MAKE_VERSION(1, 0, 0);
    ci.enabledExtensionCount = n_ext;
    ci.enabledExtensionNames = ext;
    XrResult r = xrCreateInstance(&ci, &xr->instance);
    if (!xr_check(r, "xrCreateInstance", err, errlen)) {
        xr->instance = XR_NULL_HANDLE;
        return -1;
    }
    XrInstanceProperties ip = {.type = XR_TYPE_INSTANCE_PROPERTIES};
    if (!xr_check(xrGetInstanceProperties(xr->instance, &ip), "xrGetInstanceProperties", err, errlen))
        return -1;
    snprintf(xr->info.runtime_name, sizeof xr->info.runtime_name, "%s", ip.runtimeName);
    snprintf(xr->info.runtime_version, sizeof xr->info.runtime_version, "%u.%u.%u",
             (unsigned)XR_VERSION_MAJOR(ip.runtimeVersion), (unsigned)XR_VERSION_MINOR(ip.runtimeVersion),
             (unsigned)XR_VERSION_PATCH(ip.runtimeVersion));

#define TP_XR_PROC(name, dst)                                                                                    \
    xr_check(xrGetInstanceProcAddr(xr->instance, name, (PFN_xrVoidFunction *)&(dst)), "xrGetInstanceProcAddr(" name ")", \
          err, errlen)
    if (xr->hand_ext && (!TP_XR_PROC("xrCreateHandTrackerEXT", xr->create_hand_tracker) ||
                         !TP_XR_PROC("xrDestroyHandTrackerEXT", xr->destroy_hand_tracker) ||
                         !TP_XR_PROC("xrLocateHandJointsEXT", xr->locate_hand_joints)))
        return -1;
    if (xr->timespec_ext && (!TP_XR_PROC("xrConvertTimeToTimespecTimeKHR", xr->time_to_timespec) ||
                             !TP_XR_PROC("xrConvertTimespecTimeToTimeKHR", xr->timespec_to_time)))
        return -1;
#undef TP_XR_PROC
    xr->info.timespec_conversion = xr->timespec_ext;
    return 0;
}

static int get_system(tp_xr *xr, char *err, size_t errlen)
{
    XrSystemGetInfo gi = {.type = XR_TYPE_SYSTEM_GET_INFO, .formFactor = XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY};
    XrResult r = xrGetSystem(xr->instance, &gi, &xr->system);
    if (r == XR_ERROR_FORM_FACTOR_UNAVAILABLE) {
        snprintf(err, errlen, "OpenXR: runtime '%s' has no headset connected (XR_ERROR_FORM_FACTOR_UNAVAILABLE)",
                 xr->info.runtime_name);
        return -1;
    }
    if (!xr_check(r, "xrGetSystem", err, errlen))
        return -1;
    XrSystemHandTrackingPropertiesEXT hand = {.type = XR_TYPE_SYSTEM_HAND_TRACKING_PROPERTIES_EXT};
    XrSystemProperties sp = {.type = XR_TYPE_SYSTEM_PROPERTIES, .next = xr->hand_ext ? &hand : NULL};
    if (!xr_check(xrGetSystemProperties(xr->instance, xr->system, &sp), "xrGetSystemProperties", err, errlen))
        return -1;
    snprintf(xr->info.system_name, sizeof xr->info.system_name, "%s", sp.systemName);
    xr->info.vendor_id = sp.vendorId;
    xr->info.orientation_tracking = sp.trackingProperties.orientationTracking;
    xr->info.position_tracking = sp.trackingProperties.positionTracking;
    xr->info.max_layers = sp.graphicsProperties.maxLayerCount;
    xr->info.hand_tracking_supported = xr->hand_ext && hand.supportsHandTracking;
    if (xr->cfg.require_hand_tracking && !xr->info.hand_tracking_supported) {
        snprintf(err, errlen, "OpenXR: system '%s' does not support hand tracking", xr->info.system_name);
        return -1;
    }
    return 0;
}

static int create_spaces(tp_xr *xr, char *err, size_t errlen)
{
    uint32_t n = 0;
    XrReferenceSpaceType types[TP_XR_MAX_SPACES];
    if (!xr_check(xrEnumerateReferenceSpaces(xr->session, 0, &n, NULL), "xrEnumerateReferenceSpaces", err, errlen))
        return -1;
    if (n > TP_XR_MAX_SPACES)
        n = TP_XR_MAX_SPACES;
    if (!xr_check(xrEnumerateReferenceSpaces(xr->session, n, &n, types), "xrEnumerateReferenceSpaces", err, errlen))
        return -1;
    bool stage = false, local = false;
    xr->info.space_count = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        xr->info.spaces[i] = space_name(types[i]);
        stage |= types[i] == XR_REFERENCE_SPACE_TYPE_STAGE;
        local |= types[i] == XR_REFERENCE_SPACE_TYPE_LOCAL;
    }
    if (!stage && !local) {
        snprintf(err, errlen, "OpenXR: the runtime offers neither a STAGE nor a LOCAL reference space");
        return -1;
    }
    /* The operator frame lives in STAGE (floor level, fixed in the room)
     * when the runtime has one; LOCAL (seated, head height) otherwise. */
    xr->base_type = stage ? XR_REFERENCE_SPACE_TYPE_STAGE : XR_REFERENCE_SPACE_TYPE_LOCAL;
    xr->info.base_space = space_name(xr->base_type);
    XrReferenceSpaceCreateInfo ci = {.type = XR_TYPE_REFERENCE_SPACE_CREATE_INFO,
                                     .referenceSpaceType = xr->base_type,
                                     .poseInReferenceSpace = {.orientation = {0, 0, 0, 1}}};
    if (!xr_check(xrCreateReferenceSpace(xr->session, &ci, &xr->base), "xrCreateReferenceSpace", err, errlen))
        return -1;
    ci.referenceSpaceType = XR_REFERENCE_SPACE_TYPE_VIEW;
    if (!xr_check(xrCreateReferenceSpace(xr->session, &ci, &xr->view), "xrCreateReferenceSpace(VIEW)", err, errlen))
        return -1;
    return 0;
}

static int create_actions(tp_xr *xr, char *err, size_t errlen)
{
    if (!xr_check(xrStringToPath(xr->instance, "/user/hand/left", &xr->hand_path[0]), "xrStringToPath", err, errlen) ||
        !xr_check(xrStringToPath(xr->instance, "/user/hand/right", &xr->hand_path[1]), "xrStringToPath", err, errlen))
        return -1;
    XrActionSetCreateInfo si = {.type = XR_TYPE_ACTION_SET_CREATE_INFO, .priority = 0};
    snprintf(si.actionSetName, sizeof si.actionSetName, "teleop");
    snprintf(si.localizedActionSetName, sizeof si.localizedActionSetName, "Teleoperation");
    if (!xr_check(xrCreateActionSet(xr->instance, &si, &xr->action_set), "xrCreateActionSet", err, errlen))
        return -1;
    for (int a = 0; a < ACT_COUNT; a++) {
        XrActionCreateInfo ai = {.type = XR_TYPE_ACTION_CREATE_INFO, .actionType = action_desc[a].type,
                                 .countSubactionPaths = 2, .subactionPaths = xr->hand_path};
        snprintf(ai.actionName, sizeof ai.actionName, "%s", action_desc[a].name);
        snprintf(ai.localizedActionName, sizeof ai.localizedActionName, "%s", action_desc[a].label);
        if (!xr_check(xrCreateAction(xr->action_set, &ai, &xr->actions[a]), "xrCreateAction", err, errlen))
            return -1;
    }
    if (xr_haptics_create(&xr->haptics, xr->instance, xr->action_set, xr->hand_path, err, errlen) != 0)
        return -1;
    for (size_t p = 0; p < sizeof profiles / sizeof profiles[0]; p++) {
        XrActionSuggestedBinding sb[32];
        uint32_t n = 0;
        for (size_t i = 0; i < profiles[p].n; i++)
            for (int side = 0; side < 2; side++) {
                const binding_desc *b = &profiles[p].b[i];
                if (b->side != 0 && b->side != side + 1)
                    continue;
                char path[160];
                snprintf(path, sizeof path, "/user/hand/%s/%s", side ? "right" : "left", b->path);
                sb[n].action = xr->actions[b->action];
                if (!xr_check(xrStringToPath(xr->instance, path, &sb[n].binding), "xrStringToPath", err, errlen))
                    return -1;
                n++;
            }
        n += xr_haptics_bindings(&xr->haptics, sb + n, (uint32_t)(sizeof sb / sizeof sb[0]) - n);
        XrPath profile;
        if (!xr_check(xrStringToPath(xr->instance, profiles[p].profile, &profile), "xrStringToPath", err, errlen))
            return -1;
        XrInteractionProfileSuggestedBinding s = {.type = XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING,
                                                  .interactionProfile = profile,
                                                  .countSuggestedBindings = n,
                                                  .suggestedBindings = sb};
        XrResult r = xrSuggestInteractionProfileBindings(xr->instance, &s);
        /* A runtime that does not know a profile says so; the others still
         * apply. */
        if (r == XR_ERROR_PATH_UNSUPPORTED)
            continue;
        if (!xr_check(r, "xrSuggestInteractionProfileBindings", err, errlen)) {
            size_t len = strlen(err);
            snprintf(err + len, errlen - len, " (%s)", profiles[p].profile);
            return -1;
        }
    }
    return 0;
}

/* XR_KHR_opengl_enable: the requirements must be queried before the session
 * is created, and the context must meet them. */
static int create_gl(tp_xr *xr, char *err, size_t errlen)
{
    PFN_xrGetOpenGLGraphicsRequirementsKHR get_requirements = NULL;
    if (!xr_check(xrGetInstanceProcAddr(xr->instance, "xrGetOpenGLGraphicsRequirementsKHR",
                                     (PFN_xrVoidFunction *)&get_requirements),
               "xrGetInstanceProcAddr(xrGetOpenGLGraphicsRequirementsKHR)", err, errlen))
        return -1;
    XrGraphicsRequirementsOpenGLKHR req = {.type = XR_TYPE_GRAPHICS_REQUIREMENTS_OPENGL_KHR};
    if (!xr_check(get_requirements(xr->instance, xr->system, &req), "xrGetOpenGLGraphicsRequirementsKHR", err, errlen))
        return -1;
    snprintf(xr->info.gl_min_version, sizeof xr->info.gl_min_version, "%u.%u",
             (unsigned)XR_VERSION_MAJOR(req.minApiVersionSupported),
             (unsigned)XR_VERSION_MINOR(req.minApiVersionSupported));
    snprintf(xr->info.gl_max_version, sizeof xr->info.gl_max_version, "%u.%u",
             (unsigned)XR_VERSION_MAJOR(req.maxApiVersionSupported),
             (unsigned)XR_VERSION_MINOR(req.maxApiVersionSupported));
    /* teleop's context is OpenGL 3.3 core (xr_gl.c). */
    const XrVersion ours = XR_MAKE_VERSION(3, 3, 0);
    if (ours < req.minApiVersionSupported ||
        (req.maxApiVersionSupported && XR_MAKE_VERSION(XR_VERSION_MAJOR(req.maxApiVersionSupported),
                                                       XR_VERSION_MINOR(req.maxApiVersionSupported), 0) < ours)) {
        snprintf(err, errlen, "OpenXR: the runtime wants OpenGL %s to %s, teleop makes a 3.3 context",
                 xr->info.gl_min_version, xr->info.gl_max_version);
        return -1;
    }
    xr->gl = tp_xr_gl_create(xr->cfg.mirror_width, xr->cfg.mirror_height, err, errlen);
    if (!xr->gl)
        return -1;
    xr->info.graphics = true;
    return 0;
}

static int create_session(tp_xr *xr, char *err, size_t errlen)
{
    if (xr->cfg.view == TP_XR_VIEW_HEADSET && create_gl(xr, err, errlen) != 0)
        return -1;
    XrSessionCreateInfo ci = {.type = XR_TYPE_SESSION_CREATE_INFO, .next = xr->gl ? tp_xr_gl_binding(xr->gl) : NULL,
                              .systemId = xr->system};
    if (!xr_check(xrCreateSession(xr->instance, &ci, &xr->session),
               xr->gl ? "xrCreateSession (OpenGL)" : "xrCreateSession (headless)", err, errlen)) {
        xr->session = XR_NULL_HANDLE;
        return -1;
    }
    xr->state = XR_SESSION_STATE_UNKNOWN;
    if (create_spaces(xr, err, errlen) != 0)
        return -1;
    XrSessionActionSetsAttachInfo ai = {.type = XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO, .countActionSets = 1,
                                        .actionSets = &xr->action_set};
    if (!xr_check(xrAttachSessionActionSets(xr->session, &ai), "xrAttachSessionActionSets", err, errlen))
        return -1;
    for (int s = 0; s < 2; s++) {
        XrActionSpaceCreateInfo asi = {.type = XR_TYPE_ACTION_SPACE_CREATE_INFO,
                                       .action = xr->actions[ACT_GRIP],
                                       .subactionPath = xr->hand_path[s],
                                       .poseInActionSpace = {.orientation = {0, 0, 0, 1}}};
        if (!xr_check(xrCreateActionSpace(xr->session, &asi, &xr->grip_space[s]), "xrCreateActionSpace", err, errlen))
            return -1;
        asi.action = xr->actions[ACT_AIM];
        if (!xr_check(xrCreateActionSpace(xr->session, &asi, &xr->aim_space[s]), "xrCreateActionSpace", err, errlen))
            return -1;
    }
    if (xr->info.hand_tracking_supported)
        for (int s = 0; s < 2; s++) {
            XrHandTrackerCreateInfoEXT hi = {.type = XR_TYPE_HAND_TRACKER_CREATE_INFO_EXT,
                                             .hand = s ? XR_HAND_RIGHT_EXT : XR_HAND_LEFT_EXT,
                                             .handJointSet = XR_HAND_JOINT_SET_DEFAULT_EXT};
            if (!xr_check(xr->create_hand_tracker(xr->session, &hi, &xr->hand_tracker[s]), "xrCreateHandTrackerEXT",
                       err, errlen))
                return -1;
        }
    return 0;
}

tp_xr *tp_xr_create(const tp_xr_config *cfg, char *err, size_t errlen)
{
    /* The loader reports its failures on stderr in several lines of its
     * own; teleop says it in one. XR_LOADER_DEBUG=error (or all) brings the
     * loader's lines back. */
    setenv("XR_LOADER_DEBUG", "none", 0);
    tp_xr *xr = calloc(1, sizeof *xr);
    if (!xr) {
        snprintf(err, errlen, "OpenXR: out of memory");
        return NULL;
    }
    xr->sync.wake_fd = -1;
    if (cfg)
        xr->cfg = *cfg;
    else
        tp_xr_default_config(&xr->cfg);
    if (xr_view_sync_init(&xr->sync, err, errlen) != 0 || create_instance(xr, err, errlen) != 0 || get_system(xr, err, errlen) != 0 ||
        create_actions(xr, err, errlen) != 0 || create_session(xr, err, errlen) != 0) {
        tp_xr_destroy(xr);
        return NULL;
    }
    /* The view thread makes the context current on itself; GLX allows a
     * context current on one thread at a time. */
    if (xr->gl)
        tp_xr_gl_make_current(NULL);
    return xr;
}

void tp_xr_destroy(tp_xr *xr)
{
    if (!xr)
        return;
    if (xr->session != XR_NULL_HANDLE) {
        if (atomic_load(&xr->running))
            xrEndSession(xr->session);
        for (int s = 0; s < 2; s++)
            if (xr->hand_tracker[s] != XR_NULL_HANDLE)
                xr->destroy_hand_tracker(xr->hand_tracker[s]);
        /* Destroying the session destroys its spaces with it. */
        xrDestroySession(xr->session);
    }
    /* ... and the instance its action sets, actions and paths. */
    if (xr->instance != XR_NULL_HANDLE)
        xrDestroyInstance(xr->instance);
    tp_xr_gl_destroy(xr->gl); /* after the session: the runtime may use the context until then */
    xr_view_sync_free(&xr->sync);
    free(xr);
}

/* --------------------------------------------------------------- time */

int tp_xr_time_to_ns(const tp_xr *xr, int64_t xr_time, int64_t *ns)
{
    struct timespec ts;
    if (!xr->time_to_timespec || XR_FAILED(xr->time_to_timespec(xr->instance, (XrTime)xr_time, &ts)))
        return -1;
    *ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    return 0;
}

int tp_xr_ns_to_time(const tp_xr *xr, int64_t ns, int64_t *xr_time)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000LL), .tv_nsec = (long)(ns % 1000000000LL)};
    XrTime t;
    if (!xr->timespec_to_time || XR_FAILED(xr->timespec_to_time(xr->instance, &ts, &t)))
        return -1;
    *xr_time = (int64_t)t;
    return 0;
}

/* --------------------------------------------------------------- poll */

typedef struct event_sink {
    tp_xr_event *ev;
    int max, n;
} event_sink;

/* The event written (stamped now), or NULL when the sink is full. */
static tp_xr_event *emit(event_sink *sink, const char *kind, const char *fmt, const char *a, const char *b)
{
    if (sink->n >= sink->max)
        return NULL;
    tp_xr_event *e = &sink->ev[sink->n++];
    e->t_ns = tp_now_ns();
    e->kind = kind;
    snprintf(e->detail, sizeof e->detail, fmt ? fmt : "", a ? a : "", b ? b : "");
    return e;
}

/* Loss results end the session (the caller returns TP_XR_ENDED). */
static bool lost(tp_xr *xr, XrResult r, event_sink *sink)
{
    if (r == XR_ERROR_SESSION_LOST) {
        emit(sink, "xr_session_lost", "%s%s", tp_xr_result_name(r), NULL);
        xr->ended = true;
    } else if (r == XR_ERROR_INSTANCE_LOST) {
        emit(sink, "xr_instance_lost", "%s%s", tp_xr_result_name(r), NULL);
        xr->ended = true;
    }
    return xr->ended;
}

static void update_profiles(tp_xr *xr, event_sink *sink)
{
    for (int s = 0; s < 2; s++) {
        XrInteractionProfileState ps = {.type = XR_TYPE_INTERACTION_PROFILE_STATE};
        char name[128] = "";
        if (XR_SUCCEEDED(xrGetCurrentInteractionProfile(xr->session, xr->hand_path[s], &ps)) &&
            ps.interactionProfile != XR_NULL_PATH) {
            uint32_t len = 0;
            if (XR_FAILED(xrPathToString(xr->instance, ps.interactionProfile, sizeof name, &len, name)))
                name[0] = '\0';
        }
        if (strcmp(name, xr->profile[s]) != 0) {
            snprintf(xr->profile[s], sizeof xr->profile[s], "%s", name);
            emit(sink, "xr_interaction_profile", "%s %s", s ? "right" : "left", name[0] ? name : "none");
        }
    }
}

static int handle_events(tp_xr *xr, event_sink *sink, char *err, size_t errlen)
{
    for (;;) {
        XrEventDataBuffer ev = {.type = XR_TYPE_EVENT_DATA_BUFFER};
        XrResult r = xrPollEvent(xr->instance, &ev);
        if (r == XR_EVENT_UNAVAILABLE)
            return 0;
        if (lost(xr, r, sink))
            return 0;
        if (!xr_check(r, "xrPollEvent", err, errlen))
            return -1;
        switch (ev.type) {
        case XR_TYPE_EVENT_DATA_INSTANCE_LOSS_PENDING:
            emit(sink, "xr_instance_lost", "loss pending%s%s", NULL, NULL);
            xr->ended = true;
            return 0;
        case XR_TYPE_EVENT_DATA_EVENTS_LOST: {
            const XrEventDataEventsLost *el = (const XrEventDataEventsLost *)&ev;
            char n[16];
            snprintf(n, sizeof n, "%u", el->lostEventCount);
            emit(sink, "xr_events_lost", "%s%s", n, NULL);
            break;
        }
        case XR_TYPE_EVENT_DATA_INTERACTION_PROFILE_CHANGED: update_profiles(xr, sink); break;
        case XR_TYPE_EVENT_DATA_REFERENCE_SPACE_CHANGE_PENDING: {
            const XrEventDataReferenceSpaceChangePending *rc = (const XrEventDataReferenceSpaceChangePending *)&ev;
            emit(sink, "xr_reference_space_change", "%s%s", space_name(rc->referenceSpaceType), NULL);
            break;
        }
        case XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED: {
            const XrEventDataSessionStateChanged *sc = (const XrEventDataSessionStateChanged *)&ev;
            if (sc->session != xr->session)
                break;
            xr->state = sc->state;
            tp_xr_event *e = emit(sink, "xr_session_state", "%s%s", state_name(sc->state), NULL);
            /* Stamped with the runtime's time of the change when it can be
             * converted (the replay runtime's SYNCHRONIZED carries the start
             * of its stream), else when teleop saw it. */
            int64_t when;
            if (e && sc->time > 0 && tp_xr_time_to_ns(xr, sc->time, &when) == 0)
                e->t_ns = when;
            switch (sc->state) {
            case XR_SESSION_STATE_READY: {
                XrSessionBeginInfo bi = {.type = XR_TYPE_SESSION_BEGIN_INFO,
                                         .primaryViewConfigurationType = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO};
                r = xrBeginSession(xr->session, &bi);
                if (lost(xr, r, sink))
                    return 0;
                if (!xr_check(r, "xrBeginSession", err, errlen))
                    return -1;
                xr->began = true;
                xr_view_resume(xr);
                atomic_store(&xr->running, true);
                if (xr->exit_requested)
                    xrRequestExitSession(xr->session);
                break;
            }
            case XR_SESSION_STATE_STOPPING:
                xr_view_quiesce(xr); /* the view thread's frame ends before the session does */
                r = xrEndSession(xr->session);
                atomic_store(&xr->running, false);
                if (lost(xr, r, sink))
                    return 0;
                if (!xr_check(r, "xrEndSession", err, errlen))
                    return -1;
                break;
            case XR_SESSION_STATE_EXITING:
                emit(sink, "xr_exit", "%s%s", xr->exit_requested ? "requested by teleop" : "requested by the runtime",
                     NULL);
                xr->ended = true;
                return 0;
            case XR_SESSION_STATE_LOSS_PENDING:
                emit(sink, "xr_session_lost", "loss pending%s%s", NULL, NULL);
                xr->ended = true;
                return 0;
            default: break;
            }
            break;
        }
        default: break;
        }
    }
}

static tp_pose from_xr(XrPosef p)
{
    return (tp_pose){{p.position.x, p.position.y, p.position.z},
                     {p.orientation.x, p.orientation.y, p.orientation.z, p.orientation.w}};
}

/* Valid for teleoperation: position and orientation both valid and tracked
 * (an inferred or remembered pose must not drive a robot). */
static bool fully_tracked(XrSpaceLocationFlags f)
{
    const XrSpaceLocationFlags all = XR_SPACE_LOCATION_POSITION_VALID_BIT | XR_SPACE_LOCATION_ORIENTATION_VALID_BIT |
                                     XR_SPACE_LOCATION_POSITION_TRACKED_BIT |
                                     XR_SPACE_LOCATION_ORIENTATION_TRACKED_BIT;
    return (f & all) == all;
}

static bool pose_valid(XrSpaceLocationFlags f)
{
    const XrSpaceLocationFlags v = XR_SPACE_LOCATION_POSITION_VALID_BIT | XR_SPACE_LOCATION_ORIENTATION_VALID_BIT;
    return (f & v) == v;
}

static XrResult locate(tp_xr *xr, XrSpace space, XrTime t, tp_pose *out, bool *valid, bool tracked)
{
    XrSpaceLocation loc = {.type = XR_TYPE_SPACE_LOCATION};
    XrResult r = xrLocateSpace(space, xr->base, t, &loc);
    *valid = XR_SUCCEEDED(r) && (tracked ? fully_tracked(loc.locationFlags) : pose_valid(loc.locationFlags));
    *out = *valid ? from_xr(loc.pose) : (tp_pose){{0, 0, 0}, {0, 0, 0, 1}};
    return r;
}

static XrResult read_controllers(tp_xr *xr, XrTime t, tp_operator_frame *f)
{
    XrActiveActionSet active = {.actionSet = xr->action_set, .subactionPath = XR_NULL_PATH};
    XrActionsSyncInfo si = {.type = XR_TYPE_ACTIONS_SYNC_INFO, .countActiveActionSets = 1,
                            .activeActionSets = &active};
    XrResult r = xrSyncActions(xr->session, &si);
    if (XR_FAILED(r))
        return r;
    if (r == XR_SESSION_NOT_FOCUSED)
        return XR_SUCCESS; /* inputs read inactive until focused */
    for (int s = 0; s < 2; s++) {
        tp_controller_frame *c = &f->ctrl[s];
        XrActionStateGetInfo gi = {.type = XR_TYPE_ACTION_STATE_GET_INFO, .subactionPath = xr->hand_path[s]};
        XrActionStatePose ps = {.type = XR_TYPE_ACTION_STATE_POSE};
        XrActionStateFloat fs = {.type = XR_TYPE_ACTION_STATE_FLOAT};
        XrActionStateBoolean bs = {.type = XR_TYPE_ACTION_STATE_BOOLEAN};
        XrActionStateVector2f vs = {.type = XR_TYPE_ACTION_STATE_VECTOR2F};
        gi.action = xr->actions[ACT_GRIP];
        if (XR_FAILED(r = xrGetActionStatePose(xr->session, &gi, &ps)))
            return r;
        c->active = ps.isActive;
        if (ps.isActive) {
            if (XR_FAILED(r = locate(xr, xr->grip_space[s], t, &c->grip, &c->grip_valid, true)) ||
                XR_FAILED(r = locate(xr, xr->aim_space[s], t, &c->aim, &c->aim_valid, true)))
                return r;
        }
        gi.action = xr->actions[ACT_TRIGGER];
        if (XR_FAILED(r = xrGetActionStateFloat(xr->session, &gi, &fs)))
            return r;
        c->active |= fs.isActive;
        c->trigger = fs.isActive ? fs.currentState : 0.0f;
        gi.action = xr->actions[ACT_SQUEEZE];
        if (XR_FAILED(r = xrGetActionStateFloat(xr->session, &gi, &fs)))
            return r;
        c->active |= fs.isActive;
        c->squeeze = fs.isActive ? fs.currentState : 0.0f;
        static const struct {
            int action;
            uint32_t bit;
        } buttons[] = {{ACT_PRIMARY, TP_BTN_A}, {ACT_SECONDARY, TP_BTN_B}, {ACT_MENU, TP_BTN_MENU},
                       {ACT_STICK_CLICK, TP_BTN_STICK}};
        for (size_t b = 0; b < sizeof buttons / sizeof buttons[0]; b++) {
            gi.action = xr->actions[buttons[b].action];
            if (XR_FAILED(r = xrGetActionStateBoolean(xr->session, &gi, &bs)))
                return r;
            if (bs.isActive && bs.currentState)
                c->buttons |= buttons[b].bit;
        }
        gi.action = xr->actions[ACT_STICK];
        if (XR_FAILED(r = xrGetActionStateVector2f(xr->session, &gi, &vs)))
            return r;
        if (vs.isActive) {
            c->stick[0] = vs.currentState.x;
            c->stick[1] = vs.currentState.y;
        }
    }
    return XR_SUCCESS;
}

static XrResult read_hands(tp_xr *xr, XrTime t, tp_operator_frame *f)
{
    for (int s = 0; s < 2; s++) {
        if (xr->hand_tracker[s] == XR_NULL_HANDLE)
            continue;
        XrHandJointLocationEXT joints[XR_HAND_JOINT_COUNT_EXT];
        XrHandJointLocationsEXT locs = {.type = XR_TYPE_HAND_JOINT_LOCATIONS_EXT,
                                        .jointCount = XR_HAND_JOINT_COUNT_EXT,
                                        .jointLocations = joints};
        XrHandJointsLocateInfoEXT li = {.type = XR_TYPE_HAND_JOINTS_LOCATE_INFO_EXT, .baseSpace = xr->base, .time = t};
        XrResult r = xr->locate_hand_joints(xr->hand_tracker[s], &li, &locs);
        if (XR_FAILED(r))
            return r;
        tp_hand_frame *h = &f->hand[s];
        h->active = locs.isActive;
        if (!locs.isActive)
            continue;
        for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
            h->joints[j].valid = fully_tracked(joints[j].locationFlags);
            h->joints[j].pose = from_xr(joints[j].pose);
            h->joints[j].radius = joints[j].radius;
        }
    }
    return XR_SUCCESS;
}

static void tracking_events(tp_xr *xr, const tp_operator_frame *f, event_sink *sink)
{
    bool now[PART_COUNT];
    now[PART_HEAD] = f->head_valid;
    for (int s = 0; s < 2; s++) {
        now[PART_LEFT_HAND + s] = f->hand[s].active && f->hand[s].joints[TP_HJ_WRIST].valid;
        now[PART_LEFT_CTRL + s] = f->ctrl[s].active && f->ctrl[s].grip_valid;
    }
    for (int p = 0; p < PART_COUNT; p++) {
        /* The first frame reports only what is missing. */
        if (xr->tracked_known[p] ? now[p] != xr->tracked[p] : !now[p]) {
            tp_xr_event *e = emit(sink, now[p] ? "xr_tracking_found" : "xr_tracking_lost", "%s%s", part_names[p], NULL);
            if (e)
                e->t_ns = f->t_ns; /* the instant the frame describes */
        }
        xr->tracked[p] = now[p];
        xr->tracked_known[p] = true;
    }
}

/* Locates head, hands and controllers at display time t into f, stamped
 * on the station's clock. */
static int locate_frame(tp_xr *xr, XrTime t, tp_operator_frame *f, event_sink *sink, XrResult end_result, char *err,
                        size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->head.q.w = 1;
    XrResult rr = locate(xr, xr->view, t, &f->head, &f->head_valid, true);
    if (XR_SUCCEEDED(rr))
        rr = read_hands(xr, t, f);
    if (XR_SUCCEEDED(rr))
        rr = read_controllers(xr, t, f);
    if (lost(xr, rr, sink) || lost(xr, end_result, sink))
        return TP_XR_ENDED;
    if (!xr_check(rr, "locating head, hands and controllers", err, errlen) ||
        !xr_check(end_result, "xrEndFrame", err, errlen))
        return TP_XR_ERROR;
    int64_t ns;
    f->t_ns = tp_xr_time_to_ns(xr, t, &ns) == 0 ? ns : tp_now_ns();
    tracking_events(xr, f, sink);
    return TP_XR_FRAME;
}

/* The headless frame loop (and a graphics session without a view thread):
 * this thread waits, begins, locates and ends each frame itself. */
static int frame(tp_xr *xr, tp_operator_frame *f, event_sink *sink, char *err, size_t errlen)
{
    XrFrameWaitInfo wi = {.type = XR_TYPE_FRAME_WAIT_INFO};
    XrFrameState fs = {.type = XR_TYPE_FRAME_STATE};
    XrResult r = xrWaitFrame(xr->session, &wi, &fs);
    if (lost(xr, r, sink))
        return TP_XR_ENDED;
    if (!xr_check(r, "xrWaitFrame", err, errlen))
        return TP_XR_ERROR;
    XrFrameBeginInfo bi = {.type = XR_TYPE_FRAME_BEGIN_INFO};
    r = xrBeginFrame(xr->session, &bi);
    if (lost(xr, r, sink))
        return TP_XR_ENDED;
    if (!xr_check(r, "xrBeginFrame", err, errlen))
        return TP_XR_ERROR;
    const XrTime t = fs.predictedDisplayTime;
    tp_operator_frame located;
    /* Nothing to show, but the frame is closed so the runtime keeps pacing
     * xrWaitFrame. */
    XrFrameEndInfo ei = {.type = XR_TYPE_FRAME_END_INFO, .displayTime = t,
                         .environmentBlendMode = XR_ENVIRONMENT_BLEND_MODE_OPAQUE, .layerCount = 0};
    int rc = locate_frame(xr, t, &located, sink, XR_SUCCESS, err, errlen);
    r = xrEndFrame(xr->session, &ei);
    if (rc == TP_XR_FRAME && (lost(xr, r, sink) || !xr_check(r, "xrEndFrame", err, errlen)))
        rc = xr->ended ? TP_XR_ENDED : TP_XR_ERROR;
    *f = located;
    return rc;
}

/* With a view thread driving the frames: locate at each display time it
 * publishes (the operator's poses are predicted for the instant the view
 * shows them), or a period on when it is held up, never calling
 * xrWaitFrame here. */
static int view_driven_frame(tp_xr *xr, tp_operator_frame *f, event_sink *sink, char *err, size_t errlen)
{
    XrTime t;
    if (!xr_view_next_display_time(xr, &t))
        return TP_XR_IDLE;
    return locate_frame(xr, t, f, sink, XR_SUCCESS, err, errlen);
}

int tp_xr_poll(tp_xr *xr, tp_operator_frame *f, tp_xr_event *events, int max, int *n_events, char *err,
               size_t errlen)
{
    event_sink sink = {events, max, 0};
    int rc = TP_XR_IDLE;
    if (!xr->ended && handle_events(xr, &sink, err, errlen) != 0)
        rc = TP_XR_ERROR;
    else if (xr->ended)
        rc = TP_XR_ENDED;
    else if (atomic_load(&xr->running))
        rc = atomic_load(&xr->sync.active) ? view_driven_frame(xr, f, &sink, err, errlen)
                                           : frame(xr, f, &sink, err, errlen);
    else if (xr->exit_requested && !xr->began)
        rc = TP_XR_ENDED; /* never ran: nothing to wind down */
    else {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    if (rc == TP_XR_ENDED)
        xr->ended = true;
    *n_events = sink.n;
    return rc;
}

void tp_xr_request_exit(tp_xr *xr)
{
    if (xr->exit_requested || xr->ended)
        return;
    xr->exit_requested = true;
    if (atomic_load(&xr->running))
        xrRequestExitSession(xr->session);
}
