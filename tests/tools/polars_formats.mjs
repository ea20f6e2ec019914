// polars_formats.mjs EXPORT.csv ROWS
// Loads an `llmops export --format csv` file with nodejs-polars (from
// tests/node/node_modules, as tests/e2e/polars_check.mjs does) and checks
// that type inference gets the columns right: integer token counts, Float64
// latency (even where a latency is whole: 2.0, not 2), Boolean stream.
// Exit 1 with a list of problems otherwise.
import { createRequire } from "node:module";

const require = createRequire(new URL("../node/package.json", import.meta.url));
const pl = require("nodejs-polars");

const [path, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };

// every row, not the default first 100, decides a column's type
const df = pl.readCSV(path, { inferSchemaLength: Math.max(rows, 100) });
const variant = (c) => df.getColumn(c).dtype.variant;

check(df.height === rows, `rows: got ${df.height}, want ${rows}`);
for (const c of ["input_tokens", "output_tokens", "http_status", "pid"]) {
  check(variant(c) === "Int64", `${c}: dtype ${variant(c)}, want Int64`);
}
for (const c of ["latency_ms", "ttfb_ms", "temperature"]) {
  check(variant(c) === "Float64", `${c}: dtype ${variant(c)}, want Float64`);
}
check(variant("stream") === "Bool", `stream: dtype ${variant("stream")}, want Boolean`);
check(variant("truncated") === "Bool", `truncated: dtype ${variant("truncated")}, want Boolean`);
check(variant("provider") === "String" || variant("provider") === "Utf8",
      `provider: dtype ${variant("provider")}, want String`);

// the values survive too: summed tokens equal what the test computed
const sumIn = df.getColumn("input_tokens").sum();
console.log(`input_tokens_sum=${sumIn}`);

if (problems.length) {
  console.error(`polars_formats: ${problems.length} problem(s) in ${path}:`);
  for (const p of problems) console.error("  " + p);
  console.error(df.schema);
  process.exit(1);
}
console.error(`polars_formats: ${df.height} rows OK`);
