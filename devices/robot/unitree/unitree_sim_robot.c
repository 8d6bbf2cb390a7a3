/* The MuJoCo humanoid as a Unitree G1 + Dex3-1 on DDS: a real-time physics
 * thread that applies rt/arm_sdk and Dex3-1 commands and publishes the
 * robot's states (see the header; the model of how commands are applied is
 * in docs/devices/unitree.md, "The simulated robot"). */
#include "unitree_sim_robot.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "teleop/ring.h"
#include "teleop/sim.h"
#include "unitree_dds.h"
#include "unitree_sim_drive.h"

#define HANDS 2
#define DEX3_PRESS_SENSORS 9 /* a Dex3-1 reports 9 pressure sensor boards */
#define TRACE_PERIOD_NS 10000000 /* a trace line at least every 10 ms */
#define MAX_CATCH_UP_STEPS 10    /* steps per wake when late: real time is regained, not overrun */
#define MAX_BEHIND_NS 100000000  /* further behind than this, the backlog is given up */

struct trace_line {
  int64_t t_ns;
  double weight;
  uint64_t commands, crc_errors;
};

struct hand_io {
  dds_entity_t cmd_reader, state_writer;
  tp_unitree_hand_state state;
  tp_unitree_motor_state motors[TP_DEX3_MOTORS];
  tp_unitree_press_sensor_state press[DEX3_PRESS_SENSORS];
};

struct tp_unitree_sim_robot {
  struct tp_unitree_sim_robot_config cfg;
  char interface[64], model_name[256];
  tp_sim *sim;
  struct tp_unitree_sim_drive *drive;
  struct tp_unitree_dds *dds;
  dds_entity_t lowstate_writer, arm_sdk_reader;
  struct hand_io hand[HANDS];
  FILE *trace;
  tp_ring trace_ring;
  pthread_t thread;
  bool running, realtime; /* realtime: the physics thread got SCHED_FIFO */
  atomic_bool stop;
  int64_t start_ns, dt_ns;
  _Atomic int64_t end_ns;

  /* Physics thread only from here. */
  double home[TP_SIM_ACTION_DIMS], model_kp[TP_SIM_ACTION_DIMS], model_kd[TP_SIM_ACTION_DIMS];
  tp_unitree_low_cmd rx_cmd, cmd; /* cmd: the newest CRC-valid arm_sdk command */
  bool have_cmd;
  int64_t cmd_ns;
  double weight, weight_at_timeout;
  struct tp_sim_joint_drive joint[TP_SIM_ACTION_DIMS]; /* the hands' part persists between commands */
  tp_unitree_low_state state;
  uint32_t tick;
  double q[TP_SIM_ACTION_DIMS], dq[TP_SIM_ACTION_DIMS], tau[TP_SIM_ACTION_DIMS];

  _Atomic int64_t max_lateness_ns; /* a wake's worst delay past its step's deadline */
  _Atomic uint64_t states, hand_states, commands, hand_commands, crc_errors, bad_hand_commands, steps, late_steps,
      skipped_steps, trace_dropped;
};

static int64_t monotonic_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void count(_Atomic uint64_t *counter, uint64_t n)
{
  atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

void tp_unitree_sim_robot_config_default(struct tp_unitree_sim_robot_config *cfg)
{
  *cfg = (struct tp_unitree_sim_robot_config){
      .model_path = NULL,
      .domain_id = 1,
      .interface = "lo",
      .state_hz = 500,
      .hand_state_hz = 500,
      .mode_machine = 2,
      .command_timeout_s = 0.1,
      .weight_decay_per_s = 1.0,
      .trace_path = NULL,
  };
}

static int open_endpoints(struct tp_unitree_sim_robot *r, char *err, size_t errlen)
{
  static const char *const cmd_topic[HANDS] = {TP_UNITREE_TOPIC_DEX3_LEFT_CMD, TP_UNITREE_TOPIC_DEX3_RIGHT_CMD};
  static const char *const state_topic[HANDS] = {TP_UNITREE_TOPIC_DEX3_LEFT_STATE,
                                                 TP_UNITREE_TOPIC_DEX3_RIGHT_STATE};
  r->lowstate_writer = tp_unitree_dds_writer(r->dds, TP_UNITREE_TOPIC_LOWSTATE, &unitree_hg_msg_dds__LowState__desc);
  r->arm_sdk_reader = tp_unitree_dds_reader(r->dds, TP_UNITREE_TOPIC_ARM_SDK, &unitree_hg_msg_dds__LowCmd__desc);
  const char *failed = r->lowstate_writer < 0 ? TP_UNITREE_TOPIC_LOWSTATE
                       : r->arm_sdk_reader < 0 ? TP_UNITREE_TOPIC_ARM_SDK
                                               : NULL;
  dds_return_t rc = r->lowstate_writer < 0 ? r->lowstate_writer : r->arm_sdk_reader;
  for (int h = 0; h < HANDS && !failed; h++) {
    r->hand[h].cmd_reader = tp_unitree_dds_reader(r->dds, cmd_topic[h], &unitree_hg_msg_dds__HandCmd__desc);
    r->hand[h].state_writer = tp_unitree_dds_writer(r->dds, state_topic[h], &unitree_hg_msg_dds__HandState__desc);
    if (r->hand[h].cmd_reader < 0 || r->hand[h].state_writer < 0) {
      failed = r->hand[h].cmd_reader < 0 ? cmd_topic[h] : state_topic[h];
      rc = r->hand[h].cmd_reader < 0 ? r->hand[h].cmd_reader : r->hand[h].state_writer;
    }
  }
  if (failed) {
    snprintf(err, errlen, "sim --dds: cannot create the %s endpoint: %s", failed, dds_strretcode(rc));
    return -1;
  }
  return 0;
}

/* The messages start zeroed (the robot is calloc'd). */
static void init_messages(struct tp_unitree_sim_robot *r)
{
  r->state.mode_machine = r->cfg.mode_machine;
  /* A robot standing still: level (w x y z identity), the IMU feeling 1 g up. */
  r->state.imu_state.quaternion[0] = 1.0f;
  r->state.imu_state.accelerometer[2] = 9.81f;
  for (int h = 0; h < HANDS; h++) {
    struct hand_io *io = &r->hand[h];
    for (int k = 0; k < TP_DEX3_MOTORS; k++) io->motors[k].mode = (uint8_t)(k | 1 << 4);
    io->state.motor_state._buffer = io->motors;
    io->state.motor_state._length = io->state.motor_state._maximum = TP_DEX3_MOTORS;
    io->state.press_sensor_state._buffer = io->press;
    io->state.press_sensor_state._length = io->state.press_sensor_state._maximum = DEX3_PRESS_SENSORS;
    io->state.imu_state.quaternion[0] = 1.0f;
  }
}

struct tp_unitree_sim_robot *tp_unitree_sim_robot_open(const struct tp_unitree_sim_robot_config *cfg, char *err,
                                                       size_t errlen)
{
  if (!cfg->model_path || !*cfg->model_path) {
    snprintf(err, errlen, "sim --dds: no model");
    return NULL;
  }
  if (!(cfg->state_hz > 0 && cfg->state_hz <= 10000) || !(cfg->hand_state_hz > 0 && cfg->hand_state_hz <= 10000)) {
    snprintf(err, errlen, "sim --dds: state rates must be in (0, 10000] Hz (got %g and %g)", cfg->state_hz,
             cfg->hand_state_hz);
    return NULL;
  }
  if (!(cfg->command_timeout_s > 0) || !(cfg->weight_decay_per_s > 0)) {
    snprintf(err, errlen, "sim --dds: command timeout and weight decay rate must be positive");
    return NULL;
  }
  struct tp_unitree_sim_robot *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(err, errlen, "sim --dds: out of memory");
    return NULL;
  }
  r->cfg = *cfg;
  snprintf(r->interface, sizeof r->interface, "%s", cfg->interface ? cfg->interface : "");
  r->cfg.interface = r->interface;
  const char *base = strrchr(cfg->model_path, '/');
  snprintf(r->model_name, sizeof r->model_name, "%s", base ? base + 1 : cfg->model_path);
  r->cfg.model_path = NULL;
  r->cfg.trace_path = NULL;
  r->sim = tp_sim_create(cfg->model_path, err, errlen);
  if (!r->sim) goto fail;
  r->dt_ns = llround(tp_sim_timestep(r->sim) * 1e9);
  if (r->dt_ns < 100000) {
    snprintf(err, errlen, "%s: timestep %g s is below 0.1 ms: too fast to run in real time", cfg->model_path,
             tp_sim_timestep(r->sim));
    goto fail;
  }
  r->drive = tp_unitree_sim_drive_create(r->sim, err, errlen);
  if (!r->drive) goto fail;
  tp_unitree_sim_drive_home(r->drive, r->home);
  for (int i = 0; i < TP_SIM_ACTION_DIMS; i++) {
    tp_unitree_sim_drive_model_gains(r->drive, i, &r->model_kp[i], &r->model_kd[i]);
    r->joint[i] = (struct tp_sim_joint_drive){
        .q = r->home[i], .kp = r->model_kp[i], .kd = r->model_kd[i], .bias_weight = 1.0};
  }
  if (tp_ring_init(&r->trace_ring, sizeof(struct trace_line), 8192) != 0) {
    snprintf(err, errlen, "sim --dds: out of memory");
    goto fail;
  }
  if (cfg->trace_path) {
    r->trace = fopen(cfg->trace_path, "w");
    if (!r->trace) {
      snprintf(err, errlen, "%s: cannot create trace file: %s", cfg->trace_path, strerror(errno));
      goto fail;
    }
    fprintf(r->trace, "t_ns,weight,arm_sdk_commands,crc_errors\n");
  }
  r->dds = tp_unitree_dds_open(cfg->domain_id, r->interface, err, errlen);
  if (!r->dds || open_endpoints(r, err, errlen) != 0) goto fail;
  init_messages(r);
  return r;
fail:
  tp_unitree_sim_robot_close(r);
  return NULL;
}

/* The newest valid arm_sdk command and every Dex3-1 command since the last
 * cycle. */
static void take_commands(struct tp_unitree_sim_robot *r, int64_t now)
{
  void *samples[1] = {&r->rx_cmd};
  dds_sample_info_t info;
  while (dds_take(r->arm_sdk_reader, samples, &info, 1, 1) == 1) {
    if (!info.valid_data) continue;
    if (!tp_unitree_low_cmd_crc_ok(&r->rx_cmd)) { /* as the robot does: a corrupt command is dropped */
      count(&r->crc_errors, 1);
      continue;
    }
    r->cmd = r->rx_cmd;
    r->have_cmd = true;
    r->cmd_ns = now;
    count(&r->commands, 1);
  }
  for (int h = 0; h < HANDS; h++) {
    void *loan[1] = {NULL};
    while (dds_take(r->hand[h].cmd_reader, loan, &info, 1, 1) == 1) {
      const tp_unitree_hand_cmd *hc = loan[0];
      if (info.valid_data) {
        if (hc->motor_cmd._length != TP_DEX3_MOTORS) {
          count(&r->bad_hand_commands, 1);
        } else {
          for (int k = 0; k < TP_DEX3_MOTORS; k++) {
            const tp_unitree_motor_cmd *mc = &hc->motor_cmd._buffer[k];
            bool finite = isfinite(mc->q) && isfinite(mc->dq) && isfinite(mc->tau) && isfinite(mc->kp) &&
                          isfinite(mc->kd);
            /* Status (bits 4-6) 0 = motor not enabled by this command. */
            if (!finite || ((mc->mode >> 4) & 7) == 0) continue;
            /* A Dex3-1 motor is a plain PD driver: no gravity compensation. */
            r->joint[TP_SIM_ARM_DOF * 2 + h * TP_DEX3_MOTORS + k] = (struct tp_sim_joint_drive){
                .q = mc->q, .kp = mc->kp, .kd = mc->kd, .tau = mc->tau + mc->kd * mc->dq, .bias_weight = 0.0};
          }
          count(&r->hand_commands, 1);
        }
      }
      dds_return_loan(r->hand[h].cmd_reader, loan, 1);
      loan[0] = NULL;
    }
  }
}

/* The blend weight: the newest command's, until it is older than the
 * timeout; then it decays from there to 0 (the robot takes its arms back). */
static void update_weight(struct tp_unitree_sim_robot *r, int64_t now)
{
  if (!r->have_cmd) {
    r->weight = 0.0;
    return;
  }
  double age = (double)(now - r->cmd_ns) * 1e-9;
  if (age <= r->cfg.command_timeout_s) {
    float w = tp_unitree_arm_sdk_weight(&r->cmd);
    r->weight = isfinite(w) ? fmin(1.0, fmax(0.0, (double)w)) : 0.0;
    r->weight_at_timeout = r->weight;
  } else {
    r->weight = fmax(0.0, r->weight_at_timeout - (age - r->cfg.command_timeout_s) * r->cfg.weight_decay_per_s);
  }
}

/* Arm joint targets and gains: the command's, blended with the built-in
 * controller's (home pose, the model's gains, gravity compensation) by the
 * weight. */
static void compose_arms(struct tp_unitree_sim_robot *r)
{
  for (int i = 0; i < TP_G1_ARM_JOINTS; i++) {
    const tp_unitree_motor_cmd *mc = &r->cmd.motor_cmd[tp_g1_arm_sdk_motor[i]];
    bool usable = r->have_cmd && mc->mode == 1 && isfinite(mc->q) && isfinite(mc->dq) && isfinite(mc->tau) &&
                  isfinite(mc->kp) && isfinite(mc->kd) && mc->kp >= 0 && mc->kd >= 0;
    double w = usable ? r->weight : 0.0;
    r->joint[i] = (struct tp_sim_joint_drive){
        .q = w * (usable ? mc->q : 0.0) + (1.0 - w) * r->home[i],
        .kp = w * (usable ? mc->kp : 0.0) + (1.0 - w) * r->model_kp[i],
        .kd = w * (usable ? mc->kd : 0.0) + (1.0 - w) * r->model_kd[i],
        .tau = w * (usable ? mc->tau + mc->kd * mc->dq : 0.0),
        .bias_weight = 1.0 - w,
    };
  }
}

static void publish_state(struct tp_unitree_sim_robot *r)
{
  tp_unitree_low_state *st = &r->state;
  st->tick = ++r->tick;
  for (int i = 0; i < TP_G1_ARM_JOINTS; i++) {
    tp_unitree_motor_state *ms = &st->motor_state[tp_g1_arm_sdk_motor[i]];
    ms->mode = 1;
    ms->q = (float)r->q[i];
    ms->dq = (float)r->dq[i];
    ms->tau_est = (float)r->tau[i];
  }
  st->crc = tp_unitree_low_state_crc(st);
  if (dds_write(r->lowstate_writer, st) == DDS_RETCODE_OK) count(&r->states, 1);
}

static void publish_hands(struct tp_unitree_sim_robot *r)
{
  for (int h = 0; h < HANDS; h++) {
    struct hand_io *io = &r->hand[h];
    for (int k = 0; k < TP_DEX3_MOTORS; k++) {
      int j = TP_SIM_ARM_DOF * 2 + h * TP_DEX3_MOTORS + k;
      io->motors[k].q = (float)r->q[j];
      io->motors[k].dq = (float)r->dq[j];
      io->motors[k].tau_est = (float)r->tau[j];
    }
    if (dds_write(io->state_writer, &io->state) == DDS_RETCODE_OK) count(&r->hand_states, 1);
  }
}

static void trace(struct tp_unitree_sim_robot *r, int64_t now)
{
  struct trace_line line = {
      .t_ns = now,
      .weight = r->weight,
      .commands = atomic_load_explicit(&r->commands, memory_order_relaxed),
      .crc_errors = atomic_load_explicit(&r->crc_errors, memory_order_relaxed),
  };
  if (!tp_ring_push(&r->trace_ring, &line)) count(&r->trace_dropped, 1);
}

/* A publication late by less than a few periods keeps the schedule (the next
 * one follows at once, while the physics catches up), so a short stall costs
 * no messages; further behind, the schedule restarts from now. */
#define MAX_LATE_PUBLICATIONS 5
static int64_t next_deadline(int64_t deadline, int64_t period, int64_t now)
{
  deadline += period;
  return deadline > now - MAX_LATE_PUBLICATIONS * period ? deadline : now + period;
}

static void *physics_main(void *arg)
{
  struct tp_unitree_sim_robot *r = arg;
  const int64_t t0 = r->start_ns, dt = r->dt_ns;
  const int64_t state_period = llround(1e9 / r->cfg.state_hz), hand_period = llround(1e9 / r->cfg.hand_state_hz);
  int64_t next_state = t0, next_hand = t0, next_trace = t0;
  int64_t step_index = 0; /* step k is due at t0 + k dt */
  double traced_weight = NAN;
  bool tracing = r->trace != NULL;
  while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
    int64_t now = monotonic_ns();
    take_commands(r, now);
    update_weight(r, now);
    compose_arms(r);
    int64_t due = (now - t0) / dt + 1; /* steps whose time has come */
    if ((due - step_index) * dt > MAX_BEHIND_NS) {
      count(&r->skipped_steps, (uint64_t)(due - 1 - step_index));
      step_index = due - 1;
    }
    int64_t lateness = now - (t0 + step_index * dt);
    if (lateness > atomic_load_explicit(&r->max_lateness_ns, memory_order_relaxed))
      atomic_store_explicit(&r->max_lateness_ns, lateness, memory_order_relaxed);
    int ran = 0;
    for (; step_index < due && ran < MAX_CATCH_UP_STEPS; step_index++, ran++)
      tp_unitree_sim_drive_step(r->drive, r->joint);
    if (ran > 0) {
      count(&r->steps, (uint64_t)ran);
      if (ran > 1) count(&r->late_steps, (uint64_t)(ran - 1));
      tp_unitree_sim_drive_read(r->drive, r->q, r->dq, r->tau);
    }
    if (now >= next_state) {
      publish_state(r);
      next_state = next_deadline(next_state, state_period, now);
    }
    if (now >= next_hand) {
      publish_hands(r);
      next_hand = next_deadline(next_hand, hand_period, now);
    }
    if (tracing && (now >= next_trace || r->weight != traced_weight)) {
      trace(r, now);
      traced_weight = r->weight;
      next_trace = now + TRACE_PERIOD_NS;
    }
    if (step_index < due) continue; /* still catching up */
    int64_t wake = t0 + step_index * dt;
    if (next_state < wake) wake = next_state;
    if (next_hand < wake) wake = next_hand;
    struct timespec ts = {.tv_sec = wake / 1000000000, .tv_nsec = wake % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
  }
  atomic_store(&r->end_ns, monotonic_ns());
  return NULL;
}

int tp_unitree_sim_robot_start(struct tp_unitree_sim_robot *r, char *err, size_t errlen)
{
  if (r->running) return 0;
  atomic_store(&r->stop, false);
  r->start_ns = monotonic_ns();
  atomic_store(&r->end_ns, 0);
  /* The physics thread never takes SIGINT/SIGTERM: the starting thread's
   * sleep is what they interrupt. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  /* SCHED_FIFO at the station control thread's priority when permitted (a
   * robot's loop does not wait for the desktop); otherwise normal. */
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  struct sched_param sp = {.sched_priority = sched_get_priority_min(SCHED_FIFO) + 40};
  int rc = -1;
  if (pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED) == 0 &&
      pthread_attr_setschedpolicy(&attr, SCHED_FIFO) == 0 && pthread_attr_setschedparam(&attr, &sp) == 0)
    rc = pthread_create(&r->thread, &attr, physics_main, r);
  pthread_attr_destroy(&attr);
  r->realtime = rc == 0;
  if (rc != 0) rc = pthread_create(&r->thread, NULL, physics_main, r);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    snprintf(err, errlen, "sim --dds: cannot start the physics thread: %s", strerror(rc));
    return -1;
  }
  r->running = true;
  return 0;
}

void tp_unitree_sim_robot_service(struct tp_unitree_sim_robot *r)
{
  struct trace_line line;
  while (tp_ring_pop(&r->trace_ring, &line))
    if (r->trace)
      fprintf(r->trace, "%lld,%.6f,%llu,%llu\n", (long long)line.t_ns, line.weight,
              (unsigned long long)line.commands, (unsigned long long)line.crc_errors);
  if (r->trace) fflush(r->trace);
}

void tp_unitree_sim_robot_stop(struct tp_unitree_sim_robot *r)
{
  if (!r->running) return;
  atomic_store(&r->stop, true);
  pthread_join(r->thread, NULL);
  r->running = false;
  tp_unitree_sim_robot_service(r);
}

void tp_unitree_sim_robot_stats(const struct tp_unitree_sim_robot *r, struct tp_unitree_sim_robot_stats *out)
{
  int64_t end = atomic_load(&r->end_ns);
  *out = (struct tp_unitree_sim_robot_stats){
      .states = atomic_load(&r->states),
      .hand_states = atomic_load(&r->hand_states),
      .commands = atomic_load(&r->commands),
      .hand_commands = atomic_load(&r->hand_commands),
      .crc_errors = atomic_load(&r->crc_errors),
      .bad_hand_commands = atomic_load(&r->bad_hand_commands),
      .steps = atomic_load(&r->steps),
      .late_steps = atomic_load(&r->late_steps),
      .skipped_steps = atomic_load(&r->skipped_steps),
      .trace_dropped = atomic_load(&r->trace_dropped),
      .max_lateness_ms = (double)atomic_load(&r->max_lateness_ns) * 1e-6,
      .seconds = r->start_ns ? (double)((end ? end : monotonic_ns()) - r->start_ns) * 1e-9 : 0.0,
  };
}

void tp_unitree_sim_robot_describe(const struct tp_unitree_sim_robot *r, char *buf, size_t len)
{
  snprintf(buf, len,
           "domain %u on %s, model %s (physics %g Hz), rt/lowstate %g Hz (mode_machine %u), "
           "rt/dex3/{left,right}/state %g Hz, arm_sdk timeout %g s%s",
           r->cfg.domain_id, *r->interface ? r->interface : "(any interface)", r->model_name,
           1e9 / (double)r->dt_ns, r->cfg.state_hz, r->cfg.mode_machine, r->cfg.hand_state_hz,
           r->cfg.command_timeout_s,
           !r->running ? "" : r->realtime ? ", SCHED_FIFO" : ", normal priority (no SCHED_FIFO permission)");
}

void tp_unitree_sim_robot_close(struct tp_unitree_sim_robot *r)
{
  if (!r) return;
  tp_unitree_sim_robot_stop(r);
  tp_unitree_dds_close(r->dds);
  if (r->trace) fclose(r->trace);
  tp_ring_free(&r->trace_ring);
  tp_unitree_sim_drive_destroy(r->drive);
  tp_sim_destroy(r->sim);
  free(r);
}
