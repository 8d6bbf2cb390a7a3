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
#include "teleop/motion_demo.h"
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

/* The G1 arm chains transcribed from the URDF's numbers (torso_link → seven
 * revolute joints → *_hand_palm_link), independent of the URDF loader. */
static void g1_arm_facts(int side, tp_chain *c)
{
    static const char *const names[7] = {"shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow",
                                         "wrist_roll",     "wrist_pitch",   "wrist_yaw"};
    const double m = side ? -1.0 : 1.0; /* the right arm mirrors y */
    const double xyz[7][3] = {{0.0039563, side ? -0.10021 : 0.10022, 0.23778}, /* not quite symmetric */ {0, m * 0.038, -0.013831},
                              {0, m * 0.00624, -0.1032},          {0.015783, 0, -0.080518},
                              {0.100, m * 0.00188791, -0.010},    {0.038, 0, 0},
                              {0.046, 0, 0}};
    const double axis[7][3] = {{0, 1, 0}, {1, 0, 0}, {0, 0, 1}, {0, 1, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    const double lo[7] = {-3.0892, side ? -2.2515 : -1.5882, -2.618, -1.0472, -1.972222054, -1.614429558, -1.614429558};
    const double hi[7] = {2.6704, side ? 1.5882 : 2.2515, 2.618, 2.0944, 1.972222054, 1.614429558, 1.614429558};
    memset(c, 0, sizeof *c);
    c->n = 7;
    snprintf(c->base_name, sizeof c->base_name, "torso_link");
    snprintf(c->tip_name, sizeof c->tip_name, "%s_hand_palm_link", side ? "right" : "left");
    for (int i = 0; i < 7; i++) {
        snprintf(c->joint_name[i], sizeof c->joint_name[i], "%s_%s_joint", side ? "right" : "left", names[i]);
        c->origin[i].p = tp_v3(xyz[i][0], xyz[i][1], xyz[i][2]);
        c->origin[i].q = tp_quat_identity();
        c->axis[i] = tp_v3(axis[i][0], axis[i][1], axis[i][2]);
        c->lower[i] = lo[i];
        c->upper[i] = hi[i];
        c->max_velocity[i] = i < 5 ? 37 : 22;
    }
    /* rpy = Rz(yaw) Ry(pitch) Rx(roll); the right side mirrors roll and yaw. */
    c->origin[0].q = tp_quat_from_rpy(m * 0.27931, 5.4949e-05, m * -0.00019159);
    c->origin[1].q = tp_quat_from_rpy(m * -0.27925, 0, 0);
    c->tip = (tp_pose){tp_v3(0.0415, m * 0.003, 0), tp_quat_identity()};
}

static void test_g1_chain_facts(void **state)
{
    (void)state;
    /* The transcription and the URDF loader agree on both arms. */
    for (int side = 0; side < 2; side++) {
        tp_chain facts, loaded;
        g1_arm_facts(side, &facts);
        load_chain("g1_upper_body.urdf", "torso_link", side ? "right_hand_palm_link" : "left_hand_palm_link",
                   &loaded);
        assert_int_equal(loaded.n, 7);
        for (int i = 0; i < 7; i++) {
            assert_string_equal(facts.joint_name[i], loaded.joint_name[i]);
            assert_true(fabs(facts.lower[i] - loaded.lower[i]) < 1e-12 && fabs(facts.upper[i] - loaded.upper[i]) < 1e-12);
        }
        for (int k = 0; k < 50; k++) {
            double q[7];
            random_q(&facts, q);
            tp_pose a = tp_chain_fk(&facts, q), b = tp_chain_fk(&loaded, q);
            assert_true(tp_v3_norm(tp_v3_sub(a.p, b.p)) < 1e-10);
            assert_true(tp_quat_angle_between(a.q, b.q) < 1e-9);
        }
        /* Sanity of the facts: at zero the upper arm hangs, the forearm
         * points forward, the palm is on its own side at chest height. */
        double zero[7] = {0};
        tp_pose tip = tp_chain_fk(&facts, zero);
        assert_true(side ? tip.p.y < -0.1 : tip.p.y > 0.1);
        assert_true(tip.p.x > 0.2 && tip.p.z > -0.05 && tip.p.z < 0.1);
    }
}

/* Plain solves from the retargeter's rest posture (no restarts). */
static void test_ik_cold_from_rest(void **state)
{
    (void)state;
    for (int side = 0; side < 2; side++) {
        tp_chain c;
        g1_arm_facts(side, &c);
        const double rest[7] = {0, side ? -0.2 : 0.2, 0, 1.0, 0, 0, 0};
        tp_ik_params p;
        tp_ik_default_params(&p);
        p.max_iterations = 100; /* a cold start is a setup-time solve, not a tracking step */
        tp_ik_solver s;
        tp_ik_init(&s, &c, &p, rest);
        int ok = 0;
        const int N = 300;
        for (int k = 0; k < N; k++) {
            double truth[7], q[7];
            random_q(&c, truth);
            tp_pose target = tp_chain_fk(&c, truth);
            memcpy(q, rest, sizeof q);
            tp_ik_result r = tp_ik_solve(&s, target, q);
            tp_pose got = tp_chain_fk(&c, q);
            for (int i = 0; i < 7; i++)
                assert_true(isfinite(q[i]) && q[i] >= c.lower[i] && q[i] <= c.upper[i]);
            if (r.converged && tp_v3_norm(tp_v3_sub(got.p, target.p)) < 1e-4 &&
                tp_quat_angle_between(got.q, target.q) < 1e-3)
                ok++;
        }
        printf("%s arm, cold from rest: %d/%d converged\n", side ? "right" : "left", ok, N);
        assert_true(ok >= N * 8 / 10);
    }
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
    /* ... and the arm points at it: shoulder → hand along shoulder → target. */
    tp_vec3 shoulder = c.origin[0].p;
    double cosang = tp_v3_dot(tp_v3_normalize(tp_v3_sub(after.p, shoulder)), tp_v3_normalize(tp_v3_sub(far.p, shoulder)));
    printf("unreachable: hand %.3f m from the target, arm %.1f deg off its direction\n",
           tp_v3_norm(tp_v3_sub(after.p, far.p)), acos(fmin(1.0, cosang)) * 180 / M_PI);
    assert_true(cosang > cos(15 * M_PI / 180));
    /* Solving again every cycle from there: no jumps at the reach boundary.
     * The hand stays where it is while the stretched arm settles its
     * remaining freedom (orientation, posture) in shrinking steps. */
    double again[7], last_step = 0;
    memcpy(again, q, sizeof again);
    for (int k = 0; k < 12; k++) {
        double prev[7];
        memcpy(prev, again, sizeof prev);
        tp_pose hand_before = tp_chain_fk(&c, again);
        tp_ik_solve(&s, far, again);
        assert_true(tp_v3_norm(tp_v3_sub(tp_chain_fk(&c, again).p, hand_before.p)) < 0.005);
        last_step = 0;
        for (int i = 0; i < 7; i++)
            last_step = fmax(last_step, fabs(again[i] - prev[i]));
    }
    assert_true(last_step < 0.03);
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

/* Smallest singular value of a 6 x n matrix (row-major): the square root of
 * the smallest eigenvalue of J J^T, by cyclic Jacobi rotations (6 x 6,
 * symmetric; converges to machine precision in a few sweeps). */
static double sigma_min_rows(const double *jac, int rows, int n)
{
    double a[6][6];
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < rows; j++) {
            double s = 0;
            for (int k = 0; k < n; k++)
                s += jac[i * n + k] * jac[j * n + k];
            a[i][j] = s;
        }
    for (int sweep = 0; sweep < 60; sweep++)
        for (int p = 0; p < rows; p++)
            for (int r = p + 1; r < rows; r++) {
                if (fabs(a[p][r]) < 1e-300)
                    continue;
                double th = 0.5 * atan2(2 * a[p][r], a[r][r] - a[p][p]), cs = cos(th), sn = sin(th);
                for (int k = 0; k < rows; k++) {
                    double x = a[k][p], y = a[k][r];
                    a[k][p] = cs * x - sn * y;
                    a[k][r] = sn * x + cs * y;
                }
                for (int k = 0; k < rows; k++) {
                    double x = a[p][k], y = a[r][k];
                    a[p][k] = cs * x - sn * y;
                    a[r][k] = sn * x + cs * y;
                }
            }
    double m = INFINITY;
    for (int i = 0; i < rows; i++)
        m = fmin(m, a[i][i]);
    return sqrt(fmax(m, 0.0));
}

static double sigma_min_at(const tp_chain *c, const double *q)
{
    double jac[6 * TP_CHAIN_MAX_JOINTS];
    tp_chain_fk_jacobian(c, q, jac);
    return sigma_min_rows(jac, 6, c->n);
}

/* The wrist's own Jacobian: the angular rows of its three joints. */
static double wrist_sigma_min_at(const tp_chain *c, const double *q)
{
    double jac[6 * TP_CHAIN_MAX_JOINTS], w[3 * 3];
    tp_chain_fk_jacobian(c, q, jac);
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 3; k++)
            w[r * 3 + k] = jac[(3 + r) * c->n + 4 + k];
    return sigma_min_rows(w, 3, 3);
}

/* Follows targets one control cycle each (one warm-started solve per
 * target) and checks every solution: finite, inside the limits, and a step
 * from the previous cycle no larger than max_step. Returns the largest step;
 * *unconverged counts the targets not reached. */
static double follow(const tp_ik_solver *s, const tp_chain *c, const tp_pose *targets, int n, double *q,
                     double max_step, const char *what, int *unconverged)
{
    double worst = 0;
    *unconverged = 0;
    for (int k = 0; k < n; k++) {
        double prev[TP_CHAIN_MAX_JOINTS];
        memcpy(prev, q, sizeof(double) * (size_t)c->n);
        tp_ik_result r = tp_ik_solve(s, targets[k], q);
        *unconverged += !r.converged;
        for (int i = 0; i < c->n; i++) {
            if (!isfinite(q[i]) || q[i] < c->lower[i] || q[i] > c->upper[i])
                fail_msg("%s, cycle %d: %s = %g outside [%g, %g]", what, k, c->joint_name[i], q[i], c->lower[i],
                         c->upper[i]);
            worst = fmax(worst, fabs(q[i] - prev[i]));
        }
        if (worst > max_step)
            fail_msg("%s, cycle %d: a joint stepped %.4f rad in one cycle (at most %.3f)", what, k, worst, max_step);
    }
    return worst;
}

/* Issue 9 point 7: IK at truly singular poses. The stretched arm: the G1
 * elbow is straight near 1.42 rad (its zero is bent), found here as the
 * elbow angle minimising the Jacobian's smallest singular value, which must
 * be below 0.02 to prove the pose singular (the old "straight" case, all
 * zeros, has 0.083). The wrist: pitch at pi/2 lines the roll and yaw axes
 * up (the wrist's own Jacobian loses rank). At each, targets moving one
 * control cycle at a time: joint steps bounded per cycle, limits kept,
 * convergence wherever the target is reachable. */
#define SINGULAR_SIGMA 0.02
/* rad per cycle: at most one damped iteration's step (tp_ik_params.max_step,
 * 0.2), however many iterations a cycle takes near the singularity; an elbow
 * jump or a wrist flip is a radian or more. Reaching the last millimetre to
 * full stretch at 1 mm per cycle takes ~0.12 rad of elbow (the elbow angle
 * goes as the square root of the distance left). */
#define MAX_CYCLE_STEP 0.2

static void test_ik_singular(void **state)
{
    (void)state;
    tp_chain c;
    load_chain("g1_upper_body.urdf", "torso_link", "left_hand_palm_link", &c);
    tp_ik_solver s;
    tp_ik_init(&s, &c, NULL, NULL);
    /* The stretched arm: golden-section search over the elbow. */
    double q_s[7] = {0, 0.3, 0, 0, 0, 0, 0};
    double lo = 1.0, hi = 1.8;
    const double g = (sqrt(5.0) - 1) / 2;
    for (int it = 0; it < 60; it++) {
        double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
        q_s[3] = a;
        double fa = sigma_min_at(&c, q_s);
        q_s[3] = b;
        double fb = sigma_min_at(&c, q_s);
        if (fa < fb)
            hi = b;
        else
            lo = a;
    }
    q_s[3] = (lo + hi) / 2;
    double sigma = sigma_min_at(&c, q_s);
    printf("stretched arm: elbow %.4f rad, smallest singular value %.5f\n", q_s[3], sigma);
    assert_true(sigma < SINGULAR_SIGMA);
    tp_pose stretched = tp_chain_fk(&c, q_s);
    tp_vec3 shoulder = c.origin[0].p;
    tp_vec3 along = tp_v3_normalize(tp_v3_sub(stretched.p, shoulder));
    /* 1. Reaching out along the arm, 1 mm per cycle, from 10 cm short of
     * full stretch to the stretched pose itself (reachable all the way),
     * then 3 cm beyond it (out of reach) and back. */
    enum { OUT = 100, BEYOND = 30 };
    tp_pose path[2 * (OUT + BEYOND)];
    int n = 0;
    for (int k = -OUT; k <= BEYOND; k++) {
        path[n] = stretched;
        path[n].p = tp_v3_add(stretched.p, tp_v3_scale(along, 0.001 * k));
        n++;
    }
    double q[7];
    memcpy(q, q_s, sizeof q);
    q[3] = 0.6; /* bent */
    tp_ik_result r0 = tp_ik_solve_cold(&s, path[0], q, 50000000, &(uint64_t){7});
    assert_true(r0.converged);
    int missed_in = 0, missed_out = 0;
    double w1 = follow(&s, &c, path, OUT + 1, q, MAX_CYCLE_STEP, "reaching to the stretched pose", &missed_in);
    double err_at = tp_v3_norm(tp_v3_sub(tp_chain_fk(&c, q).p, stretched.p));
    printf("stretched pose reached within %.2f mm (sigma there %.5f), largest step %.4f rad, %d of %d cycles"
           " unconverged\n", 1e3 * err_at, sigma_min_at(&c, q), w1, missed_in, OUT + 1);
    double w2 = follow(&s, &c, path + OUT + 1, BEYOND, q, MAX_CYCLE_STEP, "beyond full stretch", &missed_out);
    /* Back in from beyond reach to 10 cm short. */
    tp_pose back[OUT + BEYOND];
    for (int k = 0; k < OUT + BEYOND; k++)
        back[k] = path[OUT + BEYOND - 1 - k];
    int missed_back = 0;
    double w3 = follow(&s, &c, back, OUT + BEYOND, q, MAX_CYCLE_STEP, "back from beyond reach", &missed_back);
    printf("beyond reach: largest step %.4f rad; back: %.4f rad, %d unconverged\n", w2, w3, missed_back);
    /* Reachable: the target is reached, at the latest a few cycles after it
     * stops moving (the approach to the singular pose itself is where the
     * damped solver may trail by a fraction of a millimetre). */
    assert_true(err_at < 0.002);
    assert_true(missed_in <= 5);
    assert_true(missed_back <= BEYOND + 5); /* its first BEYOND targets are out of reach */
    tp_ik_result r = {0};
    for (int k = 0; k < 20 && !r.converged; k++)
        r = tp_ik_solve(&s, path[OUT - 5], q);
    assert_true(r.converged);

    /* 2. The wrist singularity: a reachable path whose wrist pitch sweeps
     * through pi/2 (roll and yaw axes aligned) while the wrist roll turns. */
    double q_w[7] = {0.2, 0.4, 0.1, 0.9, 0.3, M_PI / 2, -0.2};
    double ws = wrist_sigma_min_at(&c, q_w);
    printf("wrist singularity: pitch %.4f rad, wrist Jacobian's smallest singular value %.2g, arm's %.4f\n", q_w[5], ws,
           sigma_min_at(&c, q_w));
    assert_true(ws < SINGULAR_SIGMA);
    enum { WN = 400 };
    tp_pose wpath[WN];
    for (int k = 0; k < WN; k++) {
        double t = (double)k / (WN - 1), gen[7];
        memcpy(gen, q_w, sizeof gen);
        gen[5] = M_PI / 2 + 0.3 * cos(M_PI * t); /* 1.87 -> pi/2 (t = 0.5) -> 1.27 */
        if (gen[5] > c.upper[5])
            gen[5] = c.upper[5];
        gen[4] = 0.3 + 0.4 * t;
        wpath[k] = tp_chain_fk(&c, gen);
    }
    memcpy(q, q_w, sizeof q);
    q[5] = c.upper[5];
    q[4] = 0.3;
    int missed_w = 0;
    double w4 = follow(&s, &c, wpath, WN, q, MAX_CYCLE_STEP, "through the wrist singularity", &missed_w);
    printf("wrist path: largest step %.4f rad, %d of %d cycles unconverged\n", w4, missed_w, WN);
    assert_true(missed_w <= WN / 50);
    r = tp_ik_solve(&s, wpath[WN / 2], q);
    for (int k = 0; k < 20 && !r.converged; k++)
        r = tp_ik_solve(&s, wpath[WN / 2], q);
    assert_true(r.converged); /* the singular wrist pose itself is reachable */
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
        /* C_side (end-effector axes in OpenXR hand-joint coordinates, as
         * columns) is a proper rotation, and wrist_to_ee is B R C. */
        const tp_mat3 B = {{{0, 0, -1}, {-1, 0, 0}, {0, 1, 0}}};
        tp_mat3 C = side ? tp_mat3_from_cols(tp_v3(0, 0, -1), tp_v3(0, -1, 0), tp_v3(-1, 0, 0))
                         : tp_mat3_from_cols(tp_v3(0, 0, -1), tp_v3(0, 1, 0), tp_v3(1, 0, 0));
        double det = C.m[0][0] * (C.m[1][1] * C.m[2][2] - C.m[1][2] * C.m[2][1]) -
                     C.m[0][1] * (C.m[1][0] * C.m[2][2] - C.m[1][2] * C.m[2][0]) +
                     C.m[0][2] * (C.m[1][0] * C.m[2][1] - C.m[1][1] * C.m[2][0]);
        assert_true(fabs(det - 1) < 1e-12);
        tp_mat3 want = tp_mat3_mul(tp_mat3_mul(B, tp_quat_to_mat3(q)), C);
        tp_mat3 got = tp_quat_to_mat3(tp_retarget_wrist_to_ee(side, q));
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 3; k++)
                assert_true(fabs(want.m[r][k] - got.m[r][k]) < 1e-9);
        tp_quat ee = tp_retarget_wrist_to_ee(side, tp_quat_identity());
        tp_vec3 x = tp_quat_rotate(ee, tp_v3(1, 0, 0));
        assert_true(fabs(x.x - 1) < 1e-9);
        /* With the OpenXR wrist at identity the palm (-Y of the hand) faces
         * down; the robot palm is -Y_ee on the left and +Y_ee on the right. */
        tp_vec3 palm = tp_quat_rotate(ee, tp_v3(0, side ? 1 : -1, 0));
        assert_true(fabs(palm.z + 1) < 1e-9);
        /* The back of the hand (+Y of the hand joint) is +Y_ee on the
         * left, -Y_ee on the right. */
        tp_quat w0 = tp_retarget_ee_to_wrist(side, tp_quat_identity());
        tp_vec3 back = tp_mat3_apply(B, tp_quat_rotate(w0, tp_v3(0, 1, 0)));
        assert_true(fabs(back.y - (side ? -1 : 1)) < 1e-9);
    }
    /* The head: R_robot = B R_xr, so a head looking ahead (-Z in OpenXR)
     * looks along +X of the torso, and its up (+Y) is +Z. */
    tp_quat head = tp_calibration_rotation(tp_quat_identity());
    assert_true(tp_v3_norm(tp_v3_sub(tp_quat_rotate(head, tp_v3(0, 0, -1)), tp_v3(1, 0, 0))) < 1e-12);
    assert_true(tp_v3_norm(tp_v3_sub(tp_quat_rotate(head, tp_v3(0, 1, 0)), tp_v3(0, 0, 1))) < 1e-12);
    /* Looking 20 degrees down in OpenXR (about +X, negative) looks down in the torso frame. */
    head = tp_calibration_rotation(tp_quat_from_axis_angle(tp_v3(1, 0, 0), -0.35));
    tp_vec3 fwd = tp_quat_rotate(head, tp_v3(0, 0, -1));
    assert_true(fwd.z < -0.3 && fwd.x > 0.9);
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
            /* Index pinch: only the robot's index finger closes (three/four
             * on the right, five/six on the left); the thumb turns toward it. */
            assert_true(tp_hand_retarget(&d[side], &h, q));
            int idx = side ? 3 : 5, mid = side ? 5 : 3;
            assert_true(fabs(q[idx] - d[side].open[idx]) > 0.5 && fabs(q[mid] - d[side].open[mid]) < 0.05);
            assert_true(q[0] < -0.1);
            h.joints[TP_HJ_INDEX_TIP].valid = false;
            assert_false(tp_hand_flexion(&h, flex));
            h.joints[TP_HJ_INDEX_TIP].valid = true;
            h.active = false;
            assert_false(tp_hand_retarget(&d[side], &h, q));
        }
    }
}

/* Both hands see the same motion mirrored: the joints mirror (the right's
 * index joints are the left's index joints negated), and the thumb's base
 * rotation toward the index really brings the thumb to the index finger of
 * the URDF's hand (palm → thumb two_link against the finger links). */
static void test_dex3_mirror_and_thumb(void **state)
{
    (void)state;
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/g1_upper_body.urdf", models_dir);
    tp_urdf *u = tp_urdf_load(path, err, sizeof err);
    if (!u)
        fail_msg("%s", err);
    tp_hand_desc d[2];
    tp_chain thumb[2], fing[2][2];
    for (int side = 0; side < 2; side++) {
        const char *sn = side ? "right" : "left";
        char base[64], tip[64];
        snprintf(base, sizeof base, "%s_hand_palm_link", sn);
        snprintf(tip, sizeof tip, "%s_hand_two_link", sn);
        assert_int_equal(tp_urdf_chain(u, base, tip, &thumb[side], err, sizeof err), 0);
        snprintf(tip, sizeof tip, "%s_hand_four_link", sn);
        assert_int_equal(tp_urdf_chain(u, base, tip, &fing[side][0], err, sizeof err), 0);
        snprintf(tip, sizeof tip, "%s_hand_six_link", sn);
        assert_int_equal(tp_urdf_chain(u, base, tip, &fing[side][1], err, sizeof err), 0);
        double lo[7], hi[7];
        lo[0] = thumb[side].lower[0], hi[0] = thumb[side].upper[0];
        lo[1] = thumb[side].lower[1], hi[1] = thumb[side].upper[1];
        lo[2] = thumb[side].lower[2], hi[2] = thumb[side].upper[2];
        for (int f = 0; f < 2; f++)
            for (int k = 0; k < 2; k++) {
                lo[3 + 2 * f + k] = fing[side][f].lower[k];
                hi[3 + 2 * f + k] = fing[side][f].upper[k];
            }
        tp_hand_desc_dex3(&d[side], side, lo, hi);
    }
    tp_urdf_free(u);
    for (int k = 0; k < 10; k++) {
        double flex[5] = {uni(), uni(), uni(), uni(), uni()};
        tp_hand_frame h;
        double q[2][7];
        for (int side = 0; side < 2; side++) {
            tp_pose wrist = {tp_v3(0, 1.2, -0.3), tp_quat_identity()};
            tp_hand_model_pose(side, wrist, flex, &h);
            assert_true(tp_hand_retarget(&d[side], &h, q[side]));
        }
        /* Thumb: rotation the same, flexion mirrored; index ↔ index. */
        assert_true(fabs(q[0][0] - q[1][0]) < 1e-9);
        assert_true(fabs(q[0][1] + q[1][1]) < 1e-9 && fabs(q[0][2] + q[1][2]) < 1e-9);
        for (int j = 0; j < 2; j++) {
            assert_true(fabs(q[0][5 + j] + q[1][3 + j]) < 1e-9); /* index */
            assert_true(fabs(q[0][3 + j] + q[1][5 + j]) < 1e-9); /* middle */
        }
    }
    for (int side = 0; side < 2; side++) {
        /* The closed thumb, turned toward the index, ends nearer the index
         * finger's middle phalanx than the middle finger's, and nearer than
         * with no rotation. */
        double tq[3] = {d[side].closed[0], d[side].closed[1], d[side].closed[2]};
        tp_vec3 t_idx = tp_chain_fk(&thumb[side], tq).p;
        tq[0] = 0;
        tp_vec3 t_mid0 = tp_chain_fk(&thumb[side], tq).p;
        double fq[2] = {0, 0};
        tp_vec3 index_p = tp_chain_fk(&fing[side][side ? 0 : 1], fq).p;
        tp_vec3 middle_p = tp_chain_fk(&fing[side][side ? 1 : 0], fq).p;
        double di = tp_v3_norm(tp_v3_sub(t_idx, index_p)), dm = tp_v3_norm(tp_v3_sub(t_idx, middle_p));
        double d0 = tp_v3_norm(tp_v3_sub(t_mid0, index_p));
        printf("%s thumb closed: %.1f mm from the index, %.1f mm from the middle (%.1f mm unrotated)\n",
               side ? "right" : "left", di * 1e3, dm * 1e3, d0 * 1e3);
        assert_true(di < dm && di < d0);
        /* The index finger is the one on +Z of the palm (thumb side in the
         * handshake pose). */
        assert_true(index_p.z > 0.02 && middle_p.z < -0.02);
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
    /* At each row's own time the sample is that row, exactly. */
    FILE *csv = fopen(path, "r");
    assert_non_null(csv);
    static char line[32768];
    assert_non_null(fgets(line, sizeof line, csv)); /* header */
    int rows_checked = 0;
    for (int r = 0; fgets(line, sizeof line, csv); r++) {
        if (r % 97 != 0)
            continue;
        char *p = line, *end;
        double t = strtod(p, &end);
        float want[TP_OPERATOR_DIMS], got[TP_OPERATOR_DIMS];
        for (int i = 0; i < TP_OPERATOR_DIMS; i++) {
            p = end + 1;
            want[i] = (float)strtod(p, &end);
        }
        tp_operator_frame fr;
        memset(&fr, 0, sizeof fr);
        tp_motion_sample(m, t, false, &fr);
        tp_operator_pack(&fr, got);
        for (int i = 0; i < TP_OPERATOR_DIMS; i++)
            if (fabsf(want[i] - got[i]) > 1e-6f)
                fail_msg("row %d column %d: %.9g in the file, %.9g sampled", r, i + 2, (double)want[i],
                         (double)got[i]);
        rows_checked++;
    }
    fclose(csv);
    assert_int_equal(rows_checked, 7);
    /* Looping wraps time. */
    tp_operator_frame l;
    memset(&l, 0, sizeof l);
    tp_motion_sample(m, 25.0, true, &l);
    tp_motion_sample(m, 5.0, false, &a);
    assert_true(tp_v3_norm(tp_v3_sub(l.head.p, a.head.p)) < 1e-6);
    /* The demo grasps: right fingers open until the grasp (t ≈ 6–7 s),
     * closed from lift to place, open again after the release (t ≈ 14 s). */
    double flex[5];
    for (double t = 0; t <= 20.0; t += 0.1) {
        tp_motion_sample(m, t, false, &a);
        assert_true(tp_hand_flexion(&a.hand[1], flex));
        if (t < 6.0 || t > 14.05)
            assert_true(flex[1] < 0.2 && flex[2] < 0.2);
        if (t > 7.2 && t < 13.0)
            assert_true(flex[1] > 0.6 && flex[2] > 0.6 && flex[0] > 0.6);
    }
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
        static const char *const want[] = {"bad.csv:3: column 32 (left.thumb_metacarpal.qx): not a number", "bad.csv:3: 523 columns, expected 524",
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
    g1_arm_facts(0, &arms[0]);
    g1_arm_facts(1, &arms[1]);
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

/* tp_retarget_step: tracked sides follow, untracked or non-finite sides
 * hold their last values exactly, nothing non-finite reaches the action. */
static void test_retarget_step_hold(void **state)
{
    (void)state;
    tp_chain arms[2];
    g1_arm_facts(0, &arms[0]);
    g1_arm_facts(1, &arms[1]);
    double lo_l[7] = {-1.04719755, -0.72431163, 0, -1.83259571, -2.0943951, -1.83259571, -2.0943951};
    double hi_l[7] = {1.04719755, 1.04719755, 2.0943951, 0.19198621, 0, 0.19198621, 0};
    double lo_r[7], hi_r[7];
    for (int i = 0; i < 7; i++) {
        lo_r[i] = -hi_l[i];
        hi_r[i] = -lo_l[i];
    }
    tp_hand_desc hands[2];
    tp_hand_desc_dex3(&hands[0], 0, lo_l, hi_l);
    tp_hand_desc_dex3(&hands[1], 1, lo_r, hi_r);
    tp_retarget_config cfg;
    tp_retarget_default_config(&cfg);
    char err[256];
    tp_retargeter *rt = tp_retarget_create(&cfg, arms, hands, err, sizeof err);
    assert_non_null(rt);
    double action[28], before[28];
    tp_retarget_status st;
    tp_operator_frame f;
    memset(&f, 0, sizeof f);
    /* Nothing tracked yet: the rest posture and open hands. */
    tp_retarget_step(rt, &f, action, &st);
    assert_false(st.arm_ok[0] || st.arm_ok[1] || st.hand_ok[0] || st.hand_ok[1]);
    assert_true(fabs(action[1] - 0.2) < 1e-12 && fabs(action[8] + 0.2) < 1e-12 && fabs(action[3] - 1.0) < 1e-12);
    for (int i = 14; i < 28; i++)
        assert_true(action[i] == hands[(i - 14) / 7].open[(i - 14) % 7]);
    /* Both hands at reachable poses, fists. */
    tp_calibration cal;
    tp_calibration_default(&cal);
    double fist[5] = {1, 1, 1, 1, 1};
    for (int side = 0; side < 2; side++) {
        tp_vec3 p = tp_v3(0.24, side ? -0.20 : 0.20, 0.04);
        tp_pose w = {tp_calibration_point_inverse(&cal, p), tp_retarget_ee_to_wrist(side, tp_quat_identity())};
        tp_hand_model_pose(side, w, fist, &f.hand[side]);
    }
    for (int k = 0; k < 20; k++)
        tp_retarget_step(rt, &f, action, &st);
    for (int side = 0; side < 2; side++) {
        assert_true(st.arm_ok[side] && st.hand_ok[side]);
        assert_true(st.position_error[side] < 1e-4 && st.orientation_error[side] < 1e-3);
        tp_pose ee = tp_chain_fk(&arms[side], action + 7 * side);
        assert_true(tp_v3_norm(tp_v3_sub(ee.p, tp_v3(0.24, side ? -0.20 : 0.20, 0.04))) < 1e-4);
        assert_true(tp_v3_norm(tp_v3_sub(st.wrist_target[side].p, ee.p)) < 1e-4);
        for (int i = 0; i < 7; i++)
            assert_true(fabs(action[14 + 7 * side + i] - hands[side].closed[i]) < 0.05);
    }
    memcpy(before, action, sizeof before);
    /* Left wrist NaN: that arm (and hand, whose flexion needs the wrist)
     * holds exactly. Right hand moved and opened with one finger joint
     * invalid: its arm follows the valid wrist, its fingers hold. */
    f.hand[0].joints[TP_HJ_WRIST].pose.p.x = NAN;
    f.hand[1].joints[TP_HJ_MIDDLE_TIP].valid = false;
    double open[5] = {0, 0, 0, 0, 0};
    tp_pose w1 = f.hand[1].joints[TP_HJ_WRIST].pose;
    tp_hand_model_pose(1, (tp_pose){tp_v3_add(w1.p, tp_v3(0, 0.05, 0)), w1.q}, open, &f.hand[1]);
    f.hand[1].joints[TP_HJ_MIDDLE_TIP].valid = false;
    tp_retarget_step(rt, &f, action, &st);
    assert_false(st.arm_ok[0]);
    assert_memory_equal(action, before, 7 * sizeof(double));
    assert_true(st.arm_ok[1] && !st.hand_ok[1]); /* the wrist is valid: the arm moves */
    assert_memory_equal(action + 21, before + 21, 7 * sizeof(double));
    /* A lost hand (inactive): everything on that side holds. */
    memcpy(before, action, sizeof before);
    f.hand[1].active = false;
    f.hand[0].joints[TP_HJ_WRIST].pose.q = (tp_quat){NAN, 0, 0, 1};
    tp_retarget_step(rt, &f, action, &st);
    assert_memory_equal(action, before, sizeof before);
    for (int i = 0; i < 28; i++)
        assert_true(isfinite(action[i]));
    /* Seeding replaces the warm start (clamped), ignoring non-finite values. */
    double seed[28];
    memcpy(seed, before, sizeof seed);
    seed[3] = 5.0;  /* beyond the elbow limit */
    seed[10] = NAN; /* keeps the right elbow */
    tp_retarget_seed(rt, seed);
    tp_retarget_step(rt, &f, action, &st);
    assert_true(action[3] == arms[0].upper[3] && action[10] == before[10]);
    tp_retarget_destroy(rt);
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
    assert_non_null(strstr(err, ":3: [calibration] scale: -3 is out of range"));
    /* Item 14: the operator name in a calibration follows the --operator rule. */
    snprintf(cal.operator_name, sizeof cal.operator_name, "a\nid = x");
    assert_int_equal(tp_calibration_save(path, &cal, err, sizeof err), -1);
    assert_non_null(strstr(err, "is not a name"));
    bad = fopen(path, "w");
    fputs("[calibration]\noperator = \"x#y\"\n", bad);
    fclose(bad);
    assert_int_equal(tp_calibration_load(path, &back, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: [calibration] operator: 'x#y' is not a name"));
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
        cmocka_unit_test(test_operator_calibration), cmocka_unit_test(test_g1_chain_facts),
        cmocka_unit_test(test_ik_cold_from_rest),    cmocka_unit_test(test_dex3_mirror_and_thumb),
        cmocka_unit_test(test_retarget_step_hold),   cmocka_unit_test(test_ik_singular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
