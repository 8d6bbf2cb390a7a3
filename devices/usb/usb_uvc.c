/* teleop — a UVC camera's formats, sizes and frame rates through libuvc. */
#include <stdio.h>
#include <string.h>

#include <libuvc/libuvc.h>

#include "usb_internal.h"

static void format_name(const uvc_format_desc_t *f, char *buf, size_t len)
{
    if (f->bDescriptorSubtype == UVC_VS_FORMAT_MJPEG) {
        snprintf(buf, len, "mjpeg");
        return;
    }
    const uint8_t *c = f->fourccFormat;
    if (!memcmp(c, "YUY2", 4) || !memcmp(c, "YUYV", 4))
        snprintf(buf, len, "yuyv");
    else if (!memcmp(c, "NV12", 4))
        snprintf(buf, len, "nv12");
    else if (!memcmp(c, "H264", 4))
        snprintf(buf, len, "h264");
    else
        snprintf(buf, len, "other");
}

static void add_rate(tp_usb_uvc_format *o, uint32_t interval_100ns)
{
    if (!interval_100ns || o->fps_count >= (int)(sizeof o->fps / sizeof o->fps[0]))
        return;
    double fps = 1e7 / interval_100ns;
    int i = o->fps_count++;
    while (i > 0 && o->fps[i - 1] < fps) { /* highest first */
        o->fps[i] = o->fps[i - 1];
        i--;
    }
    o->fps[i] = fps;
}

int tp_usb_uvc_list_formats(const uvc_format_desc_t *descs, tp_usb_uvc_format *out, int max)
{
    int n = 0;
    int *count = &n;
    for (const uvc_format_desc_t *f = descs; f; f = f->next)
        for (const uvc_frame_desc_t *fr = f->frame_descs; fr && *count < max; fr = fr->next) {
            tp_usb_uvc_format *o = &out[(*count)++];
            memset(o, 0, sizeof *o);
            format_name(f, o->format, sizeof o->format);
            o->width = fr->wWidth;
            o->height = fr->wHeight;
            if (fr->intervals)
                for (const uint32_t *iv = fr->intervals; *iv; iv++)
                    add_rate(o, *iv);
            else { /* continuous: the range's ends */
                add_rate(o, fr->dwMinFrameInterval);
                if (fr->dwMaxFrameInterval != fr->dwMinFrameInterval)
                    add_rate(o, fr->dwMaxFrameInterval);
            }
        }
    return n;
}

int tp_usb_uvc_formats(const tp_usb_device *d, tp_usb_uvc_format *out, int max, int *count, char *err,
                       size_t errlen)
{
    *count = 0;
    uvc_context_t *ctx = NULL;
    uvc_error_t rc = uvc_init(&ctx, NULL);
    if (rc != UVC_SUCCESS) {
        snprintf(err, errlen, "camera %s (%04x:%04x): libuvc cannot start (%s)", d->port_path, d->vid, d->pid,
                 uvc_strerror(rc));
        return -1;
    }
    uvc_device_t **list = NULL;
    int result = -1;
    if ((rc = uvc_get_device_list(ctx, &list)) != UVC_SUCCESS) {
        snprintf(err, errlen, "camera %s: cannot list UVC devices (%s)", d->port_path, uvc_strerror(rc));
        uvc_exit(ctx);
        return -1;
    }
    uvc_device_t *dev = NULL;
    for (int i = 0; list[i]; i++)
        if (uvc_get_bus_number(list[i]) == d->bus && uvc_get_device_address(list[i]) == d->address)
            dev = list[i];
    uvc_device_handle_t *h = NULL;
    if (!dev)
        snprintf(err, errlen, "camera %s (%04x:%04x): gone, or libuvc does not see it as a camera", d->port_path,
                 d->vid, d->pid);
    else if ((rc = uvc_open(dev, &h)) != UVC_SUCCESS)
        snprintf(err, errlen, "camera %s (%04x:%04x): cannot open it to list its formats: %s", d->port_path, d->vid,
                 d->pid,
                 rc == UVC_ERROR_ACCESS ? "permission denied (install the udev rules: docs/devices/usb.md)"
                 : rc == UVC_ERROR_BUSY ? "busy (another program, or the kernel's uvcvideo driver, has it)"
                                        : uvc_strerror(rc));
    else {
        *count = tp_usb_uvc_list_formats(uvc_get_format_descs(h), out, max);
        uvc_close(h);
        result = 0;
    }
    uvc_free_device_list(list, 1);
    uvc_exit(ctx);
    return result;
}
