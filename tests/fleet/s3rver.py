"""A local S3-compatible server for the fleet tests: npm s3rver (installed
in tests/upload/node by scripts/setup.sh) through the upload tests'
server.mjs, on loopback, on a free port, in a temporary folder, with one
bucket; stopped at exit."""
import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile

ACCESS = {'AWS_ACCESS_KEY_ID': 'S3RVER', 'AWS_SECRET_ACCESS_KEY': 'S3RVER', 'AWS_REGION': 'us-east-1'}


def server_mjs(node_dir):
    if not os.path.isdir(os.path.join(node_dir, 'node_modules', 's3rver')):
        sys.exit(f'{node_dir}/node_modules/s3rver: missing: run scripts/setup.sh (npm ci in tests/upload/node)')
    return os.path.join(node_dir, 'server.mjs')


class Server:
    def __init__(self, node_dir, bucket='fleet'):
        self.dir = tempfile.mkdtemp(prefix='teleop-s3rver-')
        self.bucket = bucket
        self.proc = subprocess.Popen(['node', '--openssl-legacy-provider', server_mjs(node_dir), self.dir, bucket],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     start_new_session=True)
        atexit.register(self.stop)
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            sys.exit(f's3rver did not start: {line}')
        self.port = int(line)
        self.endpoint = f'http://127.0.0.1:{self.port}'

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
