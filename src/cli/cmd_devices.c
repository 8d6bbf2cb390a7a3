/* teleop devices — what is plugged in: UVC cameras with their formats,
 * gloves on serial ports, other known devices, each with the station config
 * lines that use it. */
#include <getopt.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "teleop/config.h"
#include "teleop/usb.h"

static const char usage[] =
    "usage: teleop devices [--json] [--port PATH]... [--config FILE]\n"
    "\n"
    "Lists the USB devices a station can use: UVC cameras (name, serial number,\n"
    "port path, formats, sizes and frame rates), gloves (OpenGloves lines on a\n"
    "serial port: hand, 10- or 12-bit range, line rate) and other known devices,\n"
    "each with the station config lines that use it (docs/devices/usb.md).\n"
    "\n"
    "Serial ports probed for gloves: /dev/ttyACM*, /dev/ttyUSB*, /dev/serial/by-id/*,\n"
    "each --port PATH, and the [glove.left]/[glove.right] `port` of --config FILE.\n"
    "Each port is opened read-only and read for half a second.\n"
    "\n"
    "  --json         one JSON object instead of text\n"
    "  --port PATH    also probe this serial port (repeatable)\n"
    "  --config FILE  also probe the glove ports this station config names\n"
    "\n"
    "Exit status: 0 when the listing worked (even with nothing found, or without USB\n"
    "access), 1 on errors (a port named by --port or --config that cannot be opened,\n"
    "an unreadable --config), 2 usage.\n";

#define MAX_PORTS 64
#define PROBE_WINDOW_S 0.5

typedef struct listing {
    tp_usb_device usb[TP_USB_MAX_DEVICES];
    int usb_count;
    bool usb_ok;
    char usb_error[256];
    tp_usb_uvc_format *formats[TP_USB_MAX_DEVICES]; /* per UVC camera, NULL otherwise */
    int format_count[TP_USB_MAX_DEVICES];
    char format_error[TP_USB_MAX_DEVICES][256];
    char *ports[MAX_PORTS];
    bool port_asked[MAX_PORTS]; /* named by --port or --config: failing to open it is an error */
    int port_count;
    tp_usb_glove gloves[MAX_PORTS];
    int glove_count;
    char port_errors[MAX_PORTS][300];
    int port_error_count;
    bool asked_port_failed;
} listing;

static void add_port(listing *l, const char *path, bool asked)
{
    char *real = realpath(path, NULL); /* /dev/serial/by-id/… and /dev/ttyACM0 are one port */
    const char *key = real ? real : path;
    for (int i = 0; i < l->port_count; i++) {
        char *other = realpath(l->ports[i], NULL);
        bool same = strcmp(other ? other : l->ports[i], key) == 0;
        free(other);
        if (same) {
            l->port_asked[i] |= asked;
            free(real);
            return;
        }
    }
    free(real);
    if (l->port_count < MAX_PORTS) {
        l->port_asked[l->port_count] = asked;
        l->ports[l->port_count++] = strdup(path);
    }
}

static void add_glob(listing *l, const char *pattern)
{
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++)
            add_port(l, g.gl_pathv[i], false);
    globfree(&g);
}

static int add_config_ports(listing *l, const char *path)
{
    char err[512];
    tp_config *cfg = tp_config_load(path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "teleop devices: %s\n", err);
        return -1;
    }
    static const char *const keys[] = {"glove.left.port", "glove.right.port"};
    for (int i = 0; i < 2; i++) {
        const char *port = NULL;
        if (tp_config_get_string(cfg, keys[i], NULL, &port, err, sizeof err) != 0) {
            fprintf(stderr, "teleop devices: %s\n", err);
            tp_config_free(cfg);
            return -1;
        }
        if (port && port[0])
            add_port(l, port, true);
    }
    tp_config_free(cfg);
    return 0;
}

static void probe_ports(listing *l)
{
    for (int i = 0; i < l->port_count; i++) {
        char err[300];
        tp_usb_glove g;
        int rc = tp_usb_probe_glove(l->ports[i], PROBE_WINDOW_S, &g, err, sizeof err);
        if (rc == 1)
            l->gloves[l->glove_count++] = g;
        else if (rc < 0) {
            snprintf(l->port_errors[l->port_error_count++], sizeof l->port_errors[0], "%s", err);
            l->asked_port_failed |= l->port_asked[i];
        }
    }
}

static const char *display_name(const tp_usb_device *d)
{
    return d->product[0] ? d->product : d->known ? d->known : "(no product string)";
}

/* The station config lines that use a device (docs/devices/usb.md). */
static void camera_config(const tp_usb_device *d, int index, char *buf, size_t len)
{
    /* Names to start from, in the order a station usually has them. */
    static const char *const names[] = {"head", "left_wrist", "right_wrist"};
    char name[24];
    if (index < 3)
        snprintf(name, sizeof name, "%s", names[index]);
    else
        snprintf(name, sizeof name, "camera%d", index + 1);
    snprintf(buf, len, "[camera.%s]\ndriver = \"uvc\"\ndevice = \"%s\"\nwidth = 640\nheight = 480\nfps = 30\n", name,
             d->serial[0] ? d->serial : d->port_path);
}

static void glove_config(const tp_usb_glove *g, char *buf, size_t len)
{
    snprintf(buf, len, "[glove.%s]\ndriver = \"opengloves\"\nport = \"%s\"\nbaud = 115200\n",
             strcmp(g->hand, "right") == 0 ? "right" : "left", g->port);
}

static void print_indented(const char *text)
{
    for (const char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        printf("    %.*s\n", (int)n, line);
        line += n + (line[n] == '\n');
    }
}

/* ------------------------------------------------------------ text */

static void print_camera(const listing *l, int i, int index)
{
    const tp_usb_device *d = &l->usb[i];
    printf("camera %s  %04x:%04x  %s  bus %u, %s speed\n", display_name(d), d->vid, d->pid, d->port_path, d->bus,
           d->speed);
    printf("  serial: %s\n", d->serial[0] ? d->serial : d->strings_hidden ? "(hidden by permissions)" : "(none)");
    if (l->formats[i])
        for (int f = 0; f < l->format_count[i]; f++) {
            const tp_usb_uvc_format *fm = &l->formats[i][f];
            printf("  %-5s %4dx%-4d", fm->format, fm->width, fm->height);
            for (int r = 0; r < fm->fps_count; r++)
                printf("%s%g", r ? ", " : "  ", fm->fps[r]);
            printf(" fps\n");
        }
    else
        printf("  formats: unknown: %s\n", l->format_error[i]);
    char cfg[512];
    camera_config(d, index, cfg, sizeof cfg);
    printf("  config:\n");
    print_indented(cfg);
}

static void print_glove(const tp_usb_glove *g)
{
    printf("glove on %s  hand %s, %s range, %d lines at %.0f lines/s\n", g->port, g->hand,
           g->max_value > 1023 ? "12-bit" : "10-bit", g->lines, g->line_rate_hz);
    char cfg[512];
    glove_config(g, cfg, sizeof cfg);
    printf("  config:\n");
    print_indented(cfg);
}

static void print_text(const listing *l)
{
    int cameras = 0, others = 0;
    if (!l->usb_ok)
        printf("USB: %s\n", l->usb_error);
    for (int i = 0; i < l->usb_count; i++)
        if (l->usb[i].kind == TP_USB_UVC_CAMERA)
            print_camera(l, i, cameras++);
    for (int i = 0; i < l->glove_count; i++)
        print_glove(&l->gloves[i]);
    for (int i = 0; i < l->usb_count; i++) {
        const tp_usb_device *d = &l->usb[i];
        if (d->kind == TP_USB_UVC_CAMERA || (d->kind == TP_USB_OTHER && !d->known))
            continue;
        printf("%s %s  %04x:%04x  %s%s%s\n", d->kind == TP_USB_SERIAL ? "serial" : "device", display_name(d), d->vid,
               d->pid, d->port_path, d->tty[0] ? "  " : "", d->tty);
        if (d->known)
            printf("  note: %s\n", d->known);
        others++;
    }
    bool hidden = false;
    for (int i = 0; i < l->usb_count; i++)
        hidden |= l->usb[i].strings_hidden;
    for (int i = 0; i < l->port_error_count; i++)
        printf("port %s\n", l->port_errors[i]);
    if (hidden)
        printf("Some devices' names and serial numbers are hidden by permissions: install the udev rules "
               "(docs/devices/usb.md).\n");
    if (!cameras && !l->glove_count && !others) {
        printf("No cameras, gloves or other known devices found.\n");
        printf("Check: the devices are plugged in; you may open them (udev rules, groups plugdev and dialout: "
               "docs/devices/usb.md).\n");
    }
}

/* ------------------------------------------------------------ JSON */

static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            printf("\\u%04x", *p); /* USB strings here are ASCII; anything else is escaped byte by byte */
        else
            putchar(*p);
    }
    putchar('"');
}

static void print_json(const listing *l)
{
    int cameras = 0;
    printf("{\"usb_access\": %s, \"usb_error\": ", l->usb_ok ? "true" : "false");
    json_string(l->usb_ok ? "" : l->usb_error);
    printf(",\n \"usb\": [");
    for (int i = 0; i < l->usb_count; i++) {
        const tp_usb_device *d = &l->usb[i];
        printf("%s\n  {\"vid\": \"%04x\", \"pid\": \"%04x\", \"bus\": %u, \"address\": %u, \"port_path\": ",
               i ? "," : "", d->vid, d->pid, d->bus, d->address);
        json_string(d->port_path);
        printf(", \"kind\": \"%s\", \"device_class\": %u, \"interface_classes\": [", tp_usb_kind_name(d->kind),
               d->device_class);
        for (int c = 0; c < d->interface_class_count; c++)
            printf("%s%u", c ? ", " : "", d->interface_classes[c]);
        printf("], \"manufacturer\": ");
        json_string(d->manufacturer);
        printf(", \"product\": ");
        json_string(d->product);
        printf(", \"serial\": ");
        json_string(d->serial);
        printf(", \"strings_hidden\": %s, \"speed\": \"%s\", \"tty\": ", d->strings_hidden ? "true" : "false",
               d->speed);
        json_string(d->tty);
        printf(", \"note\": ");
        json_string(d->known ? d->known : "");
        if (d->kind == TP_USB_UVC_CAMERA) {
            printf(", \"formats\": [");
            for (int f = 0; l->formats[i] && f < l->format_count[i]; f++) {
                const tp_usb_uvc_format *fm = &l->formats[i][f];
                printf("%s{\"format\": \"%s\", \"width\": %d, \"height\": %d, \"fps\": [", f ? ", " : "", fm->format,
                       fm->width, fm->height);
                for (int r = 0; r < fm->fps_count; r++)
                    printf("%s%g", r ? ", " : "", fm->fps[r]);
                printf("]}");
            }
            printf("], \"formats_error\": ");
            json_string(l->formats[i] ? "" : l->format_error[i]);
            char cfg[512];
            camera_config(d, cameras++, cfg, sizeof cfg);
            printf(", \"config\": ");
            json_string(cfg);
        }
        printf("}");
    }
    printf("],\n \"gloves\": [");
    for (int i = 0; i < l->glove_count; i++) {
        const tp_usb_glove *g = &l->gloves[i];
        printf("%s\n  {\"port\": ", i ? "," : "");
        json_string(g->port);
        printf(", \"hand\": \"%s\", \"max_value\": %d, \"bits\": %d, \"lines\": %d, \"rejected\": %d, "
               "\"line_rate_hz\": %.1f, \"config\": ",
               g->hand, g->max_value, g->max_value > 1023 ? 12 : 10, g->lines, g->rejected, g->line_rate_hz);
        char cfg[512];
        glove_config(g, cfg, sizeof cfg);
        json_string(cfg);
        printf("}");
    }
    printf("],\n \"port_errors\": [");
    for (int i = 0; i < l->port_error_count; i++) {
        printf("%s", i ? ", " : "");
        json_string(l->port_errors[i]);
    }
    printf("]}\n");
}

int cmd_devices(int argc, char **argv)
{
    const char *sub = "devices";
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"port", required_argument, NULL, 'p'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    listing *l = calloc(1, sizeof *l);
    if (!l) {
        fprintf(stderr, "teleop devices: out of memory\n");
        return 1;
    }
    bool json = false;
    const char *config = NULL;
    int c, rc = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'p': add_port(l, optarg, true); break;
        case 'c': config = optarg; break;
        case 'h': fputs(usage, stdout); goto done;
        default: rc = cli_usage_error(sub, "see teleop devices --help"); goto done;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error(sub, "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (config && add_config_ports(l, config) != 0) {
        rc = 1;
        goto done;
    }
    add_glob(l, "/dev/ttyACM*");
    add_glob(l, "/dev/ttyUSB*");
    add_glob(l, "/dev/serial/by-id/*");

    l->usb_ok = tp_usb_enumerate(l->usb, TP_USB_MAX_DEVICES, &l->usb_count, l->usb_error, sizeof l->usb_error) == 0;
    for (int i = 0; i < l->usb_count; i++) {
        if (l->usb[i].kind != TP_USB_UVC_CAMERA)
            continue;
        l->formats[i] = calloc(TP_USB_MAX_FORMATS, sizeof(tp_usb_uvc_format));
        if (l->formats[i] && tp_usb_uvc_formats(&l->usb[i], l->formats[i], TP_USB_MAX_FORMATS, &l->format_count[i],
                                                l->format_error[i], sizeof l->format_error[0]) != 0) {
            free(l->formats[i]);
            l->formats[i] = NULL;
        }
    }
    probe_ports(l);
    if (json)
        print_json(l);
    else
        print_text(l);
    if (l->asked_port_failed)
        rc = 1;
done:
    for (int i = 0; i < TP_USB_MAX_DEVICES; i++)
        free(l->formats[i]);
    for (int i = 0; i < l->port_count; i++)
        free(l->ports[i]);
    free(l);
    return rc;
}
