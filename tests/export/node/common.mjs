// Shared by the parquet reader checks: loading the pinned readers, the
// expected values and exact value comparison.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let failed = 0;

export function fail(message) {
  failed++;
  if (failed <= 40) console.error(`FAIL ${message}`);
}

export const failures = () => failed;

export async function readers() {
  if (!fs.existsSync(path.join(here, 'node_modules', 'hyparquet'))) {
    console.error(`${here}/node_modules is missing: run scripts/setup.sh (npm ci in tests/export/node)`);
    process.exit(1);
  }
  const hyparquet = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const arrow = await import('apache-arrow');
  return { hyparquet, compressors, DuckDBInstance, arrow };
}

function number(v, single) {
  const x = v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === '-0' ? -0 : v;
  return single ? Math.fround(x) : x;
}

function convert(type, v) {
  if (v === null) return null;
  if (Array.isArray(v)) return v.map((x) => convert(type, x));
  if (type === 'int64') return BigInt(v);
  if (type === 'float') return number(v, true);
  if (type === 'double') return number(v, false);
  return v;
}

// expected.json with values as JS values: BigInt for int64, numbers with
// NaN/±Infinity/-0 restored for floats.
export function loadExpected(file) {
  const e = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const col of e.columns) e.table.columns[col.name] = e.table.columns[col.name].map((v) => convert(col.type, v));
  return e;
}

// Exact equality: NaN equals NaN, -0 differs from +0, int64 compared as BigInt.
export function sameValue(type, got, want) {
  if (want === null) return got === null || got === undefined;
  if (got === null || got === undefined) return false;
  if (type === 'int64') return typeof got === 'bigint' ? got === want : BigInt(got) === want;
  if (type === 'float' || type === 'double') return Object.is(Number(got), want);
  return got === want;
}
