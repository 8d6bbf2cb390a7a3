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
    expect_parse_error("x = 1\n", "bad.ini:1: key 'x' is outside any [section]");
    expect_parse_error("[a\n", "bad.ini:1: malformed section header");
    expect_parse_error("[a]\nbad key = 1\n", "bad.ini:2: invalid key 'bad key'");
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
    assert_string_equal(err, "v.ini:3: s.rate: expected a number, got 'fast'");
    assert_int_equal(tp_config_get_int(c, "s.n", 1, 0, 100, &n, err, sizeof err), -1);
    assert_string_equal(err, "v.ini:4: s.n: expected an integer, got '12x'");
    assert_int_equal(tp_config_get_bool(c, "s.flag", false, &b, err, sizeof err), -1);
    assert_string_equal(err, "v.ini:5: s.flag: expected true or false, got 'maybe'");
    assert_int_equal(tp_config_get_double(c, "s.big", 1, 0, 10, &d, err, sizeof err), -1);
    assert_string_equal(err, "v.ini:6: s.big: 1e+09 is out of range [0, 10]");
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
    assert_string_equal(err, "u.ini:3: unknown key 'session.durration'");
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
    assert_non_null(strstr(err, "cams.ini:2: unknown key 'camera.fps'"));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),       cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_value_errors), cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_load_file),    cmocka_unit_test(test_subsections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
