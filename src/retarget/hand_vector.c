/* teleop — vector hand retargeting: descriptions from URDF, and a projected
 * Gauss-Newton solver (Huber by iteratively reweighted least squares). */
#include "teleop/hand_vector.h"
#include "teleop/handmodel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same axes as C_side in retarget.c: columns are the robot hand's axes in
 * the OpenXR wrist frame (x_ee = -Z; left y_ee = +Y, right y_ee = -Y). */
static const tp_mat3 C_side[2] = {
    {{{0, 0, 1}, {0, 1, 0}, {-1, 0, 0}}},
    {{{0, 0, -1}, {0, -1, 0}, {-1, 0, 0}}},
};

static int find_var(const tp_hand_vector_desc *d, const char *name)
{
    for (int i = 0; i < d->dof; i++)
        if (strcmp(d->joint_name[i], name) == 0)
            return i;
    return -1;
}

static int valid_human(int j) { return j >= TP_HJ_PALM && j < TP_HAND_JOINT_COUNT; }

int tp_hand_vector_desc_from_urdf(const tp_urdf *u, const tp_hand_vector_spec *s, tp_hand_vector_desc *d, char *err,
                                  size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (!s->base_link || s->n_tips < 1 || s->n_tips > TP_HV_MAX_TIPS) {
        snprintf(err, errlen, "hand_vector: need a base link and 1..%d tips (got %d)", TP_HV_MAX_TIPS, s->n_tips);
        return -1;
    }
    if (s->side != TP_LEFT && s->side != TP_RIGHT) {
        snprintf(err, errlen, "hand_vector: side must be 0 (left) or 1 (right), got %d", s->side);
        return -1;
    }
    d->side = s->side;
    d->n_tips = s->n_tips;
    if (!valid_human(s->base_human)) {
        snprintf(err, errlen, "hand_vector: base human joint %d is not an OpenXR hand joint", s->base_human);
        return -1;
    }
    d->human[0] = s->base_human;
    if (s->n_joints < 0 || s->n_joints > TP_HV_MAX_DOF) {
        snprintf(err, errlen, "hand_vector: n_joints %d out of 0..%d", s->n_joints, TP_HV_MAX_DOF);
        return -1;
    }
    for (int i = 0; i < s->n_joints; i++) {
        snprintf(d->joint_name[i], TP_NAME_MAX, "%s", s->joint_name[i] ? s->joint_name[i] : "");
        d->lower[i] = NAN;
    }
    d->dof = s->n_joints;
    for (int t = 0; t < s->n_tips; t++) {
        if (!s->tip_link[t]) {
            snprintf(err, errlen, "hand_vector: tip %d has no link name", t);
            return -1;
        }
        if (!valid_human(s->tip_human[t])) {
            snprintf(err, errlen, "hand_vector: tip %s: human joint %d is not an OpenXR hand joint", s->tip_link[t],
                     s->tip_human[t]);
            return -1;
        }
        d->human[1 + t] = s->tip_human[t];
        char cerr[256];
        tp_chain *c = &d->chain[t];
        if (tp_urdf_chain(u, s->base_link, s->tip_link[t], c, cerr, sizeof cerr) != 0) {
            snprintf(err, errlen, "hand_vector: tip %s: %s", s->tip_link[t], cerr);
            return -1;
        }
        if (c->n < 1) {
            snprintf(err, errlen, "hand_vector: no movable joint between %s and %s", s->base_link, s->tip_link[t]);
            return -1;
        }
        c->tip = tp_pose_mul(c->tip, (tp_pose){s->tip_offset[t], tp_quat_identity()});
        for (int j = 0; j < c->n; j++) {
            int v = find_var(d, c->joint_name[j]);
            if (v < 0) {
                if (s->n_joints > 0) {
                    snprintf(err, errlen, "hand_vector: joint %s (chain to %s) is not in the joint order",
                             c->joint_name[j], s->tip_link[t]);
                    return -1;
                }
                if (d->dof >= TP_HV_MAX_DOF) {
                    snprintf(err, errlen, "hand_vector: more than %d joints", TP_HV_MAX_DOF);
                    return -1;
                }
                v = d->dof++;
                snprintf(d->joint_name[v], TP_NAME_MAX, "%s", c->joint_name[j]);
            }
            d->lower[v] = c->lower[j];
            d->upper[v] = c->upper[j];
            d->chain_var[t][j] = v;
        }
    }
    for (int i = 0; i < d->dof; i++)
        if (isnan(d->lower[i])) {
            snprintf(err, errlen, "hand_vector: joint %s is on no chain from %s to a tip", d->joint_name[i],
                     s->base_link);
            return -1;
        }
    if (s->n_vectors == 0) {
        d->n_vectors = s->n_tips;
        for (int t = 0; t < s->n_tips; t++) {
            d->origin[t] = 0;
            d->task[t] = 1 + t;
        }
    } else {
        if (s->n_vectors < 0 || s->n_vectors > TP_HV_MAX_VECTORS) {
            snprintf(err, errlen, "hand_vector: n_vectors %d out of 0..%d", s->n_vectors, TP_HV_MAX_VECTORS);
            return -1;
        }
        d->n_vectors = s->n_vectors;
        for (int k = 0; k < s->n_vectors; k++) {
            if (s->origin[k] < 0 || s->origin[k] > s->n_tips || s->task[k] < 0 || s->task[k] > s->n_tips ||
                s->origin[k] == s->task[k]) {
                snprintf(err, errlen, "hand_vector: vector %d: keypoints %d -> %d invalid (0..%d, distinct)", k,
                         s->origin[k], s->task[k], s->n_tips);
                return -1;
            }
            d->origin[k] = s->origin[k];
            d->task[k] = s->task[k];
        }
    }
    d->scaling = s->scaling > 0 ? s->scaling : 1.0;
    tp_quat b = s->base_in_ee;
    if (b.x == 0 && b.y == 0 && b.z == 0 && b.w == 0)
        b = tp_quat_identity();
    if (!tp_quat_isfinite(b)) {
        snprintf(err, errlen, "hand_vector: base_in_ee is not finite");
        return -1;
    }
    d->ee_to_base = tp_mat3_transpose(tp_quat_to_mat3(tp_quat_normalize(b)));
    return 0;
}

int tp_hand_vector_desc_load(const char *path, const tp_hand_vector_spec *spec, tp_hand_vector_desc *out, char *err,
                             size_t errlen)
{
    tp_urdf *u = tp_urdf_load(path, err, errlen);
    if (!u)
        return -1;
    int r = tp_hand_vector_desc_from_urdf(u, spec, out, err, errlen);
    tp_urdf_free(u);
    return r;
}

int tp_hand_vector_desc_dex3(const char *path, int side, tp_hand_vector_desc *out, char *err, size_t errlen)
{
    static const char *const names[7] = {"zero", "one", "two", "three", "four", "five", "six"};
    const char *sd = side ? "right" : "left";
    char base[TP_NAME_MAX], tips[3][TP_NAME_MAX], joints[7][TP_NAME_MAX];
    snprintf(base, sizeof base, "%s_hand_palm_link", sd);
    /* The human index finger goes to the Dex3-1 finger on the thumb side of
     * the robot-hand convention (+Z_ee on both sides): three/four on the right
     * hand (z = +0.0285) but five/six on the left, whose palm frame is the
     * right one turned half a turn about X (z = -0.0285 for three/four). */
    const char *const tipn[3] = {"two", side ? "four" : "six", side ? "six" : "four"};
    tp_hand_vector_spec s = {.side = side ? TP_RIGHT : TP_LEFT, .base_link = base, .n_tips = 3,
                             .base_human = TP_HJ_WRIST, .scaling = 1.0, .n_joints = 7};
    /* The fingertip continues the last link's direction: the offset from the
     * previous joint to the last one, 0.0528 m out and 0.0055 m sideways
     * (Unitree's URDF), mirrored between sides. */
    const double m = side ? 1.0 : -1.0;
    tp_vec3 thumb_dir = tp_v3_normalize(tp_v3(0.0055, m * 0.0528, 0));
    tp_vec3 finger_dir = tp_v3_normalize(tp_v3(0.0528, m * 0.0055, 0));
    const int human[3] = {TP_HJ_THUMB_TIP, TP_HJ_INDEX_TIP, TP_HJ_MIDDLE_TIP};
    for (int t = 0; t < 3; t++) {
        snprintf(tips[t], TP_NAME_MAX, "%s_hand_%s_link", sd, tipn[t]);
        s.tip_link[t] = tips[t];
        s.tip_offset[t] = tp_v3_scale(t == 0 ? thumb_dir : finger_dir, 0.045);
        s.tip_human[t] = human[t];
    }
    for (int j = 0; j < 7; j++) {
        snprintf(joints[j], TP_NAME_MAX, "%s_hand_%s_joint", sd, names[j]);
        s.joint_name[j] = joints[j];
    }
    return tp_hand_vector_desc_load(path, &s, out, err, errlen);
}

int tp_hand_vector_desc_inspire_right(const char *path, tp_hand_vector_desc *out, char *err, size_t errlen)
{
    tp_hand_vector_spec s = {.side = TP_RIGHT, .base_link = "hand_base_link", .n_tips = 5,
                             .base_human = TP_HJ_WRIST, .scaling = 1.1, .n_joints = 6,
                             .tip_link = {"thumb_tip", "index_tip", "middle_tip", "ring_tip", "little_tip"},
                             .tip_human = {TP_HJ_THUMB_TIP, TP_HJ_INDEX_TIP, TP_HJ_MIDDLE_TIP, TP_HJ_RING_TIP,
                                           TP_HJ_LITTLE_TIP},
                             .joint_name = {"thumb_yaw_joint", "thumb_bend_joint", "index_joint", "middle_joint",
                                            "ring_joint", "little_joint"}};
    return tp_hand_vector_desc_load(path, &s, out, err, errlen);
}

void tp_hand_vector_default_params(tp_hand_vector_params *p)
{
    p->huber_delta = 0.02;
    p->norm_delta = 4e-3;
    p->max_iterations = 12;
    p->tolerance = 1e-5;
}

struct tp_hand_vector {
    tp_hand_vector_desc d;
    tp_hand_vector_params p;
    double q[TP_HV_MAX_DOF];
    /* Per-frame scratch, preallocated so the frame call never allocates. */
    double jac[TP_HV_MAX_TIPS][6 * TP_CHAIN_MAX_JOINTS];
    tp_vec3 human_v[TP_HV_MAX_VECTORS];
};

tp_hand_vector *tp_hand_vector_create(const tp_hand_vector_desc *desc, const tp_hand_vector_params *params, char *err,
                                      size_t errlen)
{
    if (desc->dof < 1 || desc->dof > TP_HV_MAX_DOF || desc->n_tips < 1 || desc->n_tips > TP_HV_MAX_TIPS ||
        desc->n_vectors < 1 || desc->n_vectors > TP_HV_MAX_VECTORS) {
        snprintf(err, errlen, "hand_vector: invalid description (dof %d, tips %d, vectors %d)", desc->dof,
                 desc->n_tips, desc->n_vectors);
        return NULL;
    }
    for (int i = 0; i < desc->dof; i++)
        if (!(desc->lower[i] <= desc->upper[i])) {
            snprintf(err, errlen, "hand_vector: joint %s has limits [%g, %g]", desc->joint_name[i], desc->lower[i],
                     desc->upper[i]);
            return NULL;
        }
    tp_hand_vector_params p;
    tp_hand_vector_default_params(&p);
    if (params)
        p = *params;
    if (!(p.huber_delta > 0) || !(p.norm_delta >= 0) || p.max_iterations < 1 || !(p.tolerance >= 0)) {
        snprintf(err, errlen, "hand_vector: invalid solver parameters (huber_delta %g, norm_delta %g, iterations %d)",
                 p.huber_delta, p.norm_delta, p.max_iterations);
        return NULL;
    }
    tp_hand_vector *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "hand_vector: out of memory");
        return NULL;
    }
    h->d = *desc;
    h->p = p;
    tp_hand_vector_seed(h, NULL);
    return h;
}

void tp_hand_vector_destroy(tp_hand_vector *h) { free(h); }

const tp_hand_vector_desc *tp_hand_vector_description(const tp_hand_vector *h) { return &h->d; }

void tp_hand_vector_seed(tp_hand_vector *h, const double *q)
{
    for (int i = 0; i < h->d.dof; i++) {
        double v = q && isfinite(q[i]) ? q[i] : 0.5 * (h->d.lower[i] + h->d.upper[i]);
        h->q[i] = fmin(h->d.upper[i], fmax(h->d.lower[i], v));
    }
}

int tp_hand_vector_human_vectors(const tp_hand_vector_desc *d, const tp_hand_frame *hf, tp_vec3 *out)
{
    tp_pose wrist; /* the tracked wrist, or the one behind a glove-only hand's palm */
    if (!tp_hand_finger_frame(d->side, hf, &wrist))
        return -1;
    for (int k = 0; k <= d->n_tips; k++) {
        const tp_hand_joint *j = &hf->joints[d->human[k]];
        if (d->human[k] == TP_HJ_WRIST)
            continue;
        if (!j->valid || !tp_v3_isfinite(j->pose.p))
            return -1;
    }
    /* Stage -> wrist frame -> robot hand convention -> URDF base frame. */
    tp_mat3 rw = tp_quat_to_mat3(wrist.q);
    tp_mat3 m = tp_mat3_mul(d->ee_to_base, tp_mat3_mul(tp_mat3_transpose(C_side[d->side ? 1 : 0]),
                                                       tp_mat3_transpose(rw)));
    for (int k = 0; k < d->n_vectors; k++) {
        int ja = d->human[d->origin[k]], jb = d->human[d->task[k]];
        tp_vec3 a = ja == TP_HJ_WRIST ? wrist.p : hf->joints[ja].pose.p;
        tp_vec3 b = jb == TP_HJ_WRIST ? wrist.p : hf->joints[jb].pose.p;
        out[k] = tp_v3_scale(tp_mat3_apply(m, tp_v3_sub(b, a)), d->scaling);
    }
    return 0;
}

static void chain_q(const tp_hand_vector_desc *d, int t, const double *q, double *cq)
{
    for (int j = 0; j < d->chain[t].n; j++)
        cq[j] = q[d->chain_var[t][j]];
}

void tp_hand_vector_keypoints(const tp_hand_vector_desc *d, const double *q, tp_vec3 *out)
{
    out[0] = tp_v3(0, 0, 0);
    for (int t = 0; t < d->n_tips; t++) {
        double cq[TP_CHAIN_MAX_JOINTS];
        chain_q(d, t, q, cq);
        out[1 + t] = tp_chain_fk(&d->chain[t], cq).p;
    }
}

static double huber(double x, double delta) { return x < delta ? 0.5 * x * x / delta : x - 0.5 * delta; }

static double cost_at(const tp_hand_vector_desc *d, const tp_vec3 *hv, const double *q, double delta)
{
    tp_vec3 kp[TP_HV_MAX_KEYPOINTS];
    tp_hand_vector_keypoints(d, q, kp);
    double c = 0;
    for (int k = 0; k < d->n_vectors; k++) {
        tp_vec3 r = tp_v3_sub(tp_v3_sub(kp[d->task[k]], kp[d->origin[k]]), hv[k]);
        c += huber(tp_v3_norm(r), delta);
    }
    return c / d->n_vectors;
}

double tp_hand_vector_cost(const tp_hand_vector *h, const tp_vec3 *hv, const double *q)
{
    return cost_at(&h->d, hv, q, h->p.huber_delta);
}

static double total_cost(const tp_hand_vector *h, const double *q)
{
    double c = cost_at(&h->d, h->human_v, q, h->p.huber_delta);
    double r = 0;
    for (int i = 0; i < h->d.dof; i++)
        r += (q[i] - h->q[i]) * (q[i] - h->q[i]);
    return c + h->p.norm_delta * r;
}

/* Solves A x = b for the free variables (symmetric positive definite block)
 * by Cholesky in place; n <= TP_HV_MAX_DOF. Returns false if not SPD. */
static bool cholesky_solve(int n, double A[TP_HV_MAX_DOF][TP_HV_MAX_DOF], double *b)
{
    for (int j = 0; j < n; j++) {
        double s = A[j][j];
        for (int k = 0; k < j; k++)
            s -= A[j][k] * A[j][k];
        if (!(s > 0))
            return false;
        A[j][j] = sqrt(s);
        for (int i = j + 1; i < n; i++) {
            double t = A[i][j];
            for (int k = 0; k < j; k++)
                t -= A[i][k] * A[j][k];
            A[i][j] = t / A[j][j];
        }
    }
    for (int i = 0; i < n; i++) {
        double t = b[i];
        for (int k = 0; k < i; k++)
            t -= A[i][k] * b[k];
        b[i] = t / A[i][i];
    }
    for (int i = n - 1; i >= 0; i--) {
        double t = b[i];
        for (int k = i + 1; k < n; k++)
            t -= A[k][i] * b[k];
        b[i] = t / A[i][i];
    }
    return true;
}

int tp_hand_vector_retarget(tp_hand_vector *h, const tp_hand_frame *human, double *q_out)
{
    const tp_hand_vector_desc *d = &h->d;
    if (tp_hand_vector_human_vectors(d, human, h->human_v) != 0)
        return -1;
    const int n = d->dof;
    const double delta = h->p.huber_delta, lambda = h->p.norm_delta, inv_n = 1.0 / d->n_vectors;
    double q[TP_HV_MAX_DOF];
    memcpy(q, h->q, sizeof(double) * (size_t)n);
    double cost = total_cost(h, q);
    for (int it = 0; it < h->p.max_iterations; it++) {
        tp_vec3 kp[TP_HV_MAX_KEYPOINTS];
        kp[0] = tp_v3(0, 0, 0);
        for (int t = 0; t < d->n_tips; t++) {
            double cq[TP_CHAIN_MAX_JOINTS];
            chain_q(d, t, q, cq);
            kp[1 + t] = tp_chain_fk_jacobian(&d->chain[t], cq, h->jac[t]).p;
        }
        /* Gauss-Newton on the Huber cost by reweighting: near the optimum
         * (d < delta) it is least squares with weight 1/delta, outside it
         * weights 1/d make the step follow the L1 slope. */
        double H[TP_HV_MAX_DOF][TP_HV_MAX_DOF] = {{0}}, g[TP_HV_MAX_DOF] = {0};
        for (int k = 0; k < d->n_vectors; k++) {
            tp_vec3 r = tp_v3_sub(tp_v3_sub(kp[d->task[k]], kp[d->origin[k]]), h->human_v[k]);
            double dist = tp_v3_norm(r);
            double w = inv_n / (dist < delta ? delta : dist);
            double J[3][TP_HV_MAX_DOF] = {{0}};
            for (int side = 0; side < 2; side++) {
                int kpi = side ? d->origin[k] : d->task[k];
                if (kpi == 0)
                    continue;
                int t = kpi - 1, cn = d->chain[t].n;
                double sg = side ? -1.0 : 1.0;
                for (int row = 0; row < 3; row++)
                    for (int j = 0; j < cn; j++)
                        J[row][d->chain_var[t][j]] += sg * h->jac[t][row * cn + j];
            }
            const double rv[3] = {r.x, r.y, r.z};
            for (int a = 0; a < n; a++) {
                g[a] += w * (J[0][a] * rv[0] + J[1][a] * rv[1] + J[2][a] * rv[2]);
                for (int b = 0; b <= a; b++)
                    H[a][b] += w * (J[0][a] * J[0][b] + J[1][a] * J[1][b] + J[2][a] * J[2][b]);
            }
        }
        for (int a = 0; a < n; a++) {
            g[a] += 2.0 * lambda * (q[a] - h->q[a]);
            H[a][a] += 2.0 * lambda + 1e-9;
        }
        /* Projection: variables at a bound whose descent direction points
         * out of the box are held fixed; the rest take the Newton step. */
        int freev[TP_HV_MAX_DOF], nf = 0;
        for (int a = 0; a < n; a++) {
            bool at_lo = q[a] <= d->lower[a] + 1e-12 && g[a] > 0;
            bool at_hi = q[a] >= d->upper[a] - 1e-12 && g[a] < 0;
            if (!at_lo && !at_hi)
                freev[nf++] = a;
        }
        if (nf == 0)
            break;
        double A[TP_HV_MAX_DOF][TP_HV_MAX_DOF], step[TP_HV_MAX_DOF];
        for (int i = 0; i < nf; i++) {
            for (int j = 0; j <= i; j++) {
                int a = freev[i], b = freev[j];
                A[i][j] = a >= b ? H[a][b] : H[b][a];
            }
            step[i] = -g[freev[i]];
        }
        if (!cholesky_solve(nf, A, step))
            break;
        /* Backtracking on the true cost keeps every accepted iterate a
         * descent; a handful of halvings bounds the work. */
        double trial[TP_HV_MAX_DOF], alpha = 1.0, tcost = cost, moved = 0;
        bool accepted = false;
        for (int ls = 0; ls < 6 && !accepted; ls++, alpha *= 0.5) {
            memcpy(trial, q, sizeof(double) * (size_t)n);
            moved = 0;
            for (int i = 0; i < nf; i++) {
                int a = freev[i];
                double v = fmin(d->upper[a], fmax(d->lower[a], q[a] + alpha * step[i]));
                moved = fmax(moved, fabs(v - q[a]));
                trial[a] = v;
            }
            tcost = total_cost(h, trial);
            accepted = tcost <= cost;
        }
        if (!accepted)
            break;
        memcpy(q, trial, sizeof(double) * (size_t)n);
        cost = tcost;
        if (moved < h->p.tolerance)
            break;
    }
    for (int a = 0; a < n; a++)
        if (!isfinite(q[a]))
            return -1;
    memcpy(h->q, q, sizeof(double) * (size_t)n);
    memcpy(q_out, q, sizeof(double) * (size_t)n);
    return 0;
}
