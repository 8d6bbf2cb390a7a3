/* unitree_hg messages: CRC, the SDK's memory image, joint tables, command
 * fill and state read helpers. No allocation, no locks: called from the
 * control loop. */
#include "unitree_dds.h"

#include <math.h>
#include <string.h>

const uint8_t tp_g1_arm_sdk_motor[TP_G1_ARM_SDK_JOINTS] = {
  TP_G1_LEFT_SHOULDER_PITCH, TP_G1_LEFT_SHOULDER_ROLL, TP_G1_LEFT_SHOULDER_YAW, TP_G1_LEFT_ELBOW,
  TP_G1_LEFT_WRIST_ROLL, TP_G1_LEFT_WRIST_PITCH, TP_G1_LEFT_WRIST_YAW,
  TP_G1_RIGHT_SHOULDER_PITCH, TP_G1_RIGHT_SHOULDER_ROLL, TP_G1_RIGHT_SHOULDER_YAW, TP_G1_RIGHT_ELBOW,
  TP_G1_RIGHT_WRIST_ROLL, TP_G1_RIGHT_WRIST_PITCH, TP_G1_RIGHT_WRIST_YAW,
  TP_G1_WAIST_YAW, TP_G1_WAIST_ROLL, TP_G1_WAIST_PITCH,
};

const char *const tp_g1_arm_sdk_joint_name[TP_G1_ARM_SDK_JOINTS] = {
  "left_shoulder_pitch_joint", "left_shoulder_roll_joint", "left_shoulder_yaw_joint", "left_elbow_joint",
  "left_wrist_roll_joint", "left_wrist_pitch_joint", "left_wrist_yaw_joint",
  "right_shoulder_pitch_joint", "right_shoulder_roll_joint", "right_shoulder_yaw_joint", "right_elbow_joint",
  "right_wrist_roll_joint", "right_wrist_pitch_joint", "right_wrist_yaw_joint",
  "waist_yaw_joint", "waist_roll_joint", "waist_pitch_joint",
};

const char *const tp_dex3_joint_name[TP_DEX3_MOTORS] = {
  "thumb_0", "thumb_1", "thumb_2", "middle_0", "middle_1", "index_0", "index_1",
};

uint32_t tp_unitree_crc32_words(const uint32_t *words, size_t n_words)
{
  const uint32_t polynomial = 0x04C11DB7u;
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n_words; i++) {
    uint32_t data = words[i];
    for (uint32_t bit = 0x80000000u; bit != 0; bit >>= 1) {
      bool top = (crc & 0x80000000u) != 0;
      crc <<= 1;
      if (top) crc ^= polynomial;
      if (data & bit) crc ^= polynomial;
    }
  }
  return crc;
}

/* Little-endian writer over a fixed image; every offset is checked by the
 * caller's size, the image is zeroed first so padding is zero. */
struct image {
  uint8_t *p;
  size_t at;
};

static void put_u8(struct image *im, uint8_t v) { im->p[im->at++] = v; }
static void put_u16(struct image *im, uint16_t v)
{
  im->p[im->at++] = (uint8_t)v;
  im->p[im->at++] = (uint8_t)(v >> 8);
}
static void put_u32(struct image *im, uint32_t v)
{
  for (int i = 0; i < 4; i++) im->p[im->at++] = (uint8_t)(v >> (8 * i));
}
static void put_f32(struct image *im, float v)
{
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  put_u32(im, u);
}
static void align4(struct image *im) { im->at = (im->at + 3u) & ~(size_t)3u; }

static void put_motor_cmd(struct image *im, const tp_unitree_motor_cmd *m)
{
  put_u8(im, m->mode);
  align4(im);
  put_f32(im, m->q);
  put_f32(im, m->dq);
  put_f32(im, m->tau);
  put_f32(im, m->kp);
  put_f32(im, m->kd);
  put_u32(im, m->reserve);
}

static void put_motor_state(struct image *im, const tp_unitree_motor_state *m)
{
  put_u8(im, m->mode);
  align4(im);
  put_f32(im, m->q);
  put_f32(im, m->dq);
  put_f32(im, m->ddq);
  put_f32(im, m->tau_est);
  put_u16(im, (uint16_t)m->temperature[0]);
  put_u16(im, (uint16_t)m->temperature[1]);
  put_f32(im, m->vol);
  for (int i = 0; i < 2; i++) put_u32(im, m->sensor[i]);
  put_u32(im, m->motorstate);
  for (int i = 0; i < 4; i++) put_u32(im, m->reserve[i]);
}

static void put_imu(struct image *im, const tp_unitree_imu_state *s)
{
  for (int i = 0; i < 4; i++) put_f32(im, s->quaternion[i]);
  for (int i = 0; i < 3; i++) put_f32(im, s->gyroscope[i]);
  for (int i = 0; i < 3; i++) put_f32(im, s->accelerometer[i]);
  for (int i = 0; i < 3; i++) put_f32(im, s->rpy[i]);
  put_u16(im, (uint16_t)s->temperature);
  align4(im); /* a C struct of floats and one short is padded to 4 */
}

void tp_unitree_low_cmd_image(const tp_unitree_low_cmd *cmd, uint8_t out[TP_UNITREE_LOW_CMD_IMAGE_BYTES])
{
  memset(out, 0, TP_UNITREE_LOW_CMD_IMAGE_BYTES);
  struct image im = {out, 0};
  put_u8(&im, cmd->mode_pr);
  put_u8(&im, cmd->mode_machine);
  align4(&im);
  for (int i = 0; i < TP_G1_MOTORS; i++) put_motor_cmd(&im, &cmd->motor_cmd[i]);
  for (int i = 0; i < 4; i++) put_u32(&im, cmd->reserve[i]);
  put_u32(&im, cmd->crc);
}

void tp_unitree_low_state_image(const tp_unitree_low_state *state,
                                uint8_t out[TP_UNITREE_LOW_STATE_IMAGE_BYTES])
{
  memset(out, 0, TP_UNITREE_LOW_STATE_IMAGE_BYTES);
  struct image im = {out, 0};
  put_u32(&im, state->version[0]);
  put_u32(&im, state->version[1]);
  put_u8(&im, state->mode_pr);
  put_u8(&im, state->mode_machine);
  align4(&im);
  put_u32(&im, state->tick);
  put_imu(&im, &state->imu_state);
  for (int i = 0; i < TP_G1_MOTORS; i++) put_motor_state(&im, &state->motor_state[i]);
  for (int i = 0; i < 40; i++) put_u8(&im, state->wireless_remote[i]);
  for (int i = 0; i < 4; i++) put_u32(&im, state->reserve[i]);
  put_u32(&im, state->crc);
}

static uint32_t crc_of_image(const uint8_t *image, size_t bytes)
{
  uint32_t words[TP_UNITREE_LOW_STATE_IMAGE_BYTES / 4];
  size_t n = bytes / 4 - 1; /* all words but the trailing crc */
  for (size_t i = 0; i < n; i++)
    words[i] = (uint32_t)image[4 * i] | (uint32_t)image[4 * i + 1] << 8 |
               (uint32_t)image[4 * i + 2] << 16 | (uint32_t)image[4 * i + 3] << 24;
  return tp_unitree_crc32_words(words, n);
}

uint32_t tp_unitree_low_cmd_crc(const tp_unitree_low_cmd *cmd)
{
  uint8_t image[TP_UNITREE_LOW_CMD_IMAGE_BYTES];
  tp_unitree_low_cmd_image(cmd, image);
  return crc_of_image(image, sizeof image);
}

uint32_t tp_unitree_low_state_crc(const tp_unitree_low_state *state)
{
  uint8_t image[TP_UNITREE_LOW_STATE_IMAGE_BYTES];
  tp_unitree_low_state_image(state, image);
  return crc_of_image(image, sizeof image);
}

bool tp_unitree_low_cmd_crc_ok(const tp_unitree_low_cmd *cmd)
{
  return tp_unitree_low_cmd_crc(cmd) == cmd->crc;
}

bool tp_unitree_low_state_crc_ok(const tp_unitree_low_state *state)
{
  return tp_unitree_low_state_crc(state) == state->crc;
}

static bool joint_finite(const struct tp_unitree_joint_cmd *j)
{
  return isfinite(j->q) && isfinite(j->dq) && isfinite(j->tau) && isfinite(j->kp) && isfinite(j->kd);
}

bool tp_unitree_arm_sdk_fill(tp_unitree_low_cmd *cmd, const struct tp_unitree_joint_cmd *joints,
                             size_t n_joints, float weight, uint8_t mode_machine)
{
  if (n_joints != TP_G1_ARM_JOINTS && n_joints != TP_G1_ARM_SDK_JOINTS) return false;
  if (!isfinite(weight)) return false;
  for (size_t i = 0; i < n_joints; i++)
    if (!joint_finite(&joints[i])) return false;
  memset(cmd, 0, sizeof *cmd);
  cmd->mode_pr = 0;
  cmd->mode_machine = mode_machine;
  for (size_t i = 0; i < n_joints; i++) {
    tp_unitree_motor_cmd *m = &cmd->motor_cmd[tp_g1_arm_sdk_motor[i]];
    m->mode = 1;
    m->q = joints[i].q;
    m->dq = joints[i].dq;
    m->tau = joints[i].tau;
    m->kp = joints[i].kp;
    m->kd = joints[i].kd;
  }
  cmd->motor_cmd[TP_G1_ARM_SDK_WEIGHT_MOTOR].q = weight < 0.0f ? 0.0f : weight > 1.0f ? 1.0f : weight;
  cmd->crc = tp_unitree_low_cmd_crc(cmd);
  return true;
}

float tp_unitree_arm_sdk_weight(const tp_unitree_low_cmd *cmd)
{
  return cmd->motor_cmd[TP_G1_ARM_SDK_WEIGHT_MOTOR].q;
}

bool tp_unitree_hand_cmd_fill(tp_unitree_hand_cmd *cmd, tp_unitree_motor_cmd motors[TP_DEX3_MOTORS],
                              const struct tp_unitree_joint_cmd joints[TP_DEX3_MOTORS])
{
  for (int i = 0; i < TP_DEX3_MOTORS; i++)
    if (!joint_finite(&joints[i])) return false;
  const uint8_t status = 0x01, timeout = 0;
  for (int i = 0; i < TP_DEX3_MOTORS; i++) {
    memset(&motors[i], 0, sizeof motors[i]);
    motors[i].mode = (uint8_t)((i & 0x0F) | (status & 0x07) << 4 | (timeout & 1) << 7);
    motors[i].q = joints[i].q;
    motors[i].dq = joints[i].dq;
    motors[i].tau = joints[i].tau;
    motors[i].kp = joints[i].kp;
    motors[i].kd = joints[i].kd;
  }
  memset(cmd, 0, sizeof *cmd);
  cmd->motor_cmd._buffer = motors;
  cmd->motor_cmd._length = TP_DEX3_MOTORS;
  cmd->motor_cmd._maximum = TP_DEX3_MOTORS;
  cmd->motor_cmd._release = false;
  return true;
}

void tp_unitree_low_state_read(const tp_unitree_low_state *state, size_t n_joints, float *q, float *dq)
{
  if (n_joints > TP_G1_ARM_SDK_JOINTS) n_joints = TP_G1_ARM_SDK_JOINTS;
  for (size_t i = 0; i < n_joints; i++) {
    const tp_unitree_motor_state *m = &state->motor_state[tp_g1_arm_sdk_motor[i]];
    q[i] = m->q;
    if (dq) dq[i] = m->dq;
  }
}

bool tp_unitree_hand_state_read(const tp_unitree_hand_state *state, float q[TP_DEX3_MOTORS],
                                float dq[TP_DEX3_MOTORS])
{
  if (state->motor_state._length < TP_DEX3_MOTORS || !state->motor_state._buffer) return false;
  for (int i = 0; i < TP_DEX3_MOTORS; i++) {
    q[i] = state->motor_state._buffer[i].q;
    if (dq) dq[i] = state->motor_state._buffer[i].dq;
  }
  return true;
}
