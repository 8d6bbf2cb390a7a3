/* teleop xr-replay — headless sessions: lifecycle, frame pacing, reference
 * and action spaces, views, hand tracking, and the swapchain functions a
 * headless session refuses. */
#include "rt.h"
#include "rt_api.h"

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openxr/openxr_reflection.h>

typedef struct rt_space {
    rt_obj obj;
    rt_session *sess;
    bool is_action;
    XrReferenceSpaceType ref;
    rt_action *action;
    uint64_t action_handle;
    int slot; /* 0 left, 1 right, 2 any */
    tp_pose offset;
} rt_space;

typedef struct rt_hand_tracker {
    rt_obj obj;
    rt_session *sess;
    int side;
} rt_hand_tracker;

rt_session *rt_session_get(XrSession h, XrResult *res)
{
    rt_session *s = rt_handle_get((uint64_t)h, RT_SESSION);
    if (!s) {
        *res = XR_ERROR_HANDLE_INVALID;
        return NULL;
    }
    if (s->inst->lost) {
        *res = XR_ERROR_INSTANCE_LOST;
        return NULL;
    }
    if (s->loss_pending) {
        *res = XR_ERROR_SESSION_LOST;
        return NULL;
    }
    *res = XR_SUCCESS;
    return s;
}

double rt_session_stream_time(const rt_session *s, XrTime t)
{
    return s->begun_once ? (double)(t - s->t0) * 1e-9 : 0.0;
}

static void queue_state_at(rt_session *s, XrSessionState state, XrTime time)
{
    s->state = state;
    XrEventDataSessionStateChanged e = {XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED, NULL, (XrSession)s->obj.handle,
                                        state, time};
    rt_event_push(s->inst, &e, sizeof e);
}

void rt_session_queue_state(rt_session *s, XrSessionState state) { queue_state_at(s, state, rt_now()); }

static void request_exit(rt_session *s)
{
    if (s->exit_requested || !s->running)
        return;
    s->exit_requested = true;
    if (s->state == XR_SESSION_STATE_FOCUSED)
        rt_session_queue_state(s, XR_SESSION_STATE_VISIBLE);
    if (s->state == XR_SESSION_STATE_VISIBLE)
        rt_session_queue_state(s, XR_SESSION_STATE_SYNCHRONIZED);
    rt_session_queue_state(s, XR_SESSION_STATE_STOPPING);
}

void rt_session_advance(rt_session *s)
{
    if (!s->running || s->state == XR_SESSION_STATE_LOSS_PENDING)
        return;
    const rt_source *src = &s->inst->source;
    double now = rt_session_stream_time(s, rt_now());
    for (; s->script_cursor < src->event_count && src->events[s->script_cursor].t <= now; s->script_cursor++) {
        const rt_script_event *e = &src->events[s->script_cursor];
        switch (e->kind) {
        case RS_PROFILE:
            if (s->attached)
                rt_actions_rebind(s, e->profile, true);
            break;
        case RS_EXIT:
            request_exit(s);
            break;
        case RS_SESSION_LOSS:
            if (s->state != XR_SESSION_STATE_LOSS_PENDING)
                rt_session_queue_state(s, XR_SESSION_STATE_LOSS_PENDING);
            return;
        case RS_INSTANCE_LOSS: {
            XrEventDataInstanceLossPending e2 = {XR_TYPE_EVENT_DATA_INSTANCE_LOSS_PENDING, NULL, rt_now()};
            rt_event_push(s->inst, &e2, sizeof e2);
            break;
        }
        default:
            break;
        }
    }
    if (!src->loop && !s->stream_end_handled && now >= rt_source_duration(src)) {
        s->stream_end_handled = true;
        request_exit(s);
    }
}

XrResult XRAPI_CALL rt_xrCreateSession(XrInstance instance, const XrSessionCreateInfo *info, XrSession *out)
{
    rt_lock();
    XrResult r;
    rt_instance *inst = rt_instance_get(instance, &r);
    if (!inst)
        RETURN(r);
    if (!info || !out || info->type != XR_TYPE_SESSION_CREATE_INFO || info->createFlags != 0)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (info->systemId != RT_SYSTEM_ID)
        RETURN(XR_ERROR_SYSTEM_INVALID);
    bool graphics = false;
    XrResult gr = rt_gfx_binding_check(inst, info->next, &graphics);
    if (gr != XR_SUCCESS)
        RETURN(gr);
    if (!graphics && !inst->ext_headless)
        RETURN(XR_ERROR_GRAPHICS_DEVICE_INVALID); /* a binding is required */
    size_t cursor = 0;
    if (rt_handle_next(RT_SESSION, inst->obj.handle, &cursor))
        RETURN(XR_ERROR_LIMIT_REACHED);
    rt_session *s = calloc(1, sizeof *s);
    if (!s)
        RETURN(XR_ERROR_OUT_OF_MEMORY);
    s->inst = inst;
    s->graphics = graphics;
    s->profile[0] = s->profile[1] = RP_NONE;
    if (!rt_handle_new(&s->obj, RT_SESSION, inst->obj.handle)) {
        free(s);
        RETURN(XR_ERROR_LIMIT_REACHED);
    }
    rt_session_queue_state(s, XR_SESSION_STATE_IDLE);
    rt_session_queue_state(s, XR_SESSION_STATE_READY);
    *out = (XrSession)s->obj.handle;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrDestroySession(XrSession session)
{
    rt_lock();
    rt_session *s = rt_handle_get((uint64_t)session, RT_SESSION);
    if (!s)
        RETURN(XR_ERROR_HANDLE_INVALID);
    rt_handle_destroy((uint64_t)session);
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrBeginSession(XrSession session, const XrSessionBeginInfo *info)
{
    ENTER_SESSION(session);
    if (!info || info->type != XR_TYPE_SESSION_BEGIN_INFO)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (s->running)
        RETURN(XR_ERROR_SESSION_RUNNING);
    if (s->state != XR_SESSION_STATE_READY)
        RETURN(XR_ERROR_SESSION_NOT_READY);
    /* Headless: primaryViewConfigurationType is ignored (XR_MND_headless). */
    s->running = true;
    s->begun_once = true;
    s->exit_requested = false;
    s->stream_end_handled = false;
    s->script_cursor = 0;
    s->t0 = rt_now();
    s->frame_k = 0;
    s->waits_pending = 0;
    s->frame_begun = false;
    /* These three carry t0 itself: the app can anchor stream time on it. */
    queue_state_at(s, XR_SESSION_STATE_SYNCHRONIZED, s->t0);
    queue_state_at(s, XR_SESSION_STATE_VISIBLE, s->t0);
    queue_state_at(s, XR_SESSION_STATE_FOCUSED, s->t0);
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrEndSession(XrSession session)
{
    ENTER_SESSION(session);
    if (!s->running)
        RETURN(XR_ERROR_SESSION_NOT_RUNNING);
    if (s->state != XR_SESSION_STATE_STOPPING)
        RETURN(XR_ERROR_SESSION_NOT_STOPPING);
    s->running = false;
    rt_session_queue_state(s, XR_SESSION_STATE_IDLE);
    /* Every stop here is an exit (app request, script or end of source). */
    rt_session_queue_state(s, XR_SESSION_STATE_EXITING);
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrRequestExitSession(XrSession session)
{
    ENTER_SESSION(session);
    if (!s->running)
        RETURN(XR_ERROR_SESSION_NOT_RUNNING);
    request_exit(s);
    RETURN(XR_SUCCESS);
}

/* ---- frames: display slots every RT_FRAME_PERIOD_NS from xrBeginSession ---- */

XrResult XRAPI_CALL rt_xrWaitFrame(XrSession session, const XrFrameWaitInfo *info, XrFrameState *state)
{
    ENTER_SESSION(session);
    if ((info && info->type != XR_TYPE_FRAME_WAIT_INFO) || !state || state->type != XR_TYPE_FRAME_STATE)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (!s->running)
        RETURN(XR_ERROR_SESSION_NOT_RUNNING);
    XrTime now = rt_now();
    int64_t k = (now - s->t0) / RT_FRAME_PERIOD_NS + 2;
    if (k <= s->frame_k)
        k = s->frame_k + 1;
    s->frame_k = k;
    s->waits_pending = 1;
    XrTime wake = s->t0 + (k - 1) * RT_FRAME_PERIOD_NS;
    XrTime display = s->t0 + k * RT_FRAME_PERIOD_NS;
    rt_unlock();
    struct timespec ts = {(time_t)(wake / 1000000000LL), (long)(wake % 1000000000LL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
    state->predictedDisplayTime = display;
    state->predictedDisplayPeriod = RT_FRAME_PERIOD_NS;
    state->shouldRender = s->graphics ? XR_TRUE : XR_FALSE;
    rt_lock();
    if ((s = rt_session_get(session, &res_)) != NULL)
        rt_session_advance(s);
    rt_unlock();
    return XR_SUCCESS;
}

XrResult XRAPI_CALL rt_xrBeginFrame(XrSession session, const XrFrameBeginInfo *info)
{
    ENTER_SESSION(session);
    if (info && info->type != XR_TYPE_FRAME_BEGIN_INFO)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (!s->running)
        RETURN(XR_ERROR_SESSION_NOT_RUNNING);
    if (!s->waits_pending)
        RETURN(XR_ERROR_CALL_ORDER_INVALID);
    s->waits_pending = 0;
    if (s->frame_begun)
        RETURN(XR_FRAME_DISCARDED);
    s->frame_begun = true;
    RETURN(XR_SUCCESS);
}

static XrResult check_layer(const XrCompositionLayerBaseHeader *layer)
{
    if (!layer)
        return XR_ERROR_LAYER_INVALID;
    switch (layer->type) {
    case XR_TYPE_COMPOSITION_LAYER_PROJECTION:
    case XR_TYPE_COMPOSITION_LAYER_QUAD:
        if (!rt_handle_get((uint64_t)layer->space, RT_SPACE))
            return XR_ERROR_HANDLE_INVALID;
        /* The views' or quad's swapchain: no swapchain exists headless. */
        return XR_ERROR_HANDLE_INVALID;
    default:
        return XR_ERROR_LAYER_INVALID;
    }
}

XrResult XRAPI_CALL rt_xrEndFrame(XrSession session, const XrFrameEndInfo *info)
{
    ENTER_SESSION(session);
    if (!info || info->type != XR_TYPE_FRAME_END_INFO || (info->layerCount && !info->layers))
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (!s->running)
        RETURN(XR_ERROR_SESSION_NOT_RUNNING);
    if (!s->frame_begun)
        RETURN(XR_ERROR_CALL_ORDER_INVALID);
    if (info->displayTime <= 0)
        RETURN(XR_ERROR_TIME_INVALID);
    switch (info->environmentBlendMode) {
    case XR_ENVIRONMENT_BLEND_MODE_OPAQUE:
        break;
    case XR_ENVIRONMENT_BLEND_MODE_ADDITIVE:
    case XR_ENVIRONMENT_BLEND_MODE_ALPHA_BLEND:
        RETURN(XR_ERROR_ENVIRONMENT_BLEND_MODE_UNSUPPORTED);
    default:
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    }
    if (info->layerCount > XR_MIN_COMPOSITION_LAYERS_SUPPORTED)
        RETURN(XR_ERROR_LAYER_LIMIT_EXCEEDED);
    for (uint32_t i = 0; i < info->layerCount; i++) {
        XrResult r = s->graphics ? rt_gfx_layer_check(s, info->layers[i]) : check_layer(info->layers[i]);
        if (r != XR_SUCCESS)
            RETURN(r);
    }
    s->frame_begun = false;
    if (s->graphics)
        rt_gfx_dump_frame(s, info);
    RETURN(XR_SUCCESS);
}

/* ---- spaces ---- */

XrResult XRAPI_CALL rt_xrEnumerateReferenceSpaces(XrSession session, uint32_t capacity, uint32_t *count,
                                                  XrReferenceSpaceType *spaces)
{
    ENTER_SESSION(session);
    (void)s;
    static const XrReferenceSpaceType types[] = {XR_REFERENCE_SPACE_TYPE_VIEW, XR_REFERENCE_SPACE_TYPE_LOCAL,
                                                 XR_REFERENCE_SPACE_TYPE_STAGE};
    XrResult r = rt_two_call(capacity, count, spaces, 3);
    if (r == XR_SUCCESS && capacity)
        memcpy(spaces, types, sizeof types);
    RETURN(r);
}

static XrResult reference_space_check(XrReferenceSpaceType t)
{
    if (t == XR_REFERENCE_SPACE_TYPE_VIEW || t == XR_REFERENCE_SPACE_TYPE_LOCAL || t == XR_REFERENCE_SPACE_TYPE_STAGE)
        return XR_SUCCESS;
    switch ((int)t) {
#define RT_RS_CASE(n, v)                                                                                           \
    case v:                                                                                                        \
        return XR_ERROR_REFERENCE_SPACE_UNSUPPORTED;
        XR_LIST_ENUM_XrReferenceSpaceType(RT_RS_CASE)
#undef RT_RS_CASE
    }
    return XR_ERROR_VALIDATION_FAILURE;
}

XrResult XRAPI_CALL rt_xrCreateReferenceSpace(XrSession session, const XrReferenceSpaceCreateInfo *info,
                                              XrSpace *out)
{
    ENTER_SESSION(session);
    if (!info || !out || info->type != XR_TYPE_REFERENCE_SPACE_CREATE_INFO)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    XrResult r = reference_space_check(info->referenceSpaceType);
    if (r != XR_SUCCESS)
        RETURN(r);
    if (!rt_pose_valid(info->poseInReferenceSpace))
        RETURN(XR_ERROR_POSE_INVALID);
    rt_space *sp = calloc(1, sizeof *sp);
    if (!sp)
        RETURN(XR_ERROR_OUT_OF_MEMORY);
    sp->sess = s;
    sp->ref = info->referenceSpaceType;
    sp->offset = rt_from_xr_pose(info->poseInReferenceSpace);
    sp->offset.q = tp_quat_normalize(sp->offset.q);
    if (!rt_handle_new(&sp->obj, RT_SPACE, s->obj.handle)) {
        free(sp);
        RETURN(XR_ERROR_LIMIT_REACHED);
    }
    *out = (XrSpace)sp->obj.handle;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrGetReferenceSpaceBoundsRect(XrSession session, XrReferenceSpaceType type,
                                                     XrExtent2Df *bounds)
{
    ENTER_SESSION(session);
    (void)s;
    if (!bounds)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    XrResult r = reference_space_check(type);
    if (r != XR_SUCCESS)
        RETURN(r);
    if (type == XR_REFERENCE_SPACE_TYPE_STAGE) {
        *bounds = (XrExtent2Df){2.0f, 2.0f};
        RETURN(XR_SUCCESS);
    }
    *bounds = (XrExtent2Df){0.0f, 0.0f};
    RETURN(XR_SPACE_BOUNDS_UNAVAILABLE);
}

XrResult XRAPI_CALL rt_xrCreateActionSpace(XrSession session, const XrActionSpaceCreateInfo *info, XrSpace *out)
{
    ENTER_SESSION(session);
    if (!info || !out || info->type != XR_TYPE_ACTION_SPACE_CREATE_INFO)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    rt_action *a = rt_handle_get((uint64_t)info->action, RT_ACTION);
    if (!a || a->set->inst != s->inst)
        RETURN(XR_ERROR_HANDLE_INVALID);
    if (a->type != XR_ACTION_TYPE_POSE_INPUT)
        RETURN(XR_ERROR_ACTION_TYPE_MISMATCH);
    int slot = 2;
    if (info->subactionPath != XR_NULL_PATH) {
        if (!rt_path_string(s->inst, info->subactionPath))
            RETURN(XR_ERROR_PATH_INVALID);
        size_t i = 0;
        while (i < a->subaction_count && a->subactions[i] != info->subactionPath)
            i++;
        if (i == a->subaction_count)
            RETURN(XR_ERROR_PATH_UNSUPPORTED);
        int u = rt_user_path_index(s->inst, info->subactionPath);
        slot = u == 0 || u == 1 ? u : -1;
    }
    if (!rt_pose_valid(info->poseInActionSpace))
        RETURN(XR_ERROR_POSE_INVALID);
    rt_space *sp = calloc(1, sizeof *sp);
    if (!sp)
        RETURN(XR_ERROR_OUT_OF_MEMORY);
    sp->sess = s;
    sp->is_action = true;
    sp->action = a;
    sp->action_handle = a->obj.handle;
    sp->slot = slot;
    sp->offset = rt_from_xr_pose(info->poseInActionSpace);
    sp->offset.q = tp_quat_normalize(sp->offset.q);
    if (!rt_handle_new(&sp->obj, RT_SPACE, s->obj.handle)) {
        free(sp);
        RETURN(XR_ERROR_LIMIT_REACHED);
    }
    *out = (XrSpace)sp->obj.handle;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrDestroySpace(XrSpace space)
{
    rt_lock();
    if (!rt_handle_get((uint64_t)space, RT_SPACE))
        RETURN(XR_ERROR_HANDLE_INVALID);
    rt_handle_destroy((uint64_t)space);
    RETURN(XR_SUCCESS);
}

static bool space_pose(const rt_space *sp, const rt_sample *smp, tp_pose *out)
{
    const rt_session *s = sp->sess;
    tp_pose base;
    if (!sp->is_action) {
        switch (sp->ref) {
        case XR_REFERENCE_SPACE_TYPE_VIEW:
            if (!smp->frame.head_valid || smp->tracking_lost[0])
                return false;
            base = smp->frame.head;
            break;
        case XR_REFERENCE_SPACE_TYPE_LOCAL:
            base = s->inst->source.local_in_stage;
            break;
        default:
            base = tp_pose_identity();
        }
    } else {
        /* The action and its binding must be live as of the last sync. */
        if (sp->slot < 0 || !rt_handle_get(sp->action_handle, RT_ACTION))
            return false;
        int side;
        enum rt_pose_source which;
        if (!rt_action_pose_source(sp->action, sp->slot, &side, &which))
            return false;
        const tp_controller_frame *c = &smp->frame.ctrl[side];
        if (!c->active || smp->tracking_lost[1 + side])
            return false;
        if (which == RPS_GRIP && c->grip_valid)
            base = c->grip;
        else if (which == RPS_AIM && c->aim_valid)
            base = c->aim;
        else
            return false;
    }
    base.q = tp_quat_normalize(base.q);
    *out = tp_pose_mul(base, sp->offset);
    return true;
}

bool rt_space_pose_in_stage(uint64_t space, XrTime t, tp_pose *out)
{
    const rt_space *sp = rt_handle_get(space, RT_SPACE);
    if (!sp)
        return false;
    rt_sample smp;
    rt_source_sample(&sp->sess->inst->source, rt_session_stream_time(sp->sess, t), &smp);
    return space_pose(sp, &smp, out);
}

/* Pose of space in base at time t; false when either is not locatable. */
static bool relative_pose(const rt_space *sp, const rt_space *base, XrTime t, tp_pose *out)
{
    rt_sample smp;
    rt_source_sample(&sp->sess->inst->source, rt_session_stream_time(sp->sess, t), &smp);
    tp_pose a, b;
    if (!space_pose(sp, &smp, &a) || !space_pose(base, &smp, &b))
        return false;
    *out = tp_pose_mul(tp_pose_inverse(b), a);
    return true;
}

#define LOCATED                                                                                                    \
    (XR_SPACE_LOCATION_POSITION_VALID_BIT | XR_SPACE_LOCATION_ORIENTATION_VALID_BIT |                              \
     XR_SPACE_LOCATION_POSITION_TRACKED_BIT | XR_SPACE_LOCATION_ORIENTATION_TRACKED_BIT)
#define VELOCITY_DT_NS 1000000 /* central difference over +-1 ms */

XrResult XRAPI_CALL rt_xrLocateSpace(XrSpace space, XrSpace base_space, XrTime time, XrSpaceLocation *location)
{
    rt_lock();
    rt_space *sp = rt_handle_get((uint64_t)space, RT_SPACE);
    rt_space *base = rt_handle_get((uint64_t)base_space, RT_SPACE);
    if (!sp || !base)
        RETURN(XR_ERROR_HANDLE_INVALID);
    XrResult r;
    if (!rt_session_get((XrSession)sp->sess->obj.handle, &r))
        RETURN(r);
    if (!location || location->type != XR_TYPE_SPACE_LOCATION || sp->sess != base->sess)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    XrSpaceVelocity *vel = NULL;
    for (XrBaseOutStructure *n = location->next; n; n = n->next)
        if (n->type == XR_TYPE_SPACE_VELOCITY)
            vel = (XrSpaceVelocity *)n;
    if (time <= 0)
        RETURN(XR_ERROR_TIME_INVALID);
    tp_pose rel;
    if (relative_pose(sp, base, time, &rel)) {
        location->locationFlags = LOCATED;
        location->pose = rt_to_xr_pose(rel);
    } else {
        location->locationFlags = 0;
        location->pose = rt_to_xr_pose(tp_pose_identity());
    }
    if (vel) {
        tp_pose before, after;
        vel->velocityFlags = 0;
        vel->linearVelocity = (XrVector3f){0, 0, 0};
        vel->angularVelocity = (XrVector3f){0, 0, 0};
        if (location->locationFlags && relative_pose(sp, base, time - VELOCITY_DT_NS, &before) &&
            relative_pose(sp, base, time + VELOCITY_DT_NS, &after)) {
            rt_velocity(before, after, 2e-9 * VELOCITY_DT_NS, &vel->linearVelocity, &vel->angularVelocity);
            vel->velocityFlags = XR_SPACE_VELOCITY_LINEAR_VALID_BIT | XR_SPACE_VELOCITY_ANGULAR_VALID_BIT;
        }
    }
    RETURN(XR_SUCCESS);
}

/* ---- views: two eyes 63 mm apart at the head, 90° symmetric fields ---- */

#define RT_IPD 0.063

XrResult XRAPI_CALL rt_xrLocateViews(XrSession session, const XrViewLocateInfo *info, XrViewState *view_state,
                                     uint32_t capacity, uint32_t *count, XrView *views)
{
    ENTER_SESSION(session);
    if (!info || info->type != XR_TYPE_VIEW_LOCATE_INFO || !view_state || view_state->type != XR_TYPE_VIEW_STATE)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    XrResult r = XR_SUCCESS;
    if (info->viewConfigurationType != XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO) {
        r = XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED;
        switch ((int)info->viewConfigurationType) {
#define RT_VC_CASE(n, v)                                                                                           \
    case v:                                                                                                        \
        break;
            XR_LIST_ENUM_XrViewConfigurationType(RT_VC_CASE)
#undef RT_VC_CASE
        default:
            r = XR_ERROR_VALIDATION_FAILURE;
        }
        RETURN(r);
    }
    rt_space *base = rt_handle_get((uint64_t)info->space, RT_SPACE);
    if (!base)
        RETURN(XR_ERROR_HANDLE_INVALID);
    if (base->sess != s)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (info->displayTime <= 0)
        RETURN(XR_ERROR_TIME_INVALID);
    r = rt_two_call(capacity, count, views, 2);
    if (r != XR_SUCCESS || !capacity)
        RETURN(r);
    for (int i = 0; i < 2; i++)
        if (views[i].type != XR_TYPE_VIEW)
            RETURN(XR_ERROR_VALIDATION_FAILURE);
    rt_sample smp;
    rt_source_sample(&s->inst->source, rt_session_stream_time(s, info->displayTime), &smp);
    tp_pose b;
    bool ok = smp.frame.head_valid && !smp.tracking_lost[0] && space_pose(base, &smp, &b);
    view_state->viewStateFlags = ok ? LOCATED : 0;
    tp_pose head = smp.frame.head;
    head.q = tp_quat_normalize(head.q);
    for (int i = 0; i < 2; i++) {
        tp_pose eye = tp_pose_mul(head, (tp_pose){tp_v3(i == 0 ? -RT_IPD / 2 : RT_IPD / 2, 0, 0), tp_quat_identity()});
        views[i].pose = rt_to_xr_pose(ok ? tp_pose_mul(tp_pose_inverse(b), eye) : tp_pose_identity());
        views[i].fov = (XrFovf){-0.785398f, 0.785398f, 0.785398f, -0.785398f};
    }
    RETURN(XR_SUCCESS);
}

/* ---- XR_EXT_hand_tracking ---- */

XrResult XRAPI_CALL rt_xrCreateHandTrackerEXT(XrSession session, const XrHandTrackerCreateInfoEXT *info,
                                              XrHandTrackerEXT *out)
{
    ENTER_SESSION(session);
    if (!info || !out || info->type != XR_TYPE_HAND_TRACKER_CREATE_INFO_EXT ||
        (info->hand != XR_HAND_LEFT_EXT && info->hand != XR_HAND_RIGHT_EXT) ||
        info->handJointSet != XR_HAND_JOINT_SET_DEFAULT_EXT)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    rt_hand_tracker *t = calloc(1, sizeof *t);
    if (!t)
        RETURN(XR_ERROR_OUT_OF_MEMORY);
    t->sess = s;
    t->side = info->hand == XR_HAND_LEFT_EXT ? 0 : 1;
    if (!rt_handle_new(&t->obj, RT_HAND_TRACKER, s->obj.handle)) {
        free(t);
        RETURN(XR_ERROR_LIMIT_REACHED);
    }
    *out = (XrHandTrackerEXT)t->obj.handle;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrDestroyHandTrackerEXT(XrHandTrackerEXT tracker)
{
    rt_lock();
    if (!rt_handle_get((uint64_t)tracker, RT_HAND_TRACKER))
        RETURN(XR_ERROR_HANDLE_INVALID);
    rt_handle_destroy((uint64_t)tracker);
    RETURN(XR_SUCCESS);
}

/* Joint poses in base at time t (valid[j] false for untracked joints);
 * false when the hand is inactive or the base is not locatable. */
static bool hand_joints(const rt_hand_tracker *t, const rt_space *base, XrTime time, tp_pose poses[26],
                        float radii[26], bool valid[26])
{
    rt_sample smp;
    rt_source_sample(&t->sess->inst->source, rt_session_stream_time(t->sess, time), &smp);
    const tp_hand_frame *h = &smp.frame.hand[t->side];
    tp_pose b;
    if (t->sess->state != XR_SESSION_STATE_FOCUSED || !h->active || smp.tracking_lost[1 + t->side] ||
        !space_pose(base, &smp, &b))
        return false;
    tp_pose inv = tp_pose_inverse(b);
    for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
        tp_pose p = h->joints[j].pose;
        p.q = tp_quat_normalize(p.q);
        poses[j] = tp_pose_mul(inv, p);
        radii[j] = h->joints[j].radius;
        valid[j] = h->joints[j].valid;
    }
    return true;
}

XrResult XRAPI_CALL rt_xrLocateHandJointsEXT(XrHandTrackerEXT tracker, const XrHandJointsLocateInfoEXT *info,
                                             XrHandJointLocationsEXT *locations)
{
    rt_lock();
    rt_hand_tracker *t = rt_handle_get((uint64_t)tracker, RT_HAND_TRACKER);
    if (!t)
        RETURN(XR_ERROR_HANDLE_INVALID);
    XrResult r;
    if (!rt_session_get((XrSession)t->sess->obj.handle, &r))
        RETURN(r);
    if (!info || info->type != XR_TYPE_HAND_JOINTS_LOCATE_INFO_EXT || !locations ||
        locations->type != XR_TYPE_HAND_JOINT_LOCATIONS_EXT || locations->jointCount != XR_HAND_JOINT_COUNT_EXT ||
        !locations->jointLocations)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    XrHandJointVelocitiesEXT *vel = NULL;
    for (XrBaseOutStructure *n = locations->next; n; n = n->next)
        if (n->type == XR_TYPE_HAND_JOINT_VELOCITIES_EXT)
            vel = (XrHandJointVelocitiesEXT *)n;
    if (vel && (vel->jointCount != XR_HAND_JOINT_COUNT_EXT || !vel->jointVelocities))
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    rt_space *base = rt_handle_get((uint64_t)info->baseSpace, RT_SPACE);
    if (!base)
        RETURN(XR_ERROR_HANDLE_INVALID);
    if (base->sess != t->sess)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (info->time <= 0)
        RETURN(XR_ERROR_TIME_INVALID);
    tp_pose poses[26], before[26], after[26];
    float radii[26];
    bool valid[26], vb[26], va[26];
    bool active = hand_joints(t, base, info->time, poses, radii, valid);
    locations->isActive = active ? XR_TRUE : XR_FALSE;
    bool have_vel = vel && active && hand_joints(t, base, info->time - VELOCITY_DT_NS, before, radii, vb) &&
                    hand_joints(t, base, info->time + VELOCITY_DT_NS, after, radii, va);
    if (active)
        hand_joints(t, base, info->time, poses, radii, valid);
    for (int j = 0; j < XR_HAND_JOINT_COUNT_EXT; j++) {
        XrHandJointLocationEXT *l = &locations->jointLocations[j];
        bool ok = active && valid[j];
        l->locationFlags = ok ? LOCATED : 0;
        l->pose = rt_to_xr_pose(ok ? poses[j] : tp_pose_identity());
        l->radius = ok ? radii[j] : 0.0f;
        if (vel) {
            XrHandJointVelocityEXT *v = &vel->jointVelocities[j];
            v->velocityFlags = 0;
            v->linearVelocity = v->angularVelocity = (XrVector3f){0, 0, 0};
            if (ok && have_vel && vb[j] && va[j]) {
                rt_velocity(before[j], after[j], 2e-9 * VELOCITY_DT_NS, &v->linearVelocity, &v->angularVelocity);
                v->velocityFlags = XR_SPACE_VELOCITY_LINEAR_VALID_BIT | XR_SPACE_VELOCITY_ANGULAR_VALID_BIT;
            }
        }
    }
    RETURN(XR_SUCCESS);
}
