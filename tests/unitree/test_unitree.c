/* unitree_dds against known answers: the CDR bytes CycloneDDS puts on the
 * wire for each unitree_hg message, and the SDK's CRC, both compared with
 * vectors known_answers.py derived from the published IDL and CRC definition
 * (not from our code); then a LowCmd/LowState round trip between two
 * processes over UDP on the loopback interface, CRC checked on receipt. */
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
#include <dds/ddsi/ddsi_serdata.h>

#include "known_answers.h"
#include "unitree_dds.h"

/* ---- The known messages: the same field values as known_answers.py. */
static void motor_cmd(tp_unitree_motor_cmd *m, int i)
{
  m->mode = (uint8_t)(i + 1);
  m->q = (float)i + 0.25f;
  m->dq = -((float)i + 0.5f);
  m->tau = (float)i * 0.125f;
  m->kp = 100.0f + (float)i;
  m->kd = 1.0f + (float)i * 0.0625f;
  m->reserve = 0xA0000000u + (uint32_t)i;
}

static void motor_state(tp_unitree_motor_state *m, int i)
{
  m->mode = (uint8_t)(0x80 + i);
  m->q = (float)i + 0.5f;
  m->dq = (float)i - 17.25f;
  m->ddq = (float)i * 0.25f;
  m->tau_est = -(float)i * 0.75f;
  m->temperature[0] = (int16_t)(30 + i);
  m->temperature[1] = (int16_t)(-(i + 1));
  m->vol = 24.0f + (float)i * 0.5f;
  m->sensor[0] = 0x5000u + (uint32_t)i;
  m->sensor[1] = 0x6000u + (uint32_t)i;
  m->motorstate = 0x7000u + (uint32_t)i;
  for (uint32_t k = 0; k < 4; k++) m->reserve[k] = 0x8000u + 4u * (uint32_t)i + k;
}

static void imu(tp_unitree_imu_state *s)
{
  const float v[13] = {1.0f, 0.5f, 0.25f, 0.125f, -1.5f, 2.5f, -3.5f, 0.0625f, -9.75f, 4.0f,
                       0.375f, -0.625f, 1.125f};
  memcpy(s->quaternion, v, sizeof s->quaternion);
  memcpy(s->gyroscope, v + 4, sizeof s->gyroscope);
  memcpy(s->accelerometer, v + 7, sizeof s->accelerometer);
  memcpy(s->rpy, v + 10, sizeof s->rpy);
  s->temperature = -42;
}

static void known_low_cmd(tp_unitree_low_cmd *c)
{
  memset(c, 0, sizeof *c);
  c->mode_pr = 1;
  c->mode_machine = 5;
  for (int i = 0; i < TP_G1_MOTORS; i++) motor_cmd(&c->motor_cmd[i], i);
  for (uint32_t k = 0; k < 4; k++) c->reserve[k] = 0x11110000u + k;
  c->crc = 0xDEADBEEFu;
}

static void known_low_state(tp_unitree_low_state *s)
{
  memset(s, 0, sizeof *s);
  s->version[0] = 0x01020304u;
  s->version[1] = 0x05060708u;
  s->mode_pr = 0;
  s->mode_machine = 6;
  s->tick = 123456789u;
  imu(&s->imu_state);
  for (int i = 0; i < TP_G1_MOTORS; i++) motor_state(&s->motor_state[i], i);
  for (int k = 0; k < 40; k++) s->wireless_remote[k] = (uint8_t)(k * 3 + 1);
  for (uint32_t k = 0; k < 4; k++) s->reserve[k] = 0x9000u + k;
  s->crc = 0xCAFEF00Du;
}

/* ---- A fresh domain id per participant and per test process, away from 0
 * (robot) and 1 (simulator): a domain left behind by a failed test cannot
 * fail the next one. */
static uint32_t test_domain(void)
{
  static uint32_t opened;
  return 2u + ((uint32_t)getpid() * 8u + opened++) % 230u;
}

static struct tp_unitree_dds *open_lo(uint32_t domain)
{
  char err[256] = "";
  struct tp_unitree_dds *dds = tp_unitree_dds_open(domain, "lo", err, sizeof err);
  if (!dds) fail_msg("%s", err);
  return dds;
}

/* Writes the sample to a topic and takes it back raw from a reader on the
 * same topic: the bytes are CycloneDDS's serialisation of the sample. */
static void assert_wire_bytes(const char *topic, const dds_topic_descriptor_t *type, const void *sample,
                              const uint8_t *expected, size_t expected_size)
{
  struct tp_unitree_dds *dds = open_lo(test_domain());
  dds_entity_t reader = tp_unitree_dds_reader(dds, topic, type);
  dds_entity_t writer = tp_unitree_dds_writer(dds, topic, type);
  assert_true(reader > 0);
  assert_true(writer > 0);
  dds_instance_handle_t ours;
  assert_int_equal(dds_get_instance_handle(writer, &ours), DDS_RETCODE_OK);
  assert_int_equal(dds_write(writer, sample), DDS_RETCODE_OK);
  struct ddsi_serdata *sd = NULL;
  dds_sample_info_t info;
  int32_t n = 0;
  /* Only our writer's sample counts: another test process may share the domain. */
  for (int tries = 0; tries < 200 && n == 0; tries++) {
    n = dds_takecdr(reader, &sd, 1, &info, DDS_ANY_STATE);
    if (n == 1 && (!info.valid_data || info.publication_handle != ours)) {
      ddsi_serdata_unref(sd);
      n = 0;
      continue;
    }
    if (n == 0) dds_sleepfor(DDS_MSECS(5));
  }
  assert_int_equal(n, 1);
  uint32_t size = ddsi_serdata_size(sd);
  assert_int_equal(size, expected_size);
  uint8_t *bytes = malloc(size);
  assert_non_null(bytes);
  ddsi_serdata_to_ser(sd, 0, size, bytes);
  for (size_t i = 0; i < size; i++)
    if (bytes[i] != expected[i]) fail_msg("%s: byte %zu is 0x%02x, known answer 0x%02x", topic, i, bytes[i], expected[i]);
  free(bytes);
  ddsi_serdata_unref(sd);
  tp_unitree_dds_close(dds);
}

static void low_cmd_wire_format(void **state)
{
  (void)state;
  tp_unitree_low_cmd c;
  known_low_cmd(&c);
  assert_wire_bytes(TP_UNITREE_TOPIC_ARM_SDK, &unitree_hg_msg_dds__LowCmd__desc, &c, ka_low_cmd_cdr,
                    sizeof ka_low_cmd_cdr);
}

static void low_state_wire_format(void **state)
{
  (void)state;
  tp_unitree_low_state s;
  known_low_state(&s);
  assert_wire_bytes(TP_UNITREE_TOPIC_LOWSTATE, &unitree_hg_msg_dds__LowState__desc, &s, ka_low_state_cdr,
                    sizeof ka_low_state_cdr);
}

static void hand_cmd_wire_format(void **state)
{
  (void)state;
  tp_unitree_motor_cmd motors[TP_DEX3_MOTORS];
  for (int i = 0; i < TP_DEX3_MOTORS; i++) motor_cmd(&motors[i], i);
  tp_unitree_hand_cmd h = {0};
  h.motor_cmd._buffer = motors;
  h.motor_cmd._length = h.motor_cmd._maximum = TP_DEX3_MOTORS;
  for (uint32_t k = 0; k < 4; k++) h.reserve[k] = 0x2200u + k;
  assert_wire_bytes(TP_UNITREE_TOPIC_DEX3_LEFT_CMD, &unitree_hg_msg_dds__HandCmd__desc, &h, ka_hand_cmd_cdr,
                    sizeof ka_hand_cmd_cdr);
}

static void hand_state_wire_format(void **state)
{
  (void)state;
  tp_unitree_motor_state motors[TP_DEX3_MOTORS];
  tp_unitree_press_sensor_state sensors[9];
  for (int i = 0; i < TP_DEX3_MOTORS; i++) motor_state(&motors[i], i);
  for (int s = 0; s < 9; s++) {
    for (int k = 0; k < 12; k++) {
      sensors[s].pressure[k] = (float)(s * 12 + k) + 0.5f;
      sensors[s].temperature[k] = 20.0f + (float)s + (float)k * 0.25f;
    }
    sensors[s].lost = (uint32_t)s;
    sensors[s].reserve = 0x3300u + (uint32_t)s;
  }
  tp_unitree_hand_state h = {0};
  h.motor_state._buffer = motors;
  h.motor_state._length = h.motor_state._maximum = TP_DEX3_MOTORS;
  h.press_sensor_state._buffer = sensors;
  h.press_sensor_state._length = h.press_sensor_state._maximum = 9;
  imu(&h.imu_state);
  h.power_v = 24.5f;
  h.power_a = 1.25f;
  h.system_v = 12.0f;
  h.device_v = 5.0f;
  h.error[0] = 1;
  h.error[1] = 2;
  h.reserve[0] = 3;
  h.reserve[1] = 4;
  assert_wire_bytes(TP_UNITREE_TOPIC_DEX3_RIGHT_STATE, &unitree_hg_msg_dds__HandState__desc, &h,
                    ka_hand_state_cdr, sizeof ka_hand_state_cdr);
}

/* ---- CRC */
static void crc_known_answers(void **state)
{
  (void)state;
  tp_unitree_low_cmd c;
  known_low_cmd(&c);
  uint8_t cmd_image[TP_UNITREE_LOW_CMD_IMAGE_BYTES];
  tp_unitree_low_cmd_image(&c, cmd_image);
  assert_memory_equal(cmd_image, ka_low_cmd_image, sizeof cmd_image);
  assert_int_equal(tp_unitree_low_cmd_crc(&c), KA_LOW_CMD_CRC);
  assert_false(tp_unitree_low_cmd_crc_ok(&c));
  c.crc = KA_LOW_CMD_CRC;
  assert_true(tp_unitree_low_cmd_crc_ok(&c));
  c.motor_cmd[7].kd += 1.0f; /* one field changed: the CRC no longer holds */
  assert_false(tp_unitree_low_cmd_crc_ok(&c));

  tp_unitree_low_state s;
  known_low_state(&s);
  uint8_t state_image[TP_UNITREE_LOW_STATE_IMAGE_BYTES];
  tp_unitree_low_state_image(&s, state_image);
  assert_memory_equal(state_image, ka_low_state_image, sizeof state_image);
  assert_int_equal(tp_unitree_low_state_crc(&s), KA_LOW_STATE_CRC);
  s.crc = KA_LOW_STATE_CRC;
  assert_true(tp_unitree_low_state_crc_ok(&s));
  s.imu_state.temperature = 41; /* a field just before the padding the CDR lacks */
  assert_false(tp_unitree_low_state_crc_ok(&s));

  tp_unitree_low_cmd zero;
  memset(&zero, 0, sizeof zero);
  assert_int_equal(tp_unitree_low_cmd_crc(&zero), KA_ZERO_LOW_CMD_CRC);
}

/* ---- Fill and read helpers */
static void arm_sdk_fill_places_joints_and_weight(void **state)
{
  (void)state;
  struct tp_unitree_joint_cmd j[TP_G1_ARM_SDK_JOINTS];
  for (int i = 0; i < TP_G1_ARM_SDK_JOINTS; i++)
    j[i] = (struct tp_unitree_joint_cmd){.q = 0.1f * (float)i, .dq = 0.0f, .tau = -0.5f * (float)i,
                                         .kp = i < 14 ? 80.0f : 300.0f, .kd = 3.0f};
  tp_unitree_low_cmd c;
  assert_true(tp_unitree_arm_sdk_fill(&c, j, TP_G1_ARM_SDK_JOINTS, 0.4f, 6));
  assert_int_equal(c.mode_pr, 0);
  assert_int_equal(c.mode_machine, 6);
  /* left shoulder pitch is motor 15, right wrist yaw 28, waist yaw 12, pitch 14 */
  assert_true(c.motor_cmd[15].q == 0.0f && c.motor_cmd[15].mode == 1 && c.motor_cmd[15].kp == 80.0f);
  assert_true(c.motor_cmd[28].q == 0.1f * 13.0f && c.motor_cmd[28].tau == -6.5f);
  assert_true(c.motor_cmd[12].q == 0.1f * 14.0f && c.motor_cmd[12].kp == 300.0f);
  assert_true(c.motor_cmd[14].q == 0.1f * 16.0f);
  for (int m = 0; m < 12; m++) assert_int_equal(c.motor_cmd[m].mode, 0); /* legs untouched */
  assert_true(c.motor_cmd[TP_G1_ARM_SDK_WEIGHT_MOTOR].q == 0.4f);
  assert_int_equal(c.motor_cmd[TP_G1_ARM_SDK_WEIGHT_MOTOR].mode, 0);
  assert_true(tp_unitree_arm_sdk_weight(&c) == 0.4f);
  assert_true(tp_unitree_low_cmd_crc_ok(&c));

  assert_true(tp_unitree_arm_sdk_fill(&c, j, TP_G1_ARM_JOINTS, 7.0f, 6));
  assert_true(tp_unitree_arm_sdk_weight(&c) == 1.0f);
  assert_int_equal(c.motor_cmd[12].mode, 0); /* arms only: waist not commanded */
  assert_true(tp_unitree_arm_sdk_fill(&c, j, TP_G1_ARM_JOINTS, -1.0f, 6));
  assert_true(tp_unitree_arm_sdk_weight(&c) == 0.0f);

  tp_unitree_low_cmd before = c;
  assert_false(tp_unitree_arm_sdk_fill(&c, j, 15, 0.5f, 6));
  j[3].q = NAN;
  assert_false(tp_unitree_arm_sdk_fill(&c, j, TP_G1_ARM_JOINTS, 0.5f, 6));
  j[3].q = 0.3f;
  assert_false(tp_unitree_arm_sdk_fill(&c, j, TP_G1_ARM_JOINTS, INFINITY, 6));
  assert_memory_equal(&c, &before, sizeof c);
}

static void hand_fill_and_state_reads(void **state)
{
  (void)state;
  struct tp_unitree_joint_cmd j[TP_DEX3_MOTORS];
  for (int i = 0; i < TP_DEX3_MOTORS; i++)
    j[i] = (struct tp_unitree_joint_cmd){.q = -0.2f * (float)i, .kp = 1.5f, .kd = 0.2f};
  tp_unitree_motor_cmd motors[TP_DEX3_MOTORS];
  tp_unitree_hand_cmd h;
  assert_true(tp_unitree_hand_cmd_fill(&h, motors, j));
  assert_int_equal(h.motor_cmd._length, 7);
  assert_ptr_equal(h.motor_cmd._buffer, motors);
  for (int i = 0; i < TP_DEX3_MOTORS; i++) {
    assert_int_equal(motors[i].mode, 0x10 | i); /* id, status 1, no timeout */
    assert_true(motors[i].q == -0.2f * (float)i && motors[i].kp == 1.5f && motors[i].kd == 0.2f);
  }

  tp_unitree_low_state s;
  known_low_state(&s);
  float q[TP_G1_ARM_SDK_JOINTS], dq[TP_G1_ARM_SDK_JOINTS];
  tp_unitree_low_state_read(&s, TP_G1_ARM_SDK_JOINTS, q, dq);
  for (int i = 0; i < TP_G1_ARM_SDK_JOINTS; i++) {
    int m = tp_g1_arm_sdk_motor[i];
    assert_true(q[i] == (float)m + 0.5f && dq[i] == (float)m - 17.25f);
  }
  assert_int_equal(tp_g1_arm_sdk_motor[0], 15);
  assert_int_equal(tp_g1_arm_sdk_motor[7], 22);
  assert_int_equal(tp_g1_arm_sdk_motor[14], 12);

  tp_unitree_motor_state hm[TP_DEX3_MOTORS];
  for (int i = 0; i < TP_DEX3_MOTORS; i++) motor_state(&hm[i], i);
  tp_unitree_hand_state hs = {0};
  hs.motor_state._buffer = hm;
  hs.motor_state._length = 6;
  float hq[TP_DEX3_MOTORS], hdq[TP_DEX3_MOTORS];
  assert_false(tp_unitree_hand_state_read(&hs, hq, hdq));
  hs.motor_state._length = 7;
  assert_true(tp_unitree_hand_state_read(&hs, hq, hdq));
  assert_true(hq[6] == 6.5f && hdq[6] == 6.0f - 17.25f);
}

static void open_refuses_bad_arguments(void **state)
{
  (void)state;
  char err[256] = "";
  assert_null(tp_unitree_dds_open(233, "lo", err, sizeof err));
  assert_non_null(strstr(err, "domain id 233"));
  assert_null(tp_unitree_dds_open(5, "lo\"/><x", err, sizeof err));
  assert_non_null(strstr(err, "network interface"));
  char xml[512];
  tp_unitree_dds_config_xml("eth0", xml, sizeof xml);
  assert_non_null(strstr(xml, "<NetworkInterface name=\"eth0\""));
  tp_unitree_dds_config_xml("192.168.123.99", xml, sizeof xml);
  assert_non_null(strstr(xml, "<NetworkInterface address=\"192.168.123.99\""));
}

/* unitree_sdk2's channels are made with no QoS (CycloneDDS's defaults): our
 * explicit QoS must be exactly what an endpoint made that way gets. */
static void endpoints_have_the_sdk_qos(void **state)
{
  (void)state;
  struct tp_unitree_dds *dds = open_lo(test_domain());
  dds_entity_t ours[2] = {
    tp_unitree_dds_writer(dds, TP_UNITREE_TOPIC_ARM_SDK, &unitree_hg_msg_dds__LowCmd__desc),
    tp_unitree_dds_reader(dds, TP_UNITREE_TOPIC_LOWSTATE, &unitree_hg_msg_dds__LowState__desc),
  };
  dds_entity_t topics[2] = {dds_get_topic(ours[0]), dds_get_topic(ours[1])};
  dds_entity_t participant = tp_unitree_dds_participant(dds);
  dds_entity_t sdk[2] = {dds_create_writer(participant, topics[0], NULL, NULL),
                         dds_create_reader(participant, topics[1], NULL, NULL)};
  for (int i = 0; i < 2; i++) {
    assert_true(ours[i] > 0 && sdk[i] > 0);
    dds_qos_t *a = dds_create_qos(), *b = dds_create_qos();
    assert_int_equal(dds_get_qos(ours[i], a), DDS_RETCODE_OK);
    assert_int_equal(dds_get_qos(sdk[i], b), DDS_RETCODE_OK);
    dds_reliability_kind_t ra, rb;
    dds_duration_t ba, bb;
    dds_history_kind_t ha, hb;
    int32_t da, db;
    assert_true(dds_qget_reliability(a, &ra, &ba) && dds_qget_reliability(b, &rb, &bb));
    assert_true(dds_qget_history(a, &ha, &da) && dds_qget_history(b, &hb, &db));
    assert_int_equal(ra, rb);
    assert_int_equal(ha, hb);
    assert_int_equal(da, db);
    assert_true(dds_qos_equal(a, b));
    dds_delete_qos(a);
    dds_delete_qos(b);
  }
  tp_unitree_dds_close(dds);
}

/* ---- Round trip between two processes: this one is the station (writes
 * arm_sdk commands, reads lowstate), a child started as `test_unitree
 * --robot DOMAIN` is the robot: it takes each command, checks its CRC, and
 * answers with a LowState whose arm motors sit at the commanded q, whose tick
 * counts good commands and reserve[0] bad ones, sealed with its own CRC; it
 * answers each left Dex3-1 command with a HandState at the commanded q. */
static int robot_main(uint32_t domain)
{
  char err[256];
  struct tp_unitree_dds *dds = tp_unitree_dds_open(domain, "lo", err, sizeof err);
  if (!dds) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  dds_entity_t cmd_reader = tp_unitree_dds_reader(dds, TP_UNITREE_TOPIC_ARM_SDK, &unitree_hg_msg_dds__LowCmd__desc);
  dds_entity_t state_writer = tp_unitree_dds_writer(dds, TP_UNITREE_TOPIC_LOWSTATE, &unitree_hg_msg_dds__LowState__desc);
  dds_entity_t hand_reader = tp_unitree_dds_reader(dds, TP_UNITREE_TOPIC_DEX3_LEFT_CMD, &unitree_hg_msg_dds__HandCmd__desc);
  dds_entity_t hand_writer = tp_unitree_dds_writer(dds, TP_UNITREE_TOPIC_DEX3_LEFT_STATE, &unitree_hg_msg_dds__HandState__desc);
  if (cmd_reader < 0 || state_writer < 0 || hand_reader < 0 || hand_writer < 0) return 3;
  tp_unitree_motor_state hand_motors[TP_DEX3_MOTORS];
  memset(hand_motors, 0, sizeof hand_motors);
  tp_unitree_hand_state hand = {0};
  hand.motor_state._buffer = hand_motors;
  hand.motor_state._length = hand.motor_state._maximum = TP_DEX3_MOTORS;
  static tp_unitree_low_state st;
  memset(&st, 0, sizeof st);
  st.mode_machine = 6;
  uint32_t good = 0, bad = 0;
  for (int ms = 0; ms < 10000; ms++) {
    tp_unitree_low_cmd cmd;
    void *samples[1] = {&cmd};
    dds_sample_info_t info;
    if (dds_take(cmd_reader, samples, &info, 1, 1) == 1 && info.valid_data) {
      if (tp_unitree_low_cmd_crc_ok(&cmd)) {
        good++;
        for (int m = 0; m < TP_G1_MOTORS; m++) st.motor_state[m].q = cmd.motor_cmd[m].q;
      } else {
        bad++;
      }
      st.tick = good;
      st.reserve[0] = bad;
      st.crc = tp_unitree_low_state_crc(&st);
      dds_write(state_writer, &st);
    }
    void *loan[1] = {NULL};
    if (dds_take(hand_reader, loan, &info, 1, 1) == 1) {
      const tp_unitree_hand_cmd *hc = loan[0];
      if (info.valid_data && hc->motor_cmd._length == TP_DEX3_MOTORS) {
        for (int i = 0; i < TP_DEX3_MOTORS; i++) hand_motors[i].q = hc->motor_cmd._buffer[i].q;
        dds_write(hand_writer, &hand);
      }
      dds_return_loan(hand_reader, loan, 1);
    }
    dds_sleepfor(DDS_MSECS(1));
  }
  tp_unitree_dds_close(dds);
  return 0;
}

static void loopback_round_trip(void **state)
{
  (void)state;
  uint32_t domain = test_domain();
  char domain_arg[16];
  snprintf(domain_arg, sizeof domain_arg, "%u", domain);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    execl("/proc/self/exe", "test_unitree", "--robot", domain_arg, (char *)NULL);
    _exit(127);
  }
  struct tp_unitree_dds *dds = open_lo(domain);
  dds_entity_t cmd_writer = tp_unitree_dds_writer(dds, TP_UNITREE_TOPIC_ARM_SDK, &unitree_hg_msg_dds__LowCmd__desc);
  dds_entity_t state_reader = tp_unitree_dds_reader(dds, TP_UNITREE_TOPIC_LOWSTATE, &unitree_hg_msg_dds__LowState__desc);
  dds_entity_t hand_writer = tp_unitree_dds_writer(dds, TP_UNITREE_TOPIC_DEX3_LEFT_CMD, &unitree_hg_msg_dds__HandCmd__desc);
  dds_entity_t hand_reader = tp_unitree_dds_reader(dds, TP_UNITREE_TOPIC_DEX3_LEFT_STATE, &unitree_hg_msg_dds__HandState__desc);
  assert_true(cmd_writer > 0 && state_reader > 0 && hand_writer > 0 && hand_reader > 0);
  struct tp_unitree_joint_cmd fingers[TP_DEX3_MOTORS];
  for (int i = 0; i < TP_DEX3_MOTORS; i++)
    fingers[i] = (struct tp_unitree_joint_cmd){.q = -0.125f * (float)(i + 1), .kp = 1.5f, .kd = 0.2f};
  tp_unitree_motor_cmd finger_motors[TP_DEX3_MOTORS];
  tp_unitree_hand_cmd hand_cmd;
  assert_true(tp_unitree_hand_cmd_fill(&hand_cmd, finger_motors, fingers));

  struct tp_unitree_joint_cmd j[TP_G1_ARM_JOINTS];
  for (int i = 0; i < TP_G1_ARM_JOINTS; i++)
    j[i] = (struct tp_unitree_joint_cmd){.q = 0.05f * (float)(i + 1), .kp = 80.0f, .kd = 3.0f};
  tp_unitree_low_cmd good, corrupt;
  assert_true(tp_unitree_arm_sdk_fill(&good, j, TP_G1_ARM_JOINTS, 1.0f, 6));
  corrupt = good;
  corrupt.motor_cmd[15].q = 2.0f; /* changed after the CRC was computed */

  bool tracked = false, saw_bad = false, hand_tracked = false;
  static tp_unitree_low_state st;
  for (int round = 0; round < 500 && !(tracked && saw_bad && hand_tracked); round++) {
    dds_write(cmd_writer, round % 2 ? &good : &corrupt);
    dds_write(hand_writer, &hand_cmd);
    dds_sleepfor(DDS_MSECS(10));
    void *samples[1] = {&st};
    dds_sample_info_t info;
    while (dds_take(state_reader, samples, &info, 1, 1) == 1) {
      if (!info.valid_data) continue;
      assert_true(tp_unitree_low_state_crc_ok(&st));
      float q[TP_G1_ARM_JOINTS];
      tp_unitree_low_state_read(&st, TP_G1_ARM_JOINTS, q, NULL);
      assert_true(q[0] != 2.0f); /* the robot never applied the corrupt command */
      if (st.tick > 0) {
        for (int i = 0; i < TP_G1_ARM_JOINTS; i++) assert_true(q[i] == j[i].q);
        tracked = true;
      }
      if (st.reserve[0] > 0) saw_bad = true;
    }
    void *loan[1] = {NULL};
    while (dds_take(hand_reader, loan, &info, 1, 1) == 1) {
      float hq[TP_DEX3_MOTORS];
      bool read = info.valid_data && tp_unitree_hand_state_read(loan[0], hq, NULL);
      dds_return_loan(hand_reader, loan, 1);
      loan[0] = NULL;
      if (!read) continue;
      for (int i = 0; i < TP_DEX3_MOTORS; i++) assert_true(hq[i] == fingers[i].q);
      hand_tracked = true;
    }
  }
  assert_true(tracked);
  assert_true(saw_bad);
  assert_true(hand_tracked);
  tp_unitree_dds_close(dds);
  kill(child, SIGTERM);
  int status = 0;
  assert_int_equal(waitpid(child, &status, 0), child);
}

int main(int argc, char **argv)
{
  if (argc == 3 && strcmp(argv[1], "--robot") == 0) return robot_main((uint32_t)strtoul(argv[2], NULL, 10));
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(crc_known_answers),
    cmocka_unit_test(low_cmd_wire_format),
    cmocka_unit_test(low_state_wire_format),
    cmocka_unit_test(hand_cmd_wire_format),
    cmocka_unit_test(hand_state_wire_format),
    cmocka_unit_test(arm_sdk_fill_places_joints_and_weight),
    cmocka_unit_test(hand_fill_and_state_reads),
    cmocka_unit_test(open_refuses_bad_arguments),
    cmocka_unit_test(endpoints_have_the_sdk_qos),
    cmocka_unit_test(loopback_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
