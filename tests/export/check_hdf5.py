#!/usr/bin/python3
"""teleop export --check on HDF5 datasets: two 1 s episodes recorded with
`teleop run` (64x48 camera) exported as ALOHA (raw and --compress) and
robomimic must pass, and so must files written by h5py alone (variable-length
mask strings, numpy bool and int attributes: "anyone's" files). Then copies
are damaged with h5py, one damage each, and each must be caught with its own
message, as exactly one problem, exit status 1.

    check_hdf5.py TELEOP [RECORDER]

RECORDER (default TELEOP) records the episodes and exports them (a
sanitizer build of the check can be run on files a complete build made).
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

TELEOP = sys.argv[1]
RECORDER = sys.argv[2] if len(sys.argv) > 2 else TELEOP
failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL:', msg)


def run(args, status=0):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != status:
        print(r.stdout, r.stderr)
        fail(f'{" ".join(args)}: exit {r.returncode}, expected {status}')
    return r


tmp = tempfile.mkdtemp(prefix='teleop-check-hdf5-')
config = os.path.join(tmp, 'station.ini')
with open(config, 'w') as f:
    f.write('[camera]\nwidth = 64\nheight = 48\nfps = 30\n')
rec = os.path.join(tmp, 'rec')
for task in ('one', 'two'):
    run([RECORDER, 'run', '--config', config, '--duration', '1', '--out', rec, '--task', task])
aloha = os.path.join(tmp, 'aloha')
alohaz = os.path.join(tmp, 'alohaz')
robo = os.path.join(tmp, 'robo.hdf5')
# --allow-offgrid: a frame dropped on a loaded machine must not stop the
# test (robomimic then lists the episode in mask/offgrid, checked too)
for layout, out, extra in (('aloha', aloha, []), ('aloha', alohaz, ['--compress']), ('robomimic', robo, [])):
    run([RECORDER, 'export', rec, '--format', 'hdf5', '--layout', layout, '--allow-offgrid', '-o', out] + extra)
if failures:
    sys.exit(1)  # nothing to check


def check(path, status, want=None, problems=None):
    """teleop export --check PATH: exit status, a line containing `want`, and
    the number of problem lines (notes aside, the summary aside)."""
    r = subprocess.run([TELEOP, 'export', '--check', path], capture_output=True, text=True)
    lines = [l for l in r.stdout.splitlines() if l and not l.startswith('note:')]
    ok = r.returncode == status
    if want is not None:
        ok = ok and any(want in l for l in lines)
    if problems is not None:
        ok = ok and len(lines) - 1 == problems
    if not ok:
        fail(f'--check {path}: exit {r.returncode} (expected {status}), expected "{want}" as '
             f'{problems} problem(s) in:\n{r.stdout}{r.stderr}')
    else:
        print(f'ok: --check {os.path.basename(path)} -> {r.returncode}: {want or lines[-1]}')
    return r


# ---- valid datasets ----
check(aloha, 0, 'HDF5 ALOHA, 2 files: valid', 0)
check(alohaz, 0, 'HDF5 ALOHA, 2 files: valid', 0)
check(os.path.join(aloha, 'episode_1.hdf5'), 0, 'HDF5 ALOHA, 1 file: valid', 0)
check(robo, 0, 'HDF5 robomimic, 1 file: valid', 0)
with h5py.File(robo) as f:
    T0 = int(f['data/demo_0'].attrs['num_samples'])
with h5py.File(os.path.join(aloha, 'episode_0.hdf5')) as f:
    TA = f['observations/qpos'].shape[0]

# written by h5py alone, not by teleop
hand = os.path.join(tmp, 'hand.hdf5')
with h5py.File(hand, 'w') as f:
    d = f.create_group('data')
    d.attrs['total'] = np.int32(7)
    d.attrs['env_args'] = '{"env_name": "Lift", "env_type": 1, "env_kwargs": {}}'
    for name, n in (('demo_0', 3), ('demo_1', 4)):
        g = d.create_group(name)
        g.attrs['num_samples'] = n
        g['actions'] = np.zeros((n, 7), np.float32)
        g['states'] = np.zeros((n, 32))
        g['rewards'] = np.zeros(n)
        g['dones'] = np.array([0] * (n - 1) + [1], np.int64)
        g['obs/object'] = np.zeros((n, 10))
        g['obs/agentview_image'] = np.zeros((n, 8, 8, 3), np.uint8)
    f['mask/train'] = np.array([b'demo_0'], 'S')
    f.create_dataset('mask/valid', data=['demo_1'], dtype=h5py.string_dtype())
check(hand, 0, 'HDF5 robomimic, 1 file: valid', 0)
handa = os.path.join(tmp, 'handaloha')
os.mkdir(handa)
with h5py.File(os.path.join(handa, 'episode_0.hdf5'), 'w') as f:
    f.attrs['sim'] = True
    f.attrs['compress'] = False
    f['observations/qpos'] = np.zeros((5, 14))
    f['observations/qvel'] = np.zeros((5, 14))
    f['observations/images/top'] = np.zeros((5, 4, 6, 3), np.uint8)
    f['observations/images/left_wrist'] = np.zeros((5, 4, 6, 3), np.uint8)
    f['action'] = np.zeros((5, 14))
check(handa, 0, 'HDF5 ALOHA, 1 file: valid', 0)


# ---- damaged copies, one damage each ----
def damaged(src, name, edit, file_in_folder='episode_0.hdf5'):
    dst = os.path.join(tmp, name)
    if os.path.isdir(src):
        shutil.copytree(src, dst)
        target = os.path.join(dst, file_in_folder)
    else:
        dst += '.hdf5'
        shutil.copy(src, dst)
        target = dst
    with h5py.File(target, 'r+') as f:
        edit(f)
    return dst


def replace(f, path, data):
    del f[path]
    f[path] = data


def truncate_action(f):
    replace(f, 'action', f['action'][:-1])


def nan_qpos(f):
    q = f['observations/qpos'][()]
    q[3, 2] = np.nan
    f['observations/qpos'][...] = q


def inf_action(f):
    a = f['action'][()]
    a[5, 0] = np.inf
    f['action'][...] = a


def qvel_columns(f):
    replace(f, 'observations/qvel', f['observations/qvel'][:, :-1])


def images_gray(f):
    replace(f, 'observations/images/head_camera', f['observations/images/head_camera'][..., 0])


def drop_sim(f):
    del f.attrs['sim']


check(damaged(aloha, 'a-noaction', lambda f: f.__delitem__('action')), 1, 'episode_0.hdf5: /action: missing', 1)
check(damaged(aloha, 'a-short', truncate_action), 1,
      f'episode_0.hdf5: /observations/qpos: {TA} rows, /action has {TA - 1}', 1)
check(damaged(aloha, 'a-nan', nan_qpos), 1, 'episode_0.hdf5: /observations/qpos: NaN at row 3 column 2', 1)
check(damaged(aloha, 'a-inf', inf_action, 'episode_1.hdf5'), 1,
      'episode_1.hdf5: /action: infinity at row 5 column 0', 1)
check(damaged(aloha, 'a-qvel', qvel_columns), 1, '/observations/qvel: ', 1)
check(damaged(aloha, 'a-gray', images_gray), 1,
      '/observations/images/head_camera: 3-D, expected (T, H, W, 3)', 1)
check(damaged(aloha, 'a-nosim', drop_sim), 1, 'episode_0.hdf5: attribute sim: missing', 1)


def len_too_long(f):
    cl = f['compress_len'][()]
    cl[0, 4] = f['observations/images/head_camera'].shape[1] + 1
    f['compress_len'][...] = cl


def len_too_short(f):
    cl = f['compress_len'][()]
    cl[0, 2] = 20
    f['compress_len'][...] = cl


def soi(f):
    im = f['observations/images/head_camera'][()]
    im[6, 0] = 0
    f['observations/images/head_camera'][...] = im


def len_shape(f):
    replace(f, 'compress_len', f['compress_len'][:, :-1])


W = None
with h5py.File(os.path.join(alohaz, 'episode_0.hdf5')) as f:
    W = f['observations/images/head_camera'].shape[1]
check(damaged(alohaz, 'z-long', len_too_long), 1,
      f'/compress_len: /observations/images/head_camera frame 4: length {W + 1}, the padded width is {W}', 1)
check(damaged(alohaz, 'z-short', len_too_short), 1,
      '/observations/images/head_camera: frame 2: no JPEG EOI (FF D9) within its compress_len 20', 1)
check(damaged(alohaz, 'z-soi', soi), 1,
      '/observations/images/head_camera: frame 6 does not start with a JPEG SOI (FF D8)', 1)
check(damaged(alohaz, 'z-shape', len_shape), 1, '/compress_len: shape (1, ', 1)
check(damaged(alohaz, 'z-nolen', lambda f: f.__delitem__('compress_len')), 1, '/compress_len: missing', 1)


def wrong_total(f):
    f['data'].attrs['total'] = f['data'].attrs['total'] + 1


def bad_mask(f):
    del f['mask']
    f['mask/success'] = np.array([b'demo_0', b'demo_7'], 'S')


def short_actions(f):
    replace(f, 'data/demo_0/actions', f['data/demo_0/actions'][:-1])


def bad_env(f):
    f['data'].attrs['env_args'] = '{"env_name": '


def dones_open(f):
    d = f['data/demo_1/dones'][()]
    d[-1] = 0
    f['data/demo_1/dones'][...] = d


def nan_obs(f):
    o = f['data/demo_1/obs/robot0_joint_pos'][()]
    o[2, 1] = np.nan
    f['data/demo_1/obs/robot0_joint_pos'][...] = o


with h5py.File(robo) as f:
    total = int(f['data'].attrs['total'])
check(damaged(robo, 'r-total', wrong_total), 1,
      f"data: attribute total is {total + 1}, the demos' num_samples add up to {total}", 1)
check(damaged(robo, 'r-mask', bad_mask), 1, 'mask/success: entry 1 "demo_7" names no demo in data', 1)
check(damaged(robo, 'r-actions', short_actions), 1, f'data/demo_0/actions: {T0 - 1} rows, num_samples is {T0}', 1)
check(damaged(robo, 'r-env', bad_env), 1, 'data: attribute env_args is not valid JSON', 1)
check(damaged(robo, 'r-dones', dones_open), 1, 'data/demo_1/dones: last step is 0, expected 1', 1)
check(damaged(robo, 'r-nan', nan_obs), 1, 'data/demo_1/obs/robot0_joint_pos: NaN at row 2 column 1', 1)
check(damaged(robo, 'r-states', lambda f: f.__delitem__('data/demo_0/states')), 1, 'data/demo_0/states: missing', 1)
# A count no file can hold (found by the byte-damage run below under UBSan:
# it overflowed the sum of the demos' counts): one problem for the demo, and
# the total no longer adds up.
check(damaged(robo, 'r-count', lambda f: f['data/demo_1'].attrs.__setitem__('num_samples', np.int64(2**63 - 1))), 1,
      'data/demo_1: attribute num_samples is 9223372036854775807, not a row count', 2)
check(damaged(hand, 'h-vmask', lambda f: replace(f, 'mask/valid', np.array(['demo_9'], dtype=h5py.string_dtype()))),
      1, 'mask/valid: entry 0 "demo_9" names no demo in data', 1)

# not HDF5: one line
text = os.path.join(tmp, 'text.hdf5')
with open(text, 'w') as f:
    f.write('not hdf5\n')
r = check(text, 1, f'{text}: not an HDF5 file', 0)
if r.stdout.count('\n') != 1:
    fail(f'not HDF5: expected one line, got:\n{r.stdout}')

# damaged bytes all over a robomimic and an ALOHA --compress file (every
# k-th byte replaced, 60 runs each, fixed seed): the check never dies, exits
# 0 or 1 and ends with its summary line; a crash inside libhdf5 is one
# problem line. Under a sanitizer, a report whose first teleop frame is in
# check_hdf5.c (not inside libhdf5) fails the test.
def own_fault(stderr):
    for line in stderr.splitlines():
        if 'runtime error' in line and 'check_hdf5.c' in line:
            return True
        if re.match(r'\s+#\d+ ', line):
            if 'check_hdf5.c' in line:
                return True
            if 'libhdf5' in line:
                return False
    return False


rng = random.Random(11)
fuzz = os.path.join(tmp, 'fuzz.hdf5')
for src in (robo, os.path.join(alohaz, 'episode_0.hdf5')):
    data = open(src, 'rb').read()
    for n in range(60):
        b = bytearray(data)
        step = rng.randint(17, 400)
        for i in range(rng.randint(0, step), len(b), step):
            b[i] = rng.randrange(256)
        with open(fuzz, 'wb') as f:
            f.write(b)
        r = subprocess.run([TELEOP, 'export', '--check', fuzz], capture_output=True, text=True, errors='replace',
                           timeout=120)
        last = r.stdout.splitlines()[-1] if r.stdout else ''
        summary = last.startswith(f'{fuzz}: HDF5') or last == f'{fuzz}: not an HDF5 file'
        if r.returncode not in (0, 1) or not summary or own_fault(r.stderr):
            kept = os.path.join(tmp, f'fuzz-{os.path.basename(src)}-{n}.hdf5')
            shutil.copy(fuzz, kept)
            fail(f'damaged bytes ({kept}): exit {r.returncode}, last line "{last}"\n{r.stderr[-3000:]}')
            break
    else:
        print(f'ok: 60 byte-damaged copies of {os.path.basename(src)}: exit 0/1 with a summary each')

if failures:
    print(f'{len(failures)} failure(s); files kept in {tmp}')
    sys.exit(1)
shutil.rmtree(tmp)
print('all HDF5 checks passed')
