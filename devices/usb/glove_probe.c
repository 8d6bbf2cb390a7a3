/* teleop — is there a glove on this serial port? Read it for a moment and
 * see whether what arrives parses as OpenGloves lines (glove.h's parser). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "teleop/glove.h"
#include "teleop/usb.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A real serial bridge needs the glove's rate; a CDC-ACM port or a pty
 * ignores it. Raw mode: no echo, no line editing. */
static void set_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) != 0)
        return;
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    t.c_cflag |= CLOCAL | CREAD;
    (void)tcsetattr(fd, TCSANOW, &t);
    (void)tcflush(fd, TCIFLUSH); /* what waited in the buffer would inflate the line rate */
}

int tp_usb_probe_glove(const char *port, double window_s, tp_usb_glove *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    snprintf(out->port, sizeof out->port, "%s", port);
    snprintf(out->hand, sizeof out->hand, "unknown");
    int fd = open(port, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s%s", port, strerror(e),
                 e == EACCES ? " (join the dialout group or install the udev rules: docs/devices/usb.md)"
                 : e == ENOENT ? " (not plugged in?)"
                 : e == EBUSY  ? " (another program has it open)"
                               : "");
        return -1;
    }
    /* A station's glove driver holds the port with an exclusive flock:
     * reading it now would take lines from the station. */
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        snprintf(err, errlen, "%s: busy (a running station or another program has it)", port);
        close(fd);
        return -1;
    }
    set_raw(fd);
    char line[TP_GLOVE_LINE_MAX + 1];
    size_t len = 0;
    bool overlong = false;
    int64_t first_ns = 0, last_ns = 0;
    const int64_t deadline = now_ns() + (int64_t)(window_s * 1e9);
    for (int64_t t; (t = now_ns()) < deadline;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int wait_ms = (int)((deadline - t) / 1000000) + 1;
        if (poll(&p, 1, wait_ms) <= 0)
            continue;
        char buf[512];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            break; /* hung up */
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != '\n') {
                if (len < TP_GLOVE_LINE_MAX)
                    line[len++] = buf[i];
                else
                    overlong = true;
                continue;
            }
            const char *hand = tp_usb_glove_hand_of_line(line, len);
            if (hand)
                snprintf(out->hand, sizeof out->hand, "%s", hand);
            tp_glove_sample s;
            tp_glove_reject why;
            char msg[128];
            if (!overlong && len > 0 && tp_glove_parse_line(line, len, 0, &s, &why, msg, sizeof msg) == 0) {
                if (s.max_value > out->max_value)
                    out->max_value = s.max_value;
                if (!out->lines)
                    first_ns = now_ns();
                last_ns = now_ns();
                out->lines++;
            } else if (len > 0 || overlong) {
                out->rejected++;
            }
            len = 0;
            overlong = false;
        }
    }
    close(fd);
    if (out->lines >= 2 && last_ns > first_ns)
        out->line_rate_hz = (out->lines - 1) / ((double)(last_ns - first_ns) / 1e9);
    /* A port that sends mostly garbage is not taken for a glove. */
    return out->lines >= 2 && out->lines >= out->rejected ? 1 : 0;
}
