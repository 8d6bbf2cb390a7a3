"""teleop review, player, under Xvfb with real X input: (c) a seek by keys
(shift+→ twice), a frame step (→), a click on the timeline and a click on an
event marker each show the frame of the requested time: the camera region
of the screenshot is compared pixel by pixel with the frame decoded
independently here with libav (PyAV) from the episode's packets; (d) the
joint plots (state lines, limit lines, cursor) and the 3D view (the robot
rendered, moving with time) are drawn; trim in is written at the current
time. Usage: review_player_test.py TELEOP REVIEW_FIXTURE OUT_DIR"""
import bisect
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import av
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from review_driver import App, check, color_pixels  # noqa: E402

teleop, fixture, out_dir = sys.argv[1:4]
os.makedirs(out_dir, exist_ok=True)
work = tempfile.mkdtemp(prefix="review-player-")
folder = os.path.join(work, "recordings")
subprocess.run([fixture, folder], check=True, stdout=subprocess.DEVNULL)
episode = os.path.join(folder, sorted(n for n in os.listdir(folder) if n.endswith(".db"))[0])
db = sqlite3.connect("file:%s?mode=ro" % episode, uri=True)


def decode_camera(name):
    """Every frame of a camera, decoded with libav: (capture times, RGB frames) in seq order."""
    sid, extradata = db.execute("SELECT id, extradata FROM streams WHERE name = ?", (name,)).fetchone()
    rows = db.execute("SELECT seq, pts, t_ns, data FROM video_packets WHERE stream_id = ? ORDER BY seq",
                      (sid,)).fetchall()
    cc = av.CodecContext.create("h264", "r")
    if extradata:
        cc.extradata = extradata
    by_pts = {}
    for seq, pts, t_ns, data in rows:
        pkt = av.Packet(data)
        pkt.pts = pts
        for fr in cc.decode(pkt):
            by_pts[fr.pts] = fr.to_ndarray(format="rgb24")
    for fr in cc.decode(None):
        by_pts[fr.pts] = fr.to_ndarray(format="rgb24")
    return [r[2] for r in rows], [by_pts[r[1]] for r in rows]


start = min(db.execute("SELECT min(t_ns) FROM samples").fetchone()[0],
            db.execute("SELECT min(t_ns) FROM video_packets").fetchone()[0])
end = max(db.execute("SELECT max(t_ns) FROM samples").fetchone()[0],
          db.execute("SELECT max(t_ns) FROM video_packets").fetchone()[0])

app = App(teleop, [episode])
rects, times = app.where()
check(times[0] == start and times[2] == end, "player spans the episode's first to last stamp (%s)" % (times,))
cam = rects["camera0"]
cam_t, cam_frames = decode_camera(cam[4])
fh, fw = cam_frames[0].shape[:2]
zoom = cam[2] // fw
check(zoom >= 1 and cam[2] == fw * zoom and cam[3] == fh * zoom, "camera drawn at a whole-number zoom (%dx)" % zoom)


def shown_frame(img):
    x, y, w, h = cam[:4]
    return img[y:y + h:zoom, x:x + w:zoom].astype(np.int16)


def frame_at(t):
    """The camera's frame at time t: its last frame captured at or before t."""
    return max(bisect.bisect_right(cam_t, t) - 1, 0)


def check_frame(img, t, what):
    k = frame_at(t)
    got = shown_frame(img)
    diffs = {j: float(np.abs(got - cam_frames[j].astype(np.int16)).mean())
             for j in (k - 1, k, k + 1) if 0 <= j < len(cam_frames)}
    others = [d for j, d in diffs.items() if j != k]
    check(diffs[k] < 2.0 and all(diffs[k] * 3 < d for d in others),
          "%s: the camera shows frame %d of t=%.3f s (mean difference %.2f; neighbours %s)" % (
              what, k, (t - start) / 1e9, diffs[k], ", ".join("%.2f" % d for d in others)))


# (c) seek with the keyboard
app.key("shift+Right", "shift+Right")
rects, times = app.where()
target = start + 2_000_000_000
check(times[1] == target, "shift+→ twice: time is start + 2 s (%d)" % (times[1] - start))
img = app.shot(os.path.join(out_dir, "player-seek.png"))
check_frame(img, target, "seek 2 s")

# one frame forward
app.key("Right")
_, times = app.where()
k = frame_at(target)
check(times[1] == cam_t[k + 1], "→: time is the next frame's capture time")
check_frame(app.shot(os.path.join(out_dir, "player-step.png")), times[1], "step")

# a click on the timeline, away from event markers and frame boundaries
tl = rects["timeline"]
events = [r[0] for r in db.execute("SELECT t_ns FROM events")]
span = end - start


def x_to_t(x):
    f = min(max((x - tl[0]) / tl[2], 0.0), 1.0)
    return start + round(f * span)


def x_of(t):
    return tl[0] + (t - start) / span * tl[2]


cx = None
for x in range(tl[0] + tl[2] // 4, tl[0] + tl[2] * 3 // 4):
    t = x_to_t(x)
    k = frame_at(t)
    if (all(abs(x_of(e) - x) > 8 for e in events) and t - cam_t[k] > 4_000_000 and k + 1 < len(cam_t)
            and cam_t[k + 1] - t > 4_000_000 and abs(t - target) > 300_000_000):
        cx = x
        break
app.click(cx, tl[1] + tl[3] // 2)
_, times = app.where()
check(abs(times[1] - x_to_t(cx)) <= span / tl[2], "click on the timeline at x=%d seeks to %.3f s" % (
    cx, (times[1] - start) / 1e9))
check_frame(app.shot(os.path.join(out_dir, "player-click.png")), times[1], "timeline click")

# a click on an event marker jumps to the event exactly
clamp_t = db.execute("SELECT t_ns FROM events WHERE kind = 'safety_position_clamp'").fetchall()[0][0]
db.close()  # an open read would block the app's write below
app.click(round(x_of(clamp_t)) + 2, tl[1] + tl[3] // 2)
_, times = app.where()
check(times[1] == clamp_t, "click beside the clamp marker jumps to the clamp's time")
img = app.shot(os.path.join(out_dir, "player.png"))
check_frame(img, clamp_t, "event jump")

# (d) plots: state lines, joint limits, the cursor at the current time
plots = rects["plots"]
check(color_pixels(img, plots, (0x4c, 0x9d, 0xff), 30) > 2000, "joint plots: state lines drawn")
check(color_pixels(img, plots, (0xd3, 0x3b, 0x3b), 30) > 2000, "joint plots: limit lines drawn")
px = plots[0] + 2 + int((clamp_t - start) / span * (plots[2] / 7 - 4 - 4))
col = img[plots[1] + 20:plots[1] + plots[3] - 20, px - 3:px + 4]
check(int((col.min(axis=2) > 240).sum()) > 100, "joint plots: the cursor at the current time")

# (d) 3D view: a rendered scene that follows the recorded state
sc = rects["scene"]
scene_a = img[sc[1]:sc[1] + sc[3], sc[0]:sc[0] + sc[2]].astype(np.int16)
colours = len(np.unique(scene_a.reshape(-1, 3), axis=0))
check(colours > 200, "3D view: a rendered scene (%d colours)" % colours)
app.key("End")
img2 = app.shot(os.path.join(out_dir, "player-end.png"))
scene_b = img2[sc[1]:sc[1] + sc[3], sc[0]:sc[0] + sc[2]].astype(np.int16)
moved = int((np.abs(scene_a - scene_b).max(axis=2) > 40).sum())
check(moved > 200, "3D view: the robot moves with the recorded state (%d pixels changed)" % moved)

# trim in at the current time, written into the episode
app.key("Home", "shift+Right")
app.key("i")
with sqlite3.connect("file:%s?mode=ro" % episode, uri=True) as d2:
    trim = d2.execute("SELECT value FROM meta WHERE key = 'trim_in_ns'").fetchone()
check(trim and int(trim[0]) == start + 1_000_000_000, "i: trim_in_ns is the current time (%s)" % (trim,))

app.key("ctrl+z")
with sqlite3.connect("file:%s?mode=ro" % episode, uri=True) as d2:
    gone = d2.execute("SELECT value FROM meta WHERE key = 'trim_in_ns'").fetchall()
check(gone == [], "ctrl+z in the player: trim_in_ns removed again")

# play for a moment
app.key("space")
app.key("space")
_, times = app.where()
check(times[1] > start + 1_000_000_000, "space plays, space pauses (time advanced to %.3f s)" % (
    (times[1] - start) / 1e9))
app.quit()
shutil.rmtree(work)
