// Reads every parquet file pq-write-cases writes with teleop's own C reader
// (pq-read-dump, src/export/parquet_read.c) and compares every value exactly
// with the values written (expected.json) and with what hyparquet reads.
//
//   node check_reader.mjs PATH/TO/pq-write-cases PATH/TO/pq-read-dump
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readers, loadExpected, sameValue, fail, failures } from './common.mjs';

const [writer, dumper] = process.argv.slice(2);
if (!writer || !dumper) {
  console.error('usage: node check_reader.mjs PQ_WRITE_CASES PQ_READ_DUMP');
  process.exit(2);
}
const { hyparquet } = await readers();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teleop-pqr-'));
const run = spawnSync(writer, [dir], { stdio: 'inherit' });
if (run.status !== 0) {
  console.error(`FAIL: ${writer} exited with ${run.status ?? run.signal}`);
  process.exit(1);
}
const expected = loadExpected(path.join(dir, 'expected.json'));

function same(type, got, want) {
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) return false;
    return want.every((w, i) => sameValue(type, got[i], w));
  }
  return sameValue(type, got, want);
}

for (const file of expected.files) {
  const where = path.join(dir, file.file);
  const out = spawnSync(dumper, [where], { maxBuffer: 1 << 30, encoding: 'utf8' });
  if (out.status !== 0) {
    fail(`${file.file}: pq-read-dump exited ${out.status}: ${out.stderr.trim()}`);
    continue;
  }
  const ours = JSON.parse(out.stdout);
  // same conversions as expected.json (int64 strings to BigInt, float specials)
  for (const col of expected.columns)
    ours.columns[col.name] = (ours.columns[col.name] ?? []).map((v) => {
      const conv = (x) => (x === null ? null : col.type === 'int64' ? BigInt(x)
        : col.type === 'float' || col.type === 'double'
          ? (x === 'NaN' ? NaN : x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : x === '-0' ? -0
            : col.type === 'float' ? Math.fround(x) : x)
          : x);
      return Array.isArray(v) ? v.map(conv) : conv(v);
    });
  if (ours.rows !== file.rows) fail(`${file.file}: teleop reader says ${ours.rows} rows, wrote ${file.rows}`);
  const buf = fs.readFileSync(where);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const hy = await hyparquet.parquetReadObjects({ file: ab });
  let compared = 0;
  for (const col of expected.columns) {
    const got = ours.columns[col.name];
    if (got.length !== file.rows) {
      fail(`${file.file}: ${col.name}: ${got.length} rows read, wrote ${file.rows}`);
      continue;
    }
    for (let r = 0; r < file.rows; r++) {
      const want = expected.table.columns[col.name][r];
      if (!same(col.type, got[r], want)) {
        fail(`${file.file}: ${col.name} row ${r}: teleop reader ${JSON.stringify(got[r], (k, v) => (typeof v === 'bigint' ? `${v}` : v))}, wrote ${JSON.stringify(want, (k, v) => (typeof v === 'bigint' ? `${v}` : v))}`);
        break;
      }
      const h = hy[r][col.name];
      if (!same(col.type, got[r], h === undefined ? null : h)) {
        fail(`${file.file}: ${col.name} row ${r}: teleop reader and hyparquet differ`);
        break;
      }
      compared++;
    }
  }
  console.log(`${file.file}: ${file.rows} rows, ${compared} values equal to the written ones and hyparquet's`);
}
if (failures() === 0) fs.rmSync(dir, { recursive: true, force: true });
if (failures() > 0) {
  console.error(`${failures()} failure(s); files kept in ${dir}`);
  process.exit(1);
}
console.log('teleop parquet reader: every value equals the written one and hyparquet\'s');
