/* The operator's warnings and haptic pulses near the robot's limits
 * (operator_feedback.h):
 *   - each warning switches on exactly when its figure crosses its threshold
 *     (joint margin, workspace margin, beyond the edge, clamp, hold, lost
 *     tracking) and off only past the hysteresis band, tested on both sides
 *     of every threshold;
 *   - pulses: one per interval at most while a warning lasts, stronger,
 *     longer and higher nearer the limit, one at the start of a hold, a stop
 *     when everything clears, nothing with haptics off;
 *   - on a scripted motion through the real controller and the simulated
 *     humanoid's model, the left wrist pushed outwards past the workspace box
 *     and out of reach: the figures match the command and the model's
 *     limits, every warning appears exactly when its figure says so, each
 *     kind shows up, and pulses come only while a warning is active.
 *   - a short session with a console tap publishes the figures and the
 *     status to the headset view's buffers.
 * Usage: test_operator_feedback MODEL.xml MOTION.csv */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/clock.h"
#include "teleop/console_tap.h"
#include "teleop/controller.h"
#include "teleop/operator_feedback.h"
#include "teleop/safety.h"
#include "teleop/sim.h"
#include "limit_motion.h"

static const char *model_path, *motion_path;
static const int64_t MS = 1000000;

static tp_limit_figures calm(void)
{
    tp_limit_figures f = {.t_ns = 1, .control_flags = TP_CONTROL_ENGAGED, .arm_dof = 7};
    for (int s = 0; s < 2; s++) {
        for (int j = 0; j < 7; j++)
            f.joint_margin[s][j] = 1.0f;
        f.wrist_edge[s] = 0.3f;
        f.wrist_known[s] = true;
        f.arm_tracked[s] = f.hand_tracked[s] = true;
    }
    return f;
}

typedef struct run {
    tp_feedback fb;
    tp_feedback_output out;
    int64_t t;
} run;

/* One update 100 ms after the last (past the pulse interval's rate limit
 * unless a test says otherwise). */
static unsigned step(run *r, const tp_limit_figures *f, int side)
{
    r->t += 100 * MS;
    tp_feedback_update(&r->fb, f, r->t, &r->out);
    return r->out.side[side].active;
}

static void start(run *r)
{
    tp_feedback_config cfg;
    tp_feedback_default_config(&cfg);
    cfg.pulse_interval_s = 0.05; /* step() is 0.1 s: every update may pulse */
    tp_feedback_init(&r->fb, &cfg);
    r->t = 1000 * MS;
}

static void test_joint_threshold(void **state)
{
    (void)state;
    run r;
    start(&r);
    tp_limit_figures f = calm();
    assert_int_equal(step(&r, &f, 0), 0);
    assert_int_equal(r.out.haptic[0].action, TP_HAPTIC_NONE);
    f.joint_margin[0][3] = 0.1501f; /* just outside 0.15 rad */
    assert_int_equal(step(&r, &f, 0), 0);
    assert_int_equal(r.out.haptic[0].action, TP_HAPTIC_NONE);
    f.joint_margin[0][3] = 0.1499f;
    assert_int_equal(step(&r, &f, 0), TP_WARN_JOINT_LIMIT);
    assert_int_equal(r.out.side[0].joint, 3);
    assert_float_equal(r.out.side[0].joint_margin, 0.1499, 1e-6);
    assert_int_equal(r.out.haptic[0].action, TP_HAPTIC_PULSE);
    assert_int_equal(r.out.side[1].active, 0); /* the other side is calm */
    assert_int_equal(r.out.haptic[1].action, TP_HAPTIC_NONE);
    /* Hysteresis: stays on up to 0.15 · 1.25 = 0.1875 rad. */
    f.joint_margin[0][3] = 0.187f;
    assert_int_equal(step(&r, &f, 0), TP_WARN_JOINT_LIMIT);
    f.joint_margin[0][3] = 0.188f;
    assert_int_equal(step(&r, &f, 0), 0);
    assert_int_equal(r.out.haptic[0].action, TP_HAPTIC_STOP); /* silence */
    assert_int_equal(step(&r, &f, 0), 0);
    assert_int_equal(r.out.haptic[0].action, TP_HAPTIC_NONE); /* one stop only */
    /* Off again: the threshold is 0.15 again, not the band. */
    f.joint_margin[0][3] = 0.16f;
    assert_int_equal(step(&r, &f, 0), 0);
}

static void test_workspace_thresholds(void **state)
{
    (void)state;
    run r;
    start(&r);
    tp_limit_figures f = calm();
    f.wrist_edge[1] = 0.0501f;
    assert_int_equal(step(&r, &f, 1), 0);
    f.wrist_edge[1] = 0.0499f;
    assert_int_equal(step(&r, &f, 1), TP_WARN_WORKSPACE_NEAR);
    assert_int_equal(r.out.haptic[1].action, TP_HAPTIC_PULSE);
    assert_int_equal(r.out.side[0].active, 0);
    f.wrist_edge[1] = 0.0001f;
    assert_int_equal(step(&r, &f, 1), TP_WARN_WORKSPACE_NEAR);
    f.wrist_edge[1] = -0.0001f;
    assert_int_equal(step(&r, &f, 1), TP_WARN_WORKSPACE_BEYOND);
    assert_true(r.out.side[1].urgency == 1.0);
    /* Back inside: beyond until 0.05 · 0.25 = 0.0125 m, then near until 0.0625 m. */
    f.wrist_edge[1] = 0.012f;
    assert_int_equal(step(&r, &f, 1), TP_WARN_WORKSPACE_BEYOND);
    f.wrist_edge[1] = 0.013f;
    assert_int_equal(step(&r, &f, 1), TP_WARN_WORKSPACE_NEAR);
    f.wrist_edge[1] = 0.062f;
    assert_int_equal(step(&r, &f, 1), TP_WARN_WORKSPACE_NEAR);
    f.wrist_edge[1] = 0.063f;
    assert_int_equal(step(&r, &f, 1), 0);
    assert_int_equal(r.out.haptic[1].action, TP_HAPTIC_STOP);
    /* No wrist target (clutch open, not retargeted): no workspace warning. */
    f.wrist_edge[1] = -0.5f;
    f.wrist_known[1] = false;
    assert_int_equal(step(&r, &f, 1), 0);
}

static void test_clamp_hold_tracking(void **state)
{
    (void)state;
    run r;
    start(&r);
    tp_limit_figures f = calm();
    f.clamped[0] = true;
    assert_int_equal(step(&r, &f, 0), TP_WARN_CLAMPED);
    assert_int_equal(r.out.haptic[0].action, TP_HAPTIC_PULSE);
    int64_t clamp_t = r.t;
    f.clamped[0] = false;
    /* Shown for 0.3 s after the last clamp. */
    r.t = clamp_t + TP_FEEDBACK_CLAMP_HOLD_NS - 1;
    tp_feedback_update(&r.fb, &f, r.t, &r.out);
    assert_int_equal(r.out.side[0].active, TP_WARN_CLAMPED);
    r.t = clamp_t + TP_FEEDBACK_CLAMP_HOLD_NS;
    tp_feedback_update(&r.fb, &f, r.t, &r.out);
    assert_int_equal(r.out.side[0].active, 0);
    assert_int_equal(r.out.haptic[0].action, TP_HAPTIC_STOP);

    /* A hold (emergency, stale robot, stale input): both sides, one pulse at its start. */
    static const unsigned holds[] = {TP_CONTROL_EMERGENCY, TP_CONTROL_ROBOT_STALE, TP_CONTROL_INPUT_STALE};
    for (int h = 0; h < 3; h++) {
        f.control_flags = holds[h];
        assert_int_equal(step(&r, &f, 0), TP_WARN_HOLDING);
        assert_int_equal(r.out.side[1].active, TP_WARN_HOLDING);
        assert_int_equal(r.out.haptic[0].action, TP_HAPTIC_PULSE);
        assert_int_equal(r.out.haptic[1].action, TP_HAPTIC_PULSE);
        assert_float_equal(r.out.haptic[0].amplitude, 0.6, 1e-6); /* full urgency */
        for (int k = 0; k < 5; k++) {
            assert_int_equal(step(&r, &f, 0), TP_WARN_HOLDING);
            assert_int_equal(r.out.haptic[0].action, TP_HAPTIC_NONE);
        }
        f.control_flags = TP_CONTROL_ENGAGED;
        assert_int_equal(step(&r, &f, 0), 0);
        assert_int_equal(r.out.haptic[0].action, TP_HAPTIC_STOP);
    }
    /* The clutch released is the operator's doing, not a warning. */
    f.control_flags = TP_CONTROL_CLUTCH_OPEN;
    assert_int_equal(step(&r, &f, 0), 0);
    f.control_flags = TP_CONTROL_ENGAGED;

    /* A lost hand: that side only. */
    f.hand_tracked[1] = false;
    assert_int_equal(step(&r, &f, 1), TP_WARN_TRACKING_LOST);
    assert_int_equal(r.out.side[0].active, 0);
    assert_int_equal(r.out.haptic[1].action, TP_HAPTIC_PULSE);
    assert_int_equal(r.out.haptic[0].action, TP_HAPTIC_NONE);
    f.hand_tracked[1] = true;
    assert_int_equal(step(&r, &f, 1), 0);

    /* No figures (no session): nothing, and silence. */
    f.joint_margin[0][0] = 0.01f;
    assert_int_equal(step(&r, &f, 0), TP_WARN_JOINT_LIMIT);
    r.t += 100 * MS;
    tp_feedback_update(&r.fb, NULL, r.t, &r.out);
    assert_int_equal(r.out.side[0].active, 0);
    assert_int_equal(r.out.haptic[0].action, TP_HAPTIC_STOP);
}

static void test_rate_and_shape(void **state)
{
    (void)state;
    tp_feedback_config cfg;
    tp_feedback_default_config(&cfg);
    tp_feedback fb;
    tp_feedback_init(&fb, &cfg);
    tp_feedback_output out;
    tp_limit_figures f = calm();
    f.joint_margin[1][0] = 0.05f;
    /* Updates every 11 ms for 2 s: pulses at least 0.25 s apart, and within
     * one update of it. */
    int64_t t0 = 5000 * MS, last = -1;
    int pulses = 0;
    for (int64_t t = t0; t < t0 + 2000 * MS; t += 11 * MS) {
        tp_feedback_update(&fb, &f, t, &out);
        assert_int_not_equal(out.haptic[1].action, TP_HAPTIC_STOP);
        if (out.haptic[1].action != TP_HAPTIC_PULSE)
            continue;
        if (last >= 0) {
            assert_true(t - last >= 250 * MS);
            assert_true(t - last < 261 * MS);
        }
        last = t;
        pulses++;
    }
    assert_int_equal(pulses, 8);

    /* Nearer the limit: stronger, longer, higher. */
    tp_haptic_pulse far = tp_feedback_pulse(0.6, 1 - 0.12 / 0.15), near = tp_feedback_pulse(0.6, 1 - 0.01 / 0.15);
    assert_true(near.amplitude > far.amplitude);
    assert_true(near.duration_ns > far.duration_ns);
    assert_true(near.frequency_hz > far.frequency_hz);
    assert_true(near.amplitude <= 0.6f);
    tp_feedback_init(&fb, &cfg);
    f.joint_margin[1][0] = 0.03f;
    tp_feedback_update(&fb, &f, t0, &out);
    assert_int_equal(out.haptic[1].action, TP_HAPTIC_PULSE);
    assert_float_equal(out.side[1].urgency, 0.8, 1e-6);
    tp_haptic_pulse want = tp_feedback_pulse(0.6, 0.8);
    assert_float_equal(out.haptic[1].amplitude, want.amplitude, 1e-6);
    assert_int_equal(out.haptic[1].duration_ns, want.duration_ns);

    /* Haptics off: the same warnings, no pulses. */
    cfg.haptics = false;
    tp_feedback_init(&fb, &cfg);
    for (int k = 0; k < 10; k++) {
        tp_feedback_update(&fb, &f, t0 + k * 300 * MS, &out);
        assert_int_equal(out.side[1].active, TP_WARN_JOINT_LIMIT);
        assert_int_equal(out.haptic[1].action, TP_HAPTIC_NONE);
    }
    char err[128];
    tp_feedback_default_config(&cfg);
    assert_int_equal(tp_feedback_check_config(&cfg, err, sizeof err), 0);
    cfg.pulse_interval_s = 0.01;
    assert_int_equal(tp_feedback_check_config(&cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "haptics_interval"));
}

/* ------------------------------------------------ scripted motion */

typedef struct scripted {
    tp_sim *sim;
    double limit_margin, jm, wm;
    tp_feedback fb;
    unsigned seen[2];
    int pulses[2], clamp_samples;
} scripted;

static void scripted_sample(void *user, const double *cmd, const tp_limit_figures *fig)
{
    scripted *r = user;
    const double band = 1 + TP_FEEDBACK_HYSTERESIS;
    assert_int_equal(fig->arm_dof, 7);
    tp_feedback_output out;
    tp_feedback_update(&r->fb, fig, fig->t_ns, &out);
    for (int s = 0; s < 2; s++) {
        /* The figures: the command against the model's limits less the margin. */
        double min_margin = 1e9;
        for (int j = 0; j < 7; j++) {
            double lo, hi;
            tp_sim_joint_limits(r->sim, s * 7 + j, &lo, &hi);
            double q = cmd[s * 7 + j];
            double m = fmax(0, fmin(q - (lo + r->limit_margin), hi - r->limit_margin - q));
            assert_float_equal(fig->joint_margin[s][j], m, 1e-5);
            min_margin = fmin(min_margin, m);
        }
        unsigned a = out.side[s].active;
        r->seen[s] |= a;
        /* Each warning exactly when its figure says so. */
        if (min_margin < r->jm)
            assert_true(a & TP_WARN_JOINT_LIMIT);
        if (min_margin > r->jm * band)
            assert_false(a & TP_WARN_JOINT_LIMIT);
        if (fig->wrist_known[s] && fig->wrist_edge[s] < 0)
            assert_true(a & TP_WARN_WORKSPACE_BEYOND);
        if (!fig->wrist_known[s] || fig->wrist_edge[s] > r->wm * TP_FEEDBACK_HYSTERESIS)
            assert_false(a & TP_WARN_WORKSPACE_BEYOND);
        if (fig->wrist_known[s] && fig->wrist_edge[s] >= 0 && fig->wrist_edge[s] < r->wm)
            assert_true(a & (TP_WARN_WORKSPACE_NEAR | TP_WARN_WORKSPACE_BEYOND));
        if (!fig->wrist_known[s] || fig->wrist_edge[s] > r->wm * band)
            assert_false(a & (TP_WARN_WORKSPACE_NEAR | TP_WARN_WORKSPACE_BEYOND));
        if (fig->clamped[s]) {
            assert_true(a & TP_WARN_CLAMPED);
            r->clamp_samples += s == 0;
        }
        if (out.haptic[s].action == TP_HAPTIC_PULSE) {
            assert_int_not_equal(a, 0);
            r->pulses[s]++;
        }
        if (a == 0)
            assert_int_not_equal(out.haptic[s].action, TP_HAPTIC_PULSE);
    }
}

static void test_scripted_motion(void **state)
{
    (void)state;
    char err[512];
    scripted r = {0};
    r.sim = tp_sim_create(model_path, err, sizeof err);
    if (!r.sim)
        fail_msg("%s", err);
    tp_controller_config ccfg;
    tp_controller_default_config(&ccfg);
    r.limit_margin = ccfg.limit_margin;
    tp_feedback_config fcfg;
    tp_feedback_default_config(&fcfg);
    r.jm = fcfg.joint_margin;
    r.wm = fcfg.workspace_margin;
    tp_feedback_init(&r.fb, &fcfg);
    if (limit_motion_run(model_path, scripted_sample, &r, err, sizeof err) != 0)
        fail_msg("%s", err);
    /* The left arm met every kind of limit; the right one none. */
    printf("left warnings seen 0x%x, right 0x%x; pulses %d / %d; left clamped samples %d\n", r.seen[0], r.seen[1],
           r.pulses[0], r.pulses[1], r.clamp_samples);
    assert_true(r.seen[0] & TP_WARN_WORKSPACE_NEAR);
    assert_true(r.seen[0] & TP_WARN_WORKSPACE_BEYOND);
    assert_true(r.seen[0] & TP_WARN_JOINT_LIMIT);
    assert_true(r.seen[0] & TP_WARN_CLAMPED);
    assert_true(r.pulses[0] >= 4);
    assert_int_equal(r.seen[1] & (TP_WARN_JOINT_LIMIT | TP_WARN_WORKSPACE_NEAR | TP_WARN_WORKSPACE_BEYOND |
                                  TP_WARN_CLAMPED), 0);
    tp_sim_destroy(r.sim);
}

/* ------------------------------------------------ a session's feed */

/* A short session (motion source, simulated robot) with a console tap: the
 * control loop publishes limit figures and the recorder the status to the
 * headset view's buffers (read here after the run: the newest of each). */
static void test_session_feeds_the_view(void **state)
{
    (void)state;
    char out_dir[] = "/tmp/teleop-test-feedback-XXXXXX";
    assert_non_null(mkdtemp(out_dir));
    tp_session_config cfg;
    tp_session_default_config(&cfg);
    cfg.duration_s = 1.5;
    cfg.model_path = model_path;
    cfg.motion_path = motion_path;
    cfg.operator_source = "motion";
    cfg.out_dir = out_dir;
    cfg.camera_count = 0;
    cfg.realtime_priority = false;
    char err[512];
    tp_console_tap *tap = tp_console_tap_create(&cfg, err, sizeof err);
    assert_non_null(tap);
    cfg.console = tap;
    tp_session_stats st;
    int64_t before = tp_now_ns();
    if (tp_session_run(&cfg, NULL, &st, err, sizeof err) != 0)
        fail_msg("%s", err);
    const tp_limit_figures *fig = tp_console_tap_view_limits(tap, NULL);
    assert_non_null(fig);
    assert_int_equal(fig->arm_dof, 7);
    assert_true(fig->t_ns > before && fig->t_ns <= tp_now_ns());
    for (int s = 0; s < 2; s++)
        for (int j = 0; j < 7; j++)
            assert_true(fig->joint_margin[s][j] >= 0 && fig->joint_margin[s][j] < 7);
    const tp_console_pose *pose = tp_console_tap_pose(tap, NULL);
    assert_non_null(pose);
    assert_int_equal(pose->limits.arm_dof, 7); /* the console's pose carries them too */
    const tp_console_status *vs = tp_console_tap_view_status(tap, NULL);
    assert_non_null(vs);
    assert_true(vs->disk_free_mb > 0);
    tp_console_tap_destroy(tap);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out_dir);
    assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.xml MOTION.csv\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    motion_path = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_joint_threshold),
        cmocka_unit_test(test_workspace_thresholds),
        cmocka_unit_test(test_clamp_hold_tracking),
        cmocka_unit_test(test_rate_and_shape),
        cmocka_unit_test(test_scripted_motion),
        cmocka_unit_test(test_session_feeds_the_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
