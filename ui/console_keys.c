/* teleop — the console's keys are the terminal's: each key or character
 * becomes the bytes a terminal would send and goes through the same key
 * machine (tp_keys_feed, workflow.h), so the two can never disagree. */
#include <GLFW/glfw3.h>
#include <stdio.h>
#include <string.h>

#include "console_internal.h"

void console_keys_init(console_keys *k)
{
    memset(k, 0, sizeof *k);
    tp_keys_init(&k->keys);
}

static void say(console_keys *k, const char *msg)
{
    snprintf(k->message, sizeof k->message, "%s", msg);
    k->message_until_s = uk_time() + 4.0;
}

static void act(console_keys *k, tp_key_result r, tp_wf_input in, tp_console_tap *tap)
{
    int rc = 0;
    char why[160] = "";
    switch (r) {
    case TP_KEY_NONE: return;
    case TP_KEY_INPUT: rc = tp_console_tap_send_input(tap, in); break;
    case TP_KEY_EMERGENCY: rc = tp_console_tap_send_emergency(tap); break;
    case TP_KEY_TASK:
        rc = tp_console_tap_send_task(tap, k->keys.text, k->keys.text_len + k->keys.text_overflow, why, sizeof why);
        if (rc != 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "task text refused: %s; the task stays as it was", why);
            say(k, msg);
            return;
        }
        break;
    }
    if (rc != 0)
        say(k, "the session is not taking commands");
    else
        k->sent++;
}

static void feed(console_keys *k, const char *bytes, size_t n, tp_console_tap *tap)
{
    for (size_t i = 0; i < n; i++) {
        tp_wf_input in = TP_WF_IN_START;
        tp_key_result r = tp_keys_feed(&k->keys, (unsigned char)bytes[i], &in);
        act(k, r, in, tap);
    }
}

void console_keys_event(console_keys *k, const uk_event *ev, tp_console_tap *tap)
{
    bool typing = k->keys.typing;
    if (ev->kind == UK_EVENT_CHAR) {
        /* A held key repeats as characters: a command is one press, text
         * may repeat. */
        bool repeat = k->skip_char;
        k->skip_char = false;
        if (repeat && !typing)
            return;
        char utf8[8] = "";
        if (!uk_utf8_append(utf8, sizeof utf8, ev->codepoint))
            return;
        feed(k, utf8, strlen(utf8), tap);
        return;
    }
    if (ev->kind != UK_EVENT_KEY || ev->action == UK_RELEASE)
        return;
    if (ev->action == UK_PRESS)
        k->skip_char = false; /* a new key: its character is its own */
    if (ev->action == UK_REPEAT) {
        k->skip_char = true;
        if (!typing || ev->key != GLFW_KEY_BACKSPACE)
            return; /* only erasing repeats */
    }
    switch (ev->key) {
    case GLFW_KEY_ENTER:
    case GLFW_KEY_KP_ENTER: feed(k, "\r", 1, tap); break;
    case GLFW_KEY_BACKSPACE: feed(k, "\x7f", 1, tap); break;
    case GLFW_KEY_RIGHT: feed(k, "\x1b[C", 3, tap); break;
    case GLFW_KEY_LEFT: feed(k, "\x1b[D", 3, tap); break;
    case GLFW_KEY_ESCAPE:
        /* A terminal's lone Esc is known by the pause after it; a window's
         * Esc key is whole at once. */
        feed(k, "\x1b", 1, tap);
        if (!typing) {
            tp_wf_input in = TP_WF_IN_START;
            tp_key_result r = tp_keys_flush(&k->keys, &in);
            act(k, r, in, tap);
        }
        break;
    default: break; /* printable keys arrive as characters */
    }
}

const char *console_keys_typing(console_keys *k)
{
    if (!k->keys.typing)
        return NULL;
    k->keys.text[k->keys.text_len] = '\0'; /* the machine terminates it at Enter only; it keeps room */
    return k->keys.text;
}
