#!/usr/bin/env python3
"""kill -9 at random moments: `teleop run` is killed with SIGKILL while it
starts up or records; every time the episode left behind (if the kill came
after its creation) passes `teleop check` as it is, holds state up to at most
MAX_LOSS_MS before the kill (CLOCK_MONOTONIC taken right before kill(), the
clock the episode stamps with), and is then finalized by recovery
(`teleop recover`, or `teleop run` at its next start) as outcome
'interrupted', out of WAL mode, with its sync report, still passing check.

Where the kills land is counted and asserted (issue 9 point 7): every other
trial waits for the episode to appear before its random delay, so at least
MIN_RECORDING_FRACTION of the trials kill while recording. Then kills inside
stop -> final: a stop request (SIGINT, as Ctrl-C) followed by SIGKILL a
random moment later within the measured stop-to-exit time, until at least
MIN_STOP_KILLS kills have landed between the stop request and the episode
being final (found unfinished, or finished but still in WAL mode, after the
kill); every episode left behind passes check as it is and after recovery.

Usage: crash_test.py TELEOP [TRIALS] [--stop-kills N] [--seed N] [--min S] [--max S] [--keep DIR]
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
MIN_RECORDING_FRACTION = 0.5  # of the random trials: every other one waits for the episode
MAX_STOP_TRIALS_FACTOR = 3    # stop trials tried at most, per kill required in stop -> final


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
    ap.add_argument("--stop-kills", type=int, default=10, help="kills required inside stop -> final")
    a = ap.parse_args()
    # The sanitizer run checks memory along the same paths with fewer kills
    # (scripts/test.sh --sanitize sets these); the plain run is the soak.
    a.trials = int(os.environ.get("TELEOP_CRASH_TRIALS", a.trials))
    a.stop_kills = int(os.environ.get("TELEOP_CRASH_STOP_KILLS", a.stop_kills))
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
            if trial % 2 == 1:
                # From the episode's appearance: a kill while recording
                # however long the start-up takes (a sanitizer build, a
                # loaded machine).
                t0 = time.monotonic()
                while time.monotonic() - t0 < 30 and p.poll() is None and not any(
                        n.endswith(".db") for n in os.listdir(out)):
                    time.sleep(0.01)
                wait = rng.uniform(0.05, min(a.max, a.duration / 2))
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

    if counts["recording"] < MIN_RECORDING_FRACTION * a.trials:
        failures.append(f"trials: only {counts['recording']} of {a.trials} kills landed while recording "
                        f"(at least {MIN_RECORDING_FRACTION * a.trials:.0f} required)")
    if a.stop_kills > 0:
        stop_trials(a, rng, root, failures, counts)
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


def wait_recording(p, out, timeout=30.0):
    """Until the episode exists and has committed rows to its WAL."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout and p.poll() is None:
        eps = [n for n in os.listdir(out) if n.endswith(".db")]
        if eps and os.path.exists(os.path.join(out, eps[0] + "-wal")) and \
                os.path.getsize(os.path.join(out, eps[0] + "-wal")) > 100000:
            return os.path.join(out, eps[0])
        time.sleep(0.01)
    return None


def stop_trials(a, rng, root, failures, counts):
    """SIGKILL between the stop request and the episode being final."""
    def fail(trial, msg):
        failures.append(f"stop trial {trial}: {msg}")
        print(f"  FAIL: {msg}", flush=True)

    # The stop -> exit time of this machine and build, measured once: the
    # kills are spread over it.
    out = os.path.join(root, "stop-calibration")
    os.makedirs(out)
    p = subprocess.Popen([a.teleop, "run", "--duration", "30", "--out", out], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    if not wait_recording(p, out):
        p.kill()
        p.wait()
        failures.append("stop trials: the calibration session never recorded")
        return
    time.sleep(0.3)
    ep = [os.path.join(out, n) for n in os.listdir(out) if n.endswith(".db")][0]
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    # Final: out of WAL mode with no -wal left (the process may take much
    # longer to exit after that: teardown, a sanitizer's leak check).
    window = None
    while window is None:
        exited = p.poll() is not None
        if header_versions(ep) == (1, 1) and not os.path.exists(ep + "-wal"):
            window = time.monotonic() - t0
        elif exited:
            break
        time.sleep(0.0005)
    p.wait()
    if window is None:
        window = time.monotonic() - t0
    print(f"crash_test: stop request to final {window * 1e3:.0f} ms; killing within it", flush=True)
    landed = {"stop -> final": 0, "after final": 0}
    trial = 0
    while landed["stop -> final"] < a.stop_kills and trial < MAX_STOP_TRIALS_FACTOR * a.stop_kills:
        out = os.path.join(root, f"stop-{trial:03d}")
        os.makedirs(out)
        p = subprocess.Popen([a.teleop, "run", "--duration", "30", "--out", out], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        ep = wait_recording(p, out)
        if not ep:
            p.kill()
            p.wait()
            fail(trial, "the session never recorded")
            trial += 1
            continue
        time.sleep(rng.uniform(0.1, 0.4))
        delay = rng.uniform(0.0, window)
        p.send_signal(signal.SIGINT)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        r = subprocess.run([a.teleop, "check", ep], capture_output=True, text=True)
        if r.returncode != 0:
            fail(trial, f"check after the kill: {r.stdout.strip()} {r.stderr.strip()}")
        db = ro(ep)
        meta = dict(db.execute("select key, value from meta"))
        db.close()
        final = "outcome" in meta and header_versions(ep) == (1, 1) and not os.path.exists(ep + "-wal")
        where = "after final" if final else "stop -> final"
        landed[where] += 1
        if final:
            window *= 0.85  # this session finalized sooner than the calibration's: aim earlier
        counts["recording"] += 1
        # Recovered (or, final already, nothing to do): valid either way.
        r = subprocess.run([a.teleop, "recover", out], capture_output=True, text=True)
        text = r.stdout + r.stderr
        if r.returncode != 0 or (not final and f"{ep}: recovered interrupted episode" not in text and
                                 f"{ep}: finalized" not in text):
            fail(trial, f"recovery: exit {r.returncode}: {text}")
        r = subprocess.run([a.teleop, "check", ep], capture_output=True, text=True)
        if r.returncode != 0:
            fail(trial, f"check after recovery: {r.stdout.strip()} {r.stderr.strip()}")
        db = ro(ep)
        outcome = dict(db.execute("select key, value from meta")).get("outcome")
        db.close()
        if header_versions(ep) != (1, 1) or os.path.exists(ep + "-wal") or outcome not in (
                "stopped", "interrupted"):
            fail(trial, f"after recovery: outcome {outcome}, header {header_versions(ep)}, "
                        f"files {sorted(os.listdir(out))}")
        print(f"stop trial {trial:2d}: SIGINT, SIGKILL {delay * 1e3:.0f} ms later: {where}"
              f" (outcome after recovery {outcome})", flush=True)
        trial += 1
    print("crash_test: stop kills " + ", ".join(f"{v} {k}" for k, v in landed.items()), flush=True)
    if landed["stop -> final"] < a.stop_kills:
        failures.append(f"stop trials: only {landed['stop -> final']} of {trial} kills landed inside stop -> final "
                        f"(at least {a.stop_kills} required)")


if __name__ == "__main__":
    sys.exit(main())
