/* teleop — operator controls: the headset operator's buttons and grips turned
 * into station commands (clutch, start recording, stop and keep, stop and
 * discard, emergency hold and its release, the headset view's wrist panels
 * shown or hidden), so nobody has to take the headset off to run a session.
 *
 * A pure module: it sees only the sequence of operator frames (controller
 * state and each frame's t_ns) and keeps a little state for edge detection,
 * debounce and hold timing. The same code runs behind every operator device
 * (OpenXR, motion replay), so a replayed episode drives the same commands the
 * live operator did. docs/devices/xr.md lists the bindings and the [controls]
 * keys of the station config.
 *
 * tp_controls_update allocates nothing and takes no lock. All structs are
 * plain data owned by the caller.
 */
#ifndef TELEOP_CONTROLS_H
#define TELEOP_CONTROLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/config.h"
#include "teleop/operator.h"

/* Station commands, as codes that cross threads in SPSC rings. */
typedef enum tp_command {
    TP_CMD_NONE = 0,
    TP_CMD_CLUTCH_ENGAGE,
    TP_CMD_CLUTCH_RELEASE,
    TP_CMD_RECORD_START,
    TP_CMD_RECORD_STOP_KEEP,
    TP_CMD_RECORD_STOP_DISCARD,
    TP_CMD_EMERGENCY_ON,
    TP_CMD_EMERGENCY_OFF,
    TP_CMD_WRIST_PANELS_TOGGLE, /* show or hide the headset view's wrist panels */
    TP_CMD_COUNT
} tp_command;

/* "clutch_engage", "record_start", ...; "none" for unknown codes. */
const char *tp_command_name(int cmd);

/* One command with the operator-frame time it happened at. */
typedef struct tp_command_msg {
    int64_t t_ns;
    int32_t code; /* tp_command */
} tp_command_msg;

/* Controller inputs a binding can name. */
typedef enum tp_control_input {
    TP_INPUT_A = 0, /* A, or X on a left Touch controller */
    TP_INPUT_B,     /* B, or Y on a left Touch controller */
    TP_INPUT_MENU,
    TP_INPUT_STICK, /* thumbstick (or trackpad) click */
    TP_INPUT_TRIGGER,
    TP_INPUT_SQUEEZE,
    TP_INPUT_COUNT
} tp_control_input;

enum { TP_CONTROL_SIDE_LEFT = 0, TP_CONTROL_SIDE_RIGHT = 1, TP_CONTROL_SIDE_ANY = 2 };

#define TP_BINDING_MAX_KEYS 2

/* A chord of up to two inputs, all held; with hold_s > 0 it fires once the
 * chord has been held that long, otherwise when it goes down. */
typedef struct tp_control_binding {
    int count; /* 0: unbound */
    struct {
        uint8_t side;  /* TP_CONTROL_SIDE_* */
        uint8_t input; /* tp_control_input */
    } keys[TP_BINDING_MAX_KEYS];
    double hold_s;
} tp_control_binding;

/* The bindable commands (the clutch has its own mode). */
typedef enum tp_control_action {
    TP_ACTION_RECORD_START = 0,
    TP_ACTION_RECORD_STOP_KEEP,
    TP_ACTION_RECORD_STOP_DISCARD,
    TP_ACTION_EMERGENCY,
    TP_ACTION_EMERGENCY_RELEASE,
    TP_ACTION_WRIST_PANELS,
    TP_ACTION_COUNT
} tp_control_action;

typedef enum tp_clutch_mode {
    TP_CLUTCH_EITHER = 0, /* engaged while either grip is squeezed */
    TP_CLUTCH_BOTH,       /* ... while both are */
    TP_CLUTCH_LEFT,
    TP_CLUTCH_RIGHT,
    TP_CLUTCH_ALWAYS, /* always engaged (hand tracking without controllers) */
} tp_clutch_mode;

typedef struct tp_controls_config {
    tp_clutch_mode clutch;
    double threshold;  /* trigger/squeeze value that counts as pressed, default 0.5 */
    double debounce_s; /* an input must stay pressed this long to count, default 0.03 */
    tp_control_binding bindings[TP_ACTION_COUNT];
} tp_controls_config;

/* Defaults: clutch = either, record_start = right.a, record_stop_keep =
 * right.b, record_stop_discard = left.b hold 1, emergency = left.menu,
 * emergency_release = left.menu hold 2, wrist_panels = left.stick. */
void tp_controls_default_config(tp_controls_config *cfg);

/* Parses "right.a", "left.menu+right.a", "any.stick hold 1.5", "none".
 * 0, or -1 with a message naming what is wrong. */
int tp_control_binding_parse(const char *text, tp_control_binding *out, char *err, size_t errlen);
/* Writes the binding back in the parsed syntax. */
void tp_control_binding_format(const tp_control_binding *b, char *buf, size_t len);
const char *tp_control_action_key(int action); /* "record_start", ... (the [controls] key) */

/* The [controls] section (clutch, threshold, debounce and one key per
 * action) is a key table of the station config (teleop/station_config.h). */

typedef struct tp_controls {
    tp_controls_config cfg;
    bool raw[2][TP_INPUT_COUNT];      /* last raw state */
    int64_t since[2][TP_INPUT_COUNT]; /* raw press start */
    bool down[2][TP_INPUT_COUNT];     /* debounced */
    bool chord_down[TP_ACTION_COUNT];
    bool chord_done[TP_ACTION_COUNT]; /* fired, or used up by another command, in this press */
    int64_t chord_since[TP_ACTION_COUNT];
    bool clutch, emergency;
    bool blocked; /* after an emergency hold, until the clutch is let go */
} tp_controls;

void tp_controls_init(tp_controls *c, const tp_controls_config *cfg);

/* Feeds one frame (frames in time order). Sets f->engaged from the clutch and
 * writes up to max commands (in the order they happened) into out; returns
 * how many. A command that would change nothing (emergency on while on) is
 * not emitted. A release takes effect at once; a press counts after
 * debounce_s. An inactive controller reads as all released. */
int tp_controls_update(tp_controls *c, tp_operator_frame *f, tp_command_msg *out, int max);

bool tp_controls_emergency(const tp_controls *c);

#endif
