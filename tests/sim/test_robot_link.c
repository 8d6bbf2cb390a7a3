/* The robot-link registry and the "sim" link: found by name, refused in one
 * line when unknown or when the control rate does not divide the physics
 * rate, and a command holds for one control period of simulated time, over
 * which the robot moves toward it; health counts what the loop did. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "teleop/controller.h" /* tp_control_flag */
#include "teleop/robot_link.h"

static const char *model_path;

static void unknown_link_names_the_known_ones(void **state)
{
    (void)state;
    assert_ptr_equal(tp_robot_link_find("sim"), &tp_sim_robot_link);
    assert_ptr_equal(tp_robot_link_find("unitree"), &tp_unitree_robot_link);
    assert_null(tp_robot_link_find("unitree-typo"));
    tp_robot_link link;
    char err[256] = "";
    tp_robot_link_config cfg = {.model_path = model_path, .control_hz = 500};
    assert_int_equal(tp_robot_link_open(&link, "unitree-typo", &cfg, err, sizeof err), -1);
    assert_string_equal(err, "robot link 'unitree-typo': no such link (known: sim, unitree)");
    assert_null(tp_robot_link_simulator(&link));
}

static void rate_not_dividing_physics_is_refused(void **state)
{
    (void)state;
    tp_robot_link link;
    char err[256] = "";
    tp_robot_link_config cfg = {.model_path = model_path, .control_hz = 333};
    assert_int_equal(tp_robot_link_open(&link, "sim", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "session.control_rate_hz: 333 Hz is not the model's physics rate"));
}

static void sim_link_commands_one_period_and_counts(void **state)
{
    (void)state;
    tp_robot_link link;
    char err[256] = "";
    tp_robot_link_config cfg = {.model_path = model_path, .control_hz = 500};
    assert_int_equal(tp_robot_link_open(&link, "sim", &cfg, err, sizeof err), 0);
    tp_sim *sim = tp_robot_link_simulator(&link);
    assert_non_null(sim);
    const tp_robot_link_ops *ops = link.ops;
    assert_string_equal(ops->name, "sim");
    assert_int_equal(ops->start(link.state, 0, err, sizeof err), 0);

    double q[TP_SIM_ACTION_DIMS], qd[TP_SIM_ACTION_DIMS], target[TP_SIM_ACTION_DIMS];
    assert_int_equal(ops->read_state(link.state, 0, q, qd), 0);
    /* Target: the right elbow bent 0.3 rad from where it is. */
    int elbow = -1;
    for (int i = 0; i < TP_SIM_ACTION_DIMS; i++)
        if (!strcmp(tp_sim_joint_name(sim, i), "right_elbow_joint"))
            elbow = i;
    assert_true(elbow >= 0);
    memcpy(target, q, sizeof target);
    target[elbow] += 0.3;
    const double q0 = q[elbow];
    const int64_t period = 2000000;
    for (int k = 0; k < 500; k++) {
        assert_int_equal(ops->read_state(link.state, k * period, q, qd), 0);
        assert_int_equal(ops->write_command(link.state, k * period, target, TP_CONTROL_ENGAGED), 0);
        /* each command advances the simulation exactly one control period */
        assert_float_equal(tp_sim_time(sim), (k + 1) * 0.002, 1e-9);
    }
    ops->read_state(link.state, 500 * period, q, qd);
    /* Position control under gravity settles short of the target (0.24 of
     * the 0.3 rad): the command moved the joint most of the way, not past. */
    assert_true(q[elbow] - q0 > 0.6 * 0.3);
    assert_true(q[elbow] - q0 < 1.05 * 0.3);

    tp_robot_link_health h;
    ops->health(link.state, 500 * period, &h); /* one second since start */
    assert_int_equal(h.states, 502);
    assert_int_equal(h.commands, 500);
    assert_float_equal(h.command_hz, 500.0, 1e-9);
    assert_float_equal(h.state_hz, 502.0, 1e-9);
    assert_int_equal(h.sequence_gaps, 0);
    assert_int_equal(h.crc_errors, 0);
    assert_false(h.state_stale);
    assert_int_equal(h.commands_refused, 0);
    assert_float_equal(h.blend_weight, 1.0, 0); /* the simulated arms are always the station's */
    tp_device_event ev[4];
    assert_int_equal(ops->events(link.state, ev, 4), 0);
    ops->stop(link.state);
    char line[256];
    ops->describe(link.state, line, sizeof line);
    assert_string_equal(line, "MuJoCo simulation of humanoid.xml, 1 physics step per 500 Hz control tick");
    tp_robot_link_close(&link);
    assert_null(link.ops);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_robot_link MODEL.xml\n");
        return 2;
    }
    model_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_link_names_the_known_ones),
        cmocka_unit_test(rate_not_dividing_physics_is_refused),
        cmocka_unit_test(sim_link_commands_one_period_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
