/* teleop — the operator's terminal: raw keys or command lines → inputs. */
#include "station/keyboard.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "teleop/clock.h"
#include "teleop/log.h"

struct keyboard {
    int fd;
    tp_ring *out;
    pthread_t thread;
    atomic_int stop;
    bool tty, raw_set;
    struct termios saved;
};

/* Command lines up to this long are read; a task line holds up to
 * TP_TASK_MAX_BYTES of text. */
#define LINE_MAX_BYTES (TP_TASK_MAX_BYTES + 256)

static void emit(keyboard *k, station_input_kind kind, int input, const char *task)
{
    station_input in = {.t_ns = tp_now_ns(), .kind = kind, .input = input};
    if (task)
        memcpy(in.task, task, strlen(task) + 1); /* checked by emit_task: it fits */
    if (!tp_ring_push(k->out, &in))
        tp_log_warn("keyboard: input queue full, a command was lost");
}

/* Task text from a key or a command line: whole and valid, or refused. */
static void emit_task(keyboard *k, const char *text, size_t len, const char *from)
{
    char why[128];
    if (tp_keys_task_check(text, len, why, sizeof why) != 0) {
        tp_log_warn("%s: task text refused: %s; the task stays as it was", from, why);
        return;
    }
    emit(k, STATION_INPUT_TASK, 0, text);
}

static void handle_key(keyboard *k, tp_keys *keys, tp_key_result r, tp_wf_input in)
{
    if (r == TP_KEY_INPUT)
        emit(k, STATION_INPUT_WORKFLOW, (int)in, NULL);
    else if (r == TP_KEY_EMERGENCY)
        emit(k, STATION_INPUT_EMERGENCY, 0, NULL);
    else if (r == TP_KEY_TASK)
        emit_task(k, keys->text, keys->text_len + keys->text_overflow, "keyboard");
}

static void handle_line(keyboard *k, const char *line, char *task)
{
    tp_wf_input in = TP_WF_IN_START;
    size_t task_bytes = 0;
    int r = tp_keys_line(line, &in, task, TP_TASK_MAX_BYTES + 1, &task_bytes);
    if (r < 0) {
        char esc[100];
        tp_log_warn("command input: unknown command '%s' (start, stop, keep, discard, rerecord, quit, "
                    "emergency, task TEXT)",
                    tp_text_escape(line, esc, sizeof esc));
    } else if (r == TP_KEY_INPUT) {
        emit(k, STATION_INPUT_WORKFLOW, (int)in, NULL);
    } else if (r == TP_KEY_EMERGENCY) {
        emit(k, STATION_INPUT_EMERGENCY, 0, NULL);
    } else if (r == TP_KEY_TASK) {
        emit_task(k, task, task_bytes, "command input");
    }
}

/* A line longer than the buffer: a task line is refused with its text's
 * length, anything else as too long. Nothing of it is acted on. */
static void handle_long_line(keyboard *k, const char *head, size_t total, size_t dropped, char *task)
{
    tp_wf_input in;
    size_t task_bytes = 0;
    if (tp_keys_line(head, &in, task, TP_TASK_MAX_BYTES + 1, &task_bytes) == TP_KEY_TASK)
        emit_task(k, "", task_bytes + dropped, "command input");
    else
        tp_log_warn("command input: a line of %zu bytes is ignored: the limit is %d bytes", total, LINE_MAX_BYTES);
}

static void *reader(void *arg)
{
    keyboard *k = arg;
    pthread_setname_np(pthread_self(), "tp-keyboard");
    tp_keys keys;
    tp_keys_init(&keys);
    char *line = malloc(LINE_MAX_BYTES + 1), *task = malloc(TP_TASK_MAX_BYTES + 1);
    if (!line || !task) {
        tp_log_warn("command input: out of memory; not read");
        free(line);
        free(task);
        return NULL;
    }
    size_t len = 0, dropped = 0; /* bytes of the current line beyond LINE_MAX_BYTES */
    while (!atomic_load(&k->stop)) {
        struct pollfd p = {k->fd, POLLIN, 0};
        int n = poll(&p, 1, 100);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (n == 0) { /* quiet: a lone Esc is a key of its own */
            tp_wf_input in;
            if (k->tty)
                handle_key(k, &keys, tp_keys_flush(&keys, &in), in);
            continue;
        }
        unsigned char buf[256];
        ssize_t got = read(k->fd, buf, sizeof buf);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0) { /* end of input: reading ends, the session goes on */
            if (!k->tty && len > 0 && !dropped) {
                line[len] = '\0';
                handle_line(k, line, task);
            }
            break;
        }
        for (ssize_t i = 0; i < got; i++) {
            if (k->tty) {
                tp_wf_input in;
                handle_key(k, &keys, tp_keys_feed(&keys, buf[i], &in), in);
            } else if (buf[i] == '\n') {
                line[len] = '\0';
                if (dropped)
                    handle_long_line(k, line, len + dropped, dropped, task);
                else
                    handle_line(k, line, task);
                len = 0;
                dropped = 0;
            } else if (len < LINE_MAX_BYTES) {
                line[len++] = (char)buf[i];
            } else {
                dropped++; /* never cut: the whole line is refused at its end */
            }
        }
    }
    free(line);
    free(task);
    return NULL;
}

keyboard *keyboard_start(int fd, tp_ring *out, char *err, size_t errlen)
{
    keyboard *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "keyboard: out of memory");
        return NULL;
    }
    k->fd = fd;
    k->out = out;
    k->tty = isatty(fd);
    if (k->tty && tcgetattr(fd, &k->saved) == 0) {
        struct termios raw = k->saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* ISIG stays: Ctrl-C still stops the session */
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        k->raw_set = tcsetattr(fd, TCSANOW, &raw) == 0;
    }
    int rc = pthread_create(&k->thread, NULL, reader, k);
    if (rc != 0) {
        if (k->raw_set)
            tcsetattr(fd, TCSANOW, &k->saved);
        snprintf(err, errlen, "keyboard: cannot start thread: %s", strerror(rc));
        free(k);
        return NULL;
    }
    return k;
}

void keyboard_stop(keyboard *k)
{
    if (!k)
        return;
    atomic_store(&k->stop, 1);
    pthread_join(k->thread, NULL);
    if (k->raw_set)
        tcsetattr(k->fd, TCSANOW, &k->saved);
    free(k);
}
