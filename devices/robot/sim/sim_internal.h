/* teleop — simulator internals shared by physics and renderer (private). */
#ifndef TELEOP_SIM_INTERNAL_H
#define TELEOP_SIM_INTERNAL_H

#include <mujoco/mujoco.h>
#include <stdbool.h>
#include <stddef.h>

#include "teleop/sim.h"

struct tp_sim {
    mjModel *m;
    mjData *d;
    mjData *gravity; /* scratch for tp_sim_gravity_torque: never the simulated state */
    char path[1024];
    char names[TP_SIM_ACTION_DIMS][64];
    int qpos_adr[TP_SIM_ACTION_DIMS], dof_adr[TP_SIM_ACTION_DIMS], actuator[TP_SIM_ACTION_DIMS];
    double lower[TP_SIM_ACTION_DIMS], upper[TP_SIM_ACTION_DIMS], max_velocity[TP_SIM_ACTION_DIMS];
    double target[TP_SIM_ACTION_DIMS], prev_target[TP_SIM_ACTION_DIMS], target_vel[TP_SIM_ACTION_DIMS];
    double target_time, feedforward_until;
    int torso_body;
};

/* MuJoCo's warnings and errors go to teleop's log (never MUJOCO_LOG.TXT):
 * init installs the handlers (once per process; call before any MuJoCo
 * call). Warnings between loading() and loaded(ok) are the model's: logged
 * when it is accepted, dropped when refused (the refusal is the one line).
 * On any other thread (the control loop steps MuJoCo) a warning is kept and
 * logged by flush, from a thread that may log. An error is logged and ends
 * the process (MuJoCo cannot go on after one). */
void tp_mujoco_log_init(void);
void tp_mujoco_loading(void);
void tp_mujoco_loaded(bool ok);
void tp_mujoco_log_flush(void);
/* Every real number of the compiled model (options, every mjtNum and float
 * array, statistics) is finite; false with "PATH: geom 'table' friction is
 * nan" in err. */
bool tp_mujoco_check_model(const mjModel *m, const char *path, char *err, size_t errlen);

/* Chain from base body to tip (site, else body) of a loaded model. */
int tp_mjcf_model_chain(const mjModel *m, const char *path, const char *base_body, const char *tip, tp_chain *out,
                        char *err, size_t errlen);

#endif
