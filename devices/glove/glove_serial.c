/* teleop — the "opengloves" glove driver: alpha-encoded lines over a serial
 * tty (a CDC-ACM USB glove, a USB-serial bridge, or a pseudo-terminal). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include "glove_drivers.h"
#include "teleop/clock.h"

typedef struct serial_glove {
    int fd;
    /* Bytes read but not yet split into lines. */
    char in[512];
    size_t in_len, in_pos;
    int64_t in_t_ns; /* when the bytes in `in` arrived */
    /* The line being assembled; overflow: skipping to the next newline. */
    char line[TP_GLOVE_LINE_MAX + 2];
    size_t line_len;
    bool overflow;
    int32_t learnt_max; /* 0 until a value above 1023 is seen when learning */
    tp_glove_stats stats;
} serial_glove;

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
    case 500000: return B500000;
    case 921600: return B921600;
    case 1000000: return B1000000;
    case 2000000: return B2000000;
    default: return 0;
    }
}

static int serial_open(tp_glove *g, char *err, size_t errlen)
{
    const tp_glove_config *c = &g->cfg;
    speed_t speed = baud_constant(c->baud);
    if (!speed) {
        snprintf(err, errlen,
                 "glove %s (%s): baud %d is not a standard rate (9600 … 2000000; OpenGloves firmware uses 115200)",
                 c->name, c->port, c->baud);
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
                     "glove %s (%s): permission denied: add yourself to the dialout group or install the udev "
                     "rules (docs/devices/usb.md)",
                     c->name, c->port);
        else if (e == EBUSY)
            snprintf(err, errlen, "glove %s (%s): busy: another program has it open", c->name, c->port);
        else
            snprintf(err, errlen, "glove %s (%s): cannot open: %s", c->name, c->port, strerror(e));
        return -1;
    }
    /* An advisory lock, as serial tools take: two readers would split the lines between them. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        close(fd);
        snprintf(err, errlen, "glove %s (%s): busy: another program has it open", c->name, c->port);
        return -1;
    }
    struct termios tio;
    if (tcgetattr(fd, &tio) != 0) {
        int e = errno;
        close(fd);
        snprintf(err, errlen, "glove %s (%s): not a serial port (%s)", c->name, c->port, strerror(e));
        return -1;
    }
    cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    if (cfsetispeed(&tio, speed) != 0 || cfsetospeed(&tio, speed) != 0 || tcsetattr(fd, TCSANOW, &tio) != 0) {
        int e = errno;
        close(fd);
        snprintf(err, errlen, "glove %s (%s): cannot set %d baud, raw mode: %s", c->name, c->port, c->baud,
                 strerror(e));
        return -1;
    }
    serial_glove *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        snprintf(err, errlen, "glove %s: out of memory", c->name);
        return -1;
    }
    s->fd = fd;
    g->state = s;
    return 0;
}

static void count_reject(serial_glove *s, tp_glove_reject why)
{
    if ((unsigned)why < TP_GLOVE_REJECT_COUNT)
        s->stats.lines_rejected[why]++;
}

/* Splits the pending bytes into lines; 1 when a line was accepted into out. */
static int take_line(tp_glove *g, serial_glove *s, tp_glove_sample *out)
{
    while (s->in_pos < s->in_len) {
        char c = s->in[s->in_pos++];
        if (c != '\n') {
            if (s->overflow)
                continue;
            /* +1: room for the '\r' the parser trims */
            if (s->line_len >= TP_GLOVE_LINE_MAX + 1) {
                s->overflow = true;
                continue;
            }
            s->line[s->line_len++] = c;
            continue;
        }
        size_t n = s->line_len;
        bool overflow = s->overflow;
        s->line_len = 0;
        s->overflow = false;
        if (overflow) {
            count_reject(s, TP_GLOVE_REJECT_TOO_LONG);
            continue;
        }
        if (n == 0 || (n == 1 && s->line[0] == '\r'))
            continue; /* blank lines (\r\n\r\n, a glove's start-up newlines) carry nothing */
        tp_glove_reject why;
        int32_t max = g->cfg.max_value ? g->cfg.max_value : s->learnt_max;
        if (tp_glove_parse_line(s->line, n, max, out, &why, NULL, 0) != 0) {
            count_reject(s, why);
            continue;
        }
        if (!g->cfg.max_value && out->max_value == 4095)
            s->learnt_max = 4095; /* once a 12-bit value is seen, the glove is 12-bit */
        out->t_ns = s->in_t_ns;
        out->seq = s->stats.lines_accepted++;
        s->stats.last_t_ns = out->t_ns;
        return 1;
    }
    return 0;
}

static int serial_poll(tp_glove *g, int64_t deadline_ns, tp_glove_sample *out, char *err, size_t errlen)
{
    serial_glove *s = g->state;
    for (;;) {
        if (take_line(g, s, out))
            return 1;
        int64_t now = tp_now_ns();
        int64_t wait_ns = deadline_ns - now;
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        int timeout_ms = wait_ns <= 0 ? 0 : (int)((wait_ns + 999999) / 1000000);
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "glove %s (%s): poll: %s", g->cfg.name, g->cfg.port, strerror(errno));
            return -1;
        }
        if (r == 0) {
            if (tp_now_ns() >= deadline_ns)
                return 0;
            continue;
        }
        if (pfd.revents & POLLIN) {
            ssize_t n = read(s->fd, s->in, sizeof s->in);
            if (n > 0) {
                s->in_t_ns = tp_now_ns();
                s->in_len = (size_t)n;
                s->in_pos = 0;
                s->stats.bytes += n;
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            /* 0 bytes with POLLIN, EIO or ENXIO: the other end is gone */
        } else if (!(pfd.revents & (POLLHUP | POLLERR | POLLNVAL))) {
            continue;
        }
        snprintf(err, errlen, "glove %s (%s): disconnected (the port hung up); it is re-opened when it returns",
                 g->cfg.name, g->cfg.port);
        return -1;
    }
}

static int serial_feedback(tp_glove *g, const float force[TP_GLOVE_FINGERS], char *err, size_t errlen)
{
    serial_glove *s = g->state;
    char line[64];
    int n = tp_glove_format_feedback(force, line, sizeof line);
    if (n < 0)
        return -1;
    ssize_t w = write(s->fd, line, (size_t)n);
    if (w == n || (w < 0 && (errno == EAGAIN || errno == EINTR)))
        return 0;
    if (w >= 0)
        return 0; /* a partial line: the glove drops it at the next newline; a newer value follows */
    snprintf(err, errlen, "glove %s (%s): feedback write: %s", g->cfg.name, g->cfg.port, strerror(errno));
    return -1;
}

static void serial_stats(tp_glove *g, tp_glove_stats *out) { *out = ((serial_glove *)g->state)->stats; }

static void serial_close(tp_glove *g)
{
    serial_glove *s = g->state;
    if (!s)
        return;
    close(s->fd);
    free(s);
    g->state = NULL;
}

const tp_glove_ops tp_glove_opengloves_driver = {
    .name = "opengloves",
    .open = serial_open,
    .poll = serial_poll,
    .feedback = serial_feedback,
    .stats = serial_stats,
    .close = serial_close,
};
