/* teleop — the robot-link registry (robot_link.h). */
#include "teleop/robot_link.h"

#include <stdio.h>
#include <string.h>

static const tp_robot_link_ops *const links[] = {&tp_sim_robot_link, &tp_unitree_robot_link};

const tp_robot_link_ops *tp_robot_link_find(const char *name)
{
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (strcmp(links[i]->name, name) == 0)
            return links[i];
    return NULL;
}

const char *tp_robot_link_names(void) { return "sim, unitree"; }

int tp_robot_link_open(tp_robot_link *link, const char *name, const tp_robot_link_config *cfg, char *err,
                       size_t errlen)
{
    memset(link, 0, sizeof *link);
    const tp_robot_link_ops *ops = tp_robot_link_find(name);
    if (!ops) {
        snprintf(err, errlen, "robot link '%s': no such link (known: %s)", name, tp_robot_link_names());
        return -1;
    }
    if (ops->open(&link->state, cfg, err, errlen) != 0)
        return -1;
    link->ops = ops;
    return 0;
}

void tp_robot_link_close(tp_robot_link *link)
{
    if (link->ops)
        link->ops->close(link->state);
    memset(link, 0, sizeof *link);
}

tp_sim *tp_robot_link_simulator(const tp_robot_link *link)
{
    return link->ops ? link->ops->simulator(link->state) : NULL;
}

void tp_unitree_link_config_default(tp_unitree_link_config *cfg)
{
    /* The gains and rates Unitree's own teleoperation uses on the G1 and the
     * Dex3-1 (docs/devices/unitree.md); the 5 ms timeout lets one 500 Hz
     * state go missing and holds on the second. */
    *cfg = (tp_unitree_link_config){.domain_id = 0,
                                    .interface = "",
                                    .state_timeout_ms = 5.0,
                                    .weight_ramp_s = 1.0,
                                    .hand_rate_hz = 100.0,
                                    .arm_kp = 80.0,
                                    .arm_kd = 3.0,
                                    .wrist_kp = 40.0,
                                    .wrist_kd = 1.5,
                                    .hand_kp = 1.5,
                                    .hand_kd = 0.2,
                                    .gravity_feed_forward = true};
}
