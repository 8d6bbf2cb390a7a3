#!/usr/bin/python3
"""Episode boundaries are kept by timestamp (issue 10 item 2).

Back-to-back episodes of 60 ms and of 20 ms: before the fix, rows of the
next episode went into the closing file while it waited for its camera
epoch, the next episode came out empty and frames were lost, and `check`
said ok on all of them. Here every row of every episode must lie in
[start_t_ns, end_t_ns) (the closing episode_end/session_end events are
stamped exactly end_t_ns, as is the command that closed it; the first
episode keeps the XR device's start-up events, before start_t_ns: both
documented in docs/recording.md), no episode of at least 60 ms may lack state rows,
the state rows over all episodes must add up to the session's control
cycles, every encoded frame must be in some episode, and `teleop check` must
pass on each file.

usage: boundaries_test.py TELEOP
"""
import glob
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

TELEOP = sys.argv[1]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def meta(db, key):
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else None


def run_session(episode_time, folder):
    out = os.path.join(folder, "D")
    p = subprocess.run(
        [TELEOP, "run", "--duration", "1.5", "--out", out, "--episode-time", str(episode_time), "--episodes", "0",
         "-v"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        fail(f"episode-time {episode_time}: teleop run exited {p.returncode}: {p.stderr[-500:]}")
        return
    # Every control tick leaves one state row; after a stall the simulation
    # catches up with extra ticks, so ticks (not loop cycles) count rows.
    m = re.search(r"\d+ control cycles \((\d+) control ticks.*?(\d+) encoded", p.stderr)
    if not m:
        fail(f"episode-time {episode_time}: no session summary in: {p.stderr[-300:]}")
        return
    cycles, encoded = int(m.group(1)), int(m.group(2))
    files = sorted(glob.glob(os.path.join(out, "*.db")))
    if len(files) < int(1.5 / episode_time) - 1:
        fail(f"episode-time {episode_time}: only {len(files)} episodes")
    state_total = video_total = dropped_rows = 0
    for f in files:
        db = sqlite3.connect(f"file:{f}?mode=ro", uri=True)
        start, end = meta(db, "start_t_ns"), meta(db, "end_t_ns")
        name = os.path.basename(f)
        if start is None or end is None or end < start:
            fail(f"{name}: start {start} end {end}")
            continue
        # Every data row inside [start, end).
        for table in ("samples", "video_packets"):
            bad = db.execute(f"SELECT count(*), min(t_ns), max(t_ns) FROM {table} WHERE t_ns < ? OR t_ns >= ?",
                             (start, end)).fetchone()
            if bad[0]:
                fail(f"{name}: {bad[0]} {table} rows outside [start, end): t_ns {bad[1] - start}..{bad[2] - start} "
                     f"ns from start, end at {end - start}")
        # The documented exception: the session's first episode keeps the
        # operator device's start-up events (before the first control cycle).
        startup = " OR (t_ns < ? AND (kind LIKE 'xr\\_%' ESCAPE '\\' OR kind = 'operator_command'))" \
            if f == files[0] else " OR ? IS NULL"
        bad = db.execute("SELECT kind, t_ns FROM events WHERE (t_ns < ? OR t_ns >= ?) AND NOT"
                         " ((t_ns = ? AND kind IN ('episode_end', 'session_end', 'operator_command'))" + startup + ")",
                         (start, end, end, start if f == files[0] else None)).fetchall()
        if bad:
            fail(f"{name}: events outside [start, end): {[(k, t - start) for k, t in bad]}")
        state = db.execute("SELECT count(*) FROM samples WHERE stream_id = (SELECT id FROM streams"
                           " WHERE name = 'state')").fetchone()[0]
        if end - start >= 60_000_000 and state == 0:
            fail(f"{name}: {(end - start) / 1e6:.1f} ms long and no state rows")
        # At 500 Hz a cycle every 2 ms: the rows fit the episode's length.
        if state > (end - start) / 2e6 + 1:
            fail(f"{name}: {state} state rows in {(end - start) / 1e6:.1f} ms")
        dropped_rows += db.execute("SELECT count(*) FROM events WHERE kind = 'recorder_behind'").fetchone()[0]
        state_total += state
        video_total += db.execute("SELECT count(*) FROM video_packets").fetchone()[0]
        db.close()
        c = subprocess.run([TELEOP, "check", f], capture_output=True, text=True)
        if c.returncode != 0:
            fail(f"{name}: check failed: {c.stdout.strip()} {c.stderr.strip()}")
    # Episodes follow each other without a gap from the session's first
    # cycle to its last, so every cycle's state row is in one of them.
    if dropped_rows == 0 and state_total != cycles:
        fail(f"episode-time {episode_time}: {state_total} state rows in the episodes, {cycles} control ticks")
    # A frame captured after the control loop's last cycle is no episode's.
    if video_total < encoded - 2 or video_total > encoded:
        fail(f"episode-time {episode_time}: {video_total} video packets in the episodes, {encoded} encoded")
    print(f"episode-time {episode_time}: {len(files)} episodes, {state_total}/{cycles} state rows,"
          f" {video_total}/{encoded} frames")


with tempfile.TemporaryDirectory() as tmp:
    for et in (0.06, 0.02):
        d = os.path.join(tmp, str(et))
        os.mkdir(d)
        run_session(et, d)
sys.exit(1 if failures else 0)
