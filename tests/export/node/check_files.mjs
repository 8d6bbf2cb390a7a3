// Reads every parquet file pq-write-cases writes with independent readers
// (hyparquet with its own snappy and with hysnappy, DuckDB) and compares every
// value with expected.json; checks row groups, encodings, codec, statistics
// (computed here from the values), logical types, key/value metadata, and
// decodes ARROW:schema with apache-arrow.
//
//   node check_files.mjs PATH/TO/pq-write-cases
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readers, loadExpected, sameValue, fail, failures } from './common.mjs';

const writer = process.argv[2];
if (!writer) {
  console.error('usage: node check_files.mjs PQ_WRITE_CASES');
  process.exit(2);
}
const { hyparquet, compressors, DuckDBInstance, arrow } = await readers();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teleop-pq-'));
const run = spawnSync(writer, [dir], { stdio: 'inherit' });
if (run.status !== 0) {
  console.error(`FAIL: ${writer} exited with ${run.status ?? run.signal}`);
  process.exit(1);
}
const expected = loadExpected(path.join(dir, 'expected.json'));
const duck = await (await DuckDBInstance.create(':memory:')).connect();
const sql = async (q) => (await duck.runAndReadAll(q)).getRowObjectsJS();

// Columns where a dictionary is smaller than PLAIN with the default limit.
const DICT_COLUMNS = new Set(['episode_index', 'task', 'tasks', 'stats/action/count', 'bucket']);
const ARROW_TYPES = {
  int64: 'Int64', float: 'Float32', double: 'Float64', bool: 'Bool', string: 'Utf8',
};
const DUCK_TYPES = { int64: 'BIGINT', float: 'FLOAT', double: 'DOUBLE', bool: 'BOOLEAN', string: 'VARCHAR' };

// ---- statistics, computed from the expected values ----
function leafValues(col, values) {
  const out = [];
  let slots = 0;
  for (const v of values) {
    if (col.shape === 'scalar') {
      slots++;
      if (v !== null) out.push(v);
    } else if (v === null || v.length === 0) {
      slots++;
    } else {
      slots += v.length;
      out.push(...v);
    }
  }
  return { out, nulls: slots - out.length };
}

// The documented rule: INT64 and STRING chunks are dictionary encoded when
// the dictionary's PLAIN size is within dictionary_bytes and dictionary +
// bit-packed indices are smaller than PLAIN.
function wantDictionary(file, col, leaves) {
  if (!file.dictionary || (col.type !== 'int64' && col.type !== 'string') || leaves.length === 0) return false;
  const size = (v) => (col.type === 'int64' ? 8 : 4 + Buffer.byteLength(v, 'utf8'));
  const distinct = new Set(leaves.map((v) => String(v)));
  let dictBytes = 0;
  for (const v of distinct) dictBytes += size(v);
  if (dictBytes > file.dictionary_bytes) return false;
  let bw = 1;
  while (2 ** bw < distinct.size) bw++;
  const plain = leaves.reduce((a, v) => a + size(String(v)), 0);
  return dictBytes + Math.ceil((leaves.length * bw) / 8) < plain;
}

function expectedStats(col, values) {
  const { out, nulls } = leafValues(col, values);
  let min = null;
  let max = null;
  let nan = 0;
  for (const v of out) {
    if (col.type === 'float' || col.type === 'double') {
      if (Number.isNaN(v)) { nan++; continue; }
      if (min === null || v < min) min = v;
      if (max === null || v > max) max = v;
    } else if (col.type === 'string') {
      const b = Buffer.from(v, 'utf8');
      if (min === null || Buffer.compare(b, min) < 0) min = b;
      if (max === null || Buffer.compare(b, max) > 0) max = b;
    } else {
      if (min === null || v < min) min = v;
      if (max === null || v > max) max = v;
    }
  }
  if (col.type === 'float' || col.type === 'double') {
    if (min === 0) min = -0; // parquet.thrift: a zero min is written as -0.0, a zero max as +0.0
    if (max === 0) max = 0;
  }
  if (col.type === 'string' && min !== null) {
    // documented: string bounds longer than 1024 bytes are left out
    if (min.length > 1024 || max.length > 1024) return { min: null, max: null, nulls, nan };
    min = min.toString('utf8');
    max = max.toString('utf8');
  }
  return { min, max, nulls, nan };
}

function checkFile(file) {
  const where = `${file.file}`;
  const buf = fs.readFileSync(path.join(dir, file.file));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const rows = file.rows;
  const cols = expected.columns;
  const values = (c) => expected.table.columns[c.name].slice(0, rows);

  // ---- layout ----
  if (buf.subarray(0, 4).toString() !== 'PAR1' || buf.subarray(buf.length - 4).toString() !== 'PAR1')
    fail(`${where}: no PAR1 magic at both ends`);
  const md = hyparquet.parquetMetadata(ab);
  if (Number(md.num_rows) !== rows) fail(`${where}: hyparquet num_rows ${md.num_rows}, wrote ${rows}`);
  if (md.created_by !== file.created_by) fail(`${where}: created_by ${md.created_by}`);
  const groups = rows === 0 ? 0 : Math.ceil(rows / file.row_group_rows);
  if (md.row_groups.length !== groups) fail(`${where}: ${md.row_groups.length} row groups, expected ${groups}`);
  const kv = Object.fromEntries((md.key_value_metadata ?? []).map((e) => [e.key, e.value]));
  for (const [k, v] of Object.entries(file.kv))
    if (kv[k] !== v) fail(`${where}: metadata ${k} = ${JSON.stringify(kv[k])}, wrote ${JSON.stringify(v)}`);
  if (('ARROW:schema' in kv) !== file.arrow_schema) fail(`${where}: ARROW:schema presence wrong`);
  if (Object.keys(kv).length !== Object.keys(file.kv).length + (file.arrow_schema ? 1 : 0))
    fail(`${where}: unexpected metadata keys ${Object.keys(kv)}`);

  // Column chunks tile the file: each starts where the previous ended
  // (sizes and offsets from the footer), the last ends at the footer.
  let pos = 4;
  md.row_groups.forEach((rg, g) => {
    if (Number(rg.file_offset) !== pos) fail(`${where}: row group ${g} file_offset ${rg.file_offset}, expected ${pos}`);
    let uncompressed = 0;
    rg.columns.forEach((chunk, c) => {
      const m = chunk.meta_data;
      const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
      if (start !== pos) fail(`${where}: row group ${g} column ${c} starts at ${start}, expected ${pos}`);
      if (m.dictionary_page_offset !== undefined && Number(m.data_page_offset) <= start)
        fail(`${where}: row group ${g} column ${c} data page not after its dictionary page`);
      pos += Number(m.total_compressed_size);
      uncompressed += Number(m.total_uncompressed_size);
      if (file.codec === 'UNCOMPRESSED' && m.total_uncompressed_size !== m.total_compressed_size)
        fail(`${where}: uncompressed chunk with different sizes`);
    });
    if (Number(rg.total_byte_size) !== uncompressed) fail(`${where}: row group ${g} total_byte_size ${rg.total_byte_size}`);
  });
  if (pos !== buf.length - 8 - md.metadata_length)
    fail(`${where}: column chunks end at ${pos}, footer starts at ${buf.length - 8 - md.metadata_length}`);

  let firstRow = 0;
  md.row_groups.forEach((rg, g) => {
    const n = Math.min(file.row_group_rows, rows - firstRow);
    if (Number(rg.num_rows) !== n) fail(`${where}: row group ${g} has ${rg.num_rows} rows, expected ${n}`);
    let compressed = 0;
    rg.columns.forEach((chunk, c) => {
      const col = cols[c];
      const m = chunk.meta_data;
      const at = `${where} row group ${g} column ${col.name}`;
      compressed += Number(m.total_compressed_size);
      if (m.codec !== file.codec) fail(`${at}: codec ${m.codec}`);
      const dict = m.encodings.includes('RLE_DICTIONARY');
      const slice = values(col).slice(firstRow, firstRow + n);
      const wantDict = wantDictionary(file, col, leafValues(col, slice).out);
      if (dict !== wantDict) fail(`${at}: encodings ${m.encodings}, dictionary expected ${wantDict}`);
      if (file.file === 'snappy_dict.parquet' && g === 0 && dict !== DICT_COLUMNS.has(col.name))
        fail(`${at}: dictionary ${dict} with the default limit`);
      if (file.file === 'dict_fallback.parquet' && col.name === 'task' && dict)
        fail(`${at}: the task dictionary is over dictionary_bytes, PLAIN expected`);
      if (dict !== (m.dictionary_page_offset !== undefined)) fail(`${at}: dictionary_page_offset inconsistent`);
      const want = expectedStats(col, values(col).slice(firstRow, firstRow + n));
      const s = m.statistics;
      if (Number(s.null_count) !== want.nulls) fail(`${at}: null_count ${s.null_count}, expected ${want.nulls}`);
      if (!sameValue(col.type, s.min_value ?? null, want.min) || !sameValue(col.type, s.max_value ?? null, want.max))
        fail(`${at}: statistics min/max ${String(s.min_value)}/${String(s.max_value)}, expected ${String(want.min)}/${String(want.max)}`);
      if (file.file === 'snappy_dict.parquet' && (col.name === 'observation.state' || col.name === 'action')) {
        // Pages are cut at the first row boundary after page_bytes (16384) of values.
        const pages = (m.encoding_stats ?? []).filter((e) => e.page_type === 'DATA_PAGE').reduce((a, e) => a + e.count, 0);
        const bytes = leafValues(col, slice).out.length * 4;
        const lo = Math.floor(bytes / (16384 + 28 * 4));
        const hi = Math.ceil(bytes / 16384);
        if (pages < lo || pages > hi) fail(`${at}: ${pages} data pages for ${bytes} bytes, expected ${lo}..${hi}`);
      }
    });
    if (Number(rg.total_compressed_size ?? compressed) !== compressed) fail(`${where}: row group ${g} total_compressed_size`);
    firstRow += n;
  });
  return { ab, md, kv };
}

function compareRows(where, reader, got) {
  const rows = got.length;
  for (const col of expected.columns) {
    const want = expected.table.columns[col.name];
    for (let r = 0; r < rows; r++) {
      const g = got[r][col.name];
      const w = want[r];
      let ok;
      if (w === null) ok = g === null || g === undefined;
      else if (col.shape === 'scalar') ok = sameValue(col.type, g, w);
      else ok = g != null && g.length === w.length && w.every((x, i) => sameValue(col.type, g[i], x));
      if (!ok) {
        fail(`${where} (${reader}): column ${col.name} row ${r}: got ${fmt(g)}, wrote ${fmt(w)}`);
        return;
      }
    }
  }
}

function fmt(v) {
  return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? `${x}n` : Number.isNaN(x) ? 'NaN' : Object.is(x, -0) ? '-0' : x));
}

async function checkDuck(file, md) {
  const f = path.join(dir, file.file).replaceAll("'", "''");
  const where = `${file.file} (DuckDB)`;
  const rows = file.rows;
  const desc = await sql(`DESCRIBE SELECT * FROM read_parquet('${f}')`);
  expected.columns.forEach((col, c) => {
    const base = DUCK_TYPES[col.type];
    // DuckDB maps the Parquet LIST to a variable list (it does not read
    // ARROW:schema for fixed_size_list): FLOAT[] with 28 elements per row.
    const want = col.shape === 'scalar' ? base : `${base}[]`;
    if (desc[c].column_name !== col.name || desc[c].column_type !== want)
      fail(`${where}: column ${c} is ${desc[c].column_name} ${desc[c].column_type}, expected ${col.name} ${want}`);
  });
  const count = await sql(`SELECT count(*) AS n FROM read_parquet('${f}')`);
  if (Number(count[0].n) !== rows) fail(`${where}: count ${count[0].n}`);
  if (rows > 0) {
    const lens = await sql(`SELECT min(len("observation.state")) AS lo, max(len("observation.state")) AS hi,
      count("observation.state") AS n FROM read_parquet('${f}')`);
    const nonNull = expected.table.columns['observation.state'].slice(0, rows).filter((v) => v !== null).length;
    if (Number(lens[0].lo) !== 28 || Number(lens[0].hi) !== 28 || Number(lens[0].n) !== nonNull)
      fail(`${where}: observation.state lengths ${fmt(lens[0])}`);
    const got = await sql(`SELECT * FROM read_parquet('${f}')`);
    compareRows(file.file, 'DuckDB', got);
  }

  const meta = await sql(`SELECT * FROM parquet_metadata('${f}') ORDER BY row_group_id, column_id`);
  let firstRow = 0;
  for (let g = 0; g < md.row_groups.length; g++) {
    const n = Math.min(file.row_group_rows, rows - firstRow);
    expected.columns.forEach((col, c) => {
      const m = meta.find((x) => Number(x.row_group_id) === g && Number(x.column_id) === c);
      const at = `${where} row group ${g} column ${col.name}`;
      if (!m) return fail(`${at}: missing from parquet_metadata`);
      if (Number(m.row_group_num_rows) !== n) fail(`${at}: row_group_num_rows ${m.row_group_num_rows}`);
      if (m.compression !== file.codec) fail(`${at}: compression ${m.compression}`);
      const wantPath = col.shape === 'scalar' ? col.name : `${col.name}, list, element`;
      if (m.path_in_schema !== wantPath) fail(`${at}: path_in_schema ${m.path_in_schema}`);
      const want = expectedStats(col, expected.table.columns[col.name].slice(firstRow, firstRow + n));
      if (Number(m.stats_null_count) !== want.nulls) fail(`${at}: stats_null_count ${m.stats_null_count}, expected ${want.nulls}`);
      for (const [key, w] of [['stats_min_value', want.min], ['stats_max_value', want.max]]) {
        const got = m[key];
        let ok;
        if (w === null) ok = got === null;
        else if (typeof w === 'number' && !Number.isFinite(w)) ok = got === null || Number(got) === w; // DuckDB hides infinite bounds
        else if (col.type === 'string') ok = got === w;
        else if (col.type === 'bool') ok = got === String(w);
        else if (col.type === 'int64') ok = BigInt(got) === w;
        else ok = Object.is(col.type === 'float' ? Math.fround(Number(got)) : Number(got), w);
        if (!ok) fail(`${at}: ${key} ${got}, expected ${String(w)}`);
      }
    });
    firstRow += n;
  }

  const schema = await sql(`SELECT * FROM parquet_schema('${f}')`);
  for (const col of expected.columns) {
    const top = schema.find((s) => s.name === col.name);
    if (!top) { fail(`${where}: ${col.name} missing from parquet_schema`); continue; }
    if (top.repetition_type !== (col.nullable ? 'OPTIONAL' : 'REQUIRED')) fail(`${where}: ${col.name} repetition ${top.repetition_type}`);
    if (col.shape === 'scalar') {
      if (col.type === 'string' && (top.converted_type !== 'UTF8' || !/String/i.test(String(top.logical_type))))
        fail(`${where}: ${col.name} converted/logical type ${top.converted_type} ${top.logical_type}`);
    } else if (top.converted_type !== 'LIST' || !/List/i.test(String(top.logical_type))) {
      fail(`${where}: ${col.name} is not an annotated LIST: ${top.converted_type} ${top.logical_type}`);
    }
  }
  const kvs = await sql(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${f}')`);
  for (const [k, v] of Object.entries(file.kv))
    if (!kvs.some((e) => e.k === k && e.v === v)) fail(`${where}: key/value ${k} missing or different`);
}

function checkArrowSchema(file, kv) {
  if (!file.arrow_schema) return;
  const where = `${file.file} (apache-arrow)`;
  const msg = Buffer.from(kv['ARROW:schema'], 'base64');
  if (msg.readUInt32LE(0) !== 0xffffffff || msg.readInt32LE(4) + 8 !== msg.length || msg.length % 8 !== 0)
    fail(`${where}: not an encapsulated message padded to 8 bytes`);
  // An IPC stream: the schema message, then the end-of-stream marker.
  const stream = Buffer.concat([msg, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])]);
  const table = arrow.tableFromIPC(stream);
  const fields = table.schema.fields;
  if (fields.length !== expected.columns.length) fail(`${where}: ${fields.length} fields`);
  expected.columns.forEach((col, c) => {
    const f = fields[c];
    if (!f) return;
    const at = `${where}: field ${col.name}`;
    if (f.name !== col.name || f.nullable !== col.nullable) fail(`${at}: name/nullable ${f.name} ${f.nullable}`);
    let type = f.type;
    if (col.shape === 'fixed_list') {
      if (!arrow.DataType.isFixedSizeList(type) || type.listSize !== col.list_size)
        return fail(`${at}: expected fixed_size_list[${col.list_size}], got ${type}`);
      type = type.children[0].type;
    } else if (col.shape === 'list') {
      if (!arrow.DataType.isList(type)) return fail(`${at}: expected list, got ${type}`);
      type = type.children[0].type;
    }
    if (type.toString() !== ARROW_TYPES[col.type]) fail(`${at}: element type ${type}, expected ${ARROW_TYPES[col.type]}`);
  });
  for (const [k, v] of Object.entries(file.kv))
    if (table.schema.metadata.get(k) !== v) fail(`${where}: schema metadata ${k} = ${table.schema.metadata.get(k)}`);
}

for (const file of expected.files) {
  const { ab, md, kv } = checkFile(file);
  for (const [name, opts] of [['hyparquet', {}], ['hyparquet+hysnappy', { compressors }]]) {
    const got = await hyparquet.parquetReadObjects({ file: ab, ...opts });
    if (got.length !== file.rows) fail(`${file.file} (${name}): ${got.length} rows, wrote ${file.rows}`);
    compareRows(file.file, name, got);
  }
  await checkDuck(file, md);
  checkArrowSchema(file, kv);
  console.log(`${file.file}: ${file.rows} rows, ${md.row_groups.length} row groups checked`);
}
if (failures() === 0) fs.rmSync(dir, { recursive: true, force: true });
if (failures() > 0) {
  console.error(`${failures()} failure(s); files kept in ${dir}`);
  process.exit(1);
}
console.log('all parquet files read back exactly by hyparquet and DuckDB; ARROW:schema decoded by apache-arrow');
