#!/usr/bin/env python3
"""Checks of the headset view (docs/devices/xr.md, "The view in the headset")
on an episode recorded by `teleop run` with `[xr] view = headset` against the
replay runtime, and on what the runtime saw: its layer dump
(TELEOP_XR_REPLAY_DUMP, every Nth frame) and its haptics log
(TELEOP_XR_REPLAY_HAPTICS). Episode rows are read with sqlite3 and struct
alone; pixels are compared by xr_view_pixels (C: libpng, teleop's decoder,
the overlay's own text functions).

  xr_headset_view_check.py session EPISODE DUMP_DIR EVERY HAPTICS_LOG PIXELS_EXE LAYOUT
      LAYOUT: HEAD_STREAM,WRIST_LEFT_STREAM,PANEL_DISTANCE,PANEL_WIDTH (no wrist
      camera: WRIST_LEFT_STREAM empty)
      (a) every dumped frame's layers: the head quad, the left wrist panel,
          the overlay, in that order, head-locked (VIEW), both eyes; the head
          quad PANEL_DISTANCE in front, PANEL_WIDTH wide, its height by the
          camera's aspect; the head and wrist PNGs equal, pixel for pixel,
          the camera frames the headset_view row of that frame names
          the wrist panel hidden by the scripted toggle from its event on
      (b) the overlay shows REC (red) on line 1 while the episode records,
          and `HOLD: emergency` (red) on line 2 exactly from the scripted
          emergency on
      (c) haptics: the left controller pulses while the left arm is pushed
          into its limits, at most once per haptics_interval; the right one
          only at the start of a hold
      (d) the headset_view stream: its dims, one row per submitted frame
          (seq from 0 and frame numbers consecutive; every dumped frame has its row, with the dump's
          display time), each slot's frames non-decreasing, SLOT_new exactly
          on a frame's first row, latencies non-negative and equal to the
          camera stream's capture times
  xr_headset_view_check.py mirror EPISODE PNG PIXELS_EXE
      the desktop mirror's screenshot (teleop run --mirror-screenshot PNG):
      each camera panel at its place in PNG.txt equals, pixel for pixel, the
      camera frame PNG.txt says it shows
  xr_headset_view_check.py loss EPISODE DUMP_DIR PIXELS_EXE
      a scripted session loss: the view started, its rows stop at the loss;
      stereo_cameras = head,right with panel_lock = world: the dumped frames
      have the left eye's quad, the right eye's, the wrist panel, in the
      session's base space (stage or local), then the overlay; each eye's
      PNG equals its camera's frame
Exit 0 when every check holds, 1 with one line per failure.
"""
import json
import os
import sqlite3
import struct
import subprocess
import sys

SLOTS = ("head", "head_right", "wrist_left", "wrist_right")
SLOT_DIMS = ("frame", "new", "capture_ms", "arrival_ms", "late")
# `frame`: the runtime's submitted-frame number (the dump's), from 0 per session
NAMES = ["frame", "period_ms", "render_ms", "ahead_ms", "wrist_panels"] + \
    ["%s_%s" % (s, d) for s in SLOTS for d in SLOT_DIMS]
RED = "ff3b30ff"  # TP_OVERLAY_RED, include/teleop/xr_overlay.h
HAPTICS_INTERVAL_S = 0.25  # [xr] haptics_interval default
MOTION_OUT_S = 1.0  # tests/support/limit_motion.h: the left wrist moves out from 1 s

failures = []


def fail(msg):
    failures.append(msg)


def open_db(path):
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True)


def view_rows(db):
    row = db.execute("select id, dims, names, kind from streams where name = 'headset_view'").fetchone()
    if not row:
        return None
    sid, dims, names, kind = row
    if kind != "other":
        fail("headset_view: kind %s, want other" % kind)
    if json.loads(names or "[]") != NAMES:
        fail("headset_view: names %s, want %s" % (names, NAMES))
        return None
    fmt = "<%df" % dims
    rows = [(seq, t, dict(zip(NAMES, struct.unpack(fmt, data)))) for seq, t, data in
            db.execute("select seq, t_ns, data from samples where stream_id = ? order by seq", (sid,))]
    seqs = [s for s, _, _ in rows]
    if seqs != list(range(len(seqs))):
        fail("headset_view: seq not 0, 1, 2, ...: %s..." % seqs[:10])
    # one row per submitted frame: their numbers consecutive
    frames = [int(v["frame"]) for _, _, v in rows]
    if frames and frames != list(range(frames[0], frames[0] + len(frames))):
        gaps = [(a, b) for a, b in zip(frames, frames[1:]) if b != a + 1]
        fail("headset_view: frame numbers not consecutive (a submitted frame without its row): %s" % gaps[:5])
    return [(int(v["frame"]), t, v) for _, t, v in rows]


def camera_times(db, stream):
    """pts -> capture t_ns of the camera stream's packets."""
    return dict(db.execute("select p.pts, p.t_ns from video_packets p join streams s on s.id = p.stream_id "
                           "where s.name = ?", (stream,)))


def events(db, kind, detail=None):
    q = "select t_ns, detail from events where kind = ?"
    args = [kind]
    if detail is not None:
        q += " and detail = ?"
        args.append(detail)
    return db.execute(q + " order by t_ns, id", args).fetchall()


def read_index(dump):
    frames = {}
    with open(os.path.join(dump, "index.txt")) as f:
        for line in f:
            p = line.split()
            if len(p) != 15:
                fail("index.txt: bad line %r" % line)
                continue
            frames.setdefault(int(p[0]), []).append({
                "display_time": int(p[1]), "type": p[2], "space": p[3],
                "pos": tuple(float(v) for v in p[4:7]), "quat": tuple(float(v) for v in p[7:11]),
                "size": (float(p[11]), float(p[12])), "eye": p[13], "file": os.path.join(dump, p[14])})
    return frames


def pixels(exe, args, lines):
    r = subprocess.run([exe] + args, input="".join(l + "\n" for l in lines), capture_output=True, text=True)
    if r.returncode != 0:
        fail("xr_view_pixels %s: %s" % (" ".join(args), r.stderr.strip()))
        return None
    out = r.stdout.splitlines()
    if len(out) != len(lines):
        fail("xr_view_pixels %s: %d answers to %d lines" % (" ".join(args), len(out), len(lines)))
        return None
    return out


def check_stream(db, rows, head, wrist, hidden_ns):
    """(d): the rows themselves and against the camera streams."""
    times = [t for _, t, _ in rows]
    if any(b <= a for a, b in zip(times, times[1:])):
        fail("headset_view: t_ns not increasing")
    cams = {"head": camera_times(db, head)}
    if wrist:
        cams["wrist_left"] = camera_times(db, wrist)
    prev, shown_max = {}, {}
    new_count = {s: 0 for s in cams}
    for seq, t, v in rows:
        if abs(v["period_ms"] - 1000.0 / 90) > 1e-3:
            fail("headset_view frame %d: period_ms %g, want the runtime's 11.111" % (seq, v["period_ms"]))
            break
        if not v["render_ms"] >= 0:
            fail("headset_view frame %d: render_ms %g" % (seq, v["render_ms"]))
            break
        for slot in ("head_right", "wrist_right") + (() if wrist else ("wrist_left",)):
            if any(v["%s_%s" % (slot, d)] != -1 for d in ("frame", "capture_ms", "arrival_ms", "late")) or \
                    v["%s_new" % slot] not in (0, -1):
                fail("headset_view frame %d: %s shows %s (nothing is configured there)" % (
                    seq, slot, [v["%s_%s" % (slot, d)] for d in SLOT_DIMS]))
                return
        # shown from the start, hidden by the scripted toggle (the event is
        # stamped when its display frame began, before that frame's row)
        want_shown = 1 if t < hidden_ns else 0
        if v["wrist_panels"] != want_shown:
            fail("headset_view frame %d, %.3f s from the toggle: wrist_panels %g, want %d" % (
                seq, (t - hidden_ns) / 1e9, v["wrist_panels"], want_shown))
            return
        if not want_shown and any(v["wrist_left_" + d] != -1 for d in ("frame", "capture_ms", "arrival_ms", "late")):
            fail("headset_view frame %d: the wrist panels are hidden, wrist_left shows %s" % (
                seq, [v["wrist_left_" + d] for d in SLOT_DIMS]))
            return
        for slot, times_of in cams.items():
            frame = int(v[slot + "_frame"])
            new = v[slot + "_new"]
            if frame != v[slot + "_frame"] or frame < -1:
                fail("headset_view frame %d: %s_frame %r" % (seq, slot, v[slot + "_frame"]))
                return
            last = prev.get(slot, -1)
            if frame < 0 and last >= 0 and (slot == "head" or v["wrist_panels"] == 1):
                fail("headset_view frame %d: %s shows nothing after frame %d" % (seq, slot, last))
                return
            if 0 <= frame < shown_max.get(slot, -1):
                fail("headset_view frame %d: %s_frame %d after %d (goes back)" % (
                    seq, slot, frame, shown_max[slot]))
                return
            shown_max[slot] = max(frame, shown_max.get(slot, -1))
            want_new = 1 if frame >= 0 and frame != last else 0
            if new != want_new and not (frame < 0 and new == -1):
                fail("headset_view frame %d: %s_new %g, want %d (frame %d, previous row's %d)" % (
                    seq, slot, new, want_new, frame, last))
                return
            prev[slot] = frame
            if frame < 0 or not new:
                continue
            new_count[slot] += 1
            cap, arr, late = v[slot + "_capture_ms"], v[slot + "_arrival_ms"], v[slot + "_late"]
            if frame not in times_of:
                fail("headset_view frame %d: %s_frame %d is not a frame of the camera stream" % (seq, slot, frame))
                return
            want_cap = (t - times_of[frame]) / 1e6
            if abs(cap - want_cap) > 0.01:
                fail("headset_view frame %d: %s_capture_ms %.4f, the camera stream's frame %d says %.4f" % (
                    seq, slot, cap, frame, want_cap))
                return
            if not (0 <= arr <= cap):
                fail("headset_view frame %d: %s_arrival_ms %.4f not in [0, capture_ms %.4f]" % (seq, slot, arr, cap))
                return
            if late < 0 or late != int(late):
                fail("headset_view frame %d: %s_late %g" % (seq, slot, late))
                return
    span_s = (times[-1] - times[0]) / 1e9
    # 30 fps head, 15 fps wrist: most camera frames reach the headset (how
    # soon and how many is the benchmark's business: scripts/bench.sh xr-view)
    for slot, fps in (("head", 30), ("wrist_left", 15))[:2 if wrist else 1]:
        if new_count[slot] < 0.5 * fps * span_s:
            fail("headset_view: only %d new %s frames in %.2f s at %d fps" % (new_count[slot], slot, span_s, fps))
    return new_count


def session(episode, dump, every, haptics_log, exe, layout):
    head, wrist, distance, width = layout.split(",")
    distance, width = float(distance), float(width)
    db = open_db(episode)
    rows = view_rows(db)
    if not rows:
        fail("no headset_view rows")
        return
    started = events(db, "headset_view_started")
    if len(started) != 1 or not all(w in started[0][1] for w in (head, "wrist " + wrist, "head-locked")):
        fail("headset_view_started events: %s, want one with the layout (%s, wrist %s, head-locked)" % (
            started, head, wrist))
    toggled = events(db, "headset_view_wrist_panels")
    commands = events(db, "operator_command", "wrist_panels_toggle")
    if [d for _, d in toggled] != ["hidden"] or len(commands) != 1:
        fail("wrist panel toggle: events %s and %d operator_command wrist_panels_toggle, want one press: hidden" % (
            toggled, len(commands)))
    hidden_ns = toggled[0][0] if toggled else float("inf")
    counts = check_stream(db, rows, head, wrist, hidden_ns)
    by_seq = {s: (t, v) for s, t, v in rows}
    start_ns = int(db.execute("select value from meta where key = 'start_t_ns'").fetchone()[0])
    size = {}
    for name in (head, wrist) if wrist else (head,):
        size[name] = db.execute("select width, height from streams where name = ?", (name,)).fetchone()

    # (a) the dump against the rows and the camera streams
    frames = read_index(dump)
    first, last = rows[0][0], rows[-1][0]
    dumped = sorted(f for f in frames if first <= f <= last)
    want_dumped = [f for f in range(first, last + 1) if f % every == 0]
    if dumped != want_dumped:
        fail("dump: frames %s..., want every %dth frame of the rows %s..." % (dumped[:8], every, want_dumped[:8]))
    if len(dumped) < 15:
        fail("dump: only %d frames dumped" % len(dumped))
    cam_lines, overlay = [], []
    hw, hh = size[head]
    shown_both = 0
    for f in dumped:
        layers = frames[f]
        t, v = by_seq[f]
        where = "dump frame %d" % f
        # a panel is submitted once its camera's first frame is in it
        want = [w for w, slot in (("head", "head"), ("wrist", "wrist_left")) if v[slot + "_frame"] >= 0]
        want.append("overlay")
        if len(layers) != len(want) or any(l["type"] != "quad" for l in layers):
            fail("%s: layers %s, want quads %s (its row: head frame %d, wrist frame %d)" % (
                where, [(l["type"], l["eye"]) for l in layers], want, v["head_frame"], v["wrist_left_frame"]))
            continue
        q = dict(zip(want, layers))
        if abs(layers[0]["display_time"] - (t + v["ahead_ms"] * 1e6)) > 1e4:
            fail("%s: display time %d, its row's t_ns + ahead_ms %.0f" % (where, layers[0]["display_time"],
                                                                         t + v["ahead_ms"] * 1e6))
        for what, l in q.items():
            if l["space"] != "view" or l["eye"] != "both":
                fail("%s: %s quad in %s space for %s eyes, want view / both (panel_lock = head, mono)" % (
                    where, what, l["space"], l["eye"]))
        if "head" in q:
            hq = q["head"]
            if abs(hq["pos"][2] + distance) > 1e-4 or abs(hq["pos"][0]) > 1e-4 or \
                    abs(hq["size"][0] - width) > 1e-4 or abs(hq["size"][1] - width * hh / hw) > 1e-4:
                fail("%s: head quad at %s size %s, want %g m in front, %g x %g m" % (
                    where, hq["pos"], hq["size"], distance, width, width * hh / hw))
            cam_lines.append(("%s %s %d" % (hq["file"], head, v["head_frame"]), where + " head"))
        if "wrist" in q:
            if not (0 < q["wrist"]["size"][0] < width):
                fail("%s: wrist panel %g m wide, want smaller than the head panel's %g" % (
                    where, q["wrist"]["size"][0], width))
            cam_lines.append(("%s %s %d" % (q["wrist"]["file"], wrist, v["wrist_left_frame"]), where + " wrist"))
        shown_both += len(want) == (3 if wrist and v["wrist_panels"] == 1 else 2)
        overlay.append((f, t, q["overlay"]["file"]))
    if shown_both < len(dumped) - 2:
        fail("dump: only %d of %d dumped frames show every camera panel" % (shown_both, len(dumped)))
    out = pixels(exe, ["camera", episode], [l for l, _ in cam_lines])
    if out:
        bad = [(w, o) for (l, w), o in zip(cam_lines, out) if o != "ok"]
        for w, o in bad[:6]:
            fail("%s: %s" % (w, o))
        if len(bad) > 6:
            fail("... and %d more layers differ" % (len(bad) - 6))
        print("pixels: %d camera layers compared, %d equal" % (len(out), len(out) - len(bad)))

    # (b) REC while recording, HOLD from the emergency on
    emergency = events(db, "operator_command", "emergency_on")
    if len(emergency) != 1:
        fail("operator_command emergency_on: %d events, want 1 (scripted)" % len(emergency))
        return
    emergency_ns = emergency[0][0]
    lines = []
    for f, t, png in overlay:
        lines.append("%s 0 %s REC" % (png, RED))
        lines.append("%s 1 %s HOLD: emergency" % (png, RED))
    out = pixels(exe, ["overlay"], lines)
    if out:
        rec_shown = hold_shown = 0
        for k, (f, t, png) in enumerate(overlay):
            rec, hold = out[2 * k], out[2 * k + 1]
            rec_ok = rec.startswith("match ") and int(rec.split()[1]) > 20
            hold_ok = hold.startswith("match ") and int(hold.split()[1]) > 20
            # the recorder's status reaches the view within a batch (0.1 s)
            if t >= start_ns + 300e6 and not rec_ok:
                fail("dump frame %d (%.2f s into the episode): no red REC: %s" % (f, (t - start_ns) / 1e9, rec))
            rec_shown += rec_ok
            # the command reaches the control loop, its flags the tap (60 Hz), the
            # overlay is drawn every 0.1 s
            if t > emergency_ns + 300e6 and not hold_ok:
                fail("dump frame %d, %.3f s after the emergency: no red 'HOLD: emergency': %s" % (
                    f, (t - emergency_ns) / 1e9, hold))
            if t < emergency_ns and hold_ok:
                fail("dump frame %d shows 'HOLD: emergency' %.3f s before the emergency" % (
                    f, (emergency_ns - t) / 1e9))
            hold_shown += hold_ok
        print("overlay: %d frames, REC in %d, HOLD: emergency in %d" % (len(overlay), rec_shown, hold_shown))
        if hold_shown < 3:
            fail("overlay: 'HOLD: emergency' in only %d dumped frames" % hold_shown)

    # (c) haptics
    sync = db.execute("select min(t_ns) from events where kind = 'xr_session_state' and detail = 'SYNCHRONIZED'"
                      ).fetchone()[0]
    pulses = {"left": [], "right": []}
    with open(haptics_log) as fp:
        for line in fp:
            p = line.split()
            if p[0] == "apply":
                pulses[p[3].rsplit("/", 1)[-1]].append(int(p[1]))
    left = [(t - sync) / 1e9 for t in pulses["left"]]
    right = [(t - sync) / 1e9 for t in pulses["right"]]
    emergency_s = (emergency_ns - sync) / 1e9
    print("haptics: left pulses at %s s, right at %s s (stream time; emergency at %.2f s)" % (
        " ".join("%.2f" % t for t in left), " ".join("%.2f" % t for t in right), emergency_s))
    # Holds pulse both controllers once at their start: the emergency, any
    # hold the episode records (operator input or robot state stale, as on a
    # loaded machine), the session's start (no input yet).
    hold_starts = [0.0] + [(t - sync) / 1e9 for k in ("emergency_hold", "input_stale", "robot_state_stale")
                           for t, _ in events(db, k)]

    def at_hold(t):
        return any(0 <= t - h < 0.3 for h in hold_starts)
    # The left arm is pushed into its limits from 1 s: repeating pulses (no
    # hold explains them), at most one per haptics_interval; none before.
    limits = [t for t in left if not at_hold(t)]
    if len([t for t in limits if t > MOTION_OUT_S]) < 3:
        fail("haptics: left pulses at %s s: %d of them after the arm moves out at %g s and not at the start of a "
             "hold (at %s s), want >= 3" % (["%.3f" % t for t in left], len(limits), MOTION_OUT_S,
                                            ["%.3f" % h for h in sorted(hold_starts)]))
    if [t for t in limits if t <= MOTION_OUT_S]:
        fail("haptics: left pulses before the arm moves: %s" % [t for t in limits if t <= MOTION_OUT_S])
    close = [(a, b) for a, b in zip(limits, limits[1:]) if b - a < HAPTICS_INTERVAL_S - 0.002]
    if close:
        fail("haptics: left pulses closer than %g s: %s" % (HAPTICS_INTERVAL_S, close))
    # The right arm stays in front: its controller pulses only at holds.
    stray = [t for t in right if not at_hold(t)]
    if stray:
        fail("haptics: right pulses at %s s, not at the start of a hold (holds start at %s s)" % (
            ["%.3f" % t for t in stray], ["%.3f" % h for h in sorted(hold_starts)]))
    # the emergency starts a hold, unless one (input stale) began just before it
    hold_on = [h for h in hold_starts if 0 < emergency_s - h < 0.5 and h > 0]
    if len([t for t in right if 0 <= t - emergency_s < 0.3]) != 1 and \
            not any(0 <= t - h < 0.3 for h in hold_on for t in right):
        fail("haptics: right pulses at %s s, want one at the emergency hold (%.2f s)" % (right, emergency_s))
    if counts:
        print("stream: %d rows, new frames shown: %s" % (len(rows), counts))


def mirror(episode, png, exe):
    """The mirror's screenshot: each camera panel, at the place PNG.txt gives,
    equals the camera frame PNG.txt says it shows, pixel for pixel."""
    lines, what = [], []
    with open(png + ".txt") as f:
        header = f.readline().split()
        if header != ["panel", "x", "y", "width", "height", "camera", "frame"]:
            fail("mirror: %s.txt header %s" % (png, header))
            return
        panels = [l.split() for l in f if l.strip()]
    for p in panels:
        if p[0] == "overlay":
            continue
        lines.append("%s %s %s %s %s" % (png, p[5], p[6], p[1], p[2]))
        what.append("mirror %s panel (%s frame %s)" % (p[0], p[5], p[6]))
    if sorted(p[0] for p in panels) != ["head", "overlay", "wrist_left"]:
        fail("mirror: panels %s, want head, wrist_left and the overlay" % [p[0] for p in panels])
    out = pixels(exe, ["camera", episode], lines)
    for w, o in zip(what, out or []):
        if o != "ok":
            fail("%s: %s" % (w, o))
    if out:
        print("mirror: %d camera panels compared, %d equal" % (len(out), out.count("ok")))


def loss(episode, dump, exe):
    db = open_db(episode)
    rows = view_rows(db)
    if not rows:
        fail("loss: no headset_view rows before the loss")
        return
    started = events(db, "headset_view_started")
    if len(started) != 1 or not all(w in started[0][1] for w in ("stereo head right", "world-locked")):
        fail("loss: headset_view_started %s, want one with the layout (stereo head right, world-locked)" % started)
    lost = events(db, "xr_session_lost")
    if not lost:
        fail("loss: no xr_session_lost event")
        return
    after = [t for _, t, _ in rows if t > lost[0][0] + 100e6]
    if after:
        fail("loss: %d headset_view rows more than 0.1 s after the session was lost" % len(after))
    # Stereo, world-locked: the left eye's quad, the right eye's, the wrist
    # panel in the base space, the overlay last; each eye its camera's frame.
    by_frame = {f: v for f, _, v in rows}
    frames = read_index(dump)
    lines = []
    for f, layers in sorted(frames.items()):
        v = by_frame.get(f)
        if v is None:
            continue
        if len(layers) != 4:
            continue  # a panel waits for its camera's first frame
        got = [(l["space"] in ("stage", "local"), l["eye"]) for l in layers[:3]]
        if got != [(True, "left"), (True, "right"), (True, "both")] or layers[3]["eye"] != "both":
            fail("loss: dump frame %d: layers %s, want left eye, right eye, wrist in stage or local, then the "
                 "overlay" % (f, [(l["space"], l["eye"]) for l in layers]))
            continue
        lines.append("%s head %d" % (layers[0]["file"], v["head_frame"]))
        lines.append("%s right %d" % (layers[1]["file"], v["head_right_frame"]))
        lines.append("%s wrist %d" % (layers[2]["file"], v["wrist_left_frame"]))
    if not lines:
        fail("loss: no dumped frame shows both eyes and the wrist panel")
        return
    out = pixels(exe, ["camera", episode], lines)
    for l, o in zip(lines, out or []):
        if o != "ok":
            fail("loss: %s: %s" % (l, o))
    print("loss: %d rows, the last %.3f s after the loss event; %d stereo and wrist layers compared, %d equal" % (
        len(rows), (rows[-1][1] - lost[0][0]) / 1e9, len(lines), (out or []).count("ok")))


def main():
    a = sys.argv[1:]
    if len(a) == 7 and a[0] == "session":
        session(a[1], a[2], int(a[3]), a[4], a[5], a[6])
    elif len(a) == 4 and a[0] == "mirror":
        mirror(a[1], a[2], a[3])
    elif len(a) == 4 and a[0] == "loss":
        loss(a[1], a[2], a[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
