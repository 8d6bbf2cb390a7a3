/* The simulated arms and hands follow the operator: the bundled motion is
 * replayed through retargeting, safety and MuJoCo physics (in simulated time,
 * so the result does not depend on machine load). Wrist position error must
 * stay below 1 cm wherever the target is reachable, and the fingers must move
 * through the grasp, with either hand method (flexion mapping, vector
 * retargeting). Usage: test_follow MODEL.xml MOTION.csv */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <string.h>

#include "teleop/controller.h"
#include "teleop/motion.h"
#include "teleop/retarget.h"
#include "teleop/sim.h"

static const char *model_path, *motion_path;

static void follow_motion(const char *hand_method)
{
    char err[512];
    tp_sim *sim = tp_sim_create(model_path, err, sizeof err);
    if (!sim)
        fail_msg("%s", err);
    tp_motion *motion = tp_motion_load(motion_path, err, sizeof err);
    if (!motion)
        fail_msg("%s", err);
    const int n = tp_sim_joint_count(sim);
    assert_int_equal(n, TP_SIM_ACTION_DIMS);
    double lower[TP_SIM_ACTION_DIMS], upper[TP_SIM_ACTION_DIMS];
    for (int i = 0; i < n; i++)
        tp_sim_joint_limits(sim, i, &lower[i], &upper[i]);
    tp_retarget_config rcfg;
    tp_retarget_default_config(&rcfg);
    tp_controller_config ccfg;
    tp_controller_default_config(&ccfg); /* the station's own control path */
    snprintf(ccfg.hand_method, sizeof ccfg.hand_method, "%s", hand_method);
    tp_controller *ctl = tp_controller_create_for_sim(sim, &ccfg, &rcfg, err, sizeof err);
    if (!ctl)
        fail_msg("%s", err);

    double q[TP_SIM_ACTION_DIMS], qd[TP_SIM_ACTION_DIMS], cmd[TP_SIM_ACTION_DIMS];
    tp_sim_read_state(sim, q, qd);
    tp_controller_reset(ctl, q);
    tp_pose torso;
    assert_int_equal(tp_sim_site_pose(sim, "torso_link", &torso), 0);
    tp_pose torso_inv = tp_pose_inverse(torso);

    const double dt = 1.0 / 500.0;
    const int substeps = (int)fmax(1.0, lround(dt / tp_sim_timestep(sim)));
    const double duration = tp_motion_duration(motion);
    assert_true(duration >= 15.0);
    double max_err[2] = {0, 0}, sum_err[2] = {0, 0}, worst_t[2] = {0, 0};
    long counted[2] = {0, 0}, unreachable[2] = {0, 0};
    double hand_min[TP_SIM_ACTION_DIMS], hand_max[TP_SIM_ACTION_DIMS];
    for (int i = 0; i < n; i++) {
        hand_min[i] = INFINITY;
        hand_max[i] = -INFINITY;
    }
    tp_operator_frame op;
    long steps = (long)(duration / dt);
    for (long k = 0; k < steps; k++) {
        double t = (double)k * dt;
        tp_motion_sample(motion, t, false, &op);
        op.t_ns = (int64_t)(t * 1e9);
        unsigned flags = tp_controller_step(ctl, &op, op.t_ns, cmd);
        const tp_retarget_status st = *tp_controller_status(ctl);
        /* Engaged from the first tick that samples the operator (the
         * upsampling latency after the first frame). */
        if (op.t_ns > tp_controller_upsampling_latency_ns(ctl))
            assert_true(flags & TP_CONTROL_ENGAGED);
        tp_sim_set_targets(sim, cmd);
        for (int j = 0; j < substeps; j++)
            tp_sim_step(sim);
        tp_sim_read_state(sim, q, qd);
        for (int i = 14; i < n; i++) {
            hand_min[i] = fmin(hand_min[i], q[i]);
            hand_max[i] = fmax(hand_max[i], q[i]);
        }
        if (t < 2.0) /* soft start: the ramp from the rest pose to the operator (velocity and acceleration bounded) */
            continue;
        for (int s = 0; s < 2; s++) {
            if (!st.arm_ok[s] || st.position_error[s] > 1e-3) {
                unreachable[s]++;
                continue;
            }
            tp_pose ee;
            assert_int_equal(tp_sim_site_pose(sim, s == 0 ? "left_ee" : "right_ee", &ee), 0);
            tp_vec3 ee_torso = tp_pose_apply(torso_inv, ee.p);
            /* Against the operator's own (calibrated) wrist, not the
             * filtered target: filter lag counts as error. */
            tp_vec3 target = tp_calibration_point(&rcfg.calibration, op.hand[s].joints[TP_HJ_WRIST].pose.p);
            double e = tp_v3_norm(tp_v3_sub(ee_torso, target));
            if (e > max_err[s]) {
                max_err[s] = e;
                worst_t[s] = t;
            }
            sum_err[s] += e;
            counted[s]++;
        }
    }
    for (int s = 0; s < 2; s++) {
        printf("%s wrist: %ld reachable frames, %ld not, error mean %.2f mm max %.2f mm (at %.2f s)\n",
               s ? "right" : "left", counted[s], unreachable[s],
               1e3 * sum_err[s] / (double)(counted[s] ? counted[s] : 1), 1e3 * max_err[s], worst_t[s]);
        /* The demo is designed reachable: nearly every frame must count. */
        assert_true(counted[s] > 0.95 * (double)(steps - 1000));
        assert_true(max_err[s] < 0.01);
    }
    /* Fingers move through the grasp: the right hand's index and middle
     * joints sweep a large part of their range. */
    for (int i = 21 + 3; i < 28; i++) {
        double range = upper[i] - lower[i];
        printf("%s: right hand joint %s swept %.2f of %.2f rad\n", hand_method, tp_sim_joint_name(sim, i), hand_max[i] - hand_min[i],
               range);
        assert_true(hand_max[i] - hand_min[i] > 0.4 * range);
    }
    tp_controller_destroy(ctl);
    tp_motion_free(motion);
    tp_sim_destroy(sim);
}

static void test_follow_flexion(void **state)
{
    (void)state;
    follow_motion("flexion");
}

static void test_follow_vector(void **state)
{
    (void)state;
    follow_motion("vector");
}

/* A hand description that is not the robot's hand, or an unknown method, is
 * refused at setup with a message naming it. */
static void test_hand_method_errors(void **state)
{
    (void)state;
    char err[512];
    tp_sim *sim = tp_sim_create(model_path, err, sizeof err);
    if (!sim)
        fail_msg("%s", err);
    tp_retarget_config rcfg;
    tp_retarget_default_config(&rcfg);
    tp_controller_config ccfg;
    tp_controller_default_config(&ccfg);
    snprintf(ccfg.hand_method, sizeof ccfg.hand_method, "magic");
    assert_null(tp_controller_create_for_sim(sim, &ccfg, &rcfg, err, sizeof err));
    assert_non_null(strstr(err, "'magic'"));
    snprintf(ccfg.hand_method, sizeof ccfg.hand_method, "vector");
    snprintf(ccfg.hand_urdf, sizeof ccfg.hand_urdf, "%s", "/nonexistent/hand.urdf");
    assert_null(tp_controller_create_for_sim(sim, &ccfg, &rcfg, err, sizeof err));
    printf("missing description: %s\n", err);
    assert_non_null(strstr(err, "/nonexistent/hand.urdf"));
    tp_sim_destroy(sim);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.xml MOTION.csv\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    motion_path = argv[2];
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_follow_flexion), cmocka_unit_test(test_follow_vector),
                                       cmocka_unit_test(test_hand_method_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
