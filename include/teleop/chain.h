/* teleop — serial kinematic chains (an arm from its base link to its tip).
 *
 * A chain is plain data: for each revolute joint the fixed transform from the
 * previous joint frame (or the base) to this joint's frame, the joint axis in
 * its own frame, and position/velocity limits; then a fixed tip offset.
 * Robot loaders (the MuJoCo model, later URDF) fill it; FK and IK read it.
 * tp_chain is caller-owned, fixed-size, holds no pointers.
 */
#ifndef TELEOP_CHAIN_H
#define TELEOP_CHAIN_H

#include "teleop/pose.h"

#define TP_CHAIN_MAX_JOINTS 16
#define TP_NAME_MAX 64

typedef struct tp_chain {
    int n; /* number of revolute joints */
    char base_name[TP_NAME_MAX];
    char tip_name[TP_NAME_MAX];
    char joint_name[TP_CHAIN_MAX_JOINTS][TP_NAME_MAX];
    tp_pose origin[TP_CHAIN_MAX_JOINTS]; /* joint i frame in joint i-1 frame (base for i = 0) at q = 0 */
    tp_vec3 axis[TP_CHAIN_MAX_JOINTS];   /* unit axis in joint i frame */
    double lower[TP_CHAIN_MAX_JOINTS], upper[TP_CHAIN_MAX_JOINTS]; /* rad */
    double max_velocity[TP_CHAIN_MAX_JOINTS];                      /* rad/s */
    tp_pose tip; /* tip frame in the last joint frame */
} tp_chain;

/* Pose of the tip in the base frame at joint positions q[n]. No allocation. */
tp_pose tp_chain_fk(const tp_chain *chain, const double *q);

/* Tip pose and the 6 x n geometric Jacobian in the base frame (rows: linear
 * x y z, then angular x y z; row-major, jac[r * n + c]). No allocation. */
tp_pose tp_chain_fk_jacobian(const tp_chain *chain, const double *q, double *jac);

#endif
