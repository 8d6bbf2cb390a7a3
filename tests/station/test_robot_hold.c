/* The control loop's answer to a robot whose state went stale (a real
 * robot's link lost, docs/devices/robot-links.md), through the real
 * controller on the simulated humanoid's model:
 *   - from the first stale tick the command holds exactly where it was, with
 *     TP_CONTROL_ROBOT_STALE set and ENGAGED cleared, however the operator
 *     moves;
 *   - when the state is fresh again the controller restarts from the
 *     robot's measured joints (the robot's own controller may have moved
 *     it): the first command is that pose, the next ones stay inside the
 *     velocity bound of it, and the operator engages again;
 *   - the flag's edges become the episode events robot_state_stale and
 *     robot_state_restored.
 * Usage: test_robot_hold MODEL.xml */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/controller.h"
#include "teleop/handmodel.h"
#include "teleop/sim.h"

static const char *model_path;
static const int64_t TICK = 2000000, FRAME = 11111111;

/* The operator's wrists circle slowly in front of the robot, hands open. */
static void frame_at(int64_t t_ns, tp_operator_frame *f)
{
    memset(f, 0, sizeof *f);
    f->t_ns = t_ns;
    f->engaged = true;
    double t = (double)t_ns / 1e9;
    const double open[5] = {0, 0, 0, 0, 0};
    for (int s = 0; s < 2; s++) {
        tp_vec3 p = tp_v3((s ? 0.15 : -0.15) + 0.05 * sin(2 * t), 1.30 + 0.05 * cos(2 * t), -0.35);
        tp_hand_model_pose(s, (tp_pose){p, tp_quat_from_axis_angle(tp_v3(1, 0, 0), -0.3)}, open, &f->hand[s]);
    }
}

static double max_abs_diff(const double *a, const double *b, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

static void test_hold_and_restart(void **state)
{
    (void)state;
    char err[512];
    tp_sim *sim = tp_sim_create(model_path, err, sizeof err);
    if (!sim)
        fail_msg("%s", err);
    tp_retarget_config rcfg;
    tp_retarget_default_config(&rcfg);
    tp_controller_config cfg;
    tp_controller_default_config(&cfg);
    tp_controller *c = tp_controller_create_for_sim(sim, &cfg, &rcfg, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    const int n = TP_SIM_ACTION_DIMS;
    double home[TP_SIM_ACTION_DIMS], cmd[TP_SIM_ACTION_DIMS], prev[TP_SIM_ACTION_DIMS];
    tp_sim_read_state(sim, home, NULL);
    tp_controller_reset(c, home);

    int64_t t = 1000000000LL, next_frame = t;
    tp_operator_frame f;
    unsigned flags = 0, before = 0;
    /* 1.5 s engaged: the arms leave home and follow the operator. */
    for (int k = 0; k < 750; k++, t += TICK) {
        for (; next_frame <= t; next_frame += FRAME) {
            frame_at(next_frame, &f);
            tp_controller_push_frame(c, &f, next_frame);
        }
        flags = tp_controller_step(c, NULL, t, cmd);
    }
    assert_true(flags & TP_CONTROL_ENGAGED);
    assert_false(flags & TP_CONTROL_ROBOT_STALE);
    assert_true(max_abs_diff(cmd, home, 14) > 0.05);
    memcpy(prev, cmd, sizeof cmd);
    before = flags;

    /* Stale: every command of 0.5 s equals the last one, bit for bit. */
    tp_controller_set_robot_stale(c, true, cmd);
    for (int k = 0; k < 250; k++, t += TICK) {
        for (; next_frame <= t; next_frame += FRAME) {
            frame_at(next_frame, &f);
            tp_controller_push_frame(c, &f, next_frame);
        }
        flags = tp_controller_step(c, NULL, t, cmd);
        assert_true(flags & TP_CONTROL_ROBOT_STALE);
        assert_false(flags & TP_CONTROL_ENGAGED);
        assert_memory_equal(cmd, prev, sizeof cmd);
        if (k == 0) {
            const char *kinds[16];
            int nk = tp_control_flag_events(flags, before, kinds, 16);
            bool seen = false;
            for (int i = 0; i < nk; i++)
                seen |= strcmp(kinds[i], "robot_state_stale") == 0;
            assert_true(seen);
        }
        before = flags;
    }

    /* Fresh again with the robot back at home (its own controller took the
     * arms while the link was lost): the commands start there. */
    tp_controller_set_robot_stale(c, false, home);
    double bound = 0;
    for (int i = 0; i < n; i++)
        bound = fmax(bound, (i < 14 ? cfg.arm_velocity_cap : cfg.hand_velocity_cap) * (double)TICK / 1e9);
    bool engaged_again = false;
    memcpy(prev, home, sizeof prev);
    for (int k = 0; k < 500; k++, t += TICK) {
        for (; next_frame <= t; next_frame += FRAME) {
            frame_at(next_frame, &f);
            tp_controller_push_frame(c, &f, next_frame);
        }
        flags = tp_controller_step(c, NULL, t, cmd);
        assert_false(flags & TP_CONTROL_ROBOT_STALE);
        if (k == 0) {
            const char *kinds[16];
            int nk = tp_control_flag_events(flags, before, kinds, 16);
            bool seen = false;
            for (int i = 0; i < nk; i++)
                seen |= strcmp(kinds[i], "robot_state_restored") == 0;
            assert_true(seen);
        }
        assert_true(max_abs_diff(cmd, prev, n) <= bound * (1 + 1e-9));
        memcpy(prev, cmd, sizeof cmd);
        engaged_again |= (flags & TP_CONTROL_ENGAGED) != 0;
    }
    assert_true(engaged_again);
    assert_true(max_abs_diff(cmd, home, 14) > 0.05); /* following the operator again */
    tp_controller_destroy(c);
    tp_sim_destroy(sim);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_robot_hold MODEL.xml\n");
        return 2;
    }
    model_path = argv[1];
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_hold_and_restart)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
