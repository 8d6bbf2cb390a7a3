/* teleop — optimization-based hand retargeting ("vector" method of
 * dex-retargeting): robot hand joints q minimise
 *   mean_k Huber_delta(|v_k(q) - s * v_k^human|) + lambda * |q - q_prev|^2
 * within the joint limits, where v_k are keypoint-to-keypoint vectors (the hand
 * base or a fingertip to a fingertip) on the robot (forward kinematics) and on
 * the operator's OpenXR hand (expressed in the robot hand base frame).
 *
 * A tp_hand_vector_desc is plain caller-owned data (fixed size, no pointers):
 * one serial chain from the hand base link to each fingertip, the map from
 * chain joints to the hand's joint vector (joints are identified by name, so a
 * joint shared by two chains is one variable), limits, and the vector list.
 * It is filled from a URDF plus a small mapping (tp_hand_vector_spec, whose
 * strings are only read during the call) or by the ready-made Dex3-1 and
 * Inspire loaders.
 *
 * tp_hand_vector_create copies the description and allocates all solver
 * memory once; tp_hand_vector_retarget allocates nothing, does not lock or
 * log, runs a bounded number of iterations and is control-loop safe. The
 * caller owns the tp_hand_vector (tp_hand_vector_destroy) and every array it
 * passes.
 */
#ifndef TELEOP_HAND_VECTOR_H
#define TELEOP_HAND_VECTOR_H

#include <stddef.h>

#include "teleop/chain.h"
#include "teleop/operator.h"
#include "teleop/urdf.h"

#define TP_HV_MAX_TIPS 6
#define TP_HV_MAX_KEYPOINTS (1 + TP_HV_MAX_TIPS) /* 0 = hand base, 1.. = fingertips */
#define TP_HV_MAX_VECTORS 16
#define TP_HV_MAX_DOF 16

/* Mapping config for one hand; strings are read during the call only. */
typedef struct tp_hand_vector_spec {
    int side;              /* TP_LEFT or TP_RIGHT: selects the OpenXR -> hand axes */
    const char *base_link; /* hand base (palm) link: its frame is the robot hand frame */
    int n_tips;
    const char *tip_link[TP_HV_MAX_TIPS];
    tp_vec3 tip_offset[TP_HV_MAX_TIPS]; /* fingertip point in the tip link frame (m) */
    int tip_human[TP_HV_MAX_TIPS];      /* OpenXR joint of each fingertip (TP_HJ_*) */
    int base_human;                     /* OpenXR joint matching the base (usually TP_HJ_WRIST) */
    /* Vectors as keypoint pairs (0 = base, i = tip_link[i-1]); n_vectors 0
     * means one vector base -> each tip, as in dex-retargeting's examples. */
    int n_vectors;
    int origin[TP_HV_MAX_VECTORS], task[TP_HV_MAX_VECTORS];
    double scaling; /* robot size / human size; <= 0 means 1 */
    /* Orientation of the URDF base frame in the robot-hand convention of
     * tp_retarget_wrist_to_ee (+X toward the fingers, palm toward -Y for the
     * left hand and +Y for the right); a zero quaternion means identity. */
    tp_quat base_in_ee;
    /* Optional hand joint order by name (n_joints 0: order of first
     * appearance along the chains, tips in order). */
    int n_joints;
    const char *joint_name[TP_HV_MAX_DOF];
} tp_hand_vector_spec;

typedef struct tp_hand_vector_desc {
    int side;
    int dof;
    char joint_name[TP_HV_MAX_DOF][TP_NAME_MAX];
    double lower[TP_HV_MAX_DOF], upper[TP_HV_MAX_DOF];
    int n_tips;
    tp_chain chain[TP_HV_MAX_TIPS];        /* base -> tip, tip offset folded into chain.tip */
    int chain_var[TP_HV_MAX_TIPS][TP_CHAIN_MAX_JOINTS]; /* chain joint -> hand joint index */
    int human[TP_HV_MAX_KEYPOINTS];        /* OpenXR joint per keypoint */
    int n_vectors;
    int origin[TP_HV_MAX_VECTORS], task[TP_HV_MAX_VECTORS];
    double scaling;
    tp_mat3 ee_to_base; /* rotates robot-hand-convention vectors into the base frame */
} tp_hand_vector_desc;

/* From a loaded URDF and a mapping. Errors name the link, joint or field. 0 / -1. */
int tp_hand_vector_desc_from_urdf(const tp_urdf *u, const tp_hand_vector_spec *spec, tp_hand_vector_desc *out,
                                  char *err, size_t errlen);
/* Same, loading the URDF file at path. */
int tp_hand_vector_desc_load(const char *urdf_path, const tp_hand_vector_spec *spec, tp_hand_vector_desc *out,
                             char *err, size_t errlen);

/* Ready-made: Dex3-1 (side 0 left / 1 right) from g1_upper_body.urdf — base
 * <side>_hand_palm_link, tips thumb (two_link), index (four_link), middle
 * (six_link) with a 0.045 m fingertip offset, 7 joints in Unitree's order
 * zero..six, scaling 1.0. */
int tp_hand_vector_desc_dex3(const char *g1_urdf_path, int side, tp_hand_vector_desc *out, char *err,
                             size_t errlen);
/* Inspire-class right hand from inspire_hand_right.urdf — base
 * hand_base_link, tips thumb/index/middle/ring/little_tip, 6 joints (thumb yaw,
 * thumb bend, index, middle, ring, little), scaling 1.1. */
int tp_hand_vector_desc_inspire_right(const char *urdf_path, tp_hand_vector_desc *out, char *err, size_t errlen);

typedef struct tp_hand_vector_params {
    double huber_delta; /* m; dex-retargeting 0.02 */
    double norm_delta;  /* temporal weight lambda; dex-retargeting 4e-3 */
    int max_iterations; /* per frame, bounds the cost */
    double tolerance;   /* stop when the step is below this (rad) */
} tp_hand_vector_params;

void tp_hand_vector_default_params(tp_hand_vector_params *p);

typedef struct tp_hand_vector tp_hand_vector;

/* params may be NULL (defaults). NULL with a message on an invalid description. */
tp_hand_vector *tp_hand_vector_create(const tp_hand_vector_desc *desc, const tp_hand_vector_params *params,
                                      char *err, size_t errlen);
void tp_hand_vector_destroy(tp_hand_vector *h);
const tp_hand_vector_desc *tp_hand_vector_description(const tp_hand_vector *h);

/* Seeds the warm start and the temporal term (clipped to the limits);
 * q NULL resets to the middle of the limits, dex-retargeting's first guess. */
void tp_hand_vector_seed(tp_hand_vector *h, const double *q);

/* One frame: writes desc->dof joint values to q_out and keeps them as the
 * next warm start. -1 (q_out untouched) when the hand is inactive or a joint
 * it needs is invalid or non-finite. No allocation. */
int tp_hand_vector_retarget(tp_hand_vector *h, const tp_hand_frame *human, double *q_out);

/* Human vectors of one frame in the robot hand base frame, already scaled
 * (n_vectors x 3). -1 as above. No allocation; for tools and tests. */
int tp_hand_vector_human_vectors(const tp_hand_vector_desc *desc, const tp_hand_frame *human, tp_vec3 *out);
/* Keypoint positions (n_tips + 1, base first) in the base frame at q. */
void tp_hand_vector_keypoints(const tp_hand_vector_desc *desc, const double *q, tp_vec3 *out);
/* Cost of q against one frame's human vectors (Huber term only). */
double tp_hand_vector_cost(const tp_hand_vector *h, const tp_vec3 *human_vectors, const double *q);

#endif
