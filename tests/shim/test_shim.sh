#!/usr/bin/env bash
# The OpenSSL hooks on a real libssl: symbols, loading, byte-identical host
# behaviour (return values, errno, error queue), and exact records for
# one-byte writes, SSL_peek, the _ex forms, non-blocking retries, keep-alive
# and a non-LLM connection. Needs LLMOPS_BUILD and SSL_PAIR (set by ctest).
set -euo pipefail
: "${LLMOPS_BUILD:?}" "${SSL_PAIR:?}"
SHIM=$LLMOPS_BUILD/libllmops.so
LLMOPS=$LLMOPS_BUILD/llmops
MAP=$(dirname "$0")/../../shim/libllmops.map
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

# 1. only the hooks are exported, exactly those the version script names
nm -D --defined-only "$SHIM" | awk '{print $3}' | sort > "$tmp/exported"
sed -n 's/^ *\([A-Za-z_][A-Za-z0-9_]*\);$/\1/p' "$MAP" | sort > "$tmp/mapped"
check "exported symbols are the hooks in libllmops.map" "cmp -s $tmp/exported $tmp/mapped"
check "no internal symbol is exported" "! grep -Eq '^(llm_|real_)' $tmp/exported"
check "the shim links libc only" "! ldd $SHIM | grep -Eq 'lmdb|msgpack|jansson|ssl|crypto|curl'"

# 2. it loads with every symbol bound at start, with and without libssl around
check "LD_BIND_NOW=1 /bin/true" "LD_BIND_NOW=1 LD_PRELOAD=$SHIM /bin/true"
check "LD_BIND_NOW=1 python3 -c 'import ssl'" \
  "LD_BIND_NOW=1 LD_PRELOAD=$SHIM /usr/bin/python3 -c 'import ssl'"

# 3. blocking client: output and per-call trace identical with and without
"$SSL_PAIR" basic trace > "$tmp/plain.txt"
LLMOPS_DB=$tmp/db LD_PRELOAD=$SHIM "$SSL_PAIR" basic trace > "$tmp/shim.txt"
check "blocking: stdout, return values, errno, error queue identical" \
  "cmp -s $tmp/plain.txt $tmp/shim.txt"
"$LLMOPS" export --db "$tmp/db" > "$tmp/basic.ndjson"

# 4. non-blocking client: retries vary run to run, so compare the bodies and
#    require that every failed call still reports EAGAIN and an empty queue
"$SSL_PAIR" nonblock trace | grep -v '^trace' > "$tmp/nb_plain.txt"
LLMOPS_DB=$tmp/db_nb LD_PRELOAD=$SHIM "$SSL_PAIR" nonblock trace > "$tmp/nb_shim_all.txt"
grep -v '^trace' "$tmp/nb_shim_all.txt" > "$tmp/nb_shim.txt" || true
check "non-blocking: bodies identical" "cmp -s $tmp/nb_plain.txt $tmp/nb_shim.txt"
check "non-blocking: some calls had to be retried" \
  "grep -Eq 'rc=(-1|0) ' $tmp/nb_shim_all.txt"
check "non-blocking: every retry left errno=EAGAIN and the error queue empty" \
  "! grep -E 'rc=(-1|0) ' $tmp/nb_shim_all.txt | grep -vq 'errno=11 err=0'"
"$LLMOPS" export --db "$tmp/db_nb" > "$tmp/nb.ndjson"

# 5. the records
/usr/bin/python3 - "$tmp/basic.ndjson" "$tmp/nb.ndjson" <<'PY' && ok "records exact (blocking and non-blocking)" || bad "records exact"
import json, sys
for path in sys.argv[1:]:
    recs = [json.loads(l) for l in open(path)]
    assert len(recs) == 2, (path, len(recs))  # the /health connection left none
    a, b = recs
    want_a = dict(model="gpt-4o-mini-2024-07-18", request_model="gpt-4o-mini",
                  input_tokens=11, output_tokens=7, total_tokens=18, cache_read_tokens=4,
                  reasoning_tokens=2, response="Hello there!", stream=False, ttft_ms=None,
                  status="ok", finish_reason="stop", temperature=0.5, max_tokens=50,
                  provider="openai", server_address="api.openai.com", server_port=443,
                  http_status=200, usage_source="provider", capture="openssl",
                  api="openai.chat_completions", operation_type="chat", truncated=False)
    want_b = dict(model="gpt-4o-mini-2024-07-18", input_tokens=9, output_tokens=2,
                  total_tokens=11, response="Hello", stream=True, status="ok",
                  finish_reason="stop", usage_source="provider", tool_calls=None)
    for rec, want in ((a, want_a), (b, want_b)):
        for k, v in want.items():
            assert rec[k] == v, (path, k, rec[k], v)
    assert b["ttft_ms"] is not None and 0 < b["ttft_ms"] <= b["latency_ms"], b
    assert a["ttfb_ms"] <= a["latency_ms"]
    text = open(path).read()
    assert "sk-shimtest" not in text, "API key leaked"
PY

# 6. LLMOPS_DISABLE=1: pure pass-through, nothing written
LLMOPS_DISABLE=1 LLMOPS_DB=$tmp/db_off LD_PRELOAD=$SHIM "$SSL_PAIR" basic > "$tmp/off.txt"
check "LLMOPS_DISABLE=1 writes nothing" "[ ! -e $tmp/db_off ]"
check "LLMOPS_DISABLE=1 output identical" \
  "cmp -s $tmp/off.txt <(grep -v '^trace' $tmp/plain.txt)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
