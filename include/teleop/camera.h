/* teleop — camera devices: one interface for every camera driver.
 *
 * A camera is a driver (a table of operations and a name) plus its state.
 * The capture thread that owns a camera makes every call on it, in the order
 * open → start → (poll → read)* → stop → close, all from that one thread (a
 * GL-rendering driver's context is bound to the thread that created it).
 *
 * Drivers (one table, chosen by name in the station config):
 *   "sim"     MuJoCo offscreen render of a named MJCF camera from the qpos
 *             snapshots the control loop publishes, one per frame time (the
 *             control tick nearest t0 + k/fps), rendered in order (the
 *             simulated shutter: the frame is stamped with that state's time).
 *   "pattern" a synthetic scene with motion and sensor-like noise, in RGB or
 *             as MJPEG (like a UVC camera); deterministic for a given seed;
 *             can be told to stall for a while or to vanish at a time
 *             (and to come back at a later one).
 *   "uvc"     a USB Video Class camera through libuvc (devices/camera/
 *             uvc_camera.c): libuvc's callback queues frames in a ring, poll
 *             waits on it, read converts YUYV/MJPEG to RGB or passes MJPEG
 *             on; no calibration op (docs/devices/cameras.md).
 *   "file"    a video file (anything libavformat reads) played in real time
 *             on its own timestamps, looping or once (then it ends).
 *
 * Memory: tp_camera_open allocates the camera and the driver state;
 * tp_camera_close frees both. Frame buffers belong to the caller (a ring
 * slot): read fills them. Strings in tp_camera_params are borrowed and must
 * outlive the camera.
 */
#ifndef TELEOP_CAMERA_H
#define TELEOP_CAMERA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/episode.h" /* tp_camera_calibration */
#include "teleop/ring.h"
#include "teleop/sim.h"

typedef enum tp_pixel_format {
    TP_PIXEL_RGB24 = 0, /* packed RGB, top row first, width*height*3 bytes */
    TP_PIXEL_MJPEG,     /* one complete JPEG image per frame */
} tp_pixel_format;

const char *tp_pixel_format_name(tp_pixel_format f); /* "rgb", "mjpeg" */

typedef struct tp_camera_frame {
    int64_t t_ns;           /* capture instant, CLOCK_MONOTONIC */
    int64_t index;          /* the device's frame counter (gaps show lost frames) */
    tp_pixel_format format;
    uint8_t *data;          /* the caller's buffer; NULL discards the frame */
    size_t capacity;        /* bytes available at data */
    size_t size;            /* bytes written by read */
} tp_camera_frame;

typedef struct tp_camera_params {
    const char *name;   /* the camera's stream name in the episode */
    const char *driver; /* "sim", "pattern" */
    const char *source; /* sim: the MJCF camera's name */
    int width, height;
    double fps;
    tp_pixel_format format; /* what the device delivers (sim: rgb only) */
    /* pattern driver */
    uint64_t seed;
    double noise;        /* standard deviation of the sensor noise, 8-bit levels */
    int mjpeg_quality;   /* 2 (best) .. 31, libavcodec's qscale, for format mjpeg */
    double stall_at_s;   /* no frames from this time after start ... */
    double stall_for_s;  /* ... for this long (0: never stalls) */
    double vanish_at_s;  /* the device disappears at this time after start (0: never) */
    double reappear_at_s; /* ... and can be opened again from this time after start (0: never) */
    /* uvc driver (docs/devices/cameras.md) */
    const char *device;     /* which camera: NULL or "" the first UVC camera found; a serial number;
                               "usb:BUS-PORT[.PORT…]" (the port path `teleop devices` prints); or
                               "VVVV:PPPP" (vendor:product, hex) */
    const char *uvc_format; /* the stream asked of the device: "auto", "mjpeg" or "yuyv" */
    double exposure_s;      /* > 0: manual exposure time, seconds; 0: the device's auto exposure */
    int gain;               /* >= 0: manual gain in the device's units; -1: left as the device has it */
    int white_balance_k;    /* > 0: manual white balance temperature, kelvin; 0: auto */
    /* file driver */
    const char *path;       /* the video file (anything libavformat reads) */
    bool loop;              /* start over at the end; else the camera ends after the last frame */
} tp_camera_params;

void tp_camera_default_params(tp_camera_params *p, const char *name);

/* What a driver may need from the station. */
typedef struct tp_camera_env {
    const tp_sim *sim;   /* sim: the model (outlives the camera) */
    tp_ring *snapshots;  /* sim: int64 t_ns + tp_sim_qpos_size doubles, one per frame time;
                            this camera is its consumer */
} tp_camera_env;

typedef struct tp_camera tp_camera;

/* poll's outcome when the source ended (not a lost device). */
#define TP_CAMERA_ENDED (-2)

typedef struct tp_camera_driver {
    const char *name;
    /* Allocates the driver state into cam->state; checks the params. */
    int (*open)(tp_camera *cam, const tp_camera_env *env, char *err, size_t errlen);
    /* Frames are due from t0_ns on (the session's start). */
    int (*start)(tp_camera *cam, int64_t t0_ns, char *err, size_t errlen);
    /* Waits until a frame is ready or the monotonic deadline passes.
     * 1: a frame is ready; 0: none by the deadline; -1: the device is gone
     * or failed (message in err): the capture thread closes it and tries
     * open + start again with the same params (a reconnect);
     * TP_CAMERA_ENDED (-2): the source has no more frames (a file played
     * once), not a fault: no reconnect (message in err). */
    int (*poll)(tp_camera *cam, int64_t deadline_ns, char *err, size_t errlen);
    /* Delivers the ready frame into frame->data (or discards it when
     * frame->data is NULL). 0, or -1 with a message (the frame is lost, the
     * camera stays usable). */
    int (*read)(tp_camera *cam, tp_camera_frame *frame, char *err, size_t errlen);
    void (*stop)(tp_camera *cam);
    void (*close)(tp_camera *cam); /* frees cam->state */
    /* Intrinsics and extrinsics for these params (no device needed, any
     * thread): sim from the MJCF camera, pattern a documented nominal
     * pinhole. Strings point into the model or are static. 0 or -1. */
    int (*calibration)(const tp_camera_params *p, const tp_camera_env *env, tp_camera_calibration *out, char *err,
                       size_t errlen);
} tp_camera_driver;

struct tp_camera {
    const tp_camera_driver *driver;
    tp_camera_params params;
    void *state;
};

/* The driver table: by name, or NULL; and every name for messages. */
const tp_camera_driver *tp_camera_find_driver(const char *name);
const char *tp_camera_driver_names(void); /* "sim, pattern" */

/* The camera's calibration through its driver's calibration op: 1 filled,
 * 0 the driver reports none, -1 error (message names the camera). */
int tp_camera_calibration_for(const tp_camera_params *p, const tp_camera_env *env, tp_camera_calibration *out,
                              char *err, size_t errlen);

/* Largest frame read may deliver for these params (the ring slot size). */
size_t tp_camera_max_frame_bytes(const tp_camera_params *p);

/* NULL with a one-line message naming the camera on failure. */
tp_camera *tp_camera_open(const tp_camera_params *p, const tp_camera_env *env, char *err, size_t errlen);
int tp_camera_start(tp_camera *cam, int64_t t0_ns, char *err, size_t errlen);
int tp_camera_poll(tp_camera *cam, int64_t deadline_ns, char *err, size_t errlen);
int tp_camera_read(tp_camera *cam, tp_camera_frame *frame, char *err, size_t errlen);
void tp_camera_stop(tp_camera *cam);
void tp_camera_close(tp_camera *cam);

/* The pattern driver's picture of frame `index` at `t_s` seconds (RGB, no
 * I/O): exposed so tests can check determinism and motion. */
void tp_camera_pattern_render(uint64_t seed, double noise, int64_t index, double t_s, int width, int height,
                              uint8_t *rgb);

#endif
