/* A glove on a pseudo-terminal, for tests: the master side is the glove
 * (it writes lines and reads force feedback), the slave path is the port
 * the station opens. The slave is put in raw mode at once, so nothing the
 * glove writes is echoed back or cooked. */
#ifndef TESTS_PTY_GLOVE_H
#define TESTS_PTY_GLOVE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pty_glove pty_glove;

pty_glove *pty_glove_open(void);
const char *pty_glove_port(const pty_glove *g);
int pty_glove_master_fd(const pty_glove *g);
/* Writes every byte (blocking); 0 or -1. */
int pty_glove_write(pty_glove *g, const void *bytes, size_t n);
/* The firmware's line for these curls (+ splay when non-NULL), newline included. */
size_t pty_glove_line(char *buf, size_t len, const int32_t curl[5], const int32_t *splay, int joy_x, int joy_y,
                      const char *buttons);
/* Hangs up (the glove unplugged) and frees. */
void pty_glove_close(pty_glove *g);

#endif
