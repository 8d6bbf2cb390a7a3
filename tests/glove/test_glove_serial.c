/* The "opengloves" driver against a glove on a pseudo-terminal: a real
 * stream at the firmware's rate, garbage, truncated and overlong lines, a
 * stall, a disconnect, force feedback, and the open errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pty_glove.h"
#include "teleop/clock.h"
#include "teleop/glove.h"

#define LINES 400

typedef struct writer {
    pty_glove *pty;
    int with_noise;
} writer;

static void expected_curls(int k, int32_t c[5])
{
    for (int f = 0; f < 5; f++)
        c[f] = (int32_t)((k * 7 + f * 131) % 1024);
}

/* A LucidGloves sends a line every millisecond; here with noise between:
 * garbage bytes, a line cut short, an overlong line, a blank line. */
static void *write_stream(void *arg)
{
    writer *w = arg;
    char line[256];
    int64_t next = tp_now_ns();
    for (int k = 0; k < LINES; k++) {
        int32_t c[5];
        expected_curls(k, c);
        size_t n = pty_glove_line(line, sizeof line, c, NULL, 512, 512, (k % 2) ? "J" : "");
        if (w->with_noise && k % 50 == 10) {
            static const char garbage[] = "\x7f\x80zz9\n";
            pty_glove_write(w->pty, garbage, sizeof garbage - 1); /* syntax */
            pty_glove_write(w->pty, "A1B2C3\n", 7);               /* incomplete */
            char longline[300];
            memset(longline, '7', sizeof longline);
            longline[0] = 'A';
            longline[sizeof longline - 1] = '\n';
            pty_glove_write(w->pty, longline, sizeof longline); /* too long */
            pty_glove_write(w->pty, "\r\n", 2);                  /* blank: ignored */
        }
        pty_glove_write(w->pty, line, n);
        next += 1000000;
        tp_sleep_until_ns(next);
    }
    return NULL;
}

static tp_glove *open_glove(pty_glove *pty, int side)
{
    tp_glove_config cfg;
    tp_glove_default_config(&cfg, side);
    cfg.port = pty_glove_port(pty);
    char err[256];
    tp_glove *g = tp_glove_open(&cfg, err, sizeof err);
    if (!g)
        fail_msg("%s", err);
    return g;
}

static void run_stream(int with_noise)
{
    pty_glove *pty = pty_glove_open();
    assert_non_null(pty);
    tp_glove *g = open_glove(pty, TP_RIGHT);
    writer w = {pty, with_noise};
    pthread_t th;
    pthread_create(&th, NULL, write_stream, &w);
    char err[256];
    int64_t last_t = 0;
    int k = 0;
    while (k < LINES) {
        tp_glove_sample s;
        int rc = g->ops->poll(g, tp_now_ns() + 2000000000LL, &s, err, sizeof err);
        if (rc != 1)
            fail_msg("line %d: poll %d (%s)", k, rc, rc < 0 ? err : "timeout");
        int32_t c[5];
        expected_curls(k, c);
        for (int f = 0; f < 5; f++)
            assert_int_equal(s.curl[f], c[f]);
        assert_int_equal(s.joystick[0], 512);
        assert_int_equal(s.buttons, (k % 2) ? TP_GLOVE_BTN_A : 0u);
        assert_int_equal(s.seq, k);
        assert_true(s.t_ns >= last_t);
        assert_true(s.t_ns <= tp_now_ns());
        last_t = s.t_ns;
        k++;
    }
    pthread_join(th, NULL);
    tp_glove_stats st;
    g->ops->stats(g, &st);
    assert_int_equal(st.lines_accepted, LINES);
    int noisy = with_noise ? LINES / 50 : 0;
    assert_int_equal(st.lines_rejected[TP_GLOVE_REJECT_SYNTAX], noisy);
    assert_int_equal(st.lines_rejected[TP_GLOVE_REJECT_INCOMPLETE], noisy);
    assert_int_equal(st.lines_rejected[TP_GLOVE_REJECT_TOO_LONG], noisy);
    assert_int_equal(st.lines_rejected[TP_GLOVE_REJECT_RANGE], 0);
    assert_int_equal(st.last_t_ns, last_t);

    /* Stall: nothing by the deadline, nothing delivered. */
    tp_glove_sample s;
    int64_t t0 = tp_now_ns();
    assert_int_equal(g->ops->poll(g, t0 + 100000000LL, &s, err, sizeof err), 0);
    assert_true(tp_now_ns() - t0 >= 100000000LL);

    /* Force feedback reaches the glove as the line it reads. */
    float force[5] = {0.25f, 0, 1, 0.5f, 0.001f};
    assert_int_equal(g->ops->feedback(g, force, err, sizeof err), 0);
    struct pollfd pfd = {.fd = pty_glove_master_fd(pty), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 2000), 1);
    char got[64] = {0};
    ssize_t n = read(pty_glove_master_fd(pty), got, sizeof got - 1);
    assert_true(n > 0);
    assert_string_equal(got, "A250B0C1000D500E1\n");

    /* Unplugged: the port hangs up, poll says so and names the glove. */
    pty_glove_close(pty);
    assert_int_equal(g->ops->poll(g, tp_now_ns() + 1000000000LL, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "glove right"));
    assert_non_null(strstr(err, "disconnected"));
    tp_glove_close(g);
}

static void test_clean_stream(void **state)
{
    (void)state;
    run_stream(0);
}

static void test_noisy_stream(void **state)
{
    (void)state;
    run_stream(1);
}

/* A line split across writes (as USB packets split it) arrives whole. */
static void test_split_line(void **state)
{
    (void)state;
    pty_glove *pty = pty_glove_open();
    tp_glove *g = open_glove(pty, TP_LEFT);
    pty_glove_write(pty, "A4000B1", 7);
    char err[256];
    tp_glove_sample s;
    assert_int_equal(g->ops->poll(g, tp_now_ns() + 50000000LL, &s, err, sizeof err), 0);
    pty_glove_write(pty, "0C20D30E40(AB)4095\n", 19);
    assert_int_equal(g->ops->poll(g, tp_now_ns() + 2000000000LL, &s, err, sizeof err), 1);
    assert_int_equal(s.curl[0], 4000);
    assert_int_equal(s.curl[1], 10);
    assert_int_equal(s.splay[0], 4095);
    assert_int_equal(s.max_value, 4095);
    /* Learnt: the glove is 12-bit from now on (a later small line keeps 4095). */
    pty_glove_write(pty, "A1B1C1D1E1\n", 11);
    assert_int_equal(g->ops->poll(g, tp_now_ns() + 2000000000LL, &s, err, sizeof err), 1);
    assert_int_equal(s.max_value, 4095);
    tp_glove_close(g);
    pty_glove_close(pty);
}

static void test_open_errors(void **state)
{
    (void)state;
    tp_glove_config cfg;
    tp_glove_default_config(&cfg, TP_LEFT);
    char err[256];
    cfg.port = "/dev/ttyACM-teleop-none";
    assert_null(tp_glove_open(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "glove left (/dev/ttyACM-teleop-none): not found"));
    cfg.port = "/dev/null";
    assert_null(tp_glove_open(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "not a serial port"));
    cfg.port = "";
    assert_null(tp_glove_open(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "no port"));
    cfg.driver = "lucid";
    assert_null(tp_glove_open(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "unknown driver 'lucid'"));
    /* Busy: a second reader of the same glove is refused. */
    pty_glove *pty = pty_glove_open();
    tp_glove *a = open_glove(pty, TP_LEFT);
    tp_glove_default_config(&cfg, TP_LEFT);
    cfg.port = pty_glove_port(pty);
    assert_null(tp_glove_open(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "busy"));
    cfg.baud = 12345;
    assert_null(tp_glove_open(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "baud 12345"));
    tp_glove_close(a);
    pty_glove_close(pty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_stream),
        cmocka_unit_test(test_noisy_stream),
        cmocka_unit_test(test_split_line),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
