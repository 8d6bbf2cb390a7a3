"""Drives `teleop review` under Xvfb for the ui tests: real X input from
xdotool (keys, typed UTF-8 text, mouse clicks), the app's control FIFO to
wait until that input is processed and drawn ('sync' -> 'idle N'), to take
screenshots and to ask where the player drew its parts ('where')."""
import os
import select
import subprocess
import sys
import tempfile
import time

import av
import numpy as np


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg)


def read_png(path):
    """RGB array (h, w, 3) of a PNG, decoded by libav's PNG decoder."""
    with av.open(path) as c:
        frame = next(c.decode(video=0))
        return frame.to_ndarray(format="rgb24")


class App:
    def __init__(self, teleop, args, size=(1280, 800), env=None):
        self.tmp = tempfile.mkdtemp(prefix="review-test-")
        self.fifo = os.path.join(self.tmp, "control")
        os.mkfifo(self.fifo)
        e = dict(os.environ, TZ="UTC")
        if env:
            e.update(env)
        cmd = [teleop, "review", *args, "--size", "%dx%d" % size, "--control", self.fifo]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=e)
        self.pending = b""
        deadline = time.time() + 30
        self.fd = -1
        while self.fd < 0:
            try:
                self.fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                if self.proc.poll() is not None:
                    fail("teleop review exited with %d before opening its control FIFO" % self.proc.returncode)
                if time.time() > deadline:
                    fail("teleop review did not open its control FIFO")
                time.sleep(0.05)
        self.sync()
        out = subprocess.run(["xdotool", "search", "--sync", "--name", "^teleop review$"], capture_output=True,
                             text=True, timeout=20)
        ids = out.stdout.split()
        if not ids:
            fail("no 'teleop review' window")
        self.wid = ids[0]
        subprocess.run(["xdotool", "windowfocus", "--sync", self.wid], check=True, timeout=20)

    def send(self, line):
        os.write(self.fd, (line + "\n").encode())

    def wait_line(self, prefix, timeout=30):
        deadline = time.time() + timeout
        lines = []
        fd = self.proc.stdout.fileno()
        while time.time() < deadline:
            while b"\n" in self.pending:
                raw, self.pending = self.pending.split(b"\n", 1)
                line = raw.decode()
                lines.append(line)
                if line.startswith("error"):
                    fail("teleop review: " + line)
                if line.startswith(prefix):
                    return line, lines
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    fail("teleop review exited (%s) while waiting for '%s'" % (self.proc.poll(), prefix))
                self.pending += chunk
            elif self.proc.poll() is not None:
                fail("teleop review exited with %d" % self.proc.returncode)
        fail("timed out waiting for '%s'" % prefix)

    def sync(self):
        """Returns once every input sent so far has been processed and drawn."""
        self.send("sync")
        self.wait_line("idle ")

    def shot(self, path):
        self.send("screenshot " + path)
        self.wait_line("screenshot ")
        return read_png(path)

    def where(self):
        self.send("where")
        _, lines = self.wait_line("where end")
        rects, times = {}, None
        for l in lines:
            p = l.split()
            if p[0] == "rect":
                rects[p[1]] = (int(p[2]), int(p[3]), int(p[4]), int(p[5]), " ".join(p[6:]) or None)
            elif p[0] == "time":
                times = tuple(int(v) for v in p[1:4])
        return rects, times

    def key(self, *keys):
        subprocess.run(["xdotool", "key", "--clearmodifiers", "--delay", "40", *keys], check=True, timeout=30)
        self.sync()

    def type(self, text):
        subprocess.run(["xdotool", "type", "--delay", "60", text], check=True, timeout=60)
        self.sync()

    def click(self, x, y):
        subprocess.run(["xdotool", "mousemove", "--window", self.wid, str(x), str(y), "click", "1"], check=True,
                       timeout=30)
        self.sync()

    def quit(self):
        self.send("quit")
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("teleop review did not quit")
        os.close(self.fd)
        check(rc == 0, "teleop review exited with 0 (got %d)" % rc)


def compare_reference(img, ref_path, update, name):
    """Screenshot against a committed reference: same size, at most 0.5 % of
    the pixels off by more than 40 levels, mean difference under 1.5."""
    if update:
        import shutil
        tmp = ref_path + ".new.png"
        av_write_png(img, tmp)
        shutil.move(tmp, ref_path)
        print("updated " + ref_path)
        return
    ref = read_png(ref_path)
    check(ref.shape == img.shape, "%s: screenshot size %s equals the reference's %s" % (name, img.shape, ref.shape))
    d = np.abs(img.astype(np.int16) - ref.astype(np.int16))
    off = float((d.max(axis=2) > 40).mean())
    mean = float(d.mean())
    check(off < 0.005 and mean < 1.5,
          "%s: matches the reference (%.3f %% pixels off, mean difference %.3f)" % (name, off * 100, mean))


def av_write_png(img, path):
    with av.open(path, "w", format="image2") as c:
        s = c.add_stream("png", rate=1)
        s.width, s.height, s.pix_fmt = img.shape[1], img.shape[0], "rgb24"
        for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)


def color_pixels(img, rect, rgb, tol=40):
    """Pixels of img inside rect (x, y, w, h) within tol of rgb in every channel."""
    x, y, w, h = rect[:4]
    crop = img[y:y + h, x:x + w].astype(np.int16)
    return int((np.abs(crop - np.array(rgb, dtype=np.int16)).max(axis=2) <= tol).sum())
