// polars_check.mjs EXPORT.ndjson ROWS SESSION_ID
// Loads an `llmops export --format ndjson` file with nodejs-polars (from
// tests/node/node_modules) and checks that it is a well-typed table: integer
// token counts, Float64 latency, Boolean stream, extras as a Struct, and that
// the usual filter works. Exit 1 with a list of problems otherwise.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../node/package.json", import.meta.url));
const pl = require("nodejs-polars");

const [path, rowsArg, sessionId] = process.argv.slice(2);
const rows = Number(rowsArg);
const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };

// nodejs-polars 0.25.2: readJSON(<path>, {format: "lines"}) calls a native
// readJsonLines that its binding does not export (TypeError: method is not a
// function); given a Buffer it reads NDJSON through the native readJson.
let df;
try {
  df = pl.readJSON(path, { format: "lines" });
} catch (e) {
  if (!(e instanceof TypeError)) throw e;
  df = pl.readJSON(readFileSync(path), { format: "lines" });
}
const dtype = (c) => df.getColumn(c).dtype;
const variant = (c) => dtype(c).variant;

check(df.height === rows, `rows: got ${df.height}, want ${rows}`);
const ints = ["Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"];
for (const c of ["input_tokens", "output_tokens", "total_tokens", "http_status", "pid"]) {
  check(ints.includes(variant(c)), `${c}: dtype ${variant(c)}, want an integer type`);
}
for (const c of ["latency_ms", "ttfb_ms"]) {
  check(variant(c) === "Float64", `${c}: dtype ${variant(c)}, want Float64`);
}
check(variant("stream") === "Bool", `stream: dtype ${variant("stream")}, want Boolean`);
check(variant("provider") === "String" || variant("provider") === "Utf8",
      `provider: dtype ${variant("provider")}, want String`);
check(variant("argv") === "List", `argv: dtype ${variant("argv")}, want List`);

const ex = dtype("extras");
if (ex.variant !== "Struct") {
  problems.push(`extras: dtype ${ex.variant}, want Struct`);
} else {
  const names = ex.fields.map((f) => f.name).sort();
  if (JSON.stringify(names) !== JSON.stringify(["run", "team"])) {
    problems.push(`extras fields: ${JSON.stringify(names)}, want ["run","team"]`);
  } else {
    const team = df.select(pl.col("extras").struct.field("team")).getColumn("team").toArray();
    const run = df.select(pl.col("extras").struct.field("run")).getColumn("run").toArray();
    check(team.every((t) => t === "core"), `extras.team values ${JSON.stringify(team)}`);
    check(run.every((r) => Number(r) === 7), `extras.run values ${JSON.stringify(run.map(String))}`);
  }
}

const sess = df.getColumn("session_id").toArray();
check(sess.every((s) => s === sessionId), `session_id values ${JSON.stringify(sess)}, want ${sessionId}`);

const fast = df.filter(pl.col("provider").eq(pl.lit("openai")).and(pl.col("latency_ms").lt(1000)));
check(fast.height === rows,
      `filter provider == "openai" && latency_ms < 1000: ${fast.height} rows, want ${rows}`);
const withTokens = df.filter(pl.col("input_tokens").isNotNull()).height;
check(withTokens > 0, "no row has input_tokens");

// Timestamps parse as datetimes (this binding parses only to ms precision).
const ts = df.select(pl.col("timestamp").str.strptime(pl.Datetime("ms"), "%Y-%m-%dT%H:%M:%S%.fZ"));
check(ts.getColumn("timestamp").nullCount() === 0, "timestamp: some values do not parse");

if (problems.length) {
  console.error(`polars_check: ${problems.length} problem(s) in ${path}:`);
  for (const p of problems) console.error("  " + p);
  console.error(df.schema);
  process.exit(1);
}
console.error(`polars_check: ${df.height} rows OK (${withTokens} with tokens)`);
