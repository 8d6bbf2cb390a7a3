/* Test support: an operator motion that drives the robot's left arm into
 * its limits, run through the real controller on the simulated humanoid's
 * model, sampled as the headset view would read the limit figures.
 *
 * The right wrist stays in front of the robot; the left one starts there
 * and, from 1 s, moves outwards (operator's left, -X in OpenXR) and up at
 * 0.25 m/s, far past the workspace box and the arm's reach, and from 5 s
 * comes back. 9 s of 500 Hz control ticks in simulated time; every 8th
 * tick (62.5 Hz) is a view sample. */
#ifndef TELEOP_TEST_LIMIT_MOTION_H
#define TELEOP_TEST_LIMIT_MOTION_H

#include <stdint.h>

#include "teleop/operator.h"
#include "teleop/operator_feedback.h"

#define LIMIT_MOTION_T0_NS 1000000000LL
#define LIMIT_MOTION_TICK_NS 2000000LL
#define LIMIT_MOTION_TICKS 4500
#define LIMIT_MOTION_SAMPLE_EVERY 8

void limit_motion_frame(int64_t t_ns, tp_operator_frame *f);

/* Runs the motion; for each view sample calls sample(user, command (the
 * sim's action layout), figures). 0, or -1 with a message (model, controller). */
int limit_motion_run(const char *model_path, void (*sample)(void *user, const double *command,
                                                             const tp_limit_figures *fig),
                     void *user, char *err, size_t errlen);

#endif
