/* teleop — operator controls: controller state sequence → station commands. */
#include "teleop/controls.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Analog inputs release this far below the press threshold, so a value
 * hovering at the threshold does not chatter. */
#define ANALOG_HYSTERESIS 0.1

static const char *const command_names[TP_CMD_COUNT] = {
    "none",          "clutch_engage",       "clutch_release", "record_start", "record_stop_keep",
    "record_stop_discard", "emergency_on", "emergency_off", "wrist_panels_toggle",
};

static const char *const action_keys[TP_ACTION_COUNT] = {
    "record_start", "record_stop_keep", "record_stop_discard", "emergency", "emergency_release", "wrist_panels",
};

static const int action_command[TP_ACTION_COUNT] = {
    TP_CMD_RECORD_START, TP_CMD_RECORD_STOP_KEEP, TP_CMD_RECORD_STOP_DISCARD, TP_CMD_EMERGENCY_ON,
    TP_CMD_EMERGENCY_OFF, TP_CMD_WRIST_PANELS_TOGGLE,
};

static const char *const input_names[TP_INPUT_COUNT] = {"a", "b", "menu", "stick", "trigger", "squeeze"};
static const char *const side_names[3] = {"left", "right", "any"};

const char *tp_command_name(int cmd)
{
    return cmd > 0 && cmd < TP_CMD_COUNT ? command_names[cmd] : "none";
}

const char *tp_control_action_key(int action)
{
    return action >= 0 && action < TP_ACTION_COUNT ? action_keys[action] : "";
}

void tp_controls_default_config(tp_controls_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->clutch = TP_CLUTCH_EITHER;
    cfg->threshold = 0.5;
    cfg->debounce_s = 0.03;
    static const char *const defaults[TP_ACTION_COUNT] = {
        "right.a", "right.b", "left.b hold 1", "left.menu", "left.menu hold 2", "left.stick",
    };
    char err[128];
    for (int a = 0; a < TP_ACTION_COUNT; a++)
        (void)tp_control_binding_parse(defaults[a], &cfg->bindings[a], err, sizeof err);
}

/* ----------------------------------------------------------- bindings */

static int parse_key(const char *s, size_t n, int *side, int *input)
{
    const char *dot = memchr(s, '.', n);
    if (!dot)
        return -1;
    size_t ns = (size_t)(dot - s), ni = n - ns - 1;
    *side = -1;
    for (int i = 0; i < 3; i++)
        if (strlen(side_names[i]) == ns && strncmp(s, side_names[i], ns) == 0)
            *side = i;
    if (*side < 0)
        return -1;
    const char *in = dot + 1;
    *input = -1;
    for (int i = 0; i < TP_INPUT_COUNT; i++)
        if (strlen(input_names[i]) == ni && strncmp(in, input_names[i], ni) == 0)
            *input = i;
    /* X and Y are the left Touch controller's A and B. */
    if (*input < 0 && ni == 1 && (in[0] == 'x' || in[0] == 'y') && *side == TP_CONTROL_SIDE_LEFT)
        *input = in[0] == 'x' ? TP_INPUT_A : TP_INPUT_B;
    return *input < 0 ? -1 : 0;
}

int tp_control_binding_parse(const char *text, tp_control_binding *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    size_t len = strlen(p);
    while (len && isspace((unsigned char)p[len - 1]))
        len--;
    if ((len == 4 && strncmp(p, "none", 4) == 0) || len == 0)
        return 0;
    /* The chord runs up to the first space; "hold SECONDS" may follow. */
    size_t chord_len = 0;
    while (chord_len < len && !isspace((unsigned char)p[chord_len]))
        chord_len++;
    const char *k = p;
    const char *chord_end = p + chord_len;
    while (k < chord_end) {
        const char *plus = memchr(k, '+', (size_t)(chord_end - k));
        size_t n = plus ? (size_t)(plus - k) : (size_t)(chord_end - k);
        int side, input;
        if (out->count == TP_BINDING_MAX_KEYS) {
            snprintf(err, errlen, "'%.*s': at most %d inputs in a chord", (int)len, p, TP_BINDING_MAX_KEYS);
            return -1;
        }
        if (parse_key(k, n, &side, &input) != 0) {
            snprintf(err, errlen,
                     "'%.*s': '%.*s' is not SIDE.INPUT (side left, right or any; input a, b, x, y, menu, stick, "
                     "trigger or squeeze)",
                     (int)len, p, (int)n, k);
            return -1;
        }
        out->keys[out->count].side = (uint8_t)side;
        out->keys[out->count].input = (uint8_t)input;
        out->count++;
        k += n + (plus ? 1 : 0);
        if (plus && k == chord_end) {
            snprintf(err, errlen, "'%.*s': a '+' must join two inputs", (int)len, p);
            return -1;
        }
    }
    const char *rest = chord_end;
    while (rest < p + len && isspace((unsigned char)*rest))
        rest++;
    if (rest < p + len) {
        char *end;
        if (strncmp(rest, "hold", 4) != 0 || !isspace((unsigned char)rest[4])) {
            snprintf(err, errlen, "'%.*s': expected 'hold SECONDS' after the inputs", (int)len, p);
            return -1;
        }
        double h = strtod(rest + 5, &end);
        while (end < p + len && isspace((unsigned char)*end))
            end++;
        if (end == rest + 5 || end != p + len || !(h > 0 && h <= 60)) {
            snprintf(err, errlen, "'%.*s': hold needs a time in seconds, above 0 and at most 60", (int)len, p);
            return -1;
        }
        out->hold_s = h;
    }
    return 0;
}

void tp_control_binding_format(const tp_control_binding *b, char *buf, size_t len)
{
    if (b->count == 0) {
        snprintf(buf, len, "none");
        return;
    }
    size_t used = 0;
    for (int i = 0; i < b->count && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s.%s", i ? "+" : "", side_names[b->keys[i].side],
                                 input_names[b->keys[i].input]);
    if (b->hold_s > 0 && used < len)
        snprintf(buf + used, len - used, " hold %g", b->hold_s);
}

/* The [controls] keys are read by the station config's key table
 * (src/station/station_config.c). */

/* ------------------------------------------------------------- runtime */

void tp_controls_init(tp_controls *c, const tp_controls_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
}

bool tp_controls_emergency(const tp_controls *c) { return c->emergency; }

static bool raw_input(const tp_controls *c, const tp_controller_frame *ctl, int input, bool was)
{
    if (!ctl->active)
        return false;
    double level = was ? fmax(0.01, c->cfg.threshold - ANALOG_HYSTERESIS) : c->cfg.threshold;
    switch (input) {
    case TP_INPUT_A: return (ctl->buttons & TP_BTN_A) != 0;
    case TP_INPUT_B: return (ctl->buttons & TP_BTN_B) != 0;
    case TP_INPUT_MENU: return (ctl->buttons & TP_BTN_MENU) != 0;
    case TP_INPUT_STICK: return (ctl->buttons & TP_BTN_STICK) != 0;
    case TP_INPUT_TRIGGER: return ctl->trigger >= level; /* NaN reads as released */
    case TP_INPUT_SQUEEZE: return ctl->squeeze >= level;
    }
    return false;
}

static bool key_down(const tp_controls *c, int side, int input)
{
    if (side == TP_CONTROL_SIDE_ANY)
        return c->down[0][input] || c->down[1][input];
    return c->down[side][input];
}

static bool clutch_held(const tp_controls *c)
{
    bool l = c->down[TP_LEFT][TP_INPUT_SQUEEZE], r = c->down[TP_RIGHT][TP_INPUT_SQUEEZE];
    switch (c->cfg.clutch) {
    case TP_CLUTCH_EITHER: return l || r;
    case TP_CLUTCH_BOTH: return l && r;
    case TP_CLUTCH_LEFT: return l;
    case TP_CLUTCH_RIGHT: return r;
    case TP_CLUTCH_ALWAYS: return true;
    }
    return false;
}

static int emit(tp_command_msg *out, int n, int max, int64_t t, int code)
{
    if (n < max) {
        out[n].t_ns = t;
        out[n].code = code;
        return n + 1;
    }
    return n;
}

int tp_controls_update(tp_controls *c, tp_operator_frame *f, tp_command_msg *out, int max)
{
    const int64_t t = f->t_ns;
    const int64_t debounce = (int64_t)llround(c->cfg.debounce_s * 1e9);
    int n = 0;
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < TP_INPUT_COUNT; i++) {
            bool now = raw_input(c, &f->ctrl[s], i, c->raw[s][i]);
            if (now && !c->raw[s][i])
                c->since[s][i] = t;
            c->raw[s][i] = now;
            c->down[s][i] = now && t - c->since[s][i] >= debounce;
        }

    /* Chord states first, so a command fired below sees every binding
     * held with it. */
    for (int a = 0; a < TP_ACTION_COUNT; a++) {
        const tp_control_binding *b = &c->cfg.bindings[a];
        bool chord = b->count > 0;
        for (int k = 0; k < b->count; k++)
            chord = chord && key_down(c, b->keys[k].side, b->keys[k].input);
        if (chord && !c->chord_down[a])
            c->chord_since[a] = t;
        if (chord != c->chord_down[a])
            c->chord_done[a] = false;
        c->chord_down[a] = chord;
    }
    for (int a = 0; a < TP_ACTION_COUNT; a++) {
        const tp_control_binding *b = &c->cfg.bindings[a];
        if (!c->chord_down[a] || c->chord_done[a] || t - c->chord_since[a] < (int64_t)llround(b->hold_s * 1e9))
            continue;
        /* One press gives each binding one chance; a command that fires
         * uses up every other binding held with it, so the press that sets
         * the emergency hold cannot also count toward releasing it. */
        c->chord_done[a] = true;
        int cmd = action_command[a];
        if ((cmd == TP_CMD_EMERGENCY_ON && c->emergency) || (cmd == TP_CMD_EMERGENCY_OFF && !c->emergency))
            continue;
        if (cmd == TP_CMD_EMERGENCY_ON)
            c->emergency = true;
        if (cmd == TP_CMD_EMERGENCY_OFF)
            c->emergency = false;
        for (int o = 0; o < TP_ACTION_COUNT; o++)
            if (c->chord_down[o])
                c->chord_done[o] = true;
        n = emit(out, n, max, t, cmd);
    }

    /* After an emergency hold the clutch engages again only on a fresh
     * squeeze: the operator lets go and squeezes, so the robot never starts
     * moving unasked when the hold is released. */
    bool held = clutch_held(c);
    if (c->emergency)
        c->blocked = true;
    else if (!held || c->cfg.clutch == TP_CLUTCH_ALWAYS)
        c->blocked = false;
    bool engaged = held && !c->blocked && !c->emergency;
    if (engaged != c->clutch) {
        c->clutch = engaged;
        n = emit(out, n, max, t, engaged ? TP_CMD_CLUTCH_ENGAGE : TP_CMD_CLUTCH_RELEASE);
    }
    f->engaged = engaged;
    return n;
}
