/* teleop — simulated humanoid: MuJoCo physics stepped by the control thread. */
#include "teleop/sim.h"

#include <math.h>
#include <stdbool.h>
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static const char *const arm_joints[TP_SIM_ARM_DOF] = {
    "shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow", "wrist_roll", "wrist_pitch", "wrist_yaw",
};
static const char *const hand_joints[TP_SIM_HAND_DOF] = {"zero", "one", "two", "three", "four", "five", "six"};

static tp_quat quat_from_mj(const mjtNum *q) { return (tp_quat){q[1], q[2], q[3], q[0]}; }

static void action_joint_name(int i, char *buf, size_t len)
{
    const char *side = (i < 14 ? (i < 7 ? "left" : "right") : (i < 21 ? "left" : "right"));
    if (i < 14)
        snprintf(buf, len, "%s_%s_joint", side, arm_joints[i % 7]);
    else
        snprintf(buf, len, "%s_hand_%s_joint", side, hand_joints[(i - 14) % 7]);
}

tp_sim *tp_sim_create(const char *mjcf_path, char *err, size_t errlen)
{
    char mjerr[1000] = "";
    tp_mujoco_log_init();
    tp_mujoco_loading();
    mjModel *m = mj_loadXML(mjcf_path, NULL, mjerr, sizeof mjerr);
    if (!m) {
        tp_mujoco_loaded(false);
        for (char *c = mjerr; *c; c++) /* MuJoCo's message spans lines */
            if (*c == '\n')
                *c = ' ';
        snprintf(err, errlen, "%s: cannot load model: %s", mjcf_path, mjerr);
        return NULL;
    }
    bool finite = tp_mujoco_check_model(m, mjcf_path, err, errlen);
    tp_mujoco_loaded(finite);
    if (!finite) {
        mj_deleteModel(m);
        return NULL;
    }
    tp_sim *s = calloc(1, sizeof *s);
    if (!s) {
        mj_deleteModel(m);
        snprintf(err, errlen, "%s: out of memory", mjcf_path);
        return NULL;
    }
    s->m = m;
    snprintf(s->path, sizeof s->path, "%s", mjcf_path);
    for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
        action_joint_name(i, s->names[i], sizeof s->names[i]);
        int j = mj_name2id(m, mjOBJ_JOINT, s->names[i]);
        if (j < 0 || m->jnt_type[j] != mjJNT_HINGE) {
            snprintf(err, errlen, "%s: hinge joint '%s' not found", mjcf_path, s->names[i]);
            tp_sim_destroy(s);
            return NULL;
        }
        s->qpos_adr[i] = m->jnt_qposadr[j];
        s->dof_adr[i] = m->jnt_dofadr[j];
        s->lower[i] = m->jnt_range[2 * j];
        s->upper[i] = m->jnt_range[2 * j + 1];
        s->actuator[i] = -1;
        for (int a = 0; a < m->nu; a++)
            if (m->actuator_trntype[a] == mjTRN_JOINT && m->actuator_trnid[2 * a] == j)
                s->actuator[i] = a;
        if (s->actuator[i] < 0) {
            snprintf(err, errlen, "%s: joint '%s' has no actuator", mjcf_path, s->names[i]);
            tp_sim_destroy(s);
            return NULL;
        }
        char key[96];
        snprintf(key, sizeof key, "%s.max_velocity", s->names[i]);
        int nid = mj_name2id(m, mjOBJ_NUMERIC, key);
        /* The velocity limit is a fact of the robot, kept in the model next to
         * the joint range; guessing one would let the safety layer pass
         * commands the real joint cannot follow. */
        if (nid < 0 || m->numeric_size[nid] < 1 || !(m->numeric_data[m->numeric_adr[nid]] > 0)) {
            snprintf(err, errlen, "%s: joint '%s' needs a positive <custom><numeric name=\"%s\"/>", mjcf_path,
                     s->names[i], key);
            tp_sim_destroy(s);
            return NULL;
        }
        s->max_velocity[i] = m->numeric_data[m->numeric_adr[nid]];
    }
    s->torso_body = mj_name2id(m, mjOBJ_BODY, "torso_link");
    if (s->torso_body < 0) {
        snprintf(err, errlen, "%s: body 'torso_link' not found", mjcf_path);
        tp_sim_destroy(s);
        return NULL;
    }
    s->d = mj_makeData(m);
    if (!s->d) {
        snprintf(err, errlen, "%s: out of memory for simulation data", mjcf_path);
        tp_sim_destroy(s);
        return NULL;
    }
    s->gravity = mj_makeData(m);
    if (!s->gravity) {
        snprintf(err, errlen, "%s: out of memory for simulation data", mjcf_path);
        tp_sim_destroy(s);
        return NULL;
    }
    mj_forward(m, s->d);
    for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
        s->target[i] = s->d->qpos[s->qpos_adr[i]];
        s->prev_target[i] = s->target[i];
        s->d->ctrl[s->actuator[i]] = s->target[i];
    }
    return s;
}

void tp_sim_destroy(tp_sim *s)
{
    tp_mujoco_log_flush(); /* warnings MuJoCo raised while the loop stepped */
    if (!s)
        return;
    if (s->d)
        mj_deleteData(s->d);
    if (s->gravity)
        mj_deleteData(s->gravity);
    if (s->m)
        mj_deleteModel(s->m);
    free(s);
}

double tp_sim_timestep(const tp_sim *s) { return s->m->opt.timestep; }
int tp_sim_joint_count(const tp_sim *s)
{
    (void)s;
    return TP_SIM_ACTION_DIMS;
}
const char *tp_sim_joint_name(const tp_sim *s, int i) { return i >= 0 && i < TP_SIM_ACTION_DIMS ? s->names[i] : NULL; }

void tp_sim_joint_limits(const tp_sim *s, int i, double *lower, double *upper)
{
    bool ok = i >= 0 && i < TP_SIM_ACTION_DIMS;
    *lower = ok ? s->lower[i] : NAN;
    *upper = ok ? s->upper[i] : NAN;
}

double tp_sim_joint_max_velocity(const tp_sim *s, int i)
{
    return i >= 0 && i < TP_SIM_ACTION_DIMS ? s->max_velocity[i] : NAN;
}

int tp_sim_camera_info(const tp_sim *s, const char *camera, double *fovy_deg, const char **body, double pos[3],
                       double quat_wxyz[4])
{
    int id = camera ? mj_name2id(s->m, mjOBJ_CAMERA, camera) : -1;
    if (id < 0)
        return -1;
    *fovy_deg = s->m->cam_fovy[id];
    const char *name = mj_id2name(s->m, mjOBJ_BODY, s->m->cam_bodyid[id]);
    *body = name ? name : "world";
    for (int k = 0; k < 3; k++)
        pos[k] = s->m->cam_pos[3 * id + k];
    for (int k = 0; k < 4; k++)
        quat_wxyz[k] = s->m->cam_quat[4 * id + k];
    return 0;
}

void tp_sim_set_targets(tp_sim *s, const double *q_target)
{
    double now = s->d->time;
    double dt = now - s->target_time;
    for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
        double v = q_target[i];
        if (!isfinite(v))
            continue; /* keep the previous target */
        v = v < s->lower[i] ? s->lower[i] : v > s->upper[i] ? s->upper[i] : v;
        s->prev_target[i] = s->target[i];
        s->target[i] = v;
        /* Target velocity for the damping feed-forward: PD on position and
         * velocity error, so tracking has no damping lag. */
        double vel = dt > 0 ? (s->target[i] - s->prev_target[i]) / dt : 0.0;
        /* A jump in the target is not a velocity to follow. */
        s->target_vel[i] = fmax(-s->max_velocity[i], fmin(s->max_velocity[i], vel));
        s->d->ctrl[s->actuator[i]] = v;
    }
    s->target_time = now;
    /* The feed-forward holds until the next update is due; a caller that
     * stops updating gets plain position control, not a stale velocity. */
    s->feedforward_until = now + (dt > 0 ? dt : 0);
}

void tp_sim_mirror_joints(tp_sim *s, const double *q)
{
    for (int i = 0; i < TP_SIM_ACTION_DIMS; i++)
        if (isfinite(q[i]))
            s->d->qpos[s->qpos_adr[i]] = q[i];
}

void tp_sim_step(tp_sim *s)
{
    mjModel *m = s->m;
    mjData *d = s->d;
    mj_step1(m, d);
    bool feedforward = d->time < s->feedforward_until + 0.5 * m->opt.timestep;
    /* Gravity and Coriolis compensation plus damping feed-forward on the
     * robot's joints, as a real arm's controller adds feed-forward torque. */
    for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
        int dof = s->dof_adr[i];
        d->qfrc_applied[dof] = d->qfrc_bias[dof] + (feedforward ? m->dof_damping[dof] * s->target_vel[i] : 0.0);
    }
    mj_step2(m, d);
}

void tp_sim_reset_joints(tp_sim *s, const double *q)
{
    for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
        double v = isfinite(q[i]) ? q[i] : s->target[i];
        v = v < s->lower[i] ? s->lower[i] : v > s->upper[i] ? s->upper[i] : v;
        s->d->qpos[s->qpos_adr[i]] = v;
        s->d->qvel[s->dof_adr[i]] = 0;
        s->target[i] = s->prev_target[i] = v;
        s->target_vel[i] = 0;
        s->d->ctrl[s->actuator[i]] = v;
    }
    mj_forward(s->m, s->d);
}

void tp_sim_gravity_torque(tp_sim *s, const double *q, double *tau)
{
    /* In a data of its own, so the simulated state (and whatever else reads
     * it) is untouched: the model at rest in its reference pose with the
     * robot's joints at q; the bias force at zero velocity is then gravity
     * alone (MuJoCo's stack is preallocated: nothing is allocated). */
    const mjModel *m = s->m;
    mjData *g = s->gravity;
    mju_copy(g->qpos, m->qpos0, m->nq);
    mju_zero(g->qvel, m->nv);
    for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
        double v = isfinite(q[i]) ? q[i] : m->qpos0[s->qpos_adr[i]];
        g->qpos[s->qpos_adr[i]] = v < s->lower[i] ? s->lower[i] : v > s->upper[i] ? s->upper[i] : v;
    }
    mj_kinematics(m, g);
    mj_comPos(m, g);
    mj_comVel(m, g);
    mj_rne(m, g, 0, g->qfrc_bias);
    for (int i = 0; i < TP_SIM_ACTION_DIMS; i++)
        tau[i] = g->qfrc_bias[s->dof_adr[i]];
}

double tp_sim_time(const tp_sim *s) { return s->d->time; }

void tp_sim_read_state(const tp_sim *s, double *q, double *qd)
{
    for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
        if (q)
            q[i] = s->d->qpos[s->qpos_adr[i]];
        if (qd)
            qd[i] = s->d->qvel[s->dof_adr[i]];
    }
}

bool tp_sim_has_camera(const tp_sim *s, const char *name) { return mj_name2id(s->m, mjOBJ_CAMERA, name) >= 0; }

int tp_sim_site_pose(const tp_sim *s, const char *name, tp_pose *out)
{
    mj_kinematics(s->m, s->d); /* poses for the current qpos, not the last step's */
    int id = mj_name2id(s->m, mjOBJ_SITE, name);
    if (id >= 0) {
        const mjtNum *p = s->d->site_xpos + 3 * id, *r = s->d->site_xmat + 9 * id;
        tp_mat3 mat = {{{r[0], r[1], r[2]}, {r[3], r[4], r[5]}, {r[6], r[7], r[8]}}};
        *out = (tp_pose){tp_v3(p[0], p[1], p[2]), tp_quat_from_mat3(mat)};
        return 0;
    }
    id = mj_name2id(s->m, mjOBJ_BODY, name);
    if (id < 0)
        return -1;
    const mjtNum *p = s->d->xpos + 3 * id;
    *out = (tp_pose){tp_v3(p[0], p[1], p[2]), quat_from_mj(s->d->xquat + 4 * id)};
    return 0;
}

int tp_sim_qpos_size(const tp_sim *s) { return s->m->nq; }

void tp_sim_copy_qpos(const tp_sim *s, double *dst) { memcpy(dst, s->d->qpos, sizeof(double) * (size_t)s->m->nq); }

int tp_sim_chain(const tp_sim *s, const char *base, const char *tip, tp_chain *out, char *err, size_t errlen)
{
    return tp_mjcf_model_chain(s->m, s->path, base, tip, out, err, errlen);
}

int tp_sim_arm_chain(const tp_sim *s, int side, tp_chain *out, char *err, size_t errlen)
{
    if (side != 0 && side != 1) {
        snprintf(err, errlen, "%s: arm side %d is neither 0 (left) nor 1 (right)", s->path, side);
        return -1;
    }
    const char *site_name = side == 0 ? "left_ee" : "right_ee";
    if (tp_mjcf_model_chain(s->m, s->path, "torso_link", site_name, out, err, errlen) != 0)
        return -1;
    if (out->n != TP_SIM_ARM_DOF) {
        snprintf(err, errlen, "%s: arm chain to '%s' has %d joints, expected %d", s->path, site_name, out->n,
                 TP_SIM_ARM_DOF);
        return -1;
    }
    return 0;
}
