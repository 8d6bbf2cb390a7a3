/* The scene's free bodies for the sim_objects stream: the three objects on
 * the table, by name, with world poses in px py pz qx qy qz qw order that
 * agree with MuJoCo's own body poses (xpos, xquat), at the start and after
 * the objects have settled onto the table. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/sim.h"

static const char *model_path;

static void check_against_bodies(const tp_sim *sim)
{
    double poses[3 * TP_SIM_POSE_DIMS];
    tp_sim_free_body_poses(sim, poses);
    for (int i = 0; i < 3; i++) {
        tp_pose body;
        assert_int_equal(tp_sim_site_pose(sim, tp_sim_free_body_name(sim, i), &body), 0);
        const double *p = poses + i * TP_SIM_POSE_DIMS;
        assert_true(fabs(p[0] - body.p.x) < 1e-9 && fabs(p[1] - body.p.y) < 1e-9 && fabs(p[2] - body.p.z) < 1e-9);
        /* Same rotation (either sign), unit length, x y z w. */
        tp_quat q = {p[3], p[4], p[5], p[6]};
        assert_true(fabs(tp_quat_dot(q, q) - 1) < 1e-9);
        assert_true(fabs(fabs(tp_quat_dot(q, body.q)) - 1) < 1e-9);
    }
}

static void test_free_bodies(void **state)
{
    (void)state;
    char err[512];
    tp_sim *sim = tp_sim_create(model_path, err, sizeof err);
    if (!sim)
        fail_msg("%s", err);
    assert_int_equal(tp_sim_free_body_count(sim), 3);
    assert_string_equal(tp_sim_free_body_name(sim, 0), "cube");
    assert_string_equal(tp_sim_free_body_name(sim, 1), "can");
    assert_string_equal(tp_sim_free_body_name(sim, 2), "block");
    assert_null(tp_sim_free_body_name(sim, 3));
    double poses[3 * TP_SIM_POSE_DIMS];
    tp_sim_free_body_poses(sim, poses);
    /* The cube starts at (0.30, -0.15) on the table top (z 0.95 + 0.02), level. */
    assert_true(fabs(poses[0] - 0.30) < 1e-6 && fabs(poses[1] + 0.15) < 1e-6);
    assert_true(fabs(poses[2] - 0.97) < 0.01);
    assert_true(fabs(poses[6] - 1) < 1e-6); /* qw of the identity, last */
    check_against_bodies(sim);
    /* Settling (0.4 s of physics): the poses follow, still MuJoCo's. */
    for (int k = 0; k < 200; k++)
        tp_sim_step(sim);
    check_against_bodies(sim);
    tp_sim_destroy(sim);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.xml\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_free_bodies)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
