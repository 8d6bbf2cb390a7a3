/* `teleop sim --dds` as a robot on a per-test DDS domain on lo, driven from
 * this process through the unitree_dds library as the station's link would:
 * state rates, CRCs and ticks; arm_sdk with weight 1, 0 and 0.5 on the left
 * elbow (motor 18); a corrupt command neither applied nor uncounted; a Dex3-1
 * finger; the weight's decay when commands stop (from the trace); a clean
 * stop with its summary line.
 *
 * usage: sim_dds_test TELEOP MODEL */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "teleop/sim.h"
#include "unitree_dds.h"
#include "unitree_sim_drive.h"

#define STATE_HZ 400.0
#define HAND_STATE_HZ 250.0
#define ELBOW 3 /* left elbow in the station's arm order: motor 18 */
#define LEFT_MIDDLE_0 3 /* Dex3-1 slot 3 */

static const char *teleop_path, *model_path;

static struct {
  pid_t child;
  char log_path[256], trace_path[256];
  struct tp_unitree_dds *dds;
  dds_entity_t arm_writer, state_reader, hand_writer[2], hand_reader[2];
  tp_sim *sim;
  struct tp_unitree_sim_drive *drive;
  double home[TP_SIM_ACTION_DIMS];
  uint64_t good_sent, bad_sent;
} T;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* What the robot reported over one run_for. */
struct observed {
  tp_unitree_low_state last;
  long states;
  uint32_t first_tick, last_tick;
  double first_t, last_t;
  double max_gap_s; /* longest wait between two received states */
  long hand_states[2];
  float hand_q[2][TP_DEX3_MOTORS];
};

/* Sends arm (and hand, to the left hand) every 4 ms for seconds while taking
 * every state; each LowState's CRC must verify and its tick increase. */
static void run_for(double seconds, const tp_unitree_low_cmd *arm, const tp_unitree_hand_cmd *hand,
                    struct observed *o)
{
  memset(o, 0, sizeof *o);
  double end = now_s() + seconds, next_send = 0;
  static tp_unitree_low_state st;
  while (now_s() < end) {
    /* Commands every 4 ms; states taken every millisecond (the readers keep
     * only the newest sample, as the SDK's do). */
    bool send = now_s() >= next_send;
    if (send) next_send = now_s() + 0.004;
    if (arm && send) {
      assert_int_equal(dds_write(T.arm_writer, arm), DDS_RETCODE_OK);
      if (tp_unitree_low_cmd_crc_ok(arm))
        T.good_sent++;
      else
        T.bad_sent++;
    }
    if (hand && send) assert_int_equal(dds_write(T.hand_writer[0], hand), DDS_RETCODE_OK);
    dds_sleepfor(DDS_MSECS(1));
    void *samples[1] = {&st};
    dds_sample_info_t info;
    while (dds_take(T.state_reader, samples, &info, 1, 1) == 1) {
      if (!info.valid_data) continue;
      assert_true(tp_unitree_low_state_crc_ok(&st));
      assert_int_equal(st.mode_machine, 2);
      if (o->states > 0) assert_true(st.tick > o->last_tick);
      else {
        o->first_tick = st.tick;
        o->first_t = now_s();
      }
      o->last_tick = st.tick;
      if (o->states > 0) o->max_gap_s = fmax(o->max_gap_s, now_s() - o->last_t);
      o->last_t = now_s();
      o->last = st;
      o->states++;
    }
    for (int h = 0; h < 2; h++) {
      void *loan[1] = {NULL};
      while (dds_take(T.hand_reader[h], loan, &info, 1, 1) == 1) {
        float q[TP_DEX3_MOTORS];
        bool ok = info.valid_data && tp_unitree_hand_state_read(loan[0], q, NULL);
        dds_return_loan(T.hand_reader[h], loan, 1);
        loan[0] = NULL;
        if (!ok) continue;
        memcpy(o->hand_q[h], q, sizeof q);
        o->hand_states[h]++;
      }
    }
  }
}

/* An arm_sdk command holding every arm joint at home but the left elbow at
 * elbow_q (negative: the hand rises, clear of the table), with Unitree's gains and the model's gravity torque at the
 * commanded pose as feed-forward. */
static void elbow_command(tp_unitree_low_cmd *cmd, double elbow_q, float weight)
{
  double q[TP_SIM_ACTION_DIMS], tau[TP_SIM_ACTION_DIMS];
  memcpy(q, T.home, sizeof q);
  q[ELBOW] = elbow_q;
  tp_unitree_sim_drive_gravity(T.drive, q, tau);
  struct tp_unitree_joint_cmd j[TP_G1_ARM_JOINTS];
  for (int i = 0; i < TP_G1_ARM_JOINTS; i++) {
    bool wrist = i % TP_SIM_ARM_DOF >= 4;
    j[i] = (struct tp_unitree_joint_cmd){
        .q = (float)q[i], .tau = (float)tau[i], .kp = wrist ? 40.0f : 80.0f, .kd = wrist ? 1.5f : 3.0f};
  }
  assert_true(tp_unitree_arm_sdk_fill(cmd, j, TP_G1_ARM_JOINTS, weight, 2));
}

static float elbow_of(const struct observed *o) { return o->last.motor_state[TP_G1_LEFT_ELBOW].q; }

static int start_robot(void **state)
{
  (void)state;
  uint32_t domain = 10u + ((uint32_t)getpid() * 7u + 3u) % 220u;
  char domain_arg[16];
  snprintf(domain_arg, sizeof domain_arg, "%u", domain);
  snprintf(T.log_path, sizeof T.log_path, "/tmp/teleop-sim-dds-%d.log", (int)getpid());
  snprintf(T.trace_path, sizeof T.trace_path, "/tmp/teleop-sim-dds-%d.csv", (int)getpid());
  char state_hz[32], hand_hz[32];
  snprintf(state_hz, sizeof state_hz, "%g", STATE_HZ);
  snprintf(hand_hz, sizeof hand_hz, "%g", HAND_STATE_HZ);
  T.child = fork();
  if (T.child < 0) return -1;
  if (T.child == 0) {
    if (!freopen(T.log_path, "w", stderr)) _exit(126);
    execl(teleop_path, "teleop", "sim", "--dds", "--domain", domain_arg, "--interface", "lo", "--model", model_path,
          "--state-hz", state_hz, "--hand-state-hz", hand_hz, "--trace", T.trace_path, (char *)NULL);
    _exit(127);
  }
  char err[512] = "";
  T.sim = tp_sim_create(model_path, err, sizeof err);
  if (!T.sim) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  T.drive = tp_unitree_sim_drive_create(T.sim, err, sizeof err);
  if (!T.drive) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  tp_unitree_sim_drive_home(T.drive, T.home);
  T.dds = tp_unitree_dds_open(domain, "lo", err, sizeof err);
  if (!T.dds) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  T.arm_writer = tp_unitree_dds_writer(T.dds, TP_UNITREE_TOPIC_ARM_SDK, &unitree_hg_msg_dds__LowCmd__desc);
  T.state_reader = tp_unitree_dds_reader(T.dds, TP_UNITREE_TOPIC_LOWSTATE, &unitree_hg_msg_dds__LowState__desc);
  T.hand_writer[0] = tp_unitree_dds_writer(T.dds, TP_UNITREE_TOPIC_DEX3_LEFT_CMD, &unitree_hg_msg_dds__HandCmd__desc);
  T.hand_writer[1] = tp_unitree_dds_writer(T.dds, TP_UNITREE_TOPIC_DEX3_RIGHT_CMD, &unitree_hg_msg_dds__HandCmd__desc);
  T.hand_reader[0] =
      tp_unitree_dds_reader(T.dds, TP_UNITREE_TOPIC_DEX3_LEFT_STATE, &unitree_hg_msg_dds__HandState__desc);
  T.hand_reader[1] =
      tp_unitree_dds_reader(T.dds, TP_UNITREE_TOPIC_DEX3_RIGHT_STATE, &unitree_hg_msg_dds__HandState__desc);
  if (T.arm_writer < 0 || T.state_reader < 0 || T.hand_writer[0] < 0 || T.hand_writer[1] < 0 ||
      T.hand_reader[0] < 0 || T.hand_reader[1] < 0)
    return -1;
  /* The robot is up once its state arrives (model load and discovery). */
  struct observed o;
  for (int i = 0; i < 100; i++) {
    run_for(0.05, NULL, NULL, &o);
    if (o.states > 0) return 0;
  }
  fprintf(stderr, "no rt/lowstate from teleop sim --dds within 5 s (log: %s)\n", T.log_path);
  return -1;
}

static int stop_robot(void **state)
{
  (void)state;
  if (T.child > 0) {
    kill(T.child, SIGKILL);
    waitpid(T.child, NULL, 0);
  }
  tp_unitree_dds_close(T.dds);
  tp_unitree_sim_drive_destroy(T.drive);
  tp_sim_destroy(T.sim);
  unlink(T.log_path);
  unlink(T.trace_path);
  return 0;
}

static void states_at_their_rates(void **state)
{
  (void)state;
  struct observed o;
  run_for(0.5, NULL, NULL, &o);
  /* Ticks count the messages the robot published; received ones may be fewer (best effort). */
  double rate = (double)(o.last_tick - o.first_tick) / (o.last_t - o.first_t);
  double hand_rate[2] = {(double)o.hand_states[0] / 0.5, (double)o.hand_states[1] / 0.5};
  printf("rt/lowstate: %ld received, %.1f Hz published (configured %g), longest gap %.2f ms; dex3 state %.1f / "
         "%.1f Hz received (configured %g)\n",
         o.states, rate, STATE_HZ, 1e3 * o.max_gap_s, hand_rate[0], hand_rate[1], HAND_STATE_HZ);
  assert_true(fabs(rate - STATE_HZ) < 0.1 * STATE_HZ);
  /* The states flow. How many this process sees also depends on it being
   * scheduled (a keep-last-1 reader keeps only the newest), so no tighter
   * bound here; the published hand rate is checked from the summary. */
  assert_true(o.states > (long)(0.5 * (double)(o.last_tick - o.first_tick)));
  for (int h = 0; h < 2; h++)
    assert_true(hand_rate[h] > 0.5 * HAND_STATE_HZ && hand_rate[h] < 1.1 * HAND_STATE_HZ);
  /* At rest at home: the arms hold the model's initial pose, the waist is 0, the IMU level. */
  for (int i = 0; i < TP_G1_ARM_JOINTS; i++)
    assert_true(fabs(o.last.motor_state[tp_g1_arm_sdk_motor[i]].q - T.home[i]) < 0.01);
  for (int m = TP_G1_WAIST_YAW; m <= TP_G1_WAIST_PITCH; m++) assert_true(o.last.motor_state[m].q == 0.0f);
  assert_true(o.last.imu_state.quaternion[0] == 1.0f);
  for (int h = 0; h < 2; h++)
    for (int k = 0; k < TP_DEX3_MOTORS; k++)
      assert_true(fabs(o.hand_q[h][k] - T.home[2 * TP_SIM_ARM_DOF + h * TP_DEX3_MOTORS + k]) < 0.02);
}

static void arm_sdk_weight_blends_the_elbow(void **state)
{
  (void)state;
  const double target = -0.8, home = T.home[ELBOW];
  tp_unitree_low_cmd cmd;
  struct observed o;
  elbow_command(&cmd, target, 1.0f);
  run_for(0.6, &cmd, NULL, &o);
  printf("weight 1: elbow %.4f rad (target %.4f)\n", elbow_of(&o), target);
  assert_true(fabs(elbow_of(&o) - target) < 0.01);
  /* The arm_sdk torque reported: PD + feed-forward, finite. */
  assert_true(isfinite(o.last.motor_state[TP_G1_LEFT_ELBOW].tau_est));

  elbow_command(&cmd, target, 0.0f);
  run_for(0.6, &cmd, NULL, &o);
  printf("weight 0: elbow %.4f rad (home %.4f)\n", elbow_of(&o), home);
  assert_true(fabs(elbow_of(&o) - home) < 0.01);

  /* Halfway: target -0.4 with kp (80 + 400) / 2; the feed-forward holds the
   * commanded pose's gravity half, the robot's compensation the other half:
   * a residual of a few mrad. */
  elbow_command(&cmd, target, 0.5f);
  run_for(0.6, &cmd, NULL, &o);
  printf("weight 0.5: elbow %.4f rad (blend %.4f)\n", elbow_of(&o), 0.5 * target + 0.5 * home);
  assert_true(fabs(elbow_of(&o) - (0.5 * target + 0.5 * home)) < 0.01);
}

static void corrupt_command_is_dropped_and_counted(void **state)
{
  (void)state;
  tp_unitree_low_cmd cmd;
  struct observed before, o;
  elbow_command(&cmd, 0.0, 0.0f);
  run_for(0.3, &cmd, NULL, &before); /* settled at home */
  elbow_command(&cmd, -1.0, 1.0f);
  cmd.crc ^= 1u; /* weight 1, a far target: would move the elbow at once */
  uint64_t bad_before = T.bad_sent;
  run_for(0.5, &cmd, NULL, &o);
  printf("corrupt arm_sdk: elbow %.4f rad before, %.4f after %llu corrupt commands\n", elbow_of(&before),
         elbow_of(&o), (unsigned long long)(T.bad_sent - bad_before));
  assert_true(fabs(elbow_of(&o) - elbow_of(&before)) < 0.005);
}

static void dex3_command_moves_a_finger(void **state)
{
  (void)state;
  const int joint = 2 * TP_SIM_ARM_DOF + LEFT_MIDDLE_0;
  const float target = -0.8f;
  struct tp_unitree_joint_cmd f[TP_DEX3_MOTORS];
  for (int k = 0; k < TP_DEX3_MOTORS; k++)
    f[k] = (struct tp_unitree_joint_cmd){.q = (float)T.home[2 * TP_SIM_ARM_DOF + k], .kp = 1.5f, .kd = 0.2f};
  f[LEFT_MIDDLE_0].q = target;
  tp_unitree_motor_cmd motors[TP_DEX3_MOTORS];
  tp_unitree_hand_cmd hand;
  assert_true(tp_unitree_hand_cmd_fill(&hand, motors, f));
  struct observed o;
  run_for(0.6, NULL, &hand, &o);
  printf("dex3 left %s: %.4f rad (target %.4f, home %.4f); right hand untouched at %.4f\n",
         tp_dex3_joint_name[LEFT_MIDDLE_0], o.hand_q[0][LEFT_MIDDLE_0], target, T.home[joint],
         o.hand_q[1][LEFT_MIDDLE_0]);
  assert_true(o.hand_states[0] > 0 && o.hand_states[1] > 0);
  assert_true(fabs(o.hand_q[0][LEFT_MIDDLE_0] - target) < 0.02);
  assert_true(fabs(o.hand_q[1][LEFT_MIDDLE_0] - T.home[joint + TP_DEX3_MOTORS]) < 0.02);
}

/* The trace's lines: t_ns, weight, commands, crc errors. */
struct trace_row {
  long long t_ns;
  double weight;
  unsigned long long commands, crc_errors;
};

static int read_trace(struct trace_row *rows, int max)
{
  FILE *f = fopen(T.trace_path, "r");
  assert_non_null(f);
  char line[256];
  assert_non_null(fgets(line, sizeof line, f));
  assert_string_equal(line, "t_ns,weight,arm_sdk_commands,crc_errors\n");
  int n = 0;
  while (n < max && fgets(line, sizeof line, f)) {
    struct trace_row *r = &rows[n];
    assert_int_equal(sscanf(line, "%lld,%lf,%llu,%llu", &r->t_ns, &r->weight, &r->commands, &r->crc_errors), 4);
    if (n > 0) assert_true(r->t_ns >= rows[n - 1].t_ns);
    n++;
  }
  fclose(f);
  return n;
}

static void weight_ramps_and_decays_when_commands_stop(void **state)
{
  (void)state;
  tp_unitree_low_cmd cmd;
  struct observed o;
  /* A ramp 0 -> 1 over 0.5 s, then silence. */
  for (int k = 0; k <= 25; k++) {
    elbow_command(&cmd, 0.0, (float)k / 25.0f);
    run_for(0.02, &cmd, NULL, &o);
  }
  run_for(1.25, NULL, NULL, &o);
  enum { MAX_ROWS = 200000 };
  struct trace_row *rows = calloc(MAX_ROWS, sizeof *rows);
  assert_non_null(rows);
  int n = read_trace(rows, MAX_ROWS);
  /* Find the ramp: the last row at weight 0 before the final weight-1 stretch. */
  int top = -1;
  for (int i = n - 1; i >= 0; i--)
    if (rows[i].weight == 1.0) {
      top = i;
      break;
    }
  assert_true(top > 0);
  int ramp_start = top;
  while (ramp_start > 0 && rows[ramp_start - 1].weight > 0.0) ramp_start--;
  /* Rising through the ramp, a line per change: at least 20 distinct steps. */
  int steps = 0;
  for (int i = ramp_start; i <= top; i++) {
    assert_true(i == 0 || rows[i].weight >= rows[i - 1].weight);
    if (i > 0 && rows[i].weight > rows[i - 1].weight) steps++;
  }
  /* After the last command: 1 held for the 0.1 s timeout, then falling at 1/s. */
  int first_hold = top;
  while (first_hold > 0 && rows[first_hold - 1].weight == 1.0) first_hold--;
  double hold_s = (double)(rows[top].t_ns - rows[first_hold].t_ns) * 1e-9;
  int zero = -1;
  for (int i = top + 1; i < n; i++) {
    assert_true(rows[i].weight <= rows[i - 1].weight);
    if (rows[i].weight == 0.0) {
      zero = i;
      break;
    }
  }
  assert_true(zero > top);
  double decay_s = (double)(rows[zero].t_ns - rows[top].t_ns) * 1e-9;
  printf("trace: %d lines; ramp in %d steps; weight 1 then 0 after %.3f s of decay; %llu commands, %llu CRC "
         "errors so far\n",
         n, steps, decay_s, rows[n - 1].commands, rows[n - 1].crc_errors);
  assert_true(steps >= 20);
  assert_true(hold_s >= 0.1 - 0.005); /* the command timeout, less a trace line's spacing */
  assert_true(decay_s > 0.9 && decay_s < 1.2);
  /* The decay is linear: halfway down half a second after it began. */
  for (int i = top + 1; i < zero; i++) {
    double t = (double)(rows[i].t_ns - rows[top].t_ns) * 1e-9;
    assert_true(fabs(rows[i].weight - (1.0 - t)) < 0.05);
  }
  assert_true(rows[n - 1].crc_errors >= 1 && rows[n - 1].crc_errors <= T.bad_sent);
  assert_true(rows[n - 1].commands >= 1 && rows[n - 1].commands <= T.good_sent);
  free(rows);
}

static void stops_cleanly_with_a_summary(void **state)
{
  (void)state;
  assert_int_equal(kill(T.child, SIGTERM), 0);
  int status = 0;
  assert_int_equal(waitpid(T.child, &status, 0), T.child);
  T.child = 0;
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  FILE *f = fopen(T.log_path, "r");
  assert_non_null(f);
  char line[1024], summary[1024] = "";
  while (fgets(line, sizeof line, f))
    if (strstr(line, "teleop sim: stopped after")) snprintf(summary, sizeof summary, "%s", line);
  fclose(f);
  printf("%s", summary);
  double seconds = 0;
  unsigned long long states = 0, hand_states = 0, commands = 0, hand_commands = 0, crc = 0;
  assert_int_equal(sscanf(summary,
                          "teleop sim: stopped after %lf s: %llu lowstate and %llu hand states published, %llu "
                          "arm_sdk and %llu hand commands applied, %llu CRC errors",
                          &seconds, &states, &hand_states, &commands, &hand_commands, &crc),
                   6);
  assert_true(seconds > 2.0);
  assert_true(states > 0.9 * STATE_HZ * seconds && states < 1.1 * STATE_HZ * seconds);
  /* Both hands' states, each at its rate. */
  assert_true(hand_states > 0.9 * 2 * HAND_STATE_HZ * seconds && hand_states < 1.1 * 2 * HAND_STATE_HZ * seconds);
  assert_true(commands >= 1 && commands <= T.good_sent);
  /* Every corrupt command that arrived was counted, none applied: with a
   * command every 4 ms against a 2 ms loop, nearly all arrive. */
  printf("corrupt commands sent %llu, counted %llu; good sent %llu, applied %llu\n",
         (unsigned long long)T.bad_sent, crc, (unsigned long long)T.good_sent, commands);
  assert_true(crc >= T.bad_sent / 2 && crc <= T.bad_sent);
  assert_true(hand_commands >= 1);
}

/* Runs teleop with args, stderr into a file; returns the exit status and
 * the first stderr line in line. */
static int run_teleop(const char *const *args, char *line, size_t len)
{
  char path[256];
  snprintf(path, sizeof path, "/tmp/teleop-sim-dds-usage-%d.log", (int)getpid());
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    if (!freopen(path, "w", stderr)) _exit(126);
    execv(teleop_path, (char *const *)args);
    _exit(127);
  }
  int status = 0;
  assert_int_equal(waitpid(child, &status, 0), child);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  int lines = 0;
  line[0] = 0;
  char buf[1024];
  while (fgets(buf, sizeof buf, f))
    if (lines++ == 0) snprintf(line, len, "%s", buf);
  fclose(f);
  unlink(path);
  assert_int_equal(lines, 1); /* one clear line */
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static void cli_refuses_bad_usage(void **state)
{
  (void)state;
  char line[1024];
  assert_int_equal(run_teleop((const char *const[]){"teleop", "sim", NULL}, line, sizeof line), 2);
  assert_non_null(strstr(line, "--dds"));
  assert_int_equal(run_teleop((const char *const[]){"teleop", "sim", "--dds", "--domain", "300", NULL}, line,
                              sizeof line),
                   2);
  assert_non_null(strstr(line, "--domain"));
  assert_int_equal(run_teleop((const char *const[]){"teleop", "sim", "--dds", "--model", "/nonexistent/robot.xml",
                                                    "--duration", "1", NULL},
                              line, sizeof line),
                   1);
  assert_non_null(strstr(line, "/nonexistent/robot.xml"));
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: sim_dds_test TELEOP MODEL\n");
    return 2;
  }
  teleop_path = argv[1];
  model_path = argv[2];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(cli_refuses_bad_usage),
      cmocka_unit_test(states_at_their_rates),
      cmocka_unit_test(arm_sdk_weight_blends_the_elbow),
      cmocka_unit_test(corrupt_command_is_dropped_and_counted),
      cmocka_unit_test(dex3_command_moves_a_finger),
      cmocka_unit_test(weight_ramps_and_decays_when_commands_stop),
      cmocka_unit_test(stops_cleanly_with_a_summary),
  };
  return cmocka_run_group_tests(tests, start_robot, stop_robot);
}
