/* MJCF chains: the humanoid's arm by base and tip names equals the URDF's
 * G1 arm; bad descriptions are refused with clear errors.
 * Usage: test_mjcf MODELS_DIR */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "teleop/mjcf.h"
#include "teleop/urdf.h"

static const char *dir;

static void test_arm_matches_urdf(void **state)
{
    (void)state;
    char mjcf[1024], urdf[1024], err[512];
    snprintf(mjcf, sizeof mjcf, "%s/humanoid.xml", dir);
    snprintf(urdf, sizeof urdf, "%s/g1_upper_body.urdf", dir);
    tp_chain a, b;
    if (tp_mjcf_chain(mjcf, "torso_link", "left_hand_palm_link", &a, err, sizeof err) != 0)
        fail_msg("%s", err);
    tp_urdf *u = tp_urdf_load(urdf, err, sizeof err);
    assert_non_null(u);
    assert_int_equal(tp_urdf_chain(u, "torso_link", "left_hand_palm_link", &b, err, sizeof err), 0);
    tp_urdf_free(u);
    assert_int_equal(a.n, 7);
    assert_int_equal(b.n, 7);
    assert_true(fabs(a.max_velocity[0] - 37) < 1e-9);
    srand(5);
    for (int k = 0; k < 200; k++) {
        double q[7];
        for (int i = 0; i < 7; i++) {
            assert_string_equal(a.joint_name[i], b.joint_name[i]);
            q[i] = a.lower[i] + (a.upper[i] - a.lower[i]) * rand() / (double)RAND_MAX;
        }
        tp_pose pa = tp_chain_fk(&a, q), pb = tp_chain_fk(&b, q);
        assert_true(tp_v3_norm(tp_v3_sub(pa.p, pb.p)) < 1e-7);
        assert_true(tp_quat_angle_between(pa.q, pb.q) < 1e-6);
    }
    /* A site as the tip works too. */
    assert_int_equal(tp_mjcf_chain(mjcf, "torso_link", "right_ee", &a, err, sizeof err), 0);
    assert_int_equal(a.n, 7);
}

static void expect_error(const char *path, const char *base, const char *tip, const char *want)
{
    char err[512] = "";
    tp_chain c;
    assert_int_equal(tp_mjcf_chain(path, base, tip, &c, err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("'%s' does not contain '%s'", err, want);
    assert_null(strchr(err, '\n'));
}

static void test_errors(void **state)
{
    (void)state;
    char mjcf[1024];
    snprintf(mjcf, sizeof mjcf, "%s/humanoid.xml", dir);
    expect_error(mjcf, "no_such_body", "right_ee", "base body 'no_such_body' not found");
    expect_error(mjcf, "torso_link", "nowhere", "tip 'nowhere' is neither a site nor a body");
    expect_error(mjcf, "right_shoulder_pitch_link", "left_ee", "tip 'left_ee' is not below base body");
    char path[] = "/tmp/teleop-mjcf-XXXXXX.xml";
    int fd = mkstemps(path, 4);
    FILE *f = fdopen(fd, "w");
    fputs("<mujoco><worldbody><body name='base'><body name='slider'><joint name='rail' type='slide'/>"
          "<geom size='0.1'/><body name='tip'><joint name='j' type='hinge'/><geom size='0.1'/></body></body>"
          "</body></worldbody></mujoco>",
          f);
    fclose(f);
    expect_error(path, "base", "tip", "joint 'rail' on the chain base -> tip has unsupported type 'slide'");
    f = fopen(path, "w");
    fputs("<mujoco><worldbody><body name='base'>", f);
    fclose(f);
    expect_error(path, "base", "tip", "cannot load model");
    unlink(path);
    expect_error("/nonexistent/robot.xml", "a", "b", "/nonexistent/robot.xml: cannot load model");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_arm_matches_urdf), cmocka_unit_test(test_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
