/* teleop — the operator frame: everything the operator's devices say at one
 * instant, and its fixed float layout in the episode's "operator" stream.
 *
 * Poses are in the OpenXR convention the devices deliver (stage/local space:
 * metres, +Y up, -Z forward, quaternions x y z w); retargeting converts them
 * into the robot's frame through the calibration. Keeping the raw device frame
 * in the episode lets any episode be re-retargeted later.
 *
 * The struct is plain data, copied by value through SPSC rings; no pointers.
 */
#ifndef TELEOP_OPERATOR_H
#define TELEOP_OPERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/pose.h"

#define TP_HAND_JOINT_COUNT 26 /* XR_HAND_JOINT_COUNT_EXT */

/* XrHandJointEXT order. */
enum tp_hand_joint_id {
    TP_HJ_PALM = 0,
    TP_HJ_WRIST,
    TP_HJ_THUMB_METACARPAL,
    TP_HJ_THUMB_PROXIMAL,
    TP_HJ_THUMB_DISTAL,
    TP_HJ_THUMB_TIP,
    TP_HJ_INDEX_METACARPAL,
    TP_HJ_INDEX_PROXIMAL,
    TP_HJ_INDEX_INTERMEDIATE,
    TP_HJ_INDEX_DISTAL,
    TP_HJ_INDEX_TIP,
    TP_HJ_MIDDLE_METACARPAL,
    TP_HJ_MIDDLE_PROXIMAL,
    TP_HJ_MIDDLE_INTERMEDIATE,
    TP_HJ_MIDDLE_DISTAL,
    TP_HJ_MIDDLE_TIP,
    TP_HJ_RING_METACARPAL,
    TP_HJ_RING_PROXIMAL,
    TP_HJ_RING_INTERMEDIATE,
    TP_HJ_RING_DISTAL,
    TP_HJ_RING_TIP,
    TP_HJ_LITTLE_METACARPAL,
    TP_HJ_LITTLE_PROXIMAL,
    TP_HJ_LITTLE_INTERMEDIATE,
    TP_HJ_LITTLE_DISTAL,
    TP_HJ_LITTLE_TIP,
};

enum tp_side { TP_LEFT = 0, TP_RIGHT = 1 };

typedef struct tp_hand_joint {
    tp_pose pose;
    float radius; /* metres */
    bool valid;   /* position and orientation valid and tracked */
} tp_hand_joint;

typedef struct tp_hand_frame {
    bool active; /* the tracker reports this hand */
    tp_hand_joint joints[TP_HAND_JOINT_COUNT];
} tp_hand_frame;

/* Controller buttons, bit flags. */
enum tp_button {
    TP_BTN_A = 1u << 0, /* A or X */
    TP_BTN_B = 1u << 1, /* B or Y */
    TP_BTN_MENU = 1u << 2,
    TP_BTN_STICK = 1u << 3,
};

typedef struct tp_controller_frame {
    bool active;
    tp_pose grip; /* the grip pose (/input/grip/pose): the palm, +Z toward the wrist */
    tp_pose aim;  /* the aim pose (/input/aim/pose): the pointing ray, -Z forward */
    bool grip_valid, aim_valid; /* position and orientation valid */
    float trigger; /* 0..1 */
    float squeeze; /* 0..1 */
    float stick[2];
    uint32_t buttons; /* tp_button bits */
} tp_controller_frame;

typedef struct tp_operator_frame {
    int64_t t_ns; /* station monotonic clock at capture */
    tp_pose head;
    bool head_valid;
    tp_hand_frame hand[2];           /* TP_LEFT, TP_RIGHT */
    tp_controller_frame ctrl[2];     /* TP_LEFT, TP_RIGHT */
    bool engaged; /* clutch: teleoperation drives the robot only while true */
} tp_operator_frame;

/* Float layout of the "operator" stream, in order:
 *   head: px py pz qx qy qz qw valid                              (8)
 *   per hand (left, right): active, then per joint 0..25:
 *     px py pz qx qy qz qw radius valid                          (1 + 26*9)
 *   per controller (left, right): active trigger squeeze sx sy buttons,
 *     grip px py pz qx qy qz qw valid, aim px py pz qx qy qz qw valid  (22)
 *   engaged                                                       (1)
 * Booleans are 0.0 or 1.0; buttons is the bit mask as an exact float. */
#define TP_OPERATOR_CONTROLLER_DIMS 22
#define TP_OPERATOR_DIMS (8 + 2 * (1 + TP_HAND_JOINT_COUNT * 9) + 2 * TP_OPERATOR_CONTROLLER_DIMS + 1)

void tp_operator_pack(const tp_operator_frame *f, float out[TP_OPERATOR_DIMS]);
void tp_operator_unpack(const float in[TP_OPERATOR_DIMS], int64_t t_ns, tp_operator_frame *f);
/* Name of dimension i ("head.px", "left.index_tip.qw", ...) into buf. */
void tp_operator_dim_name(size_t i, char *buf, size_t len);
/* Lower-case joint name ("palm", "index_tip", ...). */
const char *tp_hand_joint_name(int joint);

#endif
