#!/usr/bin/env bash
# OpenTelemetry: `export --format otlp-json` and `sync --to otlp+http://`
# (tools/otlp.c, export_otlp.c, otlp_sync.c) against a local OTLP/HTTP
# receiver (otlp.mjs) that decodes every request with the official
# opentelemetry-proto definitions. otlp.mjs check holds every span (name,
# kind, times, ids, parent, status, every GenAI attribute, resource) and the
# GenAI metrics against the NDJSON export of the same store. Then: headers
# from --header and OTEL_EXPORTER_OTLP_HEADERS; a second sync ships nothing;
# a receiver answering 503 then 429 then 200 gets each span exactly once; a
# receiver that is down fails the sync and leaves the cursor where it was, and
# the next sync ships what was missing, each span once over both runs.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OTLP=$SRC/tests/tools/otlp.mjs
NODE_DIR=$SRC/tests/node
if [[ ! -d $NODE_DIR/node_modules/@opentelemetry/otlp-transformer ]]; then
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2 || fail "npm ci failed"
fi
command -v mdb_dump >/dev/null || fail "mdb_dump is missing (lmdb-utils)"
export LLMOPS_OTLP_RETRY_MS=50
unset OTEL_EXPORTER_OTLP_HEADERS OTEL_SERVICE_NAME

# cursor DB: the store's sync cursors, "name=ULID" lines
cursor() {
    mdb_dump -s meta -p "$1" | "$PY" -c '
import sys
lines = sys.stdin.read().split("HEADER=END\n")[1].split("DATA=END")[0].splitlines()
for k, v in zip(lines[0::2], lines[1::2]):
    if k.strip().startswith("sync "):
        print("%s=%s" % (k.strip(), v.strip()))'
}
RECEIVERS=()
# receive NAME [ARGS]: a receiver logging into $T/NAME; its port in $PORT
receive() {
    local name=$1 i
    shift
    mkdir -p "$T/$name"
    rm -f "$T/$name.port"
    node "$OTLP" receive "$T/$name.port" "$T/$name" "$@" 2>>"$T/$name.err" &
    RECEIVERS+=($!)
    RPID=$!
    for ((i = 0; i < 200; i++)); do
        [[ -s $T/$name.port ]] && break
        sleep 0.05
    done
    [[ -s $T/$name.port ]] || fail "receiver $name did not start: $(cat "$T/$name.err")"
    PORT=$(<"$T/$name.port")
}
trap 'for p in "${RECEIVERS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"' EXIT

# records with the shapes the spans must carry: a caller's trace context,
# content (messages and output), an error without a type, no end time
cat >"$T/edge.ndjson" <<'EOF'
{"timestamp":"2025-05-01T10:00:00.250000Z","end_timestamp":"2025-05-01T10:00:01.5Z","operation_type":"chat","provider":"openai","request_model":"gpt-4o-mini","response_model":"gpt-4o-mini-2024-07-18","server_address":"api.openai.com","server_port":443,"http_status":200,"status":"ok","input_tokens":12,"output_tokens":40,"cache_read_tokens":4,"reasoning_tokens":0,"finish_reason":"stop","temperature":0.2,"top_p":1.0,"max_tokens":256,"completion_args":"{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Say h\u00e9llo\"}]}","response":"H\u00e9llo \u4e16\u754c","trace_id":"0af7651916cd43dd8448eb211c80319c","parent_span_id":"b7ad6b7169203331","trace_state":"congo=t61rcWkgMzE","session_id":"run-42","agent_id":"planner","exe":"/usr/bin/python3.11","argv":["python3","agent.py"],"pid":77,"ppid":1,"hostname":"h1"}
{"timestamp":"2025-05-01T10:00:02Z","operation_type":"chat","provider":"anthropic","request_model":"claude-sonnet-4-5","status":"error","http_status":529,"latency_ms":120.5,"error_message":"Overloaded"}
EOF
"$MKSTORE" --db "$T/s" --count 300 --seed 5 --known --error-pct 20 --null-tokens-pct 20 \
    --json "$T/edge.ndjson" --end 2025-06-01T00:00:00Z
expect_success "export ndjson" "$LLMOPS" export --db "$T/s"
mv "$T/out" "$T/s.ndjson"
N=$(wc -l <"$T/s.ndjson")

# --- export --format otlp-json -------------------------------------------------
expect_success "export otlp-json" "$LLMOPS" export --db "$T/s" --format otlp-json
mv "$T/out" "$T/export.jsonl"
why=$(node "$OTLP" check "$T/s.ndjson" "$T/export.jsonl" 2>&1) || fail "otlp-json export: $why"
ok "export --format otlp-json: $why"

# --- sync ------------------------------------------------------------------------
receive ok
URL=otlp+http://127.0.0.1:$PORT
OTEL_EXPORTER_OTLP_HEADERS='x-team=blue%20team,x-other=1' OTEL_SERVICE_NAME=svc-a \
    expect_success "sync" "$LLMOPS" sync --db "$T/s" --to "$URL" --settle 0 --batch 100 \
    --header 'Authorization: Bearer tok-1' --header 'x-other: 2'
grep -q "^shipped $N records, cursor [0-9A-Z]\{26\}$" "$T/out" || fail "sync said: $(cat "$T/out")"
why=$(OTEL_SERVICE_NAME=svc-a node "$OTLP" check "$T/s.ndjson" "$T/ok/traces.jsonl" \
    "$T/ok/metrics.jsonl" 2>&1) || fail "sync: $why"
ok "sync to otlp+http: $why"
"$PY" - "$T/ok/headers.jsonl" <<'EOF' || fail "headers"
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1])]
assert hs and all(h.get("authorization") == "Bearer tok-1" and h.get("x-team") == "blue team"
                  and "2" in h.get("x-other", "") for h in hs), hs[0]
EOF
ok "headers: --header and OTEL_EXPORTER_OTLP_HEADERS (percent-decoded) on every request"
"$PY" - "$T/export.jsonl" "$T/ok/traces.jsonl" <<'EOF' || fail "span ids differ between export and sync"
import json, sys
def ids(path):
    return sorted(s["spanId"] + s["traceId"] for l in open(path) for rs in json.loads(l)["resourceSpans"]
                  for ss in rs["scopeSpans"] for s in ss["spans"])
assert ids(sys.argv[1]) == ids(sys.argv[2])
EOF
ok "span and trace ids are the same in the export and the sync (derived from the record)"
[[ $(cursor "$T/s") == "sync otlp+http://127.0.0.1:$PORT=$(tail -1 "$T/s.ndjson" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["operation_id"])')" ]] ||
    fail "cursor: $(cursor "$T/s")"
lines=$(wc -l <"$T/ok/traces.jsonl")
expect_success "sync again" "$LLMOPS" sync --db "$T/s" --to "$URL" --settle 0
grep -q '^shipped 0 records' "$T/out" && [[ $(wc -l <"$T/ok/traces.jsonl") == "$lines" ]] ||
    fail "a second sync sent again: $(cat "$T/out")"
ok "the cursor is the last record; a second sync sends nothing"

# --- 503, then 429 (Retry-After: 1), then 200 ----------------------------------------
receive flaky --fail 503,429,503
expect_success "sync through 503/429" "$LLMOPS" sync --db "$T/s" --to "otlp+http://127.0.0.1:$PORT" \
    --settle 0 --batch 100
[[ $(wc -l <"$T/flaky/refused.log") == 3 ]] || fail "refusals: $(cat "$T/flaky/refused.log")"
why=$(node "$OTLP" check "$T/s.ndjson" "$T/flaky/traces.jsonl" "$T/flaky/metrics.jsonl" 2>&1) ||
    fail "after 503/429: $why"
ok "503, 429, 503 then 200: retried, each span exactly once: $why"

# --- a receiver that is down ---------------------------------------------------------
"$MKSTORE" --db "$T/d" --count 100 --seed 8 --end 2025-06-01T00:00:00Z
receive down1
DPORT=$PORT
expect_success "sync before the outage" "$LLMOPS" sync --db "$T/d" --to "otlp+http://127.0.0.1:$DPORT" \
    --settle 0
before=$(cursor "$T/d")
[[ -n $before ]] || fail "no cursor after the first sync"
"$MKSTORE" --db "$T/d" --count 60 --seed 9 --end 2025-07-01T00:00:00Z # newer than the cursor
kill "$RPID"
wait "$RPID" 2>/dev/null || true
expect_error "sync, receiver down" 1 "$LLMOPS" sync --db "$T/d" --to "otlp+http://127.0.0.1:$DPORT" \
    --settle 0
[[ $(cursor "$T/d") == "$before" ]] || fail "the cursor moved: $(cursor "$T/d")"
ok "receiver down: exit 1, the cursor stays at ${before##*=}"
receive down2 --port "$DPORT"
expect_success "sync, receiver back" "$LLMOPS" sync --db "$T/d" --to "otlp+http://127.0.0.1:$DPORT" \
    --settle 0
grep -q '^shipped 60 records' "$T/out" || fail "after the outage: $(cat "$T/out")"
"$LLMOPS" export --db "$T/d" >"$T/d.ndjson"
cat "$T/down1/traces.jsonl" "$T/down2/traces.jsonl" >"$T/both.jsonl"
why=$(node "$OTLP" check "$T/d.ndjson" "$T/both.jsonl" 2>&1) || fail "after the outage: $why"
ok "back up: the rest shipped, nothing lost, nothing twice over the two receivers: $why"

expect_error "sync: bad --header" 2 "$LLMOPS" sync --db "$T/s" --to "$URL" --header nocolon
expect_error "sync: --header with postgres" 2 "$LLMOPS" sync --db "$T/s" \
    --to postgresql://127.0.0.1/x --header 'a: b'
echo "all $passed otlp checks passed"
