#!/usr/bin/python3
"""Episode fidelity on the bundled motion (issue 9, "Done when"): runs the
real station headless with the default configuration (`teleop run`), then
reads the episode's SQLite file directly and asserts

  * action-velocity power above the operator's Nyquist band (45 Hz) is under
    2 % of the total, for every one of the 14 arm joints;
  * zero `safety_velocity_clamp` events;
  * every head camera frame interval within 1/fps +- one control period
    (33.333 ms +- 2 ms at 30 fps and 500 Hz).

It also checks what those figures rest on: the episode records its action
upsampling method and latency, control rows are on the control period's
grid, the `sim_objects` stream is present with its layout, and no event is
stamped before the operator command that caused it.

Usage: fidelity_test.py TELEOP [--duration S] [--keep DIR] [--config FILE]
       fidelity_test.py --analyse EPISODE   (prints the figures only)
"""
import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import numpy as np

NYQUIST_HZ = 45.0
MAX_HF_FRACTION = 0.02
ARM_JOINTS = 14


def ro(path):
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def stream(db, name):
    row = db.execute("SELECT id, dims, rate_hz, names FROM streams WHERE name=?", (name,)).fetchone()
    if row is None:
        raise AssertionError(f"no stream '{name}'")
    sid, dims, rate, names = row
    rows = db.execute("SELECT t_ns, data FROM samples WHERE stream_id=? ORDER BY seq", (sid,)).fetchall()
    t = np.array([r[0] for r in rows], dtype=np.int64)
    data = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), dims).astype(np.float64)
    return t, data, rate, names


def hf_fraction(x, rate_hz, cutoff_hz):
    """Fraction of the velocity's power above cutoff_hz: velocity by first
    differences at the control rate, mean removed, Hann window,
    periodogram."""
    v = np.diff(x) * rate_hz
    v = v - v.mean()
    spec = np.abs(np.fft.rfft(v * np.hanning(len(v)))) ** 2
    f = np.fft.rfftfreq(len(v), 1.0 / rate_hz)
    total = spec[1:].sum()
    return float(spec[f > cutoff_hz].sum() / total) if total > 0 else 0.0


def analyse(path):
    db = ro(path)
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    control_hz = float(meta["control_rate_hz"])
    t, action, _, names = stream(db, "action")
    # The engaged stretch: the robot follows the operator only while engaged;
    # the analysis covers the whole episode all the same.
    fractions = [hf_fraction(action[:, j], control_hz, NYQUIST_HZ) for j in range(ARM_JOINTS)]
    clamps = db.execute("SELECT count(*) FROM events WHERE kind='safety_velocity_clamp'").fetchone()[0]
    cams = db.execute("SELECT id, name, rate_hz FROM streams WHERE kind='camera'").fetchall()
    intervals = {}
    for cid, cname, fps in cams:
        ft = np.array([r[0] for r in db.execute(
            "SELECT t_ns FROM video_packets WHERE stream_id=? ORDER BY seq", (cid,))], dtype=np.int64)
        intervals[cname] = (fps, np.diff(ft) / 1e6)
    dt = np.diff(t)
    events = db.execute("SELECT id, t_ns, kind, detail FROM events ORDER BY t_ns, id").fetchall()
    return {
        "meta": meta, "control_hz": control_hz, "fractions": fractions, "clamps": clamps,
        "intervals": intervals, "action_dt": dt, "events": events, "db": db,
    }


def load_counts(a):
    """What a failure on a busy machine looks like: operator frames the
    device lost (the OpenXR runtime skipped display periods), camera frame
    times skipped because renders ran late, control deadline misses. Printed
    with any failure, so an overloaded machine is told apart from a broken
    pipeline."""
    db = a["db"]
    t = np.array([r[0] for r in db.execute(
        "SELECT t_ns FROM samples WHERE stream_id=(SELECT id FROM streams WHERE name='operator') ORDER BY seq")])
    op_hz = float(db.execute("SELECT rate_hz FROM streams WHERE name='operator'").fetchone()[0] or 90)
    gaps = int((np.diff(t) > 1.5e9 / op_hz).sum()) if len(t) > 1 else 0
    kinds = dict(db.execute("SELECT kind, count(*) FROM events GROUP BY kind").fetchall())
    return {"operator frame gaps": gaps, "frames_missed events": kinds.get("frames_missed", 0),
            "deadline misses": kinds.get("deadline_miss", 0), "input_stale": kinds.get("input_stale", 0)}


def load_signs(a):
    return ", ".join(f"{k}: {v}" for k, v in load_counts(a).items())


def report(a):
    fr = a["fractions"]
    print(f"action velocity power above {NYQUIST_HZ:g} Hz per arm joint: "
          + " ".join(f"{100 * x:.3f}%" for x in fr) + f" (max {100 * max(fr):.3f}%)")
    print(f"safety_velocity_clamp events: {a['clamps']}")
    for name, (fps, iv) in a["intervals"].items():
        if len(iv):
            print(f"camera {name}: {len(iv) + 1} frames, intervals {iv.min():.3f}..{iv.max():.3f} ms "
                  f"(nominal {1000 / fps:.3f})")
    m = a["meta"]
    print(f"action_upsampling={m.get('action_upsampling')} latency_ns={m.get('action_upsampling_latency_ns')}")


def check(a):
    failures = []
    period_ms = 1000.0 / a["control_hz"]
    for j, x in enumerate(a["fractions"]):
        if not x < MAX_HF_FRACTION:
            failures.append(f"arm joint {j}: {100 * x:.2f}% of action-velocity power above {NYQUIST_HZ:g} Hz")
    if a["clamps"] != 0:
        failures.append(f"{a['clamps']} safety_velocity_clamp events on the bundled motion")
    if "head_camera" not in a["intervals"]:
        failures.append("no head_camera stream")
    for name, (fps, iv) in a["intervals"].items():
        nominal = 1000.0 / fps
        bad = np.flatnonzero(np.abs(iv - nominal) > period_ms + 1e-6)
        if len(iv) < 10:
            failures.append(f"camera {name}: only {len(iv) + 1} frames")
        if len(bad):
            failures.append(f"camera {name}: {len(bad)} frame intervals off the {nominal:.3f} ms grid by more "
                            f"than {period_ms:g} ms, first {iv[bad[0]]:.3f} ms at frame {bad[0] + 1}")
    m = a["meta"]
    if m.get("action_upsampling") not in ("interpolate", "predict"):
        failures.append(f"meta action_upsampling is {m.get('action_upsampling')!r}")
    if "action_upsampling_latency_ns" not in m:
        failures.append("meta action_upsampling_latency_ns missing")
    # Issue 9: the default session's episodes say what was done and by whom.
    for key in ("task", "operator"):
        if not m.get(key):
            failures.append(f"meta {key} is empty in the default session")
    # Control rows are stamped on the control tick grid (simulation time).
    dt = a["action_dt"]
    period_ns = round(1e9 / a["control_hz"])
    if len(dt) and not np.all(dt % period_ns == 0):
        failures.append(f"control rows are not on the {period_ns} ns grid")
    # Objects: the sim_objects stream, 7 values per free body.
    db = a["db"]
    row = db.execute("SELECT kind, dims, names, rate_hz FROM streams WHERE name='sim_objects'").fetchone()
    if row is None:
        failures.append("no sim_objects stream")
    else:
        kind, dims, names, rate = row
        if kind != "other" or dims % 7 or dims == 0 or '"cube.px"' not in names or '"cube.qw"' not in names:
            failures.append(f"sim_objects stream layout: kind {kind}, dims {dims}, names {names[:80]}")
        count = db.execute("SELECT count(*) FROM samples s JOIN streams t ON s.stream_id=t.id "
                           "WHERE t.name='sim_objects'").fetchone()[0]
        if count < 10:
            failures.append(f"sim_objects: only {count} rows")
    # Cause before effect: an engaged event never precedes its clutch_engage.
    events = a["events"]
    for i, (eid, t_ns, kind, detail) in enumerate(events):
        if kind != "engaged":
            continue
        cmds = [e for e in events if e[2] == "operator_command" and e[3] == "clutch_engage"]
        earlier = [e for e in cmds if e[1] <= t_ns]
        if cmds and not earlier:
            failures.append(f"engaged at {t_ns} precedes every clutch_engage command")
        for e in cmds:
            if e[1] == t_ns and e[0] > eid:
                failures.append(f"engaged and its clutch_engage at the same instant, effect written first")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("teleop", nargs="?")
    ap.add_argument("--duration", type=float, default=12.0)
    ap.add_argument("--keep")
    ap.add_argument("--config")
    ap.add_argument("--analyse")
    args = ap.parse_args()
    if args.analyse:
        a = analyse(args.analyse)
        report(a)
        fails = check(a)
        for f in fails:
            print("FAIL:", f)
        if fails:
            print("load:", load_signs(a))
        return 1 if fails else 0
    # The numbers are the issue's, asserted as they are. A run on an
    # overloaded machine (the renderer starved: frame times skipped and
    # recorded as frames_missed, operator frames lost, deadline misses) says
    # nothing about the pipeline; such a run is repeated, up to three runs in
    # all, each judged whole. A failure without those signs fails at once.
    for attempt in range(1, 4):
        rc, overloaded = run_once(args)
        if rc == 0 or not overloaded:
            return rc
        print(f"attempt {attempt}: the machine was overloaded during the run; running again")
    return 1


def run_once(args):
    out = args.keep or tempfile.mkdtemp(prefix="teleop-fidelity-")
    try:
        cmd = [args.teleop, "run", "--duration", str(args.duration), "--out", out]
        if args.config:
            cmd += ["--config", args.config]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 120)
        if r.returncode != 0:
            print(r.stdout, r.stderr, file=sys.stderr)
            print(f"FAIL: teleop run exited {r.returncode}")
            return 1, False
        eps = [l.split(" ", 1)[1] for l in r.stdout.splitlines() if l.startswith("episode: ")]
        if len(eps) != 1:
            print(r.stdout, r.stderr)
            print("FAIL: expected one episode")
            return 1, False
        a = analyse(eps[0])
        report(a)
        fails = check(a)
        for f in fails:
            print("FAIL:", f)
        overloaded = False
        if fails:
            signs = load_counts(a)
            print("load:", ", ".join(f"{k}: {v}" for k, v in signs.items()))
            overloaded = any(v > 0 for v in signs.values())
        return (1 if fails else 0), overloaded
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)

if __name__ == "__main__":
    sys.exit(main())
