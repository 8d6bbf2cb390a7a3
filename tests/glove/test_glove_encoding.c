/* The OpenGloves alpha encoding parser on real firmware lines and on bad
 * ones (each with its reject reason), the feedback line, and the glove
 * calibration (apply in both orientations, clamping, ini round trip). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "teleop/glove.h"

static int parse(const char *line, int32_t max_value, tp_glove_sample *s, tp_glove_reject *why, char *msg)
{
    return tp_glove_parse_line(line, strlen(line), max_value, s, why, msg, 128);
}

static void test_basic_10bit(void **state)
{
    (void)state;
    tp_glove_sample s;
    tp_glove_reject why;
    char msg[128];
    /* The firmware's encoder without splay: A%dB%dC%dD%dE%dF%dG%dP%d + buttons. */
    assert_int_equal(parse("A0B256C512D768E1023F512G511P100", 0, &s, &why, msg), 0);
    int32_t want[5] = {0, 256, 512, 768, 1023};
    for (int f = 0; f < 5; f++) {
        assert_int_equal(s.curl[f], want[f]);
        assert_int_equal(s.splay[f], -1);
        for (int j = 0; j < 4; j++)
            assert_int_equal(s.joint_curl[f][j], -1);
    }
    assert_int_equal(s.joystick[0], 512);
    assert_int_equal(s.joystick[1], 511);
    assert_int_equal(s.trigger, 100);
    assert_int_equal(s.buttons, 0);
    assert_int_equal(s.max_value, 1023);
    assert_int_equal(s.battery_percent, -1);
}

static void test_12bit_buttons_crlf(void **state)
{
    (void)state;
    tp_glove_sample s;
    tp_glove_reject why;
    char msg[128];
    assert_int_equal(parse("A4095B0C2048D1000E3000F2047G2047P4095HIJKLMNO\r", 0, &s, &why, msg), 0);
    assert_int_equal(s.max_value, 4095);
    assert_int_equal(s.curl[0], 4095);
    assert_int_equal(s.curl[4], 3000);
    assert_int_equal(s.buttons, 0xffu);
    assert_int_equal(parse("A1B2C3D4E5IM", 0, &s, &why, msg), 0);
    assert_int_equal(s.buttons, TP_GLOVE_BTN_TRIGGER | TP_GLOVE_BTN_PINCH);
    assert_int_equal(s.joystick[0], -1);
    assert_int_equal(s.trigger, -1);
    /* configured 12 bit: small values stay 12 bit */
    assert_int_equal(parse("A1B2C3D4E5", 4095, &s, &why, msg), 0);
    assert_int_equal(s.max_value, 4095);
}

static void test_splay_and_joints(void **state)
{
    (void)state;
    tp_glove_sample s;
    tp_glove_reject why;
    char msg[128];
    assert_int_equal(parse("A100B200C300D400E500(AB)511(BB)400(CB)300(DB)200(EB)100F512G512P0L\r", 1023, &s, &why,
                           msg),
                     0);
    int32_t splay[5] = {511, 400, 300, 200, 100};
    for (int f = 0; f < 5; f++)
        assert_int_equal(s.splay[f], splay[f]);
    assert_int_equal(s.buttons, TP_GLOVE_BTN_GRAB);
    char line[256] = "A10B20C30D40E50";
    for (int f = 0; f < 5; f++)
        for (int j = 0; j < 4; j++)
            snprintf(line + strlen(line), sizeof line - strlen(line), "(%cA%c)%d", 'A' + f, 'A' + j, f * 4 + j);
    assert_true(strlen(line) <= TP_GLOVE_LINE_MAX);
    assert_int_equal(parse(line, 0, &s, &why, msg), 0);
    for (int f = 0; f < 5; f++)
        for (int j = 0; j < 4; j++)
            assert_int_equal(s.joint_curl[f][j], f * 4 + j);
}

static void test_info_keys(void **state)
{
    (void)state;
    tp_glove_sample s;
    tp_glove_reject why;
    char msg[128];
    assert_int_equal(parse("(ZV)0.0.5(ZG)1(ZH)0A7B8C9D10E11", 0, &s, &why, msg), 0);
    assert_int_equal(s.curl[0], 7);
    assert_int_equal(s.curl[4], 11);
    assert_int_equal(parse("A7B8C9D10E11(ZV)", 0, &s, &why, msg), 0);
}

static void expect_reject(const char *line, int32_t max_value, tp_glove_reject want, const char *reason)
{
    tp_glove_sample s;
    tp_glove_reject why = TP_GLOVE_REJECT_COUNT;
    char msg[128];
    assert_int_equal(tp_glove_parse_line(line, strlen(line), max_value, &s, &why, msg, sizeof msg), -1);
    if (why != want || !strstr(msg, reason))
        fail_msg("'%s': got %s '%s', want %s '%s'", line, tp_glove_reject_name(why), msg, tp_glove_reject_name(want),
                 reason);
}

static void test_rejects(void **state)
{
    (void)state;
    expect_reject("hello", 0, TP_GLOVE_REJECT_SYNTAX, "syntax: stray character at byte 0");
    expect_reject("A1B2C3D4E5 ", 0, TP_GLOVE_REJECT_SYNTAX, "syntax: stray character at byte 10");
    expect_reject("A1B2C3D4E5(XY)7", 0, TP_GLOVE_REJECT_SYNTAX, "syntax: unknown key at byte 10");
    expect_reject("A1B2C3D4E5(ABCDEF)7", 0, TP_GLOVE_REJECT_SYNTAX, "syntax: long key without ')' at byte 10");
    expect_reject("A1B2C3D4E5H7", 0, TP_GLOVE_REJECT_SYNTAX, "syntax: a number after a button key at byte 11");
    expect_reject("A1B2C3D4E5HH", 0, TP_GLOVE_REJECT_SYNTAX, "syntax: key repeated at byte 11");
    expect_reject("A1A2B2C3D4E5", 0, TP_GLOVE_REJECT_SYNTAX, "syntax: key repeated at byte 2");
    expect_reject("AB2C3D4E5", 0, TP_GLOVE_REJECT_SYNTAX, "syntax: key without a value at byte 0");
    expect_reject("A1\rB2C3D4E5", 0, TP_GLOVE_REJECT_SYNTAX, "syntax: stray character at byte 2");
    expect_reject("A99999B0C0D0E0", 0, TP_GLOVE_REJECT_RANGE, "range: value above max_value at byte 1");
    expect_reject("A0123456B0C0D0E0", 0, TP_GLOVE_REJECT_RANGE, "range: number too long at byte 1");
    expect_reject("A1024B0C0D0E0", 1023, TP_GLOVE_REJECT_RANGE, "range: value above max_value at byte 1");
    expect_reject("A4096B0C0D0E0", 0, TP_GLOVE_REJECT_RANGE, "range: value above max_value at byte 1");
    expect_reject("A1B0C0D0E0(AB)1024", 1023, TP_GLOVE_REJECT_RANGE, "range: value above max_value at byte 14");
    expect_reject("A1B2C3D4E5", 2047, TP_GLOVE_REJECT_RANGE, "max_value must be 1023, 4095 or 0");
    expect_reject("A1B2C3D", 0, TP_GLOVE_REJECT_INCOMPLETE, "incomplete: key without a value at the end at byte 6");
    expect_reject("A1B2C3", 0, TP_GLOVE_REJECT_INCOMPLETE, "incomplete: not all five curls A..E at byte 6");
    expect_reject("A1B2C3D4E5(AB", 0, TP_GLOVE_REJECT_INCOMPLETE, "incomplete: unterminated '(' key at byte 10");
    expect_reject("", 0, TP_GLOVE_REJECT_INCOMPLETE, "incomplete: not all five curls");
    expect_reject("\r", 0, TP_GLOVE_REJECT_INCOMPLETE, "incomplete: not all five curls");
    char longline[TP_GLOVE_LINE_MAX + 8];
    memset(longline, 0, sizeof longline);
    strcpy(longline, "A1B2C3D4E5");
    while (strlen(longline) < TP_GLOVE_LINE_MAX + 1)
        strcat(longline, "H");
    longline[TP_GLOVE_LINE_MAX + 1] = '\0';
    expect_reject(longline, 0, TP_GLOVE_REJECT_TOO_LONG, "too_long: line longer than 150 bytes");
    /* exactly 150 bytes plus '\r' is not too long: it is a syntax error (repeated H) */
    longline[TP_GLOVE_LINE_MAX] = '\r';
    expect_reject(longline, 0, TP_GLOVE_REJECT_SYNTAX, "key repeated");
    assert_string_equal(tp_glove_reject_name(TP_GLOVE_REJECT_TOO_LONG), "too_long");
    assert_string_equal(tp_glove_reject_name(TP_GLOVE_REJECT_RANGE), "range");
}

static void test_feedback(void **state)
{
    (void)state;
    char buf[64];
    float f[5] = {0.0f, 0.25f, 0.5f, 1.0f, 0.999f};
    assert_int_equal(tp_glove_format_feedback(f, buf, sizeof buf), (int)strlen("A0B250C500D1000E999\n"));
    assert_string_equal(buf, "A0B250C500D1000E999\n");
    float g[5] = {-1.0f, 2.0f, 0.0f / 0.0f, 0.0005f, 0.0f};
    assert_int_equal(tp_glove_format_feedback(g, buf, sizeof buf), 14);
    assert_string_equal(buf, "A0B1000C0D1E0\n");
    assert_int_equal(tp_glove_format_feedback(g, buf, 10), -1);
}

static tp_glove_sample sample_with(int32_t curl, int32_t max_value)
{
    tp_glove_sample s;
    memset(&s, 0, sizeof s);
    for (int f = 0; f < 5; f++) {
        s.curl[f] = curl;
        s.splay[f] = -1;
        for (int j = 0; j < 4; j++)
            s.joint_curl[f][j] = -1;
    }
    s.joystick[0] = s.joystick[1] = -1;
    s.trigger = -1;
    s.max_value = max_value;
    return s;
}

static void test_calibration_apply(void **state)
{
    (void)state;
    tp_glove_calibration cal;
    tp_glove_default_calibration(&cal, 1023);
    assert_string_equal(cal.id, "default");
    tp_glove_hand h;
    tp_glove_sample s = sample_with(0, 1023);
    s.curl[1] = 1023;
    s.curl[2] = 1023 / 2;
    s.joystick[0] = 0;
    s.joystick[1] = 1023;
    s.trigger = 1023;
    s.buttons = TP_GLOVE_BTN_A;
    tp_glove_apply_calibration(&cal, &s, &h);
    assert_float_equal(h.flex[0], 0.0, 1e-12);
    assert_float_equal(h.flex[1], 1.0, 1e-12);
    assert_float_equal(h.flex[2], 511.0 / 1023.0, 1e-12);
    assert_float_equal(h.joint_flex[1][3], 1.0, 1e-12); /* no per-joint curls: the finger's value */
    assert_float_equal(h.joystick[0], -1.0, 1e-12);
    assert_float_equal(h.joystick[1], 1.0, 1e-12);
    assert_float_equal(h.trigger, 1.0, 1e-12);
    assert_int_equal(h.buttons, TP_GLOVE_BTN_A);

    /* open above closed (a sensor that reads high when straight) and clamping */
    cal.curl_open[0] = 900;
    cal.curl_closed[0] = 100;
    cal.curl_open[1] = 200;
    cal.curl_closed[1] = 800;
    cal.splay_together[2] = 600;
    cal.splay_spread[2] = 400;
    cal.joint_open[3][1] = 100;
    cal.joint_closed[3][1] = 300;
    s = sample_with(500, 1023);
    s.curl[1] = 50; /* below open: 0 */
    s.curl[4] = 1023;
    s.splay[2] = 450;
    s.joint_curl[3][1] = 400; /* beyond closed: 1 */
    s.joint_curl[3][2] = 0;
    tp_glove_apply_calibration(&cal, &s, &h);
    assert_float_equal(h.flex[0], 0.5, 1e-12);
    assert_float_equal(h.flex[1], 0.0, 1e-12);
    assert_float_equal(h.flex[4], 1.0, 1e-12);
    assert_float_equal(h.splay[2], 0.75, 1e-12);
    assert_float_equal(h.joint_flex[3][1], 1.0, 1e-12);
    assert_float_equal(h.joint_flex[3][2], 0.0, 1e-12);
    s.curl[0] = 1000; /* above open (900) with open > closed: 0 */
    tp_glove_apply_calibration(&cal, &s, &h);
    assert_float_equal(h.flex[0], 0.0, 1e-12);
    s.curl[0] = 0;
    tp_glove_apply_calibration(&cal, &s, &h);
    assert_float_equal(h.flex[0], 1.0, 1e-12);
}

static void test_calibration_round_trip(void **state)
{
    (void)state;
    char dir[] = "/tmp/teleop-glove-cal-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/glove-ada-left.ini", dir);
    tp_glove_calibration cal, back;
    tp_glove_default_calibration(&cal, 4095);
    snprintf(cal.id, sizeof cal.id, "glove-ada-left-20261206T150000");
    for (int f = 0; f < 5; f++) {
        cal.curl_open[f] = 3000 - f;
        cal.curl_closed[f] = 200 + f;
        cal.splay_together[f] = 1000 + f;
        cal.splay_spread[f] = 2000 + f;
        for (int j = 0; j < 4; j++) {
            cal.joint_open[f][j] = 10 * f + j;
            cal.joint_closed[f][j] = 4000 - 10 * f - j;
        }
    }
    assert_int_equal(tp_glove_calibration_save(path, &cal, err, sizeof err), 0);
    memset(&back, 0, sizeof back);
    if (tp_glove_calibration_load(path, &back, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_memory_equal(&cal, &back, sizeof cal);

    /* a bad value names the file and key */
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("index_open = 5000\n", f);
    fclose(f);
    assert_int_equal(tp_glove_calibration_load(path, &back, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "index_open"));
    f = fopen(path, "w");
    fputs("[glove]\nid = \"x\"\nthumb_opn = 3\n", f);
    fclose(f);
    assert_int_equal(tp_glove_calibration_load(path, &back, err, sizeof err), -1);
    assert_non_null(strstr(err, "thumb_opn"));
    f = fopen(path, "w");
    fputs("[glove]\nthumb_open = 3\n", f);
    fclose(f);
    assert_int_equal(tp_glove_calibration_load(path, &back, err, sizeof err), -1);
    assert_non_null(strstr(err, "id: missing"));
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_10bit),       cmocka_unit_test(test_12bit_buttons_crlf),
        cmocka_unit_test(test_splay_and_joints),  cmocka_unit_test(test_info_keys),
        cmocka_unit_test(test_rejects),           cmocka_unit_test(test_feedback),
        cmocka_unit_test(test_calibration_apply), cmocka_unit_test(test_calibration_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
