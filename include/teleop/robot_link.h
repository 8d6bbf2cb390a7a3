/* teleop — robot links: how the station reaches a robot (the embedded MuJoCo
 * simulator, a real robot over a network), behind one interface so the
 * station picks the robot by name from its config ([robot] link).
 *
 * The pattern (docs/architecture.md, docs/devices/robot-links.md): a driver
 * is an ops table with a name, like cameras (camera.h) and operator devices
 * (operator_device.h). open prepares the link (may fail with a one-line
 * message), start anchors it to the session clock, then the control loop
 * calls read_state and write_command once per control tick, stop winds it
 * down, close frees it. What a link reports (lost, found, ...) is taken with
 * events by the recorder and written to the episode's events.
 *
 * Threads and real-time safety:
 *   - open, close: the thread that sets the session up.
 *   - start, read_state, write_command: the control thread only; stop:
 *     the session's thread once the control thread has ended.
 *     read_state and write_command are on the real-time path: they allocate
 *     nothing, take no lock, do no blocking I/O and log nothing (a network
 *     link hands commands to its own sender thread through a lock-free
 *     buffer, and reads the newest state its receiver published).
 *   - events: off the real-time path, one thread (the recorder's).
 *   - health: off the real-time path, any thread, any time (the status
 *     line reads it while the loop runs, the session once it has ended),
 *     so drivers keep their figures in atomics.
 *
 * Memory: tp_robot_link_open allocates the driver's state, owned by the
 * tp_robot_link until tp_robot_link_close. The config's strings are borrowed
 * while the link is open. A link that simulates its world (the "sim" link)
 * owns that tp_sim; tp_robot_link_simulator lends it (for the cameras, the
 * object poses and the controller's model) until close.
 */
#ifndef TELEOP_ROBOT_LINK_H
#define TELEOP_ROBOT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/operator_device.h" /* tp_device_event */
#include "teleop/sim.h"

/* The [unitree] config section: the Unitree G1 arms + Dex3-1 hands over DDS
 * (docs/devices/unitree.md). Defaults in tp_unitree_link_config_default. */
typedef struct tp_unitree_link_config {
    int domain_id;            /* DDS domain: 0 on the robot, 1 for Unitree's simulators */
    const char *interface;    /* "eth0", "lo" or an address; NULL or "" lets CycloneDDS choose */
    double state_timeout_ms;  /* newest rt/lowstate older than this is stale: hold and release (5 ms) */
    double weight_ramp_s;     /* the arm_sdk blend weight goes 0 -> 1 (engage) or 1 -> 0 in this long (1 s) */
    double hand_rate_hz;      /* Dex3-1 commands per second (100); 0 sends none */
    double arm_kp, arm_kd;    /* shoulders and elbows (80, 3) */
    double wrist_kp, wrist_kd; /* wrists (40, 1.5) */
    double hand_kp, hand_kd;  /* Dex3-1 fingers (1.5, 0.2) */
    bool gravity_feed_forward; /* tau = the model's gravity torque at the commanded q (true) */
} tp_unitree_link_config;

void tp_unitree_link_config_default(tp_unitree_link_config *cfg);

/* The control thread's SCHED_FIFO priority above the minimum (session.c). */
#define TP_ROBOT_LINK_RT_PRIORITY 40

typedef struct tp_robot_link_config {
    const char *model_path; /* the robot's MJCF (sim: the world simulated; a real robot: its kinematics) */
    double control_hz;      /* write_command is called once per 1/control_hz */
    tp_unitree_link_config unitree; /* read by the "unitree" link only */
    bool realtime_priority; /* the control thread asks for SCHED_FIFO: a link's own threads on the
                             * control path ask for it too (TP_ROBOT_LINK_RT_PRIORITY above the minimum) */
} tp_robot_link_config;

/* What a link measures about itself. Rates are averages since start; a
 * display wanting the recent rate differences the totals. Reading health
 * changes nothing, so any thread may read it at any time. */
typedef struct tp_robot_link_health {
    double state_hz;        /* states received (sim: read) per second */
    double command_hz;      /* commands sent (sim: applied) per second */
    double state_age_ms;    /* age of the newest state at the last read_state */
    uint64_t states;        /* totals since start */
    uint64_t commands;
    uint64_t sequence_gaps; /* states the robot sent that never arrived (sim: none) */
    uint64_t crc_errors;    /* states rejected for a bad checksum (sim: none) */
    bool state_stale;       /* the newest state is older than the link tolerates */
    uint64_t commands_refused; /* write_command returned -1 (not handed on; sim: none) */
    uint64_t commands_superseded; /* handed on, but overtaken by a newer one before it was sent (sim: none) */
    double blend_weight;    /* the arm blend weight last sent: 0 = the robot's own controller, 1 = ours (sim: 1) */
} tp_robot_link_health;

typedef struct tp_robot_link_ops {
    const char *name;
    int (*open)(void **state, const tp_robot_link_config *cfg, char *err, size_t errlen);
    int (*start)(void *state, int64_t t_start_ns, char *err, size_t errlen);
    /* The robot's joint positions and velocities in the action layout
     * (TP_SIM_ACTION_DIMS each) as of t_ns. Returns 0, or -1 when the state
     * is stale (q and qd then hold the newest state there is; NaN for joints
     * whose state never came). Real-time. */
    int (*read_state)(void *state, int64_t t_ns, double *q, double *qd);
    /* Joint targets for the control period starting at t_ns, exactly as the
     * safety layer passed them, with the controller's tp_control_flag bits
     * of that cycle (a real robot's link takes the arms over while
     * TP_CONTROL_ENGAGED is set and hands them back otherwise). The sim link
     * applies them and advances its physics one period. A link whose state
     * is stale sends no new target. Returns 0, or -1 when the command could
     * not be handed on (counted in health). Real-time. */
    int (*write_command)(void *state, int64_t t_ns, const double *command, unsigned control_flags);
    void (*health)(void *state, int64_t now_ns, tp_robot_link_health *out);
    /* Takes up to max reports (link lost/found, ...) since the last call;
     * returns how many. */
    int (*events)(void *state, tp_device_event *events, int max_events);
    /* Winds down (a real robot: hold, then release); what the link reports
     * meanwhile is taken by the next events call. */
    void (*stop)(void *state);
    void (*close)(void *state);
    /* One line on what is connected ("MuJoCo 3.1.2, humanoid.xml, 500 Hz"). */
    void (*describe)(void *state, char *buf, size_t len);
    /* The world this link simulates, or NULL for a real robot. */
    tp_sim *(*simulator)(void *state);
} tp_robot_link_ops;

typedef struct tp_robot_link {
    const tp_robot_link_ops *ops;
    void *state;
} tp_robot_link;

/* The registered links by name ("sim", "unitree"), or NULL. */
const tp_robot_link_ops *tp_robot_link_find(const char *name);
/* "sim, unitree": the registered names, for messages. */
const char *tp_robot_link_names(void);

int tp_robot_link_open(tp_robot_link *link, const char *name, const tp_robot_link_config *cfg, char *err,
                       size_t errlen);
void tp_robot_link_close(tp_robot_link *link);
/* The link's simulated world, or NULL (a real robot). Borrowed until close. */
tp_sim *tp_robot_link_simulator(const tp_robot_link *link);

extern const tp_robot_link_ops tp_sim_robot_link;
/* The Unitree G1 + Dex3-1 over DDS ([unitree] section; docs/devices/unitree.md). */
extern const tp_robot_link_ops tp_unitree_robot_link;

#endif
