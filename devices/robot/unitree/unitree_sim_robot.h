/* unitree_sim_robot: the MuJoCo humanoid as a Unitree G1 + Dex3-1 on DDS
 * (`teleop sim --dds`), the robot's side of the Unitree link for tests and
 * demos.
 *
 * A physics thread steps the model in real time at its timestep (CLOCK_-
 * MONOTONIC, absolute deadlines, catching up when late, never ahead of real
 * time), applies the newest CRC-valid rt/arm_sdk LowCmd with its blend
 * weight and the newest rt/dex3/{left,right}/cmd HandCmd, and publishes
 * rt/lowstate and rt/dex3/{left,right}/state at their rates. How a command
 * is applied is documented in docs/devices/unitree.md ("The simulated
 * robot"). The physics thread allocates nothing and logs nothing; the
 * optional trace goes through a ring drained by tp_unitree_sim_robot_service.
 *
 * Ownership: the config's strings are borrowed during open only. The robot
 * (its tp_sim, DDS participant, thread, trace file) is owned by whoever
 * opened it and freed by tp_unitree_sim_robot_close, which stops it first. */
#ifndef TELEOP_UNITREE_SIM_ROBOT_H
#define TELEOP_UNITREE_SIM_ROBOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tp_unitree_sim_robot_config {
  const char *model_path;     /* the MJCF (tp_sim's humanoid) */
  uint32_t domain_id;         /* 1, as Unitree's simulators */
  const char *interface;      /* "lo" */
  double state_hz;            /* rt/lowstate messages per second (500) */
  double hand_state_hz;       /* rt/dex3/{left,right}/state per second each (500) */
  uint8_t mode_machine;       /* LowState.mode_machine: 2 = 29-DoF G1 */
  double command_timeout_s;   /* no arm_sdk for longer: the weight decays (0.1 s) */
  double weight_decay_per_s;  /* ... at this rate to 0 (1 per second) */
  const char *trace_path;     /* CSV trace of the blend weight, or NULL */
};

void tp_unitree_sim_robot_config_default(struct tp_unitree_sim_robot_config *cfg);

/* What the robot did since start. */
struct tp_unitree_sim_robot_stats {
  uint64_t states, hand_states;        /* rt/lowstate and dex3 state messages published */
  uint64_t commands, hand_commands;    /* arm_sdk and HandCmd messages applied */
  uint64_t crc_errors;                 /* arm_sdk messages dropped for a bad CRC */
  uint64_t bad_hand_commands;          /* HandCmd messages without 7 motors, dropped */
  uint64_t steps, late_steps;          /* physics steps; steps run behind their deadline */
  uint64_t skipped_steps;              /* steps given up after falling > 0.1 s behind */
  uint64_t trace_dropped;              /* trace lines the ring had no room for */
  double max_lateness_ms;              /* the physics thread's worst wake past a step's deadline */
  double seconds;                      /* wall time since start */
};

struct tp_unitree_sim_robot;

/* Loads the model, opens the participant and its endpoints, opens the trace
 * file. NULL with a one-line message in err on failure. */
struct tp_unitree_sim_robot *tp_unitree_sim_robot_open(const struct tp_unitree_sim_robot_config *cfg,
                                                       char *err, size_t errlen);
/* Starts the physics thread (SCHED_FIFO when permitted, else normal
 * priority; describe says which). 0, or -1 with a message. */
int tp_unitree_sim_robot_start(struct tp_unitree_sim_robot *robot, char *err, size_t errlen);
/* Writes pending trace lines to the trace file (call every few ms from the
 * thread that started the robot; does nothing without a trace). */
void tp_unitree_sim_robot_service(struct tp_unitree_sim_robot *robot);
/* Stops and joins the physics thread, then writes the remaining trace. */
void tp_unitree_sim_robot_stop(struct tp_unitree_sim_robot *robot);
void tp_unitree_sim_robot_stats(const struct tp_unitree_sim_robot *robot, struct tp_unitree_sim_robot_stats *out);
/* "domain 1 on lo, model humanoid.xml (physics 500 Hz), rt/lowstate 500 Hz, ..., SCHED_FIFO" */
void tp_unitree_sim_robot_describe(const struct tp_unitree_sim_robot *robot, char *buf, size_t len);
void tp_unitree_sim_robot_close(struct tp_unitree_sim_robot *robot);

#endif
