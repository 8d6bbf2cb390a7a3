/* teleop — USB enumeration through libusb: each device's identity, port
 * path, classes, strings and speed, classified against the known-device
 * table, with the tty of a serial device found through sysfs. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "usb_internal.h"

#define CLASS_CDC 0x02
#define CLASS_CDC_DATA 0x0A
#define CLASS_VIDEO 0x0E

typedef struct known_entry {
    uint16_t vid;
    int pid; /* -1: any of the vendor's */
    bool serial_bridge;
    const char *note;
} known_entry;

static const known_entry known_devices[] = {
    {0x10c4, 0xea60, true, "Silicon Labs CP210x USB-serial bridge (gloves, microcontrollers)"},
    {0x1a86, 0x7523, true, "WCH CH340 USB-serial bridge (gloves, microcontrollers)"},
    {0x1a86, 0x55d4, true, "WCH CH9102 USB-serial bridge"},
    {0x0403, 0x6001, true, "FTDI FT232R USB-serial bridge"},
    {0x0403, 0x6015, true, "FTDI FT231X USB-serial bridge"},
    {0x303a, -1, true, "Espressif ESP32-S2/S3 native USB (LucidGloves/OpenGloves firmware)"},
    {0x2341, -1, true, "Arduino board (CDC-ACM serial)"},
    {0x8086, -1, false, "Intel RealSense: the colour stream is UVC (driver \"uvc\"); depth needs librealsense"},
    {0x046d, -1, false, "Logitech: webcams are UVC (driver \"uvc\")"},
    {0x2833, -1, false, "Meta Quest headset (reached through OpenXR, not USB)"},
    {0x0bb4, -1, false, "HTC (Vive headset or tracker; reached through OpenXR)"},
    {0x28de, -1, false, "Valve (Index headset, controllers, SteamVR base stations; reached through OpenXR)"},
};

const char *tp_usb_known_device(uint16_t vid, uint16_t pid, bool *serial_bridge)
{
    if (serial_bridge)
        *serial_bridge = false;
    for (size_t i = 0; i < sizeof known_devices / sizeof known_devices[0]; i++) {
        const known_entry *k = &known_devices[i];
        if (k->vid == vid && (k->pid < 0 || k->pid == pid)) {
            if (serial_bridge)
                *serial_bridge = k->serial_bridge;
            return k->note;
        }
    }
    return NULL;
}

const char *tp_usb_kind_name(tp_usb_kind k)
{
    switch (k) {
    case TP_USB_UVC_CAMERA: return "uvc_camera";
    case TP_USB_SERIAL: return "serial";
    case TP_USB_OTHER: break;
    }
    return "other";
}

static bool has_interface_class(const tp_usb_device *d, uint8_t c)
{
    for (int i = 0; i < d->interface_class_count; i++)
        if (d->interface_classes[i] == c)
            return true;
    return false;
}

void tp_usb_classify(tp_usb_device *d)
{
    bool bridge = false;
    d->known = tp_usb_known_device(d->vid, d->pid, &bridge);
    if (d->device_class == CLASS_VIDEO || has_interface_class(d, CLASS_VIDEO))
        d->kind = TP_USB_UVC_CAMERA;
    else if (bridge || d->device_class == CLASS_CDC || has_interface_class(d, CLASS_CDC) ||
             has_interface_class(d, CLASS_CDC_DATA))
        d->kind = TP_USB_SERIAL;
    else
        d->kind = TP_USB_OTHER;
}

static const char *speed_name(int speed)
{
    switch (speed) {
    case LIBUSB_SPEED_LOW: return "low";
    case LIBUSB_SPEED_FULL: return "full";
    case LIBUSB_SPEED_HIGH: return "high";
    case LIBUSB_SPEED_SUPER: return "super";
    case LIBUSB_SPEED_SUPER_PLUS: return "super+";
    default: return "unknown";
    }
}

/* A one-line sysfs attribute into buf (newline stripped); false if absent. */
static bool read_sysfs_attr(const char *sysfs_name, const char *attr, char *buf, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "/sys/bus/usb/devices/%s/%s", sysfs_name, attr);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (!ok)
        return false;
    buf[strcspn(buf, "\r\n")] = '\0';
    return true;
}

/* sysfs first (world-readable, and no need to open a device another
 * program may be streaming from), then the device itself through libusb. */
static void read_strings(libusb_device *dev, const struct libusb_device_descriptor *desc, tp_usb_device *d)
{
    struct {
        uint8_t index;
        char *buf;
        const char *attr;
    } want[] = {{desc->iManufacturer, d->manufacturer, "manufacturer"},
                {desc->iProduct, d->product, "product"},
                {desc->iSerialNumber, d->serial, "serial"}};
    libusb_device_handle *h = NULL;
    bool tried_open = false, opened = false;
    for (size_t i = 0; i < 3; i++) {
        want[i].buf[0] = '\0';
        if (!want[i].index || read_sysfs_attr(d->sysfs_name, want[i].attr, want[i].buf, 64))
            continue;
        if (!tried_open) {
            tried_open = true;
            opened = libusb_open(dev, &h) == 0;
        }
        if (!opened || libusb_get_string_descriptor_ascii(h, want[i].index, (unsigned char *)want[i].buf, 64) <= 0) {
            want[i].buf[0] = '\0';
            d->strings_hidden = true;
        }
    }
    if (opened)
        libusb_close(h);
}

static void read_classes(libusb_device *dev, tp_usb_device *d)
{
    struct libusb_config_descriptor *cfg = NULL;
    if (libusb_get_active_config_descriptor(dev, &cfg) != 0 && libusb_get_config_descriptor(dev, 0, &cfg) != 0)
        return;
    for (int i = 0; i < cfg->bNumInterfaces; i++)
        for (int a = 0; a < cfg->interface[i].num_altsetting; a++) {
            uint8_t c = cfg->interface[i].altsetting[a].bInterfaceClass;
            if (!has_interface_class(d, c) && d->interface_class_count < TP_USB_MAX_INTERFACE_CLASSES)
                d->interface_classes[d->interface_class_count++] = c;
        }
    libusb_free_config_descriptor(cfg);
}

int tp_usb_find_tty(const char *sysfs_root, const char *sysfs_name, char *tty, size_t len)
{
    char dir[512], prefix[64];
    snprintf(dir, sizeof dir, "%s/bus/usb/devices", sysfs_root);
    snprintf(prefix, sizeof prefix, "%s:", sysfs_name);
    DIR *top = opendir(dir);
    if (!top)
        return -1;
    int found = -1;
    struct dirent *e;
    while (found != 0 && (e = readdir(top))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        /* CDC-ACM: <intf>/tty/ttyACMn; USB-serial drivers: <intf>/ttyUSBn. */
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s/tty", dir, e->d_name);
        DIR *d = opendir(sub);
        bool in_tty_dir = d != NULL;
        if (!d) {
            snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
            d = opendir(sub);
        }
        if (!d)
            continue;
        struct dirent *t;
        while ((t = readdir(d)))
            if ((in_tty_dir && strncmp(t->d_name, "tty", 3) == 0) || strncmp(t->d_name, "ttyUSB", 6) == 0) {
                snprintf(tty, len, "/dev/%s", t->d_name);
                found = 0;
                break;
            }
        closedir(d);
    }
    closedir(top);
    return found;
}

static void describe(libusb_device *dev, tp_usb_device *d)
{
    memset(d, 0, sizeof *d);
    struct libusb_device_descriptor desc;
    if (libusb_get_device_descriptor(dev, &desc) == 0) {
        d->vid = desc.idVendor;
        d->pid = desc.idProduct;
        d->device_class = desc.bDeviceClass;
    }
    d->bus = libusb_get_bus_number(dev);
    d->address = libusb_get_device_address(dev);
    uint8_t ports[8];
    int n = libusb_get_port_numbers(dev, ports, (int)sizeof ports);
    int off = snprintf(d->sysfs_name, sizeof d->sysfs_name, "%u", d->bus);
    if (n <= 0) /* a root hub */
        snprintf(d->sysfs_name, sizeof d->sysfs_name, "usb%u", d->bus);
    for (int i = 0; i < n && off < (int)sizeof d->sysfs_name; i++)
        off += snprintf(d->sysfs_name + off, sizeof d->sysfs_name - (size_t)off, "%c%u", i ? '.' : '-', ports[i]);
    snprintf(d->port_path, sizeof d->port_path, "usb:%s", d->sysfs_name);
    d->speed = speed_name(libusb_get_device_speed(dev));
    read_classes(dev, d);
    read_strings(dev, &desc, d);
    tp_usb_classify(d);
    if (d->kind == TP_USB_SERIAL && tp_usb_find_tty("/sys", d->sysfs_name, d->tty, sizeof d->tty) != 0)
        d->tty[0] = '\0';
}

int tp_usb_list(libusb_context *ctx, tp_usb_device *out, int max, int *count)
{
    libusb_device **list = NULL;
    ssize_t n = libusb_get_device_list(ctx, &list);
    *count = 0;
    if (n < 0)
        return -1;
    for (ssize_t i = 0; i < n && *count < max; i++) {
        struct libusb_device_descriptor desc;
        if (libusb_get_device_descriptor(list[i], &desc) == 0 && desc.bDeviceClass == LIBUSB_CLASS_HUB &&
            libusb_get_port_numbers(list[i], (uint8_t[8]){0}, 8) <= 0)
            continue; /* root hubs: the host's, not a device */
        describe(list[i], &out[(*count)++]);
    }
    libusb_free_device_list(list, 1);
    return 0;
}

int tp_usb_enumerate(tp_usb_device *out, int max, int *count, char *err, size_t errlen)
{
    *count = 0;
    libusb_context *ctx = NULL;
    int rc = libusb_init(&ctx);
    if (rc != 0) {
        snprintf(err, errlen, "no USB access: libusb_init failed (%s); is /dev/bus/usb present (a container needs it "
                 "passed through)?", libusb_strerror(rc));
        return -1;
    }
    rc = tp_usb_list(ctx, out, max, count);
    libusb_exit(ctx);
    if (rc != 0) {
        snprintf(err, errlen, "no USB access: cannot list the USB devices");
        return -1;
    }
    return 0;
}
