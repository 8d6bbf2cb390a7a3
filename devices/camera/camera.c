/* teleop — the camera driver table and the calls every capture thread makes. */
#include "teleop/camera.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera_drivers.h"

static const tp_camera_driver *const drivers[] = {&tp_camera_sim_driver, &tp_camera_pattern_driver,
                                                    &tp_camera_uvc_driver, &tp_camera_file_driver};

int tp_camera_calibration_for(const tp_camera_params *p, const tp_camera_env *env, tp_camera_calibration *out,
                              char *err, size_t errlen)
{
    const tp_camera_driver *d = tp_camera_find_driver(p->driver);
    if (!d) {
        snprintf(err, errlen, "camera '%s': unknown driver '%s'", p->name, p->driver ? p->driver : "");
        return -1;
    }
    if (!d->calibration)
        return 0;
    memset(out, 0, sizeof *out);
    return d->calibration(p, env, out, err, errlen) == 0 ? 1 : -1;
}

/* A pinhole of vertical field of view fovy_deg over a width x height image
 * with square pixels, the principal point at the image centre (pixel
 * centres at integer + 0.5, so the centre is (w/2, h/2)), no distortion. */
void tp_camera_pinhole(tp_camera_calibration *out, double fovy_deg, int width, int height)
{
    out->model = "pinhole";
    out->fy = (height / 2.0) / tan(fovy_deg * M_PI / 360.0);
    out->fx = out->fy;
    out->cx = width / 2.0;
    out->cy = height / 2.0;
    out->distortion_model = "none";
    out->ndistortion = 0;
    out->convention = "mujoco";
}

int tp_camera_nominal_calibration(const tp_camera_params *p, const tp_camera_env *env, tp_camera_calibration *out,
                                  char *err, size_t errlen)
{
    (void)env;
    (void)err;
    (void)errlen;
    tp_camera_pinhole(out, 60.0, p->width, p->height);
    out->parent_frame = "none";
    out->quat_wxyz[0] = 1;
    return 0;
}

const char *tp_pixel_format_name(tp_pixel_format f) { return f == TP_PIXEL_MJPEG ? "mjpeg" : "rgb"; }

void tp_camera_default_params(tp_camera_params *p, const char *name)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    p->driver = "sim";
    p->source = name;
    p->width = 640;
    p->height = 480;
    p->fps = 30;
    p->format = TP_PIXEL_RGB24;
    p->seed = 1;
    p->noise = 3.0;
    p->mjpeg_quality = 4;
    p->uvc_format = "auto";
    p->gain = -1;
}

const tp_camera_driver *tp_camera_find_driver(const char *name)
{
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
        if (name && !strcmp(drivers[i]->name, name))
            return drivers[i];
    return NULL;
}

const char *tp_camera_driver_names(void) { return "sim, pattern, uvc, file"; }

size_t tp_camera_max_frame_bytes(const tp_camera_params *p)
{
    /* An MJPEG frame of a camera is far below raw size at any sane quality;
     * raw size bounds it (a larger one is refused by read). */
    return (size_t)p->width * (size_t)p->height * 3;
}

tp_camera *tp_camera_open(const tp_camera_params *p, const tp_camera_env *env, char *err, size_t errlen)
{
    const tp_camera_driver *d = tp_camera_find_driver(p->driver);
    if (!d) {
        snprintf(err, errlen, "camera '%s': unknown driver '%s' (drivers: %s)", p->name, p->driver ? p->driver : "",
                 tp_camera_driver_names());
        return NULL;
    }
    if (p->width <= 0 || p->height <= 0 || !(p->fps > 0)) {
        snprintf(err, errlen, "camera '%s': invalid frame size %dx%d or rate %g", p->name, p->width, p->height,
                 p->fps);
        return NULL;
    }
    tp_camera *cam = calloc(1, sizeof *cam);
    if (!cam) {
        snprintf(err, errlen, "camera '%s': out of memory", p->name);
        return NULL;
    }
    cam->driver = d;
    cam->params = *p;
    if (d->open(cam, env, err, errlen) != 0) {
        free(cam);
        return NULL;
    }
    return cam;
}

int tp_camera_start(tp_camera *cam, int64_t t0_ns, char *err, size_t errlen)
{
    return cam->driver->start(cam, t0_ns, err, errlen);
}

int tp_camera_poll(tp_camera *cam, int64_t deadline_ns, char *err, size_t errlen)
{
    return cam->driver->poll(cam, deadline_ns, err, errlen);
}

int tp_camera_read(tp_camera *cam, tp_camera_frame *frame, char *err, size_t errlen)
{
    return cam->driver->read(cam, frame, err, errlen);
}

void tp_camera_stop(tp_camera *cam)
{
    if (cam)
        cam->driver->stop(cam);
}

void tp_camera_close(tp_camera *cam)
{
    if (!cam)
        return;
    cam->driver->close(cam);
    free(cam);
}
