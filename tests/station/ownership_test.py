#!/usr/bin/python3
"""Files that are not ours, links, read-only episodes and corrupt stamps
(issue 10 items 4, 7, 8 and 12).

- Item 7: a foreign WAL-mode SQLite database with uncheckpointed data (its
  -wal beside it) and foreign *.db.creating files in the recordings folder
  survive `teleop recover` and `teleop run` byte for byte; each gets one
  "left alone" line.
- Item 8: dangling symbolic links at the next episode names do not block
  recording, are never printed as the episode and survive; `retarget -o
  LINK` refuses and leaves the link.
- Item 12: finished read-only (0444) episodes need no write access: recover
  exits 0 and run says nothing about them; an unfinished episode that cannot
  be written gets one line naming the file and the permission problem, does
  not make `run` fail, and `check` on a WAL episode in a read-only folder
  does not call it damaged. Run as an unprivileged user (setpriv to nobody
  when the suite runs as root: root ignores file modes).
- Item 4: retarget refuses an operator stream with absurd (+-9.2e18) or
  non-monotonic stamps in one line naming the stream and row, quickly; a
  retarget killed with SIGKILL or SIGINT leaves nothing at the output path.

usage: ownership_test.py TELEOP
"""
import glob
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib

TELEOP = os.path.abspath(sys.argv[1])
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run(args, timeout=120, user=None, **kw):
    cmd = [TELEOP] + args
    if user:
        cmd = user + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw)


def make_foreign_wal_db(path):
    """A WAL-mode database of another application, its last commit only in
    the -wal (the writer died before any checkpoint)."""
    code = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA journal_mode=WAL')\n"
        "db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "db.execute('PRAGMA application_id=1234')\n"
        "db.execute('CREATE TABLE t(x)')\n"
        "db.execute('INSERT INTO t VALUES (42)')\n"
        "os._exit(0)\n")
    subprocess.run(["/usr/bin/python3", "-c", code, path], check=True)
    if not os.path.exists(path + "-wal") or os.path.getsize(path + "-wal") == 0:
        raise SystemExit(f"setup: {path}-wal was not left behind")


def record(out, seconds=0.5, user=None):
    r = run(["run", "--duration", str(seconds), "--out", out], user=user)
    eps = [l.split(" ", 1)[1] for l in r.stdout.splitlines() if l.startswith("episode: ")]
    return r, eps


def interrupted_episode(out):
    """An episode cut off by kill -9 while recording (WAL mode, -wal beside it)."""
    p = subprocess.Popen([TELEOP, "run", "--duration", "20", "--out", out], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        eps = [e for e in glob.glob(os.path.join(out, "*.db")) if os.path.exists(e + "-wal")]
        if eps and os.path.getsize(eps[0] + "-wal") > 200000:
            break
        time.sleep(0.1)
    p.kill()
    p.wait()
    eps = [e for e in glob.glob(os.path.join(out, "*.db")) if os.path.exists(e + "-wal")]
    if len(eps) != 1:
        raise SystemExit(f"setup: no interrupted episode in {out}: {os.listdir(out)}")
    return eps[0]


def item7(tmp):
    d = os.path.join(tmp, "rec7")
    os.mkdir(d)
    foreign = os.path.join(d, "notes.db")
    make_foreign_wal_db(foreign)
    creating = os.path.join(d, "x.db.creating")
    make_foreign_wal_db(creating)  # a foreign database under a setup-file name
    junk_creating = os.path.join(d, "other.db.creating")
    with open(junk_creating, "wb") as f:
        f.write(b"not ours, not SQLite\n")
    watched = [foreign, foreign + "-wal", creating, creating + "-wal", junk_creating]
    before = {p: digest(p) for p in watched}

    def same(step):
        for p in watched:
            if not os.path.exists(p):
                fail(f"item 7: {step} removed {os.path.basename(p)}")
            elif digest(p) != before[p]:
                fail(f"item 7: {step} changed {os.path.basename(p)}")

    r = run(["recover", d])
    if r.returncode != 0:
        fail(f"item 7: recover exited {r.returncode}: {r.stdout}{r.stderr}")
    for p in (foreign, creating, junk_creating):
        if not any(p in l and "left alone" in l for l in r.stdout.splitlines()):
            fail(f"item 7: recover printed no 'left alone' line for {os.path.basename(p)}: {r.stdout}")
    same("recover")
    r, eps = record(d)
    if r.returncode != 0 or len(eps) != 1:
        fail(f"item 7: run exited {r.returncode}: {r.stderr[-400:]}")
    same("run")
    # The foreign database still reads its uncheckpointed row.
    db = sqlite3.connect(foreign)
    if db.execute("SELECT x FROM t").fetchall() != [(42,)]:
        fail("item 7: the foreign database lost its row")
    db.close()
    # Our own setup file cut off before its first commit (empty, our name)
    # and one cut off after it are removed.
    ours_empty = os.path.join(d, "episode-20260101-000000-001.db.creating")
    open(ours_empty, "wb").close()
    ours = os.path.join(d, "episode-20260101-000000-002.db.creating")
    db = sqlite3.connect(ours)
    db.execute("PRAGMA application_id=%d" % 0x54454C45)
    db.close()
    r = run(["recover", d])
    for p in (ours_empty, ours):
        if os.path.exists(p):
            fail(f"item 7: our dead setup file {os.path.basename(p)} was not removed: {r.stdout}")
    print("item 7: foreign WAL database, its -wal and foreign setup files untouched by recover and run")


def item8(tmp):
    d = os.path.join(tmp, "rec8")
    os.mkdir(d)
    # The session names its first episode episode-<start second>-001.db:
    # plant dangling links at that name for the next seconds.
    links = []
    now = time.time()
    for k in range(6):
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now + k))
        link = os.path.join(d, f"episode-{stamp}-001.db")
        os.symlink("/nonexistent/elsewhere.db", link)
        links.append(link)
    r, eps = record(d)
    if r.returncode != 0 or len(eps) != 1:
        fail(f"item 8: run with links at the episode names exited {r.returncode}: {r.stderr[-400:]}")
    for e in eps:
        if os.path.islink(e) or not os.path.isfile(e):
            fail(f"item 8: printed {e}, which is not our episode file")
        elif e in links:
            fail(f"item 8: printed the planted link {e} as the episode")
        elif run(["check", e]).returncode != 0:
            fail(f"item 8: {e} does not check")
    for link in links:
        if not os.path.islink(link) or os.readlink(link) != "/nonexistent/elsewhere.db":
            fail(f"item 8: the planted link {link} was changed or removed")
    # retarget -o LINK: refused, the link stays.
    link = os.path.join(d, "out.db")
    os.symlink("/nonexistent/out.db", link)
    r = run(["retarget", eps[0], "-o", link])
    if r.returncode == 0:
        fail("item 8: retarget wrote through a dangling link")
    if not os.path.islink(link) or os.readlink(link) != "/nonexistent/out.db":
        fail("item 8: retarget removed the dangling link at its output path")
    if os.path.exists(link + ".creating"):
        fail("item 8: retarget left its setup file")
    print("item 8: dangling links skipped, never printed, never removed")
    return eps[0]


def unprivileged(tmp):
    if os.geteuid() != 0:
        return None
    if not shutil.which("setpriv"):
        return "skip"
    # HOME of its own: the OpenXR loader looks in $HOME, which root's is not
    # open to nobody.
    home = os.path.join(tmp, "home")
    os.mkdir(home)
    os.chmod(home, 0o777)
    return ["env", f"HOME={home}", "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def item12(tmp, episode):
    user = unprivileged(tmp)
    if user == "skip":
        print("item 12: skipped (root without setpriv: file modes cannot be tested)")
        return
    d = os.path.join(tmp, "rec12")
    os.mkdir(d)
    os.chmod(tmp, 0o755)
    finished = os.path.join(d, os.path.basename(episode))
    shutil.copy(episode, finished)
    os.chmod(finished, 0o444)
    os.chmod(d, 0o777)  # the session may write new episodes here
    r = run(["recover", d], user=user)
    if r.returncode != 0 or finished in r.stdout + r.stderr:
        fail(f"item 12: recover on a read-only finished episode: exit {r.returncode}: {r.stdout}{r.stderr}")
    r, eps = record(d, user=user)
    if r.returncode != 0 or finished in r.stderr:
        fail(f"item 12: run beside a read-only finished episode: exit {r.returncode}: {r.stderr[-400:]}")
    # An unfinished episode we cannot write: one clear line, run goes on.
    u = os.path.join(tmp, "rec12u")
    os.mkdir(u)
    wal_ep = interrupted_episode(u)
    for p in (wal_ep, wal_ep + "-wal", wal_ep + "-shm"):
        if os.path.exists(p):
            os.chmod(p, 0o444)
    os.chmod(u, 0o777)
    r = run(["recover", u], user=user)
    msg = [l for l in (r.stdout + r.stderr).splitlines() if wal_ep in l]
    if r.returncode != 1 or len(msg) != 1 or "not writable" not in msg[0] or "damaged" in msg[0]:
        fail(f"item 12: recover on an unwritable unfinished episode: exit {r.returncode}: {r.stdout}{r.stderr}")
    r, eps = record(u, user=user)
    msg = [l for l in r.stderr.splitlines() if wal_ep in l]
    if r.returncode != 0 or len(eps) != 1 or len(msg) != 1 or "not writable" not in msg[0]:
        fail(f"item 12: run beside an unwritable unfinished episode: exit {r.returncode}: {r.stderr[-400:]}")
    for e in eps:
        os.chmod(e, 0o644)
    # check on a WAL episode in a folder it cannot write (no -shm yet).
    if os.path.exists(wal_ep + "-shm"):
        os.chmod(wal_ep + "-shm", 0o644)
        os.remove(wal_ep + "-shm")
    os.chmod(u, 0o555)
    r = run(["check", wal_ep], user=user)
    if "damaged" in r.stdout + r.stderr or "cannot write" not in r.stdout + r.stderr:
        fail(f"item 12: check on a WAL episode in a read-only folder: {r.stdout}{r.stderr}")
    os.chmod(u, 0o755)
    # With write access it is recovered as usual.
    for p in (wal_ep, wal_ep + "-wal"):
        os.chmod(p, 0o644)
    r = run(["recover", u])
    if r.returncode != 0 or "recovered interrupted episode" not in r.stdout:
        fail(f"item 12: recover once writable: {r.stdout}{r.stderr}")
    print("item 12: read-only finished episodes need nothing; unwritable unfinished ones get one line")


def operator_id(db):
    return db.execute("SELECT id FROM streams WHERE name = 'operator'").fetchone()[0]


def item4(tmp, episode):
    d = os.path.join(tmp, "rec4")
    os.mkdir(d)
    # Absurd span: first row -9.2e18, last +9.2e18.
    bad = os.path.join(d, "absurd.db")
    shutil.copy(episode, bad)
    db = sqlite3.connect(bad)
    op = operator_id(db)
    last = db.execute("SELECT max(seq) FROM samples WHERE stream_id = ?", (op,)).fetchone()[0]
    db.execute("UPDATE samples SET t_ns = -9200000000000000000 WHERE stream_id = ? AND seq = 0", (op,))
    db.execute("UPDATE samples SET t_ns = 9200000000000000000 WHERE stream_id = ? AND seq = ?", (op, last))
    db.commit()
    db.close()
    out = os.path.join(d, "out.db")
    t0 = time.monotonic()
    r = run(["retarget", bad, "-o", out], timeout=60)
    err = r.stderr.strip().splitlines()
    if r.returncode != 1 or len(err) != 1 or "'operator'" not in err[0] or "row" not in err[0]:
        fail(f"item 4: absurd stamps: exit {r.returncode}, {r.stderr}")
    if time.monotonic() - t0 > 30 or os.path.exists(out) or os.path.exists(out + ".creating"):
        fail("item 4: absurd stamps: slow, or an output was left")
    # Non-monotonic: two rows swapped.
    bad2 = os.path.join(d, "swapped.db")
    shutil.copy(episode, bad2)
    db = sqlite3.connect(bad2)
    t5, t6 = [db.execute("SELECT t_ns FROM samples WHERE stream_id = ? AND seq = ?", (op, s)).fetchone()[0]
              for s in (5, 6)]
    db.execute("UPDATE samples SET t_ns = ? WHERE stream_id = ? AND seq = 5", (t6, op))
    db.execute("UPDATE samples SET t_ns = ? WHERE stream_id = ? AND seq = 6", (t5, op))
    db.commit()
    db.close()
    r = run(["retarget", bad2, "-o", out])
    if r.returncode != 1 or "row 6" not in r.stderr or os.path.exists(out):
        fail(f"item 4: non-monotonic stamps: exit {r.returncode}, {r.stderr}")
    # A long episode (its operator stream repeated 200 times), so a kill
    # lands while retarget runs: nothing may appear at the output path.
    long_ep = os.path.join(d, "long.db")
    shutil.copy(episode, long_ep)
    db = sqlite3.connect(long_ep)
    rows = db.execute("SELECT seq, t_ns, data FROM samples WHERE stream_id = ? ORDER BY seq", (op,)).fetchall()
    span = rows[-1][1] - rows[0][1] + 11111111
    n = len(rows)
    start = int(db.execute("SELECT value FROM meta WHERE key = 'start_t_ns'").fetchone()[0])
    for k in range(1, 200):
        db.executemany("INSERT INTO samples(stream_id, seq, t_ns, data, crc32) VALUES (?,?,?,?,?)",
                       [(op, s + k * n, t + k * span, data, zlib.crc32(data)) for s, t, data in rows])
    db.execute("UPDATE meta SET value = ? WHERE key = 'end_t_ns'", (str(start + 201 * span),))
    db.commit()
    db.close()
    for sig in (signal.SIGKILL, signal.SIGINT):
        out = os.path.join(d, f"killed-{sig}.db")
        p = subprocess.Popen([TELEOP, "retarget", long_ep, "-o", out], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        running = p.poll() is None
        p.send_signal(sig)
        p.wait()
        if not running:
            fail(f"item 4: retarget of the long episode ended within 1 s; the {sig.name} test did not bite")
        if os.path.lexists(out):
            fail(f"item 4: {sig.name} during retarget left a file at the output path")
    r = run(["recover", d])
    if glob.glob(os.path.join(d, "*.creating")):
        fail(f"item 4: recovery left the killed retarget's setup file: {r.stdout}")
    print("item 4: corrupt stamps refused in one line; killed retargets leave nothing at the output path")


with tempfile.TemporaryDirectory() as tmp:
    item7(tmp)
    ep = item8(tmp)
    item4(tmp, ep)
    item12(tmp, ep)
    for root, dirs, _ in os.walk(tmp):
        for x in dirs:
            os.chmod(os.path.join(root, x), 0o755)
sys.exit(1 if failures else 0)
