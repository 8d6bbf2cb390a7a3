/* teleop — the OpenGloves alpha encoding: one line of bytes to a glove
 * sample, and force feedback to the line a glove reads. No I/O, no
 * allocation: the byte protocol alone (docs/devices/gloves.md). */
#include <stdio.h>
#include <string.h>

#include "teleop/glove.h"

/* The longest number accepted: 4095 has 4 digits; a leading zero or two is
 * tolerated (some firmware pads), more is noise. */
#define MAX_DIGITS 6

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

static void clear_sample(tp_glove_sample *s)
{
    memset(s, 0, sizeof *s);
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        s->curl[f] = -1;
        s->splay[f] = -1;
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++)
            s->joint_curl[f][j] = -1;
    }
    s->joystick[0] = s->joystick[1] = -1;
    s->trigger = -1;
    s->battery_percent = -1;
    s->info_hand = -1;
    s->info_firmware = -1;
}

static int reject(tp_glove_reject r, tp_glove_reject *why, char *msg, size_t msglen, const char *fmt, const char *key,
                  size_t at)
{
    if (why)
        *why = r;
    if (msg && msglen) {
        char text[96];
        snprintf(text, sizeof text, fmt, key);
        snprintf(msg, msglen, "%s at byte %zu", text, at);
    }
    return -1;
}

/* Where a key's value goes; NULL for keys whose value is not kept. */
typedef struct key_slot {
    int32_t *value;
    uint32_t button; /* present-only key */
    bool needs_value;
    bool raw_info; /* an info key: its number is not an analog value */
} key_slot;

static bool slot_for(const char *key, size_t klen, tp_glove_sample *s, key_slot *slot)
{
    memset(slot, 0, sizeof *slot);
    if (klen == 1) {
        char c = key[0];
        if (c >= 'A' && c <= 'E') {
            slot->value = &s->curl[c - 'A'];
            slot->needs_value = true;
            return true;
        }
        switch (c) {
        case 'F': slot->value = &s->joystick[0]; slot->needs_value = true; return true;
        case 'G': slot->value = &s->joystick[1]; slot->needs_value = true; return true;
        case 'P': slot->value = &s->trigger; slot->needs_value = true; return true;
        case 'H': slot->button = TP_GLOVE_BTN_JOYSTICK; return true;
        case 'I': slot->button = TP_GLOVE_BTN_TRIGGER; return true;
        case 'J': slot->button = TP_GLOVE_BTN_A; return true;
        case 'K': slot->button = TP_GLOVE_BTN_B; return true;
        case 'L': slot->button = TP_GLOVE_BTN_GRAB; return true;
        case 'M': slot->button = TP_GLOVE_BTN_PINCH; return true;
        case 'N': slot->button = TP_GLOVE_BTN_MENU; return true;
        case 'O': slot->button = TP_GLOVE_BTN_CALIBRATE; return true;
        default: return false;
        }
    }
    if (klen == 2 && key[0] >= 'A' && key[0] <= 'E' && key[1] == 'B') {
        slot->value = &s->splay[key[0] - 'A'];
        slot->needs_value = true;
        return true;
    }
    if (klen == 3 && key[0] >= 'A' && key[0] <= 'E' && key[1] == 'A' && key[2] >= 'A' && key[2] <= 'D') {
        slot->value = &s->joint_curl[key[0] - 'A'][key[2] - 'A'];
        slot->needs_value = true;
        return true;
    }
    if (klen == 2 && key[0] == 'Z') {
        slot->raw_info = true;
        if (key[1] == 'H')
            slot->value = &s->info_hand;
        else if (key[1] == 'V')
            slot->value = &s->info_firmware;
        return true; /* other info keys ((ZG) device type, ...): accepted, not kept */
    }
    return false;
}

/* A distinct number below 128 for every key slot_for knows. */
static unsigned key_index(const char *key, size_t klen)
{
    if (klen == 1)
        return (unsigned)(key[0] - 'A');                                  /* 0..25 */
    if (klen == 2 && key[0] == 'Z')
        return 51u + (unsigned)(key[1] - 'A');                            /* 51..76 */
    if (klen == 2)
        return 26u + (unsigned)(key[0] - 'A');                            /* 26..30 */
    return 31u + (unsigned)(key[0] - 'A') * 4u + (unsigned)(key[2] - 'A'); /* 31..50 */
}

int tp_glove_parse_line(const char *line, size_t len, int32_t max_value, tp_glove_sample *out, tp_glove_reject *why,
                        char *msg, size_t msglen)
{
    tp_glove_sample s;
    clear_sample(&s);
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > TP_GLOVE_LINE_MAX)
        return reject(TP_GLOVE_REJECT_TOO_LONG, why, msg, msglen, "line longer than 150 bytes%s", "", len);
    if (max_value != 0 && max_value != 1023 && max_value != 4095)
        return reject(TP_GLOVE_REJECT_RANGE, why, msg, msglen, "max_value is not 1023 or 4095%s", "", 0);
    /* A key may appear once: a repeated key is two lines run together or noise. */
    uint64_t seen[2] = {0, 0};
    int32_t largest = 0;
    size_t i = 0;
    if (len == 0)
        return reject(TP_GLOVE_REJECT_INCOMPLETE, why, msg, msglen, "empty line%s", "", 0);
    while (i < len) {
        char key[4];
        size_t klen = 0;
        size_t key_at = i;
        if (line[i] == '(') {
            i++;
            while (i < len && line[i] >= 'A' && line[i] <= 'Z' && klen < 3)
                key[klen++] = line[i++];
            if (i >= len || line[i] != ')' || klen == 0)
                return reject(i >= len ? TP_GLOVE_REJECT_INCOMPLETE : TP_GLOVE_REJECT_SYNTAX, why, msg, msglen,
                              "unterminated or malformed long key%s", "", key_at);
            i++;
        } else if (line[i] >= 'A' && line[i] <= 'Z') {
            key[klen++] = line[i++];
        } else {
            char c[32];
            unsigned char b = (unsigned char)line[i];
            if (b >= 0x20 && b < 0x7f)
                snprintf(c, sizeof c, " '%c'", b);
            else
                snprintf(c, sizeof c, " 0x%02x", b);
            return reject(TP_GLOVE_REJECT_SYNTAX, why, msg, msglen, "unexpected byte%s", c, i);
        }
        key[klen] = '\0';
        key_slot slot;
        if (!slot_for(key, klen, &s, &slot))
            return reject(TP_GLOVE_REJECT_SYNTAX, why, msg, msglen, "unknown key %s", key, key_at);
        unsigned id = key_index(key, klen);
        if (seen[id / 64] & (1ull << (id % 64)))
            return reject(TP_GLOVE_REJECT_SYNTAX, why, msg, msglen, "key %s repeated", key, key_at);
        seen[id / 64] |= 1ull << (id % 64);
        size_t digits_at = i;
        int32_t value = 0;
        int ndigits = 0;
        while (i < len && line[i] >= '0' && line[i] <= '9') {
            if (++ndigits > MAX_DIGITS)
                return reject(TP_GLOVE_REJECT_RANGE, why, msg, msglen, "number too long after key %s", key,
                              digits_at);
            value = value * 10 + (line[i] - '0');
            i++;
        }
        if (slot.needs_value && ndigits == 0)
            return reject(i >= len ? TP_GLOVE_REJECT_INCOMPLETE : TP_GLOVE_REJECT_SYNTAX, why, msg, msglen,
                          "key %s without its number", key, key_at);
        if (slot.button) {
            /* Present means pressed; an analog button's number (one
             * firmware revision sends one) must still be in range. */
            s.buttons |= slot.button;
            if (ndigits && value > largest)
                largest = value;
        } else if (slot.raw_info) {
            if (slot.value && ndigits)
                *slot.value = value;
        } else if (slot.value) {
            *slot.value = value;
            if (value > largest)
                largest = value;
        }
    }
    for (int f = 0; f < TP_GLOVE_FINGERS; f++)
        if (s.curl[f] < 0) {
            char k[2] = {(char)('A' + f), 0};
            return reject(TP_GLOVE_REJECT_INCOMPLETE, why, msg, msglen, "curl %s missing", k, len);
        }
    int32_t range = max_value ? max_value : (largest > 1023 ? 4095 : 1023);
    if (largest > range) {
        char v[32];
        snprintf(v, sizeof v, "%d > %d", (int)largest, (int)range);
        return reject(TP_GLOVE_REJECT_RANGE, why, msg, msglen, "value %s", v, len);
    }
    s.max_value = range;
    *out = s;
    return 0;
}

int tp_glove_format_feedback(const float force[TP_GLOVE_FINGERS], char *buf, size_t len)
{
    int v[TP_GLOVE_FINGERS];
    for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
        float x = force[f];
        if (!(x >= 0.0f)) /* NaN too */
            x = 0.0f;
        if (x > 1.0f)
            x = 1.0f;
        v[f] = (int)(x * 1000.0f + 0.5f);
    }
    int n = snprintf(buf, len, "A%dB%dC%dD%dE%d\n", v[0], v[1], v[2], v[3], v[4]);
    return (n < 0 || (size_t)n >= len) ? -1 : n;
}
