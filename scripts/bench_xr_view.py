#!/usr/bin/env python3
"""The headset view's latency figures from an episode's `headset_view`
stream (docs/devices/xr.md, "The view in the headset"; scripts/bench.sh
xr-view runs the session):

  bench_xr_view.py EPISODE [--targets]

Prints, over the rows where the head panel shows a camera frame for the
first time (head_new = 1): capture -> submit and arrival -> submit (ms)
p50/p99/max; the distribution of head_late (display frames that began after
the frame arrived before the one that submitted it); render_ms p50/p99; the
predicted display period; and the floor: the display period actually
delivered (t_ns between consecutive rows) p50/p99.

--targets: exit 1, naming the target, unless head_late's p99 is 0 (99 % of
camera frames submitted in the first display frame that begins after they
arrive: the issue's "at most one display frame after the frame arrives")
and arrival -> submit p50 is at most one display period.
Reads the episode with sqlite3 and struct alone.
"""
import json
import sqlite3
import struct
import sys


def pct(values, p):
    """The p-th percentile, nearest rank (a value that occurred)."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def main():
    args = [a for a in sys.argv[1:] if a != "--targets"]
    targets = "--targets" in sys.argv[1:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    db = sqlite3.connect("file:%s?mode=ro" % args[0], uri=True)
    row = db.execute("select id, dims, names from streams where name = 'headset_view'").fetchone()
    if not row:
        print("bench xr-view: %s has no headset_view stream" % args[0], file=sys.stderr)
        return 1
    sid, dims, names = row
    names = json.loads(names)
    fmt = "<%df" % dims
    rows = [(t, dict(zip(names, struct.unpack(fmt, d)))) for t, d in
            db.execute("select t_ns, data from samples where stream_id = ? order by seq", (sid,))]
    if len(rows) < 2:
        print("bench xr-view: %d headset_view rows" % len(rows), file=sys.stderr)
        return 1
    new = [v for _, v in rows if v["head_new"] == 1]
    capture = [v["head_capture_ms"] for v in new]
    arrival = [v["head_arrival_ms"] for v in new]
    late = [int(v["head_late"]) for v in new]
    render = [v["render_ms"] for _, v in rows]
    period = pct([v["period_ms"] for _, v in rows], 50)
    delivered = [(b - a) / 1e6 for (a, _), (b, _) in zip(rows, rows[1:])]
    span = (rows[-1][0] - rows[0][0]) / 1e9
    print("headset_view: %d display frames in %.1f s (%.2f Hz), %d head camera frames shown (%.2f fps)" % (
        len(rows), span, (len(rows) - 1) / span, len(new), len(new) / span))
    print("display period: predicted %.3f ms; delivered p50 %.3f ms, p99 %.3f ms, max %.3f ms (the floor)" % (
        period, pct(delivered, 50), pct(delivered, 99), max(delivered)))
    print("head capture -> submit: p50 %.2f ms, p99 %.2f ms, max %.2f ms" % (
        pct(capture, 50), pct(capture, 99), max(capture)))
    print("head arrival -> submit: p50 %.2f ms, p99 %.2f ms, max %.2f ms" % (
        pct(arrival, 50), pct(arrival, 99), max(arrival)))
    hist = {}
    for k in late:
        hist[k] = hist.get(k, 0) + 1
    print("head_late (display frames begun after arrival before the submitting one): " + ", ".join(
        "%d: %d (%.1f %%)" % (k, n, 100.0 * n / len(late)) for k, n in sorted(hist.items())) +
        "; p99 %d" % pct(late, 99))
    print("render (xrWaitFrame returned -> xrEndFrame): p50 %.2f ms, p99 %.2f ms" % (
        pct(render, 50), pct(render, 99)))
    if not targets:
        return 0
    missed = []
    if pct(late, 99) != 0:
        missed.append("head_late p99 is %d, want 0 (a camera frame submitted in the first display frame begun "
                      "after it arrives)" % pct(late, 99))
    if pct(arrival, 50) > period:
        missed.append("arrival -> submit p50 %.2f ms is over one display period (%.2f ms)" % (
            pct(arrival, 50), period))
    for m in missed:
        print("TARGET MISSED: " + m, file=sys.stderr)
    if not missed:
        print("targets met: head_late p99 0, arrival -> submit p50 within one display period")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
