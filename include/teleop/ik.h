/* teleop — arm inverse kinematics: damped least squares on a tp_chain.
 *
 * Solves for joint positions that put the chain's tip at a 6-D target pose,
 * within strict joint limits, warm-started from the caller's current solution,
 * with a nullspace pull toward a rest posture. Out-of-reach targets converge to
 * the closest reachable pose; the result is always finite and inside limits.
 * tp_ik_solver is caller-owned plain data: no allocation, safe every control
 * cycle. It keeps a pointer to the chain, which must outlive it.
 */
#ifndef TELEOP_IK_H
#define TELEOP_IK_H

#include <stdbool.h>

#include "teleop/chain.h"

typedef struct tp_ik_params {
    double position_weight;    /* 1/m, default 1 */
    double orientation_weight; /* 1/rad, default 0.3 */
    double damping;            /* lambda of DLS, default 0.05 */
    double max_step;           /* rad per iteration per joint, default 0.2 */
    double posture_gain;       /* nullspace pull toward rest, default 0.05 */
    int max_iterations;        /* default 30 */
    double tolerance_pos;      /* m, default 1e-4 */
    double tolerance_rot;      /* rad, default 1e-3 */
} tp_ik_params;

typedef struct tp_ik_result {
    double position_error;    /* m */
    double orientation_error; /* rad */
    int iterations;
    bool converged;
} tp_ik_result;

typedef struct tp_ik_solver {
    const tp_chain *chain;
    tp_ik_params params;
    double rest[TP_CHAIN_MAX_JOINTS]; /* nullspace posture target */
} tp_ik_solver;

void tp_ik_default_params(tp_ik_params *params);
/* rest may be NULL: mid-range of each joint. */
void tp_ik_init(tp_ik_solver *solver, const tp_chain *chain, const tp_ik_params *params, const double *rest);
/* q: in = warm start, out = solution (always finite, inside limits). */
tp_ik_result tp_ik_solve(const tp_ik_solver *solver, tp_pose target, double *q);

#endif

#ifndef TELEOP_IK_COLD_H
#define TELEOP_IK_COLD_H
#include <stdint.h>
/* Cold start (engage, re-acquire): solves from q, then from random joint
 * vectors inside the limits until one converges or budget_ns (monotonic
 * clock) is spent; returns the best solution found. rng is caller-owned
 * xorshift state (any non-zero value). No allocation. */
tp_ik_result tp_ik_solve_cold(const tp_ik_solver *solver, tp_pose target, double *q, int64_t budget_ns,
                              uint64_t *rng);
#endif
