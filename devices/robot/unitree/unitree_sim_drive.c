/* The simulated humanoid's joints driven like Unitree motors: per-step kp,
 * kd, targets and feed-forward torque on the MuJoCo model (see the header). */
#include "unitree_sim_drive.h"

#include <math.h>
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/sim_internal.h"

struct tp_unitree_sim_drive {
  tp_sim *sim;
  mjData *scratch; /* gravity torques at a configuration other than the live one */
  double model_kp[TP_SIM_ACTION_DIMS], model_kd[TP_SIM_ACTION_DIMS];
  double home[TP_SIM_ACTION_DIMS];
};

struct tp_unitree_sim_drive *tp_unitree_sim_drive_create(tp_sim *sim, char *err, size_t errlen)
{
  const mjModel *m = sim->m;
  for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
    int a = sim->actuator[i];
    /* A position actuator: force = kp ctrl - kp q (- kv dq). Another kind
     * would not turn kp into a position gain. */
    if (m->actuator_gaintype[a] != mjGAIN_FIXED || m->actuator_biastype[a] != mjBIAS_AFFINE ||
        m->actuator_gear[6 * a] != 1.0 || m->actuator_gainprm[mjNGAIN * a] <= 0 ||
        m->actuator_biasprm[mjNBIAS * a + 1] != -m->actuator_gainprm[mjNGAIN * a]) {
      snprintf(err, errlen, "%s: actuator of joint '%s' is not a position actuator (kp, gear 1)", sim->path,
               sim->names[i]);
      return NULL;
    }
  }
  struct tp_unitree_sim_drive *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(err, errlen, "%s: out of memory", sim->path);
    return NULL;
  }
  d->sim = sim;
  d->scratch = mj_makeData(m);
  if (!d->scratch) {
    snprintf(err, errlen, "%s: out of memory for simulation data", sim->path);
    free(d);
    return NULL;
  }
  for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
    int a = sim->actuator[i];
    d->model_kp[i] = m->actuator_gainprm[mjNGAIN * a];
    /* kv of a position actuator (explicit) adds to the joint's damping. */
    d->model_kd[i] = m->dof_damping[sim->dof_adr[i]] - m->actuator_biasprm[mjNBIAS * a + 2];
    d->home[i] = m->qpos0[sim->qpos_adr[i]];
  }
  return d;
}

void tp_unitree_sim_drive_destroy(struct tp_unitree_sim_drive *d)
{
  if (!d) return;
  mj_deleteData(d->scratch);
  free(d);
}

void tp_unitree_sim_drive_model_gains(const struct tp_unitree_sim_drive *d, int i, double *kp, double *kd)
{
  *kp = d->model_kp[i];
  *kd = d->model_kd[i];
}

void tp_unitree_sim_drive_home(const struct tp_unitree_sim_drive *d, double q[TP_SIM_ACTION_DIMS])
{
  memcpy(q, d->home, sizeof d->home);
}

void tp_unitree_sim_drive_step(struct tp_unitree_sim_drive *drive,
                               const struct tp_sim_joint_drive cmd[TP_SIM_ACTION_DIMS])
{
  tp_sim *s = drive->sim;
  mjModel *m = s->m;
  mjData *d = s->d;
  for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
    int a = s->actuator[i], dof = s->dof_adr[i];
    double kp = cmd[i].kp > 0 && isfinite(cmd[i].kp) ? cmd[i].kp : 0.0;
    double kd = cmd[i].kd > 0 && isfinite(cmd[i].kd) ? cmd[i].kd : 0.0;
    m->actuator_gainprm[mjNGAIN * a] = kp;
    m->actuator_biasprm[mjNBIAS * a + 1] = -kp;
    m->actuator_biasprm[mjNBIAS * a + 2] = 0.0;
    m->dof_damping[dof] = kd;
    if (isfinite(cmd[i].q)) d->ctrl[a] = cmd[i].q;
  }
  mj_step1(m, d);
  for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
    int dof = s->dof_adr[i];
    double ff = m->dof_damping[dof] * (isfinite(cmd[i].dq) ? cmd[i].dq : 0.0) +
                (isfinite(cmd[i].tau) ? cmd[i].tau : 0.0);
    d->qfrc_applied[dof] = ff + cmd[i].bias_weight * d->qfrc_bias[dof];
  }
  mj_step2(m, d);
}

void tp_unitree_sim_drive_read(const struct tp_unitree_sim_drive *drive, double *q, double *dq, double *tau)
{
  const tp_sim *s = drive->sim;
  const mjData *d = s->d;
  for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
    int dof = s->dof_adr[i];
    if (q) q[i] = d->qpos[s->qpos_adr[i]];
    if (dq) dq[i] = d->qvel[dof];
    if (tau) tau[i] = d->qfrc_actuator[dof] + d->qfrc_applied[dof] + d->qfrc_passive[dof];
  }
}

void tp_unitree_sim_drive_gravity(struct tp_unitree_sim_drive *drive, const double q[TP_SIM_ACTION_DIMS],
                                  double tau[TP_SIM_ACTION_DIMS])
{
  const tp_sim *s = drive->sim;
  const mjModel *m = s->m;
  mjData *g = drive->scratch;
  memcpy(g->qpos, s->d->qpos, sizeof(mjtNum) * (size_t)m->nq);
  memset(g->qvel, 0, sizeof(mjtNum) * (size_t)m->nv);
  for (int i = 0; i < TP_SIM_ACTION_DIMS; i++)
    if (isfinite(q[i])) g->qpos[s->qpos_adr[i]] = fmin(s->upper[i], fmax(s->lower[i], q[i]));
  mj_kinematics(m, g);
  mj_comPos(m, g);
  /* At rest the inverse dynamics without acceleration is gravity alone. */
  mj_rne(m, g, 0, g->qfrc_bias);
  for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) tau[i] = g->qfrc_bias[s->dof_adr[i]];
}
