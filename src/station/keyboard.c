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

static void emit(keyboard *k, station_input_kind kind, int input, const char *task)
{
    station_input in = {.t_ns = tp_now_ns(), .kind = kind, .input = input};
    if (task)
        snprintf(in.task, sizeof in.task, "%s", task);
    if (!tp_ring_push(k->out, &in))
        tp_log_warn("keyboard: input queue full, a command was lost");
}

static void handle_key(keyboard *k, tp_keys *keys, tp_key_result r, tp_wf_input in)
{
    if (r == TP_KEY_INPUT)
        emit(k, STATION_INPUT_WORKFLOW, (int)in, NULL);
    else if (r == TP_KEY_EMERGENCY)
        emit(k, STATION_INPUT_EMERGENCY, 0, NULL);
    else if (r == TP_KEY_TASK)
        emit(k, STATION_INPUT_TASK, 0, keys->text);
}

static void handle_line(keyboard *k, const char *line)
{
    tp_wf_input in = TP_WF_IN_START;
    char task[232];
    int r = tp_keys_line(line, &in, task, sizeof task);
    if (r < 0)
        tp_log_warn("command input: unknown command '%.80s' (start, stop, keep, discard, rerecord, quit, "
                    "emergency, task TEXT)",
                    line);
    else if (r == TP_KEY_INPUT)
        emit(k, STATION_INPUT_WORKFLOW, (int)in, NULL);
    else if (r == TP_KEY_EMERGENCY)
        emit(k, STATION_INPUT_EMERGENCY, 0, NULL);
    else if (r == TP_KEY_TASK)
        emit(k, STATION_INPUT_TASK, 0, task);
}

static void *reader(void *arg)
{
    keyboard *k = arg;
    pthread_setname_np(pthread_self(), "tp-keyboard");
    tp_keys keys;
    tp_keys_init(&keys);
    char line[512];
    size_t len = 0;
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
        if (got <= 0) { /* end of input: the session goes on without it */
            if (!k->tty && len > 0) {
                line[len] = '\0';
                handle_line(k, line);
            }
            break;
        }
        for (ssize_t i = 0; i < got; i++) {
            if (k->tty) {
                tp_wf_input in;
                handle_key(k, &keys, tp_keys_feed(&keys, buf[i], &in), in);
            } else if (buf[i] == '\n') {
                line[len] = '\0';
                handle_line(k, line);
                len = 0;
            } else if (len + 1 < sizeof line) {
                line[len++] = (char)buf[i];
            }
        }
    }
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
