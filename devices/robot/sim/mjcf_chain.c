/* teleop — serial chains from MJCF models (MuJoCo's parser). */
#include <math.h>
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <string.h>

#include "sim_internal.h"
#include "teleop/mjcf.h"

static tp_quat quat_from_mj(const mjtNum *q) { return (tp_quat){q[1], q[2], q[3], q[0]}; }

int tp_mjcf_model_chain(const mjModel *m, const char *path, const char *base_body, const char *tip, tp_chain *out,
                        char *err, size_t errlen)
{
    int base = mj_name2id(m, mjOBJ_BODY, base_body);
    if (base < 0) {
        snprintf(err, errlen, "%s: base body '%s' not found", path, base_body);
        return -1;
    }
    int site = mj_name2id(m, mjOBJ_SITE, tip);
    int tip_body = site >= 0 ? m->site_bodyid[site] : mj_name2id(m, mjOBJ_BODY, tip);
    if (tip_body < 0) {
        snprintf(err, errlen, "%s: tip '%s' is neither a site nor a body", path, tip);
        return -1;
    }
    int chain[256], n = 0;
    for (int b = tip_body; b != base; b = m->body_parentid[b]) {
        if (b == 0 || n == 256) {
            snprintf(err, errlen, "%s: tip '%s' is not below base body '%s' (no serial chain)", path, tip, base_body);
            return -1;
        }
        chain[n++] = b;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->base_name, sizeof out->base_name, "%s", base_body);
    snprintf(out->tip_name, sizeof out->tip_name, "%s", tip);
    tp_pose pending = tp_pose_identity(); /* fixed transform since the last joint frame */
    for (int k = n - 1; k >= 0; k--) {
        int b = chain[k];
        tp_pose local = {tp_v3(m->body_pos[3 * b], m->body_pos[3 * b + 1], m->body_pos[3 * b + 2]),
                         quat_from_mj(m->body_quat + 4 * b)};
        pending = tp_pose_mul(pending, local);
        for (int jj = 0; jj < m->body_jntnum[b]; jj++) {
            int j = m->body_jntadr[b] + jj;
            const char *jn = mj_id2name(m, mjOBJ_JOINT, j);
            if (m->jnt_type[j] != mjJNT_HINGE) {
                static const char *const types[] = {"free", "ball", "slide", "hinge"};
                snprintf(err, errlen, "%s: joint '%s' on the chain %s -> %s has unsupported type '%s'", path,
                         jn ? jn : "?", base_body, tip, types[m->jnt_type[j] & 3]);
                return -1;
            }
            if (m->body_jntnum[b] != 1) {
                snprintf(err, errlen, "%s: body '%s' on the chain has %d joints; one per body is supported", path,
                         mj_id2name(m, mjOBJ_BODY, b), m->body_jntnum[b]);
                return -1;
            }
            if (out->n == TP_CHAIN_MAX_JOINTS) {
                snprintf(err, errlen, "%s: chain %s -> %s has more than %d joints", path, base_body, tip,
                         TP_CHAIN_MAX_JOINTS);
                return -1;
            }
            int i = out->n++;
            tp_vec3 jp = tp_v3(m->jnt_pos[3 * j], m->jnt_pos[3 * j + 1], m->jnt_pos[3 * j + 2]);
            out->origin[i] = tp_pose_mul(pending, (tp_pose){jp, tp_quat_identity()});
            out->axis[i] = tp_v3_normalize(tp_v3(m->jnt_axis[3 * j], m->jnt_axis[3 * j + 1], m->jnt_axis[3 * j + 2]));
            out->lower[i] = m->jnt_limited[j] ? m->jnt_range[2 * j] : -2 * M_PI;
            out->upper[i] = m->jnt_limited[j] ? m->jnt_range[2 * j + 1] : 2 * M_PI;
            snprintf(out->joint_name[i], TP_NAME_MAX, "%s", jn ? jn : "");
            out->max_velocity[i] = INFINITY;
            char key[TP_NAME_MAX + 16];
            snprintf(key, sizeof key, "%s.max_velocity", jn ? jn : "");
            int nid = mj_name2id(m, mjOBJ_NUMERIC, key);
            if (nid >= 0 && m->numeric_size[nid] > 0)
                out->max_velocity[i] = m->numeric_data[m->numeric_adr[nid]];
            pending = (tp_pose){tp_v3_scale(jp, -1.0), tp_quat_identity()};
        }
    }
    if (out->n == 0) {
        snprintf(err, errlen, "%s: chain %s -> %s has no hinge joints", path, base_body, tip);
        return -1;
    }
    tp_pose tip_local = tp_pose_identity();
    if (site >= 0)
        tip_local = (tp_pose){tp_v3(m->site_pos[3 * site], m->site_pos[3 * site + 1], m->site_pos[3 * site + 2]),
                              quat_from_mj(m->site_quat + 4 * site)};
    out->tip = tp_pose_mul(pending, tip_local);
    /* MuJoCo accepts "nan" and "inf" in numbers; a chain built from them
     * would command nonsense, so it is refused here, by joint. */
    for (int i = 0; i < out->n; i++)
        if (!tp_v3_isfinite(out->origin[i].p) || !tp_quat_isfinite(out->origin[i].q) ||
            !tp_v3_isfinite(out->axis[i]) || tp_v3_norm(out->axis[i]) < 0.5 || !isfinite(out->lower[i]) ||
            !isfinite(out->upper[i]) || out->lower[i] > out->upper[i] || isnan(out->max_velocity[i]) ||
            out->max_velocity[i] <= 0) {
            snprintf(err, errlen, "%s: joint '%s' on the chain %s -> %s has a non-finite or invalid placement, axis, "
                     "range or velocity limit", path, out->joint_name[i], base_body, tip);
            return -1;
        }
    if (!tp_v3_isfinite(out->tip.p) || !tp_quat_isfinite(out->tip.q)) {
        snprintf(err, errlen, "%s: tip '%s' has a non-finite placement", path, tip);
        return -1;
    }
    return 0;
}

int tp_mjcf_chain(const char *path, const char *base_body, const char *tip, tp_chain *out, char *err, size_t errlen)
{
    char mjerr[1000] = "";
    tp_mujoco_log_init();
    tp_mujoco_loading();
    mjModel *m = mj_loadXML(path, NULL, mjerr, sizeof mjerr);
    if (!m) {
        tp_mujoco_loaded(false);
        for (char *c = mjerr; *c; c++)
            if (*c == '\n')
                *c = ' ';
        snprintf(err, errlen, "%s: cannot load model: %s", path, mjerr);
        return -1;
    }
    bool finite = tp_mujoco_check_model(m, path, err, errlen);
    tp_mujoco_loaded(finite);
    if (!finite) {
        mj_deleteModel(m);
        return -1;
    }
    int rc = tp_mjcf_model_chain(m, path, base_body, tip, out, err, errlen);
    mj_deleteModel(m);
    return rc;
}
