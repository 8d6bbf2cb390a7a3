/* teleop — operator devices: where operator frames come from (an OpenXR
 * headset, a recorded motion replayed in real time), behind one interface so
 * the station picks the source by name from its config ([operator] source).
 *
 * The pattern (docs/architecture.md): a driver is an ops table with a name;
 * open prepares the device (may fail with a one-line message), start anchors
 * it to the session clock, poll blocks until the device's next frame (a
 * headset's frame pacing, or the replay rate) and returns it with whatever
 * the device reported meanwhile, stop winds it down, close frees it. The
 * station's device thread calls start/poll/stop; open and close run on the
 * thread that sets the session up.
 *
 * Memory: tp_operator_device_open allocates the driver's state, owned by the
 * tp_operator_device until tp_operator_device_close. The config's strings are
 * borrowed while the device is open. poll allocates nothing.
 */
#ifndef TELEOP_OPERATOR_DEVICE_H
#define TELEOP_OPERATOR_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/operator.h"

typedef struct tp_operator_device_config {
    const char *motion_path; /* motion: the file played; xr with the replay runtime: its source */
    bool loop;               /* start over at the end of the motion */
    double rate_hz;          /* motion: frames per second (a headset's 90 by default) */
    const char *xr_runtime;  /* xr: "replay" (teleop's replay runtime) or "system" (the loader's choice) */
    const char *xr_replay_script; /* xr with the replay runtime: scripted input, or NULL */
    const char *xr_view;          /* xr: "off" (NULL too: headless) or "headset" (OpenGL session) */
    int xr_mirror_width, xr_mirror_height; /* xr, view = headset: > 0 shows the desktop mirror this size */
} tp_operator_device_config;

/* One thing a device reports (session state, tracking lost/found, ...). kind
 * is a static string; detail is copied. */
typedef struct tp_device_event {
    int64_t t_ns;
    const char *kind;
    char detail[96];
} tp_device_event;

enum tp_device_status {
    TP_DEVICE_ERROR = -1,
    TP_DEVICE_IDLE = 0,  /* no frame this time (the device is not delivering yet) */
    TP_DEVICE_FRAME = 1, /* a new frame */
    TP_DEVICE_ENDED = 2, /* the device ended the session (headset exit, session or instance loss) */
};

typedef struct tp_operator_device_ops {
    const char *name;
    int (*open)(void **state, const tp_operator_device_config *cfg, char *err, size_t errlen);
    int (*start)(void *state, int64_t t_start_ns, char *err, size_t errlen);
    /* Blocks until the next frame is due (at most about one frame period).
     * frame->engaged is left to the operator controls. */
    int (*poll)(void *state, tp_operator_frame *frame, tp_device_event *events, int max_events, int *n_events,
                char *err, size_t errlen);
    /* Winds down (an XR session is asked to exit and followed to its end,
     * at most 2 s); what the device reports meanwhile goes to events. */
    void (*stop)(void *state, tp_device_event *events, int max_events, int *n_events);
    void (*close)(void *state);
    /* One line on what is connected ("OpenXR runtime 'X' 1.2.3, system 'Y'"). */
    void (*describe)(void *state, char *buf, size_t len);
    /* Optional (NULL for devices without one): the OpenXR client behind the
     * device (struct tp_xr, xr.h), for the headset view's frame loop; NULL
     * when the session is headless. Owned by the device. */
    struct tp_xr *(*xr)(void *state);
} tp_operator_device_ops;

typedef struct tp_operator_device {
    const tp_operator_device_ops *ops;
    void *state;
} tp_operator_device;

/* The registered drivers by name ("motion", "xr"), or NULL. */
const tp_operator_device_ops *tp_operator_device_find(const char *name);
/* "motion, xr": the registered names, for messages. */
const char *tp_operator_device_names(void);

int tp_operator_device_open(tp_operator_device *dev, const char *name, const tp_operator_device_config *cfg,
                            char *err, size_t errlen);
void tp_operator_device_close(tp_operator_device *dev);

extern const tp_operator_device_ops tp_motion_operator_device;
extern const tp_operator_device_ops tp_xr_operator_device;

#endif
