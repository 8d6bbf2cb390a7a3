/* teleop — retargeting: calibration, per-arm IK and per-hand mapping. */
#include "teleop/retarget.h"

#include "teleop/hand_vector.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OpenXR stage axes → robot torso axes: +X_r = -Z_xr, +Y_r = -X_xr, +Z_r = +Y_xr. */
static const tp_mat3 B = {{{0, 0, -1}, {-1, 0, 0}, {0, 1, 0}}};

/* Robot end-effector axes in OpenXR hand-joint coordinates (columns). */
static const tp_mat3 C_side[2] = {
    {{{0, 0, 1}, {0, 1, 0}, {-1, 0, 0}}},  /* left: x_ee = -Z, y_ee = +Y, z_ee = +X */
    {{{0, 0, -1}, {0, -1, 0}, {-1, 0, 0}}}, /* right: x_ee = -Z, y_ee = -Y, z_ee = -X */
};

void tp_calibration_default(tp_calibration *cal)
{
    cal->scale = 0.70;
    cal->xr_anchor = tp_v3(0, 1.60, 0);
    cal->robot_anchor = tp_v3(0.06, 0, 0.43);
}

tp_vec3 tp_calibration_point(const tp_calibration *cal, tp_vec3 p_xr)
{
    return tp_v3_add(cal->robot_anchor, tp_v3_scale(tp_mat3_apply(B, tp_v3_sub(p_xr, cal->xr_anchor)), cal->scale));
}

tp_vec3 tp_calibration_point_inverse(const tp_calibration *cal, tp_vec3 p_robot)
{
    tp_vec3 d = tp_v3_scale(tp_v3_sub(p_robot, cal->robot_anchor), 1.0 / cal->scale);
    return tp_v3_add(cal->xr_anchor, tp_mat3_apply(tp_mat3_transpose(B), d));
}

tp_quat tp_calibration_rotation(tp_quat q_xr) { return tp_quat_from_mat3(tp_mat3_mul(B, tp_quat_to_mat3(q_xr))); }

tp_quat tp_retarget_wrist_to_ee(int side, tp_quat q_xr_wrist)
{
    return tp_quat_from_mat3(tp_mat3_mul(tp_mat3_mul(B, tp_quat_to_mat3(q_xr_wrist)), C_side[side ? 1 : 0]));
}

tp_quat tp_retarget_ee_to_wrist(int side, tp_quat q_robot_ee)
{
    tp_mat3 r = tp_quat_to_mat3(q_robot_ee);
    return tp_quat_from_mat3(tp_mat3_mul(tp_mat3_mul(tp_mat3_transpose(B), r), tp_mat3_transpose(C_side[side ? 1 : 0])));
}

void tp_retarget_default_config(tp_retarget_config *cfg)
{
    tp_calibration_default(&cfg->calibration);
    tp_ik_default_params(&cfg->ik);
}

struct tp_retargeter {
    tp_retarget_config cfg;
    tp_chain arm[2];
    tp_ik_solver ik[2];
    tp_hand_desc hand[2];
    double arm_q[2][TP_CHAIN_MAX_JOINTS];  /* last solution: warm start and hold */
    double hand_q[2][TP_HAND_DOF_MAX];
    int arm_dof, hand_dof;
    /* Vector retargeting, when chosen: one solver per hand. It runs only on
     * a new tracking frame (the headset delivers ~90 Hz, control runs at
     * 500 Hz); between frames the hand keeps its last solution. */
    tp_hand_vector *hand_vector[2];
    int64_t hand_frame_t[2];
    bool hand_frame_seen[2];
};

tp_retargeter *tp_retarget_create(const tp_retarget_config *cfg, const tp_chain arms[2], const tp_hand_desc hands[2],
                                  char *err, size_t errlen)
{
    if (arms[0].n != arms[1].n || arms[0].n <= 0) {
        snprintf(err, errlen, "retarget: arm chains must have the same number of joints (%d, %d)", arms[0].n,
                 arms[1].n);
        return NULL;
    }
    if (hands[0].dof != hands[1].dof || hands[0].dof < 0 || hands[0].dof > TP_HAND_DOF_MAX) {
        snprintf(err, errlen, "retarget: hands must have the same number of joints (%d, %d)", hands[0].dof,
                 hands[1].dof);
        return NULL;
    }
    if (!(cfg->calibration.scale > 0)) {
        snprintf(err, errlen, "retarget: calibration scale must be positive");
        return NULL;
    }
    tp_retargeter *rt = calloc(1, sizeof *rt);
    if (!rt) {
        snprintf(err, errlen, "retarget: out of memory");
        return NULL;
    }
    rt->cfg = *cfg;
    rt->arm_dof = arms[0].n;
    rt->hand_dof = hands[0].dof;
    for (int s = 0; s < 2; s++) {
        rt->arm[s] = arms[s];
        rt->hand[s] = hands[s];
        /* Natural rest for the nullspace: elbow bent, upper arm slightly
         * out, everything else centred in its range (7-DoF G1 order). */
        double rest[TP_CHAIN_MAX_JOINTS];
        for (int i = 0; i < arms[s].n; i++)
            rest[i] = fmin(arms[s].upper[i], fmax(arms[s].lower[i], 0.0));
        if (arms[s].n == 7) {
            rest[1] = s == 0 ? 0.2 : -0.2;
            rest[3] = 1.0;
        }
        tp_ik_init(&rt->ik[s], &rt->arm[s], &cfg->ik, rest);
        memcpy(rt->arm_q[s], rt->ik[s].rest, sizeof rt->arm_q[s]);
        for (int i = 0; i < hands[s].dof; i++)
            rt->hand_q[s][i] = hands[s].open[i];
    }
    return rt;
}

void tp_retarget_destroy(tp_retargeter *rt)
{
    if (!rt)
        return;
    for (int s = 0; s < 2; s++)
        tp_hand_vector_destroy(rt->hand_vector[s]);
    free(rt);
}

int tp_retarget_use_hand_vector(tp_retargeter *rt, const tp_hand_vector_desc *descs,
                                const tp_hand_vector_params *params, char *err, size_t errlen)
{
    static const char *const side_name[2] = {"left", "right"};
    for (int s = 0; s < 2; s++) {
        if (descs[s].dof != rt->hand_dof) {
            snprintf(err, errlen, "retarget: %s hand description has %d joints, the robot's hand %d", side_name[s],
                     descs[s].dof, rt->hand_dof);
            return -1;
        }
        if (descs[s].side != s) {
            snprintf(err, errlen, "retarget: the %s hand's description is for the %s side", side_name[s],
                     side_name[descs[s].side ? 1 : 0]);
            return -1;
        }
    }
    tp_hand_vector *made[2] = {NULL, NULL};
    for (int s = 0; s < 2; s++) {
        if (!(made[s] = tp_hand_vector_create(&descs[s], params, err, errlen))) {
            tp_hand_vector_destroy(made[0]);
            return -1;
        }
    }
    for (int s = 0; s < 2; s++) {
        tp_hand_vector_destroy(rt->hand_vector[s]);
        rt->hand_vector[s] = made[s];
        tp_hand_vector_seed(made[s], rt->hand_q[s]);
        rt->hand_frame_seen[s] = false;
    }
    return 0;
}

const char *tp_retarget_hand_method(const tp_retargeter *rt) { return rt->hand_vector[0] ? "vector" : "flexion"; }

void tp_retarget_seed(tp_retargeter *rt, const double *q)
{
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < rt->arm_dof; i++) {
            double v = q[s * rt->arm_dof + i];
            if (isfinite(v))
                rt->arm_q[s][i] = fmin(rt->arm[s].upper[i], fmax(rt->arm[s].lower[i], v));
        }
        for (int i = 0; i < rt->hand_dof; i++) {
            double v = q[2 * rt->arm_dof + s * rt->hand_dof + i];
            if (isfinite(v))
                rt->hand_q[s][i] = fmin(rt->hand[s].upper[i], fmax(rt->hand[s].lower[i], v));
        }
        if (rt->hand_vector[s]) {
            tp_hand_vector_seed(rt->hand_vector[s], rt->hand_q[s]);
            rt->hand_frame_seen[s] = false;
        }
    }
}

void tp_retarget_step(tp_retargeter *rt, const tp_operator_frame *f, double *action, tp_retarget_status *st)
{
    tp_retarget_status local;
    if (!st)
        st = &local;
    for (int s = 0; s < 2; s++) {
        const tp_hand_frame *h = &f->hand[s];
        const tp_hand_joint *wrist = &h->joints[TP_HJ_WRIST];
        st->arm_ok[s] = false;
        st->position_error[s] = st->orientation_error[s] = NAN;
        if (h->active && wrist->valid && tp_v3_isfinite(wrist->pose.p) && tp_quat_isfinite(wrist->pose.q)) {
            tp_pose target = {tp_calibration_point(&rt->cfg.calibration, wrist->pose.p),
                              tp_retarget_wrist_to_ee(s, tp_quat_normalize(wrist->pose.q))};
            st->wrist_target[s] = target;
            double q[TP_CHAIN_MAX_JOINTS];
            memcpy(q, rt->arm_q[s], sizeof q);
            tp_ik_result r = tp_ik_solve(&rt->ik[s], target, q);
            if (isfinite(r.position_error)) {
                memcpy(rt->arm_q[s], q, sizeof q);
                st->arm_ok[s] = true;
                st->position_error[s] = r.position_error;
                st->orientation_error[s] = r.orientation_error;
            }
        }
        double hq[TP_HAND_DOF_MAX];
        if (!rt->hand_vector[s]) {
            st->hand_ok[s] = tp_hand_retarget(&rt->hand[s], h, hq);
            if (st->hand_ok[s])
                memcpy(rt->hand_q[s], hq, sizeof(double) * (size_t)rt->hand_dof);
        } else if (rt->hand_frame_seen[s] && f->t_ns == rt->hand_frame_t[s]) {
            st->hand_ok[s] = true; /* the same tracking frame: its solution stands */
        } else {
            st->hand_ok[s] = tp_hand_vector_retarget(rt->hand_vector[s], h, hq) == 0;
            rt->hand_frame_seen[s] = st->hand_ok[s];
            rt->hand_frame_t[s] = f->t_ns;
            if (st->hand_ok[s])
                memcpy(rt->hand_q[s], hq, sizeof(double) * (size_t)rt->hand_dof);
        }
    }
    for (int s = 0; s < 2; s++) {
        memcpy(action + s * rt->arm_dof, rt->arm_q[s], sizeof(double) * (size_t)rt->arm_dof);
        memcpy(action + 2 * rt->arm_dof + s * rt->hand_dof, rt->hand_q[s], sizeof(double) * (size_t)rt->hand_dof);
    }
}
