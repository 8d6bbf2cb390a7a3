/* teleop — forward kinematics and geometric Jacobian of a serial chain. */
#include "teleop/chain.h"

#include <string.h>

tp_pose tp_chain_fk(const tp_chain *chain, const double *q)
{
    tp_pose t = tp_pose_identity();
    for (int i = 0; i < chain->n; i++) {
        t = tp_pose_mul(t, chain->origin[i]);
        t.q = tp_quat_mul(t.q, tp_quat_from_axis_angle(chain->axis[i], q[i]));
    }
    return tp_pose_mul(t, chain->tip);
}

tp_pose tp_chain_fk_jacobian(const tp_chain *chain, const double *q, double *jac)
{
    tp_vec3 joint_pos[TP_CHAIN_MAX_JOINTS];
    tp_vec3 joint_axis[TP_CHAIN_MAX_JOINTS];
    tp_pose t = tp_pose_identity();
    for (int i = 0; i < chain->n; i++) {
        t = tp_pose_mul(t, chain->origin[i]);
        joint_pos[i] = t.p;
        joint_axis[i] = tp_quat_rotate(t.q, chain->axis[i]);
        t.q = tp_quat_mul(t.q, tp_quat_from_axis_angle(chain->axis[i], q[i]));
    }
    tp_pose tip = tp_pose_mul(t, chain->tip);
    const int n = chain->n;
    for (int i = 0; i < n; i++) {
        /* Revolute joint: linear velocity w x (p_tip - p_joint), angular w. */
        tp_vec3 lin = tp_v3_cross(joint_axis[i], tp_v3_sub(tip.p, joint_pos[i]));
        jac[0 * n + i] = lin.x;
        jac[1 * n + i] = lin.y;
        jac[2 * n + i] = lin.z;
        jac[3 * n + i] = joint_axis[i].x;
        jac[4 * n + i] = joint_axis[i].y;
        jac[5 * n + i] = joint_axis[i].z;
    }
    return tip;
}
