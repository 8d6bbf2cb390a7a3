/* Simulated humanoid: model facts, arm chain FK against MuJoCo, position
 * tracking, clamping, objects at rest, headless rendering.
 * Usage: test_sim MODEL.xml */
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
#include "teleop/sim.h"

static const char *model_path;

static tp_sim *load(void)
{
    char err[512];
    tp_sim *s = tp_sim_create(model_path, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    return s;
}

static void test_joints_and_limits(void **state)
{
    (void)state;
    tp_sim *s = load();
    assert_int_equal(tp_sim_joint_count(s), 28);
    assert_string_equal(tp_sim_joint_name(s, 0), "left_shoulder_pitch_joint");
    assert_string_equal(tp_sim_joint_name(s, 3), "left_elbow_joint");
    assert_string_equal(tp_sim_joint_name(s, 7), "right_shoulder_pitch_joint");
    assert_string_equal(tp_sim_joint_name(s, 14), "left_hand_zero_joint");
    assert_string_equal(tp_sim_joint_name(s, 27), "right_hand_six_joint");
    double lo, hi;
    tp_sim_joint_limits(s, 1, &lo, &hi); /* left shoulder roll (URDF) */
    assert_true(fabs(lo - -1.5882) < 1e-9 && fabs(hi - 2.2515) < 1e-9);
    tp_sim_joint_limits(s, 8, &lo, &hi); /* right shoulder roll: mirrored */
    assert_true(fabs(lo - -2.2515) < 1e-9 && fabs(hi - 1.5882) < 1e-9);
    tp_sim_joint_limits(s, 14 + 3, &lo, &hi); /* left index: curls negative */
    assert_true(fabs(lo - -1.83259571) < 1e-9 && fabs(hi - 0.19198621) < 1e-9);
    tp_sim_joint_limits(s, 21 + 3, &lo, &hi); /* right index: mirrored */
    assert_true(fabs(lo - -0.19198621) < 1e-9 && fabs(hi - 1.83259571) < 1e-9);
    assert_true(fabs(tp_sim_joint_max_velocity(s, 5) - 22) < 1e-9);
    assert_true(fabs(tp_sim_timestep(s) - 0.002) < 1e-12);
    tp_sim_destroy(s);
    char err[256];
    assert_null(tp_sim_create("/nonexistent/model.xml", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/model.xml"));
}

static void test_chain_matches_mujoco(void **state)
{
    (void)state;
    tp_sim *s = load();
    char err[256];
    tp_pose torso;
    assert_int_equal(tp_sim_site_pose(s, "torso_link", &torso), 0);
    srand(11);
    for (int side = 0; side < 2; side++) {
        tp_chain c;
        assert_int_equal(tp_sim_arm_chain(s, side, &c, err, sizeof err), 0);
        assert_int_equal(c.n, 7);
        for (int trial = 0; trial < 20; trial++) {
            double target[28], q[7];
            tp_sim_read_state(s, target, NULL);
            for (int i = 0; i < 7; i++) {
                q[i] = c.lower[i] + (c.upper[i] - c.lower[i]) * rand() / (double)RAND_MAX;
                target[side * 7 + i] = q[i];
            }
            tp_pose fk = tp_pose_mul(torso, tp_chain_fk(&c, q));
            /* Ground truth: MuJoCo's own kinematics with the joints set. */
            tp_sim_reset_joints(s, target);
            tp_pose site;
            assert_int_equal(tp_sim_site_pose(s, side ? "right_ee" : "left_ee", &site), 0);
            assert_true(tp_v3_norm(tp_v3_sub(fk.p, site.p)) < 1e-9);
            assert_true(tp_quat_angle_between(fk.q, site.q) < 1e-7);
        }
    }
    tp_sim_destroy(s);
}

static void test_tracking_and_clamping(void **state)
{
    (void)state;
    tp_sim *s = load();
    double lo[28], hi[28], q0[28], cmd[28], q[28], qd[28];
    for (int i = 0; i < 28; i++)
        tp_sim_joint_limits(s, i, &lo[i], &hi[i]);
    tp_sim_read_state(s, q0, NULL);
    double max_err = 0;
    int worst = -1;
    const double dt = tp_sim_timestep(s);
    for (int k = 0; k < 1000; k++) { /* 2 s */
        double t = k * dt;
        for (int i = 0; i < 28; i++) {
            /* Arms swing 0.3 rad about a raised pose (clear of the table);
             * fingers sweep half their range. */
            static const double arm_mid[7] = {-0.6, 0.3, 0, 0, 0, 0, 0};
            double mid, amp;
            if (i < 14) {
                mid = arm_mid[i % 7] * (i >= 7 && i % 7 == 1 ? -1 : 1);
                amp = 0.3;
            } else {
                mid = 0.5 * (lo[i] + hi[i]);
                amp = 0.25 * (hi[i] - lo[i]);
            }
            double a = fmin(1.0, t / 0.5); /* ease in from the start pose */
            cmd[i] = (1 - a) * q0[i] + a * (mid + amp * sin(2 * M_PI * 0.5 * t + i));
        }
        tp_sim_set_targets(s, cmd);
        tp_sim_step(s);
        tp_sim_read_state(s, q, qd);
        if (t > 0.6)
            for (int i = 0; i < 28; i++)
                if (fabs(q[i] - cmd[i]) > max_err) {
                    max_err = fabs(q[i] - cmd[i]);
                    worst = i;
                }
    }
    printf("joint tracking: max error %.4f rad (%s)\n", max_err, worst >= 0 ? tp_sim_joint_name(s, worst) : "-");
    assert_true(max_err < 0.05);
    /* Out-of-range and NaN targets. */
    for (int i = 0; i < 28; i++)
        cmd[i] = 100.0;
    cmd[0] = NAN;
    tp_sim_set_targets(s, cmd);
    for (int k = 0; k < 1000; k++)
        tp_sim_step(s);
    tp_sim_read_state(s, q, NULL);
    for (int i = 1; i < 28; i++)
        if (q[i] > hi[i] + 0.02)
            fail_msg("%s at %.3f beyond its limit %.3f", tp_sim_joint_name(s, i), q[i], hi[i]);
    assert_true(isfinite(q[0]));
    tp_sim_destroy(s);
}

static void test_objects_rest(void **state)
{
    (void)state;
    tp_sim *s = load();
    tp_pose c0, c1;
    assert_int_equal(tp_sim_site_pose(s, "cube", &c0), 0);
    for (int k = 0; k < 500; k++)
        tp_sim_step(s);
    assert_int_equal(tp_sim_site_pose(s, "cube", &c1), 0);
    assert_true(fabs(c1.p.z - 0.97) < 0.003); /* resting on the table top at 0.95 */
    assert_true(tp_v3_norm(tp_v3_sub(c0.p, c1.p)) < 0.005);
    assert_int_equal(tp_sim_site_pose(s, "no_such_thing", &c1), -1);
    tp_sim_destroy(s);
}

static void test_render(void **state)
{
    (void)state;
    tp_sim *s = load();
    char err[256];
    tp_sim_renderer *r = tp_sim_renderer_create(s, "head_camera", 640, 480, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    uint8_t *a = malloc(640 * 480 * 3), *b = malloc(640 * 480 * 3);
    double qpos[64];
    tp_sim_copy_qpos(s, qpos);
    int64_t t0 = tp_now_ns();
    assert_int_equal(tp_sim_renderer_render(r, qpos, a), 0);
    int64_t t1 = tp_now_ns();
    printf("render 640x480: %.1f ms (first frame)\n", (t1 - t0) / 1e6);
    /* Not uniform: many distinct colours and a sane brightness. */
    long sum = 0;
    int distinct = 0;
    static unsigned char seen[4096];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 640 * 480; i++) {
        sum += a[3 * i] + a[3 * i + 1] + a[3 * i + 2];
        int key = (a[3 * i] >> 4) << 8 | (a[3 * i + 1] >> 4) << 4 | a[3 * i + 2] >> 4;
        if (!seen[key]++)
            distinct++;
    }
    double mean = sum / (640.0 * 480 * 3);
    printf("mean %.1f, %d distinct colours\n", mean, distinct);
    assert_true(mean > 20 && mean < 235);
    assert_true(distinct > 20);
    /* The red cube is in view: some strongly red pixels. */
    int red = 0;
    for (int i = 0; i < 640 * 480; i++)
        red += a[3 * i] > 120 && a[3 * i + 1] < 70 && a[3 * i + 2] < 70;
    assert_true(red > 50);
    /* Another pose renders differently. */
    qpos[0] += 0.8;
    qpos[3] += 0.8;
    qpos[7] -= 0.8;
    assert_int_equal(tp_sim_renderer_render(r, qpos, b), 0);
    long diff = 0;
    for (int i = 0; i < 640 * 480 * 3; i++)
        diff += a[i] != b[i];
    assert_true(diff > 1000);
    const char *dump = getenv("TELEOP_TEST_DUMP");
    if (dump) {
        FILE *f = fopen(dump, "wb");
        fprintf(f, "P6\n640 480\n255\n");
        fwrite(a, 1, 640 * 480 * 3, f);
        fclose(f);
    }
    free(a);
    free(b);
    tp_sim_renderer_destroy(r);
    tp_sim_destroy(s);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.xml\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_joints_and_limits), cmocka_unit_test(test_chain_matches_mujoco),
        cmocka_unit_test(test_tracking_and_clamping), cmocka_unit_test(test_objects_rest),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
