"""The bucket catalog against a local S3 server (s3rver): two stations (two
processes) writing 100 entries each into one prefix at once, each also
compacting every 10 rounds, lose none (the listing afterwards has all 200);
a snapshot merged with entries written or changed after it; teleop catalog
s3:// filters; If-None-Match detection (s3rver ignores it).

    bucket_catalog.py TELEOP FLEET_TOOL NODE_DIR EPISODE OTHER_EPISODE"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3rver import Server  # noqa: E402

teleop, tool, node_dir, episode, other = sys.argv[1:6]
srv = Server(node_dir)
env = srv.env()
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print('FAIL:', what)


def run(*args, status=0):
    r = subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=600)
    if r.returncode != status:
        print(r.stdout, r.stderr)
        sys.exit(f'{" ".join(args)}: exit {r.returncode}, expected {status}')
    return r


# s3rver stores a second create of the same key: detected, not relied on
out = run(tool, 'conditional', 's3://fleet/probe').stdout.strip()
check(out == 'conditional 0', f'If-None-Match detection on s3rver: {out}')

# ---- two stations at once, 100 rounds each, compacting as they go ----
url = 's3://fleet/two'
procs = [subprocess.Popen([tool, 'entries', url, st, '100', episode, '10'], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) for st in ('station-a', 'station-b')]
for p in procs:
    o, e = p.communicate(timeout=600)
    check(p.returncode == 0, f'a station writing entries: exit {p.returncode}: {e.strip()}')
r = run(teleop, 'catalog', url, '--json', '--stats')
rows = [json.loads(line) for line in r.stdout.splitlines()]
names = sorted(f'{o["station"]}/{o["name"]}' for o in rows)
want = sorted(f'{st}/ep-{i:03d}.db' for st in ('station-a', 'station-b') for i in range(100))
check(names == want, f'two stations, 100 rounds: {len(rows)} entries listed, {len(set(names))} distinct, expected 200')
check('from snapshot two/_catalog/snapshot-' in r.stderr, f'the listing merged a snapshot: {r.stderr.strip()}')
sha = subprocess.run(['sha256sum', episode], capture_output=True, text=True).stdout.split()[0]
check(all(o['sha256'] == sha and o['key'] == f'two/{o["station"]}/{o["name"]}' for o in rows),
      'entries carry the episode SHA-256 and key')
print(f'two stations: {len(rows)} entries listed after 2 x 100 concurrent rounds; {r.stderr.strip()}')

# ---- snapshot + later entries ----
url = 's3://fleet/merge'
run(tool, 'entries', url, 'st1', '5', episode)
snap = run(tool, 'compact', url, 'st1').stdout.split()
check(snap[2] == '5', f'snapshot of 5 entries: {snap}')
run(tool, 'entries', url, 'st2', '3', episode)
run(tool, 'entries', url, 'st1', '1', other)  # st1/ep-000 changed after the snapshot
out = run(tool, 'read', url).stdout.split()
check(out == ['entries', '8', 'snapshot', '4', 'fetched', '4', 'skipped', '0'],
      f'snapshot merged with 3 new entries and 1 changed: {" ".join(out)}')
rows = {f'{o["station"]}/{o["name"]}': o for o in map(json.loads, run(teleop, 'catalog', url, '--json').stdout.splitlines())}
osha = subprocess.run(['sha256sum', other], capture_output=True, text=True).stdout.split()[0]
check(rows['st1/ep-000.db']['sha256'] == osha and rows['st1/ep-001.db']['sha256'] == sha,
      'the entry changed after the snapshot is read, not the snapshot\'s copy')
# a second snapshot holds all 8; a reader then reads no entry object
run(tool, 'compact', url, 'st2')
out = run(tool, 'read', url).stdout.split()
check(out == ['entries', '8', 'snapshot', '8', 'fetched', '0', 'skipped', '0'], f'after compaction: {" ".join(out)}')

# ---- filters and the table ----
r = run(teleop, 'catalog', url, '--station', 'st2')
lines = r.stdout.splitlines()
check(len(lines) == 4 and lines[0].startswith('DATE') and all('st2/ep-' in l for l in lines[1:]),
      f'--station st2 table: {r.stdout}')
r = run(teleop, 'catalog', url, '--sort', 'name', '--desc', '--json')
got = [f'{o["station"]}/{o["name"]}' for o in map(json.loads, r.stdout.splitlines())]
check(got == sorted(got, reverse=True) and len(got) == 8, f'--sort name --desc: {got}')
r = run(teleop, 'catalog', url, '--verdict', 'none', '--qa-flag', 'unchecked', '--json')
check(len(r.stdout.splitlines()) == 8, 'filters on fields the fixture has: all 8 match')
r = run(teleop, 'catalog', url, '--verdict', 'success', '--json')
check(r.stdout == '', f'--verdict success: none judged: {r.stdout}')
r = run(teleop, 'catalog', url, '--search', 'nothing-matches-this', '--json')
check(r.stdout == '', f'--search with no match: {r.stdout}')
r = run(teleop, 'catalog', 's3://fleet/merge', '--endpoint', 'http://127.0.0.1:1', status=1)
last = r.stderr.strip().splitlines()[-1]
check(last.startswith('teleop catalog: s3 http://127.0.0.1:1: '), f'unreachable endpoint: a last line naming it: {last}')

if failures:
    sys.exit(f'{len(failures)} failure(s)')
print('bucket catalog: ok')
