/* teleop — per-operator calibration: measuring it from operator motion, and
 * calibration files.
 *
 * A calibration (tp_calibration, retarget.h) aligns the operator's frame with
 * the robot's: the operator's neutral head position, and the ratio of robot
 * reach to operator reach. It is measured from a short capture (a recorded
 * episode's operator stream or a motion file): the operator stands still in
 * a neutral pose for the first seconds, then reaches both arms out fully.
 *
 * Files (calibration/<name>.ini, documented in calibration/README.md) use the
 * station config syntax, section [calibration]. Memory: everything here works
 * on caller-owned structs.
 */
#ifndef TELEOP_CALIBRATION_H
#define TELEOP_CALIBRATION_H

#include <stddef.h>

#include "teleop/chain.h"
#include "teleop/config.h"
#include "teleop/operator.h"
#include "teleop/retarget.h"

typedef struct tp_operator_calibration {
    char id[64];          /* recorded in each episode's meta.calibration */
    char operator_name[64];
    tp_calibration calibration;
    double human_reach;   /* m, head to fully extended wrist */
    double robot_reach;   /* m, robot head anchor to fully extended end effector */
    double hand_length;   /* m, wrist to middle fingertip, open hand */
} tp_operator_calibration;

/* Greatest distance from robot_anchor to the end effector over the arm's
 * joint space (deterministic sampling, then local refinement). */
double tp_robot_reach(const tp_chain *arm, tp_vec3 robot_anchor);

/* Measures from frames[n] (in time order, t_ns set): xr_anchor = mean head
 * position over the first neutral_s seconds; human_reach = the largest
 * head-to-wrist distance over all frames (either hand); scale =
 * robot_reach / human_reach; hand_length = median wrist-to-middle-tip
 * length over the neutral window. 0, or -1 with a message (no valid head,
 * no tracked hands, implausible reach). */
int tp_calibrate(const tp_operator_frame *frames, size_t n, double neutral_s, double robot_reach,
                 tp_vec3 robot_anchor, tp_operator_calibration *out, char *err, size_t errlen);

/* Reads [calibration] keys (id, operator, scale, xr_anchor_*, robot_anchor_*,
 * human_reach, robot_reach, hand_length) from a config; missing keys keep
 * the values already in *out. 0 or -1 (message names file, line, key). */
int tp_calibration_from_config(tp_config *cfg, tp_operator_calibration *out, char *err, size_t errlen);
int tp_calibration_save(const char *path, const tp_operator_calibration *cal, char *err, size_t errlen);
int tp_calibration_load(const char *path, tp_operator_calibration *out, char *err, size_t errlen);
void tp_operator_calibration_default(tp_operator_calibration *out);

#endif
