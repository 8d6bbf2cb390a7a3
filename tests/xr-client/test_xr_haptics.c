/* The OpenXR client's haptic output through the real Khronos loader against
 * teleop's replay runtime, with the core validation layer on (its report
 * file must stay absent): once the session is FOCUSED, pulses of the
 * feedback logic's shapes (operator_feedback.h) and stops are accepted on
 * both controllers (XR_SUCCESS), the driving of a pulse sequence from a
 * limit approach calls the runtime at the feedback's pulse times, and
 * nothing is sent before the session runs.
 *
 * argv[1]: the replay runtime's manifest; argv[2]: a scratch directory;
 * argv[3]: a motion CSV for the runtime to play. */
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

static const char *manifest, *scratch, *motion;
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
            assert_int_equal(tp_xr_haptic(live, s, &p), XR_SUCCESS);
        }
        tp_haptic_pulse stop = {.action = TP_HAPTIC_STOP};
        assert_int_equal(tp_xr_haptic(live, s, &stop), XR_SUCCESS);
        tp_haptic_pulse none = {.action = TP_HAPTIC_NONE};
        assert_int_equal(tp_xr_haptic(live, s, &none), XR_SUCCESS);
    }
    /* The feedback logic driving the controller: a joint closing in on its
     * limit over 1.5 s, a pulse on every update that asks for one. */
    tp_feedback_config cfg;
    tp_feedback_default_config(&cfg);
    tp_feedback fb;
    tp_feedback_init(&fb, &cfg);
    tp_limit_figures fig = {.control_flags = TP_CONTROL_ENGAGED, .arm_dof = 7};
    for (int s = 0; s < 2; s++) {
        fig.arm_tracked[s] = fig.hand_tracked[s] = true;
        for (int j = 0; j < 7; j++)
            fig.joint_margin[s][j] = 1.0f;
    }
    int pulses = 0, stops = 0;
    int64_t t0 = tp_now_ns();
    for (int k = 0; k < 135; k++) { /* 90 Hz, 1.5 s */
        int64_t t = t0 + (int64_t)k * 11111111LL;
        fig.t_ns = t;
        fig.joint_margin[TP_RIGHT][2] = (float)(k < 120 ? 0.3 - 0.3 * k / 120.0 : 0.5);
        tp_feedback_output out;
        tp_feedback_update(&fb, &fig, t, &out);
        for (int s = 0; s < 2; s++) {
            if (s == TP_LEFT)
                assert_int_equal(out.haptic[s].action, TP_HAPTIC_NONE);
            pulses += out.haptic[s].action == TP_HAPTIC_PULSE;
            stops += out.haptic[s].action == TP_HAPTIC_STOP;
            assert_int_equal(tp_xr_haptic(live, s, &out.haptic[s]), XR_SUCCESS);
        }
    }
    /* Warned from 0.15 rad (k = 60) to the limit (k = 120): 0.67 s, a pulse every 0.25 s. */
    assert_int_equal(pulses, 3);
    assert_int_equal(stops, 1);
    finish(live);
    tp_xr_destroy(live);
    live = NULL;
    validation_silent();
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MANIFEST SCRATCH_DIR MOTION.csv\n", argv[0]);
        return 2;
    }
    manifest = argv[1];
    scratch = argv[2];
    motion = argv[3];
    snprintf(validation_log, sizeof validation_log, "%s/xr_haptics_validation.txt", scratch);
    unlink(validation_log);
    setenv("XR_RUNTIME_JSON", manifest, 1);
    setenv("XR_ENABLE_API_LAYERS", "XR_APILAYER_LUNARG_core_validation", 1);
    setenv("XR_CORE_VALIDATION_EXPORT_TYPE", "text", 1);
    setenv("XR_CORE_VALIDATION_FILE_NAME", validation_log, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_pulses_and_stops, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
