/* Config parser: values, and errors naming file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "teleop/config.h"
#include "teleop/text.h"

static const char *good = "# station\n"
                          "[session]\n"
                          "duration = 12.5   # seconds\n"
                          "task = \"pick # place\"\n"
                          "\n"
                          "[camera]   # the head camera\n"
                          "width=640\n"
                          "enabled = yes\n";

static void test_values(void **state)
{
    (void)state;
    char err[256];
    tp_config *c = tp_config_parse(good, "st.ini", err, sizeof err);
    assert_non_null(c);
    double d;
    long w;
    bool b;
    const char *s;
    assert_int_equal(tp_config_get_double(c, "session.duration", 20, 0, 100, &d, err, sizeof err), 0);
    assert_true(d == 12.5);
    assert_int_equal(tp_config_get_string(c, "session.task", "", &s, err, sizeof err), 0);
    assert_string_equal(s, "pick # place");
    assert_int_equal(tp_config_get_int(c, "camera.width", 0, 1, 4096, &w, err, sizeof err), 0);
    assert_int_equal(w, 640);
    assert_int_equal(tp_config_get_bool(c, "camera.enabled", false, &b, err, sizeof err), 0);
    assert_true(b);
    assert_int_equal(tp_config_get_double(c, "session.missing", 3.0, 0, 10, &d, err, sizeof err), 0);
    assert_true(d == 3.0);
    assert_int_equal(tp_config_check_unused(c, err, sizeof err), 0);
    tp_config_free(c);
    /* NULL config yields defaults. */
    assert_int_equal(tp_config_get_int(NULL, "a.b", 5, 0, 10, &w, err, sizeof err), 0);
    assert_int_equal(w, 5);
}

static void expect_parse_error(const char *text, const char *want)
{
    char err[256] = "";
    tp_config *c = tp_config_parse(text, "bad.ini", err, sizeof err);
    assert_null(c);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_parse_error("[a]\nx = 1\nnonsense\n", "bad.ini:3: expected 'key = value'");
    expect_parse_error("x = 1\n", "bad.ini:1: x: key outside any [section]");
    expect_parse_error("[a\n", "bad.ini:1: malformed section header");
    expect_parse_error("[a]\nbad key = 1\n", "bad.ini:2: [a] bad key: invalid key name");
    expect_parse_error("[a]\nb.c = 1\n", "bad.ini:2: [a] b.c: invalid key name");
}

static void test_value_errors(void **state)
{
    (void)state;
    char err[256];
    tp_config *c = tp_config_parse("[s]\n\nrate = fast\nn = 12x\nflag = maybe\nbig = 1e9\n", "v.ini", err,
                                   sizeof err);
    assert_non_null(c);
    double d;
    long n;
    bool b;
    assert_int_equal(tp_config_get_double(c, "s.rate", 1, 0, 10, &d, err, sizeof err), -1);
    assert_string_equal(err, "v.ini:3: [s] rate: expected a number, got 'fast'");
    assert_int_equal(tp_config_get_int(c, "s.n", 1, 0, 100, &n, err, sizeof err), -1);
    assert_string_equal(err, "v.ini:4: [s] n: expected an integer, got '12x'");
    assert_int_equal(tp_config_get_bool(c, "s.flag", false, &b, err, sizeof err), -1);
    assert_string_equal(err, "v.ini:5: [s] flag: expected true or false, got 'maybe'");
    assert_int_equal(tp_config_get_double(c, "s.big", 1, 0, 10, &d, err, sizeof err), -1);
    assert_string_equal(err, "v.ini:6: [s] big: 1e+09 is out of range [0, 10]");
    tp_config_free(c);
}

static void test_unknown_key(void **state)
{
    (void)state;
    char err[256];
    tp_config *c = tp_config_parse("[session]\nduration = 1\ndurration = 2\n", "u.ini", err, sizeof err);
    assert_non_null(c);
    double d;
    assert_int_equal(tp_config_get_double(c, "session.duration", 1, 0, 10, &d, err, sizeof err), 0);
    assert_int_equal(tp_config_check_unused(c, err, sizeof err), -1);
    assert_string_equal(err, "u.ini:3: [session] durration: unknown key");
    tp_config_free(c);
}

/* Dotted sections: [camera.head] keys are "camera.head.KEY"; sections are
 * listed in file order, once, even without keys. */
static void test_subsections(void **state)
{
    (void)state;
    char err[256];
    tp_config *c = tp_config_parse("[camera]\nfps = 30\n"
                                   "[camera.right_wrist]\nwidth = 320\n"
                                   "[camera.head]\n"
                                   "[cameras.other]\n"
                                   "[camera.right_wrist]\nheight = 240\n"
                                   "[camera.left.x]\nfps = 15\n",
                                   "cams.ini", err, sizeof err);
    assert_non_null(c);
    const char *names[2];
    assert_int_equal(tp_config_subsections(c, "camera", names, 2), 3);
    assert_string_equal(names[0], "right_wrist");
    assert_string_equal(names[1], "head");
    const char *all[8];
    assert_int_equal(tp_config_subsections(c, "camera", all, 8), 3);
    assert_string_equal(all[2], "left.x");
    assert_int_equal(tp_config_subsections(c, "cameras", all, 8), 1);
    assert_string_equal(all[0], "other");
    assert_int_equal(tp_config_subsections(c, "session", all, 8), 0);
    assert_int_equal(tp_config_subsections(NULL, "camera", all, 8), 0);
    long w, h;
    assert_int_equal(tp_config_get_int(c, "camera.right_wrist.width", 0, 1, 4096, &w, err, sizeof err), 0);
    assert_int_equal(tp_config_get_int(c, "camera.right_wrist.height", 0, 1, 4096, &h, err, sizeof err), 0);
    assert_int_equal(w, 320);
    assert_int_equal(h, 240);
    assert_int_equal(tp_config_check_unused(c, err, sizeof err), -1);
    assert_non_null(strstr(err, "cams.ini:2: [camera] fps: unknown key"));
    tp_config_free(c);
}

static void test_load_file(void **state)
{
    (void)state;
    char err[256];
    assert_null(tp_config_load("/nonexistent/teleop.ini", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/teleop.ini: cannot open"));
    char path[] = "/tmp/teleop-cfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(good, f);
    fclose(f);
    tp_config *c = tp_config_load(path, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(tp_config_name(c), path);
    tp_config_free(c);
    unlink(path);
}

/* Item 17: a UTF-8 BOM is accepted; bytes that are not UTF-8 and control
 * characters are refused with file and line, and never echoed raw. */
static void test_text_bytes(void **state)
{
    (void)state;
    char err[256];
    tp_config *c = tp_config_parse("\xEF\xBB\xBF[session]\ntask = caf\xC3\xA9\n", "bom.ini", err, sizeof err);
    assert_non_null(c);
    const char *s;
    assert_int_equal(tp_config_get_string(c, "session.task", "", &s, err, sizeof err), 0);
    assert_string_equal(s, "caf\xC3\xA9");
    tp_config_free(c);
    expect_parse_error("[session]\ntask = caf\xE9\n", "bad.ini:2: not valid UTF-8 text");
    expect_parse_error("[session]\ntask = a\x1b[2Jb\n", "bad.ini:2: control character (byte 0x1B)");
    expect_parse_error("[session]\ntask = a\x7f\n", "bad.ini:2: control character (byte 0x7F)");
    expect_parse_error("[session]\ntask = a\xC2\x9B" "b\n", "bad.ini:2: control character (byte 0x9B)");
    expect_parse_error("[s]\nx = \xED\xA0\x80\n", "bad.ini:2: not valid UTF-8"); /* a surrogate */
    expect_parse_error("[s]\nx = \xC0\xAF\n", "bad.ini:2: not valid UTF-8");     /* overlong '/' */
    /* CRLF line ends and tabs are whitespace. */
    c = tp_config_parse("[s]\r\nx\t=\t1\r\n", "crlf.ini", err, sizeof err);
    assert_non_null(c);
    long v;
    assert_int_equal(tp_config_get_int(c, "s.x", 0, 0, 9, &v, err, sizeof err), 0);
    assert_int_equal(v, 1);
    tp_config_free(c);
    /* Messages quoting a line escape what they quote. */
    err[0] = '\0';
    assert_null(tp_config_parse("[s]\n[a\x1b\n", "e.ini", err, sizeof err));
    assert_null(strchr(err, 0x1b));
}

static void test_text_checks(void **state)
{
    (void)state;
    char why[128], buf[64];
    assert_int_equal(tp_text_check("plain", 10, why, sizeof why), 0);
    assert_int_equal(tp_text_check("\xE4\xB8\xAD\xE6\x96\x87", 10, why, sizeof why), 0);
    assert_int_equal(tp_text_check("abcdefghijk", 10, why, sizeof why), -1);
    assert_string_equal(why, "11 bytes, the limit is 10");
    assert_int_equal(tp_text_check("a\nb", 10, why, sizeof why), -1);
    assert_string_equal(why, "contains a control character (byte 2)");
    assert_int_equal(tp_text_check("a\xff", 10, why, sizeof why), -1);
    assert_string_equal(why, "is not valid UTF-8 (byte 2)");
    assert_int_equal(tp_text_check("\xE4\xB8", 10, why, sizeof why), -1); /* cut through a character */
    assert_int_equal(tp_name_check("alice_B-2", 63, why, sizeof why), 0);
    static const char *const bad_names[] = {"", "-x", ".x", "a b", "a\nb", "a#", "a=b", "[a]", "a/b", "caf\xC3\xA9",
                                            "a.b", "0123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        if (tp_name_check(bad_names[i], 63, why, sizeof why) == 0)
            fail_msg("'%s' accepted as a name", bad_names[i]);
    assert_string_equal(tp_text_escape("a\x1b[0m\xff" "b", buf, sizeof buf), "a\\x1B[0m\\xFFb");
    assert_string_equal(tp_text_escape("\xC3\xA9t\xC3\xA9", buf, sizeof buf), "\xC3\xA9t\xC3\xA9");
    char small[8];
    tp_text_escape("abcdefghijkl", small, sizeof small);
    assert_string_equal(small, "abcd..."); /* 7 bytes and NUL */
}

/* The key-table engine on a struct of its own: every type, ranges, and the
 * one-line "FILE:LINE: [section] key: message". */
typedef struct demo {
    bool on;
    int count;
    double gain;
    const char *label;
    char tag[8];
    const char *mode;
    int level;
    const char *file;
} demo;

static const char *const modes[] = {"fast", "slow", NULL};
static const tp_config_key demo_keys[] = {
    {.name = "on", .type = TP_CFG_BOOL, .offset = offsetof(demo, on), .meaning = "m"},
    {.name = "count", .type = TP_CFG_INT, .offset = offsetof(demo, count), .min = 1, .max = 10, .meaning = "m"},
    {.name = "gain", .type = TP_CFG_DOUBLE, .offset = offsetof(demo, gain), .min = 0, .max = 2, .meaning = "m"},
    {.name = "label", .type = TP_CFG_TEXT, .offset = offsetof(demo, label), .max = 12, .meaning = "m"},
    {.name = "tag", .type = TP_CFG_NAME, .offset = offsetof(demo, tag), .size = 8, .meaning = "m"},
    {.name = "mode", .type = TP_CFG_ENUM, .offset = offsetof(demo, mode), .choices = modes, .meaning = "m"},
    {.name = "level", .type = TP_CFG_ENUM_INDEX, .offset = offsetof(demo, level), .choices = modes, .meaning = "m"},
    {.name = "file", .type = TP_CFG_PATH, .offset = offsetof(demo, file), .meaning = "m"},
};
#define DEMO_N (sizeof demo_keys / sizeof demo_keys[0])

static void expect_table_error(const char *text, const char *want)
{
    char err[512] = "";
    tp_config *c = tp_config_parse(text, "t.ini", err, sizeof err);
    assert_non_null(c);
    demo d = {.mode = "fast"};
    assert_int_equal(tp_config_apply_keys(c, "d", demo_keys, DEMO_N, &d, err, sizeof err), -1);
    tp_config_free(c);
    if (strcmp(err, want) != 0)
        fail_msg("error '%s', expected '%s'", err, want);
}

static void test_key_tables(void **state)
{
    (void)state;
    char err[512];
    tp_config *c = tp_config_parse("[d]\non = yes\ncount = 3\ngain = 1.25\nlabel = \" a # b \"\ntag = t-1\n"
                                   "mode = slow\nlevel = slow\nfile = /dev/null\n",
                                   "t.ini", err, sizeof err);
    assert_non_null(c);
    demo d = {.mode = "fast"};
    assert_int_equal(tp_config_apply_keys(c, "d", demo_keys, DEMO_N, &d, err, sizeof err), -1);
    assert_string_equal(err, "t.ini:9: [d] file: /dev/null: not a regular file");
    tp_config_free(c);

    c = tp_config_parse("[d]\non = yes\ncount = 3\ngain = 1.25\nlabel = \" a # b \"\ntag = t-1\nmode = slow\n"
                        "level = slow\n",
                        "t.ini", err, sizeof err);
    assert_int_equal(tp_config_apply_keys(c, "d", demo_keys, DEMO_N, &d, err, sizeof err), 0);
    assert_int_equal(tp_config_check_unused(c, err, sizeof err), 0);
    assert_true(d.on && d.count == 3 && d.gain == 1.25 && d.level == 1);
    assert_string_equal(d.label, " a # b ");
    assert_string_equal(d.tag, "t-1");
    assert_string_equal(d.mode, "slow");
    /* Written back and read again: the same values. */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    tp_config_write_keys(out, "d", demo_keys, DEMO_N, &d);
    fclose(out);
    tp_config_free(c);
    c = tp_config_parse(text, "back.ini", err, sizeof err);
    assert_non_null(c);
    demo e = {0};
    assert_int_equal(tp_config_apply_keys(c, "d", demo_keys, DEMO_N, &e, err, sizeof err), 0);
    assert_true(e.on && e.count == 3 && e.gain == 1.25 && e.level == 1 && e.file == NULL);
    assert_string_equal(e.label, " a # b ");
    assert_string_equal(e.tag, "t-1");
    assert_string_equal(e.mode, "slow");
    tp_config_free(c);
    free(text);

    expect_table_error("[d]\ncount = 11\n", "t.ini:2: [d] count: 11 is out of range [1, 10]");
    expect_table_error("[d]\ncount = 3x\n", "t.ini:2: [d] count: expected an integer, got '3x'");
    expect_table_error("[d]\ncount = 99999999999999999999\n",
                       "t.ini:2: [d] count: expected an integer, got '99999999999999999999'");
    expect_table_error("[d]\ngain = nan\n", "t.ini:2: [d] gain: expected a number, got 'nan'");
    expect_table_error("[d]\ngain = inf\n", "t.ini:2: [d] gain: expected a number, got 'inf'");
    expect_table_error("[d]\ngain = 1e400\n", "t.ini:2: [d] gain: expected a number, got '1e400'");
    expect_table_error("[d]\ngain = -0.5\n", "t.ini:2: [d] gain: -0.5 is out of range [0, 2]");
    expect_table_error("[d]\non = maybe\n", "t.ini:2: [d] on: expected true or false, got 'maybe'");
    expect_table_error("[d]\nlabel = thirteen char\n", "t.ini:2: [d] label: 13 bytes, the limit is 12");
    expect_table_error("[d]\ntag = a/b\n",
                       "t.ini:2: [d] tag: 'a/b' is not a name: byte 2 is not a letter, digit, '_' or '-' (ASCII)");
    expect_table_error("[d]\ntag = abcdefgh\n", "t.ini:2: [d] tag: 8 bytes, the limit is 7");
    expect_table_error("[d]\nmode = medium\n", "t.ini:2: [d] mode: 'medium' is not one of fast, slow");
    expect_table_error("[d]\n\nlevel = 0\n", "t.ini:3: [d] level: '0' is not one of fast, slow");
    char cwd[1024], want[1200];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(want, sizeof want, "t.ini:2: [d] file: %s/no-such-file.xml: No such file or directory", cwd);
    expect_table_error("[d]\nfile = no-such-file.xml\n", want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),       cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_value_errors), cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_load_file),    cmocka_unit_test(test_subsections),
        cmocka_unit_test(test_text_bytes),   cmocka_unit_test(test_text_checks),
        cmocka_unit_test(test_key_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
