/* teleop — a kinematic model of a human hand that produces the 26 OpenXR
 * hand joints (XR_EXT_hand_tracking conventions: -Z along each bone toward
 * the fingertip, +Y out of the back of the hand) from a wrist pose and five
 * finger flexions. Used to generate operator motions and test hands; adult
 * bone lengths, flexion 0 = flat hand, 1 = fist (the totals match
 * tp_hand_flexion's, so flexion round-trips).
 *
 * Plain function over caller-owned structs; no allocation.
 */
#ifndef TELEOP_HANDMODEL_H
#define TELEOP_HANDMODEL_H

#include "teleop/operator.h"

/* side 0 left, 1 right; flex: thumb, index, middle, ring, little in [0, 1].
 * Writes all 26 joints (valid) and sets hand->active. */
void tp_hand_model_pose(int side, tp_pose wrist, const double flex[5], tp_hand_frame *hand);

/* The frame the fingers are read in: the wrist when it is tracked; else,
 * when the palm is (a glove alone: tp_glove_fuse marks the wrist invalid so
 * the arm holds), the wrist this model places behind that palm. false when
 * neither is valid and finite. Used by both hand retargeting methods, so a
 * hand without a wrist still moves the robot's fingers; the arm's own check
 * (retarget.c) still requires the tracked wrist. */
bool tp_hand_finger_frame(int side, const tp_hand_frame *hand, tp_pose *wrist);

#endif
