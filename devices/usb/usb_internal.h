/* teleop — shared between the enumeration and the monitor. */
#ifndef TELEOP_USB_INTERNAL_H
#define TELEOP_USB_INTERNAL_H

#include <libusb.h>

#include "teleop/usb.h"

/* Every device on ctx's buses (root hubs left out). 0, or -1 when libusb
 * cannot list them. */
int tp_usb_list(libusb_context *ctx, tp_usb_device *out, int max, int *count);

/* A camera's format descriptors (libuvc's list) as tp_usb_uvc_format
 * entries, one per format and size; returns how many (at most max). */
struct uvc_format_desc;
int tp_usb_uvc_list_formats(const struct uvc_format_desc *descs, tp_usb_uvc_format *out, int max);

#endif
