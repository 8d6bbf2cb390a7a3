/* unitree_sim_drive: the simulated humanoid's joints driven the way a
 * Unitree motor driver drives them, for `teleop sim --dds`.
 *
 * A motor driver computes tau = kp (q_target - q) + kd (dq_target - dq) +
 * tau_ff. Here each of the tp_sim's 28 action joints gets such a command
 * every physics step: kp goes into the joint's MuJoCo position actuator
 * (gainprm/biasprm), kd into the joint's damping (integrated implicitly by
 * the Euler integrator, so a large kd stays stable), kd dq_target + tau_ff
 * into the applied joint force, plus a chosen fraction of the model's bias
 * force (gravity and Coriolis at the current state: the built-in
 * controller's compensation). The model's own actuator kp and joint damping
 * are "the robot's own gains" (tp_unitree_sim_drive_model_gains).
 *
 * Ownership: the drive borrows the tp_sim (which must outlive it) and owns
 * a scratch mjData for gravity torques; tp_unitree_sim_drive_destroy frees
 * it. step and read allocate nothing (real-time safe); gravity allocates
 * nothing either but runs the model's kinematics (tens of microseconds). */
#ifndef TELEOP_UNITREE_SIM_DRIVE_H
#define TELEOP_UNITREE_SIM_DRIVE_H

#include <stddef.h>

#include "teleop/sim.h"

/* One action joint's command for the next physics step. */
struct tp_sim_joint_drive {
  double q, dq;       /* targets (q clamped to the joint's range by the actuator) */
  double kp, kd;      /* gains, >= 0 */
  double tau;         /* feed-forward joint torque (N m) */
  double bias_weight; /* fraction of the model's gravity + Coriolis force added (0..1) */
};

struct tp_unitree_sim_drive;

struct tp_unitree_sim_drive *tp_unitree_sim_drive_create(tp_sim *sim, char *err, size_t errlen);
void tp_unitree_sim_drive_destroy(struct tp_unitree_sim_drive *drive);

/* The model's own position gain and joint damping of action joint i. */
void tp_unitree_sim_drive_model_gains(const struct tp_unitree_sim_drive *drive, int i, double *kp,
                                      double *kd);
/* The model's initial arm and hand pose (qpos0), action order. */
void tp_unitree_sim_drive_home(const struct tp_unitree_sim_drive *drive, double q[TP_SIM_ACTION_DIMS]);

/* One physics step with cmd[TP_SIM_ACTION_DIMS] applied throughout. */
void tp_unitree_sim_drive_step(struct tp_unitree_sim_drive *drive,
                               const struct tp_sim_joint_drive cmd[TP_SIM_ACTION_DIMS]);

/* Positions, velocities and the joint torque the drive produced in the last
 * step (actuator + applied + damping force: a motor's tau_est), action
 * order; any pointer may be NULL. */
void tp_unitree_sim_drive_read(const struct tp_unitree_sim_drive *drive, double *q, double *dq, double *tau);

/* The model's gravity torque on the action joints with the arms and hands
 * at q (action order), at rest: the feed-forward that holds q. */
void tp_unitree_sim_drive_gravity(struct tp_unitree_sim_drive *drive, const double q[TP_SIM_ACTION_DIMS],
                                  double tau[TP_SIM_ACTION_DIMS]);

#endif
