/* teleop — a controller configured from the simulated humanoid's model. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "teleop/controller.h"
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
    return tp_controller_create(cfg, rcfg, arms, hands, N, lower, upper, vmax, err, errlen);
}
