#!/usr/bin/env python3
"""kill -9 at random moments: `teleop run` is killed with SIGKILL while it
starts up or records; every time the episode left behind (if the kill came
after its creation) passes `teleop check` as it is, holds state up to at most
MAX_LOSS_MS before the kill (CLOCK_MONOTONIC taken right before kill(), the
clock the episode stamps with), and is then finalized by recovery
(`teleop recover`, or `teleop run` at its next start) as outcome
'interrupted', out of WAL mode, with its sync report, still passing check.

Usage: crash_test.py TELEOP [TRIALS] [--seed N] [--min S] [--max S] [--keep DIR]
Prints one line per trial and the data loss at kill (max, median) over trials;
exits 1 if any trial failed.
"""
import argparse
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

MAX_LOSS_MS = 100.0


def ro(path):
    # Read-only, as a reviewer would; sees what is committed in the WAL.
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def header_versions(path):
    with open(path, "rb") as f:
        h = f.read(20)
    return h[18], h[19]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("teleop")
    ap.add_argument("trials", type=int, nargs="?", default=20)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--min", type=float, default=0.1, help="earliest kill after spawn, s")
    ap.add_argument("--max", type=float, default=2.5, help="latest kill after spawn, s")
    ap.add_argument("--duration", type=float, default=4.0, help="session length given to teleop run, s")
    ap.add_argument("--keep", help="keep the episodes in this folder")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    print(f"crash_test: {a.trials} trials, kill {a.min}-{a.max} s after spawn, seed {a.seed}", flush=True)
    root = a.keep or tempfile.mkdtemp(prefix="teleop-crash-")
    os.makedirs(root, exist_ok=True)
    failures = []
    losses = []
    counts = {"before creation": 0, "during setup": 0, "recording": 0}

    def fail(trial, msg):
        failures.append(f"trial {trial}: {msg}")
        print(f"  FAIL: {msg}", flush=True)

    for trial in range(a.trials):
        out = os.path.join(root, f"trial-{trial:03d}")
        os.makedirs(out)
        wait = rng.uniform(a.min, a.max)
        with open(os.path.join(out, "run.log"), "wb") as log:
            p = subprocess.Popen([a.teleop, "run", "--duration", str(a.duration), "--out", out],
                                 stdout=log, stderr=subprocess.STDOUT)
            time.sleep(wait)
            t_kill = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            p.send_signal(signal.SIGKILL)
            p.wait()
        if p.returncode != -signal.SIGKILL:
            fail(trial, f"teleop run ended on its own (exit {p.returncode}) before the kill at {wait:.2f} s")
            continue
        names = sorted(os.listdir(out))
        episodes = [n for n in names if n.endswith(".db")]
        setups = [n for n in names if n.endswith(".db.creating")]
        if len(episodes) > 1:
            fail(trial, f"more than one episode: {episodes}")
            continue
        if not episodes:
            counts["during setup" if setups else "before creation"] += 1
            print(f"trial {trial:2d}: killed at {wait:.2f} s, {'during setup' if setups else 'before the episode'}",
                  flush=True)
            if setups:
                r = subprocess.run([a.teleop, "recover", out], capture_output=True, text=True)
                if r.returncode != 0 or "removed an episode that was never started" not in r.stdout:
                    fail(trial, f"recover did not remove the setup file: {r.stdout}{r.stderr}")
                if any(n.endswith(".creating") for n in os.listdir(out)):
                    fail(trial, "setup file left after recovery")
            continue
        ep = os.path.join(out, episodes[0])
        # As left by the kill: valid, readable.
        r = subprocess.run([a.teleop, "check", ep], capture_output=True, text=True)
        if r.returncode != 0:
            fail(trial, f"check after kill: {r.stderr.strip()}")
            continue
        db = ro(ep)
        meta = dict(db.execute("select key, value from meta"))
        last = db.execute("select max(t_ns) from samples where stream_id ="
                          " (select id from streams where name = 'state')").fetchone()[0]
        rows = db.execute("select count(*) from samples where stream_id ="
                          " (select id from streams where name = 'state')").fetchone()[0]
        db.close()
        if "outcome" in meta:
            fail(trial, f"a killed episode has outcome {meta['outcome']}")
        start = int(meta["start_t_ns"]) if "start_t_ns" in meta else None
        if start is None:
            fail(trial, "episode without start_t_ns")
            continue
        counts["recording"] += 1
        # Lost: from the newest state row kept (or the session start, when
        # none was due yet) to the kill.
        newest = max(last or start, start)
        loss_ms = (t_kill - newest) / 1e6
        if t_kill > start:
            losses.append(loss_ms)
        status = f"{rows} state rows, loss {loss_ms:.1f} ms" if t_kill > start else "killed before the start tick"
        # Recovery: most trials with `teleop recover`, every fifth through
        # the next `teleop run` (which recovers its folder at start).
        via_run = trial % 5 == 4
        if via_run:
            r = subprocess.run([a.teleop, "run", "--duration", "0.3", "--out", out], capture_output=True, text=True)
            text = r.stderr
        else:
            r = subprocess.run([a.teleop, "recover", out], capture_output=True, text=True)
            text = r.stdout
        print(f"trial {trial:2d}: killed at {wait:.2f} s, {status}; recovered by teleop "
              f"{'run' if via_run else 'recover'}", flush=True)
        if r.returncode != 0 or f"{ep}: recovered interrupted episode" not in text:
            fail(trial, f"recovery: exit {r.returncode}: {r.stdout}{r.stderr}")
            continue
        if loss_ms > MAX_LOSS_MS and t_kill > start:
            fail(trial, f"lost {loss_ms:.1f} ms of state before the kill (limit {MAX_LOSS_MS:.0f} ms)")
        r = subprocess.run([a.teleop, "check", ep], capture_output=True, text=True)
        if r.returncode != 0:
            fail(trial, f"check after recovery: {r.stderr.strip()}")
        db = ro(ep)
        meta2 = dict(db.execute("select key, value from meta"))
        rows2 = db.execute("select count(*) from samples where stream_id ="
                           " (select id from streams where name = 'state')").fetchone()[0]
        ends = db.execute("select count(*) from events where kind = 'session_end' and detail = 'interrupted'"
                          ).fetchone()[0]
        sync = db.execute("select count(*) from sqlite_schema where name in ('sync','sync_summary','sync_gaps')"
                          ).fetchone()[0]
        frames = db.execute("select count(*) from video_packets").fetchone()[0]
        synced = db.execute("select count(*) from sync").fetchone()[0] if sync == 3 else -1
        db.close()
        if meta2.get("outcome") != "interrupted":
            fail(trial, f"outcome after recovery is {meta2.get('outcome')}")
        if rows2 != rows:
            fail(trial, f"recovery changed the state rows: {rows} -> {rows2}")
        if ends != 1 or sync != 3 or synced != frames:
            fail(trial, f"recovered episode: {ends} session_end events, {sync} sync tables, "
                        f"{synced} sync rows for {frames} frames")
        if header_versions(ep) != (1, 1) or os.path.exists(ep + "-wal") or os.path.exists(ep + "-shm"):
            fail(trial, f"recovered episode still in WAL mode or with side files: {sorted(os.listdir(out))}")
        # end_t_ns is the newest stamp of any stream: at least the newest state.
        if last is not None and int(meta2.get("end_t_ns", 0)) < last:
            fail(trial, f"end_t_ns {meta2.get('end_t_ns')} before the last state {last}")
        r = subprocess.run([a.teleop, "recover", ep], capture_output=True, text=True)
        if r.returncode != 0 or "finished, nothing to recover" not in r.stdout:
            fail(trial, f"second recovery: {r.stdout}{r.stderr}")

    if losses:
        print(f"crash_test: data loss at kill over {len(losses)} trials while recording: "
              f"max {max(losses):.1f} ms, median {statistics.median(losses):.1f} ms", flush=True)
    print("crash_test: kills " + ", ".join(f"{v} {k}" for k, v in counts.items()), flush=True)
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)
    for f in failures:
        print("FAIL " + f)
    print(f"crash_test: {a.trials - len({f.split(':')[0] for f in failures})} passed, "
          f"{len({f.split(':')[0] for f in failures})} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
