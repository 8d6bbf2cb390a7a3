/* One Euro filter: passes the first sample, holds a constant, reduces jitter
 * at rest, lags less with a higher beta, filters orientations on the sphere. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "teleop/filter.h"

#define MS 1000000LL

static double noise(unsigned *seed) { return ((double)rand_r(seed) / RAND_MAX - 0.5) * 0.002; }

static void test_constant_and_first(void **state)
{
    (void)state;
    tp_one_euro_params p;
    tp_one_euro_default(&p);
    tp_one_euro_vec3 f;
    tp_one_euro_vec3_init(&f, &p);
    tp_vec3 x = tp_v3(1, 2, 3);
    tp_vec3 y = tp_one_euro_vec3_filter(&f, x, 0);
    assert_true(y.x == 1 && y.y == 2 && y.z == 3);
    for (int i = 1; i < 100; i++)
        y = tp_one_euro_vec3_filter(&f, x, i * 11 * MS);
    assert_true(fabs(y.x - 1) < 1e-12);
    /* Non-finite input and repeated timestamps do not disturb it. */
    y = tp_one_euro_vec3_filter(&f, tp_v3(NAN, 0, 0), 2000 * MS);
    assert_true(tp_v3_isfinite(y));
    y = tp_one_euro_vec3_filter(&f, tp_v3(9, 9, 9), 99 * 11 * MS);
    assert_true(fabs(y.x - 1) < 1e-12);
}

static void test_jitter_reduced(void **state)
{
    (void)state;
    tp_one_euro_params p = {.min_cutoff = 1.0, .beta = 0.5, .d_cutoff = 1.0};
    tp_one_euro_vec3 f;
    tp_one_euro_vec3_init(&f, &p);
    unsigned seed = 3;
    double in_var = 0, out_var = 0;
    int n = 0;
    for (int i = 0; i < 2000; i++) {
        tp_vec3 x = tp_v3(noise(&seed), 0, 0);
        tp_vec3 y = tp_one_euro_vec3_filter(&f, x, i * 11 * MS);
        if (i > 200) {
            in_var += x.x * x.x;
            out_var += y.x * y.x;
            n++;
        }
    }
    assert_true(out_var < 0.1 * in_var); /* at rest, jitter power drops by > 10x */
}

static double lag_after_ramp(double beta)
{
    tp_one_euro_params p = {.min_cutoff = 1.0, .beta = beta, .d_cutoff = 1.0};
    tp_one_euro_vec3 f;
    tp_one_euro_vec3_init(&f, &p);
    tp_vec3 y = tp_v3(0, 0, 0);
    for (int i = 0; i < 90; i++) /* 1 m/s for one second at 90 Hz */
        y = tp_one_euro_vec3_filter(&f, tp_v3(i / 90.0, 0, 0), (int64_t)i * 1000000000LL / 90);
    return 89 / 90.0 - y.x;
}

static void test_beta_cuts_lag(void **state)
{
    (void)state;
    double slow = lag_after_ramp(0.0), fast = lag_after_ramp(5.0);
    assert_true(slow > 0.05);      /* a plain 1 Hz low-pass trails a 1 m/s ramp by ~16 cm */
    assert_true(fast < 0.3 * slow); /* speed raises the cutoff */
}

static void test_pose_orientation(void **state)
{
    (void)state;
    tp_one_euro_params p = {.min_cutoff = 2.0, .beta = 1.0, .d_cutoff = 1.0};
    tp_one_euro_pose f;
    tp_one_euro_pose_init(&f, &p, &p);
    tp_quat target = tp_quat_from_axis_angle(tp_v3(0, 0, 1), 1.0);
    tp_pose out = tp_one_euro_pose_filter(&f, (tp_pose){tp_v3(0, 0, 0), tp_quat_identity()}, 0);
    double last_angle = 0;
    for (int i = 1; i < 300; i++) {
        tp_quat q = (i % 2) ? target : (tp_quat){-target.x, -target.y, -target.z, -target.w}; /* sign flips */
        out = tp_one_euro_pose_filter(&f, (tp_pose){tp_v3(0, 0, 0), q}, i * 11 * MS);
        double a = tp_quat_angle_between(out.q, tp_quat_identity());
        assert_true(a >= last_angle - 1e-9); /* moves monotonically toward the target despite flips */
        last_angle = a;
        assert_true(fabs(sqrt(tp_quat_dot(out.q, out.q)) - 1) < 1e-9);
    }
    assert_true(tp_quat_angle_between(out.q, target) < 1e-3);
}

/* A hand whose fingers tremble while the whole hand moves fast: the tremor is
 * smoothed, but the hand goes where the wrist goes with no lag (filtering is
 * in the wrist frame), and joint orientations turn with the wrist. */
static void test_hand_keypoints(void **state)
{
    (void)state;
    tp_one_euro_params p = {.min_cutoff = 2.0, .beta = 10.0, .d_cutoff = 1.0};
    tp_one_euro_hand f;
    tp_one_euro_hand_init(&f, &p);
    tp_hand_frame shape; /* fingers in the wrist frame */
    for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
        shape.joints[j].pose = (tp_pose){tp_v3(0.01 * j, 0.002 * (j % 5), -0.004 * (j / 5)),
                                         tp_quat_from_axis_angle(tp_v3(1, 0, 0), 0.05 * j)};
        shape.joints[j].valid = true;
        shape.joints[j].radius = 0.01f;
    }
    shape.joints[TP_HJ_WRIST].pose = tp_pose_identity();
    shape.active = true;
    unsigned seed = 7;
    double in_var = 0, out_var = 0, max_offset = 0;
    for (int i = 0; i < 900; i++) {
        int64_t t = (int64_t)i * 1000000000LL / 90;
        double tt = (double)i / 90;
        /* The wrist sweeps 0.5 m at up to ~1.6 m/s and turns. */
        tp_pose wrist = {tp_v3(0.25 * sin(3.0 * tt), 1.2, -0.3), tp_quat_from_axis_angle(tp_v3(0, 1, 0), tt)};
        tp_hand_frame h = shape;
        tp_vec3 jitter[TP_HAND_JOINT_COUNT];
        for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
            jitter[j] = j == TP_HJ_WRIST ? tp_v3(0, 0, 0) : tp_v3(noise(&seed), noise(&seed), noise(&seed));
            tp_pose local = {tp_v3_add(shape.joints[j].pose.p, jitter[j]), shape.joints[j].pose.q};
            h.joints[j].pose = tp_pose_mul(wrist, local);
        }
        tp_hand_frame out = h;
        /* Place the hand on a wrist shifted 1 cm: the caller's filtered wrist. */
        tp_pose placed = {tp_v3_add(wrist.p, tp_v3(0.01, 0, 0)), wrist.q};
        out.joints[TP_HJ_WRIST].pose = placed;
        tp_one_euro_hand_filter(&f, &out, wrist, t);
        for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
            tp_vec3 want = tp_pose_apply(placed, shape.joints[j].pose.p);
            tp_vec3 got = out.joints[j].pose.p;
            double e = tp_v3_norm(tp_v3_sub(got, want));
            max_offset = fmax(max_offset, i > 30 ? e : 0);
            if (i > 30 && j != TP_HJ_WRIST) {
                in_var += tp_v3_dot(jitter[j], jitter[j]);
                out_var += e * e;
            }
            /* Orientation turned with the wrist (no extra turn: same q). */
            tp_quat qwant = tp_quat_mul(placed.q, shape.joints[j].pose.q);
            assert_true(tp_quat_angle_between(out.joints[j].pose.q, qwant) < 1e-9);
        }
    }
    printf("hand keypoints: jitter power ratio %.3f, largest offset from the true shape %.2f mm\n",
           out_var / in_var, 1e3 * max_offset);
    assert_true(out_var < 0.2 * in_var); /* tremor power drops 5x while the hand flies */
    assert_true(max_offset < 0.002);     /* and the hand stays on its wrist */

    /* An invalid wrist leaves the hand as it is; an invalid joint is untouched. */
    tp_hand_frame h = shape;
    h.joints[TP_HJ_WRIST].valid = false;
    tp_hand_frame copy = h;
    tp_one_euro_hand_filter(&f, &h, tp_pose_identity(), 20000000000LL);
    assert_memory_equal(&h, &copy, sizeof h);
    h = shape;
    h.joints[5].valid = false;
    h.joints[5].pose.p = tp_v3(NAN, 0, 0);
    tp_one_euro_hand_filter(&f, &h, tp_pose_identity(), 20100000000LL);
    assert_true(isnan(h.joints[5].pose.p.x));
    assert_true(tp_v3_isfinite(h.joints[6].pose.p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_constant_and_first), cmocka_unit_test(test_jitter_reduced),
                                       cmocka_unit_test(test_beta_cuts_lag), cmocka_unit_test(test_pose_orientation),
                                       cmocka_unit_test(test_hand_keypoints)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
