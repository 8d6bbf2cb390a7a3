/* The OpenGloves alpha encoding on lines alone; calibration; the fusion rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "teleop/glove.h"
#include "teleop/handmodel.h"
#include "teleop/retarget.h"

static int parse(const char *line, int32_t max, tp_glove_sample *s, tp_glove_reject *why)
{
    char msg[160];
    tp_glove_reject w = TP_GLOVE_REJECT_COUNT;
    int rc = tp_glove_parse_line(line, strlen(line), max, s, &w, msg, sizeof msg);
    if (why)
        *why = w;
    if (rc != 0)
        assert_true(strlen(msg) > 0);
    return rc;
}

/* The LucidGloves firmware's line: curls, joystick, analog trigger, buttons. */
static void test_firmware_line(void **state)
{
    (void)state;
    tp_glove_sample s;
    assert_int_equal(parse("A512B1023C0D17E900F511G600P0HJM", 0, &s, NULL), 0);
    int32_t curls[5] = {512, 1023, 0, 17, 900};
    for (int f = 0; f < 5; f++) {
        assert_int_equal(s.curl[f], curls[f]);
        assert_int_equal(s.splay[f], -1);
        for (int j = 0; j < 4; j++)
            assert_int_equal(s.joint_curl[f][j], -1);
    }
    assert_int_equal(s.joystick[0], 511);
    assert_int_equal(s.joystick[1], 600);
    assert_int_equal(s.trigger, 0);
    assert_int_equal(s.buttons, TP_GLOVE_BTN_JOYSTICK | TP_GLOVE_BTN_A | TP_GLOVE_BTN_PINCH);
    assert_int_equal(s.max_value, 1023);
    assert_int_equal(s.battery_percent, -1);
    assert_int_equal(s.info_hand, -1);
}

static void test_splay_joints_info(void **state)
{
    (void)state;
    tp_glove_sample s;
    const char *line = "A1B2C3D4E5(AB)100(BB)200(CB)300(DB)400(EB)500(AAA)10(AAD)13(EAC)42(ZV)7(ZH)1(ZG)3IKLNO\r";
    assert_int_equal(parse(line, 0, &s, NULL), 0);
    for (int f = 0; f < 5; f++) {
        assert_int_equal(s.curl[f], f + 1);
        assert_int_equal(s.splay[f], 100 * (f + 1));
    }
    assert_int_equal(s.joint_curl[0][0], 10);
    assert_int_equal(s.joint_curl[0][3], 13);
    assert_int_equal(s.joint_curl[4][2], 42);
    assert_int_equal(s.joint_curl[1][0], -1);
    assert_int_equal(s.info_firmware, 7);
    assert_int_equal(s.info_hand, 1);
    assert_int_equal(s.buttons, TP_GLOVE_BTN_TRIGGER | TP_GLOVE_BTN_B | TP_GLOVE_BTN_GRAB | TP_GLOVE_BTN_MENU |
                                    TP_GLOVE_BTN_CALIBRATE);
    assert_int_equal(s.joystick[0], -1);
    assert_int_equal(s.trigger, -1);
}

static void test_ranges(void **state)
{
    (void)state;
    tp_glove_sample s;
    tp_glove_reject why;
    /* Learning: a value above 1023 makes the glove 12-bit. */
    assert_int_equal(parse("A4095B0C0D0E0", 0, &s, NULL), 0);
    assert_int_equal(s.max_value, 4095);
    assert_int_equal(parse("A1023B0C0D0E0", 0, &s, NULL), 0);
    assert_int_equal(s.max_value, 1023);
    /* A 10-bit glove said so: 1024 is out of range; 12-bit: 4096 is. */
    assert_int_equal(parse("A1024B0C0D0E0", 1023, &s, &why), -1);
    assert_int_equal(why, TP_GLOVE_REJECT_RANGE);
    assert_int_equal(parse("A1024B0C0D0E0", 4095, &s, NULL), 0);
    assert_int_equal(parse("A0B0C0D0E4096", 0, &s, &why), -1);
    assert_int_equal(why, TP_GLOVE_REJECT_RANGE);
    assert_int_equal(parse("A0B0C0D0E0F9999999", 0, &s, &why), -1);
    assert_int_equal(why, TP_GLOVE_REJECT_RANGE);
    /* The splay and per-joint values count too. */
    assert_int_equal(parse("A0B0C0D0E0(BB)2000", 1023, &s, &why), -1);
    assert_int_equal(why, TP_GLOVE_REJECT_RANGE);
    assert_int_equal(parse("A0B0C0D0E0", 2047, &s, &why), -1);
    assert_int_equal(why, TP_GLOVE_REJECT_RANGE);
}

static void test_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        tp_glove_reject why;
    } cases[] = {
        {"", TP_GLOVE_REJECT_INCOMPLETE},
        {"A100B200C300D400", TP_GLOVE_REJECT_INCOMPLETE},  /* cut before E */
        {"A100B200C300D400E", TP_GLOVE_REJECT_INCOMPLETE}, /* cut in E */
        {"00B200C300D400E500", TP_GLOVE_REJECT_SYNTAX},    /* the line's start lost */
        {"A100B200C300D400E500(AB", TP_GLOVE_REJECT_INCOMPLETE},
        {"A100B200C300D400E500(AB)", TP_GLOVE_REJECT_INCOMPLETE},
        {"A100B200C300D400E500Q5", TP_GLOVE_REJECT_SYNTAX},
        {"A100B200C300D400E500(XB)5", TP_GLOVE_REJECT_SYNTAX},
        {"A100B200C300D400E500(AAE)5", TP_GLOVE_REJECT_SYNTAX},
        {"A100 B200C300D400E500", TP_GLOVE_REJECT_SYNTAX},
        {"A100B200C300D400E500A100", TP_GLOVE_REJECT_SYNTAX}, /* two lines run together */
        {"a100b200c300d400e500", TP_GLOVE_REJECT_SYNTAX},
        {"A100B200C300D400E500\x01", TP_GLOVE_REJECT_SYNTAX},
        {"A-1B200C300D400E500", TP_GLOVE_REJECT_SYNTAX},
        {"100&200&300&400&500&512&512&0&0&0&0&0&0", TP_GLOVE_REJECT_SYNTAX}, /* the legacy encoding */
        {"A100B200C300D400E500()", TP_GLOVE_REJECT_SYNTAX},
        {"A100B200C300D400E500(ABCD)1", TP_GLOVE_REJECT_SYNTAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tp_glove_sample s;
        tp_glove_reject why;
        assert_int_equal(parse(cases[i].line, 0, &s, &why), -1);
        if (why != cases[i].why)
            fail_msg("'%s': %s, expected %s", cases[i].line, tp_glove_reject_name(why),
                     tp_glove_reject_name(cases[i].why));
    }
    char longline[TP_GLOVE_LINE_MAX + 10];
    memset(longline, '1', sizeof longline - 1);
    longline[0] = 'A';
    longline[sizeof longline - 1] = 0;
    tp_glove_reject why;
    tp_glove_sample s;
    assert_int_equal(parse(longline, 0, &s, &why), -1);
    assert_int_equal(why, TP_GLOVE_REJECT_TOO_LONG);
    assert_string_equal(tp_glove_reject_name(TP_GLOVE_REJECT_TOO_LONG), "too_long");
}

static void test_feedback(void **state)
{
    (void)state;
    char buf[64];
    float f[5] = {0.0f, 0.5f, 1.0f, 2.0f, NAN};
    int n = tp_glove_format_feedback(f, buf, sizeof buf);
    assert_string_equal(buf, "A0B500C1000D1000E0\n");
    assert_int_equal(n, (int)strlen(buf));
    assert_int_equal(tp_glove_format_feedback(f, buf, 8), -1);
}

static void test_calibration(void **state)
{
    (void)state;
    tp_glove_calibration cal;
    tp_glove_default_calibration(&cal, 1023);
    assert_string_equal(cal.id, "default");
    /* A glove whose sensors read high when open (either orientation). */
    cal.curl_open[1] = 900;
    cal.curl_closed[1] = 100;
    cal.curl_open[2] = 200;
    cal.curl_closed[2] = 600;
    tp_glove_sample s;
    assert_int_equal(parse("A0B500C800D1023E511F1023G0P1023", 0, &s, NULL), 0);
    tp_glove_hand h;
    tp_glove_apply_calibration(&cal, &s, &h);
    assert_float_equal(h.flex[0], 0.0, 1e-12);
    assert_float_equal(h.flex[1], 0.5, 1e-12);
    assert_float_equal(h.flex[2], 1.0, 1e-12); /* 800 is past closed: clamped */
    assert_float_equal(h.flex[3], 1.0, 1e-12);
    assert_float_equal(h.flex[4], 511.0 / 1023.0, 1e-12);
    assert_float_equal(h.joint_flex[1][2], 0.5, 1e-12); /* no per-joint curls: the finger's */
    assert_float_equal(h.joystick[0], 1.0, 1e-12);
    assert_float_equal(h.joystick[1], -1.0, 1e-12);
    assert_float_equal(h.trigger, 1.0, 1e-12);

    char path[] = "/tmp/teleop-glove-cal-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    snprintf(cal.id, sizeof cal.id, "alice-left-1");
    cal.joint_closed[4][3] = 777;
    cal.splay_spread[2] = 1000;
    char err[256];
    assert_int_equal(tp_glove_calibration_save(path, &cal, err, sizeof err), 0);
    tp_glove_calibration back;
    if (tp_glove_calibration_load(path, &back, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_memory_equal(&back, &cal, sizeof cal);
    /* A bad value names the file and key. */
    FILE *f = fopen(path, "a");
    fprintf(f, "index_open = 5000\n");
    fclose(f);
    assert_int_equal(tp_glove_calibration_load(path, &back, err, sizeof err), -1);
    assert_non_null(strstr(err, "index_open"));
    unlink(path);
}

static void test_fuse(void **state)
{
    (void)state;
    tp_glove_hand g;
    memset(&g, 0, sizeof g);
    for (int f = 0; f < 5; f++)
        g.flex[f] = 1.0;
    /* With the headset's wrist: the wrist stays, the fingers are the glove's. */
    tp_hand_frame hand;
    double open[5] = {0, 0, 0, 0, 0};
    tp_pose wrist = {{0.2, 1.1, -0.3}, tp_quat_from_axis_angle((tp_vec3){0, 1, 0}, 0.4)};
    tp_hand_model_pose(TP_RIGHT, wrist, open, &hand);
    tp_glove_fuse(TP_RIGHT, &g, &hand);
    assert_true(hand.active);
    assert_false(hand.fingers_only);
    assert_true(hand.joints[TP_HJ_WRIST].valid);
    assert_float_equal(hand.joints[TP_HJ_WRIST].pose.p.x, 0.2, 1e-12);
    double flex[5];
    assert_true(tp_hand_flexion(&hand, flex));
    for (int f = 0; f < 5; f++)
        assert_float_equal(flex[f], 1.0, 1e-6);
    /* A glove alone: fingers, and no arm target. */
    memset(&hand, 0, sizeof hand);
    g.flex[1] = 0.0;
    tp_glove_fuse(TP_LEFT, &g, &hand);
    assert_true(hand.active);
    assert_true(hand.fingers_only);
    assert_true(tp_hand_flexion(&hand, flex));
    assert_true(flex[1] < 0.02); /* the model's straight finger keeps a slight natural bend */
    assert_float_equal(flex[2], 1.0, 1e-6);
    /* Silent: the hand is not known. */
    tp_glove_fuse(TP_LEFT, NULL, &hand);
    assert_false(hand.active);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_firmware_line), cmocka_unit_test(test_splay_joints_info),
        cmocka_unit_test(test_ranges),        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_feedback),      cmocka_unit_test(test_calibration),
        cmocka_unit_test(test_fuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
