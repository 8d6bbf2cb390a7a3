/* The OpenGloves/LucidGloves "alpha" encoding, one line at a time
 * (docs/devices/gloves.md has the key table and its sources). */
#include <stdio.h>
#include <string.h>

#include "teleop/glove.h"

#define MAX_DIGITS 5 /* "4095" fits in 4; 5 leaves room for a leading zero */

const char *tp_glove_reject_name(tp_glove_reject r)
{
    switch (r) {
    case TP_GLOVE_REJECT_SYNTAX: return "syntax";
    case TP_GLOVE_REJECT_RANGE: return "range";
    case TP_GLOVE_REJECT_INCOMPLETE: return "incomplete";
    case TP_GLOVE_REJECT_TOO_LONG: return "too_long";
    default: return "unknown";
    }
}

static int reject(tp_glove_reject *why, tp_glove_reject r, char *msg, size_t msglen, const char *reason,
                  size_t at)
{
    if (why)
        *why = r;
    if (msg && msglen)
        snprintf(msg, msglen, "%s: %s at byte %zu", tp_glove_reject_name(r), reason, at);
    return -1;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Where a parsed value goes; the range is checked after the line, once the
 * learnt max_value is known. */
typedef struct slot {
    int32_t *dst;
    bool seen;
} slot;

int tp_glove_parse_line(const char *line, size_t len, int32_t max_value, tp_glove_sample *out,
                        tp_glove_reject *why, char *msg, size_t msglen)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > TP_GLOVE_LINE_MAX)
        return reject(why, TP_GLOVE_REJECT_TOO_LONG, msg, msglen, "line longer than 150 bytes", TP_GLOVE_LINE_MAX);
    if (max_value != 0 && max_value != 1023 && max_value != 4095)
        return reject(why, TP_GLOVE_REJECT_RANGE, msg, msglen, "max_value must be 1023, 4095 or 0", 0);

    tp_glove_sample s;
    memset(&s, 0, sizeof s);
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        s.curl[f] = -1;
        s.splay[f] = -1;
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++)
            s.joint_curl[f][j] = -1;
    }
    s.joystick[0] = s.joystick[1] = -1;
    s.trigger = -1;
    s.battery_percent = -1;

    int32_t largest = 0;
    size_t i = 0;
    while (i < len) {
        size_t key_at = i;
        char c = line[i];
        int32_t *dst = NULL;
        bool info = false;
        uint32_t button = 0;
        if (c >= 'A' && c <= 'E') {
            dst = &s.curl[c - 'A'];
            i++;
        } else if (c == 'F' || c == 'G') {
            dst = &s.joystick[c - 'F'];
            i++;
        } else if (c == 'P') {
            dst = &s.trigger;
            i++;
        } else if (c >= 'H' && c <= 'O') {
            button = 1u << (c - 'H');
            i++;
        } else if (c == '(') {
            size_t close = i + 1;
            while (close < len && line[close] != ')' && close - i <= 4)
                close++;
            if (close >= len)
                return reject(why, TP_GLOVE_REJECT_INCOMPLETE, msg, msglen, "unterminated '(' key", key_at);
            if (line[close] != ')')
                return reject(why, TP_GLOVE_REJECT_SYNTAX, msg, msglen, "long key without ')'", key_at);
            const char *k = line + i + 1;
            size_t klen = close - i - 1;
            if (klen == 2 && k[0] >= 'A' && k[0] <= 'E' && k[1] == 'B')
                dst = &s.splay[k[0] - 'A'];
            else if (klen == 3 && k[0] >= 'A' && k[0] <= 'E' && k[1] == 'A' && k[2] >= 'A' && k[2] <= 'D')
                dst = &s.joint_curl[k[0] - 'A'][k[2] - 'A'];
            else if (klen == 2 && k[0] == 'Z' && (k[1] == 'V' || k[1] == 'G' || k[1] == 'H'))
                info = true;
            else
                return reject(why, TP_GLOVE_REJECT_SYNTAX, msg, msglen, "unknown key", key_at);
            i = close + 1;
        } else {
            return reject(why, TP_GLOVE_REJECT_SYNTAX, msg, msglen, "stray character", key_at);
        }

        if (button) {
            if (i < len && is_digit(line[i]))
                return reject(why, TP_GLOVE_REJECT_SYNTAX, msg, msglen, "a number after a button key", i);
            if (s.buttons & button)
                return reject(why, TP_GLOVE_REJECT_SYNTAX, msg, msglen, "key repeated", key_at);
            s.buttons |= button;
            continue;
        }
        if (info) {
            /* Firmware version, device type, hand: informational; digits
             * and dots are skipped, an empty value is allowed. */
            while (i < len && (is_digit(line[i]) || line[i] == '.'))
                i++;
            continue;
        }
        size_t start = i;
        int32_t v = 0;
        while (i < len && is_digit(line[i])) {
            if (i - start >= MAX_DIGITS)
                return reject(why, TP_GLOVE_REJECT_RANGE, msg, msglen, "number too long", start);
            v = v * 10 + (line[i] - '0');
            i++;
        }
        if (i == start) {
            if (i == len)
                return reject(why, TP_GLOVE_REJECT_INCOMPLETE, msg, msglen, "key without a value at the end", key_at);
            return reject(why, TP_GLOVE_REJECT_SYNTAX, msg, msglen, "key without a value", key_at);
        }
        if (*dst != -1)
            return reject(why, TP_GLOVE_REJECT_SYNTAX, msg, msglen, "key repeated", key_at);
        if (v > 4095 || (max_value && v > max_value))
            return reject(why, TP_GLOVE_REJECT_RANGE, msg, msglen, "value above max_value", start);
        *dst = v;
        if (v > largest)
            largest = v;
    }
    for (int f = 0; f < TP_GLOVE_FINGERS; f++)
        if (s.curl[f] < 0)
            return reject(why, TP_GLOVE_REJECT_INCOMPLETE, msg, msglen, "not all five curls A..E", len);
    s.max_value = max_value ? max_value : (largest > 1023 ? 4095 : 1023);
    *out = s;
    if (msg && msglen)
        msg[0] = '\0';
    return 0;
}

int tp_glove_format_feedback(const float force[TP_GLOVE_FINGERS], char *buf, size_t len)
{
    int v[TP_GLOVE_FINGERS];
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        float x = force[f];
        if (!(x > 0.0f)) /* NaN too */
            x = 0.0f;
        if (x > 1.0f)
            x = 1.0f;
        v[f] = (int)(x * 1000.0f + 0.5f);
    }
    int n = snprintf(buf, len, "A%dB%dC%dD%dE%d\n", v[0], v[1], v[2], v[3], v[4]);
    if (n < 0 || (size_t)n >= len)
        return -1;
    return n;
}
