/* teleop — a controller configured from the simulated humanoid's model. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "teleop/controller.h"
#include "teleop/hand_vector.h"
#include "teleop/paths.h"
#include "teleop/sim.h"

tp_controller *tp_controller_create_for_sim(const tp_sim *sim, const tp_controller_config *cfg,
                                            const tp_retarget_config *rcfg, char *err, size_t errlen)
{
    enum { N = TP_SIM_ACTION_DIMS };
    double lower[N], upper[N], vmax[N];
    for (int i = 0; i < N; i++) {
        tp_sim_joint_limits(sim, i, &lower[i], &upper[i]);
        vmax[i] = tp_sim_joint_max_velocity(sim, i);
    }
    tp_chain arms[2];
    for (int side = 0; side < 2; side++) {
        if (tp_sim_chain(sim, cfg->arm_base, cfg->arm_tip[side], &arms[side], err, errlen) != 0)
            return NULL;
        /* The chain's joints must be the arm's joints of the action layout,
         * or commands would land on the wrong joints. */
        bool ok = arms[side].n == TP_SIM_ARM_DOF;
        for (int i = 0; ok && i < TP_SIM_ARM_DOF; i++)
            ok = !strcmp(arms[side].joint_name[i], tp_sim_joint_name(sim, side * TP_SIM_ARM_DOF + i));
        if (!ok) {
            snprintf(err, errlen, "arm chain %s -> %s: its joints are not the robot's %s arm joints in action order",
                     cfg->arm_base, cfg->arm_tip[side], side ? "right" : "left");
            return NULL;
        }
    }
    tp_hand_desc hands[2];
    tp_hand_desc_dex3(&hands[0], 0, lower + 2 * TP_SIM_ARM_DOF, upper + 2 * TP_SIM_ARM_DOF);
    tp_hand_desc_dex3(&hands[1], 1, lower + 2 * TP_SIM_ARM_DOF + TP_SIM_HAND_DOF,
                      upper + 2 * TP_SIM_ARM_DOF + TP_SIM_HAND_DOF);
    tp_controller *c = tp_controller_create(cfg, rcfg, arms, hands, N, lower, upper, vmax, err, errlen);
    if (!c || !strcmp(cfg->hand_method, "flexion"))
        return c;
    if (strcmp(cfg->hand_method, "vector") != 0) {
        snprintf(err, errlen, "hand method '%s' is unknown (flexion or vector)", cfg->hand_method);
        tp_controller_destroy(c);
        return NULL;
    }
    char path[4096];
    if (cfg->hand_urdf[0])
        snprintf(path, sizeof path, "%s", cfg->hand_urdf);
    else if (tp_find_data("devices/robot/models/g1_upper_body.urdf", path, sizeof path, err, errlen) != 0) {
        tp_controller_destroy(c);
        return NULL;
    }
    tp_hand_vector_desc descs[2];
    for (int side = 0; side < 2; side++) {
        if (tp_hand_vector_desc_dex3(path, side, &descs[side], err, errlen) != 0) {
            tp_controller_destroy(c);
            return NULL;
        }
        /* Solutions land on the action's hand joints by position: the
         * description's joints must be exactly those, in order. */
        for (int i = 0; i < descs[side].dof; i++) {
            const char *want = tp_sim_joint_name(sim, 2 * TP_SIM_ARM_DOF + side * TP_SIM_HAND_DOF + i);
            if (descs[side].dof != TP_SIM_HAND_DOF || strcmp(descs[side].joint_name[i], want) != 0) {
                snprintf(err, errlen, "%s: %s hand joint %d is '%s', the robot's action has '%s'", path,
                         side ? "right" : "left", i, descs[side].joint_name[i], want);
                tp_controller_destroy(c);
                return NULL;
            }
        }
    }
    if (tp_controller_use_hand_vector(c, descs, NULL, err, errlen) != 0) {
        tp_controller_destroy(c);
        return NULL;
    }
    return c;
}
