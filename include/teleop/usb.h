/* teleop — USB discovery: what is plugged in (libusb), what each device is
 * (a UVC camera, a USB-serial bridge or CDC-ACM glove, a known device), the
 * formats a UVC camera offers (libuvc), gloves found on serial ports
 * (OpenGloves lines), and a monitor that reports plugs and unplugs.
 *
 * `teleop devices` prints what these functions find; the station's session
 * turns the monitor's reports into episode events (docs/devices/usb.md).
 *
 * Memory: every list is a caller-owned array filled in place; the monitor is
 * allocated by tp_usb_monitor_start and freed by tp_usb_monitor_stop.
 * Strings returned as const char * are static.
 */
#ifndef TELEOP_USB_H
#define TELEOP_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TP_USB_MAX_DEVICES 128
#define TP_USB_MAX_INTERFACE_CLASSES 8
#define TP_USB_MAX_FORMATS 48

typedef enum tp_usb_kind {
    TP_USB_OTHER = 0,
    TP_USB_UVC_CAMERA, /* a video interface (class 0x0E) */
    TP_USB_SERIAL,     /* CDC-ACM (0x02/0x0A) or a known USB-serial bridge */
} tp_usb_kind;

typedef struct tp_usb_device {
    uint16_t vid, pid;
    uint8_t bus, address;
    char port_path[40];  /* "usb:BUS-PORT[.PORT…]", the form camera configs take as `device` */
    char sysfs_name[32]; /* "BUS-PORT[.PORT…]": /sys/bus/usb/devices/<this> */
    uint8_t device_class;
    uint8_t interface_classes[TP_USB_MAX_INTERFACE_CLASSES]; /* distinct, in order of the descriptors */
    int interface_class_count;
    char manufacturer[64], product[64], serial[64]; /* "" when not readable */
    bool strings_hidden; /* the device has strings but neither libusb nor sysfs could read them (permissions) */
    const char *speed;   /* "low" (1.5 Mb/s), "full" (12), "high" (480), "super" (5000), "super+" (10000), "unknown" */
    tp_usb_kind kind;
    char tty[32];        /* TP_USB_SERIAL: "/dev/ttyACM0" or "/dev/ttyUSB0" found through sysfs; "" if none */
    const char *known;   /* a note from the table of known devices, or NULL */
} tp_usb_device;

const char *tp_usb_kind_name(tp_usb_kind k); /* "uvc_camera", "serial", "other" */

/* The table of known devices: a note for vid:pid (pid -1 in the table: any
 * of the vendor's), or NULL. Sets *serial_bridge when the device is a known
 * USB-serial bridge (CP210x, CH340, FTDI, ESP32-S3 native USB). */
const char *tp_usb_known_device(uint16_t vid, uint16_t pid, bool *serial_bridge);

/* Fills kind from the classes and the known table. */
void tp_usb_classify(tp_usb_device *d);

/* Every device on every bus. 0 with *count set; -1 with a message when USB
 * is not accessible at all (libusb_init fails: no /dev/bus/usb in a
 * container, for instance). Opens each device only to read its strings;
 * falls back to sysfs. */
int tp_usb_enumerate(tp_usb_device *out, int max, int *count, char *err, size_t errlen);

/* The tty of a USB-serial device from sysfs (sysfs_root: "/sys" or a test
 * tree): "/dev/ttyACM0" into tty, 0; -1 if none. */
int tp_usb_find_tty(const char *sysfs_root, const char *sysfs_name, char *tty, size_t len);

/* One stream a UVC camera offers. */
typedef struct tp_usb_uvc_format {
    char format[8]; /* "yuyv", "mjpeg", "h264", "nv12", "other" */
    int width, height;
    double fps[8]; /* the rates it lists, highest first */
    int fps_count;
} tp_usb_uvc_format;

/* The camera's formats through libuvc (opens the device). 0 with *count; -1
 * with a one-line reason naming the device and what to do (permissions,
 * busy). */
int tp_usb_uvc_formats(const tp_usb_device *d, tp_usb_uvc_format *out, int max, int *count, char *err,
                       size_t errlen);

/* ------------------------------------------------------------- gloves */

typedef struct tp_usb_glove {
    char port[256];
    char hand[8];      /* "left", "right", or "unknown" (the glove sent no (ZH) info key during the probe) */
    int32_t max_value; /* 1023 (10-bit) or 4095 (12-bit) */
    int lines;         /* accepted lines during the probe */
    int rejected;
    double line_rate_hz;
} tp_usb_glove;

/* Opens port read-only and non-blocking, reads for up to window_s and
 * recognises OpenGloves lines. 1 a glove (filled in); 0 the port answered
 * with nothing a glove sends; -1 the port could not be opened (message). */
int tp_usb_probe_glove(const char *port, double window_s, tp_usb_glove *out, char *err, size_t errlen);

/* The hand a line names in an OpenGloves info key: "(ZH)0" left, "(ZH)1"
 * right (the firmware's info line "(ZV)n(ZG)n(ZH)n"), or NULL when it
 * names none. */
const char *tp_usb_glove_hand_of_line(const char *line, size_t len);

/* ------------------------------------------------------------ monitor */

/* What changed between two lists: devices are the same when bus, address
 * and vid:pid are (a replug gets a new address). Calls report for each
 * device of old missing from now (added false), then each of now missing
 * from old (added true). Returns the number of reports. */
typedef void (*tp_usb_report_fn)(void *user, bool added, const tp_usb_device *d);
int tp_usb_diff(const tp_usb_device *old, int n_old, const tp_usb_device *now, int n_now, tp_usb_report_fn report,
                void *user);

typedef struct tp_usb_monitor tp_usb_monitor;

/* Enumerates once (the baseline: no reports for what is already plugged),
 * then on its own thread waits for libusb hotplug notifications (or, when
 * libusb has no hotplug capability, re-enumerates every poll_s) and calls
 * report from that thread for each plug and unplug. NULL with a message
 * when USB is not accessible. */
tp_usb_monitor *tp_usb_monitor_start(tp_usb_report_fn report, void *user, double poll_s, char *err, size_t errlen);
bool tp_usb_monitor_uses_hotplug(const tp_usb_monitor *m);
void tp_usb_monitor_stop(tp_usb_monitor *m); /* joins the thread, frees m; NULL is fine */

#endif
