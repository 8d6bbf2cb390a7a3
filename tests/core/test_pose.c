/* Pose math against known values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "teleop/pose.h"

#define EPS 1e-12

static void assert_vec(tp_vec3 a, double x, double y, double z, double eps)
{
    assert_true(fabs(a.x - x) < eps);
    assert_true(fabs(a.y - y) < eps);
    assert_true(fabs(a.z - z) < eps);
}

static void test_rotate_known(void **state)
{
    (void)state;
    tp_quat qz = tp_quat_from_axis_angle(tp_v3(0, 0, 1), M_PI / 2);
    assert_vec(tp_quat_rotate(qz, tp_v3(1, 0, 0)), 0, 1, 0, EPS);
    tp_quat qx = tp_quat_from_axis_angle(tp_v3(2, 0, 0), M_PI); /* unnormalized axis */
    assert_vec(tp_quat_rotate(qx, tp_v3(0, 1, 0)), 0, -1, 0, EPS);
    /* 120 degrees about (1,1,1) cycles the axes x -> y -> z. */
    tp_quat q3 = tp_quat_from_axis_angle(tp_v3(1, 1, 1), 2 * M_PI / 3);
    assert_vec(tp_quat_rotate(q3, tp_v3(1, 0, 0)), 0, 1, 0, 1e-12);
    assert_vec(tp_quat_rotate(q3, tp_v3(0, 1, 0)), 0, 0, 1, 1e-12);
}

static void test_rpy_matches_urdf_convention(void **state)
{
    (void)state;
    /* URDF: R = Rz(yaw) Ry(pitch) Rx(roll). Pitch 90 deg sends x to -z. */
    tp_quat q = tp_quat_from_rpy(0, M_PI / 2, 0);
    assert_vec(tp_quat_rotate(q, tp_v3(1, 0, 0)), 0, 0, -1, EPS);
    /* roll then yaw: y -(roll 90)-> z -(yaw 90)-> z */
    tp_quat q2 = tp_quat_from_rpy(M_PI / 2, 0, M_PI / 2);
    assert_vec(tp_quat_rotate(q2, tp_v3(0, 1, 0)), 0, 0, 1, EPS);
    assert_vec(tp_quat_rotate(q2, tp_v3(1, 0, 0)), 0, 1, 0, EPS);
}

static void test_matrix_roundtrip(void **state)
{
    (void)state;
    srand(7);
    for (int i = 0; i < 1000; i++) {
        tp_quat q = tp_quat_normalize((tp_quat){rand() / (double)RAND_MAX - 0.5, rand() / (double)RAND_MAX - 0.5,
                                                rand() / (double)RAND_MAX - 0.5, rand() / (double)RAND_MAX - 0.5});
        tp_quat r = tp_quat_from_mat3(tp_quat_to_mat3(q));
        assert_true(tp_quat_angle_between(q, r) < 1e-7);
        tp_vec3 v = tp_v3(0.3, -1.2, 2.0);
        tp_vec3 a = tp_quat_rotate(q, v), b = tp_mat3_apply(tp_quat_to_mat3(q), v);
        assert_vec(a, b.x, b.y, b.z, 1e-12);
    }
}

static void test_rotvec_roundtrip(void **state)
{
    (void)state;
    tp_vec3 v = tp_v3(0.4, -0.2, 1.1);
    tp_vec3 r = tp_quat_to_rotvec(tp_quat_from_rotvec(v));
    assert_vec(r, v.x, v.y, v.z, 1e-12);
    /* q and -q give the same rotation vector (shortest rotation). */
    tp_quat q = tp_quat_from_rotvec(v);
    tp_vec3 r2 = tp_quat_to_rotvec((tp_quat){-q.x, -q.y, -q.z, -q.w});
    assert_vec(r2, v.x, v.y, v.z, 1e-12);
    assert_vec(tp_quat_to_rotvec(tp_quat_identity()), 0, 0, 0, EPS);
    tp_vec3 tiny = tp_quat_to_rotvec(tp_quat_from_rotvec(tp_v3(1e-14, 0, 0)));
    assert_true(fabs(tiny.x - 1e-14) < 1e-20);
}

static void test_pose_compose_inverse(void **state)
{
    (void)state;
    tp_pose a = {tp_v3(1, 2, 3), tp_quat_from_axis_angle(tp_v3(0, 0, 1), M_PI / 2)};
    tp_pose b = {tp_v3(1, 0, 0), tp_quat_identity()};
    /* b's origin (1,0,0) in a's frame lands at a.p + Rz90 (1,0,0) = (1,3,3). */
    tp_pose ab = tp_pose_mul(a, b);
    assert_vec(ab.p, 1, 3, 3, EPS);
    tp_pose id = tp_pose_mul(a, tp_pose_inverse(a));
    assert_vec(id.p, 0, 0, 0, EPS);
    assert_true(tp_quat_angle_between(id.q, tp_quat_identity()) < 1e-9);
    tp_vec3 p = tp_pose_apply(tp_pose_inverse(a), tp_pose_apply(a, tp_v3(0.5, -0.5, 9)));
    assert_vec(p, 0.5, -0.5, 9, 1e-12);
}

static void test_slerp(void **state)
{
    (void)state;
    tp_quat a = tp_quat_identity();
    tp_quat b = tp_quat_from_axis_angle(tp_v3(0, 1, 0), 1.0);
    tp_quat m = tp_quat_slerp(a, b, 0.5);
    assert_true(fabs(tp_quat_angle_between(a, m) - 0.5) < 1e-12);
    /* Shortest path even when b is given with the opposite sign. */
    tp_quat nb = {-b.x, -b.y, -b.z, -b.w};
    assert_true(fabs(tp_quat_angle_between(a, tp_quat_slerp(a, nb, 0.5)) - 0.5) < 1e-12);
    assert_true(tp_quat_angle_between(tp_quat_slerp(a, b, 1.0), b) < 1e-7);
}

static void test_angle_between(void **state)
{
    (void)state;
    tp_quat a = tp_quat_from_axis_angle(tp_v3(1, 0, 0), 0.3);
    tp_quat b = tp_quat_from_axis_angle(tp_v3(1, 0, 0), 1.0);
    assert_true(fabs(tp_quat_angle_between(a, b) - 0.7) < 1e-12);
    assert_true(tp_quat_angle_between(a, (tp_quat){-a.x, -a.y, -a.z, -a.w}) < 1e-7);
    assert_false(tp_v3_isfinite(tp_v3(NAN, 0, 0)));
    assert_false(tp_quat_isfinite((tp_quat){0, 0, INFINITY, 1}));
    assert_true(tp_quat_isfinite(tp_quat_normalize((tp_quat){0, 0, 0, 0})));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotate_known),      cmocka_unit_test(test_rpy_matches_urdf_convention),
        cmocka_unit_test(test_matrix_roundtrip),  cmocka_unit_test(test_rotvec_roundtrip),
        cmocka_unit_test(test_pose_compose_inverse), cmocka_unit_test(test_slerp),
        cmocka_unit_test(test_angle_between),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
