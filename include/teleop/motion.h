/* teleop — recorded operator motion: a time series of operator frames that
 * replay devices play back (the bundled demo motion, or any CSV written by
 * teleop-motion-gen).
 *
 * File format (docs/motion-format.md): CSV, first line a header naming the
 * columns "t_s" then the TP_OPERATOR_DIMS operator-stream dimension names
 * (operator.h), then one row per frame with strictly increasing t_s.
 *
 * Part of core (beside the operator frame it carries): replay devices and
 * tools read motion files without the retargeting library. The demo motion
 * generator, which designs poses with the retargeter, is motion_demo.h.
 *
 * Memory: tp_motion_load returns a motion owned by the caller
 * (tp_motion_free). tp_motion_sample allocates nothing.
 */
#ifndef TELEOP_MOTION_H
#define TELEOP_MOTION_H

#include <stdbool.h>
#include <stddef.h>

#include "teleop/operator.h"

typedef struct tp_motion tp_motion;

tp_motion *tp_motion_load(const char *path, char *err, size_t errlen);
/* A motion from count in-memory frames (e.g. an episode's operator stream):
 * t_s strictly increasing seconds, rows count * TP_OPERATOR_DIMS floats, both
 * copied. Errors name `what` and the row: "what: row 7: t 0.1 does not
 * increase (previous 0.1)". */
tp_motion *tp_motion_from_rows(const double *t_s, const float *rows, size_t count, const char *what, char *err,
                               size_t errlen);
void tp_motion_free(tp_motion *m);
size_t tp_motion_frame_count(const tp_motion *m);
double tp_motion_duration(const tp_motion *m); /* seconds, last t_s - first t_s */

/* Frame at time t (seconds from the motion's start): poses interpolated
 * (lerp/slerp), flags from the earlier frame. With loop, t wraps around.
 * out->t_ns is left to the caller. */
void tp_motion_sample(const tp_motion *m, double t, bool loop, tp_operator_frame *out);

#endif
