/* Action upsampling: 90 Hz operator frames, 500 Hz control ticks, through the
 * real controller (simulated humanoid's chains, filters off so the sampled
 * operator can be checked exactly).
 *   - interpolate: every tick targets the operator's pose exactly one latency
 *     before it (position linear, orientation on the slerp path), even when
 *     a frame is late (carried on along the last two);
 *   - predict: every tick targets the operator's pose at the tick itself on
 *     a constant-velocity motion;
 *   - none: the target steps once per operator frame;
 *   - causality: the controller engages only at a tick stamped after the
 *     first engaged frame (plus the latency when interpolating);
 *   - hand keypoints keep their shape while the wrist turns.
 * Usage: test_upsampling MODEL.xml */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/calibration.h"
#include "teleop/controller.h"
#include "teleop/handmodel.h"
#include "teleop/retarget.h"
#include "teleop/sim.h"

static const char *model_path;
static const int64_t TICK = 2000000, FRAME = 11111111;

/* The operator at time t: the right wrist sweeps at 0.2 m/s and turns at
 * 1 rad/s about the vertical; both hands open, in front of the robot. */
static tp_pose wrist_at(int side, double t)
{
    tp_vec3 p = tp_v3(side ? 0.15 : -0.15, 1.30 + 0.2 * t * (side ? 1 : 0), -0.35);
    tp_quat q = tp_quat_mul(tp_quat_from_axis_angle(tp_v3(0, 1, 0), side ? t : 0),
                            tp_quat_from_axis_angle(tp_v3(1, 0, 0), -0.3));
    return (tp_pose){p, q};
}

static void frame_at(int64_t t_ns, bool engaged, tp_operator_frame *f)
{
    memset(f, 0, sizeof *f);
    f->t_ns = t_ns;
    f->engaged = engaged;
    const double open[5] = {0, 0, 0, 0, 0};
    for (int s = 0; s < 2; s++)
        tp_hand_model_pose(s, wrist_at(s, (double)t_ns / 1e9), open, &f->hand[s]);
}

static tp_controller *make(tp_sim *sim, tp_upsampling method, tp_retarget_config *rcfg)
{
    char err[512];
    tp_retarget_default_config(rcfg);
    tp_controller_config cfg;
    tp_controller_default_config(&cfg);
    cfg.upsampling = method;
    cfg.filter_wrists = cfg.filter_hands = false;
    tp_controller *c = tp_controller_create_for_sim(sim, &cfg, rcfg, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    double q[TP_SIM_ACTION_DIMS];
    tp_sim_read_state(sim, q, NULL);
    tp_controller_reset(c, q);
    return c;
}

/* The torso-frame target the operator's right wrist gives at time t. */
static tp_pose target_at(const tp_retarget_config *rcfg, double t)
{
    tp_pose w = wrist_at(1, t);
    return (tp_pose){tp_calibration_point(&rcfg->calibration, w.p), tp_retarget_wrist_to_ee(1, w.q)};
}

/* Drives frames (each arriving at its stamp, or `late` ns after it) and
 * ticks for `seconds`; checks each engaged tick's right-wrist target against
 * the operator `behind` ns before the tick. Returns the worst position and
 * orientation errors. */
static void drive(tp_sim *sim, tp_upsampling method, int64_t behind, int64_t late_every, int64_t late,
                  double *pos_err, double *rot_err, int64_t *first_engaged)
{
    tp_retarget_config rcfg;
    tp_controller *c = make(sim, method, &rcfg);
    double cmd[TP_SIM_ACTION_DIMS];
    int64_t next = FRAME; /* the first frame; engaged from the start */
    long j = 1;
    *pos_err = *rot_err = 0;
    *first_engaged = -1;
    tp_operator_frame f;
    for (int64_t t = 0; t < 2000000000LL; t += TICK) {
        int64_t arrive = next + (late_every && j % late_every == 0 ? late : 0);
        if (arrive <= t) {
            frame_at(next, true, &f);
            tp_controller_push_frame(c, &f, t);
            next += FRAME;
            j++;
        }
        unsigned flags = tp_controller_step(c, NULL, t, cmd);
        if (!(flags & TP_CONTROL_ENGAGED))
            continue;
        if (*first_engaged < 0)
            *first_engaged = t;
        if (t < *first_engaged + 100000000LL) /* past the engage ramp's first ticks */
            continue;
        const tp_retarget_status *st = tp_controller_status(c);
        tp_pose want = target_at(&rcfg, (double)(t - behind) / 1e9);
        *pos_err = fmax(*pos_err, tp_v3_norm(tp_v3_sub(st->wrist_target[1].p, want.p)));
        *rot_err = fmax(*rot_err, tp_quat_angle_between(st->wrist_target[1].q, want.q));
    }
    tp_controller_destroy(c);
}

static void test_interpolate(void **state)
{
    tp_sim *sim = *state;
    double pe, re;
    int64_t first;
    drive(sim, TP_UPSAMPLE_INTERPOLATE, FRAME, 0, 0, &pe, &re, &first);
    printf("interpolate: target %.2g m, %.2g rad from the operator one latency before the tick\n", pe, re);
    /* Linear in position: exact. The slerp of the wrist rotation is exact
     * too (a constant-rate rotation about a fixed axis). */
    assert_true(pe < 1e-9);
    assert_true(re < 1e-7);
    /* Engaged only once the first frame is a latency old. */
    assert_true(first >= FRAME + FRAME);
    /* Every 5th frame 4 ms late: carried on along the last two frames,
     * exact on this constant-velocity motion. */
    drive(sim, TP_UPSAMPLE_INTERPOLATE, FRAME, 5, 4000000, &pe, &re, &first);
    printf("interpolate, late frames: %.2g m, %.2g rad\n", pe, re);
    assert_true(pe < 1e-9);
    assert_true(re < 1e-7);
}

static void test_predict(void **state)
{
    tp_sim *sim = *state;
    double pe, re;
    int64_t first;
    drive(sim, TP_UPSAMPLE_PREDICT, 0, 0, 0, &pe, &re, &first);
    printf("predict: target %.2g m, %.2g rad from the operator at the tick\n", pe, re);
    assert_true(pe < 1e-9);
    /* Nearly parallel orientations are extrapolated by normalized lerp,
     * not exactly on the great circle: off by about angle^3. */
    assert_true(re < 1e-6);
    assert_true(first > FRAME); /* acts only on frames stamped before the tick */
}

static void test_none_steps(void **state)
{
    tp_sim *sim = *state;
    double pe, re;
    int64_t first;
    /* Holding each frame: the target lags by up to a frame period, so it is
     * off the operator at the tick by up to 0.2 m/s x 11 ms. */
    drive(sim, TP_UPSAMPLE_NONE, 0, 0, 0, &pe, &re, &first);
    printf("none: up to %.2g m, %.2g rad from the operator at the tick\n", pe, re);
    assert_true(pe > 0.001 && pe < 0.2 * 0.0112 + 1e-6);
}

/* The clutch: frames disengaged, then engaged from frame 10 on. The tick
 * that engages is later than that frame's stamp (the operator_command it
 * caused carries that stamp), by the latency when interpolating. */
static void test_cause_before_effect(void **state)
{
    tp_sim *sim = *state;
    for (int m = TP_UPSAMPLE_INTERPOLATE; m <= TP_UPSAMPLE_NONE; m++) {
        tp_retarget_config rcfg;
        tp_controller *c = make(sim, (tp_upsampling)m, &rcfg);
        double cmd[TP_SIM_ACTION_DIMS];
        tp_operator_frame f;
        const int64_t engage_stamp = 10 * FRAME;
        int64_t engaged_at = -1;
        /* Frames stamped ahead of their arrival, as OpenXR's predicted
         * display times are (two frame periods). */
        int64_t next = 0;
        for (int64_t t = 0; t < 500000000LL && engaged_at < 0; t += TICK) {
            while (next - 2 * FRAME <= t) {
                frame_at(next, next >= engage_stamp, &f);
                tp_controller_push_frame(c, &f, t);
                next += FRAME;
            }
            if (tp_controller_step(c, NULL, t, cmd) & TP_CONTROL_ENGAGED)
                engaged_at = t;
        }
        printf("%s: engaged frame stamped %.3f ms, engaged at the tick of %.3f ms\n",
               tp_upsampling_name((tp_upsampling)m), engage_stamp / 1e6, engaged_at / 1e6);
        assert_true(engaged_at > engage_stamp);
        assert_true(engaged_at >= engage_stamp + tp_controller_upsampling_latency_ns(c));
        assert_true(engaged_at < engage_stamp + tp_controller_upsampling_latency_ns(c) + 2 * TICK);
        tp_controller_destroy(c);
    }
}

static int setup(void **state)
{
    char err[512];
    tp_sim *sim = tp_sim_create(model_path, err, sizeof err);
    if (!sim) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = sim;
    return 0;
}

static int teardown(void **state)
{
    tp_sim_destroy(*state);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.xml\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interpolate),
        cmocka_unit_test(test_predict),
        cmocka_unit_test(test_none_steps),
        cmocka_unit_test(test_cause_before_effect),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
