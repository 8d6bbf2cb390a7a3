/* The OpenXR client's haptic output through the real Khronos loader against
 * teleop's replay runtime, with the core validation layer on (its report
 * file must stay absent): once the session is FOCUSED, pulses of the
 * feedback logic's shapes (operator_feedback.h) and stops are accepted on
 * both controllers (XR_SUCCESS); a scripted motion run through the real
 * controller (tests/support/limit_motion.h) that drives the left arm into
 * its limits and past the workspace edge pulses the left controller, from
 * when it leaves the comfortable pose, and the right one only for the hold
 * at the start; nothing is sent before the session runs; the runtime's
 * haptics log holds exactly the calls made, in order, each stamped within
 * its call, on its hand, with its amplitude.
 *
 * argv[1]: the replay runtime's manifest; argv[2]: a scratch directory;
 * argv[3]: a motion CSV for the runtime to play; argv[4]: the robot model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openxr/openxr.h>

#include "teleop/clock.h"
#include "teleop/controller.h"
#include "teleop/operator_feedback.h"
#include "teleop/xr.h"
#include "limit_motion.h"

static const char *manifest, *scratch, *motion, *model;
static char haptics_log[4096];

/* Every pulse or stop the test sent (XR_SUCCESS), in order, with the
 * monotonic time around the call. */
typedef struct sent {
    int side;
    tp_haptic_action action;
    float amplitude;
    int64_t before, after;
} sent;
static sent sent_calls[4096];
static int n_sent;

static XrResult send(tp_xr *xr, int side, const tp_haptic_pulse *p)
{
    int64_t before = tp_now_ns();
    XrResult r = (XrResult)tp_xr_haptic(xr, side, p);
    if (r == XR_SUCCESS && p->action != TP_HAPTIC_NONE && n_sent < 4096)
        sent_calls[n_sent++] = (sent){side, p->action, p->amplitude, before, tp_now_ns()};
    return r;
}
static char validation_log[4096];
static tp_xr *live;

static int teardown(void **state)
{
    (void)state;
    if (live)
        tp_xr_destroy(live);
    live = NULL;
    return 0;
}

static void validation_silent(void)
{
    if (access(validation_log, F_OK) == 0) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "cat '%s' >&2", validation_log);
        if (system(cmd) != 0) {
        }
        fail_msg("the core validation layer reported problems (above)");
    }
}

/* Polls until the session is FOCUSED (frames flowing). */
static void until_focused(tp_xr *xr)
{
    char err[512];
    int64_t end = tp_now_ns() + 5000000000LL;
    while (tp_now_ns() < end) {
        tp_operator_frame f;
        tp_xr_event ev[32];
        int n = 0;
        int st = tp_xr_poll(xr, &f, ev, 32, &n, err, sizeof err);
        if (st == TP_XR_ERROR)
            fail_msg("tp_xr_poll: %s", err);
        if (st == TP_XR_FRAME && strcmp(tp_xr_session_state(xr), "FOCUSED") == 0)
            return;
    }
    fail_msg("the session did not reach FOCUSED");
}

static void finish(tp_xr *xr)
{
    char err[512];
    tp_xr_request_exit(xr);
    int64_t end = tp_now_ns() + 3000000000LL;
    int st = TP_XR_IDLE;
    while (tp_now_ns() < end && st != TP_XR_ENDED) {
        tp_operator_frame f;
        tp_xr_event ev[32];
        int n = 0;
        st = tp_xr_poll(xr, &f, ev, 32, &n, err, sizeof err);
        assert_int_not_equal(st, TP_XR_ERROR);
    }
    assert_int_equal(st, TP_XR_ENDED);
}

typedef struct calls {
    tp_xr *xr;
    tp_feedback fb;
    int pulses[2], stops[2];
    double first_warning_pulse_s[2]; /* motion time of the first pulse for a limit (not a hold) */
} calls;

static void drive(void *user, const double *command, const tp_limit_figures *fig)
{
    (void)command;
    calls *c = user;
    tp_feedback_output out;
    tp_feedback_update(&c->fb, fig, fig->t_ns, &out);
    for (int s = 0; s < 2; s++) {
        assert_int_equal(send(c->xr, s, &out.haptic[s]), XR_SUCCESS);
        if (out.haptic[s].action == TP_HAPTIC_PULSE) {
            c->pulses[s]++;
            if (!(out.side[s].active & TP_WARN_HOLDING) && !c->first_warning_pulse_s[s])
                c->first_warning_pulse_s[s] = (double)(fig->t_ns - LIMIT_MOTION_T0_NS) / 1e9;
        }
        c->stops[s] += out.haptic[s].action == TP_HAPTIC_STOP;
    }
}

static void test_pulses_and_stops(void **state)
{
    (void)state;
    char err[512];
    setenv("TELEOP_XR_REPLAY_SOURCE", motion, 1);
    setenv("TELEOP_XR_REPLAY_LOOP", "1", 1);
    unsetenv("TELEOP_XR_REPLAY_SCRIPT");
    live = tp_xr_create(NULL, err, sizeof err);
    if (!live)
        fail_msg("tp_xr_create: %s", err);
    tp_haptic_pulse p = tp_feedback_pulse(0.6, 0.5);
    /* Not running yet: nothing is sent, nothing fails. */
    assert_int_equal(tp_xr_haptic(live, TP_LEFT, &p), XR_SUCCESS);
    until_focused(live);
    for (int s = 0; s < 2; s++) {
        for (double u = 0; u <= 1.0; u += 0.25) {
            p = tp_feedback_pulse(0.6, u);
            assert_int_equal(send(live, s, &p), XR_SUCCESS);
        }
        tp_haptic_pulse stop = {.action = TP_HAPTIC_STOP};
        assert_int_equal(send(live, s, &stop), XR_SUCCESS);
        tp_haptic_pulse none = {.action = TP_HAPTIC_NONE};
        assert_int_equal(send(live, s, &none), XR_SUCCESS);
    }
    /* The scripted motion (tests/support/limit_motion.h) through the real
     * controller drives the left arm into its limits and past the workspace
     * edge: the feedback's pulses go to the runtime as they come. */
    calls c = {.xr = live};
    tp_feedback_config cfg;
    tp_feedback_default_config(&cfg);
    tp_feedback_init(&c.fb, &cfg);
    if (limit_motion_run(model, drive, &c, err, sizeof err) != 0)
        fail_msg("%s", err);
    printf("pulses left %d right %d, stops %d / %d\n", c.pulses[0], c.pulses[1], c.stops[0], c.stops[1]);
    /* Pulses on the left while it is past a limit; the right gets only the
     * hold at the start (input stale before the first frames). */
    assert_true(c.pulses[0] >= 4);
    assert_int_equal(c.pulses[1], 1);
    assert_true(c.first_warning_pulse_s[0] > 1.0); /* the motion leaves the comfortable pose at 1 s */
    finish(live);
    tp_xr_destroy(live);
    live = NULL;
    validation_silent();

    /* The runtime's log (TELEOP_XR_REPLAY_HAPTICS): exactly the calls sent,
     * in order, each stamped within its call, on its hand, with its
     * amplitude. */
    FILE *fp = fopen(haptics_log, "r");
    assert_non_null(fp);
    char line[512];
    int k = 0;
    while (fgets(line, sizeof line, fp)) {
        char kind[16], action[64], path[128];
        long long t;
        float amplitude = 0, frequency = 0;
        long long duration = 0;
        int n = sscanf(line, "%15s %lld %63s %127s %lld %f %f", kind, &t, action, path, &duration, &frequency,
                       &amplitude);
        assert_true(n >= 4);
        assert_true(k < n_sent);
        const sent *c = &sent_calls[k++];
        assert_string_equal(kind, c->action == TP_HAPTIC_PULSE ? "apply" : "stop");
        assert_string_equal(path, c->side ? "/user/hand/right" : "/user/hand/left");
        assert_true(t >= c->before && t <= c->after);
        if (c->action == TP_HAPTIC_PULSE) {
            assert_int_equal(n, 7);
            assert_true(duration > 0 && frequency > 0);
            assert_float_equal(amplitude, c->amplitude, 1e-5);
        }
    }
    fclose(fp);
    assert_int_equal(k, n_sent);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s MANIFEST SCRATCH_DIR MOTION.csv MODEL.xml\n", argv[0]);
        return 2;
    }
    manifest = argv[1];
    scratch = argv[2];
    motion = argv[3];
    model = argv[4];
    snprintf(validation_log, sizeof validation_log, "%s/xr_haptics_validation.txt", scratch);
    unlink(validation_log);
    snprintf(haptics_log, sizeof haptics_log, "%s/xr_haptics_calls.txt", scratch);
    unlink(haptics_log);
    setenv("TELEOP_XR_REPLAY_HAPTICS", haptics_log, 1);
    setenv("XR_RUNTIME_JSON", manifest, 1);
    setenv("XR_ENABLE_API_LAYERS", "XR_APILAYER_LUNARG_core_validation", 1);
    setenv("XR_CORE_VALIDATION_EXPORT_TYPE", "text", 1);
    setenv("XR_CORE_VALIDATION_FILE_NAME", validation_log, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_pulses_and_stops, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
