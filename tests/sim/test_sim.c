/* Simulated humanoid: model facts (against the repository's G1 URDF), arm
 * chain FK against MuJoCo, reachability of the table, position tracking,
 * clamping, objects at rest, headless rendering.
 * Usage: test_sim MODEL.xml G1_URDF */
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
#include <mujoco/mujoco.h>

#include "teleop/clock.h"
#include "teleop/ik.h"
#include "teleop/sim.h"
#include "teleop/urdf.h"

static const char *model_path, *urdf_path;

static double urand(double lo, double hi) { return lo + (hi - lo) * rand() / (double)RAND_MAX; }

/* Largest element difference of the rotation matrices of two quaternions. */
static double rot_diff(tp_quat a, tp_quat b)
{
    tp_mat3 ma = tp_quat_to_mat3(a), mb = tp_quat_to_mat3(b);
    double d = 0;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            d = fmax(d, fabs(ma.m[r][c] - mb.m[r][c]));
    return d;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* The model text with every occurrence of `from` replaced by `to`. */
static char *replace_all(const char *text, const char *from, const char *to)
{
    size_t lf = strlen(from), lt = strlen(to), n = 0;
    for (const char *p = strstr(text, from); p; p = strstr(p + lf, from))
        n++;
    assert_true(n > 0);
    char *out = malloc(strlen(text) + n * lt + 1), *o = out;
    const char *p = text;
    for (const char *q = strstr(p, from); q; p = q + lf, q = strstr(p, from)) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, lt);
        o += lt;
    }
    strcpy(o, p);
    return out;
}

/* Loads a variant of the model written to a temporary directory; returns the
 * error message (NULL model expected). */
static void load_variant(const char *text, char *err, size_t errlen)
{
    char dir[] = "/tmp/teleop-sim-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/variant.xml", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    tp_sim *s = tp_sim_create(path, err, errlen);
    assert_null(s);
    assert_non_null(strstr(err, path));
    remove(path);
    rmdir(dir);
}

static tp_sim *load(void)
{
    char err[512];
    tp_sim *s = tp_sim_create(model_path, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    return s;
}

static void test_joints_and_limits(void **state)
{
    (void)state;
    tp_sim *s = load();
    assert_int_equal(tp_sim_joint_count(s), 28);
    assert_string_equal(tp_sim_joint_name(s, 0), "left_shoulder_pitch_joint");
    assert_string_equal(tp_sim_joint_name(s, 3), "left_elbow_joint");
    assert_string_equal(tp_sim_joint_name(s, 7), "right_shoulder_pitch_joint");
    assert_string_equal(tp_sim_joint_name(s, 14), "left_hand_zero_joint");
    assert_string_equal(tp_sim_joint_name(s, 27), "right_hand_six_joint");
    double lo, hi;
    tp_sim_joint_limits(s, 1, &lo, &hi); /* left shoulder roll (URDF) */
    assert_true(fabs(lo - -1.5882) < 1e-9 && fabs(hi - 2.2515) < 1e-9);
    tp_sim_joint_limits(s, 8, &lo, &hi); /* right shoulder roll: mirrored */
    assert_true(fabs(lo - -2.2515) < 1e-9 && fabs(hi - 1.5882) < 1e-9);
    tp_sim_joint_limits(s, 14 + 3, &lo, &hi); /* left index: curls negative */
    assert_true(fabs(lo - -1.83259571) < 1e-9 && fabs(hi - 0.19198621) < 1e-9);
    tp_sim_joint_limits(s, 21 + 3, &lo, &hi); /* right index: mirrored */
    assert_true(fabs(lo - -0.19198621) < 1e-9 && fabs(hi - 1.83259571) < 1e-9);
    assert_true(fabs(tp_sim_joint_max_velocity(s, 5) - 22) < 1e-9);
    assert_true(fabs(tp_sim_timestep(s) - 0.002) < 1e-12);
    tp_sim_joint_limits(s, 28, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    assert_null(tp_sim_joint_name(s, -1));
    tp_sim_destroy(s);
    char err[512];
    assert_null(tp_sim_create("/nonexistent/model.xml", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/model.xml"));
    assert_null(strchr(err, '\n'));
    /* A model lacking an action joint, or a joint's velocity limit, is refused
     * with the joint named. */
    char *text = read_text(model_path);
    char *v = replace_all(text, "\"left_elbow_joint\"", "\"left_elbow_hinge\"");
    load_variant(v, err, sizeof err);
    assert_non_null(strstr(err, "'left_elbow_joint'"));
    free(v);
    v = replace_all(text, "name=\"right_hand_four_joint.max_velocity\"", "name=\"unused\"");
    load_variant(v, err, sizeof err);
    assert_non_null(strstr(err, "'right_hand_four_joint'"));
    free(v);
    free(text);
}

/* The model's kinematics are the URDF's: both arm chains, built from the MJCF
 * by tp_sim_arm_chain and from the repository's G1 URDF by the URDF loader,
 * give the same palm pose for random joint vectors, with the same limits. */
static void test_matches_urdf(void **state)
{
    (void)state;
    tp_sim *s = load();
    char err[512];
    tp_urdf *u = tp_urdf_load(urdf_path, err, sizeof err);
    if (!u)
        fail_msg("%s", err);
    srand(5);
    for (int side = 0; side < 2; side++) {
        tp_chain cm, cu;
        assert_int_equal(tp_sim_arm_chain(s, side, &cm, err, sizeof err), 0);
        assert_int_equal(tp_urdf_chain(u, "torso_link", side ? "right_hand_palm_link" : "left_hand_palm_link", &cu,
                                       err, sizeof err),
                         0);
        assert_int_equal(cu.n, 7);
        for (int i = 0; i < 7; i++) {
            assert_string_equal(cm.joint_name[i], cu.joint_name[i]);
            assert_true(fabs(cm.lower[i] - cu.lower[i]) < 1e-8 && fabs(cm.upper[i] - cu.upper[i]) < 1e-8);
            assert_true(fabs(cm.max_velocity[i] - cu.max_velocity[i]) < 1e-9);
        }
        for (int trial = 0; trial < 50; trial++) {
            double q[7];
            for (int i = 0; i < 7; i++)
                q[i] = urand(cm.lower[i], cm.upper[i]);
            tp_pose a = tp_chain_fk(&cm, q), b = tp_chain_fk(&cu, q);
            /* The MJCF carries quaternions to 9 significant digits. */
            assert_true(tp_v3_norm(tp_v3_sub(a.p, b.p)) < 1e-8);
            assert_true(rot_diff(a.q, b.q) < 1e-8);
        }
    }
    tp_urdf_free(u);
    tp_sim_destroy(s);
}

/* The palms reach the table: the points retargeting needs for the objects
 * (torso frame), by IK on the model's own chains. */
static void test_reach(void **state)
{
    (void)state;
    tp_sim *s = load();
    char err[256];
    tp_chain c[2];
    for (int side = 0; side < 2; side++)
        assert_int_equal(tp_sim_arm_chain(s, side, &c[side], err, sizeof err), 0);
    static const struct {
        int side;
        double x, y, z;
    } pts[] = {{1, 0.24, -0.20, 0.00}, {1, 0.26, -0.10, 0.02}, {0, 0.22, 0.18, 0.02}, {1, 0.30, -0.15, 0.0},
               {0, 0.32, 0.12, 0.0}};
    tp_ik_params p;
    tp_ik_default_params(&p);
    p.orientation_weight = 0; /* position reach; the wrist picks its own orientation */
    p.posture_gain = 0;
    p.max_iterations = 200;
    srand(9);
    for (size_t k = 0; k < sizeof pts / sizeof pts[0]; k++) {
        tp_ik_solver solver;
        tp_ik_init(&solver, &c[pts[k].side], &p, NULL);
        tp_pose target = {tp_v3(pts[k].x, pts[k].y, pts[k].z), tp_quat_identity()};
        double best = INFINITY;
        for (int restart = 0; restart < 10 && best > 1e-3; restart++) {
            double q[7];
            for (int i = 0; i < 7; i++)
                q[i] = urand(c[pts[k].side].lower[i], c[pts[k].side].upper[i]);
            tp_ik_solve(&solver, target, q);
            /* Judge by FK, not by the solver's own report. */
            best = fmin(best, tp_v3_norm(tp_v3_sub(tp_chain_fk(&c[pts[k].side], q).p, target.p)));
        }
        if (best > 1e-3)
            fail_msg("%s palm cannot reach (%.2f %.2f %.2f): %.4f m short", pts[k].side ? "right" : "left", pts[k].x,
                     pts[k].y, pts[k].z, best);
    }
    /* Out of reach: across the body, at the far table edge. */
    tp_ik_solver solver;
    tp_ik_init(&solver, &c[1], &p, NULL);
    double q[7] = {0};
    tp_ik_solve(&solver, (tp_pose){tp_v3(0.60, 0.40, 0.0), tp_quat_identity()}, q);
    assert_true(tp_v3_norm(tp_v3_sub(tp_chain_fk(&c[1], q).p, tp_v3(0.60, 0.40, 0.0))) > 0.1);
    tp_sim_destroy(s);
}

static void test_chain_matches_mujoco(void **state)
{
    (void)state;
    tp_sim *s = load();
    char err[256];
    tp_pose torso;
    assert_int_equal(tp_sim_site_pose(s, "torso_link", &torso), 0);
    srand(11);
    assert_int_equal(tp_sim_arm_chain(s, 2, &(tp_chain){0}, err, sizeof err), -1);
    for (int side = 0; side < 2; side++) {
        tp_chain c;
        assert_int_equal(tp_sim_arm_chain(s, side, &c, err, sizeof err), 0);
        assert_int_equal(c.n, 7);
        for (int trial = 0; trial < 20; trial++) {
            double target[28], q[7];
            tp_sim_read_state(s, target, NULL);
            for (int i = 0; i < 7; i++) {
                q[i] = c.lower[i] + (c.upper[i] - c.lower[i]) * rand() / (double)RAND_MAX;
                target[side * 7 + i] = q[i];
            }
            tp_pose fk = tp_pose_mul(torso, tp_chain_fk(&c, q));
            /* Ground truth: MuJoCo's own kinematics with the joints set. */
            tp_sim_reset_joints(s, target);
            tp_pose site;
            assert_int_equal(tp_sim_site_pose(s, side ? "right_ee" : "left_ee", &site), 0);
            assert_true(tp_v3_norm(tp_v3_sub(fk.p, site.p)) < 1e-9);
            assert_true(rot_diff(fk.q, site.q) < 1e-9);
        }
    }
    tp_sim_destroy(s);
}

/* Smooth commanded trajectories are tracked: joints within 0.05 rad, palms
 * within 1 cm of the FK of the commanded arm joints. A 0.3 rad, 0.5 Hz swing
 * peaks at 0.94 rad/s; plain PD would lag by damping/kp x velocity, 0.03 rad
 * per joint, which puts the palm about 1.2 cm off: the palm bound fails
 * without the velocity feed-forward (measured), the joint bound allows
 * twice the measured worst case of the finger joints. */
static void test_tracking_and_clamping(void **state)
{
    (void)state;
    tp_sim *s = load();
    char err[256];
    tp_chain chain[2];
    for (int side = 0; side < 2; side++)
        assert_int_equal(tp_sim_arm_chain(s, side, &chain[side], err, sizeof err), 0);
    tp_pose torso;
    assert_int_equal(tp_sim_site_pose(s, "torso_link", &torso), 0);
    double lo[28], hi[28], q0[28], cmd[28], q[28], qd[28];
    for (int i = 0; i < 28; i++)
        tp_sim_joint_limits(s, i, &lo[i], &hi[i]);
    tp_sim_read_state(s, q0, NULL);
    double max_err = 0, max_ee = 0;
    int worst = -1;
    const double dt = tp_sim_timestep(s);
    for (int k = 0; k < 1000; k++) { /* 2 s */
        double t = k * dt;
        for (int i = 0; i < 28; i++) {
            /* Arms swing 0.3 rad about a raised pose (clear of the table);
             * fingers sweep half their range. */
            static const double arm_mid[7] = {-0.6, 0.3, 0, 0, 0, 0, 0};
            double mid, amp;
            if (i < 14) {
                mid = arm_mid[i % 7] * (i >= 7 && i % 7 == 1 ? -1 : 1);
                amp = 0.3;
            } else {
                mid = 0.5 * (lo[i] + hi[i]);
                amp = 0.25 * (hi[i] - lo[i]);
            }
            double a = fmin(1.0, t / 0.5); /* ease in from the start pose */
            cmd[i] = (1 - a) * q0[i] + a * (mid + amp * sin(2 * M_PI * 0.5 * t + i));
        }
        tp_sim_set_targets(s, cmd);
        tp_sim_step(s);
        tp_sim_read_state(s, q, qd);
        if (t > 0.6) {
            for (int i = 0; i < 28; i++)
                if (fabs(q[i] - cmd[i]) > max_err) {
                    max_err = fabs(q[i] - cmd[i]);
                    worst = i;
                }
            for (int side = 0; side < 2; side++) {
                tp_pose want = tp_pose_mul(torso, tp_chain_fk(&chain[side], cmd + 7 * side)), got;
                assert_int_equal(tp_sim_site_pose(s, side ? "right_ee" : "left_ee", &got), 0);
                max_ee = fmax(max_ee, tp_v3_norm(tp_v3_sub(want.p, got.p)));
            }
        }
    }
    printf("joint tracking: max error %.4f rad (%s); palm tracking: max error %.4f m\n", max_err,
           worst >= 0 ? tp_sim_joint_name(s, worst) : "-", max_ee);
    assert_true(max_err < 0.05);
    assert_true(max_ee < 0.01);
    /* Out-of-range targets are clamped to the limits; a NaN target keeps the
     * joint's previous target. */
    double before = cmd[0];
    for (int i = 0; i < 28; i++)
        cmd[i] = i % 2 ? 100.0 : -100.0;
    cmd[0] = NAN;
    tp_sim_set_targets(s, cmd);
    for (int k = 0; k < 1000; k++)
        tp_sim_step(s);
    tp_sim_read_state(s, q, NULL);
    for (int i = 1; i < 28; i++) {
        double limit = i % 2 ? hi[i] : lo[i];
        if (fabs(q[i] - limit) > 0.03)
            fail_msg("%s at %.3f, not at its limit %.3f", tp_sim_joint_name(s, i), q[i], limit);
    }
    assert_true(fabs(q[0] - before) < 0.02);
    /* reset_joints places the robot exactly, clamped. */
    for (int i = 0; i < 28; i++)
        cmd[i] = i == 3 ? 50.0 : 0.5 * (lo[i] + hi[i]);
    tp_sim_reset_joints(s, cmd);
    tp_sim_read_state(s, q, qd);
    assert_true(fabs(q[3] - hi[3]) < 1e-12 && fabs(q[5] - cmd[5]) < 1e-12 && qd[5] == 0);
    tp_sim_destroy(s);
}

/* Arms held straight out sideways (the largest gravity torque on the
 * shoulders) stay where commanded: gravity compensation leaves no sag.
 * Without it the shoulder roll would sag by torque / kp, about 0.01 rad. */
static void test_gravity_hold(void **state)
{
    (void)state;
    tp_sim *s = load();
    double q[28] = {0}, now[28];
    q[1] = 1.5;     /* left shoulder roll: arm out to the left */
    q[7 + 1] = -1.5; /* right: mirrored */
    tp_sim_reset_joints(s, q);
    for (int k = 0; k < 500; k++) { /* 1 s */
        tp_sim_set_targets(s, q);
        tp_sim_step(s);
    }
    tp_sim_read_state(s, now, NULL);
    double worst = 0;
    for (int i = 0; i < 28; i++)
        worst = fmax(worst, fabs(now[i] - q[i]));
    printf("static hold: max error %.2g rad\n", worst);
    assert_true(worst < 1e-3);
    tp_sim_destroy(s);
}

/* Potential energy of the robot at rest with its action joints at q, from
 * MuJoCo directly: -sum of m (g . com) over the bodies. */
static double potential_energy(const mjModel *m, mjData *d, const int *adr, const double *q)
{
    mju_copy(d->qpos, m->qpos0, m->nq);
    for (int i = 0; i < 28; i++)
        d->qpos[adr[i]] = q[i];
    mj_kinematics(m, d);
    double v = 0;
    for (int b = 1; b < m->nbody; b++)
        v -= m->body_mass[b] * mju_dot3(m->opt.gravity, d->xipos + 3 * b);
    return v;
}

/* tp_sim_gravity_torque is the gradient of the potential energy (checked by
 * central differences, independently of MuJoCo's RNE), and computing it
 * leaves the simulation exactly where it was. */
static void test_gravity_torque(void **state)
{
    (void)state;
    tp_sim *s = load(), *twin = load();
    char err[1000];
    mjModel *m = mj_loadXML(model_path, NULL, err, sizeof err);
    assert_non_null(m);
    mjData *d = mj_makeData(m);
    int adr[28];
    for (int i = 0; i < 28; i++)
        adr[i] = m->jnt_qposadr[mj_name2id(m, mjOBJ_JOINT, tp_sim_joint_name(s, i))];
    for (int k = 0; k < 30; k++) { /* both simulations moving */
        double q[28];
        tp_sim_read_state(s, q, NULL);
        q[3] += 0.01;
        tp_sim_set_targets(s, q);
        tp_sim_set_targets(twin, q);
        tp_sim_step(s);
        tp_sim_step(twin);
    }
    int nq = tp_sim_qpos_size(s);
    double before[256], after[256], qd_before[28], qd_after[28];
    assert_true(nq <= 256);
    srand(7);
    double largest = 0;
    for (int trial = 0; trial < 5; trial++) {
        double q[28], tau[28];
        for (int i = 0; i < 28; i++) {
            double lo, hi;
            tp_sim_joint_limits(s, i, &lo, &hi);
            q[i] = urand(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo));
        }
        tp_sim_copy_qpos(s, before);
        tp_sim_read_state(s, NULL, qd_before);
        tp_sim_gravity_torque(s, q, tau);
        tp_sim_copy_qpos(s, after);
        tp_sim_read_state(s, NULL, qd_after);
        assert_memory_equal(before, after, sizeof(double) * (size_t)nq);
        assert_memory_equal(qd_before, qd_after, sizeof qd_before);
        for (int i = 0; i < 28; i++) {
            const double h = 1e-6;
            double qp[28], qm[28];
            memcpy(qp, q, sizeof qp);
            memcpy(qm, q, sizeof qm);
            qp[i] += h;
            qm[i] -= h;
            double grad = (potential_energy(m, d, adr, qp) - potential_energy(m, d, adr, qm)) / (2 * h);
            if (fabs(grad - tau[i]) > 1e-5 * fmax(1.0, fabs(grad)))
                fail_msg("%s: gravity torque %.9g, energy gradient %.9g", tp_sim_joint_name(s, i), tau[i], grad);
            largest = fmax(largest, fabs(tau[i]));
        }
    }
    printf("gravity torque: largest %.3g N m\n", largest);
    assert_true(largest > 0.5); /* the shoulders carry the arms */
    /* The simulation steps on exactly as its twin that was never asked. */
    tp_sim_step(s);
    tp_sim_step(twin);
    tp_sim_copy_qpos(s, before);
    tp_sim_copy_qpos(twin, after);
    assert_memory_equal(before, after, sizeof(double) * (size_t)nq);
    mj_deleteData(d);
    mj_deleteModel(m);
    tp_sim_destroy(s);
    tp_sim_destroy(twin);
}

static void test_objects_rest(void **state)
{
    (void)state;
    tp_sim *s = load();
    tp_pose c0, c1;
    assert_int_equal(tp_sim_site_pose(s, "cube", &c0), 0);
    for (int k = 0; k < 500; k++)
        tp_sim_step(s);
    assert_int_equal(tp_sim_site_pose(s, "cube", &c1), 0);
    assert_true(fabs(c1.p.z - 0.97) < 0.003); /* resting on the table top at 0.95 */
    assert_true(tp_v3_norm(tp_v3_sub(c0.p, c1.p)) < 0.005);
    assert_int_equal(tp_sim_site_pose(s, "no_such_thing", &c1), -1);
    tp_sim_destroy(s);
}

static void test_render(void **state)
{
    (void)state;
    tp_sim *s = load();
    char err[256];
    assert_null(tp_sim_renderer_create(s, "no_camera", 640, 480, err, sizeof err));
    assert_non_null(strstr(err, "'no_camera'"));
    assert_null(tp_sim_renderer_create(s, "head_camera", 4096, 4096, err, sizeof err));
    tp_sim_renderer *r = tp_sim_renderer_create(s, "head_camera", 640, 480, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    uint8_t *a = malloc(640 * 480 * 3), *b = malloc(640 * 480 * 3);
    double qpos[64];
    tp_sim_copy_qpos(s, qpos);
    int64_t t0 = tp_now_ns();
    assert_int_equal(tp_sim_renderer_render(r, qpos, a), 0);
    int64_t t1 = tp_now_ns();
    printf("render 640x480: %.1f ms (first frame)\n", (t1 - t0) / 1e6);
    /* Not uniform: many distinct colours and a sane brightness. */
    long sum = 0;
    int distinct = 0;
    static unsigned char seen[4096];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 640 * 480; i++) {
        sum += a[3 * i] + a[3 * i + 1] + a[3 * i + 2];
        int key = (a[3 * i] >> 4) << 8 | (a[3 * i + 1] >> 4) << 4 | a[3 * i + 2] >> 4;
        if (!seen[key]++)
            distinct++;
    }
    double mean = sum / (640.0 * 480 * 3);
    printf("mean %.1f, %d distinct colours\n", mean, distinct);
    assert_true(mean > 20 && mean < 235);
    assert_true(distinct > 20);
    /* The red cube is in view: some strongly red pixels. */
    int red = 0;
    for (int i = 0; i < 640 * 480; i++)
        red += a[3 * i] > 120 && a[3 * i + 1] < 70 && a[3 * i + 2] < 70;
    assert_true(red > 50);
    /* Another pose renders differently. */
    qpos[0] += 0.8;
    qpos[3] += 0.8;
    qpos[7] -= 0.8;
    assert_int_equal(tp_sim_renderer_render(r, qpos, b), 0);
    long diff = 0;
    for (int i = 0; i < 640 * 480 * 3; i++)
        diff += a[i] != b[i];
    assert_true(diff > 1000);
    /* Steady-state cost, for the record (no assertion: shared machines). */
    int64_t t2 = tp_now_ns();
    for (int k = 0; k < 5; k++)
        assert_int_equal(tp_sim_renderer_render(r, qpos, b), 0);
    printf("render 640x480: %.1f ms per frame (5 frames)\n", (tp_now_ns() - t2) / 5e6);
    /* Same pose, same image: rendering depends on qpos only. */
    qpos[0] -= 0.8;
    qpos[3] -= 0.8;
    qpos[7] += 0.8;
    assert_int_equal(tp_sim_renderer_render(r, qpos, b), 0);
    assert_memory_equal(a, b, 640 * 480 * 3);
    /* A second renderer (another size) on the same thread, interleaved with
     * the first, and one created after it is gone: each keeps its own
     * context, and the EGL display stays usable. */
    tp_sim_renderer *small = tp_sim_renderer_create(s, "head_camera", 320, 240, err, sizeof err);
    if (!small)
        fail_msg("%s", err);
    uint8_t *c = malloc(320 * 240 * 3);
    assert_int_equal(tp_sim_renderer_render(small, qpos, c), 0);
    assert_int_equal(tp_sim_renderer_render(r, qpos, b), 0);
    assert_memory_equal(a, b, 640 * 480 * 3);
    tp_sim_renderer_destroy(small);
    small = tp_sim_renderer_create(s, "head_camera", 320, 240, err, sizeof err);
    if (!small)
        fail_msg("%s", err);
    uint8_t *c2 = malloc(320 * 240 * 3);
    assert_int_equal(tp_sim_renderer_render(small, qpos, c2), 0);
    assert_memory_equal(c, c2, 320 * 240 * 3);
    tp_sim_renderer_destroy(small);
    free(c);
    free(c2);
    const char *dump = getenv("TELEOP_TEST_DUMP");
    if (dump) {
        FILE *f = fopen(dump, "wb");
        fprintf(f, "P6\n640 480\n255\n");
        fwrite(a, 1, 640 * 480 * 3, f);
        fclose(f);
    }
    free(a);
    free(b);
    tp_sim_renderer_destroy(r);
    tp_sim_destroy(s);
}

/* Each wrist camera rides on its own hand and sees it: closing that hand's
 * fingers changes its picture several times more than closing the other
 * hand's (which may be in view, far off), and bending the arm moves the
 * camera. */
static long changed_pixels(const uint8_t *a, const uint8_t *b, size_t n)
{
    long c = 0;
    for (size_t i = 0; i < n; i += 3)
        c += abs(a[i] - b[i]) + abs(a[i + 1] - b[i + 1]) + abs(a[i + 2] - b[i + 2]) > 60;
    return c;
}

static void test_wrist_cameras(void **state)
{
    (void)state;
    tp_sim *s = load();
    char err[256];
    enum { W = 320, H = 240, N = W * H * 3 };
    uint8_t *rest = malloc(N), *own = malloc(N), *other = malloc(N);
    double qpos[64], q[TP_SIM_ACTION_DIMS] = {0};
    assert_true(tp_sim_qpos_size(s) <= 64);
    static const char *const cams[2] = {"left_wrist_camera", "right_wrist_camera"};
    for (int side = 0; side < 2; side++) {
        tp_sim_renderer *r = tp_sim_renderer_create(s, cams[side], W, H, err, sizeof err);
        if (!r)
            fail_msg("%s", err);
        memset(q, 0, sizeof q);
        tp_sim_reset_joints(s, q);
        tp_sim_copy_qpos(s, qpos);
        assert_int_equal(tp_sim_renderer_render(r, qpos, rest), 0);
        /* Close one hand: its seven joints most of the way to the far limit. */
        for (int hand = 0; hand < 2; hand++) {
            memset(q, 0, sizeof q);
            for (int j = 0; j < TP_SIM_HAND_DOF; j++) {
                int i = 2 * TP_SIM_ARM_DOF + hand * TP_SIM_HAND_DOF + j;
                double lo, hi;
                tp_sim_joint_limits(s, i, &lo, &hi);
                q[i] = 0.8 * (fabs(hi) > fabs(lo) ? hi : lo);
            }
            tp_sim_reset_joints(s, q);
            tp_sim_copy_qpos(s, qpos);
            assert_int_equal(tp_sim_renderer_render(r, qpos, hand == side ? own : other), 0);
        }
        long c_own = changed_pixels(rest, own, N), c_other = changed_pixels(rest, other, N);
        printf("%s: closing its hand changes %.1f %% of the picture, the other hand %.1f %%\n", cams[side],
               100.0 * c_own / (W * H), 100.0 * c_other / (W * H));
        assert_true(c_own > W * H / 50);
        assert_true(c_other < c_own / 3); /* the other hand can be in view, far off */
        /* Bending the elbow moves the camera: the whole view changes. */
        memset(q, 0, sizeof q);
        q[side * TP_SIM_ARM_DOF + 3] = 1.0;
        tp_sim_reset_joints(s, q);
        tp_sim_copy_qpos(s, qpos);
        assert_int_equal(tp_sim_renderer_render(r, qpos, other), 0);
        assert_true(changed_pixels(rest, other, N) > W * H / 5);
        tp_sim_renderer_destroy(r);
    }
    free(rest);
    free(own);
    free(other);
    tp_sim_destroy(s);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.xml G1_URDF\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    urdf_path = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_joints_and_limits), cmocka_unit_test(test_matches_urdf),
        cmocka_unit_test(test_chain_matches_mujoco), cmocka_unit_test(test_reach),
        cmocka_unit_test(test_tracking_and_clamping), cmocka_unit_test(test_gravity_hold),
        cmocka_unit_test(test_gravity_torque),
        cmocka_unit_test(test_objects_rest),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_wrist_cameras),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
