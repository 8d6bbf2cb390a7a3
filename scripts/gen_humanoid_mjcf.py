#!/usr/bin/env python3
"""Writes devices/robot/models/humanoid.xml, the simulated humanoid upper body.

Kinematics (joint origins, axes, limits, velocity limits) come from the
repository's own devices/robot/models/g1_upper_body.urdf; this script adds what
a URDF for IK lacks: primitive collision/visual geoms, masses, actuators with
gains, the head camera, a camera on each wrist and a table with objects. Run it after changing the
URDF or the scene: python3 scripts/gen_humanoid_mjcf.py
"""
import math
import os
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
URDF = os.path.join(ROOT, "devices/robot/models/g1_upper_body.urdf")
OUT = os.path.join(ROOT, "devices/robot/models/humanoid.xml")


def quat_from_rpy(r, p, y):
    """URDF rpy (R = Rz(y) Ry(p) Rx(r)) as a MuJoCo quaternion w x y z."""
    cr, sr = math.cos(r / 2), math.sin(r / 2)
    cp, sp = math.cos(p / 2), math.sin(p / 2)
    cy, sy = math.cos(y / 2), math.sin(y / 2)
    return (cy * cp * cr + sy * sp * sr, cy * cp * sr - sy * sp * cr,
            cy * sp * cr + sy * cp * sr, sy * cp * cr - cy * sp * sr)


def fmt(v):
    return " ".join(f"{x:.9g}" for x in v)


urdf = ET.parse(URDF).getroot()
joints = {}
children = {}
for j in urdf.findall("joint"):
    o = j.find("origin")
    xyz = [float(x) for x in o.get("xyz").split()]
    rpy = [float(x) for x in o.get("rpy").split()]
    ax = j.find("axis")
    lim = j.find("limit")
    rec = dict(name=j.get("name"), type=j.get("type"), parent=j.find("parent").get("link"),
               child=j.find("child").get("link"), xyz=xyz, rpy=rpy,
               axis=[float(x) for x in ax.get("xyz").split()] if ax is not None else None,
               lower=float(lim.get("lower")) if lim is not None else None,
               upper=float(lim.get("upper")) if lim is not None else None,
               velocity=float(lim.get("velocity")) if lim is not None else None)
    joints[rec["child"]] = rec
    children.setdefault(rec["parent"], []).append(rec)

ARM = ["shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow", "wrist_roll", "wrist_pitch", "wrist_yaw"]
HAND = ["zero", "one", "two", "three", "four", "five", "six"]
action_order = [f"{s}_{n}_joint" for s in ("left", "right") for n in ARM] + \
               [f"{s}_hand_{n}_joint" for s in ("left", "right") for n in HAND]

# Per link: mass (kg), capsule radius (m), actuator kp, joint damping, armature.
def link_params(link):
    if "hand" in link and "palm" not in link:
        return dict(mass=0.03, radius=0.009, kp=6.0, damping=0.12, armature=0.002)
    if "palm" in link:
        return dict(mass=0.35, radius=0.0, kp=0, damping=0, armature=0)
    table = {
        "shoulder_pitch": (0.7, 0.040, 500, 16, 0.10),
        "shoulder_roll": (0.6, 0.038, 500, 16, 0.10),
        "shoulder_yaw": (0.6, 0.036, 400, 12, 0.08),
        "elbow": (0.5, 0.033, 400, 10, 0.06),
        "wrist_roll": (0.3, 0.030, 120, 2.5, 0.02),
        "wrist_pitch": (0.2, 0.028, 80, 1.6, 0.015),
        "wrist_yaw": (0.2, 0.028, 80, 1.6, 0.015),
    }
    for k, (m, r, kp, d, a) in table.items():
        if k in link:
            return dict(mass=m, radius=r, kp=kp, damping=d, armature=a)
    raise KeyError(link)


FINGER_LEN = 0.045  # last finger links: about 0.045-0.05 m


WRIST_CAMERA_POS = (-0.06, 0.0, 0.08)       # palm frame, left hand: behind the knuckles, above the hand
WRIST_CAMERA_TARGET = (0.16, 0.0, 0.0)      # the grasp region in front of the palm (fingers along +x)


def wrist_camera_xml(side_name, side, pad):
    """A camera fixed to the palm link, on the back of the wrist, looking
    along the fingers at the grasp region (mirrored for the right hand).
    MuJoCo cameras look along their -z axis with +y up in the image."""
    pos = (WRIST_CAMERA_POS[0], -side * WRIST_CAMERA_POS[1], WRIST_CAMERA_POS[2])
    target = (WRIST_CAMERA_TARGET[0], -side * WRIST_CAMERA_TARGET[1], WRIST_CAMERA_TARGET[2])
    d = [t - p for t, p in zip(target, pos)]
    n = math.sqrt(sum(x * x for x in d))
    z = [-x / n for x in d]
    up = (0.0, 0.0, 1.0) if abs(d[2]) < 0.9 * n else (0.0, 1.0, 0.0)
    x = [up[1] * z[2] - up[2] * z[1], up[2] * z[0] - up[0] * z[2], up[0] * z[1] - up[1] * z[0]]
    nx = math.sqrt(sum(v * v for v in x))
    x = [v / nx for v in x]
    y = [z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]]
    return (f'{pad}<camera name="{side_name}_wrist_camera" pos="{fmt(pos)}" xyaxes="{fmt(x + y)}" fovy="90"/>')


def body_xml(link, indent):
    j = joints[link]
    pad = " " * indent
    q = quat_from_rpy(*j["rpy"])
    lines = [f'{pad}<body name="{link}" pos="{fmt(j["xyz"])}" quat="{fmt(q)}">']
    p = link_params(link)
    kids = children.get(link, [])
    if j["type"] == "revolute":
        lines.append(f'{pad}  <joint name="{j["name"]}" axis="{fmt(j["axis"])}" range="{j["lower"]:.9g} {j["upper"]:.9g}"'
                     f' damping="{p["damping"]}" armature="{p["armature"]}"/>')
    if "palm" in link:
        side = -1 if link.startswith("left") else 1
        lines.append(f'{pad}  <geom name="{link}_geom" type="box" pos="0.05 {0.0 * side} 0" size="0.05 0.016 0.042"'
                     f' mass="{p["mass"]}" class="robot"/>')
        lines.append(f'{pad}  <site name="{link.split("_")[0]}_ee" pos="0 0 0" size="0.01" rgba="1 0.3 0.3 0.6"/>')
        lines.append(wrist_camera_xml(link.split("_")[0], side, pad + "  "))
    else:
        # A capsule toward each child origin (or along the finger for tips).
        ends = [k["xyz"] for k in kids if "palm" not in k["child"] or True]
        if not ends:
            if "hand" in link:
                # Tip link: the finger continues along its parent's direction.
                d = j["xyz"]
                n = math.sqrt(sum(x * x for x in d)) or 1.0
                ends = [[FINGER_LEN * x / n for x in d]]
        for e in ends[:1]:
            if math.sqrt(sum(x * x for x in e)) > 1e-3:
                lines.append(f'{pad}  <geom type="capsule" fromto="0 0 0 {fmt(e)}" size="{p["radius"]}"'
                             f' mass="{p["mass"]}" class="robot"/>')
            else:
                lines.append(f'{pad}  <geom type="sphere" size="{p["radius"]}" mass="{p["mass"]}" class="robot"/>')
    for k in kids:
        lines += body_xml(k["child"], indent + 2)
    lines.append(f"{pad}</body>")
    return lines


vel_custom = []
for name in action_order:
    rec = next(r for r in joints.values() if r["name"] == name)
    vel_custom.append(f'    <numeric name="{name}.max_velocity" data="{rec["velocity"]:.9g}"/>')

act = []
for name in action_order:
    rec = next(r for r in joints.values() if r["name"] == name)
    p = link_params(rec["child"])
    act.append(f'    <position name="{name}" joint="{name}" kp="{p["kp"]}" ctrllimited="true"'
               f' ctrlrange="{rec["lower"]:.9g} {rec["upper"]:.9g}"/>')

arms = []
for k in children["torso_link"]:
    arms += body_xml(k["child"], 6)

TABLE_TOP = 0.95
xml = f"""<!-- teleop simulated humanoid upper body: Unitree G1 arm kinematics and Dex3-1-class hands
     (from devices/robot/models/g1_upper_body.urdf), primitive geoms, position actuators in the
     station's action order, a head camera, a camera on each wrist and a table with objects.
     Generated by scripts/gen_humanoid_mjcf.py; edit the script, not this file. -->
<mujoco model="teleop_humanoid">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="0.002" integrator="Euler" cone="elliptic" impratio="5"/>
  <visual>
    <global offwidth="640" offheight="480"/>
    <quality shadowsize="1024"/>
    <headlight ambient="0.35 0.35 0.35" diffuse="0.5 0.5 0.5" specular="0.1 0.1 0.1"/>
  </visual>
  <custom>
{chr(10).join(vel_custom)}
  </custom>
  <asset>
    <texture name="grid" type="2d" builtin="checker" width="256" height="256" rgb1="0.32 0.34 0.37" rgb2="0.26 0.28 0.30"/>
    <material name="floor" texture="grid" texrepeat="6 6"/>
    <material name="robot" rgba="0.72 0.74 0.78 1"/>
    <material name="dark" rgba="0.18 0.19 0.21 1"/>
    <material name="wood" rgba="0.62 0.46 0.30 1"/>
  </asset>
  <default>
    <default class="robot">
      <geom material="robot" contype="2" conaffinity="1" condim="4" friction="1.2 0.02 0.002"/>
    </default>
    <geom contype="1" conaffinity="3" condim="4" friction="1.0 0.01 0.001"/>
  </default>
  <worldbody>
    <light name="key" pos="0.6 -0.6 2.4" dir="-0.3 0.3 -1" diffuse="0.6 0.6 0.6" castshadow="true"/>
    <light name="fill" pos="-0.5 0.5 2.2" dir="0.3 -0.2 -1" diffuse="0.3 0.3 0.3" castshadow="false"/>
    <geom name="floor" type="plane" size="3 3 0.05" material="floor"/>
    <body name="torso_link" pos="0 0 1.0">
      <geom name="torso" type="box" pos="0 0 0.12" size="0.07 0.10 0.14" material="dark" class="robot"/>
      <geom name="pelvis" type="box" pos="0 0 -0.12" size="0.06 0.09 0.08" material="dark" class="robot"/>
      <geom name="neck" type="capsule" fromto="0 0 0.26 0 0 0.34" size="0.03" class="robot"/>
      <geom name="head" type="sphere" pos="0.01 0 0.42" size="0.075" material="dark" class="robot"/>
      <camera name="head_camera" pos="0.06 0 0.43" xyaxes="0 -1 0 0.70710678 0 0.70710678" fovy="70"/>
{chr(10).join(arms)}
    </body>
    <body name="table" pos="0.39 0 0">
      <geom name="table_top" type="box" pos="0 0 {TABLE_TOP - 0.02}" size="0.21 0.40 0.02" material="wood"/>
      <geom name="table_leg" type="box" pos="0 0 {(TABLE_TOP - 0.04) / 2}" size="0.05 0.05 {(TABLE_TOP - 0.04) / 2}" material="wood"/>
    </body>
    <body name="cube" pos="0.30 -0.15 {TABLE_TOP + 0.02}">
      <freejoint name="cube_free"/>
      <geom type="box" size="0.02 0.02 0.02" mass="0.05" rgba="0.85 0.15 0.15 1"/>
    </body>
    <body name="can" pos="0.32 0.12 {TABLE_TOP + 0.04}">
      <freejoint name="can_free"/>
      <geom type="cylinder" size="0.025 0.04" mass="0.08" rgba="0.15 0.45 0.85 1"/>
    </body>
    <body name="block" pos="0.42 0.0 {TABLE_TOP + 0.015}">
      <freejoint name="block_free"/>
      <geom type="box" size="0.03 0.02 0.015" mass="0.06" rgba="0.20 0.70 0.25 1"/>
    </body>
  </worldbody>
  <contact>
    <exclude body1="torso_link" body2="left_shoulder_pitch_link"/>
    <exclude body1="torso_link" body2="right_shoulder_pitch_link"/>
  </contact>
  <actuator>
{chr(10).join(act)}
  </actuator>
</mujoco>
"""
open(OUT, "w").write(xml)
print(f"wrote {OUT}")
