/* teleop — the camera drivers' tables (private to devices/camera). */
#ifndef TELEOP_CAMERA_DRIVERS_H
#define TELEOP_CAMERA_DRIVERS_H

#include "teleop/camera.h"

extern const tp_camera_driver tp_camera_sim_driver;
extern const tp_camera_driver tp_camera_pattern_driver;
extern const tp_camera_driver tp_camera_uvc_driver;
extern const tp_camera_driver tp_camera_file_driver;

/* A camera without optics of its own (a synthetic picture, a video file):
 * a nominal 60-degree pinhole fixed to no frame, documented as nominal. */
int tp_camera_nominal_calibration(const tp_camera_params *p, const tp_camera_env *env, tp_camera_calibration *out,
                                  char *err, size_t errlen);

/* A pinhole of vertical field of view fovy_deg, square pixels, principal
 * point at the image centre, no distortion, MuJoCo convention. */
void tp_camera_pinhole(tp_camera_calibration *out, double fovy_deg, int width, int height);

/* Fixed-rate frame clock shared by the timed drivers: sleeps toward the next
 * tick, but never past the caller's deadline. true when the tick came.
 * backlog: how many past ticks a late reader still gets, one after another
 * (a device's own frame buffers, as a UVC camera's driver queue holds a few
 * frames); older ticks are skipped and show as a jump in the tick index. */
typedef struct camera_ticker {
    int64_t next_ns, period_ns;
    int backlog;
} camera_ticker;
void camera_ticker_start(camera_ticker *t, int64_t t0_ns, double fps, int backlog);
bool camera_ticker_wait(camera_ticker *t, int64_t deadline_ns, int64_t *tick_ns);

#endif
