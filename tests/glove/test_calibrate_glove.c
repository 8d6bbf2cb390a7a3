/* `teleop calibrate --glove` against a pseudo-terminal LucidGloves that
 * plays the hand open, a fist and the fingers spread, switching when the
 * CLI prints each step's instruction (during its countdown), as a person
 * would. Asserts the saved
 * calibration's values; a silent glove and a stuck finger fail with their
 * messages. Usage: test_calibrate_glove TELEOP */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "teleop/glove.h"

extern char **environ;
static const char *teleop;

#define PHASE_S 0.4 /* --seconds */

typedef struct glove_emulator {
    int master, slave;
    char path[128];
    bool silent, stuck_ring;
    volatile bool stop;
    volatile int phase; /* 0 open, 1 fist, 2 spread: the CLI's latest instruction */
    pthread_t thread;
} glove_emulator;

static void *emulate(void *arg)
{
    glove_emulator *e = arg;
    unsigned noise = 1;
    while (!e->stop) {
        int phase = e->phase;
        int curl = phase == 1 ? 3800 : 300;
        int splay = phase == 2 ? 3000 : 1000;
        char line[160];
        int n = 0;
        for (int f = 0; f < 5; f++) {
            noise = noise * 1103515245u + 12345u;
            int v = (f == 3 && e->stuck_ring) ? 2000 : curl + (int)((noise >> 16) % 41) - 20;
            n += snprintf(line + n, sizeof line - (size_t)n, "%c%d", 'A' + f, v);
        }
        for (int f = 0; f < 5; f++)
            n += snprintf(line + n, sizeof line - (size_t)n, "(%cB)%d", 'A' + f, splay + 10 * f);
        n += snprintf(line + n, sizeof line - (size_t)n, "F2048G2048P0\n");
        if (!e->silent && write(e->master, line, (size_t)n) < 0 && errno != EAGAIN)
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void emulator_start(glove_emulator *e)
{
    e->master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(e->master >= 0);
    assert_int_equal(grantpt(e->master), 0);
    assert_int_equal(unlockpt(e->master), 0);
    assert_int_equal(ptsname_r(e->master, e->path, sizeof e->path), 0);
    /* Raw before the CLI opens it, so early lines are not echoed or cooked. */
    e->slave = open(e->path, O_RDWR | O_NOCTTY);
    assert_true(e->slave >= 0);
    struct termios t;
    assert_int_equal(tcgetattr(e->slave, &t), 0);
    cfmakeraw(&t);
    assert_int_equal(tcsetattr(e->slave, TCSANOW, &t), 0);
    fcntl(e->master, F_SETFL, fcntl(e->master, F_GETFL) | O_NONBLOCK);
    assert_int_equal(pthread_create(&e->thread, NULL, emulate, e), 0);
}

static void emulator_stop(glove_emulator *e)
{
    e->stop = true;
    pthread_join(e->thread, NULL);
    close(e->slave);
    close(e->master);
}

typedef struct prompt_reader {
    int fd;
    glove_emulator *e;
} prompt_reader;

/* Follows the CLI's stdout and moves the emulated hand as told. */
static void *follow_prompts(void *arg)
{
    prompt_reader *r = arg;
    char text[4096];
    size_t used = 0;
    ssize_t n;
    while (used < sizeof text - 1 && (n = read(r->fd, text + used, sizeof text - 1 - used)) > 0) {
        used += (size_t)n;
        text[used] = '\0';
        if (strstr(text, "spread the fingers"))
            r->e->phase = 2;
        else if (strstr(text, "Make a fist"))
            r->e->phase = 1;
    }
    char sink[256];
    while (read(r->fd, sink, sizeof sink) > 0)
        ;
    return NULL;
}

/* Runs teleop calibrate --glove left; returns its exit status, stderr in err. */
static int run_calibrate(glove_emulator *e, const char *out, char *err, size_t errlen)
{
    const char *port = e->path;
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    char errfile[] = "/tmp/teleop-glove-cal-err-XXXXXX";
    int fd = mkstemp(errfile);
    assert_true(fd >= 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    char seconds[16];
    snprintf(seconds, sizeof seconds, "%g", PHASE_S);
    char *argv[] = {(char *)teleop, "calibrate", "--glove", "left", "--port", (char *)port, "--operator", "ada",
                    "--seconds", seconds, "--out", (char *)out, NULL};
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, teleop, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    prompt_reader reader = {.fd = pipefd[0], .e = e};
    pthread_t follower;
    assert_int_equal(pthread_create(&follower, NULL, follow_prompts, &reader), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    pthread_join(follower, NULL);
    close(pipefd[0]);
    ssize_t n = pread(fd, err, errlen - 1, 0);
    err[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(errfile);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_guided(void **state)
{
    (void)state;
    glove_emulator e = {0};
    emulator_start(&e);
    char out[] = "/tmp/teleop-glove-cal-XXXXXX.ini";
    int fd = mkstemps(out, 4);
    close(fd);
    char err[1024];
    int rc = run_calibrate(&e, out, err, sizeof err);
    emulator_stop(&e);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    tp_glove_calibration cal;
    if (tp_glove_calibration_load(out, &cal, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_non_null(strstr(cal.id, "glove-ada-left-"));
    for (int f = 0; f < 5; f++) {
        /* medians of 300±20 and 3800±20 */
        assert_in_range(cal.curl_open[f], 280, 320);
        assert_in_range(cal.curl_closed[f], 3780, 3820);
        assert_int_equal(cal.joint_open[f][0], cal.curl_open[f]);
        assert_int_equal(cal.joint_closed[f][3], cal.curl_closed[f]);
        assert_int_equal(cal.splay_together[f], 1000 + 10 * f);
        assert_int_equal(cal.splay_spread[f], 3000 + 10 * f);
    }
    unlink(out);
}

static void test_silent(void **state)
{
    (void)state;
    glove_emulator e = {.silent = true};
    emulator_start(&e);
    char err[1024];
    int rc = run_calibrate(&e, "/tmp/teleop-glove-cal-never.ini", err, sizeof err);
    emulator_stop(&e);
    assert_int_equal(rc, 1);
    char want[300];
    snprintf(want, sizeof want,
             "teleop calibrate: glove left (%s): silent: no valid line in 0.4 s (is it the glove's port, at the "
             "right baud?)\n",
             e.path);
    assert_string_equal(err, want);
    assert_int_equal(access("/tmp/teleop-glove-cal-never.ini", F_OK), -1);
}

static void test_stuck_finger(void **state)
{
    (void)state;
    glove_emulator e = {.stuck_ring = true};
    emulator_start(&e);
    char err[1024];
    int rc = run_calibrate(&e, "/tmp/teleop-glove-cal-never.ini", err, sizeof err);
    emulator_stop(&e);
    assert_int_equal(rc, 1);
    char want[300];
    snprintf(want, sizeof want,
             "teleop calibrate: glove left (%s): ring finger did not move (open 2000, fist 2000: less than 10%% of "
             "0..4095); check its sensor and repeat\n",
             e.path);
    assert_string_equal(err, want);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_calibrate_glove TELEOP\n");
        return 2;
    }
    teleop = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guided),
        cmocka_unit_test(test_silent),
        cmocka_unit_test(test_stuck_finger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
