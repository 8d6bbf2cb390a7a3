/* teleop — the UVC driver's device selection and descriptions. */
#include "uvc_select.h"

#include <libusb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Appends "; " + fmt to buf (for the lists in messages). */
static void append(char *buf, size_t buflen, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= buflen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, buflen - len, fmt, ap);
    va_end(ap);
}

/* "usb:BUS-PORT.PORT…" for a device at bus/address (a second libusb context
 * enumerates: libuvc 0.0.6 does not expose its libusb_device). "" if unknown. */
void uvc_port_path(uint8_t bus, uint8_t address, char *out, size_t outlen)
{
    out[0] = 0;
    libusb_context *usb = NULL;
    if (libusb_init(&usb) != 0)
        return;
    libusb_device **list = NULL;
    ssize_t n = libusb_get_device_list(usb, &list);
    for (ssize_t i = 0; i < n; i++) {
        if (libusb_get_bus_number(list[i]) != bus || libusb_get_device_address(list[i]) != address)
            continue;
        uint8_t ports[8];
        int np = libusb_get_port_numbers(list[i], ports, (int)sizeof ports);
        if (np <= 0)
            break;
        size_t len = (size_t)snprintf(out, outlen, "usb:%u-%u", bus, ports[0]);
        for (int p = 1; p < np && len < outlen; p++)
            len += (size_t)snprintf(out + len, outlen - len, ".%u", ports[p]);
        break;
    }
    if (n >= 0)
        libusb_free_device_list(list, 1);
    libusb_exit(usb);
}

void uvc_identify(uvc_device_t *dev, uvc_device_id *id)
{
    memset(id, 0, sizeof *id);
    uvc_device_descriptor_t *d = NULL;
    if (uvc_get_device_descriptor(dev, &d) == UVC_SUCCESS && d) {
        id->vendor = d->idVendor;
        id->product = d->idProduct;
        snprintf(id->serial, sizeof id->serial, "%s", d->serialNumber ? d->serialNumber : "");
        snprintf(id->product_name, sizeof id->product_name, "%s", d->product ? d->product : "");
        uvc_free_device_descriptor(d);
    }
    uvc_port_path(uvc_get_bus_number(dev), uvc_get_device_address(dev), id->port, sizeof id->port);
}

bool uvc_device_matches(const uvc_device_id *id, const char *want)
{
    if (!want || !want[0])
        return true;
    if (!strncmp(want, "usb:", 4))
        return !strcmp(id->port, want);
    unsigned v, p;
    char tail;
    if (strlen(want) == 9 && sscanf(want, "%4x:%4x%c", &v, &p, &tail) == 2)
        return id->vendor == v && id->product == p;
    return id->serial[0] && !strcmp(id->serial, want);
}

void uvc_describe_device(const uvc_device_id *id, char *out, size_t outlen)
{
    snprintf(out, outlen, "%04x:%04x%s%s%s%s%s%s", id->vendor, id->product, id->product_name[0] ? " " : "",
             id->product_name, id->serial[0] ? " serial " : "", id->serial, id->port[0] ? " at " : "", id->port);
}

void uvc_describe_modes(const uvc_format_desc_t *formats, char *out, size_t outlen)
{
    out[0] = 0;
    for (const uvc_format_desc_t *fmt = formats; fmt; fmt = fmt->next) {
        bool yuy2 = fmt->bDescriptorSubtype == UVC_VS_FORMAT_UNCOMPRESSED && !memcmp(fmt->fourccFormat, "YUY2", 4);
        const char *name = fmt->bDescriptorSubtype == UVC_VS_FORMAT_MJPEG ? "mjpeg" : yuy2 ? "yuyv" : NULL;
        char other[8];
        if (!name) {
            snprintf(other, sizeof other, "%.4s", (const char *)fmt->fourccFormat);
            name = other;
        }
        for (const uvc_frame_desc_t *fr = fmt->frame_descs; fr; fr = fr->next) {
            append(out, outlen, "%s%s %ux%u@", out[0] ? ", " : "", name, fr->wWidth, fr->wHeight);
            if (fr->intervals) {
                for (const uint32_t *iv = fr->intervals; *iv; iv++)
                    append(out, outlen, "%s%g", iv == fr->intervals ? "" : "/", 1e7 / *iv);
            } else if (fr->dwMinFrameInterval && fr->dwMaxFrameInterval) {
                append(out, outlen, "%g-%g", 1e7 / fr->dwMaxFrameInterval, 1e7 / fr->dwMinFrameInterval);
            }
        }
    }
}
