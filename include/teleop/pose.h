/* teleop — pose math: 3-vectors, unit quaternions, rigid transforms (SE(3)).
 *
 * Everything is passed and returned by value; no allocation, no hidden state,
 * safe on the real-time path. Quaternions are stored x, y, z, w (the OpenXR
 * and ROS order) and represent rotations; functions that need a unit
 * quaternion say so. A tp_pose maps points of its child frame into its parent
 * frame: p_parent = R(q) p_child + p.
 */
#ifndef TELEOP_POSE_H
#define TELEOP_POSE_H

#include <stdbool.h>

typedef struct tp_vec3 {
    double x, y, z;
} tp_vec3;

typedef struct tp_quat {
    double x, y, z, w;
} tp_quat;

typedef struct tp_pose {
    tp_vec3 p;
    tp_quat q;
} tp_pose;

/* Row-major 3x3 matrix. */
typedef struct tp_mat3 {
    double m[3][3];
} tp_mat3;

tp_vec3 tp_v3(double x, double y, double z);
tp_vec3 tp_v3_add(tp_vec3 a, tp_vec3 b);
tp_vec3 tp_v3_sub(tp_vec3 a, tp_vec3 b);
tp_vec3 tp_v3_scale(tp_vec3 a, double s);
double tp_v3_dot(tp_vec3 a, tp_vec3 b);
tp_vec3 tp_v3_cross(tp_vec3 a, tp_vec3 b);
double tp_v3_norm(tp_vec3 a);
/* Unit vector along a; the zero vector stays zero. */
tp_vec3 tp_v3_normalize(tp_vec3 a);
tp_vec3 tp_v3_lerp(tp_vec3 a, tp_vec3 b, double t);
bool tp_v3_isfinite(tp_vec3 a);

tp_quat tp_quat_identity(void);
/* Rotation of angle (radians) about axis (need not be unit; zero → identity). */
tp_quat tp_quat_from_axis_angle(tp_vec3 axis, double angle);
/* Rotation vector (axis * angle, |angle| <= pi) → quaternion and back. */
tp_quat tp_quat_from_rotvec(tp_vec3 v);
tp_vec3 tp_quat_to_rotvec(tp_quat q);
/* Intrinsic roll-pitch-yaw as in URDF: R = Rz(yaw) Ry(pitch) Rx(roll). */
tp_quat tp_quat_from_rpy(double roll, double pitch, double yaw);
tp_quat tp_quat_mul(tp_quat a, tp_quat b);
tp_quat tp_quat_conj(tp_quat q);
tp_quat tp_quat_normalize(tp_quat q);
double tp_quat_dot(tp_quat a, tp_quat b);
/* Angle (radians, in [0, pi]) of the rotation from a to b; q and -q are equal. */
double tp_quat_angle_between(tp_quat a, tp_quat b);
tp_vec3 tp_quat_rotate(tp_quat q, tp_vec3 v);
/* Shortest-path spherical interpolation between unit quaternions. */
tp_quat tp_quat_slerp(tp_quat a, tp_quat b, double t);
tp_mat3 tp_quat_to_mat3(tp_quat q);
tp_quat tp_quat_from_mat3(tp_mat3 m);
bool tp_quat_isfinite(tp_quat q);

tp_mat3 tp_mat3_identity(void);
tp_mat3 tp_mat3_mul(tp_mat3 a, tp_mat3 b);
tp_mat3 tp_mat3_transpose(tp_mat3 a);
tp_vec3 tp_mat3_apply(tp_mat3 a, tp_vec3 v);
/* Matrix whose columns are x, y, z. */
tp_mat3 tp_mat3_from_cols(tp_vec3 x, tp_vec3 y, tp_vec3 z);

tp_pose tp_pose_identity(void);
/* a * b: apply b, then a (frame composition parent_T_child = a, child_T_x = b). */
tp_pose tp_pose_mul(tp_pose a, tp_pose b);
tp_pose tp_pose_inverse(tp_pose a);
tp_vec3 tp_pose_apply(tp_pose a, tp_vec3 point);
tp_pose tp_pose_interpolate(tp_pose a, tp_pose b, double t);

#endif
