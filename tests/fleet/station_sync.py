"""Station sync against a local S3 server (s3rver): a short `teleop run` with
[upload] ends with the episode in the bucket, byte-identical, and its
catalog entry, and `teleop export s3://…` downloads, verifies and exports
it; a run killed while its upload cannot reach the server leaves a queue
(and, with delete_after_upload, the episode: nothing verified) that the next
run resumes; delete_after_upload removes the local files only once their
upload is verified.

    station_sync.py TELEOP FLEET_TOOL NODE_DIR"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3rver import Server  # noqa: E402

teleop, tool, node_dir = sys.argv[1:4]
srv = Server(node_dir)
env = srv.env()
tmp = tempfile.mkdtemp(prefix='teleop-sync-')
rec = os.path.join(tmp, 'rec')
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print('FAIL:', what)


def config(name, endpoint, delete=False):
    path = os.path.join(tmp, name)
    with open(path, 'w') as f:
        f.write('[camera]\nwidth = 160\nheight = 120\nfps = 30\n'
                f'[upload]\nenabled = true\nurl = "s3://fleet/sync"\nendpoint = "{endpoint}"\nstation = "st1"\n'
                f'delete_after_upload = {"true" if delete else "false"}\nqa_wait = 20\n')
    return path


def run(*args, status=0):
    r = subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    if r.returncode != status:
        print(r.stdout, r.stderr)
        sys.exit(f'{" ".join(args)}: exit {r.returncode}, expected {status}')
    return r


def sha(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def entries():
    r = run(teleop, 'catalog', 's3://fleet/sync', '--json')
    return {o['name']: o for o in map(json.loads, r.stdout.splitlines())}


def bucket_copy(name):
    out = os.path.join(tmp, 'got-' + name)
    run(tool, 'get', 's3://fleet', f'sync/st1/{name}', out)
    return out


queue = os.path.join(rec, '.upload-queue')

# ---- a run with [upload]: episode, catalog entry, export from the bucket ----
r = run(teleop, 'run', '--config', config('up.ini', srv.endpoint), '--duration', '1', '--out', rec, '--task', 'sync one')
ep1 = r.stdout.split('episode: ')[1].split('\n')[0]
name1 = os.path.basename(ep1)
got = bucket_copy(name1)
check(open(got, 'rb').read() == open(ep1, 'rb').read(), f'{name1}: the bucket object is byte-identical')
e = entries().get(name1)
check(e is not None and e['sha256'] == sha(ep1) and e['station'] == 'st1' and e['task'] == 'sync one'
      and e['key'] == f'sync/st1/{name1}' and e['qa_flags'] is not None and e['size_bytes'] == os.path.getsize(ep1),
      f'{name1}: its catalog entry (sha256, station, task, key, QA flags, size): {e}')
check(os.listdir(queue) == [], f'the queue is empty after the run: {os.listdir(queue)}')
check(os.path.exists(ep1), 'without delete_after_upload the episode stays')
cache = os.path.join(tmp, 'cache')
ds = os.path.join(tmp, 'ds')
r = run(teleop, 'export', f's3://fleet/sync/st1/{name1}', '--cache', cache, '--format', 'lerobot', '-o', ds, '--quiet',
        '--allow-offgrid')  # a loaded machine may drop a frame
cached = os.path.join(cache, 'fleet', 'sync', 'st1', name1)
check(os.path.exists(cached) and sha(cached) == sha(ep1), 'export s3://: the cached episode is verified')
r = run(teleop, 'export', '--check', ds)
check(r.stdout.strip().endswith(': valid'), f'export s3:// gives a valid dataset: {r.stdout}')
# a damaged cached copy is not used: downloaded again and verified
with open(cached, 'r+b') as f:
    f.seek(1000)
    f.write(b'\xff')
run(teleop, 'export', 's3://fleet/sync', '--cache', cache, '--format', 'lerobot', '--allow-offgrid', '-o', os.path.join(tmp, 'ds2'),
    '--quiet')
check(sha(cached) == sha(ep1), 'export s3://PREFIX: a damaged cached copy is downloaded again')
print(f'run with upload: {name1} in the bucket, entry, export from s3:// valid')

# ---- killed while the server is unreachable: the queue survives ----
dead = 'http://127.0.0.1:1'
p = subprocess.Popen([teleop, 'run', '--config', config('dead.ini', dead, delete=True), '--duration', '1', '--out',
                      rec, '--task', 'sync two'], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                     stdin=subprocess.DEVNULL, text=True)
line = p.stdout.readline()
check(line.startswith('episode: '), f'the second run kept an episode: {line}')
ep2 = line.split('episode: ')[1].strip()
name2 = os.path.basename(ep2)
deadline = time.monotonic() + 30
job = os.path.join(queue, name2 + '.job')
while time.monotonic() < deadline and not os.path.exists(job):
    time.sleep(0.1)
time.sleep(1.5)  # an upload attempt under way
p.send_signal(signal.SIGKILL)
p.wait()
check(os.path.exists(job), f'a killed run leaves its queue file {job}')
j = json.load(open(job))
check(j['path'] == ep2 and j['state'] == 'queued', f'the queue file reads back: {j}')
check(os.path.exists(ep2), 'delete_after_upload: nothing verified, the episode stays')
check(name2 not in entries(), 'no catalog entry for an episode not uploaded')
saved = os.path.join(tmp, 'saved-' + name2)
shutil.copyfile(ep2, saved)

# ---- the next run resumes it; delete_after_upload after verification ----
r = run(teleop, 'run', '--config', config('del.ini', srv.endpoint, delete=True), '--duration', '1', '--out', rec,
        '--task', 'sync three')
ep3 = r.stdout.split('episode: ')[1].split('\n')[0]
name3 = os.path.basename(ep3)
check(os.listdir(queue) == [], f'the queue is empty after the resuming run: {os.listdir(queue)}')
check(open(bucket_copy(name2), 'rb').read() == open(saved, 'rb').read(),
      f'{name2} (queued by the killed run) uploaded byte-identical')
es = entries()
check(name2 in es and es[name2]['sha256'] == sha(saved), f'{name2}: catalog entry with its SHA-256')
check(name3 in es and es[name3]['task'] == 'sync three', f'{name3}: catalog entry')
check(not os.path.exists(ep2) and not os.path.exists(ep3), 'delete_after_upload: both local files deleted')
got3 = bucket_copy(name3)
check(sha(got3) == es[name3]['sha256'], f'{name3}: the bucket object matches its entry')
check(os.path.exists(ep1), 'an episode uploaded by an earlier run without delete_after_upload stays')
print(f'killed run: {name2} queued, resumed by the next run; delete_after_upload removed {name2} and {name3} '
      'after verification')

# ---- re-record after the upload: the episode leaves the bucket with its entry ----
p = subprocess.Popen([teleop, 'run', '--config', config('rr.ini', srv.endpoint), '--episodes', '0', '--manual',
                      '--out', os.path.join(tmp, 'rr')], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL, text=True)
p.stdin.write('start\n')
p.stdin.flush()
time.sleep(1.5)
p.stdin.write('keep\n')
p.stdin.flush()
line = p.stdout.readline()
name4 = os.path.basename(line.split('episode: ')[1].strip()) if line.startswith('episode: ') else ''
deadline = time.monotonic() + 60
while time.monotonic() < deadline and name4 not in entries():
    time.sleep(0.3)
check(name4 in entries(), f'{name4}: uploaded with its entry before the re-record')
p.stdin.write('rerecord\nquit\n')
p.stdin.close()
out = p.stdout.read()
p.wait(120)
check(f'deleted: ' in out and name4 in out, f'the re-record deleted {name4}: {out}')
r = subprocess.run([tool, 'get', 's3://fleet', f'sync/st1/{name4}', os.path.join(tmp, 'gone')], env=env,
                   capture_output=True, text=True)
check(r.returncode == 1 and 'no such key' in r.stderr and name4 not in entries(),
      f'{name4}: re-recorded after its upload: object and catalog entry removed from the bucket')
print(f're-record: {name4} uploaded, then removed from the bucket with its entry')

# ---- [upload] mistakes: one line naming the file, line and key, nothing run ----
for text, line, msg in [('url = "http://x/y"\n', 3, "[upload] url: 'http://x/y' is not s3://BUCKET/PREFIX"),
                        ('', 2, '[upload] enabled: enabled without url'),
                        ('url = "s3://b/p"\nstation = "a b"\n', 4, "[upload] station: 'a b' is not a station name")]:
    bad = os.path.join(tmp, 'bad.ini')
    with open(bad, 'w') as f:
        f.write('[upload]\nenabled = true\n' + text)
    r = run(teleop, 'run', '--config', bad, '--duration', '1', '--out', os.path.join(tmp, 'never'), status=1)
    check(r.stderr.startswith(f'teleop run: {bad}:{line}: {msg}') and r.stderr.count('\n') == 1
          and not os.path.exists(os.path.join(tmp, 'never')), f'bad [upload]: {r.stderr}')

shutil.rmtree(tmp, ignore_errors=True)
if failures:
    sys.exit(f'{len(failures)} failure(s)')
print('station sync: ok')
