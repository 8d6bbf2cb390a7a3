#!/usr/bin/python3
"""Known answers for the unitree_hg wire format and the SDK's LowCmd CRC.

Written from the published IDL (docs/devices/unitree.md) and the CDR rules,
independently of teleop's C code and of CycloneDDS: every layout below is a
hand-written struct format with its padding spelled out. The test messages'
field values are functions of the motor/element index; test_unitree.c fills
the same values (keep the two in step).

  known_answers.py            print known_answers.h to stdout
  known_answers.py --check H  exit 1 when H differs from what this prints
"""
import struct
import sys

MOTORS = 35
DEX3 = 7
SENSORS = 9

# XCDR1 little-endian encapsulation: representation id CDR_LE (0x0001, sent
# big-endian), then two option bytes.
CDR_LE = b"\x00\x01\x00\x00"


def motor_cmd(i):
    return (i + 1, i + 0.25, -(i + 0.5), i * 0.125, 100.0 + i, 1.0 + i * 0.0625, 0xA0000000 + i)


def motor_state(i):
    return ((0x80 + i) & 0xFF, i + 0.5, i - 17.25, i * 0.25, -(i * 0.75), 30 + i, -(i + 1),
            24.0 + i * 0.5, 0x5000 + i, 0x6000 + i, 0x7000 + i,
            0x8000 + 4 * i, 0x8001 + 4 * i, 0x8002 + 4 * i, 0x8003 + 4 * i)


IMU = (1.0, 0.5, 0.25, 0.125, -1.5, 2.5, -3.5, 0.0625, -9.75, 4.0, 0.375, -0.625, 1.125, -42)


def press(s):
    return tuple(s * 12 + k + 0.5 for k in range(12)) + \
        tuple(20.0 + s + k * 0.25 for k in range(12)) + (s, 0x3300 + s)


# ---- CDR (XCDR1): each primitive aligned to its size from the payload start;
# a struct or array adds no alignment of its own, so a struct that begins with
# an octet starts right after the previous member.
# MotorCmd_ starting 4-aligned: mode u8, 3 pad, 5 floats, u32        = 28 bytes
MOTOR_CMD = "B3x5fI"
# MotorState_ starting 4-aligned: mode, 3 pad, 4 floats, 2 int16, float, 7 u32 = 56
MOTOR_STATE = "B3x4f2hf7I"
# IMUState_: 13 floats, int16 (no tail padding in CDR)                 = 54
IMU_CDR = "13fh"


def low_cmd_cdr():
    # mode_pr@0 mode_machine@1 motor_cmd[0].mode@2, 1 pad, q@4 .. ends 28;
    # [1..34] 28 each -> 980; reserve@980 crc@996 -> 1000
    fmt = "<BB" + "B1x5fI" + MOTOR_CMD * (MOTORS - 1) + "4I" + "I"
    vals = [1, 5]
    for i in range(MOTORS):
        vals += motor_cmd(i)
    vals += [0x11110000 + k for k in range(4)] + [0xDEADBEEF]
    return CDR_LE + struct.pack(fmt, *vals)


def low_state_cdr():
    # version@0 mode_pr@8 mode_machine@9 pad2 tick@12 imu@16..70
    # motor_state[0].mode@70, 1 pad, q@72 .. ends 124; [1..34] 56 each -> 2028
    # wireless_remote@2028 (40) reserve@2068 crc@2084 -> 2088
    fmt = "<2IBB2xI" + IMU_CDR + "B1x4f2hf7I" + MOTOR_STATE * (MOTORS - 1) + "40B4II"
    vals = [0x01020304, 0x05060708, 0, 6, 123456789] + list(IMU)
    for i in range(MOTORS):
        vals += motor_state(i)
    vals += [(k * 3 + 1) & 0xFF for k in range(40)] + [0x9000 + k for k in range(4)] + [0xCAFEF00D]
    return CDR_LE + struct.pack(fmt, *vals)


def hand_cmd_cdr():
    # sequence length u32@0, 7 MotorCmd_ @4 (28 each), reserve[4]@200 -> 216
    fmt = "<I" + MOTOR_CMD * DEX3 + "4I"
    vals = [DEX3]
    for i in range(DEX3):
        vals += motor_cmd(i)
    vals += [0x2200 + k for k in range(4)]
    return CDR_LE + struct.pack(fmt, *vals)


def hand_state_cdr():
    # motor_state: len@0, 7*56 @4 -> 396; press_sensor_state: len@396, 9*104 @400 -> 1336
    # imu@1336..1390, pad2, power_v@1392 power_a system_v device_v, error[2]@1408,
    # reserve[2]@1416 -> 1424
    fmt = "<I" + MOTOR_STATE * DEX3 + "I" + "24f2I" * SENSORS + IMU_CDR + "2x4f2I2I"
    vals = [DEX3]
    for i in range(DEX3):
        vals += motor_state(i)
    vals += [SENSORS]
    for s in range(SENSORS):
        vals += press(s)
    vals += list(IMU) + [24.5, 1.25, 12.0, 5.0, 1, 2, 3, 4]
    return CDR_LE + struct.pack(fmt, *vals)


# ---- The SDK's CRC input: its C++ struct memory (reference: unitree_sdk2_python
# crc.py packing), not CDR: LowState's IMU is padded to 56 bytes there.
def low_cmd_image(crc):
    fmt = "<2B2x" + "B3x5fI" * MOTORS + "5I"
    vals = [1, 5]
    for i in range(MOTORS):
        vals += motor_cmd(i)
    vals += [0x11110000 + k for k in range(4)] + [crc]
    return struct.pack(fmt, *vals)


def low_state_image(crc):
    fmt = "<2I2B2xI" + "13fh2x" + "B3x4f2hf7I" * MOTORS + "40B5I"
    vals = [0x01020304, 0x05060708, 0, 6, 123456789] + list(IMU)
    for i in range(MOTORS):
        vals += motor_state(i)
    vals += [(k * 3 + 1) & 0xFF for k in range(40)] + [0x9000 + k for k in range(4)] + [crc]
    return struct.pack(fmt, *vals)


def crc32_mpeg2(data):
    """CRC-32/MPEG-2, byte-wise, MSB first: poly 0x04C11DB7, init ~0, no reflection, no xorout."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else (crc << 1)
            crc &= 0xFFFFFFFF
    return crc


def sdk_crc(image):
    """The SDK feeds each little-endian 32-bit word MSB first, all but the last (the crc)."""
    words = struct.unpack("<%dI" % (len(image) // 4), image)[:-1]
    return crc32_mpeg2(b"".join(struct.pack(">I", w) for w in words))


def c_array(name, data):
    lines = ["static const uint8_t %s[%d] = {" % (name, len(data))]
    for k in range(0, len(data), 16):
        lines.append("  " + ", ".join("0x%02x" % b for b in data[k:k + 16]) + ",")
    lines.append("};")
    return "\n".join(lines)


def header():
    assert crc32_mpeg2(b"123456789") == 0x0376E6E7  # the catalogued check value
    cmd_img, state_img = low_cmd_image(0xDEADBEEF), low_state_image(0xCAFEF00D)
    assert len(cmd_img) == 1004 and len(state_img) == 2092
    zero_cmd = bytes(1004)
    out = ["/* Generated by tests/unitree/known_answers.py; do not edit. */",
           "#include <stdint.h>",
           "#define KA_CRC_CHECK_123456789 0x%08xu" % crc32_mpeg2(b"123456789"),
           "#define KA_LOW_CMD_CRC 0x%08xu" % sdk_crc(cmd_img),
           "#define KA_LOW_STATE_CRC 0x%08xu" % sdk_crc(state_img),
           "#define KA_ZERO_LOW_CMD_CRC 0x%08xu" % sdk_crc(zero_cmd),
           c_array("ka_low_cmd_cdr", low_cmd_cdr()),
           c_array("ka_low_state_cdr", low_state_cdr()),
           c_array("ka_hand_cmd_cdr", hand_cmd_cdr()),
           c_array("ka_hand_state_cdr", hand_state_cdr()),
           c_array("ka_low_cmd_image", cmd_img),
           c_array("ka_low_state_image", state_img)]
    assert len(low_cmd_cdr()) == 4 + 1000 and len(low_state_cdr()) == 4 + 2088
    assert len(hand_cmd_cdr()) == 4 + 216 and len(hand_state_cdr()) == 4 + 1424
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    text = header()
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        with open(sys.argv[2]) as f:
            if f.read() != text:
                print("known_answers: %s differs from known_answers.py's output" % sys.argv[2])
                sys.exit(1)
    else:
        sys.stdout.write(text)
