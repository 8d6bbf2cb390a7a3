/* tp_glove_fuse: the glove decides the fingers, the headset the wrist; a
 * glove alone still drives both hand retargeting methods (flexion and
 * vector) with the wrist invalid; a silent glove makes the hand inactive.
 * Usage: test_glove_fuse MODELS_DIR */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/glove.h"
#include "teleop/hand_vector.h"
#include "teleop/handmodel.h"
#include "teleop/retarget.h"

static const char *models_dir;

static const double FIST[5] = {1, 1, 1, 1, 1};
static const double HALF[5] = {0.3, 0.6, 0.5, 0.4, 0.7};

static tp_glove_hand glove_with(const double flex[5])
{
    tp_glove_hand g;
    memset(&g, 0, sizeof g);
    for (int f = 0; f < 5; f++) {
        g.flex[f] = flex[f];
        for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++)
            g.joint_flex[f][j] = flex[f];
    }
    return g;
}

static tp_pose some_wrist(void)
{
    double a = 0.7;
    return (tp_pose){tp_v3(0.25, -0.2, 1.1), tp_quat_normalize((tp_quat){sin(a / 2) * 0.6, sin(a / 2) * 0.8, 0, cos(a / 2)})};
}

static void load(int side, tp_hand_vector_desc *vd, tp_hand_desc *fd)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/g1_upper_body.urdf", models_dir);
    if (tp_hand_vector_desc_dex3(path, side, vd, err, sizeof err) != 0)
        fail_msg("%s", err);
    tp_hand_desc_dex3(fd, side, vd->lower, vd->upper);
}

/* The headset tracks the wrist (open hand): the fused hand is the model at
 * that wrist with the glove's flexions, wrist valid, flexion round-trips. */
static void test_tracked_wrist(void **state)
{
    (void)state;
    for (int side = 0; side < 2; side++) {
        tp_hand_frame headset, fused, expect;
        const double open[5] = {0};
        tp_hand_model_pose(side, some_wrist(), open, &headset);
        fused = headset;
        tp_glove_hand g = glove_with(HALF);
        tp_glove_fuse(side, &g, &fused);
        tp_hand_model_pose(side, some_wrist(), HALF, &expect);
        assert_true(fused.active);
        assert_true(fused.joints[TP_HJ_WRIST].valid);
        for (int j = 0; j < TP_HAND_JOINT_COUNT; j++) {
            assert_true(fused.joints[j].valid);
            assert_true(tp_v3_norm(tp_v3_sub(fused.joints[j].pose.p, expect.joints[j].pose.p)) < 1e-9);
        }
        double flex[5];
        assert_true(tp_hand_flexion(&fused, flex));
        for (int f = 0; f < 5; f++)
            assert_true(fabs(flex[f] - HALF[f]) < 0.02);
    }
}

/* No tracked wrist: the wrist joint is invalid (so retarget.c holds the arm)
 * and both finger methods give what they give for the same glove at a
 * tracked wrist. */
static void test_glove_alone(void **state)
{
    (void)state;
    char err[512];
    for (int side = 0; side < 2; side++) {
        tp_hand_vector_desc vd;
        tp_hand_desc fd;
        load(side, &vd, &fd);
        for (int pass = 0; pass < 2; pass++) {
            const double *flex = pass ? FIST : HALF;
            tp_glove_hand g = glove_with(flex);
            tp_hand_frame alone, tracked;
            memset(&alone, 0, sizeof alone); /* the headset lost the hand */
            tp_glove_fuse(side, &g, &alone);
            assert_true(alone.active);
            assert_false(alone.joints[TP_HJ_WRIST].valid);
            tp_hand_model_pose(side, some_wrist(), flex, &tracked);

            double qa[TP_HAND_DOF_MAX], qt[TP_HAND_DOF_MAX];
            assert_true(tp_hand_retarget(&fd, &alone, qa));
            assert_true(tp_hand_retarget(&fd, &tracked, qt));
            for (int i = 0; i < fd.dof; i++)
                assert_true(fabs(qa[i] - qt[i]) < 1e-9);

            tp_hand_vector *ha = tp_hand_vector_create(&vd, NULL, err, sizeof err);
            tp_hand_vector *ht = tp_hand_vector_create(&vd, NULL, err, sizeof err);
            assert_non_null(ha);
            assert_non_null(ht);
            assert_int_equal(tp_hand_vector_retarget(ha, &alone, qa), 0);
            assert_int_equal(tp_hand_vector_retarget(ht, &tracked, qt), 0);
            for (int i = 0; i < vd.dof; i++)
                assert_true(fabs(qa[i] - qt[i]) < 1e-6);
            tp_hand_vector_destroy(ha);
            tp_hand_vector_destroy(ht);
        }
    }
}

/* A headset hand with neither wrist nor palm is still refused by both
 * methods (the glove-alone path does not loosen the headset's checks). */
static void test_headset_checks_kept(void **state)
{
    (void)state;
    char err[512];
    tp_hand_vector_desc vd;
    tp_hand_desc fd;
    load(TP_RIGHT, &vd, &fd);
    tp_hand_frame h;
    tp_hand_model_pose(TP_RIGHT, some_wrist(), HALF, &h);
    h.joints[TP_HJ_WRIST].valid = false;
    h.joints[TP_HJ_PALM].valid = false;
    double q[TP_HAND_DOF_MAX];
    assert_false(tp_hand_retarget(&fd, &h, q));
    tp_hand_vector *hv = tp_hand_vector_create(&vd, NULL, err, sizeof err);
    assert_non_null(hv);
    assert_int_not_equal(tp_hand_vector_retarget(hv, &h, q), 0);
    tp_hand_model_pose(TP_RIGHT, some_wrist(), HALF, &h);
    h.joints[TP_HJ_WRIST].pose.p.x = NAN; /* a valid wrist with garbage: refused, the palm not used */
    assert_false(tp_hand_retarget(&fd, &h, q));
    assert_int_not_equal(tp_hand_vector_retarget(hv, &h, q), 0);
    tp_hand_model_pose(TP_RIGHT, some_wrist(), HALF, &h);
    h.joints[TP_HJ_INDEX_TIP].valid = false; /* a lost finger joint still fails */
    assert_false(tp_hand_retarget(&fd, &h, q));
    assert_int_not_equal(tp_hand_vector_retarget(hv, &h, q), 0);
    tp_hand_vector_destroy(hv);
}

/* Silent glove: the hand becomes inactive whatever the headset saw, and
 * both methods refuse it (the retargeting holds that side). */
static void test_silent(void **state)
{
    (void)state;
    char err[512];
    tp_hand_vector_desc vd;
    tp_hand_desc fd;
    load(TP_LEFT, &vd, &fd);
    tp_hand_frame h;
    tp_hand_model_pose(TP_LEFT, some_wrist(), HALF, &h);
    tp_glove_fuse(TP_LEFT, NULL, &h);
    assert_false(h.active);
    double q[TP_HAND_DOF_MAX];
    assert_false(tp_hand_retarget(&fd, &h, q));
    tp_hand_vector *hv = tp_hand_vector_create(&vd, NULL, err, sizeof err);
    assert_non_null(hv);
    assert_int_not_equal(tp_hand_vector_retarget(hv, &h, q), 0);
    tp_hand_vector_destroy(hv);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_glove_fuse MODELS_DIR\n");
        return 2;
    }
    models_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tracked_wrist),
        cmocka_unit_test(test_glove_alone),
        cmocka_unit_test(test_headset_checks_kept),
        cmocka_unit_test(test_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
