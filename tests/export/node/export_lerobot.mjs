// teleop export --format lerobot, end to end: records three short episodes
// with `teleop run`, exports them as LeRobot v3.0 and v2.1 datasets (and AV1,
// an append, a selection, an off-grid copy), and checks every file against
// values computed independently from the episodes (export_expected.py:
// sqlite3 + struct, its own resampling): every parquet value read by
// hyparquet (two snappy decoders) and DuckDB, info.json fields and order,
// stats, tasks, episodes metadata; MP4s by export-mp4-check (libav);
// determinism (two exports byte-identical).
//
//   node export_lerobot.mjs TELEOP EXPORT_MP4_CHECK EXPORT_EXPECTED_PY
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readers, fail, failures } from './common.mjs';

const [teleop, mp4check, expectedPy] = process.argv.slice(2);
if (!expectedPy) {
  console.error('usage: node export_lerobot.mjs TELEOP EXPORT_MP4_CHECK EXPORT_EXPECTED_PY');
  process.exit(2);
}
const { hyparquet, compressors, DuckDBInstance } = await readers();
const duck = await (await DuckDBInstance.create(':memory:')).connect();
const sql = async (q) => (await duck.runAndReadAll(q)).getRowObjectsJS();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teleop-export-'));

function run(cmd, args, { status = 0 } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== status) {
    console.error(r.stdout, r.stderr);
    fail(`${path.basename(cmd)} ${args.join(' ')}: exit ${r.status ?? r.signal}, expected ${status}`);
  }
  return r;
}

// ---- three episodes, two tasks ----
// A small camera (160x120) so rendering keeps its rate on a loaded machine;
// an episode that dropped a frame anyway (export_expected.py exits 3 naming
// it: the export would refuse it) is recorded again.
const rec = path.join(dir, 'rec');
const config = path.join(dir, 'station.ini');
fs.writeFileSync(config, '[camera]\nwidth = 160\nheight = 120\nfps = 30\n');
const tasks = ['pick the red cube', 'stack the blocks', 'pick the red cube'];
function record(task) {
  const r = run(teleop, ['run', '--config', config, '--duration', '2', '--out', rec, '--task', task]);
  const m = /^episode: (.*)$/m.exec(r.stdout);
  if (!m) {
    console.error(r.stdout, r.stderr);
    process.exit(1);
  }
  return m[1];
}
const episodes = tasks.map(record);
for (let attempt = 0; ; attempt++) {
  const r = spawnSync('/usr/bin/python3', [expectedPy, path.join(dir, 'expected.json'), ...episodes], { encoding: 'utf8' });
  if (r.status === 0) break;
  const m = /^OFFGRID (.*): /m.exec(r.stdout);
  if (r.status !== 3 || !m || attempt === 5) {
    console.error(r.stdout, r.stderr);
    fail(`export_expected.py: exit ${r.status}`);
    process.exit(1);
  }
  const k = episodes.indexOf(m[1]);
  console.log(`recorded again (a frame was dropped while recording): ${m[1]}`);
  fs.rmSync(m[1]);
  episodes[k] = record(tasks[k]);
}
const want = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
const FPS = want.episodes[0].fps;
const CAM = Object.keys(want.episodes[0].cameras)[0];
const VKEY = `observation.images.${CAM}`;
const NAMES = want.episodes[0].state_names;
const [W, H] = [160, 120];

const VECTORS = ['observation.state', 'observation.velocity', 'action'];
const SCALARS = ['timestamp', 'frame_index', 'episode_index', 'index', 'task_index'];
const COLUMNS = [...VECTORS, ...SCALARS];

function ab(file) {
  const buf = fs.readFileSync(file);
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

function same(got, exp) {
  if (typeof exp === 'number' && !Number.isInteger(exp)) return Object.is(Number(got), exp);
  if (typeof got === 'bigint') return got === BigInt(exp);
  return Number(got) === exp;
}

function close(got, exp) {
  const g = Number(got);
  return g === exp || Math.abs(g - exp) <= 1e-12 * Math.max(1, Math.abs(exp));
}

// rows: objects from a reader; first: the global row number of rows[0]
function compareRows(where, rows, first, count) {
  if (rows.length !== count) fail(`${where}: ${rows.length} rows, expected ${count}`);
  let bad = 0;
  for (let i = 0; i < Math.min(rows.length, count) && bad < 5; i++) {
    for (const c of COLUMNS) {
      const exp = want.rows[c][first + i];
      let got = rows[i][c];
      if (VECTORS.includes(c)) {
        got = Array.from(got ?? []);
        if (got.length !== exp.length || got.some((v, k) => !Object.is(Number(v), exp[k]))) {
          fail(`${where}: row ${i} ${c} = ${got.slice(0, 4)}..., expected ${exp.slice(0, 4)}...`);
          bad++;
        }
      } else if (!same(got, exp)) {
        fail(`${where}: row ${i} ${c} = ${got}, expected ${exp}`);
        bad++;
      }
    }
  }
}

async function readAll(file, where, first, count) {
  for (const [name, opts] of [['hyparquet', {}], ['hyparquet+hysnappy', { compressors }]]) {
    const rows = await hyparquet.parquetReadObjects({ file: ab(file), ...opts });
    compareRows(`${where} (${name})`, rows, first, count);
  }
  const f = file.replaceAll("'", "''");
  const desc = await sql(`DESCRIBE SELECT * FROM read_parquet('${f}')`);
  const types = Object.fromEntries(desc.map((d) => [d.column_name, d.column_type]));
  for (const c of VECTORS) if (types[c] !== 'FLOAT[]') fail(`${where}: DuckDB ${c} is ${types[c]}`);
  if (types.timestamp !== 'FLOAT') fail(`${where}: DuckDB timestamp is ${types.timestamp}`);
  for (const c of SCALARS.slice(1)) if (types[c] !== 'BIGINT') fail(`${where}: DuckDB ${c} is ${types[c]}`);
  const rows = await sql(`SELECT * FROM read_parquet('${f}')`);
  compareRows(`${where} (DuckDB)`, rows, first, count);
  // the exact Arrow types pyarrow and datasets restore
  const md = hyparquet.parquetMetadata(ab(file));
  const kv = Object.fromEntries((md.key_value_metadata ?? []).map((e) => [e.key, e.value]));
  if (!kv['ARROW:schema']) fail(`${where}: no ARROW:schema`);
  return kv;
}

function checkHf(where, kv, version) {
  const hf = JSON.parse(kv.huggingface ?? '{}');
  const f = hf.info?.features ?? {};
  if (JSON.stringify(Object.keys(f)) !== JSON.stringify(COLUMNS)) fail(`${where}: huggingface features ${Object.keys(f)}`);
  for (const c of VECTORS) {
    const want = { feature: { dtype: 'float32', _type: 'Value' }, length: 28, _type: version === 30 ? 'List' : 'Sequence' };
    if (JSON.stringify(f[c]) !== JSON.stringify(want)) fail(`${where}: huggingface ${c} = ${JSON.stringify(f[c])}`);
  }
  for (const c of SCALARS) {
    const want = { dtype: c === 'timestamp' ? 'float32' : 'int64', _type: 'Value' };
    if (JSON.stringify(f[c]) !== JSON.stringify(want)) fail(`${where}: huggingface ${c} = ${JSON.stringify(f[c])}`);
  }
}

function checkInfo(ds, version, eps, codec = 'h264') {
  const info = JSON.parse(fs.readFileSync(path.join(ds, 'meta/info.json'), 'utf8'));
  const where = `${ds}/meta/info.json`;
  const order30 = ['codebase_version', 'fps', 'features', 'total_episodes', 'total_frames', 'total_tasks', 'chunks_size',
    'data_files_size_in_mb', 'video_files_size_in_mb', 'data_path', 'video_path', 'robot_type', 'splits'];
  const order21 = ['codebase_version', 'robot_type', 'total_episodes', 'total_frames', 'total_tasks', 'total_videos',
    'total_chunks', 'chunks_size', 'fps', 'splits', 'data_path', 'video_path', 'features'];
  const order = version === 30 ? order30 : order21;
  if (JSON.stringify(Object.keys(info)) !== JSON.stringify(order)) fail(`${where}: fields ${Object.keys(info)}`);
  const frames = eps.reduce((s, e) => s + e.length, 0);
  const ntasks = new Set(eps.map((e) => e.task)).size;
  const expect = {
    codebase_version: version === 30 ? 'v3.0' : 'v2.1', fps: FPS, total_episodes: eps.length, total_frames: frames,
    total_tasks: ntasks, chunks_size: 1000, robot_type: 'unitree_g1_dex3', splits: { train: `0:${eps.length}` },
  };
  if (version === 30) {
    Object.assign(expect, {
      data_files_size_in_mb: 100, video_files_size_in_mb: 200,
      data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet',
      video_path: 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4',
    });
  } else {
    Object.assign(expect, {
      total_videos: eps.length, total_chunks: 1,
      data_path: 'data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet',
      video_path: 'videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4',
    });
  }
  for (const [k, v] of Object.entries(expect))
    if (JSON.stringify(info[k]) !== JSON.stringify(v)) fail(`${where}: ${k} = ${JSON.stringify(info[k])}, expected ${JSON.stringify(v)}`);
  const f = info.features;
  if (JSON.stringify(Object.keys(f)) !== JSON.stringify([...VECTORS, VKEY, ...SCALARS])) fail(`${where}: features ${Object.keys(f)}`);
  for (const c of VECTORS)
    if (f[c].dtype !== 'float32' || JSON.stringify(f[c].shape) !== '[28]' || JSON.stringify(f[c].names) !== JSON.stringify(NAMES))
      fail(`${where}: feature ${c} ${JSON.stringify(f[c]).slice(0, 200)}`);
  for (const c of SCALARS)
    if (JSON.stringify(f[c]) !== JSON.stringify({ dtype: c === 'timestamp' ? 'float32' : 'int64', shape: [1], names: null }))
      fail(`${where}: feature ${c} ${JSON.stringify(f[c])}`);
  const v = f[VKEY];
  if (v.dtype !== 'video' || JSON.stringify(v.shape) !== JSON.stringify([H, W, 3]) || JSON.stringify(v.names) !== '["height","width","channels"]')
    fail(`${where}: ${VKEY} ${JSON.stringify(v)}`);
  const vi = version === 30
    ? { 'video.height': H, 'video.width': W, 'video.codec': codec, 'video.pix_fmt': 'yuv420p', 'video.fps': FPS,
      'video.channels': 3, has_audio: false,
      ...(codec === 'av1' ? { 'video.g': 2, 'video.crf': 30, 'video.preset': 12, 'video.fast_decode': 0,
        'video.video_backend': 'pyav', 'video.extra_options': {} } : {}),
      is_depth_map: false }
    : { 'video.fps': FPS, 'video.height': H, 'video.width': W, 'video.channels': 3, 'video.codec': codec,
      'video.pix_fmt': 'yuv420p', 'video.is_depth_map': false, has_audio: false };
  if (JSON.stringify(v.info) !== JSON.stringify(vi)) fail(`${where}: ${VKEY} info ${JSON.stringify(v.info)}`);
  return info;
}

function checkStats(where, got, exp, quantiles) {
  const keys = ['min', 'max', 'mean', 'std', 'count', ...(quantiles ? ['q01', 'q10', 'q50', 'q90', 'q99'] : [])];
  for (const feature of COLUMNS) {
    const g = got[feature];
    if (!g) { fail(`${where}: no stats for ${feature}`); continue; }
    if (JSON.stringify(Object.keys(g)) !== JSON.stringify(keys)) fail(`${where}: ${feature} stats keys ${Object.keys(g)}`);
    for (const k of keys) {
      const a = Array.from(g[k] ?? []), b = exp[feature][k];
      if (a.length !== b.length || a.some((x, i) => !close(x, b[i])))
        fail(`${where}: ${feature} ${k} = ${a.slice(0, 3)}, expected ${b.slice(0, 3)}`);
    }
  }
}

// Episodes meta parquet (v3.0) against the expected episodes; returns spans.
async function checkEpisodesMeta(ds, eps, offsets) {
  const file = path.join(ds, 'meta/episodes/chunk-000/file-000.parquet');
  const spans = [];
  for (const [name, opts] of [['hyparquet', {}], ['hyparquet+hysnappy', { compressors }], ['DuckDB']]) {
    const rows = name === 'DuckDB'
      ? await sql(`SELECT * FROM read_parquet('${file}') ORDER BY episode_index`)
      : await hyparquet.parquetReadObjects({ file: ab(file), ...opts });
    const where = `${file} (${name})`;
    if (rows.length !== eps.length) fail(`${where}: ${rows.length} rows`);
    rows.forEach((r, i) => {
      const e = eps[i];
      const exp = {
        episode_index: i, length: e.length, dataset_from_index: e.from_index, dataset_to_index: e.to_index,
        'data/chunk_index': 0, 'data/file_index': offsets[i].data_file,
        [`videos/${VKEY}/chunk_index`]: 0, [`videos/${VKEY}/file_index`]: offsets[i].video_file,
        'meta/episodes/chunk_index': 0, 'meta/episodes/file_index': 0,
      };
      for (const [k, v] of Object.entries(exp)) if (Number(r[k]) !== v) fail(`${where}: episode ${i} ${k} = ${r[k]}, expected ${v}`);
      if (JSON.stringify(Array.from(r.tasks)) !== JSON.stringify([e.task])) fail(`${where}: episode ${i} tasks ${r.tasks}`);
      const from = offsets[i].video_frame / FPS, to = from + e.length / FPS;
      if (!close(r[`videos/${VKEY}/from_timestamp`], from) || !close(r[`videos/${VKEY}/to_timestamp`], to))
        fail(`${where}: episode ${i} video span ${r[`videos/${VKEY}/from_timestamp`]}..${r[`videos/${VKEY}/to_timestamp`]}, expected ${from}..${to}`);
      const stats = {};
      for (const f of COLUMNS) {
        stats[f] = {};
        for (const s of ['min', 'max', 'mean', 'std', 'count', 'q01', 'q10', 'q50', 'q90', 'q99'])
          stats[f][s] = r[`stats/${f}/${s}`];
      }
      checkStats(`${where} episode ${i}`, stats, e.stats, true);
      if (name === 'hyparquet')
        spans.push({ file: offsets[i].video_file, episode: e.path, camera: CAM, first_seq: e.cameras[CAM].first_seq, n: e.length,
          from_timestamp: Number(r[`videos/${VKEY}/from_timestamp`]), to_timestamp: Number(r[`videos/${VKEY}/to_timestamp`]) });
    });
  }
  return spans;
}

// Image stats (per channel, RGB/255, shape [3][1][1]) of the keyframes:
// the count is the number of keyframes, the values ordered and in [0, 1].
function checkImageStats(where, st, keyframes, quantiles) {
  if (!st) return fail(`${where}: no image stats`);
  const keys = ['min', 'max', 'mean', 'std', 'count', ...(quantiles ? ['q01', 'q10', 'q50', 'q90', 'q99'] : [])];
  if (JSON.stringify(Object.keys(st)) !== JSON.stringify(keys)) fail(`${where}: image stats keys ${Object.keys(st)}`);
  if (JSON.stringify(st.count) !== JSON.stringify([keyframes])) fail(`${where}: image stats count ${st.count}, expected ${keyframes}`);
  const v = {};
  for (const k of keys.filter((k) => k !== 'count')) {
    if (!Array.isArray(st[k]) || st[k].length !== 3 || st[k].some((x) => !Array.isArray(x) || x.length !== 1 || x[0].length !== 1))
      return fail(`${where}: image stats ${k} is not of shape [3][1][1]: ${JSON.stringify(st[k])}`);
    v[k] = st[k].map((x) => x[0][0]);
  }
  for (let c = 0; c < 3; c++) {
    const order = quantiles ? [v.min[c], v.q01[c], v.q10[c], v.q50[c], v.q90[c], v.q99[c], v.max[c]] : [v.min[c], v.max[c]];
    if (order.some((x, i) => x < 0 || x > 1 || (i && x < order[i - 1])) || v.mean[c] < v.min[c] || v.mean[c] > v.max[c] ||
      !(v.std[c] >= 0 && v.std[c] <= 0.5))
      fail(`${where}: channel ${c} image stats out of order: ${JSON.stringify(v)}`);
  }
}

function mp4Check(name, files, codec) {
  const spans = path.join(dir, `spans-${name}.json`);
  fs.writeFileSync(spans, JSON.stringify({ fps: FPS, codec, files }));
  const r = run(mp4check, [spans]);
  process.stdout.write(r.stdout);
  if (r.stderr) process.stderr.write(r.stderr);
}

async function checkV30(ds, eps, offsets, codec = 'h264') {
  checkInfo(ds, 30, eps, codec);
  // data files, in (chunk, file) order, concatenated
  const dataFiles = [...new Set(offsets.map((o) => o.data_file))].sort((a, b) => a - b);
  let first = 0;
  for (const df of dataFiles) {
    const file = path.join(ds, `data/chunk-000/file-${String(df).padStart(3, '0')}.parquet`);
    const inFile = eps.filter((e, i) => offsets[i].data_file === df);
    const count = inFile.reduce((s, e) => s + e.length, 0);
    const kv = await readAll(file, file, first, count);
    checkHf(file, kv, 30);
    first += count;
  }
  const dataOnDisk = fs.readdirSync(path.join(ds, 'data/chunk-000'));
  if (dataOnDisk.length !== dataFiles.length) fail(`${ds}: data files ${dataOnDisk}`);
  // tasks
  const tfile = path.join(ds, 'meta/tasks.parquet');
  const taskList = [...new Set(eps.map((e) => e.task))];
  for (const [name, rows] of [['hyparquet', await hyparquet.parquetReadObjects({ file: ab(tfile), compressors })],
    ['DuckDB', await sql(`SELECT * FROM read_parquet('${tfile}')`)]]) {
    const got = rows.map((r) => [r.task, Number(r.task_index)]);
    const exp = taskList.map((t, i) => [t, i]);
    if (JSON.stringify(got) !== JSON.stringify(exp)) fail(`${tfile} (${name}): ${JSON.stringify(got)}`);
  }
  const tkv = Object.fromEntries(hyparquet.parquetMetadata(ab(tfile)).key_value_metadata.map((e) => [e.key, e.value]));
  const pandas = JSON.parse(tkv.pandas ?? '{}');
  if (JSON.stringify(pandas.index_columns) !== '["task"]') fail(`${tfile}: pandas index_columns ${pandas.index_columns}`);
  // episodes meta, stats
  const spans = await checkEpisodesMeta(ds, eps, offsets);
  const stats = JSON.parse(fs.readFileSync(path.join(ds, 'meta/stats.json'), 'utf8'));
  checkStats(`${ds}/meta/stats.json`, stats, aggregateOf(eps), true);
  checkImageStats(`${ds}/meta/stats.json ${VKEY}`, stats[VKEY], eps.reduce((s, e) => s + e.cameras[CAM].keyframes, 0), true);
  // MP4s
  const byFile = {};
  for (const s of spans) (byFile[s.file] ??= []).push(s);
  mp4Check(path.basename(ds), Object.entries(byFile).map(([f, list]) => ({
    mp4: path.join(ds, `videos/${VKEY}/chunk-000/file-${String(f).padStart(3, '0')}.mp4`), episodes: list })), codec);
}

function aggregateOf(eps) {
  // the expected aggregate for a subset: recompute like export_expected.py
  const out = {};
  for (const f of COLUMNS) {
    const parts = eps.map((e) => e.stats[f]);
    const total = parts.reduce((s, p) => s + p.count[0], 0);
    const dims = parts[0].min.length;
    const o = { min: [], max: [], mean: [], std: [], count: [total], q01: [], q10: [], q50: [], q90: [], q99: [] };
    for (let d = 0; d < dims; d++) {
      let mean = 0;
      for (const p of parts) mean += p.mean[d] * p.count[0];
      mean /= total;
      let v = 0;
      for (const p of parts) { const dm = p.mean[d] - mean; v += (p.std[d] * p.std[d] + dm * dm) * p.count[0]; }
      o.min.push(Math.min(...parts.map((p) => p.min[d])));
      o.max.push(Math.max(...parts.map((p) => p.max[d])));
      o.mean.push(mean);
      o.std.push(Math.sqrt(v / total));
      for (const q of ['q01', 'q10', 'q50', 'q90', 'q99']) {
        let s = 0;
        for (const p of parts) s += p[q][d] * p.count[0];
        o[q].push(s / total);
      }
    }
    out[f] = o;
  }
  return out;
}

function oneFile(eps) {
  let frame = 0;
  return eps.map((e) => { const o = { data_file: 0, video_file: 0, video_frame: frame }; frame += e.length; return o; });
}

// ---- v3.0 ----
const d30 = path.join(dir, 'v30');
run(teleop, ['export', ...episodes, '--format', 'lerobot', '-o', d30, '--quiet']);
if (want.stats) checkStats('expected.json self-check', want.stats, aggregateOf(want.episodes), true);
await checkV30(d30, want.episodes, oneFile(want.episodes));
console.log(`v3.0: ${want.episodes.length} episodes checked`);

// ---- the Hugging Face dataset card: LeRobot's YAML front matter (read by
// PyYAML), the codebase version, meta/info.json; --check accepts the folder ----
function checkCard(ds, version, license = 'apache-2.0') {
  const py = `import json, sys, yaml
text = open(sys.argv[1], encoding='utf-8').read()
assert text.startswith('---\\n'), 'no front matter'
front = text.split('---\\n')[1]
print(json.dumps({'yaml': yaml.safe_load(front), 'body': text.split('---\\n', 2)[2]}))`;
  const r = run('/usr/bin/python3', ['-c', py, path.join(ds, 'README.md')]);
  const { yaml, body } = JSON.parse(r.stdout);
  const exp = { license, task_categories: ['robotics'], tags: ['LeRobot', 'teleop'],
    configs: [{ config_name: 'default', data_files: 'data/*/*.parquet' }] };
  if (JSON.stringify(yaml) !== JSON.stringify(exp)) fail(`${ds}/README.md front matter: ${JSON.stringify(yaml)}`);
  const info = fs.readFileSync(path.join(ds, 'meta/info.json'), 'utf8');
  if (!body.includes(`codebase version ${version}`) || !body.includes(info) || !body.includes(`tag --repo-type dataset USER/NAME ${version}`))
    fail(`${ds}/README.md: the body lacks the codebase version ${version}, its tag or meta/info.json`);
  for (const t of new Set(want.episodes.map((e) => e.task))) if (!body.includes(`\n- ${t}\n`)) fail(`${ds}/README.md: task ${t} not listed`);
  const c = run(teleop, ['export', '--check', ds]);
  if (!/: valid$/m.test(c.stdout)) fail(`export --check ${ds} with its card: ${c.stdout}`);
}
checkCard(d30, 'v3.0');
console.log('v3.0: dataset card checked, export --check valid');

// ---- determinism: the same input gives the same bytes ----
function listFiles(root) {
  const out = [];
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p); else out.push(path.relative(root, p));
  } };
  walk(root);
  return out;
}
const d30b = path.join(dir, 'v30b');
run(teleop, ['export', ...[...episodes].reverse(), '--format', 'lerobot', '-o', d30b, '--quiet']);
const fa = listFiles(d30), fb = listFiles(d30b);
if (JSON.stringify(fa) !== JSON.stringify(fb)) fail(`determinism: file lists differ: ${fa} / ${fb}`);
for (const f of fa) {
  if (fs.existsSync(path.join(d30b, f)) && !fs.readFileSync(path.join(d30, f)).equals(fs.readFileSync(path.join(d30b, f))))
    fail(`determinism: ${f} differs between two exports of the same episodes`);
}
console.log(`determinism: ${fa.length} files byte-identical`);

// ---- v2.1 ----
const d21 = path.join(dir, 'v21');
run(teleop, ['export', ...episodes, '--format', 'lerobot', '--lerobot-version', '2.1', '-o', d21, '--quiet']);
checkInfo(d21, 21, want.episodes);
{
  const files = [];
  for (const e of want.episodes) {
    const id = String(e.episode_index).padStart(6, '0');
    const file = path.join(d21, `data/chunk-000/episode_${id}.parquet`);
    const kv = await readAll(file, file, e.from_index, e.length);
    checkHf(file, kv, 21);
    files.push({ mp4: path.join(d21, `videos/chunk-000/${VKEY}/episode_${id}.mp4`),
      episodes: [{ episode: e.path, camera: CAM, first_seq: e.cameras[CAM].first_seq, n: e.length, from_timestamp: 0, to_timestamp: e.length / FPS }] });
  }
  const lines = (f) => fs.readFileSync(path.join(d21, 'meta', f), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const eps = lines('episodes.jsonl');
  want.episodes.forEach((e, i) => {
    if (JSON.stringify(eps[i]) !== JSON.stringify({ episode_index: i, tasks: [e.task], length: e.length }))
      fail(`v2.1 episodes.jsonl line ${i}: ${JSON.stringify(eps[i])}`);
  });
  const taskList = [...new Set(want.episodes.map((e) => e.task))];
  const tl = lines('tasks.jsonl');
  if (JSON.stringify(tl) !== JSON.stringify(taskList.map((t, i) => ({ task_index: i, task: t })))) fail(`v2.1 tasks.jsonl ${JSON.stringify(tl)}`);
  const es = lines('episodes_stats.jsonl');
  want.episodes.forEach((e, i) => {
    if (es[i].episode_index !== i) fail(`v2.1 episodes_stats.jsonl line ${i}: episode_index ${es[i].episode_index}`);
    checkStats(`v2.1 episodes_stats.jsonl line ${i}`, es[i].stats, e.stats, false);
    checkImageStats(`v2.1 episodes_stats.jsonl line ${i} ${VKEY}`, es[i].stats[VKEY], e.cameras[CAM].keyframes, false);
  });
  mp4Check('v21', files, 'h264');
  checkCard(d21, 'v2.1');
  console.log(`v2.1: ${want.episodes.length} episodes checked, dataset card`);
}

// ---- append: two episodes, then the third; nothing changed: up to date ----
const dA = path.join(dir, 'append');
const sorted = want.episodes.map((e) => e.path);
run(teleop, ['export', sorted[0], sorted[1], '--format', 'lerobot', '-o', dA, '--quiet', '--license', 'cc-by-4.0']);
run(teleop, ['export', ...episodes, '--format', 'lerobot', '-o', dA, '--quiet']);
checkCard(dA, 'v3.0', 'cc-by-4.0'); // an append keeps the card's license
{
  const offsets = [{ data_file: 0, video_file: 0, video_frame: 0 },
    { data_file: 0, video_file: 0, video_frame: want.episodes[0].length },
    { data_file: 1, video_file: 1, video_frame: 0 }];
  await checkV30(dA, want.episodes, offsets);
  const before = listFiles(dA).map((f) => [f, fs.readFileSync(path.join(dA, f))]);
  const r = run(teleop, ['export', ...episodes, '--format', 'lerobot', '-o', dA]);
  if (!/is up to date \(3 episodes\)/.test(r.stderr)) fail(`append: a run with nothing new said: ${r.stderr}`);
  for (const [f, bytes] of before) if (!fs.readFileSync(path.join(dA, f)).equals(bytes)) fail(`append: ${f} changed on an up-to-date run`);
  console.log('append: third episode in new files, up-to-date run changes nothing');
}

// ---- selection ----
{
  const dS = path.join(dir, 'select');
  run(teleop, ['export', rec, '--format', 'lerobot', '-o', dS, '--task', 'stack', '--quiet']);
  const info = JSON.parse(fs.readFileSync(path.join(dS, 'meta/info.json'), 'utf8'));
  const n = want.episodes.filter((e) => e.task.includes('stack')).length;
  if (info.total_episodes !== n) fail(`selection --task stack: ${info.total_episodes} episodes, expected ${n}`);
  // a card someone wrote (no teleop marker line) survives the next export
  const own = '---\nlicense: mit\n---\nOur own card.\n';
  fs.writeFileSync(path.join(dS, 'README.md'), own);
  run(teleop, ['export', rec, '--format', 'lerobot', '-o', dS, '--quiet']);
  if (fs.readFileSync(path.join(dS, 'README.md'), 'utf8') !== own) fail('an edited dataset card was overwritten by an append');
  const r = run(teleop, ['export', rec, '--format', 'lerobot', '-o', path.join(dir, 'none'), '--outcome', 'error'], { status: 1 });
  if (!/no episode selected/.test(r.stderr)) fail(`selection with nothing selected said: ${r.stderr}`);
}

// ---- mapping file: robot_type, keys, dimension subsets, no velocity ----
{
  const dM = path.join(dir, 'mapped');
  const map = path.join(dir, 'mapping.ini');
  fs.writeFileSync(map, `[dataset]\nrobot_type = g1_arms\n[features]\nstate = observation.joints\nvelocity =\n` +
    `[dims]\nstate = 0-6, 14\naction = 7-13\n[camera.${CAM}]\nkey = observation.images.cam_high\n`);
  run(teleop, ['export', ...episodes, '--format', 'lerobot', '-o', dM, '--mapping', map, '--quiet']);
  const info = JSON.parse(fs.readFileSync(path.join(dM, 'meta/info.json'), 'utf8'));
  const sIdx = [0, 1, 2, 3, 4, 5, 6, 14], aIdx = [7, 8, 9, 10, 11, 12, 13];
  const f = info.features;
  if (info.robot_type !== 'g1_arms') fail(`mapping: robot_type ${info.robot_type}`);
  if (JSON.stringify(Object.keys(f)) !== JSON.stringify(['observation.joints', 'action', 'observation.images.cam_high', ...SCALARS]))
    fail(`mapping: features ${Object.keys(f)}`);
  if (JSON.stringify(f['observation.joints'].names) !== JSON.stringify(sIdx.map((i) => NAMES[i])))
    fail(`mapping: state names ${f['observation.joints'].names}`);
  if (JSON.stringify(f.action.shape) !== '[7]') fail(`mapping: action shape ${f.action.shape}`);
  const rows = await hyparquet.parquetReadObjects({ file: ab(path.join(dM, 'data/chunk-000/file-000.parquet')), compressors });
  if (rows.length !== want.rows.action.length) fail(`mapping: ${rows.length} rows`);
  let bad = 0;
  rows.forEach((r, i) => {
    const st = Array.from(r['observation.joints']), ac = Array.from(r.action);
    if (bad < 5 && (st.length !== 8 || st.some((v, k) => !Object.is(v, want.rows['observation.state'][i][sIdx[k]])) ||
      ac.length !== 7 || ac.some((v, k) => !Object.is(v, want.rows.action[i][aIdx[k]]))) || 'observation.velocity' in r) {
      fail(`mapping: row ${i} ${st} / ${ac}`);
      bad++;
    }
  });
  if (!fs.existsSync(path.join(dM, 'videos/observation.images.cam_high/chunk-000/file-000.mp4'))) fail('mapping: no cam_high video');
  console.log('mapping file: keys, robot_type, subsets, no velocity');
}

// ---- AV1 ----
{
  const dV = path.join(dir, 'av1');
  const first = want.episodes[0];
  run(teleop, ['export', first.path, '--format', 'lerobot', '--video-codec', 'av1', '-o', dV, '--quiet']);
  checkInfo(dV, 30, [first], 'av1');
  mp4Check('av1', [{ mp4: path.join(dV, `videos/${VKEY}/chunk-000/file-000.mp4`),
    episodes: [{ episode: first.path, camera: CAM, first_seq: 0, n: first.length, from_timestamp: 0, to_timestamp: first.length / FPS }] }], 'av1');
}

// ---- off the grid: a frame moved by 20 ms (over half of the 33 ms period) ----
{
  const copy = path.join(dir, 'offgrid', 'episode-offgrid.db');
  fs.mkdirSync(path.dirname(copy), { recursive: true });
  fs.copyFileSync(want.episodes[0].path, copy);
  run('/usr/bin/python3', ['-c', `
import sqlite3, struct, zlib, sys
db = sqlite3.connect(sys.argv[1])
sid, = db.execute("select id from streams where kind='camera' order by id").fetchone()
seq, pts, t, key, data = db.execute("select seq, pts, t_ns, keyframe, data from video_packets where stream_id=? and seq=10", (sid,)).fetchone()
t += 20000000
crc = zlib.crc32(struct.pack('<qqqqB', sid, seq, pts, t, key) + data)
db.execute("update video_packets set t_ns=?, crc32=? where stream_id=? and seq=?", (t, crc, sid, seq))
db.commit()
`, copy]);
  const r = run(teleop, ['export', copy, '--format', 'lerobot', '-o', path.join(dir, 'og')], { status: 1 });
  if (!/episode-offgrid\.db: camera \S+ frame 10 is off the grid: 20\.\d ms from grid instant 10/.test(r.stderr))
    fail(`off-grid refusal said: ${r.stderr}`);
  if (fs.existsSync(path.join(dir, 'og'))) fail('off-grid refusal left a dataset');
  // with a good episode: the good one is written, the off-grid one refused, exit 1
  const mixed = run(teleop, ['export', copy, want.episodes[1].path, '--format', 'lerobot', '-o', path.join(dir, 'ogm')], { status: 1 });
  if (!/episode-offgrid\.db: .*\(not exported\)/.test(mixed.stderr)) fail(`mixed export said: ${mixed.stderr}`);
  const mi = JSON.parse(fs.readFileSync(path.join(dir, 'ogm/meta/info.json'), 'utf8'));
  if (mi.total_episodes !== 1 || mi.total_frames !== want.episodes[1].length) fail(`mixed export: ${mi.total_episodes} episodes`);
  run(teleop, ['export', copy, '--format', 'lerobot', '-o', path.join(dir, 'og'), '--allow-offgrid', '--quiet']);
  const src = JSON.parse(fs.readFileSync(path.join(dir, 'og/meta/teleop_sources.json'), 'utf8'));
  if (src.episodes[0].offgrid !== true || !(src.episodes[0].max_frame_offset_s > 0.019))
    fail(`--allow-offgrid: not flagged: ${JSON.stringify(src.episodes[0]).slice(0, 300)}`);
}

// ---- trims: meta trim_in_ns (a keyframe) and trim_out_ns bound the window ----
{
  const copy = path.join(dir, 'trim', 'episode-trim.db');
  fs.mkdirSync(path.dirname(copy), { recursive: true });
  fs.copyFileSync(want.episodes[1].path, copy);
  run('/usr/bin/python3', ['-c', `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
sid, = db.execute("select id from streams where kind='camera' order by id").fetchone()
k, t_in = db.execute("select seq, t_ns from video_packets where stream_id=? and keyframe=1 and seq>=15 order by seq", (sid,)).fetchone()
t_out, = db.execute("select t_ns from video_packets where stream_id=? and seq=?", (sid, k + 20)).fetchone()
db.execute("insert into meta values('trim_in_ns', ?), ('trim_out_ns', ?)", (str(t_in), str(t_out)))
db.commit()
`, copy]);
  run('/usr/bin/python3', [expectedPy, path.join(dir, 'expected-trim.json'), copy]);
  const wt = JSON.parse(fs.readFileSync(path.join(dir, 'expected-trim.json'), 'utf8'));
  const e = wt.episodes[0];
  if (e.length !== 20) fail(`trim: the expected window holds ${e.length} frames, not 20`);
  const dT = path.join(dir, 'trimmed');
  run(teleop, ['export', copy, '--format', 'lerobot', '-o', dT, '--quiet']);
  const rows = await hyparquet.parquetReadObjects({ file: ab(path.join(dT, 'data/chunk-000/file-000.parquet')), compressors });
  if (rows.length !== e.length) fail(`trim: ${rows.length} rows, expected ${e.length}`);
  rows.forEach((r, i) => {
    for (const c of COLUMNS) {
      const exp = wt.rows[c][i];
      const ok = VECTORS.includes(c) ? Array.from(r[c]).every((v, k) => Object.is(v, exp[k])) : same(r[c], exp);
      if (!ok) fail(`trim: row ${i} ${c}`);
    }
  });
  mp4Check('trim', [{ mp4: path.join(dT, `videos/${VKEY}/chunk-000/file-000.mp4`),
    episodes: [{ episode: copy, camera: CAM, first_seq: e.cameras[CAM].first_seq, n: e.length, from_timestamp: 0, to_timestamp: e.length / FPS }] }], 'h264');
  console.log(`trim: frames ${e.cameras[CAM].first_seq}..${e.cameras[CAM].first_seq + e.length - 1} exported`);
}

// ---- two cameras (head and a wrist, both simulated): one MP4 each, encoded in parallel ----
{
  const two = path.join(dir, 'two.ini');
  fs.writeFileSync(two, '[camera.head]\ndriver = sim\nmjcf_camera = head_camera\nwidth = 160\nheight = 120\nfps = 30\n' +
    '[camera.wrist]\ndriver = sim\nmjcf_camera = left_wrist_camera\nwidth = 160\nheight = 120\nfps = 30\n');
  let wt = null, ep = null;
  for (let attempt = 0; attempt < 5 && !wt; attempt++) {
    const r = run(teleop, ['run', '--config', two, '--duration', '2', '--out', path.join(dir, 'rec2'), '--task', 'two cameras']);
    ep = /^episode: (.*)$/m.exec(r.stdout)[1];
    const x = spawnSync('/usr/bin/python3', [expectedPy, path.join(dir, 'expected-two.json'), ep], { encoding: 'utf8' });
    if (x.status === 0) wt = JSON.parse(fs.readFileSync(path.join(dir, 'expected-two.json'), 'utf8'));
    else if (x.status !== 3) fail(`export_expected.py (two cameras): ${x.stdout} ${x.stderr}`);
  }
  if (!wt) fail('two cameras: no episode without a dropped frame in 5 recordings');
  else {
    const e = wt.episodes[0];
    const d2 = path.join(dir, 'two');
    run(teleop, ['export', ep, '--format', 'lerobot', '-o', d2, '--quiet']);
    const info = JSON.parse(fs.readFileSync(path.join(d2, 'meta/info.json'), 'utf8'));
    if (!info.features['observation.images.head'] || !info.features['observation.images.wrist']) fail(`two cameras: features ${Object.keys(info.features)}`);
    const rows = await hyparquet.parquetReadObjects({ file: ab(path.join(d2, 'data/chunk-000/file-000.parquet')), compressors });
    if (rows.length !== e.length) fail(`two cameras: ${rows.length} rows, expected ${e.length}`);
    rows.forEach((r, i) => {
      for (const c of COLUMNS) {
        const exp = wt.rows[c][i];
        const ok = VECTORS.includes(c) ? Array.from(r[c]).every((v, k) => Object.is(v, exp[k])) : same(r[c], exp);
        if (!ok) fail(`two cameras: row ${i} ${c}`);
      }
    });
    mp4Check('two', ['head', 'wrist'].map((cam) => ({ mp4: path.join(d2, `videos/observation.images.${cam}/chunk-000/file-000.mp4`),
      episodes: [{ episode: ep, camera: cam, first_seq: e.cameras[cam].first_seq, n: e.length, from_timestamp: 0, to_timestamp: e.length / FPS }] })), 'h264');
    console.log('two cameras: rows and both MP4s checked');
  }
}

// ---- an FFV1 camera: remux refused with a line, AV1 transcodes it (BGR0 to yuv420p) ----
{
  const ffv1 = path.join(dir, 'ffv1.ini');
  fs.writeFileSync(ffv1, '[camera]\ncodec = ffv1\nwidth = 160\nheight = 120\nfps = 30\n');
  const r = run(teleop, ['run', '--config', ffv1, '--duration', '2', '--out', path.join(dir, 'rec-ffv1'), '--task', 'lossless']);
  const ep = /^episode: (.*)$/m.exec(r.stdout)[1];
  const dF = path.join(dir, 'ffv1');
  const refused = run(teleop, ['export', ep, '--format', 'lerobot', '-o', dF, '--allow-offgrid'], { status: 1 });
  if (!/camera head_camera is ffv1: only H\.264 remuxes into MP4; use --video-codec av1/.test(refused.stderr)) fail(`ffv1 remux said: ${refused.stderr}`);
  run(teleop, ['export', ep, '--format', 'lerobot', '-o', dF, '--allow-offgrid', '--video-codec', 'av1', '--quiet']);
  const src = JSON.parse(fs.readFileSync(path.join(dF, 'meta/teleop_sources.json'), 'utf8'));
  const n = src.episodes[0].length;
  const first = JSON.parse(fs.readFileSync(path.join(dF, 'meta/info.json'), 'utf8')).total_frames;
  if (n !== first) fail(`ffv1: ${n} frames in sources, ${first} in info.json`);
  mp4Check('ffv1', [{ mp4: path.join(dF, `videos/${VKEY}/chunk-000/file-000.mp4`),
    episodes: [{ episode: ep, camera: CAM, first_seq: 0, n, from_timestamp: 0, to_timestamp: n / FPS }] }], 'av1');
  const st = JSON.parse(fs.readFileSync(path.join(dF, 'meta/stats.json'), 'utf8'));
  checkImageStats('ffv1 stats.json', st[VKEY], n, true); // every FFV1 frame is a keyframe
}

// ---- a changed episode (review tagged it): the dataset is written again; --tag ----
{
  const last = want.episodes[2].path;
  run('/usr/bin/python3', ['-c', "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute(\"insert into tags values('good')\"); db.commit()", last]);
  const r = run(teleop, ['export', ...episodes, '--format', 'lerobot', '-o', dA]);
  if (!/3 episodes written/.test(r.stderr)) fail(`changed episode: ${r.stderr}`);
  await checkV30(dA, want.episodes, oneFile(want.episodes));
  const src = JSON.parse(fs.readFileSync(path.join(dA, 'meta/teleop_sources.json'), 'utf8'));
  const sha = spawnSync('sha256sum', [last], { encoding: 'utf8' }).stdout.split(' ')[0];
  if (src.episodes[2].sha256 !== sha) fail(`changed episode: sha256 ${src.episodes[2].sha256}, file ${sha}`);
  const dT = path.join(dir, 'tagged');
  run(teleop, ['export', rec, '--format', 'lerobot', '-o', dT, '--tag', 'good', '--quiet']);
  const info = JSON.parse(fs.readFileSync(path.join(dT, 'meta/info.json'), 'utf8'));
  if (info.total_episodes !== 1) fail(`--tag good: ${info.total_episodes} episodes`);
  console.log('changed episode: dataset written again; --tag selects it');
}

if (failures() === 0) fs.rmSync(dir, { recursive: true, force: true });
if (failures() > 0) {
  console.error(`${failures()} failure(s); files kept in ${dir}`);
  process.exit(1);
}
console.log('LeRobot v3.0 and v2.1 exports read back exactly (hyparquet, DuckDB, libav)');
