/* The "opengloves" serial driver against a pseudo-terminal that plays a
 * LucidGloves: a writer thread sends lines on the master side at ~1 kHz.
 * Asserts every line arrives with exact values, consecutive seq and
 * monotonic t_ns; garbage, truncated and overlong lines are counted per
 * reason; a stall returns 0 at its deadline; closing the master is a
 * disconnect; feedback lines arrive on the master; open errors say what to do. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "teleop/glove.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct emulator {
    int master;
    char slave[128];
    const char *const *lines; /* sent in order, each written as is */
    int count;
    pthread_t thread;
} emulator;

static void emulator_open(emulator *e)
{
    memset(e, 0, sizeof *e);
    e->master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(e->master >= 0);
    assert_int_equal(grantpt(e->master), 0);
    assert_int_equal(unlockpt(e->master), 0);
    assert_int_equal(ptsname_r(e->master, e->slave, sizeof e->slave), 0);
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void *emulator_run(void *arg)
{
    emulator *e = arg;
    int64_t next = now_ns();
    for (int i = 0; i < e->count; i++) {
        write_all(e->master, e->lines[i], strlen(e->lines[i]));
        next += 1000000; /* ~1 kHz, like a LucidGloves at 115200 baud */
        struct timespec ts = {.tv_sec = next / 1000000000, .tv_nsec = next % 1000000000};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    return NULL;
}

static tp_glove *open_glove(const char *port, char *err, size_t errlen)
{
    tp_glove_config cfg;
    tp_glove_default_config(&cfg, TP_LEFT);
    cfg.port = port;
    return tp_glove_open(&cfg, err, errlen);
}

#define STREAM_LINES 400

static void test_stream(void **state)
{
    (void)state;
    emulator e;
    emulator_open(&e);
    char err[256];
    tp_glove *g = open_glove(e.slave, err, sizeof err);
    if (!g)
        fail_msg("%s", err);
    static char text[STREAM_LINES][128];
    static const char *lines[STREAM_LINES];
    for (int i = 0; i < STREAM_LINES; i++) {
        int v = (i * 37) % 4096;
        snprintf(text[i], sizeof text[i], "A%dB%dC%dD%dE%d(AB)%d(BB)%dF%dG%dP%d%s\r\n", v, (v + 1) % 4096,
                 (v + 2) % 4096, (v + 3) % 4096, (v + 4) % 4096, i % 1024, (i * 3) % 1024, 2048, 2047, i % 4096,
                 i % 2 ? "I" : "");
        lines[i] = text[i];
    }
    e.lines = lines;
    e.count = STREAM_LINES;
    assert_int_equal(pthread_create(&e.thread, NULL, emulator_run, &e), 0);
    int64_t last_t = 0;
    tp_glove_config cfg;
    tp_glove_default_config(&cfg, TP_LEFT);
    for (int i = 0; i < STREAM_LINES; i++) {
        tp_glove_sample s;
        int rc = g->ops->poll(g, now_ns() + 2000000000, &s, err, sizeof err);
        if (rc != 1)
            fail_msg("line %d: poll %d %s", i, rc, rc < 0 ? err : "");
        int v = (i * 37) % 4096;
        assert_int_equal(s.seq, i);
        assert_int_equal(s.curl[0], v);
        assert_int_equal(s.curl[4], (v + 4) % 4096);
        assert_int_equal(s.splay[0], i % 1024);
        assert_int_equal(s.splay[1], (i * 3) % 1024);
        assert_int_equal(s.splay[2], -1);
        assert_int_equal(s.trigger, i % 4096);
        assert_int_equal(s.buttons, i % 2 ? TP_GLOVE_BTN_TRIGGER : 0u);
        assert_true(s.t_ns > last_t);
        assert_true(s.t_ns <= now_ns());
        last_t = s.t_ns;
    }
    pthread_join(e.thread, NULL);
    tp_glove_stats st;
    g->ops->stats(g, &st);
    assert_int_equal(st.lines_accepted, STREAM_LINES);
    assert_int_equal(st.last_t_ns, last_t);
    for (int r = 0; r < TP_GLOVE_REJECT_COUNT; r++)
        assert_int_equal(st.lines_rejected[r], 0);
    tp_glove_close(g);
    close(e.master);
}

static void test_garbage_interleaved(void **state)
{
    (void)state;
    emulator e;
    emulator_open(&e);
    char err[256];
    tp_glove *g = open_glove(e.slave, err, sizeof err);
    if (!g)
        fail_msg("%s", err);
    static char overlong[400], just_over[160];
    memset(overlong, 'A', 300); /* skipped up to its newline */
    strcpy(overlong + 300, "\n");
    memset(just_over, 0, sizeof just_over);
    strcpy(just_over, "A1B2C3D4E5");
    while (strlen(just_over) < TP_GLOVE_LINE_MAX + 1)
        strcat(just_over, "0"); /* 151 bytes: fits the buffer, too long for the parser */
    strcat(just_over, "\n");
    static const char *lines[] = {
        "A1B1C1D1E1\n",
        "\x01\xff\xfe garbage\n",        /* syntax */
        "A2B2C2D2E2\r\n",
        "A3B3C3\n",                      /* incomplete (truncated) */
        overlong,                        /* too_long */
        "A4B4C4D4E4\n",
        "A5B5C5D5E99999\n",              /* range */
        just_over,                       /* too_long */
        "A6B6C6D6E6(AB)7\n",
        "\n",                            /* an empty line is no line */
        "A7B7(QQ)1C7D7E7\n",             /* syntax */
        "A8B8C8D8E8\n",
    };
    e.lines = lines;
    e.count = (int)(sizeof lines / sizeof lines[0]);
    assert_int_equal(pthread_create(&e.thread, NULL, emulator_run, &e), 0);
    const int want[] = {1, 2, 4, 6, 8};
    for (int i = 0; i < 5; i++) {
        tp_glove_sample s;
        int rc = g->ops->poll(g, now_ns() + 2000000000, &s, err, sizeof err);
        if (rc != 1)
            fail_msg("sample %d: poll %d %s", i, rc, rc < 0 ? err : "");
        assert_int_equal(s.seq, i);
        assert_int_equal(s.curl[0], want[i]);
    }
    pthread_join(e.thread, NULL);
    tp_glove_stats st;
    g->ops->stats(g, &st);
    assert_int_equal(st.lines_accepted, 5);
    assert_int_equal(st.lines_rejected[TP_GLOVE_REJECT_SYNTAX], 2);
    assert_int_equal(st.lines_rejected[TP_GLOVE_REJECT_INCOMPLETE], 1);
    assert_int_equal(st.lines_rejected[TP_GLOVE_REJECT_RANGE], 1);
    assert_int_equal(st.lines_rejected[TP_GLOVE_REJECT_TOO_LONG], 2);
    int64_t bytes = 0;
    for (int i = 0; i < e.count; i++)
        bytes += (int64_t)strlen(lines[i]);
    assert_int_equal(st.bytes, bytes);
    tp_glove_close(g);
    close(e.master);
}

static void test_stall_disconnect_feedback(void **state)
{
    (void)state;
    emulator e;
    emulator_open(&e);
    char err[256];
    tp_glove *g = open_glove(e.slave, err, sizeof err);
    if (!g)
        fail_msg("%s", err);
    /* a partial line, then silence: no sample by the deadline */
    write_all(e.master, "A1B2C3", 6);
    tp_glove_sample s;
    int64_t deadline = now_ns() + 50000000;
    assert_int_equal(g->ops->poll(g, deadline, &s, err, sizeof err), 0);
    assert_true(now_ns() >= deadline);
    /* the line completes later */
    write_all(e.master, "D4E5\n", 5);
    assert_int_equal(g->ops->poll(g, now_ns() + 1000000000, &s, err, sizeof err), 1);
    assert_int_equal(s.curl[3], 4);

    float force[5] = {0.0f, 0.5f, 1.0f, 0.25f, 0.125f};
    assert_int_equal(g->ops->feedback(g, force, err, sizeof err), 0);
    char buf[64] = {0};
    size_t got = 0;
    int64_t until = now_ns() + 1000000000;
    while (got < strlen("A0B500C1000D250E125\n") && now_ns() < until) {
        ssize_t r = read(e.master, buf + got, sizeof buf - 1 - got);
        if (r > 0)
            got += (size_t)r;
    }
    assert_string_equal(buf, "A0B500C1000D250E125\n");

    close(e.master);
    int rc = g->ops->poll(g, now_ns() + 1000000000, &s, err, sizeof err);
    assert_int_equal(rc, -1);
    char want[200];
    snprintf(want, sizeof want, "glove left (%s): disconnected", e.slave);
    assert_string_equal(err, want);
    tp_glove_close(g);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[256];
    assert_null(open_glove("/dev/ttyACM-no-such", err, sizeof err));
    assert_string_equal(err,
                        "glove left (/dev/ttyACM-no-such): not found: is it plugged in? `teleop devices` lists serial "
                        "ports");
    emulator e;
    emulator_open(&e);
    tp_glove *g = open_glove(e.slave, err, sizeof err);
    assert_non_null(g);
    tp_glove *again = open_glove(e.slave, err, sizeof err);
    assert_null(again);
    char want[200];
    snprintf(want, sizeof want, "glove left (%s): busy: another program has it open", e.slave);
    assert_string_equal(err, want);
    tp_glove_close(g);

    char path[] = "/tmp/teleop-glove-perm-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    chmod(path, 0);
    if (geteuid() != 0) {
        assert_null(open_glove(path, err, sizeof err));
        assert_non_null(strstr(err, "permission denied: add yourself to the dialout group or install the udev "
                                    "rules, docs/devices/usb.md"));
    }
    chmod(path, 0600);
    assert_null(open_glove(path, err, sizeof err));
    assert_non_null(strstr(err, "not a serial port"));
    unlink(path);

    tp_glove_config cfg;
    tp_glove_default_config(&cfg, TP_RIGHT);
    assert_string_equal(cfg.name, "right");
    assert_int_equal(cfg.baud, 115200);
    assert_int_equal(cfg.max_value, 0);
    assert_float_equal(cfg.timeout_s, 0.1, 1e-12);
    cfg.driver = "dataglove";
    assert_null(tp_glove_open(&cfg, err, sizeof err));
    assert_string_equal(err, "glove right: unknown driver 'dataglove' (known: opengloves)");
    close(e.master);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_garbage_interleaved),
        cmocka_unit_test(test_stall_disconnect_feedback),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
