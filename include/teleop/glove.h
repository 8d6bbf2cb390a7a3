/* teleop — data gloves: finger curls per joint, splay, buttons, joystick and
 * battery from a hand-tracking glove, and force feedback back to it.
 *
 * A glove is a driver (an ops table with a name, chosen in the station
 * config's [glove.left] / [glove.right]) plus its state. "opengloves" speaks
 * the OpenGloves/LucidGloves alpha encoding (docs/devices/gloves.md) over a
 * serial tty (a CDC-ACM USB glove, /dev/ttyACM0, at a configurable baud; a
 * pseudo-terminal in tests). The byte protocol is separate from the
 * transport: tp_glove_parse_line works on one line of bytes alone, so it is
 * tested and fuzzed without a device.
 *
 * Values stay raw in tp_glove_sample (what the glove sent, in its own units
 * 0..max_value; the episode records them so) and become 0..1 flexions only
 * through a per-glove, per-operator tp_glove_calibration.
 *
 * Threads: the glove's reader thread makes every call on it (open, poll,
 * feedback, stats, close). poll allocates nothing.
 * Memory: tp_glove_open allocates the glove and its driver state;
 * tp_glove_close frees both. Strings in tp_glove_config are borrowed while
 * the glove is open.
 */
#ifndef TELEOP_GLOVE_H
#define TELEOP_GLOVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/operator.h"

#define TP_GLOVE_FINGERS 5       /* thumb, index, middle, ring, little (OpenGloves A..E) */
#define TP_GLOVE_FINGER_JOINTS 4 /* per-joint curls (xAA)..(xAD): joint 0 at the knuckle .. 3 */
#define TP_GLOVE_LINE_MAX 150    /* longest line accepted, newline excluded (Monado's packet bound) */

/* Buttons, bit flags: the alpha encoding's present-only keys. */
enum tp_glove_button {
    TP_GLOVE_BTN_JOYSTICK = 1u << 0,  /* H */
    TP_GLOVE_BTN_TRIGGER = 1u << 1,   /* I */
    TP_GLOVE_BTN_A = 1u << 2,         /* J */
    TP_GLOVE_BTN_B = 1u << 3,         /* K */
    TP_GLOVE_BTN_GRAB = 1u << 4,      /* L (gesture) */
    TP_GLOVE_BTN_PINCH = 1u << 5,     /* M (gesture) */
    TP_GLOVE_BTN_MENU = 1u << 6,      /* N */
    TP_GLOVE_BTN_CALIBRATE = 1u << 7, /* O */
};

/* One accepted line. Every analog value is raw, in 0..max_value, or -1 when
 * the line did not carry it. */
typedef struct tp_glove_sample {
    int64_t t_ns; /* CLOCK_MONOTONIC when the line's newline arrived */
    int64_t seq;  /* lines accepted from this glove so far, from 0 */
    int32_t curl[TP_GLOVE_FINGERS];                         /* A..E */
    int32_t joint_curl[TP_GLOVE_FINGERS][TP_GLOVE_FINGER_JOINTS]; /* (AAA)..(EAD) */
    int32_t splay[TP_GLOVE_FINGERS];                        /* (AB)..(EB) */
    int32_t joystick[2];                                    /* F (x), G (y) */
    int32_t trigger;                                        /* P, analog */
    uint32_t buttons;                                       /* tp_glove_button bits */
    int32_t battery_percent;                                /* 0..100, or -1 (the glove does not say) */
    int32_t max_value;                                      /* the range in force: 1023 or 4095 */
} tp_glove_sample;

/* Why a line was rejected (counted per reason in tp_glove_stats). */
typedef enum tp_glove_reject {
    TP_GLOVE_REJECT_SYNTAX = 0, /* an unknown key, a stray character, a number where none may be */
    TP_GLOVE_REJECT_RANGE,      /* a value above max_value or a number too long */
    TP_GLOVE_REJECT_INCOMPLETE, /* not all five curls A..E (a truncated or partial line) */
    TP_GLOVE_REJECT_TOO_LONG,   /* more than TP_GLOVE_LINE_MAX bytes before a newline */
    TP_GLOVE_REJECT_COUNT
} tp_glove_reject;

const char *tp_glove_reject_name(tp_glove_reject r); /* "syntax", "range", "incomplete", "too_long" */

/* Parses one line (no newline; a trailing '\r' is ignored). max_value 1023
 * or 4095; 0 means learn: 4095 when any value exceeds 1023, else 1023.
 * Fills out (t_ns and seq left to the caller). 0 accepted; -1 rejected, with
 * *why and a one-line reason in msg. Pure: no allocation, no I/O. */
int tp_glove_parse_line(const char *line, size_t len, int32_t max_value, tp_glove_sample *out,
                        tp_glove_reject *why, char *msg, size_t msglen);

/* Force feedback per finger, 0 (free) .. 1 (full), as the line the glove
 * reads ("A%dB%dC%dD%dE%d\n", each force · 1000). Returns the line's length
 * (without NUL) or -1 if it does not fit. */
int tp_glove_format_feedback(const float force[TP_GLOVE_FINGERS], char *buf, size_t len);

typedef struct tp_glove_stats {
    int64_t bytes;
    int64_t lines_accepted;
    int64_t lines_rejected[TP_GLOVE_REJECT_COUNT];
    int64_t last_t_ns; /* the newest accepted line's t_ns, 0 before any */
} tp_glove_stats;

typedef struct tp_glove_config {
    const char *name;   /* "left" or "right": the glove's name in messages and its stream */
    int side;           /* TP_LEFT or TP_RIGHT */
    const char *driver; /* "opengloves" */
    const char *port;   /* the tty: "/dev/ttyACM0", "/dev/serial/by-id/…", a pty */
    int baud;           /* 115200 */
    int32_t max_value;  /* 1023, 4095, or 0 to learn from the data */
    double timeout_s;   /* no accepted line for this long: the glove is silent (0.1) */
} tp_glove_config;

void tp_glove_default_config(tp_glove_config *cfg, int side);

typedef struct tp_glove tp_glove;

typedef struct tp_glove_ops {
    const char *name;
    /* Opens the port and checks the config. -1 with a one-line message that
     * names the port and says what to do (not found, permission, busy). */
    int (*open)(tp_glove *g, char *err, size_t errlen);
    /* Waits until the next accepted line or the monotonic deadline. 1 a
     * sample in *out; 0 none by the deadline (rejected lines are counted,
     * not returned); -1 the device is gone (unplugged, hung up; message). */
    int (*poll)(tp_glove *g, int64_t deadline_ns, tp_glove_sample *out, char *err, size_t errlen);
    /* Sends force feedback without blocking (a full output buffer drops it:
     * returns 0 then, as a newer value will follow). -1 on a device error. */
    int (*feedback)(tp_glove *g, const float force[TP_GLOVE_FINGERS], char *err, size_t errlen);
    void (*stats)(tp_glove *g, tp_glove_stats *out);
    void (*close)(tp_glove *g); /* frees g->state */
} tp_glove_ops;

struct tp_glove {
    const tp_glove_ops *ops;
    tp_glove_config cfg;
    void *state;
};

const tp_glove_ops *tp_glove_find_driver(const char *name);
const char *tp_glove_driver_names(void); /* "opengloves" */

tp_glove *tp_glove_open(const tp_glove_config *cfg, char *err, size_t errlen);
void tp_glove_close(tp_glove *g);

/* Per-glove, per-operator ranges: the raw value of each sensor with the hand
 * open flat and in a fist (either order: open may be above closed), and the
 * splay values with the fingers together and spread. */
typedef struct tp_glove_calibration {
    char id[64]; /* recorded in the episode (meta glove_calibration_left/right) */
    int32_t curl_open[TP_GLOVE_FINGERS], curl_closed[TP_GLOVE_FINGERS];
    int32_t joint_open[TP_GLOVE_FINGERS][TP_GLOVE_FINGER_JOINTS];
    int32_t joint_closed[TP_GLOVE_FINGERS][TP_GLOVE_FINGER_JOINTS];
    int32_t splay_together[TP_GLOVE_FINGERS], splay_spread[TP_GLOVE_FINGERS];
} tp_glove_calibration;

/* The full range 0..max_value as open..closed (id "default"). */
void tp_glove_default_calibration(tp_glove_calibration *cal, int32_t max_value);

/* A calibrated glove: per finger 0 (straight) .. 1 (fist), clamped; per
 * joint likewise (from the per-joint curls when the glove sends them, else
 * each joint takes its finger's value); splay 0 together .. 1 spread;
 * joystick -1..1; trigger 0..1. */
typedef struct tp_glove_hand {
    double flex[TP_GLOVE_FINGERS];
    double joint_flex[TP_GLOVE_FINGERS][TP_GLOVE_FINGER_JOINTS];
    double splay[TP_GLOVE_FINGERS];
    double joystick[2];
    double trigger;
    uint32_t buttons;
} tp_glove_hand;

void tp_glove_apply_calibration(const tp_glove_calibration *cal, const tp_glove_sample *s, tp_glove_hand *out);

/* calibration/<file>.ini, section [glove] (station config syntax, like the
 * operator calibration files; calibration/README.md). 0 or -1 with a
 * message naming the file and key. */
int tp_glove_calibration_load(const char *path, tp_glove_calibration *cal, char *err, size_t errlen);
int tp_glove_calibration_save(const char *path, const tp_glove_calibration *cal, char *err, size_t errlen);

/* The fusion rule (docs/devices/gloves.md): the operator's hand for side
 * from the headset's hand and a calibrated glove. With the headset's wrist
 * tracked, the hand is the hand model (handmodel.h) at that wrist with the
 * glove's flexions (the glove decides the fingers; the headset the wrist).
 * Without a tracked wrist (a glove alone), the fingers still follow the
 * glove (the model at a nominal wrist) but the wrist joint is marked
 * invalid, so the arm holds and the robot hand follows the glove.
 * glove NULL (configured but silent): the hand becomes inactive, so the
 * retargeting holds that side. Pure; no allocation. */
void tp_glove_fuse(int side, const tp_glove_hand *glove, tp_hand_frame *hand);

#endif
