/* teleop — the OpenXR client's haptic output action and pulses. */
#include "xr_haptics.h"

#include <stdio.h>
#include <string.h>

#include "teleop/xr.h"

int xr_haptics_create(xr_haptics *h, XrInstance instance, XrActionSet set, const XrPath hand_path[2], char *err,
                      size_t errlen)
{
    memset(h, 0, sizeof *h);
    h->hand_path[0] = hand_path[0];
    h->hand_path[1] = hand_path[1];
    XrActionCreateInfo ai = {.type = XR_TYPE_ACTION_CREATE_INFO, .actionType = XR_ACTION_TYPE_VIBRATION_OUTPUT,
                             .countSubactionPaths = 2, .subactionPaths = h->hand_path};
    snprintf(ai.actionName, sizeof ai.actionName, "haptic");
    snprintf(ai.localizedActionName, sizeof ai.localizedActionName, "Haptic warning");
    XrResult r = xrCreateAction(set, &ai, &h->action);
    if (XR_FAILED(r)) {
        snprintf(err, errlen, "OpenXR xrCreateAction (haptic) failed: %s", tp_xr_result_name(r));
        return -1;
    }
    static const char *const paths[2] = {"/user/hand/left/output/haptic", "/user/hand/right/output/haptic"};
    for (int s = 0; s < 2; s++) {
        r = xrStringToPath(instance, paths[s], &h->output[s]);
        if (XR_FAILED(r)) {
            snprintf(err, errlen, "OpenXR xrStringToPath (%s) failed: %s", paths[s], tp_xr_result_name(r));
            return -1;
        }
    }
    return 0;
}

uint32_t xr_haptics_bindings(const xr_haptics *h, XrActionSuggestedBinding *sb, uint32_t room)
{
    if (h->action == XR_NULL_HANDLE || room < 2)
        return 0;
    for (int s = 0; s < 2; s++)
        sb[s] = (XrActionSuggestedBinding){.action = h->action, .binding = h->output[s]};
    return 2;
}

XrResult xr_haptics_apply(const xr_haptics *h, XrSession session, int side, const tp_haptic_pulse *pulse)
{
    if (!pulse || pulse->action == TP_HAPTIC_NONE || h->action == XR_NULL_HANDLE || side < 0 || side > 1)
        return XR_SUCCESS;
    XrHapticActionInfo info = {.type = XR_TYPE_HAPTIC_ACTION_INFO, .action = h->action,
                               .subactionPath = h->hand_path[side]};
    if (pulse->action == TP_HAPTIC_STOP)
        return xrStopHapticFeedback(session, &info);
    /* The pulse's own duration and frequency (both > 0, tp_feedback_pulse);
     * anything else is left to the runtime (XR_MIN_HAPTIC_DURATION, the
     * controller's natural frequency: XR_FREQUENCY_UNSPECIFIED). */
    XrHapticVibration v = {.type = XR_TYPE_HAPTIC_VIBRATION,
                           .duration = pulse->duration_ns > 0 ? pulse->duration_ns : XR_MIN_HAPTIC_DURATION,
                           .frequency = pulse->frequency_hz > 0 ? pulse->frequency_hz : XR_FREQUENCY_UNSPECIFIED,
                           .amplitude = pulse->amplitude < 0 ? 0 : pulse->amplitude > 1 ? 1 : pulse->amplitude};
    return xrApplyHapticFeedback(session, &info, (const XrHapticBaseHeader *)&v);
}
