/* teleop xr-replay — every OpenXR function the runtime implements, with the
 * extension it belongs to (EXT_CORE, EXT_HAND, EXT_TIMESPEC; EXT_GLOBAL for
 * the three callable without an instance). The declarations take their
 * signatures from the headers' PFN types, so a mismatch does not compile. */
#ifndef TELEOP_XR_REPLAY_RT_API_H
#define TELEOP_XR_REPLAY_RT_API_H

#include "rt.h"

#define RT_API_FUNCTIONS(F)                                                                                        \
    F(xrEnumerateApiLayerProperties, EXT_GLOBAL)                                                                   \
    F(xrEnumerateInstanceExtensionProperties, EXT_GLOBAL)                                                          \
    F(xrCreateInstance, EXT_GLOBAL)                                                                                \
    F(xrDestroyInstance, EXT_CORE)                                                                                 \
    F(xrGetInstanceProperties, EXT_CORE)                                                                           \
    F(xrPollEvent, EXT_CORE)                                                                                       \
    F(xrResultToString, EXT_CORE)                                                                                  \
    F(xrStructureTypeToString, EXT_CORE)                                                                           \
    F(xrGetSystem, EXT_CORE)                                                                                       \
    F(xrGetSystemProperties, EXT_CORE)                                                                             \
    F(xrEnumerateEnvironmentBlendModes, EXT_CORE)                                                                  \
    F(xrCreateSession, EXT_CORE)                                                                                   \
    F(xrDestroySession, EXT_CORE)                                                                                  \
    F(xrEnumerateReferenceSpaces, EXT_CORE)                                                                        \
    F(xrCreateReferenceSpace, EXT_CORE)                                                                            \
    F(xrGetReferenceSpaceBoundsRect, EXT_CORE)                                                                     \
    F(xrCreateActionSpace, EXT_CORE)                                                                               \
    F(xrLocateSpace, EXT_CORE)                                                                                     \
    F(xrDestroySpace, EXT_CORE)                                                                                    \
    F(xrEnumerateViewConfigurations, EXT_CORE)                                                                     \
    F(xrGetViewConfigurationProperties, EXT_CORE)                                                                  \
    F(xrEnumerateViewConfigurationViews, EXT_CORE)                                                                 \
    F(xrEnumerateSwapchainFormats, EXT_CORE)                                                                       \
    F(xrCreateSwapchain, EXT_CORE)                                                                                 \
    F(xrDestroySwapchain, EXT_CORE)                                                                                \
    F(xrEnumerateSwapchainImages, EXT_CORE)                                                                        \
    F(xrAcquireSwapchainImage, EXT_CORE)                                                                           \
    F(xrWaitSwapchainImage, EXT_CORE)                                                                              \
    F(xrReleaseSwapchainImage, EXT_CORE)                                                                           \
    F(xrBeginSession, EXT_CORE)                                                                                    \
    F(xrEndSession, EXT_CORE)                                                                                      \
    F(xrRequestExitSession, EXT_CORE)                                                                              \
    F(xrWaitFrame, EXT_CORE)                                                                                       \
    F(xrBeginFrame, EXT_CORE)                                                                                      \
    F(xrEndFrame, EXT_CORE)                                                                                        \
    F(xrLocateViews, EXT_CORE)                                                                                     \
    F(xrStringToPath, EXT_CORE)                                                                                    \
    F(xrPathToString, EXT_CORE)                                                                                    \
    F(xrCreateActionSet, EXT_CORE)                                                                                 \
    F(xrDestroyActionSet, EXT_CORE)                                                                                \
    F(xrCreateAction, EXT_CORE)                                                                                    \
    F(xrDestroyAction, EXT_CORE)                                                                                   \
    F(xrSuggestInteractionProfileBindings, EXT_CORE)                                                               \
    F(xrAttachSessionActionSets, EXT_CORE)                                                                         \
    F(xrGetCurrentInteractionProfile, EXT_CORE)                                                                    \
    F(xrGetActionStateBoolean, EXT_CORE)                                                                           \
    F(xrGetActionStateFloat, EXT_CORE)                                                                             \
    F(xrGetActionStateVector2f, EXT_CORE)                                                                          \
    F(xrGetActionStatePose, EXT_CORE)                                                                              \
    F(xrSyncActions, EXT_CORE)                                                                                     \
    F(xrEnumerateBoundSourcesForAction, EXT_CORE)                                                                  \
    F(xrGetInputSourceLocalizedName, EXT_CORE)                                                                     \
    F(xrApplyHapticFeedback, EXT_CORE)                                                                             \
    F(xrStopHapticFeedback, EXT_CORE)                                                                              \
    F(xrCreateHandTrackerEXT, EXT_HAND)                                                                            \
    F(xrDestroyHandTrackerEXT, EXT_HAND)                                                                           \
    F(xrLocateHandJointsEXT, EXT_HAND)                                                                             \
    F(xrConvertTimespecTimeToTimeKHR, EXT_TIMESPEC)                                                                \
    F(xrConvertTimeToTimespecTimeKHR, EXT_TIMESPEC)                                                                \
    F(xrGetOpenGLGraphicsRequirementsKHR, EXT_OPENGL)

#define RT_DECLARE(name, ext) __typeof__(*(PFN_##name)0) rt_##name;
RT_API_FUNCTIONS(RT_DECLARE)
#undef RT_DECLARE
__typeof__(*(PFN_xrGetInstanceProcAddr)0) rt_xrGetInstanceProcAddr;

#endif
