"""A local S3-compatible server for the fleet tests: npm s3rver (installed
in tests/upload/node by scripts/setup.sh), on loopback, on a free port, in
a temporary folder, with one bucket; stopped at exit."""
import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ACCESS = {'AWS_ACCESS_KEY_ID': 'S3RVER', 'AWS_SECRET_ACCESS_KEY': 'S3RVER', 'AWS_REGION': 'us-east-1'}


def s3rver_js(node_dir):
    js = os.environ.get('TELEOP_S3RVER') or os.path.join(node_dir, 'node_modules', 's3rver', 'bin', 's3rver.js')
    if not os.path.exists(js):
        sys.exit(f'{js}: missing: run scripts/setup.sh (npm ci in tests/upload/node)')
    return js


class Server:
    def __init__(self, node_dir, bucket='fleet'):
        self.dir = tempfile.mkdtemp(prefix='teleop-s3rver-')
        self.bucket = bucket
        self.proc = subprocess.Popen(['node', s3rver_js(node_dir), '-d', self.dir, '-a', '127.0.0.1', '-p', '0',
                                      '--configure-bucket', bucket],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        atexit.register(self.stop)
        deadline = time.monotonic() + 30
        self.port = None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r'listening on 127\.0\.0\.1:(\d+)', line)
            if m:
                self.port = int(m.group(1))
                break
        if not self.port:
            self.stop()
            sys.exit('s3rver did not start')
        self.endpoint = f'http://127.0.0.1:{self.port}'
        # its request log must not fill the pipe
        self.drain = subprocess.Popen(['cat'], stdin=self.proc.stdout, stdout=subprocess.DEVNULL)

    def env(self, **more):
        e = dict(os.environ)
        e.update(ACCESS)
        e['AWS_ENDPOINT_URL'] = self.endpoint
        for k in ('AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3'):
            e.pop(k, None)
        e.update(more)
        return e

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
