// Crash test: pq-crash-child writes a large parquet file and is killed with
// SIGKILL at random moments (20 times; TELEOP_PARQUET_CRASH_KILLS, at least
// 2, sets another count: the sanitizer run walks the same paths with 8). Afterwards PATH must be absent, the
// previous complete file, or the new complete file, and whatever is there
// must be read completely and exactly by hyparquet and DuckDB.
//
//   node crash.mjs PATH/TO/pq-crash-child
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readers, fail, failures } from './common.mjs';

const child = process.argv[2];
const KILLS = Number(process.env.TELEOP_PARQUET_CRASH_KILLS ?? 20);
if (!Number.isInteger(KILLS) || KILLS < 2) {
  console.error(`TELEOP_PARQUET_CRASH_KILLS: expected a whole number of at least 2, got '${process.env.TELEOP_PARQUET_CRASH_KILLS}'`);
  process.exit(2);
}
const ROWS = 400000;
const OLD_ROWS = 3000;
const DIM = 28;
const { hyparquet, DuckDBInstance } = await readers();
const duck = await (await DuckDBInstance.create(':memory:')).connect();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teleop-pq-crash-'));
const target = path.join(dir, 'data.parquet');

// Seeded so a failure can be replayed; the seed is printed.
let seed = Number(process.env.TELEOP_CRASH_SEED ?? Date.now() % 1000003);
console.log(`seed ${seed}`);
const random = () => {
  seed = (seed * 48271) % 2147483647;
  return seed / 2147483647;
};

function runChild(rows, killAfterMs) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const p = spawn(child, [target, String(rows)], { stdio: ['ignore', 'ignore', 'inherit'] });
    let timer = null;
    if (killAfterMs !== null) timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    p.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, ms: Number(process.hrtime.bigint() - start) / 1e6 });
    });
  });
}

// Every value of the file, with both readers; returns its row count.
async function verify(file, label) {
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const md = hyparquet.parquetMetadata(ab);
  const rows = Number(md.num_rows);
  const got = await hyparquet.parquetReadObjects({ file: ab });
  if (got.length !== rows) fail(`${label}: hyparquet read ${got.length} of ${rows} rows`);
  for (let i = 0; i < got.length; i++) {
    const r = got[i];
    const st = r['observation.state'];
    let ok = r.index === BigInt(i) && r.episode_index === BigInt(Math.floor(i / 1000)) &&
      r.timestamp === Math.fround(Math.fround(i % 1000) / 30) && st.length === DIM;
    for (let j = 0; ok && j < DIM; j++) ok = st[j] === (i * DIM + j) * 0.25;
    if (!ok) { fail(`${label}: hyparquet row ${i} differs: ${JSON.stringify(r, (k, v) => (typeof v === 'bigint' ? String(v) : v))}`); break; }
  }
  const f = file.replaceAll("'", "''");
  const res = (await duck.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT "index") AS d, min("index") AS lo, max("index") AS hi,
    count(*) FILTER (WHERE episode_index != "index" // 1000
      OR timestamp != (("index" % 1000)::FLOAT / 30::FLOAT)
      OR "observation.state" != list_transform(range(${DIM}), j -> (("index" * ${DIM} + j) * 0.25)::FLOAT)) AS bad
    FROM read_parquet('${f}')`)).getRowObjectsJS()[0];
  if (Number(res.n) !== rows || Number(res.d) !== rows || Number(res.bad) !== 0 ||
      Number(res.lo) !== 0 || Number(res.hi) !== rows - 1)
    fail(`${label}: DuckDB sees ${JSON.stringify(res, (k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  return rows;
}

// How long an uninterrupted write takes here (kill times spread over it).
const full = await runChild(ROWS, null);
if (full.code !== 0) fail(`uninterrupted child exited with ${full.code ?? full.signal}`);
else if ((await verify(target, 'uninterrupted write')) !== ROWS) fail('uninterrupted write: wrong row count');
const old = path.join(dir, 'old.parquet');
if ((await runChild(OLD_ROWS, null)).code !== 0) fail('writing the previous file failed');
fs.renameSync(target, old);

const outcomes = { absent: 0, previous: 0, complete: 0 };
for (let k = 0; k < KILLS; k++) {
  for (const e of fs.readdirSync(dir)) if (e.startsWith('data.parquet')) fs.rmSync(path.join(dir, e));
  const withPrevious = k % 2 === 1; // odd runs replace an existing file
  if (withPrevious) fs.copyFileSync(old, target);
  const delay = Math.floor(random() * full.ms * 1.25);
  const r = await runChild(ROWS, delay);
  const label = `kill ${k} at ${delay} ms (${r.signal ?? `exit ${r.code}`})`;
  if (r.signal === null && r.code !== 0) fail(`${label}: child failed`);
  if (!fs.existsSync(target)) {
    if (withPrevious) fail(`${label}: the previous file disappeared`);
    if (r.signal === null) fail(`${label}: the child finished but left no file`);
    outcomes.absent++;
    continue;
  }
  const rows = await verify(target, label);
  if (rows === ROWS) outcomes.complete++;
  else if (rows === OLD_ROWS && withPrevious) outcomes.previous++;
  else fail(`${label}: file has ${rows} rows, neither ${ROWS} nor the previous ${OLD_ROWS}`);
  if (r.signal === null && rows !== ROWS) fail(`${label}: the child finished but the file is not the new one`);
}
const leftovers = fs.readdirSync(dir).filter((e) => e.startsWith('data.parquet.tmp-')).length;
console.log(`${KILLS} kills (write takes ${full.ms.toFixed(0)} ms): ${outcomes.absent} absent, ` +
  `${outcomes.previous} previous file, ${outcomes.complete} complete new file; ${leftovers} temporary file(s) left`);
if (failures() === 0) fs.rmSync(dir, { recursive: true, force: true });
if (failures() > 0) {
  console.error(`${failures()} failure(s); files kept in ${dir}`);
  process.exit(1);
}
