/* One Euro filter: passes the first sample, holds a constant, reduces jitter
 * at rest, lags less with a higher beta, filters orientations on the sphere. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_constant_and_first), cmocka_unit_test(test_jitter_reduced),
                                       cmocka_unit_test(test_beta_cuts_lag), cmocka_unit_test(test_pose_orientation)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
