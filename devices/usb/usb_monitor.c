/* teleop — plugs and unplugs: libusb hotplug notifications (or, without
 * that capability, a periodic re-enumeration) turned into reports by
 * diffing the device list against the last one. Both ways end in the same
 * diff, so a removed device is reported with what was known of it while it
 * was plugged (its product string and port path; an unplugged device can no
 * longer be read). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usb_internal.h"

static bool same_device(const tp_usb_device *a, const tp_usb_device *b)
{
    return a->bus == b->bus && a->address == b->address && a->vid == b->vid && a->pid == b->pid;
}

static bool contains(const tp_usb_device *list, int n, const tp_usb_device *d)
{
    for (int i = 0; i < n; i++)
        if (same_device(&list[i], d))
            return true;
    return false;
}

int tp_usb_diff(const tp_usb_device *old, int n_old, const tp_usb_device *now, int n_now, tp_usb_report_fn report,
                void *user)
{
    int reports = 0;
    for (int i = 0; i < n_old; i++)
        if (!contains(now, n_now, &old[i])) {
            report(user, false, &old[i]);
            reports++;
        }
    for (int i = 0; i < n_now; i++)
        if (!contains(old, n_old, &now[i])) {
            report(user, true, &now[i]);
            reports++;
        }
    return reports;
}

struct tp_usb_monitor {
    libusb_context *ctx;
    bool hotplug;
    libusb_hotplug_callback_handle cb_handle;
    pthread_t thread;
    atomic_int stop;
    atomic_int changed; /* set by libusb's hotplug callback, read by the thread */
    double poll_s;
    tp_usb_report_fn report;
    void *user;
    tp_usb_device devices[2][TP_USB_MAX_DEVICES]; /* the last list and the next */
    int count[2];
    int current;
};

/* libusb calls this from libusb_handle_events on the monitor's thread; the
 * device is read after the call returns (libusb asks callbacks to be
 * short). */
static int LIBUSB_CALL on_hotplug(libusb_context *ctx, libusb_device *dev, libusb_hotplug_event event, void *user)
{
    (void)ctx, (void)dev, (void)event;
    tp_usb_monitor *m = user;
    atomic_store(&m->changed, 1);
    return 0; /* stay registered */
}

static void rescan(tp_usb_monitor *m)
{
    int next = 1 - m->current;
    if (tp_usb_list(m->ctx, m->devices[next], TP_USB_MAX_DEVICES, &m->count[next]) != 0)
        return; /* try again at the next notification or period */
    tp_usb_diff(m->devices[m->current], m->count[m->current], m->devices[next], m->count[next], m->report, m->user);
    m->current = next;
}

static void *monitor_thread(void *arg)
{
    tp_usb_monitor *m = arg;
    pthread_setname_np(pthread_self(), "tp-usb");
    while (!atomic_load(&m->stop)) {
        if (m->hotplug) {
            struct timeval tv = {.tv_sec = 0, .tv_usec = 200000}; /* how soon a stop is seen */
            libusb_handle_events_timeout_completed(m->ctx, &tv, NULL);
            if (atomic_exchange(&m->changed, 0))
                rescan(m);
        } else {
            /* Sleep poll_s in short steps so a stop is seen quickly. */
            for (double slept = 0; slept < m->poll_s && !atomic_load(&m->stop); slept += 0.1)
                nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
            if (!atomic_load(&m->stop))
                rescan(m);
        }
    }
    return NULL;
}

tp_usb_monitor *tp_usb_monitor_start(tp_usb_report_fn report, void *user, double poll_s, char *err, size_t errlen)
{
    tp_usb_monitor *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "USB monitor: out of memory");
        return NULL;
    }
    m->report = report;
    m->user = user;
    m->poll_s = poll_s > 0 ? poll_s : 1.0;
    int rc = libusb_init(&m->ctx);
    if (rc != 0) {
        snprintf(err, errlen, "no USB access: libusb_init failed (%s); is /dev/bus/usb present?", libusb_strerror(rc));
        free(m);
        return NULL;
    }
    if (tp_usb_list(m->ctx, m->devices[0], TP_USB_MAX_DEVICES, &m->count[0]) != 0) {
        snprintf(err, errlen, "no USB access: cannot list the USB devices");
        libusb_exit(m->ctx);
        free(m);
        return NULL;
    }
    m->hotplug = libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) &&
                 libusb_hotplug_register_callback(
                     m->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0,
                     LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, on_hotplug, m,
                     &m->cb_handle) == LIBUSB_SUCCESS;
    if (pthread_create(&m->thread, NULL, monitor_thread, m) != 0) {
        snprintf(err, errlen, "USB monitor: cannot start its thread (%s)", strerror(errno));
        if (m->hotplug)
            libusb_hotplug_deregister_callback(m->ctx, m->cb_handle);
        libusb_exit(m->ctx);
        free(m);
        return NULL;
    }
    return m;
}

bool tp_usb_monitor_uses_hotplug(const tp_usb_monitor *m) { return m && m->hotplug; }

void tp_usb_monitor_stop(tp_usb_monitor *m)
{
    if (!m)
        return;
    atomic_store(&m->stop, 1);
    pthread_join(m->thread, NULL);
    if (m->hotplug)
        libusb_hotplug_deregister_callback(m->ctx, m->cb_handle);
    libusb_exit(m->ctx);
    free(m);
}
