#!/usr/bin/python3
"""What `teleop export --format lerobot` must write for some episodes,
computed independently of teleop: the episodes are read with sqlite3 and
struct, resampled onto the fps grid by the rule docs/export.md states (grid
anchored on the first camera's first frame; per camera the frame nearest in
capture time; state interpolated linearly; action held), and the stats
computed as LeRobot does. Writes JSON (floats as exact doubles).

    export_expected.py OUT.json EPISODE...
"""
import json
import math
import os
import sqlite3
import struct
import sys
import zlib


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def read_episode(path):
    db = sqlite3.connect(f'file:{path}?mode=ro', uri=True)
    meta = dict(db.execute('select key, value from meta'))
    streams = {}
    for sid, name, kind, dims, names, rate in db.execute(
            'select id, name, kind, dims, names, rate_hz from streams order by id'):
        streams[name] = dict(id=sid, kind=kind, dims=dims, names=json.loads(names) if names else None, rate=rate)
    ep = dict(path=path, meta=meta, streams=streams, samples={}, packets={})
    for name, s in streams.items():
        if s['kind'] == 'camera':
            rows = db.execute('select seq, pts, t_ns, keyframe, data, crc32 from video_packets where stream_id=? '
                              'order by seq', (s['id'],)).fetchall()
            for seq, pts, t, key, data, crc in rows:
                assert zlib.crc32(struct.pack('<qqqqB', s['id'], seq, pts, t, key) + data) == crc
            ep['packets'][name] = [(seq, t) for seq, pts, t, key, data, crc in rows]
            ep.setdefault('keyframes', {})[name] = {seq for seq, pts, t, key, data, crc in rows if key}
        elif name in ('state', 'action', 'state_velocity'):
            rows = db.execute('select seq, t_ns, data, crc32 from samples where stream_id=? order by seq',
                              (s['id'],)).fetchall()
            out = []
            for seq, t, data, crc in rows:
                assert zlib.crc32(struct.pack('<qqq', s['id'], seq, t) + data) == crc
                out.append((t, struct.unpack(f"<{s['dims']}f", data)))
            ep['samples'][name] = out
    db.close()
    return ep


def interpolate(series, t, hint):
    ts = series
    if t <= ts[0][0]:
        return list(ts[0][1])
    if t >= ts[-1][0]:
        return list(ts[-1][1])
    k = hint[0]
    while k + 1 < len(ts) and ts[k + 1][0] <= t:
        k += 1
    hint[0] = k
    ta, a = ts[k]
    if t == ta:
        return list(a)
    tb, b = ts[k + 1]
    w = (t - ta) / (tb - ta)
    return [f32(x + w * (y - x)) for x, y in zip(a, b)]


def hold(series, t, hint):
    k = hint[0]
    while k + 1 < len(series) and series[k + 1][0] <= t:
        k += 1
    hint[0] = k
    return list(series[k][1])


def stats(rows):
    """min, max, mean, population std, count, quantiles (numpy's linear)."""
    n, dims = len(rows), len(rows[0])
    out = dict(min=[], max=[], mean=[], std=[], count=[n], q01=[], q10=[], q50=[], q90=[], q99=[])
    for d in range(dims):
        col = [r[d] for r in rows]
        s = 0.0
        for x in col:
            s += x
        mean = s / n
        var = 0.0
        for x in col:
            var += (x - mean) * (x - mean)
        col.sort()
        out['min'].append(col[0])
        out['max'].append(col[-1])
        out['mean'].append(mean)
        out['std'].append(math.sqrt(var / n))
        for q, key in ((0.01, 'q01'), (0.10, 'q10'), (0.50, 'q50'), (0.90, 'q90'), (0.99, 'q99')):
            pos = q * (n - 1)
            lo = math.floor(pos)
            hi = min(lo + 1, n - 1)
            out[key].append(col[lo] + (col[hi] - col[lo]) * (pos - lo))
    return out


def aggregate(parts):
    """LeRobot's aggregate_stats: weighted mean, pooled variance."""
    total = sum(p['count'][0] for p in parts)
    dims = len(parts[0]['min'])
    out = dict(min=[], max=[], mean=[], std=[], count=[total], q01=[], q10=[], q50=[], q90=[], q99=[])
    for d in range(dims):
        mean = 0.0
        for p in parts:
            mean += p['mean'][d] * p['count'][0]
        mean /= total
        var = 0.0
        for p in parts:
            dm = p['mean'][d] - mean
            var += (p['std'][d] * p['std'][d] + dm * dm) * p['count'][0]
        out['min'].append(min(p['min'][d] for p in parts))
        out['max'].append(max(p['max'][d] for p in parts))
        out['mean'].append(mean)
        out['std'].append(math.sqrt(var / total))
        for key in ('q01', 'q10', 'q50', 'q90', 'q99'):
            q = 0.0
            for p in parts:
                q += p[key][d] * p['count'][0]
            out[key].append(q / total)
    return out


def main():
    out_path, paths = sys.argv[1], sys.argv[2:]
    eps = [read_episode(p) for p in paths]
    eps.sort(key=lambda e: (int(e['meta']['start_t_ns']) + int(e['meta']['wall_clock_offset_ns']), e['path']))
    result = dict(episodes=[], rows={}, tasks=[], stats={})
    rows = {k: [] for k in ('observation.state', 'observation.velocity', 'action', 'timestamp', 'frame_index',
                            'episode_index', 'index', 'task_index')}
    per_episode_stats = []
    index = 0
    for ei, ep in enumerate(eps):
        cams = [n for n, s in ep['streams'].items() if s['kind'] == 'camera']
        ref = cams[0]
        fps = ep['streams'][ref]['rate']
        # trims (meta trim_in_ns/trim_out_ns): the window [in, out)
        lo = int(ep['meta'].get('trim_in_ns', -2**63))
        hi = int(ep['meta'].get('trim_out_ns', 2**63 - 1))
        frames = {c: [p for p in ep['packets'][c] if lo <= p[1] < hi] for c in cams}
        t0 = frames[ref][0][1]
        n = len(frames[ref])
        first = {}
        for c in cams[1:]:
            k = 0
            f = frames[c]
            while k + 1 < len(f) and abs(f[k + 1][1] - t0) <= abs(f[k][1] - t0):
                k += 1
            first[c] = k
            n = min(n, len(f) - k)
        first[ref] = 0
        grid = [t0 + math.floor(i * 1e9 / fps + 0.5) for i in range(n)]
        cam_out = {}
        for c in cams:
            f = frames[c]
            seqs, offs = [], []
            k = 0
            for i, t in enumerate(grid):
                while k + 1 < len(f) and abs(f[k + 1][1] - t) <= abs(f[k][1] - t):
                    k += 1
                if k != first[c] + i or abs(f[k][1] - t) > 0.5e9 / fps:
                    # a frame dropped while recording (a loaded machine): the
                    # export refuses such an episode; the caller records again
                    print(f'OFFGRID {ep["path"]}: camera {c} grid frame {i}')
                    sys.exit(3)
                seqs.append(f[k][0])
                offs.append(abs(f[k][1] - t) / 1e9)
            cam_out[c] = dict(first_seq=seqs[0], seqs=seqs, max_offset=max(offs),
                              keyframes=sum(1 for q in seqs if q in ep['keyframes'][c]))
        task = ep['meta'].get('task', '')
        if task not in result['tasks']:
            result['tasks'].append(task)
        task_index = result['tasks'].index(task)
        hs, ha, hv = [0], [0], [0]
        st = [interpolate(ep['samples']['state'], t, hs) for t in grid]
        ve = [interpolate(ep['samples']['state_velocity'], t, hv) for t in grid]
        ac = [hold(ep['samples']['action'], t, ha) for t in grid]
        ts = [f32(i / fps) for i in range(n)]
        cols = {
            'observation.state': st, 'observation.velocity': ve, 'action': ac,
            'timestamp': [[x] for x in ts], 'frame_index': [[i] for i in range(n)],
            'episode_index': [[ei]] * n, 'index': [[index + i] for i in range(n)], 'task_index': [[task_index]] * n,
        }
        ep_stats = {k: stats([[float(x) for x in r] for r in v]) for k, v in cols.items()}
        per_episode_stats.append(ep_stats)
        for k, v in cols.items():
            rows[k].extend(v if k in ('observation.state', 'observation.velocity', 'action') else [r[0] for r in v])
        names = ep['streams']['state']['names']
        result['episodes'].append(dict(path=ep['path'], file=os.path.basename(ep['path']), episode_index=ei,
                                       length=n, task=task, task_index=task_index, from_index=index,
                                       to_index=index + n, fps=fps, cameras=cam_out, stats=ep_stats,
                                       state_names=names, action_names=ep['streams']['action']['names']))
        index += n
    result['rows'] = rows
    result['stats'] = {k: aggregate([s[k] for s in per_episode_stats]) for k in per_episode_stats[0]}
    with open(out_path, 'w') as f:
        json.dump(result, f)


main()
