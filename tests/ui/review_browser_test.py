"""teleop review, browser and tagging, under Xvfb with real X input:
(a) the browser over a fixture folder shows its episodes with their tags,
ratings, verdicts and QA flags (screenshot against a committed reference,
and pixel checks of known cells); (b) a verdict, a rating, a tag and a note
typed with xdotool (Chinese text and ★ included) are in the episode's
database at once; undo and redo write the earlier states back; a mouse
click selects a row; a change to an episode locked by a recorder is refused
visibly and changes nothing; the help overlay lists the keys.
Usage: review_browser_test.py TELEOP REVIEW_FIXTURE REF_DIR OUT_DIR
REVIEW_UPDATE_REFERENCES=1 rewrites the reference PNGs (docs/review.md)."""
import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from review_driver import App, check, color_pixels, compare_reference  # noqa: E402

teleop, fixture, ref_dir, out_dir = sys.argv[1:5]
update = os.environ.get("REVIEW_UPDATE_REFERENCES") == "1"
os.makedirs(out_dir, exist_ok=True)
work = tempfile.mkdtemp(prefix="review-browser-")
folder = os.path.join(work, "recordings")
subprocess.run([fixture, folder], check=True, stdout=subprocess.DEVNULL)
names = sorted(n for n in os.listdir(folder) if n.endswith(".db"))
newest = os.path.join(folder, names[-1])  # the browser's first row: sorted by date, newest first
middle = os.path.join(folder, names[1])


def meta(path, key):
    with sqlite3.connect("file:%s?mode=ro" % path, uri=True) as db:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None


def tags(path):
    with sqlite3.connect("file:%s?mode=ro" % path, uri=True) as db:
        return [r[0] for r in db.execute("SELECT name FROM tags ORDER BY name")]


def notes(path):
    with sqlite3.connect("file:%s?mode=ro" % path, uri=True) as db:
        return [r[0] for r in db.execute("SELECT text FROM notes ORDER BY id")]


app = App(teleop, [folder, "--reviewer", "审阅 lab"])
rects, _ = app.where()
rows = [rects["row%d" % i] for i in range(3)]
check([r[4] for r in rows] == names[::-1], "three rows, newest first: %s" % [r[4] for r in rows])
cols = {r[4]: r for k, r in rects.items() if k.startswith("column")}

# (a) the table
img = app.shot(os.path.join(out_dir, "browser.png"))
compare_reference(img, os.path.join(ref_dir, "review-browser.png"), update, "browser")


def cell(col, row):
    c, r = cols[col], rows[row]
    return (c[0], r[1], c[2], r[3])


ORANGE, GREEN, RED, BLUE, GOLD = (0xff, 0xb0, 0x2e), (0x3e, 0xcf, 0x6e), (0xff, 0x5c, 0x5c), (0x8a, 0xb4, 0xff), (
    0xff, 0xd4, 0x79)
check(color_pixels(img, cell("QA flags", 1), ORANGE) > 150, "row 2 shows its QA flags (orange text)")
check(color_pixels(img, cell("QA flags", 2), GREEN) > 60, "row 3 shows 'clean' (green text)")
check(color_pixels(img, cell("QA flags", 0), ORANGE) == 0, "row 1 (QA never run) shows no flag")
check(color_pixels(img, cell("verdict", 1), RED) > 40, "row 2: failure verdict (red)")
check(color_pixels(img, cell("verdict", 2), GREEN) > 40, "row 3: success verdict (green)")
check(color_pixels(img, cell("tags", 2), BLUE) > 100, "row 3 shows its tags")
check(color_pixels(img, cell("rating", 2), GOLD) > 3 * color_pixels(img, cell("rating", 1), GOLD) / 2 > 0,
      "row 3 (4 stars) has more gold than row 2 (2 stars)")
check(color_pixels(img, cell("task", 1), (0xe6, 0xe6, 0xe6)) > 80, "row 2's Chinese task is drawn")

# (b) tagging the selected (first) episode with the keyboard
app.key("s")
check(meta(newest, "review_verdict") == "success", "s: review_verdict success in the file")
app.key("4")
check(meta(newest, "rating") == "4", "4: rating 4 in the file")
app.key("t")
app.type("抓取")
app.key("Return")
check(tags(newest) == ["抓取"], "t 抓取 Enter: the tag is in the file (%s)" % tags(newest))
note = "grip ★ 抓取 ok"
app.key("n")
app.type(note)
img = app.shot(os.path.join(out_dir, "browser-note-typing.png"))
app.key("Return")
check(notes(newest) == [note], "n …: the note typed with xdotool is in the file (%s)" % notes(newest))
check(meta(newest, "reviewer") == "审阅 lab", "--reviewer stored as meta reviewer (%s)" % meta(newest, "reviewer"))
app.key("ctrl+z")
check(notes(newest) == [], "ctrl+z: the note is gone from the file")
app.key("ctrl+z")
check(tags(newest) == [], "ctrl+z again: the tag is gone")
app.key("ctrl+y")
check(tags(newest) == ["抓取"], "ctrl+y: the tag is back")
app.key("ctrl+shift+z")
check(notes(newest) == [note], "ctrl+shift+z: the note is back")

# mouse: click the middle row, rate it
x, y, w, h, _ = rows[1]
app.click(x + 300, y + h // 2)
app.key("3")
check(meta(middle, "rating") == "3", "click on row 2, then 3: that episode's rating is 3")

# refused while a recorder holds the episode's lock
with open(middle, "rb") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    app.key("5")
    img = app.shot(os.path.join(out_dir, "browser-refused.png"))
    fcntl.flock(f, fcntl.LOCK_UN)
check(meta(middle, "rating") == "3", "rating unchanged while locked")
bar = (0, img.shape[0] - 28, img.shape[1], 28)
check(color_pixels(img, bar, RED) > 200, "the refusal is shown on the status line (red)")

# an episode appearing in the folder (as a station finishes one) is listed within the second's refresh
shutil.copy(os.path.join(folder, names[0]), os.path.join(folder, "episode-20261201-100000-004.db"))
deadline = time.time() + 10
while True:
    time.sleep(0.3)
    rects, _ = app.where()
    if "row3" in rects or time.time() > deadline:
        break
check("row3" in rects, "a new episode in the folder appears in the browser without a key press")

# help overlay
app.key("h")
img = app.shot(os.path.join(out_dir, "help.png"))
check(color_pixels(img, (0, 0, img.shape[1], img.shape[0]), GOLD, 30) > 2000, "help overlay lists the keys")
app.key("Escape")
img = app.shot(os.path.join(out_dir, "browser-tagged.png"))
app.quit()
if update:
    print("references updated; copy the screenshots for docs from " + out_dir)
shutil.rmtree(work)
