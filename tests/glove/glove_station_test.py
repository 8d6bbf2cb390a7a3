"""A glove drives the simulated robot's right hand through `teleop run`.

A pseudo-terminal plays a LucidGloves-class glove at 200 lines a second:
the hand open, a fist, a pinch (thumb and index curled, the rest open),
then silence, then open again. The episode must hold the raw lines as the
glove_right stream, the right hand's actions must sit at the Dex3-1 targets
the flexion mapping gives for each pose, the silence must be a glove_lost
with the right side held bit for bit, the glove's return a glove_found, and
`teleop check` must pass.

usage: glove_station_test.py TELEOP
"""
import json
import os
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tty

TELEOP = sys.argv[1]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


# (name, seconds, curls A..E or None for silence)
PHASES = [
    ("open", 1.4, (0, 0, 0, 0, 0)),
    ("fist", 1.2, (1023, 1023, 1023, 1023, 1023)),
    ("pinch", 1.2, (1023, 1023, 0, 0, 0)),
    ("silent", 0.8, None),
    ("open_again", 1.2, (0, 0, 0, 0, 0)),
]
DURATION = sum(p[1] for p in PHASES) - 0.2

master, slave = os.openpty()
tty.setraw(slave)
port = os.ttyname(slave)

work = tempfile.mkdtemp(prefix="teleop-glove-station-")
config = os.path.join(work, "glove.ini")
with open(config, "w") as f:
    f.write('[session]\ntask = "glove test"\n[camera]\ncrf = 30\n')
    f.write('[glove.right]\nport = "%s"\ntimeout_ms = 100\n' % port)

sent = []  # (monotonic s when written, curls)
stop = threading.Event()


def episode_started():
    return any(n.endswith(".db") for n in os.listdir(work))


def glove():
    for k, (name, seconds, curls) in enumerate(PHASES):
        end = time.monotonic() + seconds
        if k == 0:
            # the phases run on the session's time: the first pose is held
            # until the episode file exists (setup takes longer under ASan)
            deadline = time.monotonic() + 30
            while not episode_started() and time.monotonic() < deadline and not stop.is_set():
                os.write(master, (("A%dB%dC%dD%dE%dF512G512P0\n" % curls)).encode())
                sent.append(curls)
                time.sleep(0.005)
            end = time.monotonic() + seconds
        last = k == len(PHASES) - 1  # the glove speaks on until the session is over
        while (last or time.monotonic() < end) and not stop.is_set():
            if curls is not None:
                line = "A%dB%dC%dD%dE%dF512G512P0\n" % curls
                os.write(master, line.encode())
                sent.append(curls)
            time.sleep(0.005)


proc = subprocess.Popen([TELEOP, "run", "--config", config, "--duration", "%.2f" % DURATION, "--out", work],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
writer = threading.Thread(target=glove)
writer.start()
out, err = proc.communicate(timeout=60)
stop.set()
writer.join()
if proc.returncode != 0:
    print(err)
    sys.exit("teleop run exit %d" % proc.returncode)
episode = next((l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("episode: ")), None)
if not episode:
    sys.exit("no episode: " + out)

db = sqlite3.connect(episode)
streams = {r[1]: (r[0], r[2], json.loads(r[3]) if r[3] else None)
           for r in db.execute("select id, name, dims, names from streams")}


def rows(name):
    sid, dims, _ = streams[name]
    return [(t, struct.unpack("<%df" % dims, data))
            for t, data in db.execute("select t_ns, data from samples where stream_id = ? order by seq", (sid,))]


# --- the raw values, as sent
if "glove_right" not in streams:
    sys.exit("no glove_right stream: %s" % sorted(streams))
g_rows = rows("glove_right")
g_names = streams["glove_right"][2]
curl_idx = [g_names.index(n + ".curl") for n in ("thumb", "index", "middle", "ring", "little")]
recorded = [tuple(int(v[i]) for i in curl_idx) for _, v in g_rows]
if not recorded:
    fail("glove_right has no rows")
else:
    # every recorded line is one that was sent, in order
    k = 0
    for r in recorded:
        while k < len(sent) and sent[k] != r:
            k += 1
        if k == len(sent):
            fail("glove_right row %s was never sent (or out of order)" % (r,))
            break
    if g_rows[0][1][g_names.index("max_value")] != 1023:
        fail("max_value %s" % g_rows[0][1][g_names.index("max_value")])
    if g_rows[0][1][g_names.index("battery")] != -1 or g_rows[0][1][g_names.index("thumb.splay")] != -1:
        fail("absent values are not -1")
meta = dict(db.execute("select key, value from meta"))
# every line the glove sent during the session was accepted: none of them is noise
lines = meta.get("glove_right_lines", "")
if (not lines.startswith("accepted ") or ", not recorded (queue full) 0," not in lines
        or not lines.endswith("syntax 0, range 0, incomplete 0, too_long 0")):
    fail("meta glove_right_lines %r" % lines)
elif int(lines.split()[1].rstrip(",")) < len(g_rows):
    fail("meta glove_right_lines %r counts fewer lines than the stream holds (%d)" % (lines, len(g_rows)))
if meta.get("glove_calibration_right") != "default":
    fail("meta glove_calibration_right %r" % meta.get("glove_calibration_right"))

# --- the right hand's actions per phase
a_rows = rows("action")
a_names = streams["action"][2]
hand = [i for i, n in enumerate(a_names) if n.startswith("right_hand_")]
if len(hand) != 7:
    sys.exit("right hand joints: %s" % a_names)
limits = {n: (lo, hi) for n, lo, hi in db.execute("select name, lower, upper from joint_limits")}


def dex3_targets(flex_of_finger):
    # the flexion mapping (src/retarget/hand.c): open nearest zero, closed 85 %
    # toward the far limit; the thumb's base rotation turns to -0.30 rad
    finger_of = [0, 0, 0, 1, 1, 2, 2]  # right hand: three/four index, five/six middle
    q = []
    for j, i in enumerate(hand):
        lo, hi = limits[a_names[i]]
        op = min(hi, max(lo, 0.0))
        far = hi if abs(hi) > abs(lo) else lo
        cl = min(hi, max(lo, -0.30)) if j == 0 else op + 0.85 * (far - op)
        q.append(op + flex_of_finger[finger_of[j]] * (cl - op))
    return q


expect = {"open": [0, 0, 0], "fist": [1, 1, 1], "pinch": [1, 1, 0]}
# The steady part of a phase: its action rows from 0.5 s after its first glove
# line to its last (both stamped on CLOCK_MONOTONIC by the station).
# segment glove rows into runs of equal curls
runs = []
for t, v in g_rows:
    c = tuple(int(v[i]) for i in curl_idx)
    if runs and runs[-1][0] == c and t - runs[-1][2] < 50_000_000:
        runs[-1][2] = t
    else:
        runs.append([c, t, t])
names_in_order = [p[0] for p in PHASES if p[2] is not None]
if len(runs) != len(names_in_order):
    fail("glove runs %s, expected the phases %s" % ([r[0] for r in runs], names_in_order))
TOL = 0.03  # rad: the model's straight finger keeps ~1 % flexion, and float32 rows
for run, name in zip(runs, names_in_order):
    if name not in expect:
        continue
    flex = expect[name]
    target = dex3_targets(flex)
    steady = [v for t, v in a_rows if run[1] + 500_000_000 <= t <= run[2]]
    if len(steady) < 100:
        fail("%s: only %d action rows in its steady part" % (name, len(steady)))
        continue
    for j, i in enumerate(hand):
        worst = max(abs(v[i] - target[j]) for v in steady)
        if worst > TOL:
            fail("%s: %s off its target %.3f by %.3f rad" % (name, a_names[i], target[j], worst))

# --- silence: glove_lost, the right side held bit for bit, then glove_found
events = list(db.execute("select t_ns, kind, detail from events where kind like 'glove_%' order by t_ns"))
kinds = [e[1] for e in events]
if kinds != ["glove_lost", "glove_found"]:
    fail("glove events %s" % events)
else:
    lost_t, found_t = events[0][0], events[1][0]
    if runs and len(runs) >= 4:
        gap_start = runs[2][2]  # the pinch's last line
        if not (gap_start + 90_000_000 <= lost_t <= gap_start + 160_000_000):
            fail("glove_lost %.0f ms after the last line (timeout 100 ms)" % ((lost_t - gap_start) / 1e6))
        if abs(found_t - runs[3][1]) > 5_000_000:
            fail("glove_found %.1f ms from the first line back" % ((found_t - runs[3][1]) / 1e6))
    right = [i for i, n in enumerate(a_names) if n.startswith("right_")]
    held = [v for t, v in a_rows if lost_t + 30_000_000 <= t <= found_t]
    if len(held) < 100:
        fail("only %d action rows while the glove was silent" % len(held))
    elif any(tuple(v[i] for i in right) != tuple(held[0][i] for i in right) for v in held):
        fail("the right side moved while the glove was silent")
    if "glove right" not in events[0][2] or port not in events[0][2]:
        fail("glove_lost detail %r" % events[0][2])

db.close()
check = subprocess.run([TELEOP, "check", episode], capture_output=True, text=True)
if check.returncode != 0:
    fail("teleop check: " + check.stdout + check.stderr)
os.close(master)
os.close(slave)
if failures:
    sys.exit("%d failure(s)" % len(failures))
print("glove station: ok (%d glove rows, %d action rows)" % (len(g_rows), len(a_rows)))
