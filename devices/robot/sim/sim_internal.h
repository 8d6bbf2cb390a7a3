/* teleop — simulator internals shared by physics and renderer (private). */
#ifndef TELEOP_SIM_INTERNAL_H
#define TELEOP_SIM_INTERNAL_H

#include <mujoco/mujoco.h>

#include "teleop/sim.h"

struct tp_sim {
    mjModel *m;
    mjData *d;
    char path[1024];
    char names[TP_SIM_ACTION_DIMS][64];
    int qpos_adr[TP_SIM_ACTION_DIMS], dof_adr[TP_SIM_ACTION_DIMS], actuator[TP_SIM_ACTION_DIMS];
    double lower[TP_SIM_ACTION_DIMS], upper[TP_SIM_ACTION_DIMS], max_velocity[TP_SIM_ACTION_DIMS];
    double target[TP_SIM_ACTION_DIMS], prev_target[TP_SIM_ACTION_DIMS], target_vel[TP_SIM_ACTION_DIMS];
    double target_time, feedforward_until;
    int torso_body;
};

/* Chain from base body to tip (site, else body) of a loaded model. */
int tp_mjcf_model_chain(const mjModel *m, const char *path, const char *base_body, const char *tip, tp_chain *out,
                        char *err, size_t errlen);

#endif
