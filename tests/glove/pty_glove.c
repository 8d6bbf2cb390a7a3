/* A glove on a pseudo-terminal (pty_glove.h). */
#include "pty_glove.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct pty_glove {
    int master, slave;
    char port[128];
};

pty_glove *pty_glove_open(void)
{
    pty_glove *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->master = posix_openpt(O_RDWR | O_NOCTTY);
    if (g->master < 0 || grantpt(g->master) != 0 || unlockpt(g->master) != 0 ||
        ptsname_r(g->master, g->port, sizeof g->port) != 0) {
        free(g);
        return NULL;
    }
    g->slave = open(g->port, O_RDWR | O_NOCTTY);
    struct termios t;
    if (g->slave < 0 || tcgetattr(g->slave, &t) != 0) {
        close(g->master);
        free(g);
        return NULL;
    }
    cfmakeraw(&t);
    tcsetattr(g->slave, TCSANOW, &t);
    return g;
}

const char *pty_glove_port(const pty_glove *g) { return g->port; }
int pty_glove_master_fd(const pty_glove *g) { return g->master; }

int pty_glove_write(pty_glove *g, const void *bytes, size_t n)
{
    const char *p = bytes;
    while (n) {
        ssize_t w = write(g->master, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

size_t pty_glove_line(char *buf, size_t len, const int32_t curl[5], const int32_t *splay, int joy_x, int joy_y,
                      const char *buttons)
{
    int n = snprintf(buf, len, "A%dB%dC%dD%dE%dF%dG%dP0%s", (int)curl[0], (int)curl[1], (int)curl[2],
                     (int)curl[3], (int)curl[4], joy_x, joy_y, buttons ? buttons : "");
    if (splay)
        n += snprintf(buf + n, len - (size_t)n, "(AB)%d(BB)%d(CB)%d(DB)%d(EB)%d", (int)splay[0], (int)splay[1],
                      (int)splay[2], (int)splay[3], (int)splay[4]);
    n += snprintf(buf + n, len - (size_t)n, "\n");
    return (size_t)n;
}

void pty_glove_close(pty_glove *g)
{
    if (!g)
        return;
    close(g->slave);
    close(g->master);
    free(g);
}
