/* teleop xr-replay — the action system: action sets, actions, suggested
 * bindings for four controller profiles, attach, sync, states, haptics. */
#include "rt.h"
#include "rt_api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const user_paths[] = {"/user/hand/left", "/user/hand/right", "/user/head", "/user/gamepad",
                                         "/user/treadmill"};
static const char *const hand_labels[] = {"Left Hand", "Right Hand"};

int rt_user_path_index(const rt_instance *inst, XrPath p)
{
    const char *str = rt_path_string(inst, p);
    for (int i = 0; str && i < (int)(sizeof user_paths / sizeof user_paths[0]); i++)
        if (strcmp(str, user_paths[i]) == 0)
            return i;
    return -1;
}

/* A name is one well-formed path component. */
static XrResult name_check(const char *name, size_t size, XrResult empty)
{
    size_t n = strnlen(name, size);
    if (n == size)
        return XR_ERROR_VALIDATION_FAILURE;
    if (n == 0)
        return empty;
    bool dots = true;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return XR_ERROR_PATH_FORMAT_INVALID;
        dots = dots && c == '.';
    }
    return dots ? XR_ERROR_PATH_FORMAT_INVALID : XR_SUCCESS;
}

XrResult XRAPI_CALL rt_xrCreateActionSet(XrInstance instance, const XrActionSetCreateInfo *info, XrActionSet *out)
{
    rt_lock();
    XrResult r;
    rt_instance *inst = rt_instance_get(instance, &r);
    if (!inst)
        RETURN(r);
    if (!info || !out || info->type != XR_TYPE_ACTION_SET_CREATE_INFO)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if ((r = name_check(info->actionSetName, sizeof info->actionSetName, XR_ERROR_NAME_INVALID)) != XR_SUCCESS)
        RETURN(r);
    size_t ln = strnlen(info->localizedActionSetName, sizeof info->localizedActionSetName);
    if (ln == sizeof info->localizedActionSetName)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (ln == 0)
        RETURN(XR_ERROR_LOCALIZED_NAME_INVALID);
    size_t cursor = 0;
    for (rt_obj *o; (o = rt_handle_next(RT_ACTION_SET, inst->obj.handle, &cursor));) {
        const rt_action_set *other = (const rt_action_set *)o;
        if (strcmp(other->name, info->actionSetName) == 0)
            RETURN(XR_ERROR_NAME_DUPLICATED);
        if (strcmp(other->localized, info->localizedActionSetName) == 0)
            RETURN(XR_ERROR_LOCALIZED_NAME_DUPLICATED);
    }
    rt_action_set *set = calloc(1, sizeof *set);
    if (!set)
        RETURN(XR_ERROR_OUT_OF_MEMORY);
    set->inst = inst;
    snprintf(set->name, sizeof set->name, "%s", info->actionSetName);
    snprintf(set->localized, sizeof set->localized, "%s", info->localizedActionSetName);
    set->priority = info->priority;
    if (!rt_handle_new(&set->obj, RT_ACTION_SET, inst->obj.handle)) {
        free(set);
        RETURN(XR_ERROR_LIMIT_REACHED);
    }
    *out = (XrActionSet)set->obj.handle;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrDestroyActionSet(XrActionSet set)
{
    rt_lock();
    if (!rt_handle_get((uint64_t)set, RT_ACTION_SET))
        RETURN(XR_ERROR_HANDLE_INVALID);
    rt_handle_destroy((uint64_t)set);
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrCreateAction(XrActionSet set_handle, const XrActionCreateInfo *info, XrAction *out)
{
    rt_lock();
    rt_action_set *set = rt_handle_get((uint64_t)set_handle, RT_ACTION_SET);
    if (!set)
        RETURN(XR_ERROR_HANDLE_INVALID);
    if (set->inst->lost)
        RETURN(XR_ERROR_INSTANCE_LOST);
    if (!info || !out || info->type != XR_TYPE_ACTION_CREATE_INFO ||
        (info->countSubactionPaths && !info->subactionPaths))
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    switch (info->actionType) {
    case XR_ACTION_TYPE_BOOLEAN_INPUT:
    case XR_ACTION_TYPE_FLOAT_INPUT:
    case XR_ACTION_TYPE_VECTOR2F_INPUT:
    case XR_ACTION_TYPE_POSE_INPUT:
    case XR_ACTION_TYPE_VIBRATION_OUTPUT:
        break;
    default:
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    }
    XrResult r;
    if ((r = name_check(info->actionName, sizeof info->actionName, XR_ERROR_NAME_INVALID)) != XR_SUCCESS)
        RETURN(r);
    size_t ln = strnlen(info->localizedActionName, sizeof info->localizedActionName);
    if (ln == sizeof info->localizedActionName)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (ln == 0)
        RETURN(XR_ERROR_LOCALIZED_NAME_INVALID);
    if (set->attached)
        RETURN(XR_ERROR_ACTIONSETS_ALREADY_ATTACHED);
    size_t cursor = 0;
    for (rt_obj *o; (o = rt_handle_next(RT_ACTION, set->obj.handle, &cursor));) {
        const rt_action *other = (const rt_action *)o;
        if (strcmp(other->name, info->actionName) == 0)
            RETURN(XR_ERROR_NAME_DUPLICATED);
        if (strcmp(other->localized, info->localizedActionName) == 0)
            RETURN(XR_ERROR_LOCALIZED_NAME_DUPLICATED);
    }
    for (uint32_t i = 0; i < info->countSubactionPaths; i++) {
        if (!rt_path_string(set->inst, info->subactionPaths[i]))
            RETURN(XR_ERROR_PATH_INVALID);
        if (rt_user_path_index(set->inst, info->subactionPaths[i]) < 0)
            RETURN(XR_ERROR_PATH_UNSUPPORTED);
        for (uint32_t k = 0; k < i; k++)
            if (info->subactionPaths[k] == info->subactionPaths[i])
                RETURN(XR_ERROR_PATH_UNSUPPORTED);
    }
    if (info->countSubactionPaths > RT_MAX_SUBACTIONS)
        RETURN(XR_ERROR_PATH_UNSUPPORTED);
    rt_action *a = calloc(1, sizeof *a);
    if (!a)
        RETURN(XR_ERROR_OUT_OF_MEMORY);
    a->set = set;
    a->type = info->actionType;
    snprintf(a->name, sizeof a->name, "%s", info->actionName);
    snprintf(a->localized, sizeof a->localized, "%s", info->localizedActionName);
    if (info->countSubactionPaths)
        memcpy(a->subactions, info->subactionPaths, info->countSubactionPaths * sizeof *a->subactions);
    a->subaction_count = info->countSubactionPaths;
    if (!rt_handle_new(&a->obj, RT_ACTION, set->obj.handle)) {
        free(a);
        RETURN(XR_ERROR_LIMIT_REACHED);
    }
    *out = (XrAction)a->obj.handle;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrDestroyAction(XrAction action)
{
    rt_lock();
    if (!rt_handle_get((uint64_t)action, RT_ACTION))
        RETURN(XR_ERROR_HANDLE_INVALID);
    rt_handle_destroy((uint64_t)action);
    RETURN(XR_SUCCESS);
}

/* ---- bindings ---- */

/* The input a binding path names in profile, for an action of type; an
 * identifier path without a component ("…/input/trigger") picks the
 * component that suits the action. */
static const rt_input *resolve_binding(const char *path, int profile, XrActionType type, int *side)
{
    const char *rel;
    if (strncmp(path, "/user/hand/left/", 16) == 0) {
        *side = 0;
        rel = path + 16;
    } else if (strncmp(path, "/user/hand/right/", 17) == 0) {
        *side = 1;
        rel = path + 17;
    } else {
        return NULL;
    }
    const rt_input *in = rt_profile_input(profile, *side, rel);
    if (in)
        return in;
    static const char *const for_bool[] = {"/click", "/value", NULL};
    static const char *const for_float[] = {"/value", "/click", NULL};
    static const char *const for_pose[] = {"/pose", NULL};
    static const char *const none[] = {NULL};
    const char *const *suffixes = type == XR_ACTION_TYPE_BOOLEAN_INPUT ? for_bool
                                  : type == XR_ACTION_TYPE_FLOAT_INPUT ? for_float
                                  : type == XR_ACTION_TYPE_POSE_INPUT  ? for_pose
                                                                       : none;
    char buf[XR_MAX_PATH_LENGTH + 16];
    for (int i = 0; suffixes[i]; i++) {
        snprintf(buf, sizeof buf, "%s%s", rel, suffixes[i]);
        if ((in = rt_profile_input(profile, *side, buf)))
            return in;
    }
    return NULL;
}

static bool compatible(XrActionType type, enum rt_input_kind kind)
{
    switch (type) {
    case XR_ACTION_TYPE_BOOLEAN_INPUT:
    case XR_ACTION_TYPE_FLOAT_INPUT:
        return kind == RK_BOOL || kind == RK_FLOAT;
    case XR_ACTION_TYPE_VECTOR2F_INPUT:
        return kind == RK_VEC2;
    case XR_ACTION_TYPE_POSE_INPUT:
        return kind == RK_POSE;
    case XR_ACTION_TYPE_VIBRATION_OUTPUT:
        return kind == RK_HAPTIC;
    default:
        return false;
    }
}

XrResult XRAPI_CALL rt_xrSuggestInteractionProfileBindings(XrInstance instance,
                                                           const XrInteractionProfileSuggestedBinding *sb)
{
    rt_lock();
    XrResult r;
    rt_instance *inst = rt_instance_get(instance, &r);
    if (!inst)
        RETURN(r);
    if (!sb || sb->type != XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING || !sb->countSuggestedBindings ||
        !sb->suggestedBindings)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    const char *profile_str = rt_path_string(inst, sb->interactionProfile);
    if (!profile_str)
        RETURN(XR_ERROR_PATH_INVALID);
    int profile = rt_profile_find(profile_str);
    if (profile == RP_NONE)
        RETURN(XR_ERROR_PATH_UNSUPPORTED);
    for (uint32_t i = 0; i < sb->countSuggestedBindings; i++) {
        const XrActionSuggestedBinding *b = &sb->suggestedBindings[i];
        rt_action *a = rt_handle_get((uint64_t)b->action, RT_ACTION);
        if (!a || a->set->inst != inst)
            RETURN(XR_ERROR_HANDLE_INVALID);
        if (a->set->attached)
            RETURN(XR_ERROR_ACTIONSETS_ALREADY_ATTACHED);
        const char *path = rt_path_string(inst, b->binding);
        if (!path)
            RETURN(XR_ERROR_PATH_INVALID);
        int side;
        if (!resolve_binding(path, profile, a->type, &side))
            RETURN(XR_ERROR_PATH_UNSUPPORTED);
    }
    rt_binding *copy = malloc(sb->countSuggestedBindings * sizeof *copy);
    if (!copy)
        RETURN(XR_ERROR_OUT_OF_MEMORY);
    for (uint32_t i = 0; i < sb->countSuggestedBindings; i++)
        copy[i] = (rt_binding){(uint64_t)sb->suggestedBindings[i].action, sb->suggestedBindings[i].binding};
    free(inst->suggested[profile]);
    inst->suggested[profile] = copy;
    inst->suggested_count[profile] = sb->countSuggestedBindings;
    inst->suggested_set[profile] = true;
    RETURN(XR_SUCCESS);
}

static bool action_attached(const rt_session *s, const rt_action *a)
{
    for (size_t i = 0; i < s->set_count; i++)
        if (s->sets[i] == a->set->obj.handle)
            return true;
    return false;
}

/* Runs the body for every live action of the session's attached sets. */
#define FOR_ATTACHED_ACTIONS(s, a, ...)                                                                           \
    for (size_t set_i_ = 0; set_i_ < (s)->set_count; set_i_++) {                                                   \
        size_t cur_ = 0;                                                                                           \
        for (rt_obj * o_; (o_ = rt_handle_next(RT_ACTION, (s)->sets[set_i_], &cur_));) {                           \
            rt_action *a = (rt_action *)o_;                                                                        \
            __VA_ARGS__                                                                                            \
        }                                                                                                          \
    }

void rt_actions_rebind(rt_session *s, int emulated, bool notify)
{
    rt_instance *inst = s->inst;
    /* The emulated controller presents the scripted profile when the app
     * suggested bindings for it, otherwise the first the app did suggest. */
    static const int fallback[] = {RP_TOUCH, RP_INDEX, RP_VIVE, RP_SIMPLE};
    int chosen = RP_NONE;
    if (emulated != RP_NONE && inst->suggested_set[emulated])
        chosen = emulated;
    for (size_t i = 0; chosen == RP_NONE && i < sizeof fallback / sizeof fallback[0]; i++)
        if (inst->suggested_set[fallback[i]])
            chosen = fallback[i];
    bool changed = false;
    for (int h = 0; h < 2; h++) {
        changed = changed || s->profile[h] != chosen;
        s->profile[h] = chosen;
    }
    FOR_ATTACHED_ACTIONS(s, a, {
        a->bound_count = 0;
        if (chosen == RP_NONE)
            continue;
        for (size_t i = 0; i < inst->suggested_count[chosen]; i++) {
            const rt_binding *b = &inst->suggested[chosen][i];
            if (b->action != a->obj.handle)
                continue;
            int side;
            const rt_input *in = resolve_binding(rt_path_string(inst, b->path), chosen, a->type, &side);
            if (in && compatible(a->type, in->kind) && a->bound_count < sizeof a->bound / sizeof a->bound[0])
                a->bound[a->bound_count++] = (rt_bound){side, in};
        }
    })
    if (notify && changed) {
        XrEventDataInteractionProfileChanged e = {XR_TYPE_EVENT_DATA_INTERACTION_PROFILE_CHANGED, NULL,
                                                  (XrSession)s->obj.handle};
        rt_event_push(inst, &e, sizeof e);
    }
}

XrResult XRAPI_CALL rt_xrAttachSessionActionSets(XrSession session, const XrSessionActionSetsAttachInfo *info)
{
    ENTER_SESSION(session);
    if (!info || info->type != XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO || !info->countActionSets ||
        !info->actionSets)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (s->attached)
        RETURN(XR_ERROR_ACTIONSETS_ALREADY_ATTACHED);
    if (info->countActionSets > RT_MAX_SESSION_SETS)
        RETURN(XR_ERROR_LIMIT_REACHED);
    for (uint32_t i = 0; i < info->countActionSets; i++) {
        rt_action_set *set = rt_handle_get((uint64_t)info->actionSets[i], RT_ACTION_SET);
        if (!set || set->inst != s->inst)
            RETURN(XR_ERROR_HANDLE_INVALID);
    }
    for (uint32_t i = 0; i < info->countActionSets; i++) {
        rt_action_set *set = rt_handle_get((uint64_t)info->actionSets[i], RT_ACTION_SET);
        set->attached = true;
        s->sets[i] = set->obj.handle;
    }
    s->set_count = info->countActionSets;
    s->attached = true;
    FOR_ATTACHED_ACTIONS(s, a, { memset(a->state, 0, sizeof a->state); })
    rt_sample smp;
    rt_source_sample(&s->inst->source, rt_session_stream_time(s, rt_now()), &smp);
    rt_actions_rebind(s, smp.profile, true);
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrGetCurrentInteractionProfile(XrSession session, XrPath user_path,
                                                      XrInteractionProfileState *state)
{
    ENTER_SESSION(session);
    if (!state || state->type != XR_TYPE_INTERACTION_PROFILE_STATE)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (!s->attached)
        RETURN(XR_ERROR_ACTIONSET_NOT_ATTACHED);
    if (!rt_path_string(s->inst, user_path))
        RETURN(XR_ERROR_PATH_INVALID);
    int u = rt_user_path_index(s->inst, user_path);
    if (u < 0)
        RETURN(XR_ERROR_PATH_UNSUPPORTED);
    state->interactionProfile = XR_NULL_PATH;
    if (u < 2 && s->profile[u] != RP_NONE) {
        XrPath p = rt_path_intern(s->inst, rt_profile_get(s->profile[u])->path);
        if (p == XR_NULL_PATH)
            RETURN(XR_ERROR_PATH_COUNT_EXCEEDED);
        state->interactionProfile = p;
    }
    RETURN(XR_SUCCESS);
}

/* ---- sync and states ---- */

static bool subaction_allows(const rt_action *a, const rt_instance *inst, int side)
{
    if (!a->subaction_count)
        return true;
    for (size_t i = 0; i < a->subaction_count; i++)
        if (rt_user_path_index(inst, a->subactions[i]) == side)
            return true;
    return false;
}

/* Value of input on side from the sample; since = stream time of the script
 * override feeding it (or -1). */
static void input_value(const rt_input *in, const rt_sample *smp, int side, float v[2], double *since)
{
    const float *c = smp->control[side];
    v[0] = v[1] = 0;
    *since = -1;
    if (in->control == RC_NONE)
        return;
    v[0] = c[in->control];
    *since = smp->control_since[side][in->control];
    if (in->kind == RK_VEC2) {
        v[1] = c[in->control_y];
        if (smp->control_since[side][in->control_y] > *since)
            *since = smp->control_since[side][in->control_y];
    } else if (in->kind == RK_BOOL) {
        v[0] = (in->threshold ? v[0] > 0.5f : v[0] != 0.0f) ? 1.0f : 0.0f;
    }
}

static void update_state(rt_action_state *st, bool active, const float v[2], double since, const rt_session *s,
                         double prev_sync_s, XrTime now)
{
    float nv[2] = {active ? v[0] : 0.0f, active ? v[1] : 0.0f};
    st->changed = active && st->active && (nv[0] != st->v[0] || nv[1] != st->v[1]);
    if (active && (nv[0] != st->v[0] || nv[1] != st->v[1]))
        st->last_change = since >= 0 && since > prev_sync_s ? s->t0 + (XrTime)llround(since * 1e9) : now;
    st->active = active;
    st->v[0] = nv[0];
    st->v[1] = nv[1];
}

XrResult XRAPI_CALL rt_xrSyncActions(XrSession session, const XrActionsSyncInfo *info)
{
    ENTER_SESSION(session);
    if (!info || info->type != XR_TYPE_ACTIONS_SYNC_INFO || (info->countActiveActionSets && !info->activeActionSets))
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (!s->attached)
        RETURN(XR_ERROR_ACTIONSET_NOT_ATTACHED);
    /* active[i][side]: attached set i is active for that hand. */
    bool active[RT_MAX_SESSION_SETS][2];
    memset(active, 0, sizeof active);
    for (uint32_t k = 0; k < info->countActiveActionSets; k++) {
        const XrActiveActionSet *as = &info->activeActionSets[k];
        size_t i = 0;
        while (i < s->set_count && s->sets[i] != (uint64_t)as->actionSet)
            i++;
        if (!rt_handle_get((uint64_t)as->actionSet, RT_ACTION_SET))
            RETURN(XR_ERROR_HANDLE_INVALID);
        if (i == s->set_count)
            RETURN(XR_ERROR_ACTIONSET_NOT_ATTACHED);
        if (as->subactionPath == XR_NULL_PATH) {
            active[i][0] = active[i][1] = true;
            continue;
        }
        if (!rt_path_string(s->inst, as->subactionPath))
            RETURN(XR_ERROR_PATH_INVALID);
        int u = rt_user_path_index(s->inst, as->subactionPath);
        bool declared = false;
        size_t cur = 0;
        for (rt_obj *o; !declared && (o = rt_handle_next(RT_ACTION, s->sets[i], &cur));) {
            const rt_action *a = (const rt_action *)o;
            for (size_t j = 0; j < a->subaction_count; j++)
                declared = declared || a->subactions[j] == as->subactionPath;
        }
        if (u < 0 || !declared)
            RETURN(XR_ERROR_PATH_UNSUPPORTED);
        if (u < 2)
            active[i][u] = true;
    }
    rt_session_advance(s);
    bool focused = s->state == XR_SESSION_STATE_FOCUSED && !s->loss_pending;
    XrTime now = rt_now();
    double prev_sync_s = s->synced_once ? rt_session_stream_time(s, s->last_sync) : -1;
    rt_sample smp;
    rt_source_sample(&s->inst->source, rt_session_stream_time(s, now), &smp);
    for (size_t i = 0; i < s->set_count; i++) {
        size_t cur = 0;
        for (rt_obj *o; (o = rt_handle_next(RT_ACTION, s->sets[i], &cur));) {
            rt_action *a = (rt_action *)o;
            bool any_active = false;
            float any_v[2] = {0, 0};
            double any_since = -1;
            for (int side = 0; side < 2; side++) {
                bool on = focused && active[i][side] && subaction_allows(a, s->inst, side) &&
                          smp.frame.ctrl[side].active;
                bool bound = false;
                float v[2] = {0, 0};
                double since = -1;
                for (size_t b = 0; on && b < a->bound_count; b++) {
                    if (a->bound[b].side != side)
                        continue;
                    bound = true;
                    float bv[2];
                    double bs;
                    input_value(a->bound[b].input, &smp, side, bv, &bs);
                    /* Several bindings: the largest magnitude wins. */
                    if (hypotf(bv[0], bv[1]) > hypotf(v[0], v[1]) || (bs > since && bv[0] == v[0] && bv[1] == v[1])) {
                        v[0] = bv[0];
                        v[1] = bv[1];
                        since = bs;
                    }
                }
                on = on && bound;
                if (on && a->type == XR_ACTION_TYPE_BOOLEAN_INPUT)
                    v[0] = v[0] > 0.5f ? 1.0f : 0.0f;
                update_state(&a->state[side], on, v, since, s, prev_sync_s, now);
                if (on && (!any_active || hypotf(v[0], v[1]) > hypotf(any_v[0], any_v[1]))) {
                    any_v[0] = v[0];
                    any_v[1] = v[1];
                    any_since = since;
                }
                any_active = any_active || on;
            }
            update_state(&a->state[2], any_active, any_v, any_since, s, prev_sync_s, now);
        }
    }
    s->last_sync = now;
    s->synced_once = true;
    RETURN(focused ? XR_SUCCESS : XR_SESSION_NOT_FOCUSED);
}

/* The state slot getInfo names: 0 left, 1 right, 2 any, -1 a user path with
 * no input here (head, gamepad). */
/* The checks every use of an action shares: a live action of this
 * instance, attached, of the wanted type, and a subaction path it was
 * created with (XR_NULL_PATH: any). */
static XrResult action_lookup(rt_session *s, XrAction action, XrPath subaction, XrActionType type, rt_action **out)
{
    rt_action *a = rt_handle_get((uint64_t)action, RT_ACTION);
    if (!a || a->set->inst != s->inst)
        return XR_ERROR_HANDLE_INVALID;
    if (!action_attached(s, a))
        return XR_ERROR_ACTIONSET_NOT_ATTACHED;
    if (a->type != type)
        return XR_ERROR_ACTION_TYPE_MISMATCH;
    if (subaction != XR_NULL_PATH) {
        if (!rt_path_string(s->inst, subaction))
            return XR_ERROR_PATH_INVALID;
        size_t i = 0;
        while (i < a->subaction_count && a->subactions[i] != subaction)
            i++;
        if (i == a->subaction_count)
            return XR_ERROR_PATH_UNSUPPORTED;
    }
    *out = a;
    return XR_SUCCESS;
}

static XrResult state_lookup(rt_session *s, const XrActionStateGetInfo *info, XrActionType type, rt_action **out,
                             int *slot)
{
    if (!info || info->type != XR_TYPE_ACTION_STATE_GET_INFO)
        return XR_ERROR_VALIDATION_FAILURE;
    XrResult r = action_lookup(s, info->action, info->subactionPath, type, out);
    if (r != XR_SUCCESS)
        return r;
    *slot = 2;
    if (info->subactionPath != XR_NULL_PATH) {
        int u = rt_user_path_index(s->inst, info->subactionPath);
        *slot = u == 0 || u == 1 ? u : -1;
    }
    return XR_SUCCESS;
}

static const rt_action_state inactive_state;

#define GET_STATE(type_const, state_type)                                                                          \
    ENTER_SESSION(session);                                                                                        \
    if (!state || state->type != state_type)                                                                       \
        RETURN(XR_ERROR_VALIDATION_FAILURE);                                                                       \
    rt_action *a;                                                                                                  \
    int slot;                                                                                                      \
    XrResult r = state_lookup(s, info, type_const, &a, &slot);                                                     \
    if (r != XR_SUCCESS)                                                                                           \
        RETURN(r);                                                                                                 \
    const rt_action_state *st = slot >= 0 ? &a->state[slot] : &inactive_state;

XrResult XRAPI_CALL rt_xrGetActionStateBoolean(XrSession session, const XrActionStateGetInfo *info,
                                               XrActionStateBoolean *state)
{
    GET_STATE(XR_ACTION_TYPE_BOOLEAN_INPUT, XR_TYPE_ACTION_STATE_BOOLEAN);
    state->isActive = st->active;
    state->currentState = st->active && st->v[0] > 0.5f;
    state->changedSinceLastSync = st->changed;
    state->lastChangeTime = st->active ? st->last_change : 0;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrGetActionStateFloat(XrSession session, const XrActionStateGetInfo *info,
                                             XrActionStateFloat *state)
{
    GET_STATE(XR_ACTION_TYPE_FLOAT_INPUT, XR_TYPE_ACTION_STATE_FLOAT);
    state->isActive = st->active;
    state->currentState = st->active ? st->v[0] : 0.0f;
    state->changedSinceLastSync = st->changed;
    state->lastChangeTime = st->active ? st->last_change : 0;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrGetActionStateVector2f(XrSession session, const XrActionStateGetInfo *info,
                                                XrActionStateVector2f *state)
{
    GET_STATE(XR_ACTION_TYPE_VECTOR2F_INPUT, XR_TYPE_ACTION_STATE_VECTOR2F);
    state->isActive = st->active;
    state->currentState = st->active ? (XrVector2f){st->v[0], st->v[1]} : (XrVector2f){0, 0};
    state->changedSinceLastSync = st->changed;
    state->lastChangeTime = st->active ? st->last_change : 0;
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrGetActionStatePose(XrSession session, const XrActionStateGetInfo *info,
                                            XrActionStatePose *state)
{
    GET_STATE(XR_ACTION_TYPE_POSE_INPUT, XR_TYPE_ACTION_STATE_POSE);
    state->isActive = st->active;
    RETURN(XR_SUCCESS);
}

bool rt_action_pose_source(const rt_action *a, int slot, int *side, enum rt_pose_source *pose)
{
    for (int h = 0; h < 2; h++) {
        if ((slot != 2 && slot != h) || !a->state[h].active)
            continue;
        for (size_t b = 0; b < a->bound_count; b++) {
            if (a->bound[b].side == h && a->bound[b].input->kind == RK_POSE) {
                *side = h;
                *pose = a->bound[b].input->pose;
                return true;
            }
        }
    }
    return false;
}

XrResult XRAPI_CALL rt_xrEnumerateBoundSourcesForAction(XrSession session,
                                                        const XrBoundSourcesForActionEnumerateInfo *info,
                                                        uint32_t capacity, uint32_t *count, XrPath *sources)
{
    ENTER_SESSION(session);
    if (!info || info->type != XR_TYPE_BOUND_SOURCES_FOR_ACTION_ENUMERATE_INFO)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    rt_action *a = rt_handle_get((uint64_t)info->action, RT_ACTION);
    if (!a || a->set->inst != s->inst)
        RETURN(XR_ERROR_HANDLE_INVALID);
    if (!action_attached(s, a))
        RETURN(XR_ERROR_ACTIONSET_NOT_ATTACHED);
    XrResult r = rt_two_call(capacity, count, sources, (uint32_t)a->bound_count);
    if (r != XR_SUCCESS || !capacity)
        RETURN(r);
    for (size_t b = 0; b < a->bound_count; b++) {
        char path[XR_MAX_PATH_LENGTH + 32];
        snprintf(path, sizeof path, "%s/%s", user_paths[a->bound[b].side], a->bound[b].input->path);
        sources[b] = rt_path_intern(s->inst, path);
        if (sources[b] == XR_NULL_PATH)
            RETURN(XR_ERROR_PATH_COUNT_EXCEEDED);
    }
    RETURN(XR_SUCCESS);
}

XrResult XRAPI_CALL rt_xrGetInputSourceLocalizedName(XrSession session, const XrInputSourceLocalizedNameGetInfo *info,
                                                     uint32_t capacity, uint32_t *count, char *buffer)
{
    ENTER_SESSION(session);
    const XrInputSourceLocalizedNameFlags all = XR_INPUT_SOURCE_LOCALIZED_NAME_USER_PATH_BIT |
                                                XR_INPUT_SOURCE_LOCALIZED_NAME_INTERACTION_PROFILE_BIT |
                                                XR_INPUT_SOURCE_LOCALIZED_NAME_COMPONENT_BIT;
    if (!info || info->type != XR_TYPE_INPUT_SOURCE_LOCALIZED_NAME_GET_INFO || !info->whichComponents ||
        (info->whichComponents & ~all))
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    if (!s->attached)
        RETURN(XR_ERROR_ACTIONSET_NOT_ATTACHED);
    const char *path = rt_path_string(s->inst, info->sourcePath);
    if (!path)
        RETURN(XR_ERROR_PATH_INVALID);
    int side = -1;
    const char *rel = NULL;
    for (int h = 0; h < 2; h++) {
        size_t n = strlen(user_paths[h]);
        if (strncmp(path, user_paths[h], n) == 0 && (path[n] == '\0' || path[n] == '/')) {
            side = h;
            rel = path[n] ? path + n + 1 : NULL;
        }
    }
    if (side < 0 || s->profile[side] == RP_NONE)
        RETURN(XR_ERROR_PATH_UNSUPPORTED);
    const rt_input *in = NULL;
    if (rel && !(in = rt_profile_input(s->profile[side], side, rel)))
        RETURN(XR_ERROR_PATH_UNSUPPORTED);
    char name[256] = "";
    size_t len = 0;
    const char *parts[3] = {
        (info->whichComponents & XR_INPUT_SOURCE_LOCALIZED_NAME_USER_PATH_BIT) ? hand_labels[side] : NULL,
        (info->whichComponents & XR_INPUT_SOURCE_LOCALIZED_NAME_INTERACTION_PROFILE_BIT)
            ? rt_profile_get(s->profile[side])->label
            : NULL,
        (info->whichComponents & XR_INPUT_SOURCE_LOCALIZED_NAME_COMPONENT_BIT) && in ? in->label : NULL,
    };
    for (int i = 0; i < 3; i++)
        if (parts[i])
            len += (size_t)snprintf(name + len, sizeof name - len, "%s%s", len ? " " : "", parts[i]);
    uint32_t n = (uint32_t)strlen(name) + 1;
    XrResult r = rt_two_call(capacity, count, buffer, n);
    if (r == XR_SUCCESS && capacity)
        memcpy(buffer, name, n);
    RETURN(r);
}

static XrResult haptic_lookup(rt_session *s, const XrHapticActionInfo *info)
{
    if (!info || info->type != XR_TYPE_HAPTIC_ACTION_INFO)
        return XR_ERROR_VALIDATION_FAILURE;
    rt_action *a;
    XrResult r = action_lookup(s, info->action, info->subactionPath, XR_ACTION_TYPE_VIBRATION_OUTPUT, &a);
    if (r != XR_SUCCESS)
        return r;
    return s->state == XR_SESSION_STATE_FOCUSED ? XR_SUCCESS : XR_SESSION_NOT_FOCUSED;
}

/* TELEOP_XR_REPLAY_HAPTICS=FILE: one line appended per accepted call, so
 * tests can check what an operator's controllers would have felt. */
static void haptic_log(rt_session *s, const XrHapticActionInfo *info, const XrHapticVibration *v)
{
    const char *path = getenv("TELEOP_XR_REPLAY_HAPTICS");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "a");
    if (!f) {
        fprintf(stderr, "%s: TELEOP_XR_REPLAY_HAPTICS=%s: cannot open for appending\n", RT_RUNTIME_NAME, path);
        return;
    }
    rt_action *a = rt_handle_get((uint64_t)info->action, RT_ACTION);
    const char *sub = info->subactionPath ? rt_path_string(s->inst, info->subactionPath) : NULL;
    if (v)
        fprintf(f, "apply %lld %s %s %lld %g %g\n", (long long)rt_now(), a->name, sub ? sub : "-",
                (long long)v->duration, (double)v->frequency, (double)v->amplitude);
    else
        fprintf(f, "stop %lld %s %s\n", (long long)rt_now(), a->name, sub ? sub : "-");
    fclose(f);
}

XrResult XRAPI_CALL rt_xrApplyHapticFeedback(XrSession session, const XrHapticActionInfo *info,
                                             const XrHapticBaseHeader *feedback)
{
    ENTER_SESSION(session);
    if (!feedback || feedback->type != XR_TYPE_HAPTIC_VIBRATION)
        RETURN(XR_ERROR_VALIDATION_FAILURE);
    /* No actuator to drive: the call is logged when a log is asked for. */
    XrResult r = haptic_lookup(s, info);
    if (r == XR_SUCCESS)
        haptic_log(s, info, (const XrHapticVibration *)feedback);
    RETURN(r);
}

XrResult XRAPI_CALL rt_xrStopHapticFeedback(XrSession session, const XrHapticActionInfo *info)
{
    ENTER_SESSION(session);
    XrResult r = haptic_lookup(s, info);
    if (r == XR_SUCCESS)
        haptic_log(s, info, NULL);
    RETURN(r);
}
