// polars_docs.mjs CALLS.ndjson CALLS.csv CALLS.sqlite.json OUT.json [CALLS.parquet]
// The docs/polars.md snippets, step for step, in nodejs-polars: load each
// export (Parquet, read typed as it is; NDJSON; CSV; the SQLite export's llm_operations rows as the
// sqlite3 CLI prints them with -json, standing in for pl.read_database,
// which Node lacks), then run the four everyday analyses on each. Writes
// {ndjson|csv|sqlite: {daily, latency, extras, sessions}} to OUT.json for
// tests/e2e/test_polars_docs.sh to check against its own Python sums.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("./package.json", import.meta.url));
const pl = require("nodejs-polars");

const [ndjsonPath, csvPath, sqlitePath, outPath, parquetPath] = process.argv.slice(2);
const TS = "%Y-%m-%dT%H:%M:%S%.fZ";

// nodejs-polars 0.25.2 reads NDJSON only from a Buffer (see
// tests/e2e/polars_check.mjs); a large inferSchemaLength is the docs'
// infer_schema_length=None: every row decides the types and extras' keys.
const ndjson = pl.readJSON(readFileSync(ndjsonPath), { format: "lines", inferSchemaLength: 1e6 });
const extrasType = ndjson.getColumn("extras").dtype;
// CSV and SQLite carry extras as JSON text: decode it (the docs' json_decode;
// this binding needs the struct type, which the NDJSON read inferred).
const decode = (df) => df.withColumns(pl.col("extras").str.jsonDecode(extrasType));
const csv = decode(pl.readCSV(csvPath, { inferSchemaLength: 1e6 }));
const sqliteRows = readFileSync(sqlitePath);
const sqlite = decode(pl.readJSON(sqliteRows, { format: "json", inferSchemaLength: 1e6 }));

// Times: the docs parse `timestamp` (to_datetime); from SQLite they use
// from_epoch(timestamp_us). This binding parses text only to milliseconds,
// which does not move a UTC day.
// Parquet's timestamp is a UTC datetime already (fromEpoch "typed").
const withDay = (df, fromEpoch) =>
  df.withColumns(
    (fromEpoch === "typed"
      ? pl.col("timestamp")
      : fromEpoch
        ? pl.col("timestamp_us").cast(pl.Datetime("us"))
        : pl.col("timestamp").str.strptime(pl.Datetime("ms"), TS)
    ).dt.strftime("%Y-%m-%d").alias("day"),
  );

// The docs' "null everywhere" step: numeric types pinned after loading.
const FLOATS = ["latency_ms", "ttfb_ms", "ttft_ms", "cost_usd", "temperature", "top_p"];
const INTS = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
  "reasoning_tokens", "total_tokens"];
const pin = (df) =>
  df.withColumns(...FLOATS.map((c) => pl.col(c).cast(pl.Float64)),
    ...INTS.map((c) => pl.col(c).cast(pl.Int64)));

function analyses(df, fromEpoch) {
  df = withDay(pin(df), fromEpoch);
  const daily = df
    .groupBy(["day", "model"])
    .agg(
      pl.col("operation_id").count().alias("calls"),
      pl.col("input_tokens").sum(),
      pl.col("output_tokens").sum(),
      pl.col("cost_usd").sum(),
      pl.col("cost_usd").isNull().sum().alias("unpriced_calls"),
    )
    .sort(["day", "model"]);
  const latency = df
    .filter(pl.col("status").eq(pl.lit("ok")))
    .groupBy("provider")
    .agg(
      pl.col("latency_ms").count().alias("calls"),
      pl.col("latency_ms").quantile(0.95, "linear").alias("p95_ms"),
      pl.col("latency_ms").median().alias("p50_ms"),
      pl.col("ttft_ms").quantile(0.95, "linear").alias("p95_ttft_ms"),
    )
    .sort("provider");
  const extras = df.select("operation_id", "extras").unnest("extras").sort("operation_id");
  const sessions = df
    .groupBy(["session_id", "agent_id"])
    .agg(
      pl.col("operation_id").count().alias("calls"),
      pl.col("input_tokens").sum(),
      pl.col("output_tokens").sum(),
      pl.col("input_tokens").fillNull(0).add(pl.col("output_tokens").fillNull(0)).sum().alias("tokens"),
    )
    .sort("tokens", true);
  const rows = (d) => d.toRecords();
  return { daily: rows(daily), latency: rows(latency), extras: rows(extras), sessions: rows(sessions) };
}

const out = {
  ndjson: analyses(ndjson, false),
  csv: analyses(csv, false),
  sqlite: analyses(sqlite, true),
  // the docs' Parquet load: every column typed in the file; extras is JSON text
  ...(parquetPath ? { parquet: analyses(decode(pl.readParquet(parquetPath)), "typed") } : {}),
  types: Object.fromEntries(
    ["input_tokens", "latency_ms", "stream", "extras"].map((c) => [c, ndjson.getColumn(c).dtype.variant]),
  ),
};
// BigInt-safe: token sums are small, but Int64 columns may come back as BigInt
writeFileSync(outPath, JSON.stringify(out, (k, v) => (typeof v === "bigint" ? Number(v) : v), 1));
console.error(`polars_docs: ${ndjson.height} calls analysed from NDJSON, CSV and SQLite`);
