/* tp_motion_from_rows: an in-memory motion (an episode's operator stream)
 * samples exactly like the same frames loaded from CSV; bad rows are
 * refused with the row named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "teleop/motion.h"
#include "teleop/motion_demo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_rows_equal_csv(void **state)
{
    (void)state;
    char path[] = "/tmp/test_motion_rows.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[512];
    assert_int_equal(tp_motion_write_demo(path, 25, err, sizeof err), 0);
    tp_motion *csv = tp_motion_load(path, err, sizeof err);
    assert_non_null(csv);
    unlink(path);
    size_t n = tp_motion_frame_count(csv);
    double *t = malloc(n * sizeof *t);
    float *rows = malloc(n * TP_OPERATOR_DIMS * sizeof *rows);
    assert_non_null(t);
    assert_non_null(rows);
    /* Each frame sampled exactly at its time is the row itself. */
    for (size_t i = 0; i < n; i++) {
        t[i] = 100.0 + (double)i / 25.0; /* any origin: sampling is relative to the first row */
        tp_operator_frame f;
        memset(&f, 0, sizeof f);
        tp_motion_sample(csv, (double)i / 25.0, false, &f);
        tp_operator_pack(&f, rows + i * TP_OPERATOR_DIMS);
    }
    tp_motion *mem = tp_motion_from_rows(t, rows, n, "mem", err, sizeof err);
    assert_non_null(mem);
    assert_int_equal(tp_motion_frame_count(mem), n);
    assert_true(fabs(tp_motion_duration(mem) - tp_motion_duration(csv)) < 1e-9);
    for (int k = 0; k < 500; k++) {
        double s = k * 0.0437;
        for (int loop = 0; loop < 2; loop++) {
            tp_operator_frame a, b;
            memset(&a, 0, sizeof a);
            memset(&b, 0, sizeof b);
            tp_motion_sample(csv, s, loop, &a);
            tp_motion_sample(mem, s, loop, &b);
            float va[TP_OPERATOR_DIMS], vb[TP_OPERATOR_DIMS];
            tp_operator_pack(&a, va);
            tp_operator_pack(&b, vb);
            for (int d = 0; d < TP_OPERATOR_DIMS; d++)
                assert_true(fabsf(va[d] - vb[d]) <= 1e-6f);
        }
    }
    /* The rows were copied. */
    rows[0] = 1e9f;
    tp_operator_frame f;
    memset(&f, 0, sizeof f);
    tp_motion_sample(mem, 0, false, &f);
    assert_true(fabs(f.head.p.x) < 10);
    tp_motion_free(mem);
    tp_motion_free(csv);
    free(t);
    free(rows);
}

static void test_rows_errors(void **state)
{
    (void)state;
    char err[512];
    double t[3] = {0, 0.1, 0.1};
    float *rows = calloc(3 * TP_OPERATOR_DIMS, sizeof *rows);
    assert_non_null(rows);
    assert_null(tp_motion_from_rows(t, rows, 0, "ep.db: stream 'operator'", err, sizeof err));
    assert_string_equal(err, "ep.db: stream 'operator': no frames");
    assert_null(tp_motion_from_rows(t, rows, 3, "ep.db: stream 'operator'", err, sizeof err));
    assert_string_equal(err, "ep.db: stream 'operator': row 2: t 0.1 does not increase (previous 0.1)");
    t[2] = 0.2;
    rows[TP_OPERATOR_DIMS + 1] = NAN;
    assert_null(tp_motion_from_rows(t, rows, 3, "ep.db: stream 'operator'", err, sizeof err));
    assert_string_equal(err, "ep.db: stream 'operator': row 1: head.py is not a finite number");
    rows[TP_OPERATOR_DIMS + 1] = 0;
    tp_motion *m = tp_motion_from_rows(t, rows, 3, "ok", err, sizeof err);
    assert_non_null(m);
    tp_motion_free(m);
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_equal_csv),
        cmocka_unit_test(test_rows_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
