#!/usr/bin/env bash
# W3C trace context: a request's traceparent/tracestate headers become its
# record's trace_id, parent_span_id and trace_state (collector/attrib.c).
# curl sends three requests on ONE keep-alive HTTP/1.1 connection (a valid
# traceparent with a tracestate, none, a malformed one) and one over HTTP/2
# (h2_server.py); nothing may leak from one request to the next. The fields
# are checked in the NDJSON, CSV and Parquet exports (DuckDB reads the last),
# and in OTLP the span is the child of the traceparent's span, in its trace.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
start_server tls

KEY=$(random_key)
URL=https://api.openai.com/v1/chat/completions
BODY=$E2E_TMP/body.json
vector_field openai_chat_nostream_1 request_body >"$BODY"
TP1=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01
TP2=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00
TS1='congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'
BAD=00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01

DB=$E2E_TMP/db
args=()
seg() {
  ((${#args[@]})) && args+=(--next)
  args+=(--http1.1 -sS -o /dev/null -w '%{num_connects}\n' --cacert "$CA"
    --connect-to "api.openai.com:443:127.0.0.1:$PORT" -H "Authorization: Bearer $KEY"
    -H 'Content-Type: application/json' --data-binary @"$BODY" "$@" "$URL")
}
seg -H "traceparent: $TP1" -H "tracestate: $TS1"
seg
seg -H "traceparent: $BAD" -H "tracestate: $TS1"
with_shim "$DB" curl "${args[@]}" >"$E2E_TMP/connects" || fail "curl failed"
[[ $(tr '\n' ' ' <"$E2E_TMP/connects") == "1 0 0 " ]] ||
  fail "curl did not reuse one connection: $(tr '\n' ' ' <"$E2E_TMP/connects")"
stop_server
start_h2 tls
with_shim "$DB" curl --http2 -sS -o /dev/null --cacert "$CA" \
  --connect-to "api.openai.com:443:127.0.0.1:$PORT" -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' --data-binary @"$BODY" -H "traceparent: $TP2" "$URL" ||
  fail "curl --http2 failed"

export_ndjson "$DB" >"$E2E_TMP/all.ndjson" || fail "export failed"
"$LLMOPS_CLI" export --db "$DB" --format csv >"$E2E_TMP/all.csv" || fail "export csv failed"
"$LLMOPS_CLI" export --db "$DB" --format parquet --out "$E2E_TMP/all.parquet" ||
  fail "export parquet failed"
"$PY" - "$E2E_TMP/all.ndjson" "$E2E_TMP/all.csv" "$TP1" "$TS1" "$TP2" <<'EOF' || fail "trace context"
import csv, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
rows = list(csv.DictReader(open(sys.argv[2], newline="")))
tp1, ts1, tp2 = sys.argv[3].split("-"), sys.argv[4], sys.argv[5].split("-")
want = [(tp1[1], tp1[2], ts1), (None, None, None), (None, None, None), (tp2[1], tp2[2], None)]
assert len(recs) == 4, "%d records" % len(recs)
for i, (rec, row, w) in enumerate(zip(recs, rows, want)):
    got = (rec["trace_id"], rec["parent_span_id"], rec["trace_state"])
    assert got == w, "record %d: %r, want %r" % (i, got, w)
    csv_got = tuple(row[k] or None for k in ("trace_id", "parent_span_id", "trace_state"))
    assert csv_got == w, "csv row %d: %r, want %r" % (i, csv_got, w)
assert recs[3]["http_version"] == "2", recs[3]["http_version"]
print("trace context of 4 requests as sent")
EOF
NODE_DIR=$LLMOPS_SRC/tests/node
[[ -d $NODE_DIR/node_modules/@duckdb/node-api ]] || fail "tests/node lacks @duckdb/node-api (scripts/node-deps)"
got=$(cd "$NODE_DIR" && node --input-type=module -e '
import { createRequire } from "node:module";
const require = createRequire(process.cwd() + "/package.json");
const { DuckDBInstance } = require("@duckdb/node-api");
const con = await (await DuckDBInstance.create(":memory:")).connect();
const q = "SELECT coalesce(trace_id, $$-$$) || $$/$$ || coalesce(parent_span_id, $$-$$) || $$/$$ || coalesce(trace_state, $$-$$) FROM read_parquet($1) ORDER BY timestamp";
const r = await con.runAndReadAll(q, [process.argv[1]]);
console.log(r.getRows().map((x) => x[0]).join(" "));' "$E2E_TMP/all.parquet") || fail "duckdb: $got"
want="${TP1:3:32}/${TP1:36:16}/$TS1 -/-/- -/-/- ${TP2:3:32}/${TP2:36:16}/-"
[[ $got == "$want" ]] || fail "parquet: $got, want $want"
# OTLP: the span of each call made with a traceparent is a child of that parent
"$LLMOPS_CLI" export --db "$DB" --format otlp-json >"$E2E_TMP/all.otlp" || fail "export otlp-json failed"
"$PY" - "$E2E_TMP/all.otlp" "$TP1" "$TS1" "$TP2" <<'EOF' || fail "otlp spans"
import json, sys
spans = [s for l in open(sys.argv[1]) for rs in json.loads(l)["resourceSpans"]
         for ss in rs["scopeSpans"] for s in ss["spans"]]
tp1, ts1, tp2 = sys.argv[2].split("-"), sys.argv[3], sys.argv[4].split("-")
assert len(spans) == 4, len(spans)
got = [(s["traceId"], s.get("parentSpanId"), s.get("traceState")) for s in spans]
assert got[0] == (tp1[1], tp1[2], ts1), got[0]
assert got[3] == (tp2[1], tp2[2], None), got[3]
for g in got[1:3]:
    assert g[1] is None and g[2] is None and g[0] not in (tp1[1], tp2[1]), g
print("spans nest under the callers' traces")
EOF
log "ok: traceparent/tracestate -> trace_id, parent_span_id, trace_state (HTTP/1.1 keep-alive, HTTP/2; NDJSON, CSV, Parquet, OTLP)"
