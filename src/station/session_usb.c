/* teleop — USB plugs and unplugs during a session: the USB monitor's
 * reports (devices/usb, on the monitor's own thread) become episode events
 * usb_device_added / usb_device_removed and a line on stderr, naming the
 * configured camera or glove the device is when it matches one. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "station/session_internal.h"

#include <limits.h>
#include "teleop/usb.h"

#define USB_POLL_S 1.0 /* the re-enumeration period when libusb has no hotplug */

struct session_usb {
    tp_usb_monitor *monitor;
    pthread_t test_thread; /* the test hook's reporter, standing in for the monitor */
    bool test_started;
    atomic_int stop;
};

/* Which configured camera the device is: its serial number or port path as
 * the camera's `device`, or an unnamed uvc camera (the first one found). */
static const char *configured_as(const session *s, const tp_usb_device *d, bool *first_found)
{
    *first_found = false;
    for (int i = 0; i < s->cfg->camera_count; i++) {
        const tp_camera_params *c = &s->cfg->cameras[i].device;
        if (!c->driver || strcmp(c->driver, "uvc") != 0)
            continue;
        if (c->device && c->device[0]) {
            if ((d->serial[0] && strcmp(c->device, d->serial) == 0) || strcmp(c->device, d->port_path) == 0)
                return c->name;
        } else if (d->kind == TP_USB_UVC_CAMERA) {
            *first_found = true;
            return c->name;
        }
    }
    return NULL;
}

/* The configured glove this device's tty is ("left"/"right"), or NULL. A
 * configured port may be a /dev/serial/by-id link: compared resolved. An
 * unplugged device's tty node is gone, so its name as sysfs gave it at the
 * plug is compared too. */
static const char *glove_of(const session *s, const tp_usb_device *d)
{
    if (!d->tty[0])
        return NULL;
    for (int side = 0; side < 2; side++) {
        const char *port = s->cfg->gloves[side].port;
        if (!port || !port[0])
            continue;
        char resolved[PATH_MAX];
        if (!strcmp(port, d->tty) || (realpath(port, resolved) && !strcmp(resolved, d->tty)))
            return side ? "right" : "left";
    }
    return NULL;
}

/* What the monitor's callback calls for each plug and unplug (on the
 * monitor's thread: the ring's only producer). */
static void report(void *user, bool added, const tp_usb_device *d)
{
    session *s = user;
    tp_device_event ev = {.t_ns = tp_now_ns(), .kind = added ? "usb_device_added" : "usb_device_removed"};
    bool first_found;
    const char *camera = configured_as(s, d, &first_found);
    const char *glove = camera ? NULL : glove_of(s, d);
    char what[64] = "";
    if (camera)
        snprintf(what, sizeof what, ", camera %.24s%s", camera, first_found ? " (first UVC camera)" : "");
    else if (glove)
        snprintf(what, sizeof what, ", glove %s", glove);
    /* The detail is a fixed 96 bytes: the product is cut first, the camera's name is kept. */
    int room = (int)sizeof ev.detail - 1 - (int)strlen(what) - (int)strlen(d->port_path) - 11;
    char line[256];
    snprintf(line, sizeof line, "%04x:%04x %s %.*s%s", d->vid, d->pid, d->port_path, room > 0 ? room : 0,
             d->product[0] ? d->product : "(no product string)", what);
    size_t n = strnlen(line, sizeof ev.detail - 1);
    memcpy(ev.detail, line, n);
    ev.detail[n] = '\0';
    if (!tp_ring_push(&s->usb_events, &ev))
        tp_log_warn("USB event lost (queue full): %s %s", ev.kind, ev.detail);
    tp_log_warn("USB device %s: %s", added ? "plugged in" : "unplugged", ev.detail);
}

static void sleep_until(const atomic_int *stop, int64_t t_ns)
{
    while (!atomic_load(stop) && tp_now_ns() < t_ns)
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
}

static void *test_reporter(void *arg)
{
    session *s = arg;
    const tp_session_config *cfg = s->cfg;
    while (!atomic_load(&s->usb->stop) && !atomic_load(&s->start_ns)) /* started before the clock is set */
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    int64_t t0 = atomic_load(&s->start_ns);
    sleep_until(&s->usb->stop, t0 + (int64_t)(cfg->test_usb_plug_at_s * 1e9));
    if (!atomic_load(&s->usb->stop))
        report(s, true, cfg->test_usb_device);
    if (cfg->test_usb_unplug_at_s > 0) {
        sleep_until(&s->usb->stop, t0 + (int64_t)(cfg->test_usb_unplug_at_s * 1e9));
        if (!atomic_load(&s->usb->stop))
            report(s, false, cfg->test_usb_device);
    }
    return NULL;
}

void session_usb_start(session *s)
{
    if (!s->cfg->usb_monitor && !s->cfg->test_usb_device)
        return;
    s->usb = calloc(1, sizeof *s->usb);
    if (!s->usb) {
        tp_log_warn("USB monitor: out of memory; plugs and unplugs are not reported");
        return;
    }
    if (s->cfg->test_usb_device) {
        s->usb->test_started = pthread_create(&s->usb->test_thread, NULL, test_reporter, s) == 0;
        return;
    }
    char err[256];
    s->usb->monitor = tp_usb_monitor_start(report, s, USB_POLL_S, err, sizeof err);
    if (!s->usb->monitor)
        tp_log_info("USB monitor off: %s", err);
    else
        tp_log_info("USB monitor on (%s)", tp_usb_monitor_uses_hotplug(s->usb->monitor)
                                               ? "libusb hotplug"
                                               : "re-enumerating every second");
}

void session_usb_stop(session *s)
{
    if (!s->usb)
        return;
    atomic_store(&s->usb->stop, 1);
    if (s->usb->test_started)
        pthread_join(s->usb->test_thread, NULL);
    tp_usb_monitor_stop(s->usb->monitor);
    free(s->usb);
    s->usb = NULL;
}
