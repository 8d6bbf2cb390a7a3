/* Operator frame packing: round trip and dimension names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/operator.h"

static void test_pack_roundtrip(void **state)
{
    (void)state;
    tp_operator_frame f;
    memset(&f, 0, sizeof f);
    f.head = (tp_pose){{0.1, 1.6, -0.2}, {0, 0.2, 0, 0.9797958971}};
    f.head_valid = true;
    f.hand[1].active = true;
    for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
        f.hand[1].joints[j].pose.p = tp_v3(j * 0.01, 1.0, -0.3);
        f.hand[1].joints[j].pose.q = tp_quat_identity();
        f.hand[1].joints[j].radius = 0.008f;
        f.hand[1].joints[j].valid = j % 2 == 0;
    }
    f.ctrl[0].active = true;
    f.ctrl[0].squeeze = 0.75f;
    f.ctrl[0].buttons = TP_BTN_A | TP_BTN_MENU;
    f.ctrl[0].grip = (tp_pose){{-0.2, 1.1, -0.4}, {0.5, 0.5, 0.5, 0.5}};
    f.ctrl[0].grip_valid = true;
    f.ctrl[0].aim = (tp_pose){{-0.25, 1.15, -0.45}, {0, 0, 0, 1}};
    f.engaged = true;
    float buf[TP_OPERATOR_DIMS];
    tp_operator_pack(&f, buf);
    tp_operator_frame g;
    tp_operator_unpack(buf, 1234, &g);
    assert_int_equal(g.t_ns, 1234);
    assert_true(g.head_valid && g.engaged && g.hand[1].active && !g.hand[0].active);
    assert_float_equal(g.head.p.y, 1.6, 1e-6);
    assert_float_equal(g.hand[1].joints[25].pose.p.x, 0.25, 1e-6);
    assert_true(g.hand[1].joints[24].valid);
    assert_false(g.hand[1].joints[25].valid);
    assert_int_equal(g.ctrl[0].buttons, TP_BTN_A | TP_BTN_MENU);
    assert_float_equal(g.ctrl[0].squeeze, 0.75, 1e-7);
    assert_true(g.ctrl[0].grip_valid && !g.ctrl[0].aim_valid);
    assert_float_equal(g.ctrl[0].grip.p.z, -0.4, 1e-6);
    assert_float_equal(g.ctrl[0].grip.q.w, 0.5, 1e-7);
    assert_float_equal(g.ctrl[0].aim.p.x, -0.25, 1e-6);
}

static void test_dim_names(void **state)
{
    (void)state;
    char name[64];
    tp_operator_dim_name(0, name, sizeof name);
    assert_string_equal(name, "head.px");
    tp_operator_dim_name(7, name, sizeof name);
    assert_string_equal(name, "head.valid");
    tp_operator_dim_name(8, name, sizeof name);
    assert_string_equal(name, "left.hand_active");
    tp_operator_dim_name(9, name, sizeof name);
    assert_string_equal(name, "left.palm.px");
    tp_operator_dim_name(8 + 1 + 26 * 9, name, sizeof name);
    assert_string_equal(name, "right.hand_active");
    tp_operator_dim_name(TP_OPERATOR_DIMS - 1, name, sizeof name);
    assert_string_equal(name, "engaged");
    tp_operator_dim_name(TP_OPERATOR_DIMS - 2, name, sizeof name);
    assert_string_equal(name, "right.controller.aim.valid");
    tp_operator_dim_name(TP_OPERATOR_DIMS - 1 - 22, name, sizeof name);
    assert_string_equal(name, "right.controller.active");
    tp_operator_dim_name(TP_OPERATOR_DIMS - 1 - 22 + 6, name, sizeof name);
    assert_string_equal(name, "right.controller.grip.px");
    tp_operator_dim_name(TP_OPERATOR_DIMS - 1 - 22 + 13, name, sizeof name);
    assert_string_equal(name, "right.controller.grip.valid");
    /* Every name is distinct. */
    static char all[TP_OPERATOR_DIMS][64];
    for (int i = 0; i < TP_OPERATOR_DIMS; i++) {
        tp_operator_dim_name((size_t)i, all[i], 64);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(all[i], all[k]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pack_roundtrip), cmocka_unit_test(test_dim_names)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
