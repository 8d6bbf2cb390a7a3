/* teleop — the UVC driver's device selection and descriptions (private to
 * devices/camera): which camera a `device` string names, and the words the
 * driver's messages use for a camera and for the modes it offers. No state;
 * strings are written into the caller's buffers. */
#ifndef TELEOP_UVC_SELECT_H
#define TELEOP_UVC_SELECT_H

#include <libuvc/libuvc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct uvc_device_id {
    uint16_t vendor, product;
    char serial[128];       /* "" when the device has none or cannot be read */
    char product_name[128];
    char port[64];          /* "usb:BUS-PORT[.PORT…]", "" if unknown */
} uvc_device_id;

/* Fills id from the device's descriptors and its place on the bus. */
void uvc_identify(uvc_device_t *dev, uvc_device_id *id);
/* Does `want` name this camera? NULL or "": any; "usb:…": the port path;
 * "VVVV:PPPP": vendor and product (hex); else the serial number. */
bool uvc_device_matches(const uvc_device_id *id, const char *want);
/* "046d:0825 Webcam C270 serial 8A1B at usb:1-2" */
void uvc_describe_device(const uvc_device_id *id, char *out, size_t outlen);
/* "yuyv 640x480@30/15, mjpeg 1280x720@30, …" from the device's format
 * descriptors (uvc_get_format_descs); "" when there are none. */
void uvc_describe_modes(const uvc_format_desc_t *formats, char *out, size_t outlen);
/* "usb:BUS-PORT.PORT…" for the device at bus/address, "" if unknown. */
void uvc_port_path(uint8_t bus, uint8_t address, char *out, size_t outlen);

#endif
