// Crash safety of `teleop export`: an export appending ten episodes to a
// dataset of two is killed (SIGKILL) at random moments, at least 12 times; after each
// kill the dataset must be byte for byte the old one or the new one (the same
// append run to completion), never a mix or a broken file, and every parquet
// in it must read in full. Ctrl-C (SIGINT) mid-run exits 130 leaving the old
// dataset. The next run removes what the killed ones left beside it.
//
//   node export_crash.mjs TELEOP
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readers, fail, failures } from './common.mjs';

const teleop = process.argv[2];
const { hyparquet } = await readers();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teleop-export-crash-'));
let seed = Number(process.env.TELEOP_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`seed ${seed} (TELEOP_CRASH_SEED replays it)`);
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

function run(args, status = 0) {
  const r = spawnSync(teleop, args, { encoding: 'utf8' });
  if (r.status !== status) {
    console.error(r.stdout, r.stderr);
    fail(`teleop ${args.join(' ')}: exit ${r.status ?? r.signal}`);
    process.exit(1);
  }
  return r;
}

// Episodes: three short recordings, copied under twelve names.
const rec = path.join(dir, 'rec');
const config = path.join(dir, 'station.ini');
fs.writeFileSync(config, '[camera]\nwidth = 320\nheight = 240\nfps = 30\n');
const recorded = [];
for (let i = 0; i < 3; i++) {
  const r = run(['run', '--config', config, '--duration', '3', '--out', rec, '--task', `task ${i % 2}`]);
  recorded.push(/^episode: (.*)$/m.exec(r.stdout)[1]);
}
const src = path.join(dir, 'src');
fs.mkdirSync(src);
const copies = [];
for (let i = 0; i < 12; i++) {
  const p = path.join(src, `copy-${String(i).padStart(2, '0')}.db`);
  fs.copyFileSync(recorded[i % 3], p);
  copies.push(p);
}
const exportArgs = (out, eps) => ['export', ...eps, '--format', 'lerobot', '-o', out, '--allow-offgrid', '--quiet'];

function snapshot(root) {
  const out = new Map();
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p); else out.set(path.relative(root, p), fs.readFileSync(p));
  } };
  walk(root);
  return out;
}

function equal(a, b) {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!b.has(k) || !b.get(k).equals(v)) return false;
  return true;
}

// The old dataset (two episodes) and the new one (the append, uninterrupted).
const old = path.join(dir, 'old');
run(exportArgs(old, copies.slice(0, 2)));
const oldSnap = snapshot(old);
const ref = path.join(dir, 'new');
fs.cpSync(old, ref, { recursive: true });
let t0 = process.hrtime.bigint();
run(exportArgs(ref, copies));
const runMs = Number(process.hrtime.bigint() - t0) / 1e6;
const newSnap = snapshot(ref);
if (equal(oldSnap, newSnap)) fail('the append changed nothing');
console.log(`uninterrupted append: ${runMs.toFixed(0)} ms, ${newSnap.size} files`);

async function killedRun(target, signal, delayMs) {
  const child = spawn(teleop, exportArgs(target, copies), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => child.on('close', (c, s) => r([c, s])));
  await new Promise((r) => setTimeout(r, delayMs));
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  const [code, sig] = await exited;
  return { code, sig, stderr };
}

async function checkDataset(target, where) {
  const snap = snapshot(target);
  const which = equal(snap, oldSnap) ? 'old' : equal(snap, newSnap) ? 'new' : null;
  if (!which) {
    const diff = [...new Set([...snap.keys(), ...newSnap.keys()])].filter((k) => !snap.get(k)?.equals(newSnap.get(k) ?? oldSnap.get(k) ?? Buffer.alloc(0)));
    fail(`${where}: the dataset is neither the old nor the new one (differs in ${diff.slice(0, 5)})`);
  }
  const info = JSON.parse(snap.get('meta/info.json').toString());
  let rows = 0;
  for (const [k, buf] of snap) {
    if (!k.endsWith('.parquet')) continue;
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const got = await hyparquet.parquetReadObjects({ file: ab });
    if (k.startsWith('data/')) rows += got.length;
  }
  if (rows !== info.total_frames) fail(`${where}: ${rows} data rows, info.json says ${info.total_frames}`);
  return which;
}

const target = path.join(dir, 'ds');
const seen = { old: 0, new: 0 };
let kills = 0;
for (let i = 0; kills < 12 && i < 40; i++) {
  fs.rmSync(target, { recursive: true, force: true });
  fs.cpSync(old, target, { recursive: true });
  const delay = random() * runMs * 1.1; // some runs finish: the late moments (publication) too
  const r = await killedRun(target, 'SIGKILL', delay);
  const which = await checkDataset(target, `kill ${i} after ${delay.toFixed(0)} ms`);
  if (which) seen[which]++;
  if (r.sig === 'SIGKILL') kills++;
  console.log(`kill ${i} after ${delay.toFixed(0)} ms (${r.sig ?? `exit ${r.code}`}): ${which ?? 'BROKEN'} dataset`);
}
if (kills < 12) fail(`only ${kills} runs were killed before they finished`);
// Ctrl-C during the run: exit 130, the old dataset.
{
  fs.rmSync(target, { recursive: true, force: true });
  fs.cpSync(old, target, { recursive: true });
  const r = await killedRun(target, 'SIGINT', runMs * 0.3);
  const which = await checkDataset(target, 'SIGINT');
  if (r.code === 130 && which !== 'old') fail(`SIGINT: exit 130 but the dataset is ${which}`);
  if (r.code !== 130 && !(r.code === 0 && which === 'new')) fail(`SIGINT: exit ${r.code} ${r.sig}, dataset ${which}: ${r.stderr}`);
  if (r.code === 130 && !/interrupted: .* left as it was/.test(r.stderr)) fail(`SIGINT said: ${r.stderr}`);
  console.log(`SIGINT after ${(runMs * 0.3).toFixed(0)} ms: exit ${r.code}, ${which} dataset`);
}
// The next run completes and removes what the killed runs left beside it.
run(exportArgs(target, copies));
if (!equal(snapshot(target), newSnap)) fail('the run after the kills did not give the new dataset');
const left = fs.readdirSync(dir).filter((n) => n.startsWith('ds.tmp-'));
if (left.length) fail(`temporary folders left after a complete run: ${left}`);
console.log(`${kills} SIGKILLs; ${seen.old} runs left the old dataset, ${seen.new} the new one`);

if (failures() === 0) fs.rmSync(dir, { recursive: true, force: true });
if (failures() > 0) {
  console.error(`${failures()} failure(s); files kept in ${dir}`);
  process.exit(1);
}
console.log('every kill left the old or the new dataset, complete');
