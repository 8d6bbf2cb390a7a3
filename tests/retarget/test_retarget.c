/* Retargeting: IK convergence, limits, continuity, unreachable and NaN
 * targets on the G1 and Panda chains; calibration; finger flexion and the
 * Dex3-1 mapping; motion files. Usage: test_retarget MODELS_DIR TMPDIR_PARENT */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "teleop/calibration.h"
#include "teleop/handmodel.h"
#include "teleop/ik.h"
#include "teleop/motion.h"
#include "teleop/retarget.h"
#include "teleop/urdf.h"

static const char *models_dir;
static uint64_t rng = 99;
static double uni(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static void load_chain(const char *file, const char *base, const char *tip, tp_chain *c)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/%s", models_dir, file);
    tp_urdf *u = tp_urdf_load(path, err, sizeof err);
    if (!u)
        fail_msg("%s", err);
    if (tp_urdf_chain(u, base, tip, c, err, sizeof err) != 0)
        fail_msg("%s", err);
    tp_urdf_free(u);
}

static void random_q(const tp_chain *c, double *q)
{
    for (int i = 0; i < c->n; i++)
        q[i] = c->lower[i] + (c->upper[i] - c->lower[i]) * (0.05 + 0.9 * uni());
}

static void check_roundtrips(const tp_chain *c, const char *name)
{
    tp_ik_solver s;
    tp_ik_init(&s, c, NULL, NULL);
    int warm_ok = 0, cold_ok = 0;
    const int N = 500;
    for (int k = 0; k < N; k++) {
        double truth[TP_CHAIN_MAX_JOINTS], q[TP_CHAIN_MAX_JOINTS];
        random_q(c, truth);
        tp_pose target = tp_chain_fk(c, truth);
        for (int i = 0; i < c->n; i++) /* warm: the previous cycle was close */
            q[i] = fmin(c->upper[i], fmax(c->lower[i], truth[i] + 0.05 * (2 * uni() - 1)));
        tp_ik_result r = tp_ik_solve(&s, target, q);
        tp_pose got = tp_chain_fk(c, q);
        if (r.converged && tp_v3_norm(tp_v3_sub(got.p, target.p)) < 1e-4 &&
            tp_quat_angle_between(got.q, target.q) < 1e-3)
            warm_ok++;
        for (int i = 0; i < c->n; i++)
            assert_true(q[i] >= c->lower[i] && q[i] <= c->upper[i]);
        random_q(c, q); /* cold: anywhere */
        r = tp_ik_solve_cold(&s, target, q, 20000000LL, &rng);
        got = tp_chain_fk(c, q);
        if (r.converged && tp_v3_norm(tp_v3_sub(got.p, target.p)) < 1e-4)
            cold_ok++;
        for (int i = 0; i < c->n; i++)
            assert_true(q[i] >= c->lower[i] && q[i] <= c->upper[i]);
    }
    printf("%s: warm %d/%d, cold %d/%d converged\n", name, warm_ok, N, cold_ok, N);
    assert_true(warm_ok >= N - 1);
    assert_true(cold_ok >= N * 98 / 100);
}

static void test_ik_g1_and_panda(void **state)
{
    (void)state;
    tp_chain g1, panda;
    load_chain("g1_upper_body.urdf", "torso_link", "right_hand_palm_link", &g1);
    load_chain("panda_arm.urdf", "panda_link0", "panda_hand", &panda);
    check_roundtrips(&g1, "g1 right arm");
    check_roundtrips(&panda, "panda");
}

static void test_ik_unreachable_nan_continuity(void **state)
{
    (void)state;
    tp_chain c;
    load_chain("g1_upper_body.urdf", "torso_link", "left_hand_palm_link", &c);
    tp_ik_solver s;
    tp_ik_init(&s, &c, NULL, NULL);
    double q[7] = {0, 0.2, 0, 1.0, 0, 0, 0};
    /* 2 m away: finite, in limits, the hand as close as it gets. */
    tp_pose far = {tp_v3(2.0, 0.5, 0.2), tp_quat_identity()};
    tp_pose before = tp_chain_fk(&c, q);
    tp_ik_result r = tp_ik_solve(&s, far, q);
    assert_false(r.converged);
    tp_pose after = tp_chain_fk(&c, q);
    for (int i = 0; i < 7; i++)
        assert_true(isfinite(q[i]) && q[i] >= c.lower[i] && q[i] <= c.upper[i]);
    assert_true(tp_v3_norm(tp_v3_sub(after.p, far.p)) < tp_v3_norm(tp_v3_sub(before.p, far.p)));
    /* NaN target: the warm start comes back unchanged. */
    double keep[7];
    memcpy(keep, q, sizeof keep);
    tp_pose bad = {tp_v3(NAN, 0, 0), tp_quat_identity()};
    r = tp_ik_solve(&s, bad, q);
    assert_false(r.converged);
    assert_memory_equal(q, keep, sizeof keep);
    /* Singular configuration (arm straight): still finite and bounded. */
    double straight[7] = {0, 0, 0, 0, 0, 0, 0};
    tp_pose at = tp_chain_fk(&c, straight);
    at.p = tp_v3_add(at.p, tp_v3(0.05, 0, 0)); /* beyond the straight arm */
    r = tp_ik_solve(&s, at, straight);
    for (int i = 0; i < 7; i++)
        assert_true(isfinite(straight[i]));
    /* Continuity: along a smooth, reachable path (FK of a smooth joint
     * trajectory) the solution moves little per step. */
    double path_q[7];
    for (int i = 0; i < 7; i++)
        path_q[i] = (i == 0 ? -0.3 : i == 1 ? 0.3 : i == 3 ? 0.9 : 0) + 0.4 * sin(i);
    double worst = 0;
    for (int k = 1; k <= 500; k++) {
        double t = k / 500.0, gen[7];
        for (int i = 0; i < 7; i++)
            gen[i] = (i == 0 ? -0.3 : i == 1 ? 0.3 : i == 3 ? 0.9 : 0) + 0.4 * sin(2 * M_PI * t + i);
        tp_pose tgt = tp_chain_fk(&c, gen);
        double prev[7];
        memcpy(prev, path_q, sizeof prev);
        r = tp_ik_solve(&s, tgt, path_q);
        if (!r.converged)
            fail_msg("path step %d: position error %.5f m, rotation %.5f rad", k, r.position_error,
                     r.orientation_error);
        for (int i = 0; i < 7; i++)
            worst = fmax(worst, fabs(path_q[i] - prev[i]));
    }
    printf("continuity: largest joint step %.4f rad (the generating path moves <= 0.0051 rad per step)\n", worst);
    assert_true(worst < 0.05);
}

static void test_calibration(void **state)
{
    (void)state;
    tp_calibration cal;
    tp_calibration_default(&cal);
    /* 10 cm in front of the head (-Z in OpenXR) is 7 cm along +X of the robot. */
    tp_vec3 p = tp_calibration_point(&cal, tp_v3(0, 1.60, -0.10));
    assert_true(fabs(p.x - 0.13) < 1e-12 && fabs(p.y) < 1e-12 && fabs(p.z - 0.43) < 1e-12);
    p = tp_calibration_point(&cal, tp_v3(0.10, 1.50, 0)); /* right and down */
    assert_true(fabs(p.y + 0.07) < 1e-12 && fabs(p.z - 0.36) < 1e-12);
    tp_vec3 back = tp_calibration_point_inverse(&cal, p);
    assert_true(tp_v3_norm(tp_v3_sub(back, tp_v3(0.10, 1.50, 0))) < 1e-12);
    for (int side = 0; side < 2; side++) {
        tp_quat q = tp_quat_normalize((tp_quat){0.1, -0.4, 0.3, 0.8});
        tp_quat w = tp_retarget_ee_to_wrist(side, tp_retarget_wrist_to_ee(side, q));
        assert_true(tp_quat_angle_between(q, w) < 1e-9);
        /* A hand pointing forward (-Z in OpenXR) gives an end effector
         * whose +X points forward in the robot frame. */
        tp_quat ee = tp_retarget_wrist_to_ee(side, tp_quat_identity());
        tp_vec3 x = tp_quat_rotate(ee, tp_v3(1, 0, 0));
        assert_true(fabs(x.x - 1) < 1e-9);
        /* With the OpenXR wrist at identity the palm (-Y of the hand) faces
         * down; the robot palm is -Y_ee on the left and +Y_ee on the right. */
        tp_vec3 palm = tp_quat_rotate(ee, tp_v3(0, side ? 1 : -1, 0));
        assert_true(fabs(palm.z + 1) < 1e-9);
    }
}

static void test_hand_flexion_and_dex3(void **state)
{
    (void)state;
    double lo_l[7] = {-1.04719755, -0.72431163, 0, -1.83259571, -2.0943951, -1.83259571, -2.0943951};
    double hi_l[7] = {1.04719755, 1.04719755, 2.0943951, 0.19198621, 0, 0.19198621, 0};
    double lo_r[7], hi_r[7];
    for (int i = 0; i < 7; i++) { /* the right hand mirrors the left */
        lo_r[i] = -hi_l[i];
        hi_r[i] = -lo_l[i];
    }
    tp_hand_desc d[2];
    tp_hand_desc_dex3(&d[0], 0, lo_l, hi_l);
    tp_hand_desc_dex3(&d[1], 1, lo_r, hi_r);
    for (int k = 0; k < 20; k++) {
        tp_pose wrist = {tp_v3(uni(), 1 + uni(), -uni()),
                         tp_quat_normalize((tp_quat){uni() - 0.5, uni() - 0.5, uni() - 0.5, uni() - 0.5})};
        for (int side = 0; side < 2; side++) {
            tp_hand_frame h;
            double flex[5];
            double open[5] = {0, 0, 0, 0, 0}, fist[5] = {1, 1, 1, 1, 1}, pinch[5] = {0.6, 0.6, 0, 0, 0};
            tp_hand_model_pose(side, wrist, open, &h);
            assert_true(tp_hand_flexion(&h, flex));
            for (int f = 0; f < 5; f++) /* metacarpals splay a few degrees */
                assert_true(flex[f] < 0.05);
            double q[7];
            assert_true(tp_hand_retarget(&d[side], &h, q));
            for (int i = 0; i < 7; i++)
                assert_true(fabs(q[i] - d[side].open[i]) < 0.05);
            tp_hand_model_pose(side, wrist, fist, &h);
            assert_true(tp_hand_flexion(&h, flex));
            for (int f = 0; f < 5; f++)
                assert_true(flex[f] > 0.98);
            assert_true(tp_hand_retarget(&d[side], &h, q));
            for (int i = 0; i < 7; i++) {
                assert_true(fabs(q[i] - d[side].closed[i]) < 0.05);
                assert_true(q[i] >= d[side].lower[i] && q[i] <= d[side].upper[i]);
            }
            /* Index curls negative on the left, positive on the right. */
            assert_true(side ? q[3] > 1.0 : q[3] < -1.0);
            tp_hand_model_pose(side, wrist, pinch, &h);
            assert_true(tp_hand_flexion(&h, flex));
            assert_true(fabs(flex[0] - 0.6) < 0.02 && fabs(flex[1] - 0.6) < 0.02 && flex[2] < 0.02);
            h.joints[TP_HJ_INDEX_TIP].valid = false;
            assert_false(tp_hand_flexion(&h, flex));
            h.joints[TP_HJ_INDEX_TIP].valid = true;
            h.active = false;
            assert_false(tp_hand_retarget(&d[side], &h, q));
        }
    }
}

static char tmpdir[] = "/tmp/teleop-motion-XXXXXX";

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void expect_load_error(const char *path, const char *want)
{
    char err[512] = "";
    tp_motion *m = tp_motion_load(path, err, sizeof err);
    tp_motion_free(m);
    assert_null(m);
    if (!strstr(err, want))
        fail_msg("'%s' does not contain '%s'", err, want);
}

static void test_motion_files(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(tmpdir));
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/demo.csv", tmpdir);
    assert_int_equal(tp_motion_write_demo(path, 30, err, sizeof err), 0);
    tp_motion *m = tp_motion_load(path, err, sizeof err);
    if (!m)
        fail_msg("%s", err);
    assert_int_equal(tp_motion_frame_count(m), 601);
    assert_true(fabs(tp_motion_duration(m) - 20.0) < 1e-9);
    tp_operator_frame a, b, mid;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&mid, 0, sizeof mid);
    tp_motion_sample(m, 5.0, false, &a);
    tp_motion_sample(m, 5.0 + 1.0 / 30, false, &b);
    tp_motion_sample(m, 5.0 + 0.5 / 30, false, &mid);
    tp_vec3 pa = a.hand[1].joints[TP_HJ_WRIST].pose.p, pb = b.hand[1].joints[TP_HJ_WRIST].pose.p;
    tp_vec3 pm = mid.hand[1].joints[TP_HJ_WRIST].pose.p;
    assert_true(tp_v3_norm(tp_v3_sub(pm, tp_v3_lerp(pa, pb, 0.5))) < 1e-6);
    assert_true(a.engaged && a.hand[0].active && a.hand[1].active && a.head_valid);
    /* Looping wraps time. */
    tp_operator_frame l;
    memset(&l, 0, sizeof l);
    tp_motion_sample(m, 25.0, true, &l);
    tp_motion_sample(m, 5.0, false, &a);
    assert_true(tp_v3_norm(tp_v3_sub(l.head.p, a.head.p)) < 1e-6);
    /* The demo grasps: right fingers open at first, closed mid-carry. */
    double flex[5];
    tp_motion_sample(m, 1.0, false, &a);
    assert_true(tp_hand_flexion(&a.hand[1], flex) && flex[1] < 0.2);
    tp_motion_sample(m, 10.0, false, &a);
    assert_true(tp_hand_flexion(&a.hand[1], flex) && flex[1] > 0.6);
    tp_motion_free(m);

    /* Malformed files. */
    snprintf(path, sizeof path, "%s/bad.csv", tmpdir);
    write_text(path, "time,head.px\n0,1\n");
    expect_load_error(path, "bad.csv:1: header must start with 't_s'");
    write_text(path, "t_s,head.px,head.pz\n");
    expect_load_error(path, "bad.csv:1: column 3 is 'head.pz', expected 'head.py'");
    /* A valid header, then bad rows. */
    char *text = malloc(200000);
    strcpy(text, "t_s");
    char name[64];
    for (int i = 0; i < TP_OPERATOR_DIMS; i++) {
        tp_operator_dim_name((size_t)i, name, sizeof name);
        strcat(text, ",");
        strcat(text, name);
    }
    strcat(text, "\n");
    size_t header_len = strlen(text);
    char row[8000];
    for (int variant = 0; variant < 3; variant++) {
        text[header_len] = '\0';
        for (int r = 0; r < 2; r++) {
            snprintf(row, sizeof row, "%s", variant == 2 ? (r ? "0.0" : "0.1") : (r ? "0.1" : "0.0"));
            for (int i = 0; i < TP_OPERATOR_DIMS; i++)
                strcat(row, variant == 0 && r == 1 && i == 30 ? ",abc" : ",0");
            if (variant == 1 && r == 1)
                row[strlen(row) - 2] = '\0'; /* one column short */
            strcat(row, "\n");
            strcat(text, row);
        }
        write_text(path, text);
        static const char *const want[] = {"bad.csv:3: column 32 (left.thumb_metacarpal.qx): not a number", "bad.csv:3: 491 columns, expected 492",
                                           "bad.csv:3: t_s 0 does not increase (previous 0.1)"};
        expect_load_error(path, want[variant]);
    }
    free(text);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
}

/* The demo motion is reachable: IK over every frame stays within tolerance. */
static void test_demo_reachable(void **state)
{
    (void)state;
    char path[] = "/tmp/teleop-demo-XXXXXX.csv", err[512];
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(tp_motion_write_demo(path, 60, err, sizeof err), 0);
    tp_motion *m = tp_motion_load(path, err, sizeof err);
    unlink(path);
    assert_non_null(m);
    tp_chain arms[2];
    load_chain("g1_upper_body.urdf", "torso_link", "left_hand_palm_link", &arms[0]);
    load_chain("g1_upper_body.urdf", "torso_link", "right_hand_palm_link", &arms[1]);
    tp_hand_desc hands[2];
    double lo[7] = {-1, -1, -1, -1, -1, -1, -1}, hi[7] = {1, 1, 1, 1, 1, 1, 1};
    tp_hand_desc_dex3(&hands[0], 0, lo, hi);
    tp_hand_desc_dex3(&hands[1], 1, lo, hi);
    tp_retarget_config cfg;
    tp_retarget_default_config(&cfg);
    tp_retargeter *rt = tp_retarget_create(&cfg, arms, hands, err, sizeof err);
    assert_non_null(rt);
    double action[28];
    tp_retarget_status st;
    tp_operator_frame f;
    memset(&f, 0, sizeof f);
    double worst = 0;
    size_t n = tp_motion_frame_count(m);
    double *errs = malloc(sizeof(double) * n * 2);
    for (size_t k = 0; k < n; k++) {
        tp_motion_sample(m, (double)k / 60.0, false, &f);
        tp_retarget_step(rt, &f, action, &st);
        for (int s = 0; s < 2; s++) {
            assert_true(st.arm_ok[s]);
            errs[2 * k + (size_t)s] = st.position_error[s];
            worst = fmax(worst, st.position_error[s]);
        }
    }
    for (size_t i = 1; i < 2 * n; i++) /* insertion sort is fine for this size */
        for (size_t j = i; j > 0 && errs[j - 1] > errs[j]; j--) {
            double t = errs[j];
            errs[j] = errs[j - 1];
            errs[j - 1] = t;
        }
    printf("demo motion IK: worst %.3f mm, median %.4f mm\n", worst * 1e3, errs[n] * 1e3);
    assert_true(worst < 5e-3);
    assert_true(errs[n] < 1e-3);
    free(errs);
    tp_retarget_destroy(rt);
    tp_motion_free(m);
}

/* A synthetic operator with known dimensions: calibration recovers them,
 * and a saved file loads back equal. */
static void test_operator_calibration(void **state)
{
    (void)state;
    enum { N = 900 };
    static tp_operator_frame f[N];
    const tp_vec3 head = tp_v3(0.2, 1.72, -0.1);
    const double arm = 0.68; /* head to fully extended wrist */
    double open[5] = {0, 0, 0, 0, 0};
    for (int k = 0; k < N; k++) {
        memset(&f[k], 0, sizeof f[k]);
        f[k].t_ns = (int64_t)k * 1000000000LL / 90;
        double t = k / 90.0;
        f[k].head = (tp_pose){tp_v3_add(head, tp_v3(0.002 * sin(3 * t), 0, 0)), tp_quat_identity()};
        f[k].head_valid = true;
        /* Neutral for 2 s (hands low), then both arms reach forward, fully
         * extended at t = 6 s. */
        double u = t < 2 ? 0 : fmin(1.0, (t - 2) / 4);
        for (int s2 = 0; s2 < 2; s2++) {
            tp_vec3 low = tp_v3(s2 ? 0.2 : -0.2, -0.55, -0.15);
            tp_vec3 out = tp_v3(s2 ? 0.15 : -0.15, -0.25, 0);
            out.z = -sqrt(arm * arm - out.x * out.x - out.y * out.y);
            tp_pose w = {tp_v3_add(f[k].head.p, tp_v3_lerp(low, out, u)), tp_quat_identity()};
            tp_hand_model_pose(s2, w, open, &f[k].hand[s2]);
        }
    }
    tp_operator_calibration cal;
    tp_operator_calibration_default(&cal);
    char err[512];
    assert_int_equal(tp_calibrate(f, N, 2.0, 0.55, tp_v3(0.06, 0, 0.43), &cal, err, sizeof err), 0);
    assert_true(tp_v3_norm(tp_v3_sub(cal.calibration.xr_anchor, head)) < 0.003);
    assert_true(fabs(cal.human_reach - arm) < 0.003);
    assert_true(fabs(cal.calibration.scale - 0.55 / arm) < 0.005);
    assert_true(fabs(cal.hand_length - 0.184) < 0.005);

    snprintf(cal.id, sizeof cal.id, "tester-1");
    snprintf(cal.operator_name, sizeof cal.operator_name, "tester");
    char path[] = "/tmp/teleop-cal-XXXXXX.ini";
    int fd = mkstemps(path, 4);
    close(fd);
    assert_int_equal(tp_calibration_save(path, &cal, err, sizeof err), 0);
    tp_operator_calibration back;
    tp_operator_calibration_default(&back);
    assert_int_equal(tp_calibration_load(path, &back, err, sizeof err), 0);
    assert_string_equal(back.id, "tester-1");
    assert_string_equal(back.operator_name, "tester");
    assert_true(fabs(back.calibration.scale - cal.calibration.scale) < 1e-8);
    assert_true(tp_v3_norm(tp_v3_sub(back.calibration.xr_anchor, cal.calibration.xr_anchor)) < 1e-8);
    assert_true(fabs(back.hand_length - cal.hand_length) < 1e-8);
    /* A bad value names file, line and key. */
    FILE *bad = fopen(path, "w");
    fputs("[calibration]\nid = x\nscale = -3\n", bad);
    fclose(bad);
    assert_int_equal(tp_calibration_load(path, &back, err, sizeof err), -1);
    assert_non_null(strstr(err, ":3: calibration.scale: -3 is out of range"));
    unlink(path);
    /* No head in the neutral window. */
    for (int k = 0; k < N; k++)
        f[k].head_valid = false;
    assert_int_equal(tp_calibrate(f, N, 2.0, 0.55, tp_v3(0.06, 0, 0.43), &cal, err, sizeof err), -1);
    assert_non_null(strstr(err, "no tracked head pose"));
    /* The robot's reach from its head: the G1 arm reaches about 0.6-0.7 m. */
    tp_chain c;
    load_chain("g1_upper_body.urdf", "torso_link", "right_hand_palm_link", &c);
    double r = tp_robot_reach(&c, tp_v3(0.06, 0, 0.43));
    assert_true(r > 0.55 && r < 0.8);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
        return 2;
    }
    models_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ik_g1_and_panda), cmocka_unit_test(test_ik_unreachable_nan_continuity),
        cmocka_unit_test(test_calibration),     cmocka_unit_test(test_hand_flexion_and_dex3),
        cmocka_unit_test(test_motion_files),    cmocka_unit_test(test_demo_reachable),
        cmocka_unit_test(test_operator_calibration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
