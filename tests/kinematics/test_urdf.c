/* URDF loading: real descriptions load (missing meshes do not matter), chains
 * have the right joints and forward kinematics, bad input gets clear errors.
 * Usage: test_urdf MODELS_DIR */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/urdf.h"

static const char *models_dir;

static tp_urdf *load_model(const char *file)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/%s", models_dir, file);
    tp_urdf *u = tp_urdf_load(path, err, sizeof err);
    if (!u)
        fail_msg("%s", err);
    return u;
}

static void test_g1_arm_chain(void **state)
{
    (void)state;
    tp_urdf *u = load_model("g1_upper_body.urdf");
    assert_string_equal(tp_urdf_robot_name(u), "g1_upper_body");
    tp_chain c;
    char err[512];
    assert_int_equal(tp_urdf_chain(u, "torso_link", "left_hand_palm_link", &c, err, sizeof err), 0);
    assert_int_equal(c.n, 7);
    assert_string_equal(c.joint_name[0], "left_shoulder_pitch_joint");
    assert_string_equal(c.joint_name[6], "left_wrist_yaw_joint");
    assert_true(fabs(c.lower[3] - -1.0472) < 1e-12 && fabs(c.upper[3] - 2.0944) < 1e-12);
    assert_true(fabs(c.max_velocity[5] - 22) < 1e-12);
    /* At q = 0 the shoulder pitch and roll frame tilts cancel (0.27931 vs
     * -0.27925 rad about x), so the palm sits at the plain sum of offsets to
     * within the residual tilt. */
    double q[7] = {0};
    tp_pose tip = tp_chain_fk(&c, q);
    double x = 0.0039563 + 0.015783 + 0.100 + 0.038 + 0.046 + 0.0415;
    assert_true(fabs(tip.p.x - x) < 2e-3);
    assert_true(fabs(tip.p.z - (0.23778 - 0.013831 - 0.1032 - 0.080518 - 0.010)) < 0.02);
    assert_true(tip.p.y > 0.1); /* left side */
    /* Dex3 finger chain: palm -> index tip link, two joints. */
    assert_int_equal(tp_urdf_chain(u, "left_hand_palm_link", "left_hand_four_link", &c, err, sizeof err), 0);
    assert_int_equal(c.n, 2);
    tp_urdf_free(u);
}

static void test_panda_known_pose(void **state)
{
    (void)state;
    tp_urdf *u = load_model("panda_arm.urdf"); /* references package:// meshes that do not exist */
    tp_chain c;
    char err[512];
    assert_int_equal(tp_urdf_chain(u, "panda_link0", "panda_link8", &c, err, sizeof err), 0);
    assert_int_equal(c.n, 7);
    /* Franka's documented flange position at q = 0: (0.088, 0, 0.926), z down. */
    double q[7] = {0};
    tp_pose tip = tp_chain_fk(&c, q);
    assert_true(fabs(tip.p.x - 0.088) < 1e-9 && fabs(tip.p.y) < 1e-9 && fabs(tip.p.z - 0.926) < 1e-9);
    tp_vec3 z = tp_quat_rotate(tip.q, tp_v3(0, 0, 1));
    assert_true(fabs(z.z + 1) < 1e-9);
    tp_urdf_free(u);
}

static void expect_error(const char *xml, const char *base, const char *tip, const char *want)
{
    char err[512] = "";
    tp_urdf *u = tp_urdf_parse(xml, strlen(xml), "t.urdf", err, sizeof err);
    if (u) {
        tp_chain c;
        int rc = tp_urdf_chain(u, base, tip, &c, err, sizeof err);
        tp_urdf_free(u);
        assert_int_equal(rc, -1);
    }
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("<robot name='r'><link name='a'>", "a", "a", "t.urdf:1: malformed XML");
    expect_error("<robot name='r'><link name='a'/></robot>", "a", "b", "tip link 'b' not found");
    expect_error("<robot name='r'><link name='a'/><joint name='j' type='revolute'><parent link='a'/>"
                 "<child link='b'/><limit lower='0' upper='1' velocity='1'/></joint></robot>",
                 "a", "b", "joint 'j' refers to link 'b', which is not defined");
    expect_error("<robot name='r'><link name='a'/><link name='b'/><link name='c'/>"
                 "<joint name='j1' type='revolute'><parent link='a'/><child link='b'/>"
                 "<limit lower='0' upper='1' velocity='1'/></joint>"
                 "<joint name='j2' type='revolute'><parent link='a'/><child link='c'/>"
                 "<limit lower='0' upper='1' velocity='1'/></joint></robot>",
                 "b", "c", "tip link 'c' is not below base link 'b'");
    expect_error("<robot name='r'><link name='a'/><link name='b'/>"
                 "<joint name='slide' type='prismatic'><parent link='a'/><child link='b'/>"
                 "<limit lower='0' upper='1' velocity='1'/></joint></robot>",
                 "a", "b", "joint 'slide' on the chain a -> b has unsupported type 'prismatic'");
    expect_error("<robot name='r'><link name='a'/><link name='b'/>"
                 "<joint name='j' type='revolute'><parent link='a'/><child link='b'/></joint></robot>",
                 "a", "b", "joint 'j': revolute joint without <limit>");
    expect_error("<robot name='r'><link name='a'/><link name='b'/>"
                 "<joint name='j' type='hinge'><parent link='a'/><child link='b'/></joint></robot>",
                 "a", "b", "joint 'j': unknown type 'hinge'");
    expect_error("<robot name='r'><link name='a'/><link name='b'/>\n"
                 "<joint name='j' type='revolute'><parent link='a'/><child link='b'/>\n"
                 "<origin xyz='0 zero 0'/><limit lower='0' upper='1' velocity='1'/></joint></robot>",
                 "a", "b", "t.urdf:3: joint 'j': origin xyz '0 zero 0' is not three numbers");
    expect_error("<model/>", "a", "b", "root element is <model>");
    /* Item 13: a cycle of joints is refused at load, a link with two parents
     * too, and a chain too long is said to be so (not "not below"). */
    expect_error("<robot name='r'><link name='a'/><link name='b'/><link name='c'/>\n"
                 "<joint name='j1' type='revolute'><parent link='b'/><child link='c'/>"
                 "<limit lower='0' upper='1' velocity='1'/></joint>\n"
                 "<joint name='j2' type='revolute'><parent link='c'/><child link='b'/>"
                 "<limit lower='0' upper='1' velocity='1'/></joint></robot>",
                 "a", "b", "the joints form a cycle through link");
    expect_error("<robot name='r'><link name='a'/>"
                 "<joint name='j' type='fixed'><parent link='a'/><child link='a'/></joint></robot>",
                 "a", "a", "t.urdf:1: the joints form a cycle through link 'a' (joint 'j')");
    expect_error("<robot name='r'><link name='a'/><link name='b'/><link name='c'/>"
                 "<joint name='j1' type='fixed'><parent link='a'/><child link='c'/></joint>"
                 "<joint name='j2' type='fixed'><parent link='b'/><child link='c'/></joint></robot>",
                 "a", "c", "link 'c' has two parent joints ('j1' and 'j2')");
    {
        static char xml[200000];
        size_t n = (size_t)snprintf(xml, sizeof xml, "<robot name='long'>");
        for (int i = 0; i < 300; i++)
            n += (size_t)snprintf(xml + n, sizeof xml - n, "<link name='l%d'/>", i);
        for (int i = 1; i < 300; i++)
            n += (size_t)snprintf(xml + n, sizeof xml - n,
                                  "<joint name='j%d' type='fixed'><parent link='l%d'/><child link='l%d'/></joint>", i,
                                  i - 1, i);
        snprintf(xml + n, sizeof xml - n, "</robot>");
        expect_error(xml, "l0", "l299", "chain l0 -> l299 is longer than 256 links");
    }
    char err[256];
    assert_null(tp_urdf_load("/nonexistent.urdf", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent.urdf: cannot open"));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
        return 2;
    }
    models_dir = argv[1];
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_g1_arm_chain), cmocka_unit_test(test_panda_known_pose),
                                       cmocka_unit_test(test_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
