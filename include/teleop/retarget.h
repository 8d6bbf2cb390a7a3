/* teleop — retargeting: operator frame → robot joint targets, every cycle.
 *
 * The operator frame (OpenXR stage convention, see operator.h) is mapped into
 * the robot's torso frame by a calibration (axes change, scale about an anchor,
 * offset), each wrist pose becomes a 7-joint arm solution by damped least
 * squares IK warm-started from the last cycle, and each hand's 26 joints become
 * the robot hand's joint positions through a finger-flexion mapping.
 *
 * tp_retargeter is created at setup (allocates once), then tp_retarget_step
 * allocates nothing and is safe on the control thread. It copies the chains
 * and limits it is given; the caller keeps ownership of its arguments.
 */
#ifndef TELEOP_RETARGET_H
#define TELEOP_RETARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "teleop/chain.h"
#include "teleop/ik.h"
#include "teleop/operator.h"

#define TP_HAND_DOF_MAX 16

/* Operator (OpenXR stage) → robot torso frame:
 *   p_robot = robot_anchor + scale * B * (p_xr - xr_anchor)
 * with B the fixed change of axes (+X_robot = -Z_xr, +Y_robot = -X_xr,
 * +Z_robot = +Y_xr). xr_anchor is the operator's neutral head position,
 * robot_anchor the robot's head (camera) position in the torso frame. */
typedef struct tp_calibration {
    double scale;
    tp_vec3 xr_anchor;
    tp_vec3 robot_anchor;
} tp_calibration;

void tp_calibration_default(tp_calibration *cal);
tp_vec3 tp_calibration_point(const tp_calibration *cal, tp_vec3 p_xr);
/* The inverse map: robot torso frame → OpenXR stage. */
tp_vec3 tp_calibration_point_inverse(const tp_calibration *cal, tp_vec3 p_robot);
/* Orientation of a frame given in OpenXR stage, expressed in the robot torso
 * frame (R_robot = B R_xr; the frame's own axes are unchanged). */
tp_quat tp_calibration_rotation(tp_quat q_xr);

/* Robot hand description for the finger mapping (Dex3-1-class by default):
 * joint limits in the robot's joint order (Dex3-1: zero … six = thumb0
 * thumb1 thumb2, then the two fingers' base and tip joints), for each joint
 * its open and closed values and the operator finger that drives it. */
typedef struct tp_hand_desc {
    int dof;
    double lower[TP_HAND_DOF_MAX], upper[TP_HAND_DOF_MAX];
    double closed[TP_HAND_DOF_MAX]; /* joint value of a closed fist */
    double open[TP_HAND_DOF_MAX];   /* joint value of a flat open hand */
    /* Operator finger driving each joint: 0 thumb, 1 index, 2 middle,
     * 3 ring, 4 little (the Dex3-1's index is three/four on the right hand
     * but five/six on the left). */
    int finger[TP_HAND_DOF_MAX];
} tp_hand_desc;

/* Dex3-1-class description from the 7 joint limits of one side. */
void tp_hand_desc_dex3(tp_hand_desc *desc, int side, const double *lower, const double *upper);

/* Finger flexion of one OpenXR hand: 0 = straight, 1 = fully curled, per
 * finger (thumb, index, middle, ring, little), from joint geometry. Returns
 * false when the hand is inactive or joints are invalid. */
bool tp_hand_flexion(const tp_hand_frame *hand, double flex[5]);
/* Robot hand joints from one operator hand (q has desc->dof values). */
bool tp_hand_retarget(const tp_hand_desc *desc, const tp_hand_frame *hand, double *q);

typedef struct tp_retarget_config {
    tp_calibration calibration;
    tp_ik_params ik;
    /* End-effector frame relative to the operator's wrist joint frame (the
     * robot hand's frame expressed in OpenXR hand axes is applied inside). */
} tp_retarget_config;

void tp_retarget_default_config(tp_retarget_config *cfg);

typedef struct tp_retargeter tp_retargeter;

/* arms[0] left, arms[1] right; hands likewise. */
tp_retargeter *tp_retarget_create(const tp_retarget_config *cfg, const tp_chain arms[2],
                                  const tp_hand_desc hands[2], char *err, size_t errlen);
void tp_retarget_destroy(tp_retargeter *rt);

/* Switches both hands from the flexion mapping to vector retargeting
 * (hand_vector.h), descs[0] left, descs[1] right: each must have the hands'
 * dof, and its joints are the action's hand joints in order. Setup only
 * (allocates the solvers); the retargeter owns them. 0 or -1 with a message. */
struct tp_hand_vector_desc;
struct tp_hand_vector_params;
int tp_retarget_use_hand_vector(tp_retargeter *rt, const struct tp_hand_vector_desc *descs,
                                const struct tp_hand_vector_params *params, char *err, size_t errlen);
/* "flexion" or "vector". */
const char *tp_retarget_hand_method(const tp_retargeter *rt);

/* Seeds the warm start (e.g. the robot's current joints, action order). */
void tp_retarget_seed(tp_retargeter *rt, const double *q);

typedef struct tp_retarget_status {
    bool arm_ok[2];           /* wrist tracked and IK produced a solution */
    bool hand_ok[2];
    double position_error[2]; /* m, IK residual */
    double orientation_error[2];
    tp_pose wrist_target[2]; /* in torso frame */
} tp_retarget_status;

/* One control cycle: writes the action (left arm, right arm, left hand, right
 * hand; 14 + 2 * hand dof values). Sides without valid input keep their last
 * values (hold). No allocation. */
void tp_retarget_step(tp_retargeter *rt, const tp_operator_frame *frame, double *action,
                      tp_retarget_status *status);

/* Robot end-effector orientation for an OpenXR wrist orientation (torso
 * frame), side 0 left / 1 right: exposed so tools can invert the mapping. */
tp_quat tp_retarget_wrist_to_ee(int side, tp_quat q_xr_wrist);
tp_quat tp_retarget_ee_to_wrist(int side, tp_quat q_robot_ee);

#endif
