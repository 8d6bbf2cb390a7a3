/* teleop — damped-least-squares arm IK with joint limits and a nullspace
 * posture objective; fixed-size, allocation-free. */
#include "teleop/ik.h"

#include <math.h>
#include <string.h>

#define N_MAX TP_CHAIN_MAX_JOINTS
#define POSTURE_STEP_MAX 0.002 /* rad per iteration */
#define SINGULAR_STEP 0.05     /* rad: largest damped step along a nearly lost direction */

void tp_ik_default_params(tp_ik_params *p)
{
    p->position_weight = 1.0;
    p->orientation_weight = 0.3;
    p->damping = 0.05;
    p->max_step = 0.2;
    p->posture_gain = 0.05;
    p->max_iterations = 30;
    p->tolerance_pos = 1e-4;
    p->tolerance_rot = 1e-3;
}

void tp_ik_init(tp_ik_solver *s, const tp_chain *chain, const tp_ik_params *params, const double *rest)
{
    s->chain = chain;
    if (params)
        s->params = *params;
    else
        tp_ik_default_params(&s->params);
    for (int i = 0; i < chain->n; i++) {
        double r = rest ? rest[i] : 0.5 * (chain->lower[i] + chain->upper[i]);
        s->rest[i] = fmin(chain->upper[i], fmax(chain->lower[i], r));
    }
}

/* Solves the symmetric positive definite 6x6 system a x = b in place
 * (Cholesky); a is destroyed. Returns false if not positive definite. */
static bool solve6(double a[6][6], double b[6])
{
    for (int j = 0; j < 6; j++) {
        double d = a[j][j];
        for (int k = 0; k < j; k++)
            d -= a[j][k] * a[j][k];
        if (!(d > 1e-300))
            return false;
        d = sqrt(d);
        a[j][j] = d;
        for (int i = j + 1; i < 6; i++) {
            double v = a[i][j];
            for (int k = 0; k < j; k++)
                v -= a[i][k] * a[j][k];
            a[i][j] = v / d;
        }
    }
    for (int i = 0; i < 6; i++) { /* L y = b */
        double v = b[i];
        for (int k = 0; k < i; k++)
            v -= a[i][k] * b[k];
        b[i] = v / a[i][i];
    }
    for (int i = 5; i >= 0; i--) { /* L^T x = y */
        double v = b[i];
        for (int k = i + 1; k < 6; k++)
            v -= a[k][i] * b[k];
        b[i] = v / a[i][i];
    }
    return true;
}

static void pose_error(tp_pose target, tp_pose tip, double e[6])
{
    tp_vec3 ep = tp_v3_sub(target.p, tip.p);
    tp_vec3 er = tp_quat_to_rotvec(tp_quat_mul(target.q, tp_quat_conj(tip.q)));
    e[0] = ep.x;
    e[1] = ep.y;
    e[2] = ep.z;
    e[3] = er.x;
    e[4] = er.y;
    e[5] = er.z;
}

tp_ik_result tp_ik_solve(const tp_ik_solver *s, tp_pose target, double *q)
{
    const tp_chain *c = s->chain;
    const tp_ik_params *p = &s->params;
    const int n = c->n;
    tp_ik_result res = {INFINITY, INFINITY, 0, false};
    if (!tp_v3_isfinite(target.p) || !tp_quat_isfinite(target.q))
        return res;
    target.q = tp_quat_normalize(target.q);

    double x[N_MAX];
    for (int i = 0; i < n; i++) /* a non-finite warm start restarts from rest */
        x[i] = isfinite(q[i]) ? fmin(c->upper[i], fmax(c->lower[i], q[i])) : s->rest[i];
    const double w[6] = {p->position_weight, p->position_weight, p->position_weight,
                         p->orientation_weight, p->orientation_weight, p->orientation_weight};
    double jac[6 * N_MAX];
    bool active[N_MAX];

    for (int it = 0;; it++) {
        tp_pose tip = tp_chain_fk_jacobian(c, x, jac);
        double e[6];
        pose_error(target, tip, e);
        res.position_error = sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
        res.orientation_error = sqrt(e[3] * e[3] + e[4] * e[4] + e[5] * e[5]);
        res.iterations = it;
        bool rot_ok = p->orientation_weight <= 0 || res.orientation_error < p->tolerance_rot;
        if (res.position_error < p->tolerance_pos && rot_ok) {
            res.converged = true;
            break;
        }
        if (it == p->max_iterations)
            break;

        double err2 = 0;
        for (int r = 0; r < 6; r++) {
            e[r] *= w[r];
            err2 += e[r] * e[r];
        }
        /* Joints pinned at a limit by the error direction leave the
         * problem, so the others make up for them. */
        for (int i = 0; i < n; i++) {
            double g = 0;
            for (int r = 0; r < 6; r++)
                g += w[r] * jac[r * n + i] * e[r];
            active[i] = !((x[i] <= c->lower[i] + 1e-12 && g < 0) || (x[i] >= c->upper[i] - 1e-12 && g > 0));
            if (!active[i])
                for (int r = 0; r < 6; r++)
                    jac[r * n + i] = 0;
            for (int r = 0; r < 6; r++)
                jac[r * n + i] *= w[r];
        }
        /* Damping shrinks as the error shrinks: robust far from the goal,
         * Gauss-Newton fast at the end. A floor tied to the error: no damped
         * step can exceed
         * |e| / (2 lambda), so lambda >= |e| / (2 SINGULAR_STEP) keeps every
         * step below SINGULAR_STEP along directions the arm has almost lost
         * (sigma << lambda) and changes nothing elsewhere (sigma >> lambda);
         * never above the full damping, which far errors already get. */
        double lambda2 = p->damping * p->damping * fmin(1.0, err2 / 0.01) + 1e-10;
        lambda2 = fmax(lambda2, fmin(err2 / (4 * SINGULAR_STEP * SINGULAR_STEP), p->damping * p->damping));
        double a[6][6];
        for (int r = 0; r < 6; r++)
            for (int k = r; k < 6; k++) {
                double v = 0;
                for (int i = 0; i < n; i++)
                    v += jac[r * n + i] * jac[k * n + i];
                a[r][k] = a[k][r] = v + (r == k ? lambda2 : 0);
            }
        double a2[6][6];
        memcpy(a2, a, sizeof a);
        double y[6];
        memcpy(y, e, sizeof y);
        if (!solve6(a, y))
            break;
        double dq[N_MAX];
        for (int i = 0; i < n; i++) {
            double v = 0;
            for (int r = 0; r < 6; r++)
                v += jac[r * n + i] * y[r];
            dq[i] = v;
        }
        /* Nullspace posture: z - J^+ J z with the damped pseudo-inverse. */
        if (p->posture_gain > 0 && n > 6) {
            double z[N_MAX], jz[6];
            /* The nullspace is exact only to first order: a large posture
             * step moves the tip by its square. Small steps per iteration
             * keep the task converging; the posture still drifts to rest
             * over the cycles. */
            for (int i = 0; i < n; i++) {
                double zi = active[i] ? p->posture_gain * (s->rest[i] - x[i]) : 0;
                z[i] = fmax(-POSTURE_STEP_MAX, fmin(POSTURE_STEP_MAX, zi));
            }
            for (int r = 0; r < 6; r++) {
                double v = 0;
                for (int i = 0; i < n; i++)
                    v += jac[r * n + i] * z[i];
                jz[r] = v;
            }
            if (solve6(a2, jz))
                for (int i = 0; i < n; i++) {
                    double v = 0;
                    for (int r = 0; r < 6; r++)
                        v += jac[r * n + i] * jz[r];
                    dq[i] += z[i] - v;
                }
        }
        double biggest = 0;
        for (int i = 0; i < n; i++)
            biggest = fmax(biggest, fabs(dq[i]));
        double scale = biggest > p->max_step ? p->max_step / biggest : 1.0;
        for (int i = 0; i < n; i++) {
            double v = x[i] + scale * dq[i];
            x[i] = isfinite(v) ? fmin(c->upper[i], fmax(c->lower[i], v)) : x[i];
        }
    }
    memcpy(q, x, sizeof(double) * (size_t)n);
    return res;
}
