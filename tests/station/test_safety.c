/* Safety filter: every command leaving it is finite, inside position limits
 * and inside the per-cycle velocity bound, whatever goes in. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "teleop/safety.h"

enum { N = 28 };

static void make(tp_safety *s, double *lo, double *hi, double *vmax)
{
    for (int i = 0; i < N; i++) {
        lo[i] = -1.0 - 0.05 * i;
        hi[i] = 0.5 + 0.1 * i;
        vmax[i] = 2.0 + i;
    }
    assert_int_equal(tp_safety_init(s, N, lo, hi, vmax, 0.01), 0);
}

static double adversarial(unsigned *seed)
{
    switch (rand_r(seed) % 8) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    case 3: return 1e300;
    case 4: return -1e300;
    default: return ((double)rand_r(seed) / RAND_MAX - 0.5) * 20.0;
    }
}

static void test_random_and_adversarial(void **state)
{
    (void)state;
    tp_safety s;
    double lo[N], hi[N], vmax[N], in[N], out[N], prev[N];
    make(&s, lo, hi, vmax);
    for (int i = 0; i < N; i++)
        prev[i] = s.last[i];
    unsigned seed = 12345;
    const double dt = 0.002;
    for (long k = 0; k < 200000; k++) {
        int hold = rand_r(&seed) % 10 == 0;
        for (int i = 0; i < N; i++)
            in[i] = adversarial(&seed);
        double step_dt = (rand_r(&seed) % 50 == 0) ? NAN : dt; /* a broken clock must not open the gate */
        tp_safety_filter(&s, hold ? NULL : in, step_dt, out);
        for (int i = 0; i < N; i++) {
            assert_true(isfinite(out[i]));
            assert_true(out[i] >= lo[i] + 0.01 - 1e-12 && out[i] <= hi[i] - 0.01 + 1e-12);
            assert_true(fabs(out[i] - prev[i]) <= vmax[i] * dt + 1e-12);
            prev[i] = out[i];
        }
    }
}

static void test_hold_and_ramp(void **state)
{
    (void)state;
    tp_safety s;
    double lo[N], hi[N], vmax[N], in[N], out[N];
    make(&s, lo, hi, vmax);
    double start[N];
    for (int i = 0; i < N; i++)
        start[i] = 0.1;
    tp_safety_reset(&s, start);
    unsigned f = tp_safety_filter(&s, NULL, 0.002, out);
    assert_true(f & TP_SAFETY_HOLD);
    for (int i = 0; i < N; i++)
        assert_true(out[i] == 0.1);
    /* A teleport becomes a ramp at the velocity limit. */
    for (int i = 0; i < N; i++)
        in[i] = 0.4;
    f = tp_safety_filter(&s, in, 0.002, out);
    assert_true(f & TP_SAFETY_VELOCITY);
    assert_true(fabs(out[0] - (0.1 + vmax[0] * 0.002)) < 1e-12);
    for (int k = 0; k < 1000; k++)
        tp_safety_filter(&s, in, 0.002, out);
    assert_true(fabs(out[0] - 0.4) < 1e-12);
    /* Inconsistent limits are refused. */
    double bad_hi[N];
    for (int i = 0; i < N; i++)
        bad_hi[i] = lo[i];
    assert_int_equal(tp_safety_init(&s, N, lo, bad_hi, vmax, 0.01), -1);
}

static void test_acceleration(void **state)
{
    (void)state;
    tp_safety s;
    double lo[N], hi[N], vmax[N], amax[N], in[N], out[N], start[N];
    make(&s, lo, hi, vmax);
    for (int i = 0; i < N; i++) {
        amax[i] = 50.0;
        start[i] = 0;
        in[i] = 0.4; /* a step in the target */
    }
    tp_safety_set_acceleration(&s, amax);
    tp_safety_reset(&s, start);
    const double dt = 0.002;
    double prev_v = 0, prev = 0;
    for (int k = 0; k < 2000; k++) {
        unsigned f = tp_safety_filter(&s, in, dt, out);
        double v = (out[0] - prev) / dt;
        assert_true(fabs(v - prev_v) <= amax[0] * dt + 1e-9); /* velocity changes smoothly */
        assert_true(fabs(v) <= vmax[0] + 1e-9);
        if (k == 0)
            assert_true(f & TP_SAFETY_ACCELERATION);
        assert_true(out[0] <= 0.4 + 1e-9); /* no overshoot */
        prev_v = v;
        prev = out[0];
    }
    assert_true(fabs(out[0] - 0.4) < 1e-6); /* and it still arrives */
}

/* The velocity clamp is reported only when it changed a command by more than
 * TP_SAFETY_CLAMP_TOLERANCE: a smooth motion below the caps never reports
 * one, at any phase of its acceleration; a target beyond one step always
 * does. */
static void test_velocity_clamp_tolerance(void **state)
{
    (void)state;
    tp_safety s;
    double lo[N], hi[N], vmax[N], amax[N], in[N], out[N], start[N] = {0};
    make(&s, lo, hi, vmax);
    for (int i = 0; i < N; i++)
        amax[i] = 40.0;
    tp_safety_set_acceleration(&s, amax);
    tp_safety_reset(&s, start);
    const double dt = 0.002;
    /* A slow motion (0.05 rad/s peak, from rest; below a dt, where the braking
     * profile starts to shape a moving target) passes untouched, no flag. */
    for (int k = 0; k < 5000; k++) {
        for (int i = 0; i < N; i++)
            in[i] = 0.1 * (1 - cos(k * dt * 0.5));
        assert_int_equal(tp_safety_filter(&s, in, dt, out), 0);
        for (int i = 0; i < N; i++)
            assert_true(fabs(out[i] - in[i]) < 1e-9);
    }
    /* A fast one, up to 0.8 of each joint's cap with its acceleration under
     * the bound: the braking profile may shape it, the velocity bound never
     * reports a clamp. */
    tp_safety_reset(&s, start);
    for (int k = 0; k < 5000; k++)
        for (int i = 0; i < N; i++) {
            double speed = fmin(0.8 * vmax[i], 2.0), w = speed / 0.2; /* 0.2 (1 - cos wt): accel speed^2/0.2 <= 20 */
            in[i] = 0.2 * (1 - cos(k * dt * w));
            if (i == N - 1)
                assert_false(tp_safety_filter(&s, in, dt, out) & TP_SAFETY_VELOCITY);
        }
    /* Asked to move 1.2 caps' worth in one cycle from rest: the acceleration
     * bound shapes it, the velocity bound never touches it. */
    tp_safety_reset(&s, start);
    for (int i = 0; i < N; i++)
        in[i] = 1.2 * vmax[i] * dt;
    unsigned f = tp_safety_filter(&s, in, dt, out);
    assert_false(f & TP_SAFETY_VELOCITY);
    assert_true(f & TP_SAFETY_ACCELERATION);
    /* Without the acceleration bound: the velocity cap changes the command
     * by 0.2 caps' worth (well over the tolerance), and a step just past the
     * cap (by less than the tolerance) is not reported. */
    double none[N] = {0};
    tp_safety_set_acceleration(&s, none);
    tp_safety_reset(&s, start);
    f = tp_safety_filter(&s, in, dt, out);
    assert_true(f & TP_SAFETY_VELOCITY);
    tp_safety_reset(&s, start);
    for (int i = 0; i < N; i++)
        in[i] = vmax[i] * dt + 0.5 * TP_SAFETY_CLAMP_TOLERANCE;
    f = tp_safety_filter(&s, in, dt, out);
    assert_false(f & TP_SAFETY_VELOCITY);
    assert_true(fabs(out[0] - vmax[0] * dt) < 1e-12); /* still clamped */
}

static void test_watchdog(void **state)
{
    (void)state;
    tp_watchdog w;
    int64_t quiet;
    tp_watchdog_init(&w, 20000000, 0);
    long long count = 0;
    int64_t t = 0;
    for (; t < 100000000; t += 5000000) /* a healthy loop: the count moves */
        assert_int_equal(tp_watchdog_observe(&w, ++count, t, &quiet), TP_WATCHDOG_NONE);
    int stalls = 0;
    for (int k = 0; k < 20; k++, t += 5000000) /* stuck for 100 ms: reported once */
        stalls += tp_watchdog_observe(&w, count, t, &quiet) == TP_WATCHDOG_STALL;
    assert_int_equal(stalls, 1);
    assert_int_equal(tp_watchdog_observe(&w, ++count, t, &quiet), TP_WATCHDOG_RESUMED);
    assert_true(quiet >= 95000000);
    assert_int_equal(tp_watchdog_observe(&w, ++count, t + 5000000, &quiet), TP_WATCHDOG_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_and_adversarial),
                                       cmocka_unit_test(test_hold_and_ramp), cmocka_unit_test(test_acceleration),
                                       cmocka_unit_test(test_velocity_clamp_tolerance),
                                       cmocka_unit_test(test_watchdog)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
