/* teleop xr-replay — loader negotiation, function lookup, handles, instance,
 * paths, events, system and view configurations, time conversion. */
#include "rt.h"
#include "rt_api.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openxr/openxr_reflection.h>

/* ---- lock and handles ---- */

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
void rt_lock(void) { pthread_mutex_lock(&g_lock); }
void rt_unlock(void) { pthread_mutex_unlock(&g_lock); }

typedef struct rt_slot {
    rt_obj *obj;
    uint32_t gen;
} rt_slot;

static rt_slot *g_slots;
static size_t g_slot_count, g_slot_cap;

uint64_t rt_handle_new(rt_obj *obj, enum rt_obj_type type, uint64_t parent)
{
    size_t i = 0;
    while (i < g_slot_count && g_slots[i].obj)
        i++;
    if (i == g_slot_count) {
        if (g_slot_count == g_slot_cap) {
            size_t cap = g_slot_cap ? g_slot_cap * 2 : 64;
            if (cap > 0xFFFFFFu)
                return 0;
            rt_slot *n = realloc(g_slots, cap * sizeof *n);
            if (!n)
                return 0;
            g_slots = n;
            g_slot_cap = cap;
        }
        g_slots[g_slot_count++] = (rt_slot){NULL, 0};
    }
    rt_slot *s = &g_slots[i];
    s->gen = (s->gen + 1) & 0xFFFFFFu;
    if (!s->gen)
        s->gen = 1;
    s->obj = obj;
    obj->type = type;
    obj->parent = parent;
    obj->handle = ((uint64_t)type << 56) | ((uint64_t)s->gen << 32) | (uint64_t)(i + 1);
    return obj->handle;
}

static rt_obj *handle_lookup(uint64_t h, size_t *index)
{
    uint64_t i = (h & 0xFFFFFFFFu);
    if (i == 0 || i > g_slot_count)
        return NULL;
    rt_obj *o = g_slots[i - 1].obj;
    if (!o || o->handle != h)
        return NULL;
    if (index)
        *index = (size_t)(i - 1);
    return o;
}

void *rt_handle_get(uint64_t h, enum rt_obj_type type)
{
    rt_obj *o = handle_lookup(h, NULL);
    return o && o->type == type ? o : NULL;
}

rt_obj *rt_handle_next(enum rt_obj_type type, uint64_t parent, size_t *cursor)
{
    for (; *cursor < g_slot_count; (*cursor)++) {
        rt_obj *o = g_slots[*cursor].obj;
        if (o && o->type == type && (!parent || o->parent == parent)) {
            (*cursor)++;
            return o;
        }
    }
    return NULL;
}

void rt_handle_destroy(uint64_t h)
{
    size_t index;
    rt_obj *o = handle_lookup(h, &index);
    if (!o)
        return;
    for (size_t i = 0; i < g_slot_count; i++)
        if (g_slots[i].obj && g_slots[i].obj->parent == h)
            rt_handle_destroy(g_slots[i].obj->handle);
    g_slots[index].obj = NULL;
    rt_obj_free(o);
}

/* The loader unloads the module after the last instance: destroy what the
 * application left and free the table, so nothing outlives the module. */
__attribute__((destructor)) static void handles_release(void)
{
    for (size_t i = 0; i < g_slot_count; i++)
        if (g_slots[i].obj && g_slots[i].obj->type == RT_INSTANCE)
            rt_handle_destroy(g_slots[i].obj->handle);
    free(g_slots);
    g_slots = NULL;
    g_slot_count = g_slot_cap = 0;
}

/* Drops queued events that name a session being destroyed: the application
 * must never receive a handle it already destroyed. */
static void purge_session_events(rt_instance *inst, uint64_t session)
{
    size_t kept = 0;
    XrEventDataBuffer *tmp = malloc(RT_MAX_EVENTS * sizeof *tmp);
    if (!tmp)
        return;
    for (size_t i = 0; i < inst->event_count; i++) {
        const XrEventDataBuffer *e = &inst->events[(inst->event_head + i) % RT_MAX_EVENTS];
        uint64_t named = 0;
        if (e->type == XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED)
            named = (uint64_t)((const XrEventDataSessionStateChanged *)e)->session;
        else if (e->type == XR_TYPE_EVENT_DATA_INTERACTION_PROFILE_CHANGED)
            named = (uint64_t)((const XrEventDataInteractionProfileChanged *)e)->session;
        if (named != session)
            tmp[kept++] = *e;
    }
    memcpy(inst->events, tmp, kept * sizeof *tmp);
    inst->event_head = 0;
    inst->event_count = kept;
    free(tmp);
}

void rt_obj_free(rt_obj *obj)
{
    if (obj->type == RT_SWAPCHAIN) {
        rt_swapchain_free(obj);
        return;
    }
    if (obj->type == RT_SESSION)
        purge_session_events(((rt_session *)obj)->inst, obj->handle);
    if (obj->type == RT_INSTANCE) {
        rt_instance *inst = (rt_instance *)obj;
        for (size_t i = 0; i < inst->path_count; i++)
            free(inst->paths[i]);
        free(inst->paths);
        for (int p = 0; p < RP_COUNT; p++)
            free(inst->suggested[p]);
        rt_source_free(&inst->source);
    }
    free(obj);
}

/* ---- small shared helpers ---- */

XrTime rt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (XrTime)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

XrResult rt_two_call(uint32_t capacity, uint32_t *count_out, const void *array, uint32_t count)
{
    if (!count_out || (capacity && !array))
        return XR_ERROR_VALIDATION_FAILURE;
    *count_out = count;
    if (capacity && capacity < count)
        return XR_ERROR_SIZE_INSUFFICIENT;
    return XR_SUCCESS;
}

bool rt_pose_valid(XrPosef p)
{
    const XrQuaternionf q = p.orientation;
    double n = (double)q.x * q.x + (double)q.y * q.y + (double)q.z * q.z + (double)q.w * q.w;
    return isfinite(n) && fabs(n - 1.0) <= 1e-3 && isfinite(p.position.x) && isfinite(p.position.y) &&
           isfinite(p.position.z);
}

void rt_velocity(tp_pose before, tp_pose after, double dt, XrVector3f *linear, XrVector3f *angular)
{
    tp_vec3 v = tp_v3_scale(tp_v3_sub(after.p, before.p), 1.0 / dt);
    tp_quat dq = tp_quat_mul(tp_quat_normalize(after.q), tp_quat_conj(tp_quat_normalize(before.q)));
    tp_vec3 w = tp_v3_scale(tp_quat_to_rotvec(dq), 1.0 / dt);
    *linear = (XrVector3f){(float)v.x, (float)v.y, (float)v.z};
    *angular = (XrVector3f){(float)w.x, (float)w.y, (float)w.z};
}

/* ---- instance ---- */

static const struct {
    const char *name;
    uint32_t version;
} g_extensions[] = {
    {XR_MND_HEADLESS_EXTENSION_NAME, XR_MND_headless_SPEC_VERSION},
    {XR_EXT_HAND_TRACKING_EXTENSION_NAME, XR_EXT_hand_tracking_SPEC_VERSION},
    {XR_KHR_CONVERT_TIMESPEC_TIME_EXTENSION_NAME, XR_KHR_convert_timespec_time_SPEC_VERSION},
    {XR_KHR_OPENGL_ENABLE_EXTENSION_NAME, XR_KHR_opengl_enable_SPEC_VERSION},
};
#define EXTENSION_COUNT (sizeof g_extensions / sizeof g_extensions[0])

rt_instance *rt_instance_get(XrInstance h, XrResult *res)
{
    rt_instance *inst = rt_handle_get((uint64_t)h, RT_INSTANCE);
    if (!inst) {
        *res = XR_ERROR_HANDLE_INVALID;
        return NULL;
    }
    if (inst->lost) {
        *res = XR_ERROR_INSTANCE_LOST;
        return NULL;
    }
    *res = XR_SUCCESS;
    return inst;
}

XrResult XRAPI_CALL rt_xrEnumerateApiLayerProperties(uint32_t capacity, uint32_t *count, XrApiLayerProperties *props)
{
    return rt_two_call(capacity, count, props, 0);
}

XrResult XRAPI_CALL rt_xrEnumerateInstanceExtensionProperties(const char *layer, uint32_t capacity, uint32_t *count,
                                                              XrExtensionProperties *props)
{
    if (layer)
        return XR_ERROR_API_LAYER_NOT_PRESENT;
    XrResult r = rt_two_call(capacity, count, props, EXTENSION_COUNT);
    if (r != XR_SUCCESS || !capacity)
        return r;
    for (uint32_t i = 0; i < EXTENSION_COUNT; i++)
        if (props[i].type != XR_TYPE_EXTENSION_PROPERTIES)
            return XR_ERROR_VALIDATION_FAILURE;
    for (uint32_t i = 0; i < EXTENSION_COUNT; i++) {
        snprintf(props[i].extensionName, sizeof props[i].extensionName, "%s", g_extensions[i].name);
        props[i].extensionVersion = g_extensions[i].version;
    }
    return XR_SUCCESS;
}

XrResult XRAPI_CALL rt_xrCreateInstance(const XrInstanceCreateInfo *info, XrInstance *out)
{
    if (!info || !out || info->type != XR_TYPE_INSTANCE_CREATE_INFO || info->createFlags != 0 ||
        (info->enabledExtensionCount && !info->enabledExtensionNames))
        return XR_ERROR_VALIDATION_FAILURE;
    const XrApplicationInfo *app = &info->applicationInfo;
    if (!memchr(app->applicationName, 0, sizeof app->applicationName) || !app->applicationName[0])
        return XR_ERROR_NAME_INVALID;
    if (!memchr(app->engineName, 0, sizeof app->engineName))
        return XR_ERROR_NAME_INVALID;
    if (XR_VERSION_MAJOR(app->apiVersion) != 1 || XR_VERSION_MINOR(app->apiVersion) != 0)
        return XR_ERROR_API_VERSION_UNSUPPORTED;
    bool ext[EXTENSION_COUNT] = {false};
    for (uint32_t i = 0; i < info->enabledExtensionCount; i++) {
        const char *name = info->enabledExtensionNames[i];
        if (!name)
            return XR_ERROR_VALIDATION_FAILURE;
        size_t k = 0;
        while (k < EXTENSION_COUNT && strcmp(name, g_extensions[k].name) != 0)
            k++;
        if (k == EXTENSION_COUNT)
            return XR_ERROR_EXTENSION_NOT_PRESENT;
        ext[k] = true;
    }
    rt_instance *inst = calloc(1, sizeof *inst);
    if (!inst)
        return XR_ERROR_OUT_OF_MEMORY;
    char err[1024];
    if (rt_source_load(&inst->source, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", RT_RUNTIME_NAME, err);
        free(inst);
        return XR_ERROR_RUNTIME_FAILURE;
    }
    inst->ext_headless = ext[0];
    inst->ext_hand_tracking = ext[1];
    inst->ext_timespec = ext[2];
    inst->ext_opengl = ext[3];
    rt_lock();
    uint64_t h = rt_handle_new(&inst->obj, RT_INSTANCE, 0);
    rt_unlock();
    if (!h) {
        rt_obj_free(&inst->obj);
        return XR_ERROR_LIMIT_REACHED;
    }
    *out = (XrInstance)h;
    return XR_SUCCESS;
}

XrResult XRAPI_CALL rt_xrDestroyInstance(XrInstance instance)
{
    rt_lock();
    XrResult r = XR_SUCCESS;
    if (!rt_handle_get((uint64_t)instance, RT_INSTANCE))
        r = XR_ERROR_HANDLE_INVALID;
    else
        rt_handle_destroy((uint64_t)instance);
    rt_unlock();
    return r;
}

XrResult XRAPI_CALL rt_xrGetInstanceProperties(XrInstance instance, XrInstanceProperties *props)
{
    ENTER_INSTANCE(instance);
    (void)inst;
    if (!props || props->type != XR_TYPE_INSTANCE_PROPERTIES)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    props->runtimeVersion = XR_MAKE_VERSION(0, 1, 0);
    snprintf(props->runtimeName, sizeof props->runtimeName, "%s", RT_RUNTIME_NAME);
    RETURN(XR_SUCCESS);
}

/* ---- events ---- */

void rt_event_push(rt_instance *inst, const void *event, size_t size)
{
    XrEventDataBuffer *slot;
    if (inst->event_count == RT_MAX_EVENTS) {
        /* Full: the newest slot becomes (or stays) an events-lost notice. */
        slot = &inst->events[(inst->event_head + RT_MAX_EVENTS - 1) % RT_MAX_EVENTS];
        if (slot->type == XR_TYPE_EVENT_DATA_EVENTS_LOST) {
            ((XrEventDataEventsLost *)slot)->lostEventCount++;
        } else {
            XrEventDataEventsLost lost = {XR_TYPE_EVENT_DATA_EVENTS_LOST, NULL, 2};
            memset(slot, 0, sizeof *slot);
            memcpy(slot, &lost, sizeof lost);
        }
        return;
    }
    slot = &inst->events[(inst->event_head + inst->event_count) % RT_MAX_EVENTS];
    memset(slot, 0, sizeof *slot);
    memcpy(slot, event, size);
    inst->event_count++;
}

XrResult XRAPI_CALL rt_xrPollEvent(XrInstance instance, XrEventDataBuffer *event)
{
    ENTER_INSTANCE(instance);
    if (!event || event->type != XR_TYPE_EVENT_DATA_BUFFER)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    size_t cursor = 0;
    for (rt_obj *o; (o = rt_handle_next(RT_SESSION, inst->obj.handle, &cursor));)
        rt_session_advance((rt_session *)o);
    if (!inst->event_count)
        RETURN(XR_EVENT_UNAVAILABLE);
    *event = inst->events[inst->event_head];
    inst->event_head = (inst->event_head + 1) % RT_MAX_EVENTS;
    inst->event_count--;
    if (event->type == XR_TYPE_EVENT_DATA_INSTANCE_LOSS_PENDING) {
        inst->lost = true;
    } else if (event->type == XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED) {
        const XrEventDataSessionStateChanged *e = (const XrEventDataSessionStateChanged *)event;
        rt_session *s = rt_handle_get((uint64_t)e->session, RT_SESSION);
        if (s && e->state == XR_SESSION_STATE_LOSS_PENDING)
            s->loss_pending = true;
    }
    RETURN(XR_SUCCESS);
}

/* ---- enum names ---- */

XrResult XRAPI_CALL rt_xrResultToString(XrInstance instance, XrResult value, char buffer[XR_MAX_RESULT_STRING_SIZE])
{
    ENTER_INSTANCE(instance);
    (void)inst;
    if (!buffer)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    const char *name = NULL;
    switch (value) {
#define RT_RESULT_CASE(n, v)                                                                                       \
    case v:                                                                                                        \
        name = #n;                                                                                                 \
        break;
        XR_LIST_ENUM_XrResult(RT_RESULT_CASE)
#undef RT_RESULT_CASE
    }
    if (name && value != XR_RESULT_MAX_ENUM)
        snprintf(buffer, XR_MAX_RESULT_STRING_SIZE, "%s", name);
    else
        snprintf(buffer, XR_MAX_RESULT_STRING_SIZE, "XR_UNKNOWN_%s_%d", value >= 0 ? "SUCCESS" : "FAILURE",
                 (int)value);
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrStructureTypeToString(XrInstance instance, XrStructureType value,
                                               char buffer[XR_MAX_STRUCTURE_NAME_SIZE])
{
    ENTER_INSTANCE(instance);
    (void)inst;
    if (!buffer)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    const char *name = NULL;
    switch (value) {
#define RT_TYPE_CASE(n, v)                                                                                         \
    case v:                                                                                                        \
        name = #n;                                                                                                 \
        break;
        XR_LIST_ENUM_XrStructureType(RT_TYPE_CASE)
#undef RT_TYPE_CASE
    }
    if (name && value != XR_STRUCTURE_TYPE_MAX_ENUM)
        snprintf(buffer, XR_MAX_STRUCTURE_NAME_SIZE, "%s", name);
    else
        snprintf(buffer, XR_MAX_STRUCTURE_NAME_SIZE, "XR_UNKNOWN_STRUCTURE_TYPE_%d", (int)value);
    RETURN(XR_SUCCESS);
}

/* ---- paths ---- */

#define RT_MAX_PATHS 65536

static bool path_well_formed(const char *s)
{
    size_t n = strnlen(s, XR_MAX_PATH_LENGTH);
    if (n == 0 || n >= XR_MAX_PATH_LENGTH || s[0] != '/' || s[n - 1] == '/')
        return false;
    const char *comp = s + 1;
    for (size_t i = 1; i <= n; i++) {
        char c = s[i];
        if (c == '/' || c == '\0') {
            size_t len = (size_t)(s + i - comp);
            if (len == 0)
                return false;
            bool dots = true;
            for (size_t k = 0; k < len; k++)
                dots = dots && comp[k] == '.';
            if (dots)
                return false;
            comp = s + i + 1;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

XrPath rt_path_intern(rt_instance *inst, const char *s)
{
    for (size_t i = 0; i < inst->path_count; i++)
        if (strcmp(inst->paths[i], s) == 0)
            return (XrPath)(i + 1);
    if (inst->path_count >= RT_MAX_PATHS)
        return XR_NULL_PATH;
    if (inst->path_count == inst->path_cap) {
        size_t cap = inst->path_cap ? inst->path_cap * 2 : 64;
        char **n = realloc(inst->paths, cap * sizeof *n);
        if (!n)
            return XR_NULL_PATH;
        inst->paths = n;
        inst->path_cap = cap;
    }
    char *copy = strdup(s);
    if (!copy)
        return XR_NULL_PATH;
    inst->paths[inst->path_count++] = copy;
    return (XrPath)inst->path_count;
}

const char *rt_path_string(const rt_instance *inst, XrPath p)
{
    return p >= 1 && p <= inst->path_count ? inst->paths[p - 1] : NULL;
}

XrResult XRAPI_CALL rt_xrStringToPath(XrInstance instance, const char *string, XrPath *path)
{
    ENTER_INSTANCE(instance);
    if (!string || !path)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (!path_well_formed(string))
        RETURN(XR_ERROR_PATH_FORMAT_INVALID);
    XrPath p = rt_path_intern(inst, string);
    if (p == XR_NULL_PATH)
        RETURN(XR_ERROR_PATH_COUNT_EXCEEDED);
    *path = p;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrPathToString(XrInstance instance, XrPath path, uint32_t capacity, uint32_t *count,
                                      char *buffer)
{
    ENTER_INSTANCE(instance);
    const char *s = rt_path_string(inst, path);
    if (!s)
        RETURN(XR_ERROR_PATH_INVALID);
    uint32_t n = (uint32_t)strlen(s) + 1;
    XrResult r = rt_two_call(capacity, count, buffer, n);
    if (r == XR_SUCCESS && capacity)
        memcpy(buffer, s, n);
    RETURN(r);
}

/* ---- system ---- */

XrResult XRAPI_CALL rt_xrGetSystem(XrInstance instance, const XrSystemGetInfo *info, XrSystemId *system)
{
    ENTER_INSTANCE(instance);
    if (!info || !system || info->type != XR_TYPE_SYSTEM_GET_INFO)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (info->formFactor == XR_FORM_FACTOR_HANDHELD_DISPLAY)
        RETURN(XR_ERROR_FORM_FACTOR_UNSUPPORTED);
    if (info->formFactor != XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    inst->system_gotten = true;
    *system = RT_SYSTEM_ID;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrGetSystemProperties(XrInstance instance, XrSystemId system, XrSystemProperties *props)
{
    ENTER_INSTANCE(instance);
    if (!props || props->type != XR_TYPE_SYSTEM_PROPERTIES)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (system != RT_SYSTEM_ID)
        RETURN(XR_ERROR_SYSTEM_INVALID);
    props->systemId = RT_SYSTEM_ID;
    props->vendorId = 0;
    snprintf(props->systemName, sizeof props->systemName, "%s", RT_RUNTIME_NAME);
    props->graphicsProperties.maxSwapchainImageWidth = 4096;
    props->graphicsProperties.maxSwapchainImageHeight = 4096;
    props->graphicsProperties.maxLayerCount = XR_MIN_COMPOSITION_LAYERS_SUPPORTED;
    props->trackingProperties.orientationTracking = XR_TRUE;
    props->trackingProperties.positionTracking = XR_TRUE;
    for (XrBaseOutStructure *n = props->next; n; n = n->next)
        if (n->type == XR_TYPE_SYSTEM_HAND_TRACKING_PROPERTIES_EXT && inst->ext_hand_tracking)
            ((XrSystemHandTrackingPropertiesEXT *)n)->supportsHandTracking = XR_TRUE;
    RETURN(XR_SUCCESS);
}

/* XrViewConfigurationType values defined by the 1.0 headers: anything else
 * is not a valid enum. */
static XrResult view_config_check(XrViewConfigurationType t)
{
    if (t == XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO)
        return XR_SUCCESS;
    switch ((int)t) {
#define RT_VC_CASE(n, v)                                                                                           \
    case v:                                                                                                        \
        return XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED;
        XR_LIST_ENUM_XrViewConfigurationType(RT_VC_CASE)
#undef RT_VC_CASE
    }
    return XR_ERROR_VALIDATION_FAILURE;
}

XrResult XRAPI_CALL rt_xrEnumerateViewConfigurations(XrInstance instance, XrSystemId system, uint32_t capacity,
                                                     uint32_t *count, XrViewConfigurationType *types)
{
    ENTER_INSTANCE(instance);
    (void)inst;
    if (system != RT_SYSTEM_ID)
        RETURN(XR_ERROR_SYSTEM_INVALID);
    XrResult r = rt_two_call(capacity, count, types, 1);
    if (r == XR_SUCCESS && capacity)
        types[0] = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO;
    RETURN(r);
}

XrResult XRAPI_CALL rt_xrGetViewConfigurationProperties(XrInstance instance, XrSystemId system,
                                                        XrViewConfigurationType type,
                                                        XrViewConfigurationProperties *props)
{
    ENTER_INSTANCE(instance);
    (void)inst;
    if (!props || props->type != XR_TYPE_VIEW_CONFIGURATION_PROPERTIES)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (system != RT_SYSTEM_ID)
        RETURN(XR_ERROR_SYSTEM_INVALID);
    XrResult r = view_config_check(type);
    if (r != XR_SUCCESS)
        RETURN(r);
    props->viewConfigurationType = type;
    props->fovMutable = XR_FALSE;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrEnumerateViewConfigurationViews(XrInstance instance, XrSystemId system,
                                                         XrViewConfigurationType type, uint32_t capacity,
                                                         uint32_t *count, XrViewConfigurationView *views)
{
    ENTER_INSTANCE(instance);
    (void)inst;
    if (system != RT_SYSTEM_ID)
        RETURN(XR_ERROR_SYSTEM_INVALID);
    XrResult r = view_config_check(type);
    if (r != XR_SUCCESS)
        RETURN(r);
    r = rt_two_call(capacity, count, views, 2);
    if (r != XR_SUCCESS || !capacity)
        RETURN(r);
    for (int i = 0; i < 2; i++)
        if (views[i].type != XR_TYPE_VIEW_CONFIGURATION_VIEW)
            RETURN(XR_ERROR_VALIDATION_FAILURE);
    /* 640x480 per eye unless TELEOP_XR_REPLAY_EYE_SIZE=WxH: small enough
     * that tests render and read back every frame. */
    unsigned w = 640, h = 480;
    const char *size = getenv("TELEOP_XR_REPLAY_EYE_SIZE");
    if (size && (sscanf(size, "%ux%u", &w, &h) != 2 || !w || !h || w > 4096 || h > 4096)) {
        fprintf(stderr, "%s: TELEOP_XR_REPLAY_EYE_SIZE=%s is not WxH within 4096x4096; using 640x480\n",
                RT_RUNTIME_NAME, size);
        w = 640, h = 480;
    }
    for (int i = 0; i < 2; i++) {
        views[i].recommendedImageRectWidth = w;
        views[i].recommendedImageRectHeight = h;
        views[i].maxImageRectWidth = 4096;
        views[i].maxImageRectHeight = 4096;
        views[i].recommendedSwapchainSampleCount = 1;
        views[i].maxSwapchainSampleCount = 1;
    }
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrEnumerateEnvironmentBlendModes(XrInstance instance, XrSystemId system,
                                                        XrViewConfigurationType type, uint32_t capacity,
                                                        uint32_t *count, XrEnvironmentBlendMode *modes)
{
    ENTER_INSTANCE(instance);
    (void)inst;
    if (system != RT_SYSTEM_ID)
        RETURN(XR_ERROR_SYSTEM_INVALID);
    XrResult r = view_config_check(type);
    if (r != XR_SUCCESS)
        RETURN(r);
    r = rt_two_call(capacity, count, modes, 1);
    if (r == XR_SUCCESS && capacity)
        modes[0] = XR_ENVIRONMENT_BLEND_MODE_OPAQUE;
    RETURN(r);
}

/* ---- XR_KHR_convert_timespec_time: XrTime is CLOCK_MONOTONIC in ns ---- */

XrResult XRAPI_CALL rt_xrConvertTimespecTimeToTimeKHR(XrInstance instance, const struct timespec *ts, XrTime *time)
{
    ENTER_INSTANCE(instance);
    (void)inst;
    if (!ts || !time || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (ts->tv_sec < 0 || ts->tv_sec > INT64_MAX / 1000000000LL - 1)
        RETURN(XR_ERROR_TIME_INVALID);
    XrTime t = (XrTime)ts->tv_sec * 1000000000LL + ts->tv_nsec;
    if (t <= 0)
        RETURN(XR_ERROR_TIME_INVALID);
    *time = t;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrConvertTimeToTimespecTimeKHR(XrInstance instance, XrTime time, struct timespec *ts)
{
    ENTER_INSTANCE(instance);
    (void)inst;
    if (!ts)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (time <= 0)
        RETURN(XR_ERROR_TIME_INVALID);
    ts->tv_sec = (time_t)(time / 1000000000LL);
    ts->tv_nsec = (long)(time % 1000000000LL);
    RETURN(XR_SUCCESS);
}

/* ---- function lookup ---- */

enum { EXT_CORE, EXT_HAND, EXT_TIMESPEC, EXT_OPENGL, EXT_GLOBAL };

static const struct {
    const char *name;
    PFN_xrVoidFunction fn;
    int ext;
} g_functions[] = {
#define F(name, ext) {#name, (PFN_xrVoidFunction)rt_##name, ext},
    RT_API_FUNCTIONS(F)
#undef F
};

XrResult XRAPI_CALL rt_xrGetInstanceProcAddr(XrInstance instance, const char *name, PFN_xrVoidFunction *function)
{
    if (!function)
        return XR_ERROR_VALIDATION_FAILURE;
    *function = NULL;
    if (!name)
        return XR_ERROR_VALIDATION_FAILURE;
    size_t i = 0, n = sizeof g_functions / sizeof g_functions[0];
    while (i < n && strcmp(g_functions[i].name, name) != 0)
        i++;
    if (instance == XR_NULL_HANDLE) {
        if (i < n && g_functions[i].ext == EXT_GLOBAL) {
            *function = g_functions[i].fn;
            return XR_SUCCESS;
        }
        return strcmp(name, "xrGetInstanceProcAddr") == 0 ? (*function = (PFN_xrVoidFunction)rt_xrGetInstanceProcAddr,
                                                             XR_SUCCESS)
                                                          : XR_ERROR_HANDLE_INVALID;
    }
    rt_lock();
    /* A lost instance still answers lookups (the loader and layers may look
     * up xrDestroyInstance on it). */
    rt_instance *inst = rt_handle_get((uint64_t)instance, RT_INSTANCE);
    bool enabled = false;
    if (inst && i < n) {
        switch (g_functions[i].ext) {
        case EXT_HAND:
            enabled = inst->ext_hand_tracking;
            break;
        case EXT_TIMESPEC:
            enabled = inst->ext_timespec;
            break;
        case EXT_OPENGL:
            enabled = inst->ext_opengl;
            break;
        default:
            enabled = true;
        }
    }
    rt_unlock();
    if (!inst)
        return XR_ERROR_HANDLE_INVALID;
    if (strcmp(name, "xrGetInstanceProcAddr") == 0) {
        *function = (PFN_xrVoidFunction)rt_xrGetInstanceProcAddr;
        return XR_SUCCESS;
    }
    if (!enabled)
        return XR_ERROR_FUNCTION_UNSUPPORTED;
    *function = g_functions[i].fn;
    return XR_SUCCESS;
}

/* ---- loader negotiation (loader interface version 1) ---- */

/* The loader-runtime interface structures, declared from the OpenXR loader
 * specification (Debian's 1.0.20 SDK ships no loader_interfaces.h). */
enum {
    RT_LOADER_STRUCT_LOADER_INFO = 1,
    RT_LOADER_STRUCT_RUNTIME_REQUEST = 3,
};

typedef struct rt_negotiate_loader_info {
    int struct_type;
    uint32_t struct_version;
    size_t struct_size;
    uint32_t min_interface_version;
    uint32_t max_interface_version;
    XrVersion min_api_version;
    XrVersion max_api_version;
} rt_negotiate_loader_info;

typedef struct rt_negotiate_runtime_request {
    int struct_type;
    uint32_t struct_version;
    size_t struct_size;
    uint32_t runtime_interface_version;
    XrVersion runtime_api_version;
    PFN_xrGetInstanceProcAddr get_instance_proc_addr;
} rt_negotiate_runtime_request;

__attribute__((visibility("default"))) XrResult XRAPI_CALL
xrNegotiateLoaderRuntimeInterface(const rt_negotiate_loader_info *loader, rt_negotiate_runtime_request *request);

XrResult XRAPI_CALL xrNegotiateLoaderRuntimeInterface(const rt_negotiate_loader_info *loader,
                                                      rt_negotiate_runtime_request *request)
{
    if (!loader || !request || loader->struct_type != RT_LOADER_STRUCT_LOADER_INFO || loader->struct_version != 1 ||
        loader->struct_size != sizeof *loader || request->struct_type != RT_LOADER_STRUCT_RUNTIME_REQUEST ||
        request->struct_version != 1 || request->struct_size != sizeof *request)
        return XR_ERROR_INITIALIZATION_FAILED;
    if (loader->min_interface_version > 1 || loader->max_interface_version < 1)
        return XR_ERROR_INITIALIZATION_FAILED;
    const XrVersion ours = XR_MAKE_VERSION(1, 0, 0);
    /* Any 1.0.x the loader accepts: compare major.minor only. */
    if ((loader->min_api_version & ~0xFFFFFFFFull) > ours || (loader->max_api_version & ~0xFFFFFFFFull) < ours)
        return XR_ERROR_INITIALIZATION_FAILED;
    request->runtime_interface_version = 1;
    request->runtime_api_version = XR_CURRENT_API_VERSION;
    request->get_instance_proc_addr = rt_xrGetInstanceProcAddr;
    return XR_SUCCESS;
}
