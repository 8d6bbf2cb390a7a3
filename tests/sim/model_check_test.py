#!/usr/bin/python3
"""A robot model with a non-finite number is refused (issue 10 item 9).

MuJoCo parses "nan" and "inf" in MJCF numbers (it only warns, into a
MUJOCO_LOG.TXT in the working directory) and the station used to run the
unstable model: 143 Hz loop, exit 0, an episode failing `check`. Each
mutation of the bundled model below puts one non-finite value in a
different kind of field; `teleop run` must exit 1 with exactly one line on
stderr naming the file and the element, write no MUJOCO_LOG.TXT into its
working directory (a fresh temporary one) and record nothing. The bundled
model itself still runs.

usage: model_check_test.py TELEOP MODEL
"""
import os
import re
import subprocess
import sys
import tempfile

TELEOP, MODEL = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
source = open(MODEL).read()
failures = []

# (what, pattern, replacement, the element the message must name)
MUTATIONS = [
    ("geom friction", r'<geom name="table_top" ', '<geom name="table_top" friction="nan 0.005 0.0001" ',
     "geom 'table_top' friction is nan"),
    ("joint range", r'(<joint name="left_elbow_joint" axis="0 1 0" range=")-1.0472', r'\1-inf',
     "joint 'left_elbow_joint' range is -inf"),
    ("dof damping", r'(<joint name="left_elbow_joint"[^>]*damping=")10"', r'\1nan"',
     "joint 'left_elbow_joint' damping is nan"),
    ("actuator gain", r'(<position name="left_elbow_joint" joint="left_elbow_joint" kp=")400"', r'\1inf"',
     "actuator 'left_elbow_joint' gainprm is inf"),
    ("material colour (float array)", r'(<material name="wood" rgba=")0.62', r'\1nan',
     "material 'wood' rgba is nan"),
    ("option", r'impratio="5"', 'impratio="nan"', "option impratio is nan"),
    ("body position", r'<body name="table" pos="0.39 0 0">', '<body name="table" pos="0.39 nan 0">',
     "body 'table' pos is nan"),
]


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


for what, pattern, repl, expect in MUTATIONS:
    text, n = re.subn(pattern, repl, source, count=1)
    if n != 1:
        fail(f"{what}: the bundled model no longer has '{pattern}'")
        continue
    with tempfile.TemporaryDirectory() as cwd:
        model = os.path.join(cwd, "bad.xml")
        with open(model, "w") as f:
            f.write(text)
        with open(os.path.join(cwd, "station.ini"), "w") as f:
            f.write(f"[robot]\nmodel = {model}\n")
        r = subprocess.run([TELEOP, "run", "--config", "station.ini", "--duration", "0.5", "--out", "rec"],
                           cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        lines = r.stderr.strip().splitlines()
        if r.returncode != 1:
            fail(f"{what}: exit {r.returncode} (expected 1): {r.stderr[-300:]}")
        elif len(lines) != 1 or model not in lines[0] or expect not in lines[0]:
            fail(f"{what}: expected one line naming {model} and \"{expect}\", got: {lines}")
        if os.path.exists(os.path.join(cwd, "MUJOCO_LOG.TXT")):
            fail(f"{what}: MuJoCo wrote MUJOCO_LOG.TXT into the working directory")
        if os.path.exists(os.path.join(cwd, "rec")) and os.listdir(os.path.join(cwd, "rec")):
            fail(f"{what}: an episode was recorded with the bad model")
        print(f"{what}: {lines[0] if lines else '(nothing)'}", flush=True)

with tempfile.TemporaryDirectory() as cwd:
    r = subprocess.run([TELEOP, "run", "--duration", "0.3", "--out", "rec"], cwd=cwd, capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        fail(f"the bundled model: exit {r.returncode}: {r.stderr[-300:]}")
    if os.path.exists(os.path.join(cwd, "MUJOCO_LOG.TXT")):
        fail("the bundled model: MUJOCO_LOG.TXT written")
sys.exit(1 if failures else 0)
