#!/usr/bin/env bash
# docs/polars.md, checked: a store recorded under the shim (curl calls to the
# replay server posing as several providers, in three sessions, with
# LLMOPS_EXTRAS and X-LLMOps-* headers), plus `llmops record` calls on two
# earlier days, exported as Parquet, NDJSON, CSV and SQLite; tests/node/polars_docs.mjs
# runs the docs' loading steps and analyses with nodejs-polars on each
# export, and the numbers must equal what plain Python computes from the
# NDJSON: per model and day calls and token sums (cost sums when any call
# has a price), p95/p50 latency per provider (linear interpolation, the
# docs' definition), every extras value, tokens per session and agent.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
command -v sqlite3 >/dev/null || fail "the sqlite3 CLI is needed (Debian sqlite3)"
NODE_DIR=$LLMOPS_SRC/tests/node
if [[ ! -d $NODE_DIR/node_modules/nodejs-polars ]]; then
  log "npm ci in $NODE_DIR"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
fi
unset LLMOPS_WORKSPACE LLMOPS_AGENT_ID LLMOPS_ACTION_ID
start_server tls
DB=$E2E_TMP/db
KEY=$(random_key)
mkdir -p "$E2E_TMP/bodies"

# name method url body-file of each vector used
vectors=(openai_chat_nostream_1 openai_chat_nostream_2 openai_chat_stream_1 openai_chat_stream_3
  anthropic_messages_nostream_1 anthropic_messages_stream_1 groq_chat_nostream_1
  mistral_chat_nostream_1 deepseek_chat_nostream_1 groq_chat_stream_1 openai_chat-error_nostream_2)
"$PY" - "$CORPUS" "$E2E_TMP/bodies" "${vectors[@]}" >"$E2E_TMP/vectors.txt" <<'EOF'
import json, os, sys
corpus, bodies = sys.argv[1:3]
for name in sys.argv[3:]:
    v = json.load(open(os.path.join(corpus, name + ".json"), encoding="utf-8"))
    path = os.path.join(bodies, name)
    open(path, "w", encoding="utf-8").write(v["request_body"])
    print(name, (v.get("method") or "POST").upper(), v["url"].split("#")[0], path)
EOF

teams=(core search billing)
n=0
for round in 0 1 2; do
  while read -r name method url body; do
    n=$((n + 1))
    host=${url#https://}
    host=${host%%/*}
    own=()
    ((n % 3 == 0)) && own+=(-H "X-LLMOps-Extra-Ticket: T-$n")
    ((n % 4 == 0)) && own+=(-H "X-LLMOps-Agent: reviewer")
    with_shim "$DB" env LLMOPS_SESSION_ID="s$((n % 3))" LLMOPS_AGENT_ID=planner \
      LLMOPS_EXTRAS="{\"team\":\"${teams[$round]}\",\"run\":$round}" \
      curl --http1.1 -sS -g -o /dev/null --max-time 30 --cacert "$CA" \
      --connect-to "$host:443:127.0.0.1:$PORT" -X "$method" -H "X-Test-Vector: $name" \
      -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' "${own[@]}" \
      --data-binary @"$body" "$url" || fail "curl $name failed"
  done <"$E2E_TMP/vectors.txt"
done
recorded=$n

# Calls no hook saw, on two earlier days (so "per day" has days to group).
"$LLMOPS_CLI" record --db "$DB" >/dev/null <<'EOF' || fail "llmops record failed"
{"timestamp": "2026-01-05T09:00:00.250000Z", "provider": "openai", "model": "gpt-4o-mini", "input_tokens": 120, "output_tokens": 30, "latency_ms": 800.5, "status": "ok", "session_id": "s1", "agent_id": "batch", "extras": {"team": "core", "run": 9}}
{"timestamp": "2026-01-05T23:59:59.999999Z", "provider": "openai", "model": "gpt-4o-mini", "input_tokens": 80, "output_tokens": 20, "latency_ms": 1200.0, "status": "ok", "session_id": "s1", "agent_id": "batch", "extras": {"team": "core", "run": 9}}
{"timestamp": "2026-01-06T00:00:00.000001Z", "provider": "anthropic", "model": "claude-sonnet-4-20250514", "input_tokens": 1000, "output_tokens": 400, "latency_ms": 2500.25, "status": "ok", "session_id": "s2", "agent_id": "batch", "extras": {"team": "search", "run": 9, "ticket": "T-0"}}
{"timestamp": "2026-01-06T12:00:00Z", "provider": "custom", "model": "local-7b", "input_tokens": 50, "latency_ms": 90.0, "status": "ok", "extras": {"team": "billing", "run": 9}}
EOF

export_ndjson "$DB" >"$E2E_TMP/calls.ndjson" || fail "export ndjson failed"
"$LLMOPS_CLI" export --db "$DB" --format csv --out "$E2E_TMP/calls.csv" || fail "export csv failed"
"$LLMOPS_CLI" export --db "$DB" --format sqlite --out "$E2E_TMP/calls.db" || fail "export sqlite failed"
"$LLMOPS_CLI" export --db "$DB" --format parquet --out "$E2E_TMP/calls.parquet" ||
  fail "export parquet failed"
sqlite3 -json "$E2E_TMP/calls.db" "SELECT * FROM llm_operations ORDER BY timestamp_us" \
  >"$E2E_TMP/calls.sqlite.json" || fail "sqlite3 could not read the SQLite export"
/usr/bin/node "$NODE_DIR/polars_docs.mjs" "$E2E_TMP/calls.ndjson" "$E2E_TMP/calls.csv" \
  "$E2E_TMP/calls.sqlite.json" "$E2E_TMP/polars.json" "$E2E_TMP/calls.parquet" ||
  fail "polars_docs.mjs failed"

"$PY" - "$E2E_TMP/calls.ndjson" "$E2E_TMP/polars.json" "$((recorded + 4))" <<'EOF'
import collections, json, math, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
got = json.load(open(sys.argv[2]))
problems = []
if len(recs) != int(sys.argv[3]):
    problems.append(f"{len(recs)} records, want {sys.argv[3]}")

def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)

def p_linear(xs, q):  # the docs' definition: linear between the ranks around q*(n-1)
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)

def nsum(xs):
    return sum(x for x in xs if x is not None)

priced = any(r["cost_usd"] is not None for r in recs)
groups = collections.defaultdict(list)
for r in recs:
    groups[(r["timestamp"][:10], r["model"])].append(r)
want_daily = {k: dict(calls=len(g), input_tokens=nsum(r["input_tokens"] for r in g),
                      output_tokens=nsum(r["output_tokens"] for r in g),
                      cost_usd=nsum(r["cost_usd"] for r in g),
                      unpriced_calls=sum(r["cost_usd"] is None for r in g)) for k, g in groups.items()}
ok = [r for r in recs if r["status"] == "ok"]
by_provider = collections.defaultdict(list)
for r in ok:
    by_provider[r["provider"]].append(r)
want_latency = {p: dict(calls=sum(r["latency_ms"] is not None for r in g),
                        p95_ms=p_linear([r["latency_ms"] for r in g], 0.95),
                        p50_ms=p_linear([r["latency_ms"] for r in g], 0.5),
                        p95_ttft_ms=p_linear([r["ttft_ms"] for r in g], 0.95))
                for p, g in by_provider.items()}
keys = sorted({k for r in recs for k in r["extras"]})
want_extras = {r["operation_id"]: {k: r["extras"].get(k) for k in keys} for r in recs}
sess = collections.defaultdict(list)
for r in recs:
    sess[(r["session_id"], r["agent_id"])].append(r)
want_sessions = {k: dict(calls=len(g), input_tokens=nsum(r["input_tokens"] for r in g),
                         output_tokens=nsum(r["output_tokens"] for r in g),
                         tokens=nsum(r["input_tokens"] for r in g) + nsum(r["output_tokens"] for r in g))
                 for k, g in sess.items()}

def compare(src, what, rows, keyf, want, fields):
    seen = set()
    for row in rows:
        k = keyf(row)
        seen.add(k)
        if k not in want:
            problems.append(f"{src} {what}: unexpected group {k}")
            continue
        for f in fields:
            if not close(row.get(f), want[k][f]):
                problems.append(f"{src} {what} {k}: {f} = {row.get(f)!r}, Python says {want[k][f]!r}")
    for k in set(want) - seen:
        problems.append(f"{src} {what}: group {k} missing")

for src in ("parquet", "ndjson", "csv", "sqlite"):
    g = got[src]
    daily_fields = ["calls", "input_tokens", "output_tokens", "unpriced_calls"] + (["cost_usd"] if priced else [])
    compare(src, "daily", g["daily"], lambda r: (r["day"], r["model"]), want_daily, daily_fields)
    compare(src, "latency", g["latency"], lambda r: r["provider"], want_latency,
            ["calls", "p95_ms", "p50_ms", "p95_ttft_ms"])
    compare(src, "sessions", g["sessions"], lambda r: (r["session_id"], r["agent_id"]), want_sessions,
            ["calls", "input_tokens", "output_tokens", "tokens"])
    ex = {r["operation_id"]: r for r in g["extras"]}
    for oid, w in want_extras.items():
        row = ex.get(oid)
        if row is None:
            problems.append(f"{src} extras: {oid} missing"); continue
        for k, v in w.items():
            if row.get(k) != v:
                problems.append(f"{src} extras {oid}: {k} = {row.get(k)!r}, want {v!r}")
want_types = {"input_tokens": "Int64", "latency_ms": "Float64", "stream": "Bool", "extras": "Struct"}
if got["types"] != want_types:
    problems.append(f"NDJSON types {got['types']}, want {want_types}")
if len(want_daily) < 4 or len(want_latency) < 4 or len(keys) < 3 or len(want_sessions) < 4:
    problems.append(f"test data too uniform: {len(want_daily)} model-days, {len(want_latency)} providers, "
                    f"extras keys {keys}, {len(want_sessions)} session/agent pairs")
if problems:
    sys.exit("\n".join(problems[:30]) + f"\n({len(problems)} problems)")
print(f"{len(recs)} calls: {len(want_daily)} model-days, {len(want_latency)} providers, extras {keys}, "
      f"{len(want_sessions)} session/agent pairs equal in Parquet, NDJSON, CSV and SQLite; cost sums "
      + ("checked" if priced else "not checked (every cost_usd is null)"), file=sys.stderr)
EOF
