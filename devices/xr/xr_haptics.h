/* teleop — the OpenXR client's haptic output (private to devices/xr): one
 * vibration output action in the client's action set, bound to
 * /user/hand/{left,right}/output/haptic in every interaction profile the
 * client suggests, and the calls that play or stop a pulse on a controller.
 *
 * xr.c owns the struct (inside tp_xr) and calls xr_haptics_create where it
 * creates its actions, xr_haptics_bindings where it builds each profile's
 * suggested bindings; tp_xr_haptic (xr.h) plays a tp_haptic_pulse.
 * No allocation; the action is destroyed with its action set.
 */
#ifndef TELEOP_XR_HAPTICS_H
#define TELEOP_XR_HAPTICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openxr/openxr.h>

#include "teleop/operator_feedback.h"

typedef struct xr_haptics {
    XrAction action;    /* XR_ACTION_TYPE_VIBRATION_OUTPUT, subaction paths both hands */
    XrPath hand_path[2];
    XrPath output[2];   /* /user/hand/{left,right}/output/haptic */
} xr_haptics;

/* The action "haptic" in set, for the two hands. 0, or -1 with a message. */
int xr_haptics_create(xr_haptics *h, XrInstance instance, XrActionSet set, const XrPath hand_path[2], char *err,
                      size_t errlen);
/* Appends the action's two suggested bindings (left, right) to sb when
 * room (free slots) allows; returns how many were appended (2 or 0). */
uint32_t xr_haptics_bindings(const xr_haptics *h, XrActionSuggestedBinding *sb, uint32_t room);
/* Plays (TP_HAPTIC_PULSE: xrApplyHapticFeedback with an XrHapticVibration
 * of the pulse's amplitude, duration and frequency) or stops
 * (TP_HAPTIC_STOP: xrStopHapticFeedback) on side 0 left / 1 right; nothing
 * for TP_HAPTIC_NONE. Returns the XrResult (XR_SUCCESS, or
 * XR_SESSION_NOT_FOCUSED while the application is not focused: the runtime
 * plays nothing then). */
XrResult xr_haptics_apply(const xr_haptics *h, XrSession session, int side, const tp_haptic_pulse *pulse);

#endif
