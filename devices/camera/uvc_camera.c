/* teleop — the "uvc" camera driver: a USB Video Class camera through libuvc.
 *
 * open finds the camera (first one, serial number, port path or
 * vendor:product), opens it, negotiates the stream (format, size, rate) and
 * sets exposure, gain and white balance; start streams into the frame path
 * (uvc_frames.c); poll waits there and notices an unplugged device; read
 * converts. The same params find the same camera again after a reconnect.
 * docs/devices/cameras.md, section "uvc". */
#include <libusb.h>
#include <libuvc/libuvc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera_drivers.h"
#include "teleop/clock.h"
#include "uvc_frames.h"
#include "uvc_select.h"

typedef struct uvc_camera {
    uvc_context_t *ctx;
    uvc_device_handle_t *devh;
    uvc_stream_ctrl_t ctrl;
    enum uvc_frame_format stream_format;
    char label[400]; /* "DEVICE" as configured, or the camera found, for messages */
    bool streaming;
    uvc_frames frames;
    bool frames_ready;
    int64_t period_ns;
    int64_t last_frame_ns, last_check_ns; /* the unplug check */
} uvc_camera;

/* No frame for this long → ask the bus whether the device is still there. */
#define SILENCE_CHECK_NS 500000000LL

static const char *format_word(enum uvc_frame_format f) { return f == UVC_FRAME_FORMAT_MJPEG ? "mjpeg" : "yuyv"; }

static int find_device(uvc_camera *c, const tp_camera_params *p, uvc_device_t **found, char *err, size_t errlen)
{
    const char *want = p->device && p->device[0] ? p->device : NULL;
    uvc_device_t **list = NULL;
    uvc_error_t rc = uvc_get_device_list(c->ctx, &list);
    if (rc != UVC_SUCCESS) {
        snprintf(err, errlen, "camera '%s' (device %s): not found: cannot enumerate USB devices (%s)", p->name,
                 c->label, uvc_strerror(rc));
        return -1;
    }
    char present[512] = "";
    *found = NULL;
    int count = 0, unreadable = 0;
    for (int i = 0; list[i]; i++, count++) {
        uvc_device_id id;
        uvc_identify(list[i], &id);
        unreadable += !id.serial[0];
        char described[400];
        uvc_describe_device(&id, described, sizeof described);
        if (!*found && uvc_device_matches(&id, want)) {
            *found = list[i];
            uvc_ref_device(list[i]);
            if (!want)
                snprintf(c->label, sizeof c->label, "%s", described);
        }
        size_t len = strlen(present);
        snprintf(present + len, sizeof present - len, "%s%s", count ? "; " : "", described);
    }
    uvc_free_device_list(list, 1);
    if (*found)
        return 0;
    if (count == 0)
        snprintf(err, errlen, "camera '%s' (device %s): not found: no UVC camera is connected (plug one in; "
                 "`teleop devices` lists them)", p->name, c->label);
    else
        snprintf(err, errlen, "camera '%s' (device %s): not found among the UVC cameras present: %s (`teleop "
                 "devices` lists them with their config lines%s)", p->name, c->label, present,
                 unreadable ? "; a serial number that cannot be read may need the udev rules, docs/devices/usb.md"
                            : "");
    return -1;
}

static void open_error(const tp_camera_params *p, const uvc_camera *c, uvc_device_t *dev, uvc_error_t rc, char *err,
                       size_t errlen)
{
    unsigned bus = uvc_get_bus_number(dev), addr = uvc_get_device_address(dev);
    if (rc == UVC_ERROR_ACCESS)
        snprintf(err, errlen, "camera '%s' (device %s): permission denied on /dev/bus/usb/%03u/%03u: install the "
                 "udev rules, docs/devices/usb.md", p->name, c->label, bus, addr);
    else if (rc == UVC_ERROR_BUSY)
        snprintf(err, errlen, "camera '%s' (device %s): busy: another program (or a kernel driver that cannot be "
                 "detached) has /dev/bus/usb/%03u/%03u; close it (`fuser /dev/bus/usb/%03u/%03u`)", p->name,
                 c->label, bus, addr, bus, addr);
    else if (rc == UVC_ERROR_NO_DEVICE)
        snprintf(err, errlen, "camera '%s' (device %s): unplugged while opening; plug it in again", p->name,
                 c->label);
    else
        snprintf(err, errlen, "camera '%s' (device %s): cannot open: %s", p->name, c->label, uvc_strerror(rc));
}

static int negotiate(uvc_camera *c, const tp_camera_params *p, char *err, size_t errlen)
{
    enum uvc_frame_format want[2];
    int n = 0;
    const char *asked = p->uvc_format && p->uvc_format[0] ? p->uvc_format : "auto";
    if (!strcmp(asked, "mjpeg") || (!strcmp(asked, "auto") && p->format == TP_PIXEL_MJPEG)) {
        want[n++] = UVC_FRAME_FORMAT_MJPEG;
    } else if (!strcmp(asked, "yuyv")) {
        want[n++] = UVC_FRAME_FORMAT_YUYV;
    } else if (!strcmp(asked, "auto")) {
        /* rgb out: YUYV needs no decoding; MJPEG when YUYV is not offered
         * at this size and rate (USB 2 bandwidth often limits YUYV). */
        want[n++] = UVC_FRAME_FORMAT_YUYV;
        want[n++] = UVC_FRAME_FORMAT_MJPEG;
    } else {
        snprintf(err, errlen, "camera '%s': uvc_format '%s' is not auto, mjpeg or yuyv", p->name, asked);
        return -1;
    }
    if (p->format == TP_PIXEL_MJPEG && want[0] != UVC_FRAME_FORMAT_MJPEG) {
        snprintf(err, errlen, "camera '%s': format = mjpeg passes the device's JPEGs on; uvc_format = %s gives none",
                 p->name, asked);
        return -1;
    }
    int fps = (int)lround(p->fps);
    for (int i = 0; i < n; i++) {
        if (uvc_get_stream_ctrl_format_size(c->devh, &c->ctrl, want[i], p->width, p->height, fps) == UVC_SUCCESS) {
            c->stream_format = want[i];
            return 0;
        }
    }
    char offers[400];
    uvc_describe_modes(uvc_get_format_descs(c->devh), offers, sizeof offers);
    snprintf(err, errlen, "camera '%s' (device %s): %s %dx%d@%d is not offered; it offers: %s", p->name, c->label,
             n == 2 ? "yuyv/mjpeg" : format_word(want[0]), p->width, p->height, fps, offers[0] ? offers : "nothing");
    return -1;
}

static void control_warning(const tp_camera_params *p, const uvc_camera *c, const char *what, uvc_error_t rc)
{
    /* Not fatal: many cameras lack one control or another; the picture is
     * still usable with the device's own setting. */
    fprintf(stderr, "warning: camera '%s' (device %s): cannot set %s: %s (left as the device has it)\n", p->name,
            c->label, what, uvc_strerror(rc));
}

static void set_controls(uvc_camera *c, const tp_camera_params *p)
{
    uvc_error_t rc;
    if (p->exposure_s > 0) {
        /* UVC: mode 1 manual; absolute exposure in 100 µs units. */
        if ((rc = uvc_set_ae_mode(c->devh, 1)) != UVC_SUCCESS ||
            (rc = uvc_set_exposure_abs(c->devh, (uint32_t)fmax(1, lround(p->exposure_s * 1e4)))) != UVC_SUCCESS)
            control_warning(p, c, "manual exposure", rc);
    } else {
        /* Aperture priority (8) is the auto mode webcams implement; full
         * auto (2) on the cameras that have it instead. */
        if (uvc_set_ae_mode(c->devh, 8) != UVC_SUCCESS && (rc = uvc_set_ae_mode(c->devh, 2)) != UVC_SUCCESS)
            control_warning(p, c, "auto exposure", rc);
    }
    if (p->gain >= 0 && (rc = uvc_set_gain(c->devh, (uint16_t)p->gain)) != UVC_SUCCESS)
        control_warning(p, c, "gain", rc);
    if (p->white_balance_k > 0) {
        if ((rc = uvc_set_white_balance_temperature_auto(c->devh, 0)) != UVC_SUCCESS ||
            (rc = uvc_set_white_balance_temperature(c->devh, (uint16_t)p->white_balance_k)) != UVC_SUCCESS)
            control_warning(p, c, "white balance temperature", rc);
    } else if ((rc = uvc_set_white_balance_temperature_auto(c->devh, 1)) != UVC_SUCCESS) {
        control_warning(p, c, "auto white balance", rc);
    }
}

static void uvc_camera_free(uvc_camera *c)
{
    if (!c)
        return;
    if (c->streaming)
        uvc_stop_streaming(c->devh);
    if (c->frames_ready)
        uvc_frames_free(&c->frames);
    if (c->devh)
        uvc_close(c->devh);
    if (c->ctx)
        uvc_exit(c->ctx);
    free(c);
}

static int uvc_camera_open(tp_camera *cam, const tp_camera_env *env, char *err, size_t errlen)
{
    (void)env;
    const tp_camera_params *p = &cam->params;
    uvc_camera *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "camera '%s': out of memory", p->name);
        return -1;
    }
    snprintf(c->label, sizeof c->label, "%s", p->device && p->device[0] ? p->device : "any");
    uvc_error_t rc = uvc_init(&c->ctx, NULL);
    if (rc != UVC_SUCCESS) {
        c->ctx = NULL;
        snprintf(err, errlen, "camera '%s' (device %s): not found: libusb cannot start here (%s)", p->name,
                 c->label, uvc_strerror(rc));
        uvc_camera_free(c);
        return -1;
    }
    uvc_device_t *dev = NULL;
    if (find_device(c, p, &dev, err, errlen) != 0) {
        uvc_camera_free(c);
        return -1;
    }
    rc = uvc_open(dev, &c->devh);
    if (rc != UVC_SUCCESS) {
        c->devh = NULL;
        open_error(p, c, dev, rc, err, errlen);
        uvc_unref_device(dev);
        uvc_camera_free(c);
        return -1;
    }
    uvc_unref_device(dev);
    if (negotiate(c, p, err, errlen) != 0) {
        uvc_camera_free(c);
        return -1;
    }
    set_controls(c, p);
    size_t slot = c->ctrl.dwMaxVideoFrameSize ? c->ctrl.dwMaxVideoFrameSize : tp_camera_max_frame_bytes(p);
    if (uvc_frames_init(&c->frames, p->name, p->width, p->height, p->format, slot, err, errlen) != 0) {
        uvc_camera_free(c);
        return -1;
    }
    c->frames_ready = true;
    c->period_ns = (int64_t)llround(1e9 / p->fps);
    cam->state = c;
    return 0;
}

static int uvc_camera_start(tp_camera *cam, int64_t t0_ns, char *err, size_t errlen)
{
    (void)t0_ns; /* a real camera runs on its own clock */
    uvc_camera *c = cam->state;
    uvc_frames_set_offset(&c->frames, uvc_frames_measure_offset());
    uvc_error_t rc = uvc_start_streaming(c->devh, &c->ctrl, uvc_frames_callback, &c->frames, 0);
    if (rc != UVC_SUCCESS) {
        if (rc == UVC_ERROR_BUSY)
            snprintf(err, errlen, "camera '%s' (device %s): busy: another program is streaming from it; close it",
                     cam->params.name, c->label);
        else if (rc == UVC_ERROR_NO_DEVICE)
            snprintf(err, errlen, "camera '%s' (device %s): unplugged", cam->params.name, c->label);
        else
            snprintf(err, errlen, "camera '%s' (device %s): cannot start the %s stream: %s", cam->params.name,
                     c->label, format_word(c->stream_format), uvc_strerror(rc));
        return -1;
    }
    c->streaming = true;
    c->last_frame_ns = c->last_check_ns = tp_now_ns();
    return 0;
}

/* A standard GET_STATUS every USB device answers; LIBUSB_ERROR_NO_DEVICE
 * once it is unplugged (libuvc 0.0.6 ends the stream silently then). */
static bool device_gone(uvc_camera *c)
{
    unsigned char status[2];
    int rc = libusb_control_transfer(uvc_get_libusb_handle(c->devh), LIBUSB_ENDPOINT_IN, LIBUSB_REQUEST_GET_STATUS,
                                     0, 0, status, sizeof status, 200);
    return rc == LIBUSB_ERROR_NO_DEVICE;
}

static int uvc_camera_poll(tp_camera *cam, int64_t deadline_ns, char *err, size_t errlen)
{
    uvc_camera *c = cam->state;
    if (uvc_frames_wait(&c->frames, deadline_ns)) {
        c->last_frame_ns = tp_now_ns();
        return 1;
    }
    int64_t now = tp_now_ns();
    if (now - c->last_frame_ns > SILENCE_CHECK_NS + 2 * c->period_ns && now - c->last_check_ns > SILENCE_CHECK_NS) {
        c->last_check_ns = now;
        if (device_gone(c)) {
            snprintf(err, errlen, "camera '%s' (device %s): unplugged", cam->params.name, c->label);
            return -1;
        }
    }
    return 0;
}

static int uvc_camera_read(tp_camera *cam, tp_camera_frame *frame, char *err, size_t errlen)
{
    uvc_camera *c = cam->state;
    return uvc_frames_read(&c->frames, frame, err, errlen);
}

static void uvc_camera_stop(tp_camera *cam)
{
    uvc_camera *c = cam->state;
    if (c && c->streaming) {
        uvc_stop_streaming(c->devh);
        c->streaming = false;
    }
}

static void uvc_camera_close(tp_camera *cam)
{
    uvc_camera_free(cam->state);
    cam->state = NULL;
}

/* No calibration op: a real camera's intrinsics depend on its lens and
 * sensor, which the USB descriptors do not say; a nominal pinhole would be
 * recorded as if measured. The episode's calibration for a UVC camera comes
 * from a calibration file (or is absent). */
const tp_camera_driver tp_camera_uvc_driver = {
    .name = "uvc", .open = uvc_camera_open, .start = uvc_camera_start, .poll = uvc_camera_poll,
    .read = uvc_camera_read, .stop = uvc_camera_stop, .close = uvc_camera_close, .calibration = NULL,
};
