/* teleop — the bundled demo operator motion, generated procedurally: poses
 * designed in the robot's torso frame and mapped to stage coordinates with the
 * retargeter's default calibration (hence in the retarget library, while the
 * motion file format itself, motion.h, is core).
 *
 * Memory: nothing retained; the file is created with output_file.h's policy. */
#ifndef TELEOP_MOTION_DEMO_H
#define TELEOP_MOTION_DEMO_H

#include <stddef.h>

/* The demo motion (reach, grasp, lift, place, release with the right hand,
 * a wave of the left), written as a motion CSV (motion.h) at rate_hz. */
int tp_motion_write_demo(const char *path, double rate_hz, char *err, size_t errlen);

#endif
