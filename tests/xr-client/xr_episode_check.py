#!/usr/bin/env python3
"""Checks on episodes recorded through the OpenXR operator device, computed
from the episode rows with nothing but sqlite3 and struct (independent of
teleop's own reader and interpolation).

  xr_episode_check.py events EPISODE KIND DETAIL T_MIN T_MAX
      an event KIND/DETAIL exists with stream time (seconds since the XR
      session's SYNCHRONIZED, the replay runtime's stream start) in [T_MIN, T_MAX]
  xr_episode_check.py count EPISODE KIND DETAIL N
      exactly N such events
  xr_episode_check.py hold EPISODE T_FROM T_TO
      during stream time [T_FROM, T_TO] the left arm's action does not change
      while the right arm's does
  xr_episode_check.py roundtrip SOURCE_EPISODE EPISODE
      every operator frame of EPISODE at stream time s equals the SOURCE
      operator stream at its first row's time + s (poses interpolated, lerp and
      slerp; flags from the earlier row), within 1e-6; engaged equal after the
      first 0.1 s (the clutch's debounce starts afresh)
Exit 0 when the check holds, 1 with a message otherwise.
"""
import math
import sqlite3
import struct
import sys


def open_db(path):
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True)


def stream(db, name):
    sid, dims = db.execute("select id, dims from streams where name = ?", (name,)).fetchone()
    fmt = "<%df" % dims
    return [(t, struct.unpack(fmt, data)) for t, data in
            db.execute("select t_ns, data from samples where stream_id = ? order by seq", (sid,))]


def sync_ns(db):
    row = db.execute("select min(t_ns) from events where kind = 'xr_session_state' and detail = 'SYNCHRONIZED'"
                     ).fetchone()
    if row[0] is None:
        sys.exit("no xr_session_state SYNCHRONIZED event")
    return row[0]


def events(db, kind, detail):
    return [t for (t,) in db.execute("select t_ns from events where kind = ? and ifnull(detail, '') = ?",
                                     (kind, detail))]


def cmd_events(path, kind, detail, t_min, t_max):
    db = open_db(path)
    t0 = sync_ns(db)
    times = [(t - t0) / 1e9 for t in events(db, kind, detail)]
    if not any(float(t_min) <= t <= float(t_max) for t in times):
        sys.exit("%s: no '%s %s' event in [%s, %s] s (at %s)" % (path, kind, detail, t_min, t_max, times))


def cmd_count(path, kind, detail, n):
    db = open_db(path)
    got = len(events(db, kind, detail))
    if got != int(n):
        sys.exit("%s: %d '%s %s' events, want %s" % (path, got, kind, detail, n))


def cmd_hold(path, t_from, t_to):
    db = open_db(path)
    t0 = sync_ns(db)
    rows = [(t, v) for t, v in stream(db, "action") if float(t_from) <= (t - t0) / 1e9 <= float(t_to)]
    if len(rows) < 50:
        sys.exit("%s: only %d action rows in the window" % (path, len(rows)))
    left = max(abs(v[i] - rows[0][1][i]) for _, v in rows for i in range(0, 7))
    right = max(abs(v[i] - rows[0][1][i]) for _, v in rows for i in range(7, 14))
    if left != 0.0:
        sys.exit("%s: left arm moved %.3g rad while its tracking was lost" % (path, left))
    if right < 1e-3:
        sys.exit("%s: right arm did not move (%.3g rad): the check would prove nothing" % (path, right))


def slerp(a, b, u):
    d = sum(x * y for x, y in zip(a, b))
    if d < 0:
        b, d = [-x for x in b], -d
    if d > 1 - 1e-12:
        r = [x + u * (y - x) for x, y in zip(a, b)]
    else:
        th = math.acos(min(1.0, d))
        wa, wb = math.sin((1 - u) * th) / math.sin(th), math.sin(u * th) / math.sin(th)
        r = [wa * x + wb * y for x, y in zip(a, b)]
    n = math.sqrt(sum(x * x for x in r))
    return [x / n for x in r]


def norm(q):
    n = math.sqrt(sum(x * x for x in q))
    return [x / n for x in q] if n > 0 else q


# Pose blocks of the operator layout (operator.h): head at 0, then per hand
# 1 + 26 * 9 values (active, then px py pz qx qy qz qw radius valid per joint).
HEAD = 0
HAND0 = 8
HAND_SIZE = 1 + 26 * 9
ENGAGED = 8 + 2 * HAND_SIZE + 2 * 22


def pose_slots():
    slots = [("head", HEAD, HEAD + 7)]
    for s in range(2):
        for j in range(26):
            base = HAND0 + s * HAND_SIZE + 1 + j * 9
            slots.append(("%s joint %d" % ("left right".split()[s], j), base, base + 8))
    return slots


def expected_at(src, t):
    """Source frame at absolute source time t (ns): poses lerp/slerp between
    the rows around t, everything else from the earlier row."""
    lo, hi = 0, len(src) - 1
    if t <= src[0][0]:
        return list(src[0][1])
    if t >= src[-1][0]:
        return list(src[-1][1])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if src[mid][0] <= t:
            lo = mid
        else:
            hi = mid
    a, b = src[lo][1], src[hi][1]
    u = (t - src[lo][0]) / (src[hi][0] - src[lo][0])
    out = list(a)
    if u == 0:
        return out
    for _, p, end in pose_slots():
        for i in range(3):
            out[p + i] = a[p + i] + u * (b[p + i] - a[p + i])
        out[p + 3:p + 7] = slerp(norm(a[p + 3:p + 7]), norm(b[p + 3:p + 7]), u)
        if end == p + 8:  # hand joint radius
            out[p + 7] = a[p + 7] + u * (b[p + 7] - a[p + 7])
    return out


def cmd_roundtrip(source_path, path):
    src_db, db = open_db(source_path), open_db(path)
    src = stream(src_db, "operator")
    got = stream(db, "operator")
    t0 = sync_ns(db)
    src_first = src[0][0]
    src_span = src[-1][0] - src_first
    compared = worst = 0
    worst_where = ""
    for t, v in got:
        s = t - t0
        if s < 0 or s > src_span:
            continue
        want = expected_at(src, src_first + s)
        for name, p, end in pose_slots():
            valid_idx = p + 7 if name == "head" else p + 8
            if v[valid_idx] != want[valid_idx]:
                sys.exit("%s: %s validity %g at %.4f s, source %g" % (path, name, v[valid_idx], s / 1e9,
                                                                     want[valid_idx]))
            if want[valid_idx] == 0:
                continue
            # A quaternion and its negation are one rotation.
            sign = 1.0 if sum(v[p + 3 + i] * want[p + 3 + i] for i in range(4)) >= 0 else -1.0
            for i in range(end - p):
                w = want[p + i] * (sign if 3 <= i < 7 else 1.0)
                d = abs(v[p + i] - w)
                if d > worst:
                    worst, worst_where = d, "%s[%d] at %.4f s" % (name, i, s / 1e9)
        # The clutch is the controls' reading of the squeeze history, which
        # starts afresh with the replay: equal once the first debounce is over.
        if s >= 100_000_000 and v[ENGAGED] != want[ENGAGED]:
            sys.exit("%s: engaged %g at %.4f s, source %g" % (path, v[ENGAGED], s / 1e9, want[ENGAGED]))
        compared += 1
    if compared < 100:
        sys.exit("%s: only %d frames inside the source's span" % (path, compared))
    if worst > 1e-6:
        sys.exit("%s: differs from the source by %.3g (%s)" % (path, worst, worst_where))
    print("roundtrip: %d frames equal to the source within %.2g" % (compared, worst))


def main(argv):
    cmds = {"events": cmd_events, "count": cmd_count, "hold": cmd_hold, "roundtrip": cmd_roundtrip}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[argv[1]](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
