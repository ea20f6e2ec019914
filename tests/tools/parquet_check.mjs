// parquet_check.mjs: reads Parquet files with two independent readers,
// nodejs-polars and DuckDB (@duckdb/node-api), both from tests/node, and
// compares every column's type and every value with what was meant.
//
//   node parquet_check.mjs fuzz DIR CASES
//     DIR/i.parquet against DIR/i.json (tests/tools/parquet_fuzz.c says how
//     the values are spelled)
//   node parquet_check.mjs export record.h FILE.parquet FILE.ndjson [...]
//     each `llmops export --format parquet` against the NDJSON export of the
//     same store: every schema field (record.h) a column of the right type,
//     every value equal, nulls included
//
// Each reader's table is first put in one spelling: int64 and timestamps
// (microseconds) as decimal strings, doubles as numbers, strings, booleans,
// null. Exit 1 with the first problems otherwise.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(new URL("../node/package.json", import.meta.url));
const pl = require("nodejs-polars");
const { DuckDBInstance } = require("@duckdb/node-api");

const problems = [];
const problem = (what) => {
  if (problems.length < 30) problems.push(what);
};

const POLARS = {
  bool: "DataType(Bool)",
  int64: "DataType(Int64)",
  double: "DataType(Float64)",
  string: "DataType(String)",
  timestamp: "DataType(Datetime(us,UTC))",
};
const DUCK = {
  bool: "BOOLEAN",
  int64: "BIGINT",
  double: "DOUBLE",
  string: "VARCHAR",
  timestamp: "TIMESTAMP WITH TIME ZONE",
};

// columns: [{name, type}]; returns {name: [values]}
function readPolars(path, columns) {
  const df = pl.readParquet(path);
  const out = { rows: df.height };
  if (df.width !== columns.length) problem(`polars: ${df.width} columns, want ${columns.length}`);
  for (const { name, type } of columns) {
    if (!df.columns.includes(name)) {
      problem(`polars: no column ${name}`);
      continue;
    }
    const dt = String(df.getColumn(name).dtype);
    if (dt !== POLARS[type]) problem(`polars: ${name} is ${dt}, want ${POLARS[type]}`);
    if (type === "int64" || type === "timestamp") {
      out[name] = df.select(pl.col(name).cast(pl.Int64).cast(pl.Utf8)).getColumn(name).toArray();
    } else {
      out[name] = df.getColumn(name).toArray();
    }
  }
  return out;
}

async function readDuck(con, path, columns) {
  const file = path.replaceAll("'", "''");
  const src = `read_parquet('${file}', file_row_number = true)`;
  const desc = (await con.runAndReadAll(`DESCRIBE SELECT * EXCLUDE (file_row_number) FROM ${src}`))
    .getRowObjects();
  const types = Object.fromEntries(desc.map((r) => [r.column_name, r.column_type]));
  for (const { name, type } of columns) {
    if (types[name] !== DUCK[type]) problem(`duckdb: ${name} is ${types[name]}, want ${DUCK[type]}`);
  }
  if (desc.length !== columns.length) problem(`duckdb: ${desc.length} columns, want ${columns.length}`);
  const sel = columns.map(({ name, type }) => {
    const q = `"${name}"`;
    if (type === "int64") return `CAST(${q} AS VARCHAR) AS ${q}`;
    if (type === "timestamp") return `CAST(epoch_us(${q}) AS VARCHAR) AS ${q}`;
    return q;
  });
  const res = await con.runAndReadAll(`SELECT ${sel.join(", ")} FROM ${src} ORDER BY file_row_number`);
  const rows = res.getRows();
  const out = { rows: rows.length };
  columns.forEach(({ name }, i) => {
    out[name] = rows.map((r) => r[i]);
  });
  return out;
}

const bits = (d) => {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, d);
  return v.getBigUint64(0).toString(16).padStart(16, "0");
};

// want: {name: [values]} in the common spelling; same(type, got, want)
function compare(reader, columns, got, want, nrows, same) {
  if (got.rows !== nrows) problem(`${reader}: ${got.rows} rows, want ${nrows}`);
  for (const { name, type } of columns) {
    const g = got[name];
    if (!g) continue;
    for (let r = 0; r < nrows; r++) {
      const w = want[name][r];
      const v = g[r] === undefined ? null : g[r];
      const ok = w === null || v === null ? w === v : same(type, v, w, name);
      if (!ok) {
        const show = (x) => (typeof x === "string" && x.length > 80 ? x.slice(0, 80) + "..." : x);
        problem(`${reader}: row ${r} ${name} (${type}): got ${show(v)}, want ${show(w)}`);
      }
    }
  }
}

async function fuzz(con, dir, cases) {
  let rows = 0;
  for (let k = 0; k < cases; k++) {
    const meta = JSON.parse(readFileSync(`${dir}/${k}.json`, "utf8"));
    const want = {};
    meta.columns.forEach(({ name, type }, i) => {
      want[name] = meta.rows.map((row) => {
        const c = row[i];
        if (c === null) return null;
        if (type === "double") return c; // bits
        if (type === "string") return Buffer.from(c, "hex").toString("utf8");
        return c;
      });
    });
    const same = (type, v, w) => (type === "double" ? bits(v) === w : v === w);
    const path = `${dir}/${k}.parquet`;
    compare(`polars ${k}`, meta.columns, readPolars(path, meta.columns), want, meta.rows.length, same);
    compare(`duckdb ${k}`, meta.columns, await readDuck(con, path, meta.columns), want,
            meta.rows.length, same);
    rows += meta.rows.length;
  }
  return `${cases} random files, ${rows} rows`;
}

// RFC 3339 UTC with up to microseconds -> microseconds since the epoch, as a string
function micros(t) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z$/.exec(t);
  if (!m) return undefined;
  const s = BigInt(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000);
  return (s * 1000000n + BigInt((m[7] || "").padEnd(6, "0"))).toString();
}

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || !a || !b) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && deepEqual(a[k], b[k]));
}

async function exportCheck(con, parquet, ndjson, header) {
  const TYPES = { STR: "string", INT: "int64", REAL: "double", BOOL: "bool", TIME: "timestamp",
                  JSON: "string", MAP: "string", ARRAY: "string" };
  const fields = [...readFileSync(header, "utf8").matchAll(/X\(\w+,\s*"(\w+)",\s*LLM_T_(\w+)\)/g)]
    .map((m) => ({ name: m[1], kind: m[2], type: TYPES[m[2]] }));
  const recs = readFileSync(ndjson, "utf8").split("\n").filter((l) => l).map((l) => JSON.parse(l));
  const kind = Object.fromEntries(fields.map((f) => [f.name, f.kind]));
  const want = {};
  // members of a newer schema: one JSON object in a last column, null when none
  const extra = recs.map((rec) => {
    const o = Object.fromEntries(Object.entries(rec).filter(([k]) => !(k in kind)));
    return Object.keys(o).length ? o : null;
  });
  for (const { name, kind: k } of fields) {
    want[name] = recs.map((rec) => {
      const v = rec[name];
      if (v === null || v === undefined) return null;
      if (k === "TIME") return micros(v) ?? null;
      if (k === "INT") return String(v);
      return v; // nested values: compared parsed
    });
  }
  fields.push({ name: "extra_fields", kind: "MAP", type: "string" });
  kind.extra_fields = "MAP";
  want.extra_fields = extra;
  let nulls = 0;
  for (const f of fields) nulls += want[f.name].filter((v) => v === null).length;
  const same = (type, v, w, name) => {
    if (type === "double") return Number(Number(v).toPrecision(15)) === w;
    if (kind[name] === "MAP" || kind[name] === "ARRAY") return deepEqual(JSON.parse(v), w);
    return v === w;
  };
  compare("polars", fields, readPolars(parquet, fields), want, recs.length, same);
  compare("duckdb", fields, await readDuck(con, parquet, fields), want, recs.length, same);
  return `${recs.length} records x ${fields.length} columns (${nulls} nulls) equal in both readers`;
}

const [mode, ...args] = process.argv.slice(2);
const instance = await DuckDBInstance.create(":memory:");
const con = await instance.connect();
let summary;
if (mode === "fuzz") summary = await fuzz(con, args[0], Number(args[1]));
else if (mode === "export") {
  const out = [];
  for (let i = 1; i + 1 < args.length; i += 2) {
    const before = problems.length;
    const what = await exportCheck(con, args[i], args[i + 1], args[0]);
    out.push(`${args[i].replace(/.*\//, "")}: ${what}`);
    if (problems.length > before) problems.splice(before, 0, `in ${args[i]}:`);
  }
  summary = out.join("; ");
}
else {
  console.error("usage: parquet_check.mjs fuzz DIR CASES | export record.h FILE.parquet FILE.ndjson ...");
  process.exit(2);
}
if (problems.length) {
  console.error(`parquet_check: ${problems.length} problem(s):`);
  for (const p of problems) console.error("  " + p);
  process.exit(1);
}
console.log(summary);
