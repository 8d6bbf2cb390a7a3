/* The "opengloves" driver: the alpha encoding over a serial tty (a CDC-ACM
 * glove or, in tests, a pseudo-terminal). Lines are assembled in a fixed
 * buffer; poll allocates nothing. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "glove_drivers.h"

typedef struct serial_state {
    int fd;
    char line[TP_GLOVE_LINE_MAX + 2]; /* +'\r', +1 to notice an overlong line */
    size_t used;
    bool skipping;      /* an overlong line: drop bytes up to its newline */
    char rx[512];       /* bytes read but not yet assembled */
    size_t rx_pos, rx_len;
    int32_t max_value;  /* configured, or 0 until a value above 1023 shows 4095 */
    tp_glove_stats stats;
} serial_state;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static speed_t baud_constant(int baud)
{
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 921600: return B921600;
    default: return 0;
    }
}

static int serial_open(tp_glove *g, char *err, size_t errlen)
{
    const tp_glove_config *c = &g->cfg;
    speed_t speed = baud_constant(c->baud);
    if (!speed) {
        snprintf(err, errlen, "glove %s (%s): baud %d not supported (9600..921600)", c->name, c->port, c->baud);
        return -1;
    }
    if (c->max_value != 0 && c->max_value != 1023 && c->max_value != 4095) {
        snprintf(err, errlen, "glove %s (%s): max_value %d must be 1023, 4095 or 0 (learn)", c->name, c->port,
                 (int)c->max_value);
        return -1;
    }
    int fd = open(c->port, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENODEV || e == ENXIO)
            snprintf(err, errlen, "glove %s (%s): not found: is it plugged in? `teleop devices` lists serial ports",
                     c->name, c->port);
        else if (e == EACCES || e == EPERM)
            snprintf(err, errlen,
                     "glove %s (%s): permission denied: add yourself to the dialout group or install the udev rules, "
                     "docs/devices/usb.md",
                     c->name, c->port);
        else if (e == EBUSY)
            snprintf(err, errlen, "glove %s (%s): busy: another program has it open", c->name, c->port);
        else
            snprintf(err, errlen, "glove %s (%s): %s", c->name, c->port, strerror(e));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "glove %s (%s): busy: another program has it open", c->name, c->port);
        close(fd);
        return -1;
    }
    struct termios t;
    if (tcgetattr(fd, &t) != 0) {
        snprintf(err, errlen, "glove %s (%s): not a serial port (%s)", c->name, c->port, strerror(errno));
        close(fd);
        return -1;
    }
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cc[VMIN] = 1; /* with VMIN 0 an empty read returns 0, indistinguishable from a hang-up */
    t.c_cc[VTIME] = 0;
    cfsetspeed(&t, speed);
    if (tcsetattr(fd, TCSANOW, &t) != 0) {
        snprintf(err, errlen, "glove %s (%s): cannot set raw mode at %d baud (%s)", c->name, c->port, c->baud,
                 strerror(errno));
        close(fd);
        return -1;
    }
    serial_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "glove %s (%s): out of memory", c->name, c->port);
        close(fd);
        return -1;
    }
    st->fd = fd;
    st->max_value = c->max_value;
    g->state = st;
    return 0;
}

static int gone(tp_glove *g, char *err, size_t errlen)
{
    snprintf(err, errlen, "glove %s (%s): disconnected", g->cfg.name, g->cfg.port);
    return -1;
}

/* One complete line in st->line[0..used): 1 accepted into *out, 0 rejected. */
static int finish_line(tp_glove *g, serial_state *st, int64_t t_ns, tp_glove_sample *out)
{
    tp_glove_reject why;
    char msg[96];
    size_t n = st->used;
    st->used = 0;
    if (n == 0 || (n == 1 && st->line[0] == '\r'))
        return 0; /* an empty line (a bare "\r\n" between lines) is no line */
    if (tp_glove_parse_line(st->line, n, st->max_value, out, &why, msg, sizeof msg) != 0) {
        st->stats.lines_rejected[why]++;
        return 0;
    }
    /* Learning: a 12-bit glove may send only small values for a while, so
     * the range is 1023 until some value exceeds it, then 4095 for good. */
    if (st->max_value == 0 && out->max_value == 4095)
        st->max_value = 4095;
    (void)g;
    out->t_ns = t_ns;
    out->seq = st->stats.lines_accepted++;
    st->stats.last_t_ns = t_ns;
    return 1;
}

static int serial_poll(tp_glove *g, int64_t deadline_ns, tp_glove_sample *out, char *err, size_t errlen)
{
    serial_state *st = g->state;
    for (;;) {
        while (st->rx_pos < st->rx_len) {
            char c = st->rx[st->rx_pos++];
            if (c == '\n') {
                if (st->skipping) {
                    st->skipping = false;
                    st->used = 0;
                    continue;
                }
                if (finish_line(g, st, now_ns(), out))
                    return 1;
                continue;
            }
            if (st->skipping)
                continue;
            if (st->used >= sizeof st->line) {
                /* longer than any line we accept, even with its '\r' */
                st->stats.lines_rejected[TP_GLOVE_REJECT_TOO_LONG]++;
                st->skipping = true;
                st->used = 0;
                continue;
            }
            st->line[st->used++] = c;
        }
        st->rx_pos = st->rx_len = 0;
        ssize_t r = read(st->fd, st->rx, sizeof st->rx);
        if (r > 0) {
            st->rx_len = (size_t)r;
            st->stats.bytes += r;
            continue;
        }
        if (r == 0)
            return gone(g, err, errlen); /* a hung-up tty reads end of file */
        if (errno == EIO || errno == ENXIO || errno == ENODEV)
            return gone(g, err, errlen);
        if (errno != EAGAIN && errno != EINTR) {
            snprintf(err, errlen, "glove %s (%s): read: %s", g->cfg.name, g->cfg.port, strerror(errno));
            return -1;
        }
        int64_t left = deadline_ns - now_ns();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = st->fd, .events = POLLIN};
        struct timespec ts = {.tv_sec = left / 1000000000, .tv_nsec = left % 1000000000};
        int pr = ppoll(&p, 1, &ts, NULL);
        if (pr < 0 && errno != EINTR) {
            snprintf(err, errlen, "glove %s (%s): poll: %s", g->cfg.name, g->cfg.port, strerror(errno));
            return -1;
        }
        if (pr > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)) && !(p.revents & POLLIN))
            return gone(g, err, errlen);
    }
}

static int serial_feedback(tp_glove *g, const float force[TP_GLOVE_FINGERS], char *err, size_t errlen)
{
    serial_state *st = g->state;
    char buf[64];
    int n = tp_glove_format_feedback(force, buf, sizeof buf);
    if (n < 0) {
        snprintf(err, errlen, "glove %s (%s): feedback line does not fit", g->cfg.name, g->cfg.port);
        return -1;
    }
    ssize_t w = write(st->fd, buf, (size_t)n);
    if (w == n)
        return 0;
    if (w >= 0 || errno == EAGAIN || errno == EINTR)
        return 0; /* full output buffer: dropped, a newer value follows */
    if (errno == EIO || errno == ENXIO || errno == ENODEV)
        return gone(g, err, errlen);
    snprintf(err, errlen, "glove %s (%s): write: %s", g->cfg.name, g->cfg.port, strerror(errno));
    return -1;
}

static void serial_stats(tp_glove *g, tp_glove_stats *out)
{
    serial_state *st = g->state;
    *out = st->stats;
}

static void serial_close(tp_glove *g)
{
    serial_state *st = g->state;
    if (!st)
        return;
    close(st->fd);
    free(st);
    g->state = NULL;
}

const tp_glove_ops tp_glove_opengloves_ops = {
    .name = "opengloves",
    .open = serial_open,
    .poll = serial_poll,
    .feedback = serial_feedback,
    .stats = serial_stats,
    .close = serial_close,
};
