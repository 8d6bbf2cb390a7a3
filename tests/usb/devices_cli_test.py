#!/usr/bin/python3
"""`teleop devices` without hardware.

1. No devices: where this machine has no USB device nodes and no serial
   ports (CI containers), the output is exactly the two lines saying nothing
   was found and what to check (after a "no USB access" line where libusb
   cannot start at all); exit 0. (On a
   machine with USB, that case cannot be staged: it is skipped, said so.)
2. A glove emulator on a pseudo-terminal (os.openpty, posix_openpt
   underneath) sending OpenGloves lines at 100 Hz: `--port /dev/pts/N` lists
   it with its hand, range and line rate and the [glove.*] config lines;
   `--json` parses with Python's json and says the same; `--config FILE`
   probes the [glove.left] port the station config names.
3. A glove port a station holds (flock): said busy, not read; exit 1.
4. A --port that does not exist: its error names the port and says what to
   check; exit 1.
Usage: devices_cli_test.py TELEOP"""
import fcntl
import glob
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tty

TELEOP = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    p = subprocess.run([TELEOP, "devices", *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


class Glove:
    """An OpenGloves glove on a pty: lines of curls A..E and joystick F/G,
    newline-terminated, at rate_hz, and every tenth line the firmware's info
    line "(ZV)n(ZG)n(ZH)n" (hand 0 left, 1 right)."""

    def __init__(self, line, info, rate_hz=100.0):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self.line = line
        self.info = info
        self.period = 1.0 / rate_hz
        self.stop = False
        self.thread = threading.Thread(target=self.send, daemon=True)
        self.thread.start()

    def send(self):
        t = time.monotonic()
        n = 0
        while not self.stop:
            n += 1
            try:
                os.write(self.master, self.info if n % 10 == 0 else self.line)
            except BlockingIOError:
                pass  # nobody reads yet: the buffer is full
            t += self.period
            time.sleep(max(0.0, t - time.monotonic()))

    def close(self):
        self.stop = True
        self.thread.join()
        os.close(self.master)
        os.close(self.slave)


# 1. Nothing plugged in.
serial_ports = glob.glob("/dev/ttyACM*") + glob.glob("/dev/ttyUSB*") + glob.glob("/dev/serial/by-id/*")
if not os.path.exists("/dev/bus/usb") and not serial_ports:
    rc, out, err = run()
    print(out, err)
    check(rc == 0, "no devices: exit 0 (got %d)" % rc)
    lines = out.splitlines()
    # libusb 1.0.26 starts without /dev/bus/usb and finds no device; where
    # it does not start at all, a first line says there is no USB access.
    if lines and lines[0].startswith("USB: "):
        check(lines[0].startswith("USB: no USB access: libusb_init failed ("), "the no-USB-access line: " + lines[0])
        check(lines[0].endswith("is /dev/bus/usb present (a container needs it passed through)?"),
              "the no-USB-access line says what to check: " + lines[0])
        lines = lines[1:]
    check(lines == ["No cameras, gloves or other known devices found.",
                    "Check: the devices are plugged in; you may open them (udev rules, groups plugdev and dialout: "
                    "docs/devices/usb.md)."], "no devices: exactly the nothing-found lines (got %r)" % lines)
    check(err == "", "no devices: nothing on stderr (got %r)" % err)
    rc, out, err = run("--json")
    doc = json.loads(out)
    check(rc == 0 and doc["usb"] == [] and doc["gloves"] == [] and doc["port_errors"] == [] and
          (doc["usb_access"] or doc["usb_error"].startswith("no USB access: ")),
          "no devices, --json: %r" % doc)
else:
    print("SKIP part 1: this machine has USB device nodes or serial ports; 'no devices' cannot be staged here")

# 2. A right-hand 12-bit glove and a left-hand 10-bit glove.
right = Glove(b"A4000B200C300D400E500F2048G2048\n", b"(ZV)1(ZG)0(ZH)1\n")
left = Glove(b"A100B200C300D400E500F512G512\n", b"(ZV)1(ZG)0(ZH)0\n")
try:
    rc, out, err = run("--port", right.path)
    print(out, err)
    check(rc == 0, "pty glove: exit 0 (got %d)" % rc)
    head = [l for l in out.splitlines() if l.startswith("glove on ")]
    check(len(head) == 1, "pty glove: one glove line")
    if head:
        check(head[0].startswith("glove on %s  hand right, 12-bit range, " % right.path), "glove line: " + head[0])
        rate = float(head[0].split(" at ")[1].split(" lines/s")[0])
        check(20 <= rate <= 150, "the line rate (100 Hz sent) comes out %g lines/s" % rate)
    for want in ["    [glove.right]", '    driver = "opengloves"', '    port = "%s"' % right.path, "    baud = 115200"]:
        check(want in out.splitlines(), "pty glove: config line %r" % want)

    rc, out, err = run("--json", "--port", right.path, "--port", left.path)
    check(rc == 0, "--json: exit 0")
    doc = json.loads(out)
    gloves = {g["port"]: g for g in doc["gloves"]}
    check(set(gloves) == {right.path, left.path}, "--json: both gloves (%r)" % list(gloves))
    if right.path in gloves:
        g = gloves[right.path]
        check(g["hand"] == "right" and g["bits"] == 12 and g["max_value"] == 4095 and g["lines"] >= 10,
              "--json right glove: %r" % g)
        check(g["config"] == '[glove.right]\ndriver = "opengloves"\nport = "%s"\nbaud = 115200\n' % right.path,
              "--json right glove config: %r" % g["config"])
    if left.path in gloves:
        g = gloves[left.path]
        check(g["hand"] == "left" and g["bits"] == 10 and g["max_value"] == 1023, "--json left glove: %r" % g)

    with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as f:
        f.write('[glove.left]\nport = "%s"\n' % left.path)
        config = f.name
    rc, out, err = run("--config", config)
    os.unlink(config)
    check(rc == 0 and ("glove on %s  hand left, 10-bit range, " % left.path) in out,
          "--config probes [glove.left] port: rc %d, %s" % (rc, out))
finally:
    right.close()
    left.close()

# 3. A glove a station holds (the glove driver's exclusive flock): not read,
# said busy (probing it would take lines from the station); exit 1.
held = Glove(b"A100B200C300D400E500\n", b"(ZV)1(ZG)0(ZH)0\n")
try:
    lock = os.open(held.path, os.O_RDWR | os.O_NOCTTY)
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    rc, out, err = run("--port", held.path)
    os.close(lock)
    check(rc == 1, "a held port: exit 1 (got %d)" % rc)
    check("port %s: busy (a running station or another program has it)" % held.path in out.splitlines(),
          "a held port is said busy: %s" % out)
    check("glove on " not in out, "a held port is not probed")
finally:
    held.close()

# 4. A port that is not there.
rc, out, err = run("--port", "/dev/ttyACM-not-there")
print(out, err)
check(rc == 1, "a missing --port: exit 1 (got %d)" % rc)
check("port /dev/ttyACM-not-there: No such file or directory (not plugged in?)" in out.splitlines(),
      "a missing --port is named with what to check")
rc, out, err = run("--bogus")
check(rc == 2, "usage error: exit 2 (got %d)" % rc)

if failures:
    print("%d failures" % len(failures))
    sys.exit(1)
print("ok")
