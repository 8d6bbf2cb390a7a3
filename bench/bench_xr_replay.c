/* teleop-bench-xr-replay [SECONDS]: the replay OpenXR runtime through the
 * Khronos loader, playing the bundled demo motion. Prints the frame loop's
 * rate and wake lateness (xrWaitFrame returns vs one period before the
 * predicted display time), and per-call cost (median, p99) of locating the
 * head, one hand's 26 joints, and syncing actions plus reading one state. */
#include <time.h>

#define XR_USE_TIMESPEC
#include <openxr/openxr.h>

#include "teleop/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, int64_t *v, size_t n, double scale, const char *unit)
{
    qsort(v, n, sizeof *v, cmp_i64);
    printf("%-44s median %8.2f %s, p99 %8.2f %s (n=%zu)\n", what, (double)v[n / 2] * scale, unit,
           (double)v[n * 99 / 100] * scale, unit, n);
}

#define XR(call)                                                                                                   \
    do {                                                                                                           \
        XrResult r_ = (call);                                                                                      \
        if (XR_FAILED(r_)) {                                                                                       \
            fprintf(stderr, "teleop-bench-xr-replay: %s failed: %d\n", #call, (int)r_);                            \
            return 1;                                                                                              \
        }                                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 5.0;
    if (!(seconds > 0.5 && seconds <= 600)) {
        fprintf(stderr, "usage: teleop-bench-xr-replay [SECONDS in (0.5, 600]]\n");
        return 2;
    }
    char manifest[4096], err[1024];
    if (tp_find_data("devices/xr-replay/teleop_xr_replay.json", manifest, sizeof manifest, err, sizeof err) != 0) {
        fprintf(stderr, "teleop-bench-xr-replay: %s\n", err);
        return 1;
    }
    setenv("XR_RUNTIME_JSON", manifest, 1);
    unsetenv("TELEOP_XR_REPLAY_SOURCE");
    unsetenv("TELEOP_XR_REPLAY_SCRIPT");
    setenv("TELEOP_XR_REPLAY_LOOP", "1", 1);

    const char *ext[] = {XR_MND_HEADLESS_EXTENSION_NAME, XR_EXT_HAND_TRACKING_EXTENSION_NAME};
    XrInstanceCreateInfo ci = {XR_TYPE_INSTANCE_CREATE_INFO, NULL, 0, {"bench", 1, "", 0, XR_MAKE_VERSION(1, 0, 0)},
                               0, NULL, 2, ext};
    XrInstance inst;
    XR(xrCreateInstance(&ci, &inst));
    XrSystemGetInfo gi = {XR_TYPE_SYSTEM_GET_INFO, NULL, XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY};
    XrSystemId sys;
    XR(xrGetSystem(inst, &gi, &sys));
    XrSessionCreateInfo sci = {XR_TYPE_SESSION_CREATE_INFO, NULL, 0, sys};
    XrSession s;
    XR(xrCreateSession(inst, &sci, &s));
    XrReferenceSpaceCreateInfo rci = {XR_TYPE_REFERENCE_SPACE_CREATE_INFO, NULL, XR_REFERENCE_SPACE_TYPE_STAGE,
                                      {{0, 0, 0, 1}, {0, 0, 0}}};
    XrSpace stage, view;
    XR(xrCreateReferenceSpace(s, &rci, &stage));
    rci.referenceSpaceType = XR_REFERENCE_SPACE_TYPE_VIEW;
    XR(xrCreateReferenceSpace(s, &rci, &view));
    PFN_xrCreateHandTrackerEXT create_tracker;
    PFN_xrLocateHandJointsEXT locate_joints;
    XR(xrGetInstanceProcAddr(inst, "xrCreateHandTrackerEXT", (PFN_xrVoidFunction *)&create_tracker));
    XR(xrGetInstanceProcAddr(inst, "xrLocateHandJointsEXT", (PFN_xrVoidFunction *)&locate_joints));
    XrHandTrackerCreateInfoEXT tci = {XR_TYPE_HAND_TRACKER_CREATE_INFO_EXT, NULL, XR_HAND_RIGHT_EXT,
                                      XR_HAND_JOINT_SET_DEFAULT_EXT};
    XrHandTrackerEXT tracker;
    XR(create_tracker(s, &tci, &tracker));
    XrActionSetCreateInfo asci = {XR_TYPE_ACTION_SET_CREATE_INFO, NULL, "bench", "Bench", 0};
    XrActionSet set;
    XR(xrCreateActionSet(inst, &asci, &set));
    XrActionCreateInfo aci = {XR_TYPE_ACTION_CREATE_INFO, NULL, "squeeze", XR_ACTION_TYPE_FLOAT_INPUT, 0, NULL,
                              "Squeeze"};
    XrAction squeeze;
    XR(xrCreateAction(set, &aci, &squeeze));
    XrPath binding, profile;
    XR(xrStringToPath(inst, "/user/hand/right/input/squeeze/value", &binding));
    XR(xrStringToPath(inst, "/interaction_profiles/oculus/touch_controller", &profile));
    XrActionSuggestedBinding b = {squeeze, binding};
    XrInteractionProfileSuggestedBinding sb = {XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING, NULL, profile, 1, &b};
    XR(xrSuggestInteractionProfileBindings(inst, &sb));
    XrSessionActionSetsAttachInfo ai = {XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO, NULL, 1, &set};
    XR(xrAttachSessionActionSets(s, &ai));
    XrSessionBeginInfo bi = {XR_TYPE_SESSION_BEGIN_INFO, NULL, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO};
    XR(xrBeginSession(s, &bi));

    size_t cap = (size_t)(seconds * 100) + 16, n = 0;
    int64_t *late = malloc(cap * sizeof *late), *head = malloc(cap * sizeof *head),
            *hand = malloc(cap * sizeof *hand), *sync = malloc(cap * sizeof *sync);
    if (!late || !head || !hand || !sync)
        return 1;
    int64_t start = now_ns(), end = start + (int64_t)(seconds * 1e9);
    while (now_ns() < end && n < cap) {
        XrFrameState fs = {XR_TYPE_FRAME_STATE};
        XR(xrWaitFrame(s, NULL, &fs));
        int64_t woke = now_ns();
        late[n] = woke - (fs.predictedDisplayTime - fs.predictedDisplayPeriod);
        XR(xrBeginFrame(s, NULL));
        int64_t t = now_ns();
        XrSpaceLocation loc = {XR_TYPE_SPACE_LOCATION};
        XR(xrLocateSpace(view, stage, fs.predictedDisplayTime, &loc));
        head[n] = now_ns() - t;
        XrHandJointLocationEXT jl[XR_HAND_JOINT_COUNT_EXT];
        XrHandJointsLocateInfoEXT li = {XR_TYPE_HAND_JOINTS_LOCATE_INFO_EXT, NULL, stage,
                                        fs.predictedDisplayTime + 1000}; /* another time: no cached sample */
        XrHandJointLocationsEXT locs = {XR_TYPE_HAND_JOINT_LOCATIONS_EXT, NULL, XR_FALSE, XR_HAND_JOINT_COUNT_EXT, jl};
        t = now_ns();
        XR(locate_joints(tracker, &li, &locs));
        hand[n] = now_ns() - t;
        XrActiveActionSet as = {set, XR_NULL_PATH};
        XrActionsSyncInfo si = {XR_TYPE_ACTIONS_SYNC_INFO, NULL, 1, &as};
        XrActionStateGetInfo sgi = {XR_TYPE_ACTION_STATE_GET_INFO, NULL, squeeze, XR_NULL_PATH};
        XrActionStateFloat st = {XR_TYPE_ACTION_STATE_FLOAT};
        t = now_ns();
        XR(xrSyncActions(s, &si));
        XR(xrGetActionStateFloat(s, &sgi, &st));
        sync[n] = now_ns() - t;
        XrFrameEndInfo fe = {XR_TYPE_FRAME_END_INFO, NULL, fs.predictedDisplayTime, XR_ENVIRONMENT_BLEND_MODE_OPAQUE,
                             0, NULL};
        XR(xrEndFrame(s, &fe));
        n++;
    }
    double elapsed = (double)(now_ns() - start) * 1e-9;
    printf("frame loop: %zu frames in %.2f s = %.2f Hz (runtime period 11.111 ms)\n", n, elapsed, (double)n / elapsed);
    report("xrWaitFrame wake lateness", late, n, 1e-3, "us");
    report("xrLocateSpace VIEW in STAGE", head, n, 1e-3, "us");
    report("xrLocateHandJointsEXT (26 joints)", hand, n, 1e-3, "us");
    report("xrSyncActions + xrGetActionStateFloat", sync, n, 1e-3, "us");
    free(late);
    free(head);
    free(hand);
    free(sync);
    XR(xrDestroyInstance(inst));
    return 0;
}
