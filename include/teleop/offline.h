/* teleop — offline retargeting: re-run the control path on a recorded
 * episode's operator stream (other calibration, parameters or robot model)
 * and write a new episode with the same video, the same operator stream and
 * newly computed state and action, simulated in episode time (not real time).
 *
 * Memory: arguments are borrowed for the call; the source episode is opened
 * read-only and never modified.
 */
#ifndef TELEOP_OFFLINE_H
#define TELEOP_OFFLINE_H

#include <stddef.h>

#include "teleop/session.h"

typedef struct tp_offline_stats {
    long long operator_frames, control_cycles, packets;
} tp_offline_stats;

/* cfg supplies the robot model, control rate and retargeting configuration
 * (resolved paths). Fails if out_path exists. 0, or -1 with a message. */
int tp_offline_retarget(const char *episode_path, const tp_session_config *cfg, const char *out_path,
                        tp_offline_stats *stats, char *err, size_t errlen);

#endif
