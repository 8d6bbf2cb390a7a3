#!/usr/bin/python3
"""teleop export --format hdf5, end to end: records three short episodes with
`teleop run`, exports them as ALOHA (raw and --compress) and robomimic files,
and reads them with two independent readers: h5dump (structure, dtypes,
shapes, attributes) and h5py (every value). Expected values are computed
here from the episode files alone (sqlite3 + struct, the resampling rule of
docs/export.md implemented again); images are compared with frames decoded
independently from the recorded H.264 by PyAV. Also: determinism (two
exports byte-identical), selection, SIGINT, and random kills during a larger
export (the output is then the old one or the new one, never anything else).

    export_hdf5.py TELEOP [RECORDER]

RECORDER (default TELEOP) is the teleop that records the episodes (a
sanitizer build of the exporter can be checked with episodes recorded by a
complete build).
"""
import hashlib
import json
import math
import os
import random
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import av
import h5py
import numpy as np

TELEOP = sys.argv[1]
RECORDER = sys.argv[2] if len(sys.argv) > 2 else TELEOP
failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL:', msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def run(args, status=0, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != status:
        print(r.stdout, r.stderr)
        fail(f'{" ".join(args)}: exit {r.returncode}, expected {status}')
    return r


tmp = tempfile.mkdtemp(prefix='teleop-hdf5-')
rec = os.path.join(tmp, 'rec')
config = os.path.join(tmp, 'station.ini')
with open(config, 'w') as f:
    f.write('[camera]\nwidth = 160\nheight = 120\nfps = 30\n')
W, H = 160, 120


# ---- the episodes, read independently ----

def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def read_episode(path):
    db = sqlite3.connect(f'file:{path}?mode=ro', uri=True)
    meta = dict(db.execute('select key, value from meta'))
    tags = sorted(r[0] for r in db.execute('select name from tags'))
    streams = {}
    for sid, name, kind, dims, names, rate, extradata in db.execute(
            'select id, name, kind, dims, names, rate_hz, extradata from streams order by id'):
        streams[name] = dict(id=sid, kind=kind, dims=dims, rate=rate, extradata=extradata)
    ep = dict(path=path, meta=meta, tags=tags, streams=streams, samples={}, packets={})
    for name, s in streams.items():
        if s['kind'] == 'camera':
            rows = db.execute('select seq, pts, t_ns, keyframe, data, crc32 from video_packets where stream_id=? '
                              'order by seq', (s['id'],)).fetchall()
            for seq, pts, t, key, data, crc in rows:
                assert zlib.crc32(struct.pack('<qqqqB', s['id'], seq, pts, t, key) + data) == crc
            ep['packets'][name] = [(seq, t, key, data) for seq, pts, t, key, data, crc in rows]
        elif name in ('state', 'action', 'state_velocity', 'sim_objects'):
            rows = db.execute('select seq, t_ns, data, crc32 from samples where stream_id=? order by seq',
                              (s['id'],)).fetchall()
            out = []
            for seq, t, data, crc in rows:
                assert zlib.crc32(struct.pack('<qqq', s['id'], seq, t) + data) == crc
                out.append((t, struct.unpack(f"<{s['dims']}f", data)))
            ep['samples'][name] = out
    db.close()
    return ep


def interpolate(series, t):
    if t <= series[0][0]:
        return list(series[0][1])
    if t >= series[-1][0]:
        return list(series[-1][1])
    lo, hi = 0, len(series) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if series[mid][0] <= t:
            lo = mid
        else:
            hi = mid
    ta, a = series[lo]
    if t == ta:
        return list(a)
    tb, b = series[lo + 1]
    w = (t - ta) / (tb - ta)
    return [f32(x + w * (y - x)) for x, y in zip(a, b)]


def hold(series, t):
    k = 0
    lo, hi = 0, len(series) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if series[mid][0] <= t:
            k = mid
            lo = mid + 1
        else:
            hi = mid - 1
    return list(series[k][1])


def expected(ep):
    """The grid and the resampled streams (docs/export.md: grid anchored on the
    first camera's first frame, t_i = t0 + round(i*1e9/fps); per camera the
    nearest frame; state and sim_objects interpolated, action held)."""
    cams = [n for n, s in ep['streams'].items() if s['kind'] == 'camera']
    ref = cams[0]
    fps = ep['streams'][ref]['rate']
    f = ep['packets'][ref]
    t0 = f[0][1]
    n = len(f)
    grid = [t0 + math.floor(i * 1e9 / fps + 0.5) for i in range(n)]
    seqs = {}
    for c in cams:
        p = ep['packets'][c]
        out, k = [], 0
        for i, t in enumerate(grid):
            while k + 1 < len(p) and abs(p[k + 1][1] - t) <= abs(p[k][1] - t):
                k += 1
            if k != i or abs(p[k][1] - t) > 0.5e9 / fps:
                return None  # a frame dropped while recording: the export refuses it; recorded again
            out.append(p[k][0])
        seqs[c] = out
    st = [interpolate(ep['samples']['state'], t) for t in grid]
    ve = [interpolate(ep['samples']['state_velocity'], t) for t in grid]
    ac = [hold(ep['samples']['action'], t) for t in grid]
    objs = []
    for t in grid:
        o = interpolate(ep['samples']['sim_objects'], t)
        for b in range(0, len(o), 7):
            q = math.sqrt(sum(float(x) * x for x in o[b + 3:b + 7]))
            for j in range(b + 3, b + 7):
                o[j] = f32(o[j] / q)
        objs.append(o)
    return dict(n=n, fps=fps, cams=cams, seqs=seqs, state=np.array(st, dtype=np.float64),
                vel=np.array(ve, dtype=np.float64), action=np.array(ac, dtype=np.float64),
                objs=np.array(objs, dtype=np.float64))


def decode_frames(ep, cam):
    """Every recorded frame of a camera as RGB24, by seq (PyAV, not teleop)."""
    s = ep['streams'][cam]
    ctx = av.CodecContext.create('h264', 'r')
    if s['extradata']:
        ctx.extradata = s['extradata']
    out = {}
    for seq, t, key, data in ep['packets'][cam]:
        pkt = av.Packet(data)
        pkt.pts = seq
        for fr in ctx.decode(pkt):
            out[fr.pts] = fr.to_ndarray(format='rgb24')
    for fr in ctx.decode(None):
        out[fr.pts] = fr.to_ndarray(format='rgb24')
    return out


def record(task):
    r = run([RECORDER, 'run', '--config', config, '--duration', '2', '--out', rec, '--task', task])
    m = re.search(r'^episode: (.*)$', r.stdout, re.M)
    if not m:
        print(r.stdout, r.stderr)
        sys.exit(1)
    return m.group(1)


tasks = ['pick the red cube', 'stack the blocks', 'pick the red cube']
tags = [['success'], ['failure'], ['success', 'red/cube']]
paths, eps, want = [], [], []
for task, tg in zip(tasks, tags):
    for attempt in range(6):
        p = record(task)
        db = sqlite3.connect(p)
        db.executemany('insert into tags(name) values (?)', [(t,) for t in tg])
        db.commit()
        db.close()
        ep = read_episode(p)
        x = expected(ep)
        if x:
            break
        print(f'recorded again (a frame was dropped while recording): {p}')
        os.remove(p)
    else:
        fail('six recordings in a row dropped a frame')
        sys.exit(1)
    paths.append(p)
    eps.append(ep)
    want.append(x)
# the export's order: start time, then path
order = sorted(range(3), key=lambda i: (int(eps[i]['meta']['start_t_ns']) + int(eps[i]['meta']['wall_clock_offset_ns']),
                                        paths[i]))
paths = [paths[i] for i in order]
eps = [eps[i] for i in order]
want = [want[i] for i in order]
tags = [tags[i] for i in order]
CAM = want[0]['cams'][0]
decoded = [decode_frames(ep, CAM) for ep in eps]


# ---- h5dump: structure, dtypes, shapes, attributes ----

def h5dump(path):
    r = run(['h5dump', '-H', '-A', path])
    return r.stdout


def dump_has(text, where, pattern):
    check(re.search(pattern, text, re.S), f'{where}: h5dump shows no {pattern!r}')


# JPEG quality 50 in libjpeg's scale (cv2's IMWRITE_JPEG_QUALITY) is the
# standard luminance table of ITU T.81 Annex K unscaled; DQT stores it in zigzag order.
ANNEX_K_LUMA = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
                14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
                49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
ZIGZAG = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
          21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53,
          60, 61, 54, 47, 55, 62, 63]


def luma_table(jpeg):
    k = 2
    while k + 4 <= len(jpeg) and jpeg[k] == 0xFF:
        marker, length = jpeg[k + 1], jpeg[k + 2] << 8 | jpeg[k + 3]
        if marker == 0xDB and jpeg[k + 4] == 0x00:  # 8-bit table 0
            return list(jpeg[k + 5:k + 5 + 64])
        k += 2 + length
    return None


ENUM_BOOL = r'H5T_ENUM \{\s*H5T_STD_I8LE;\s*"FALSE"\s*0;\s*"TRUE"\s*1;\s*\}'


def image_diff(got, exp):
    d = np.abs(got.astype(np.int16) - exp.astype(np.int16))
    return float(d.mean()), int(d.max())


# ---- ALOHA raw ----
out = os.path.join(tmp, 'out')
os.makedirs(out)
aloha = os.path.join(out, 'aloha')
r = run([TELEOP, 'export', *paths, '--format', 'hdf5', '--layout', 'aloha', '-o', aloha])
check(sorted(os.listdir(aloha)) == [f'episode_{i}.hdf5' for i in range(3)], f'aloha files: {os.listdir(aloha)}')
worst = (0.0, 0)
for i, (ep, x) in enumerate(zip(eps, want)):
    p = os.path.join(aloha, f'episode_{i}.hdf5')
    d = h5dump(p)
    n = x['n']
    dump_has(d, p, r'ATTRIBUTE "sim" \{\s*DATATYPE\s*' + ENUM_BOOL + r'\s*DATASPACE\s*SCALAR\s*DATA \{\s*\(0\): TRUE')
    dump_has(d, p, r'ATTRIBUTE "compress" \{\s*DATATYPE\s*' + ENUM_BOOL + r'\s*DATASPACE\s*SCALAR\s*DATA \{\s*\(0\): FALSE')
    dump_has(d, p, r'DATASET "action" \{\s*DATATYPE\s*H5T_IEEE_F64LE\s*DATASPACE\s*SIMPLE \{ \( %d, 28 \)' % n)
    dump_has(d, p, r'DATASET "qpos" \{\s*DATATYPE\s*H5T_IEEE_F64LE\s*DATASPACE\s*SIMPLE \{ \( %d, 28 \)' % n)
    dump_has(d, p, r'DATASET "qvel" \{\s*DATATYPE\s*H5T_IEEE_F64LE\s*DATASPACE\s*SIMPLE \{ \( %d, 28 \)' % n)
    dump_has(d, p, r'DATASET "%s" \{\s*DATATYPE\s*H5T_STD_U8LE\s*DATASPACE\s*SIMPLE \{ \( %d, %d, %d, 3 \)' % (CAM, n, H, W))
    with h5py.File(p, 'r') as f:
        check(f.attrs['sim'] is np.True_ or f.attrs['sim'] == True, f'{p}: sim = {f.attrs["sim"]!r}')  # noqa: E712
        check(f.attrs['sim'].dtype == np.bool_, f'{p}: sim dtype {f.attrs["sim"].dtype}')
        check(not f.attrs['compress'], f'{p}: compress = {f.attrs["compress"]!r}')
        check(sorted(f.keys()) == ['action', 'observations'], f'{p}: root {list(f.keys())}')
        check(sorted(f['observations'].keys()) == ['images', 'qpos', 'qvel'], f'{p}: observations {list(f["observations"].keys())}')
        for key, exp in (('observations/qpos', x['state']), ('observations/qvel', x['vel']), ('action', x['action'])):
            got = f[key][()]
            check(got.dtype == np.float64 and got.shape == exp.shape, f'{p}: {key} {got.dtype} {got.shape}')
            if got.shape == exp.shape:
                bad = np.argwhere(got != exp)
                check(len(bad) == 0, f'{p}: {key}: {len(bad)} values differ, first at {bad[:1].tolist()}')
        img = f[f'observations/images/{CAM}']
        check(img.chunks == (1, H, W, 3), f'{p}: image chunks {img.chunks}')
        check(img.compression == 'gzip', f'{p}: image compression {img.compression}')
        check(f['action'].compression == 'gzip', f'{p}: action compression {f["action"].compression}')
        frames = img[()]
        for k in range(n):
            ref = decoded[i][x['seqs'][CAM][k]]
            mean, mx = image_diff(frames[k], ref)
            worst = max(worst, (mean, mx))
            # the same frame converted to RGB by two libswscale users: at most rounding apart
            if not check(mx <= 1, f'{p}: frame {k}: mean |diff| {mean:.3f}, max {mx} from PyAV'):
                break
        # the comparison tells frames apart: a frame 5 later is far from the grid's
        mid = x['seqs'][CAM][n // 2]
        check(image_diff(frames[n // 2], decoded[i][mid + 5])[1] > 1,
              f'{p}: recorded frames {mid} and {mid + 5} are alike: a wrong frame would pass')
print(f'aloha raw: images vs PyAV: worst mean |diff| {worst[0]:.3f}, max {worst[1]}')

# determinism: the same input gives the same bytes
aloha2 = os.path.join(out, 'aloha2')
run([TELEOP, 'export', *paths, '--format', 'hdf5', '--layout', 'aloha', '-o', aloha2, '--quiet'])
for i in range(3):
    a = open(os.path.join(aloha, f'episode_{i}.hdf5'), 'rb').read()
    b = open(os.path.join(aloha2, f'episode_{i}.hdf5'), 'rb').read()
    check(a == b, f'episode_{i}.hdf5: two exports differ')

# ---- ALOHA compressed (JPEG) ----
alohaj = os.path.join(out, 'alohaj')
run([TELEOP, 'export', *paths, '--format', 'hdf5', '--layout', 'aloha', '--compress', '-o', alohaj])
jworst = (0.0, 0)
for i, (ep, x) in enumerate(zip(eps, want)):
    p = os.path.join(alohaj, f'episode_{i}.hdf5')
    d = h5dump(p)
    n = x['n']
    dump_has(d, p, r'ATTRIBUTE "compress" \{\s*DATATYPE\s*' + ENUM_BOOL + r'\s*DATASPACE\s*SCALAR\s*DATA \{\s*\(0\): TRUE')
    dump_has(d, p, r'DATASET "compress_len" \{\s*DATATYPE\s*H5T_IEEE_F32LE\s*DATASPACE\s*SIMPLE \{ \( 1, %d \)' % n)
    dump_has(d, p, r'DATASET "%s" \{\s*DATATYPE\s*H5T_STD_U8LE\s*DATASPACE\s*SIMPLE \{ \( %d, \d+ \)' % (CAM, n))
    with h5py.File(p, 'r') as f:
        check(bool(f.attrs['compress']), f'{p}: compress = {f.attrs["compress"]!r}')
        lens = f['compress_len'][()]
        data = f[f'observations/images/{CAM}'][()]
        check(data.ndim == 2 and data.shape[1] == int(lens.max()), f'{p}: padded width {data.shape} vs {lens.max()}')
        for key, exp in (('observations/qpos', x['state']), ('action', x['action'])):
            check(np.array_equal(f[key][()], exp), f'{p}: {key} differs')
        dec = av.CodecContext.create('mjpeg', 'r')
        for k in range(n):
            L = int(lens[0, k])
            row = data[k]
            ok = check(row[0] == 0xFF and row[1] == 0xD8 and row[L - 2] == 0xFF and row[L - 1] == 0xD9 and
                       not row[L:].any(), f'{p}: frame {k}: not one JPEG of compress_len bytes, zero-padded')
            if not ok:
                break
            if k == 0:
                check(luma_table(bytes(row[:L])) == [ANNEX_K_LUMA[z] for z in ZIGZAG],
                      f'{p}: the JPEG luminance table is not quality 50')
            frs = dec.decode(av.Packet(bytes(row[:L])))
            # encoded as cv2.imencode takes an array (B,G,R): a standard decoder shows the channels reversed
            pic = frs[0].to_ndarray(format='rgb24')[:, :, ::-1]
            ref = decoded[i][x['seqs'][CAM][k]]
            mean, mx = image_diff(pic, ref)
            jworst = max(jworst, (mean, mx))
            # quality 50 loses detail (about 4 levels on average here), but the
            # picture is that frame's, nearer to it than to a frame 5 apart
            far = decoded[i][x['seqs'][CAM][k] + (5 if k < n // 2 else -5)]
            far_mean = image_diff(pic, far)[0]
            if not check(mean <= 6.0 and mean < far_mean,
                         f'{p}: JPEG frame {k}: mean |diff| {mean:.3f} from its frame, {far_mean:.3f} from 5 apart'):
                break
print(f'aloha JPEG (quality 50): vs PyAV frames: worst mean |diff| {jworst[0]:.3f}, max {jworst[1]}')

# ---- robomimic ----
rm = os.path.join(out, 'rm.hdf5')
run([TELEOP, 'export', *paths, '--format', 'hdf5', '--layout', 'robomimic', '-o', rm, '--gzip', '6'])
d = h5dump(rm)
total = sum(x['n'] for x in want)
dump_has(d, rm, r'GROUP "data" \{\s*ATTRIBUTE "env_args" \{\s*DATATYPE\s*H5T_STRING \{\s*STRSIZE H5T_VARIABLE;\s*'
                r'STRPAD H5T_STR_NULLTERM;\s*CSET H5T_CSET_UTF8;')
dump_has(d, rm, r'ATTRIBUTE "total" \{\s*DATATYPE\s*H5T_STD_I64LE\s*DATASPACE\s*SCALAR\s*DATA \{\s*\(0\): %d' % total)
dump_has(d, rm, r'DATASET "success" \{\s*DATATYPE\s*H5T_STRING \{\s*STRSIZE 6;\s*STRPAD H5T_STR_NULLPAD;\s*CSET H5T_CSET_ASCII;')
with h5py.File(rm, 'r') as f:
    check(sorted(f.keys()) == ['data', 'mask'], f'{rm}: root {list(f.keys())}')
    check(int(f['data'].attrs['total']) == total, f'{rm}: total {f["data"].attrs["total"]}')
    env = json.loads(f['data'].attrs['env_args'])
    check(env.get('env_name') == eps[0]['meta']['robot'] and env.get('env_type') == 2 and
          isinstance(env.get('env_kwargs'), dict), f'{rm}: env_args {env}')
    check(sorted(f['data'].keys()) == ['demo_0', 'demo_1', 'demo_2'], f'{rm}: demos {list(f["data"].keys())}')
    for i, (ep, x) in enumerate(zip(eps, want)):
        g = f[f'data/demo_{i}']
        n = x['n']
        check(int(g.attrs['num_samples']) == n, f'demo_{i}: num_samples {g.attrs["num_samples"]}, expected {n}')
        check(sorted(g.keys()) == ['actions', 'dones', 'obs', 'rewards', 'states'], f'demo_{i}: {list(g.keys())}')
        check(sorted(g['obs'].keys()) == sorted(['robot0_joint_pos', 'robot0_joint_vel', f'{CAM}_image']),
              f'demo_{i}: obs {list(g["obs"].keys())}')
        states = np.concatenate([x['state'], x['objs']], axis=1)
        for key, exp in (('obs/robot0_joint_pos', x['state']), ('obs/robot0_joint_vel', x['vel']),
                         ('actions', x['action']), ('states', states)):
            got = g[key][()]
            if check(got.dtype == np.float64 and got.shape == exp.shape, f'demo_{i}: {key} {got.dtype} {got.shape} vs {exp.shape}'):
                bad = np.argwhere(got != exp)
                check(len(bad) == 0, f'demo_{i}: {key}: {len(bad)} values differ, first at {bad[:1].tolist()}')
        dones = g['dones'][()]
        rewards = g['rewards'][()]
        check(dones.dtype == np.int64 and dones.tolist() == [0] * (n - 1) + [1], f'demo_{i}: dones')
        success = 'success' in tags[i]
        check(rewards.dtype == np.float64 and rewards.tolist() == [0.0] * (n - 1) + [1.0 if success else 0.0],
              f'demo_{i}: rewards')
        img = g[f'obs/{CAM}_image']
        check(img.shape == (n, H, W, 3) and img.dtype == np.uint8 and img.chunks == (1, H, W, 3),
              f'demo_{i}: image {img.shape} {img.dtype} {img.chunks}')
        frames = img[()]
        for k in range(n):
            mean, mx = image_diff(frames[k], decoded[i][x['seqs'][CAM][k]])
            if not check(mx <= 1, f'demo_{i}: frame {k}: mean |diff| {mean:.3f}, max {mx}'):
                break
    masks = {k: sorted(v.decode() for v in f[f'mask/{k}'][()]) for k in f['mask'].keys()}
    exp_masks = {}
    for i, (ep, tg) in enumerate(zip(eps, tags)):
        for k in [ep['meta']['outcome']] + [t.replace('/', '_') for t in tg]:
            exp_masks.setdefault(k, []).append(f'demo_{i}')
    check(masks == {k: sorted(v) for k, v in exp_masks.items()}, f'{rm}: masks {masks}, expected {exp_masks}')
    check(f['mask/success'].dtype.kind == 'S', f'mask/success dtype {f["mask/success"].dtype}')

# --next-obs: next_obs/<key> is obs one step later, the last step repeated; --env-args as given
nx = os.path.join(out, 'next.hdf5')
run([TELEOP, 'export', paths[0], '--format', 'hdf5', '--layout', 'robomimic', '-o', nx, '--next-obs', '--quiet',
     '--env-args', '{"env_name": "Lift", "env_type": 1, "env_kwargs": {}}'])
with h5py.File(nx, 'r') as f:
    g = f['data/demo_0']
    check(json.loads(f['data'].attrs['env_args']) == {'env_name': 'Lift', 'env_type': 1, 'env_kwargs': {}},
          f'--env-args: {f["data"].attrs["env_args"]}')
    check(sorted(g['next_obs'].keys()) == sorted(g['obs'].keys()), f'next_obs keys {list(g["next_obs"].keys())}')
    for key in g['obs'].keys():
        o, nxt = g[f'obs/{key}'][()], g[f'next_obs/{key}'][()]
        check(np.array_equal(nxt[:-1], o[1:]) and np.array_equal(nxt[-1], o[-1]), f'next_obs/{key} is not obs shifted')
r = run([TELEOP, 'export', paths[0], '--format', 'hdf5', '--layout', 'robomimic', '-o', nx, '--env-args', '[1'],
        status=2)
check('--env-args' in r.stderr, f'bad --env-args: {r.stderr}')

# an off-grid episode exported with --allow-offgrid (50 fps from a 30 fps camera) is in mask/offgrid
og = os.path.join(out, 'offgrid.hdf5')
run([TELEOP, 'export', paths[0], '--format', 'hdf5', '--layout', 'robomimic', '-o', og, '--fps', '50'], status=1)
check(not os.path.exists(og), 'an off-grid episode was exported without --allow-offgrid')
run([TELEOP, 'export', paths[0], '--format', 'hdf5', '--layout', 'robomimic', '-o', og, '--fps', '50',
     '--allow-offgrid', '--quiet'])
with h5py.File(og, 'r') as f:
    check([v.decode() for v in f['mask/offgrid'][()]] == ['demo_0'], 'mask/offgrid')

# selection: only the episodes tagged success
sel = os.path.join(out, 'sel.hdf5')
run([TELEOP, 'export', rec, '--format', 'hdf5', '--layout', 'robomimic', '-o', sel, '--tag', 'success', '--quiet'])
with h5py.File(sel, 'r') as f:
    check(len(f['data'].keys()) == 2 and int(f['data'].attrs['total']) == sum(
        x['n'] for x, t in zip(want, tags) if 'success' in t), f'--tag success: {list(f["data"].keys())}')
    check(sorted(f['mask'].keys()) == sorted(['completed', 'success', 'red_cube']), f'--tag success: masks {list(f["mask"].keys())}')
# the robomimic file is deterministic too
rm2 = os.path.join(out, 'rm2.hdf5')
run([TELEOP, 'export', *paths, '--format', 'hdf5', '--layout', 'robomimic', '-o', rm2, '--gzip', '6', '--quiet'])
check(open(rm, 'rb').read() == open(rm2, 'rb').read(), 'robomimic: two exports differ')

# usage errors name the option
r = run([TELEOP, 'export', *paths, '--format', 'hdf5', '-o', rm2], status=2)
check('--layout' in r.stderr, f'no --layout: {r.stderr}')
r = run([TELEOP, 'export', *paths, '--format', 'hdf5', '--layout', 'robomimic', '--compress', '-o', rm2], status=2)
check('--compress' in r.stderr, f'--compress with robomimic: {r.stderr}')
# an existing output that is not one this export writes is refused, untouched
mine = os.path.join(out, 'mine')
os.makedirs(mine)
with open(os.path.join(mine, 'notes.txt'), 'w') as f:
    f.write('mine')
r = run([TELEOP, 'export', *paths, '--format', 'hdf5', '--layout', 'aloha', '-o', mine], status=1)
check('notes.txt' in r.stderr and os.listdir(mine) == ['notes.txt'], f'aloha over a foreign folder: {r.stderr}')
r = run([TELEOP, 'export', *paths, '--format', 'hdf5', '--layout', 'robomimic', '-o', os.path.join(mine, 'notes.txt')],
        status=1)
check('not an HDF5 file' in r.stderr and open(os.path.join(mine, 'notes.txt')).read() == 'mine',
      f'robomimic over a foreign file: {r.stderr}')


# ---- kills: the output is the old one or the new one ----
big = os.path.join(tmp, 'big')
os.makedirs(big)
for k in range(6):
    for i, p in enumerate(paths):
        shutil.copy(p, os.path.join(big, f'ep{k:02d}-{i}.db'))


def digest_tree(path):
    if not os.path.exists(path):
        return None
    if os.path.isfile(path):
        return hashlib.sha256(open(path, 'rb').read()).hexdigest()
    return {n: hashlib.sha256(open(os.path.join(path, n), 'rb').read()).hexdigest() for n in sorted(os.listdir(path))}


for layout, name in (('robomimic', 'kill.hdf5'), ('aloha', 'killdir')):
    target = os.path.join(out, name)
    args = [TELEOP, 'export', big, '--format', 'hdf5', '--layout', layout, '-o', target, '--gzip', '9', '--quiet']
    # the old output: one episode; the new: every episode of big
    run([TELEOP, 'export', paths[0], '--format', 'hdf5', '--layout', layout, '-o', target, '--quiet'])
    old = digest_tree(target)
    ref = target + '.ref'
    t = time.monotonic()
    run(args[:8] + [ref] + args[9:])
    full = time.monotonic() - t
    new = digest_tree(ref)
    kills = 0
    outcomes = {'old': 0, 'new': 0}
    rng = random.Random(11)
    for attempt in range(8):
        state = digest_tree(target)
        check(state in (old, new), f'{layout}: before kill {attempt}: output is neither old nor new')
        if state == new:  # start again from the old one
            run([TELEOP, 'export', paths[0], '--format', 'hdf5', '--layout', layout, '-o', target, '--quiet'])
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, full * 1.05))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        state = digest_tree(target)
        if state == old:
            outcomes['old'] += 1
        elif state == new:
            outcomes['new'] += 1
        else:
            fail(f'{layout}: after a kill at attempt {attempt}, {target} is neither the old output nor the new one')
        # readable by h5py whichever it is
        files = [target] if layout == 'robomimic' else [os.path.join(target, n) for n in os.listdir(target)]
        for fp in files:
            with h5py.File(fp, 'r') as f:
                f.visit(lambda n: None)
    check(kills >= 4, f'{layout}: only {kills} of 8 runs killed before they ended (export {full:.2f} s)')
    print(f'{layout}: {kills} kills during a {full:.2f} s export; output after: {outcomes}')
    # SIGINT: exit 130, the old output left as it was
    run([TELEOP, 'export', paths[0], '--format', 'hdf5', '--layout', layout, '-o', target, '--quiet'])
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(min(0.3, full / 3))
    proc.send_signal(signal.SIGINT)
    _, errtext = proc.communicate()
    check(proc.returncode == 130 and 'left as it was' in errtext, f'{layout}: SIGINT: exit {proc.returncode} {errtext}')
    check(digest_tree(target) == old, f'{layout}: SIGINT changed {target}')
    leftovers = [n for n in os.listdir(out) if '.tmp-' in n]
    run([TELEOP, 'export', paths[0], '--format', 'hdf5', '--layout', layout, '-o', target, '--quiet'])
    check(not [n for n in os.listdir(out) if '.tmp-' in n and n.startswith(name + '.tmp-')],
          f'{layout}: temporary outputs left after a new run: {leftovers}')

if failures:
    print(f'{len(failures)} failures; files kept in {tmp}')
    sys.exit(1)
shutil.rmtree(tmp)
print('ok')
