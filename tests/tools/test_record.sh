#!/usr/bin/env bash
# Explicit records: `llmops record` (one JSON object, NDJSON, refusals that
# store nothing, defaults, attribution from the environment) with the export
# checked to give back what went in; then libllmops-api from C (sync and
# async from several threads, a fork in between, the exit flush) and from
# Python's ctypes, checked through the export too.
# Environment: LLMOPS_BUILD, LLMOPS_SRC, API_TEST (tests/tools/api_test),
# API_LIB (libllmops-api.so).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
API_TEST=${API_TEST:-$BUILD/tests/tools/api_test}
API_LIB=${API_LIB:-$BUILD/libllmops-api.so}
unset LLMOPS_SESSION_ID LLMOPS_WORKSPACE LLMOPS_AGENT_ID LLMOPS_ACTION_ID LLMOPS_EXTRAS
DB=$T/db

count() { "$LLMOPS" export --db "$1" | wc -l; }

expect_success "help" "$LLMOPS" record --help
grep -q '^usage: llmops record' "$T/out" || fail "record --help: no usage"
expect_error "bad option" 2 "$LLMOPS" record --db "$DB" --nope

# One object, laid out over several lines.
printf '{\n  "provider": "openai",\n  "model": "gpt-4o-mini",\n  "input_tokens": 3\n}\n' >"$T/one.json"
expect_success "one pretty-printed object" "$LLMOPS" record --db "$DB" <"$T/one.json"
grep -Eqx '[0-9A-HJKMNP-TV-Z]{26}' "$T/out" || fail "record: want one ULID on stdout: $(cat "$T/out")"
ok "one record stored: $(cat "$T/out")"

# Refusals: one line naming the problem, nothing stored.
expect_error "unknown field" 1 "$LLMOPS" record --db "$DB" <<<'{"model": "x", "colour": "blue"}'
grep -q "unknown field 'colour'" "$T/err" || fail "unknown field not named: $(cat "$T/err")"
expect_error "bad type" 1 "$LLMOPS" record --db "$DB" <<<'{"input_tokens": "12"}'
grep -q "input_tokens" "$T/err" || fail "bad type: field not named: $(cat "$T/err")"
expect_error "bad time" 1 "$LLMOPS" record --db "$DB" <<<'{"timestamp": "2026-13-01T00:00:00Z"}'
expect_error "not an object" 1 "$LLMOPS" record --db "$DB" <<<'[{"model": "x"}]'
expect_error "empty input" 1 "$LLMOPS" record --db "$DB" </dev/null
printf '{"model":"a"}\n\n{"model":"b","stream":"yes"}\n{"model":"c"}\n' >"$T/bad.ndjson"
expect_error "NDJSON with a bad line" 1 "$LLMOPS" record --db "$DB" <"$T/bad.ndjson"
grep -q "line 3: stream" "$T/err" || fail "bad NDJSON line not located: $(cat "$T/err")"
[[ $(count "$DB") -eq 1 ]] || fail "refused input stored something: $(count "$DB") records"
ok "refused input left the store unchanged"

# 100 records using every field type; the export must give each back.
"$PY" - "$T/in.ndjson" <<'EOF'
import json, random, sys, time
random.seed(7)
B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
def ulid(ms):
    n = (ms << 80) | random.getrandbits(80)
    return "".join(B32[(n >> (5 * (25 - i))) & 31] for i in range(26))
def ts(us):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 10**6)) + ".%06dZ" % (us % 10**6)
base = 1767225600 * 10**6  # 2026-01-01
with open(sys.argv[1], "w") as f:
    for i in range(100):
        start = base + i * 3_600_000_123
        r = {"provider": random.choice(["openai", "anthropic", "custom"]),
             "model": random.choice(["gpt-4o", "claude-x", "local-7b"]),
             "request_model": "req-%d" % i, "operation_type": "chat", "api": "custom.api",
             "server_address": "llm.internal", "server_port": 8443,
             "url_path": "/v1/chat/completions?x=%d" % i, "http_method": "POST",
             "http_status": random.choice([200, 200, 429]), "http_version": "1.1",
             "stream": i % 2 == 0, "temperature": round(random.random(), 3),
             "max_tokens": 256, "top_p": 0.9, "input_tokens": random.randint(0, 5000),
             "output_tokens": random.randint(0, 900), "cache_read_tokens": i,
             "usage_source": "provider", "usage_raw": '{"prompt_tokens":%d}' % i,
             "finish_reason": "stop", "status": "ok", "completion_args": '{"n":%d}' % i,
             "response": "héllo ✓ %d\nline two" % i, "tool_calls": '[{"id":"t%d"}]' % i,
             "request_bytes": 100 + i, "response_bytes": 200 + i, "truncated": i % 7 == 0,
             "session_id": "s%d" % (i % 5), "workspace": "ws", "agent_id": "agent-%d" % (i % 3),
             "action_id": "act-%d" % i, "extras": {"i": i, "tag": "t%d" % (i % 4),
                                                     "nested": {"ok": True, "v": [1, 2.5]}},
             "pid": 1000 + i, "ppid": 1, "exe": "/usr/bin/agent",
             "argv": ["agent", "--run", str(i)], "hostname": "box",
             "latency_ms": round(random.uniform(10, 5000), 3), "ttfb_ms": 5.25,
             "ttft_ms": 7.5, "end_timestamp": ts(start + 2_000_000),
             "cost_usd": 999.0}  # ignored: computed at export
        if i % 3 == 0:
            r["operation_id"] = ulid(start // 1000)
            r["timestamp"] = ts(start)
        elif i % 3 == 1:
            r["timestamp"] = ts(start)
        if i == 5:
            r["usage_raw"] = {"prompt_tokens": 5, "details": {"cached": 1}}  # a value, not text
        if i == 6:
            r["error_type"], r["error_message"], r["http_status"] = "rate_limit", "slow down", 429
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
EOF
expect_success "NDJSON of 100" "$LLMOPS" record --db "$DB" <"$T/in.ndjson"
cp "$T/out" "$T/ids"
[[ $(wc -l <"$T/ids") -eq 100 ]] || fail "want 100 ids, got $(wc -l <"$T/ids")"
"$LLMOPS" export --db "$DB" >"$T/export.ndjson" || fail "export failed"
"$PY" - "$T/in.ndjson" "$T/ids" "$T/export.ndjson" <<'EOF'
import json, sys, time
inputs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
ids = open(sys.argv[2]).read().split()
out = {r["operation_id"]: r for r in map(json.loads, open(sys.argv[3], encoding="utf-8"))}
made = {"operation_id", "timestamp", "schema_version", "extras", "cost_usd", "cost_source"}
now = time.time()
problems = []
for i, (inp, oid) in enumerate(zip(inputs, ids)):
    r = out.get(oid)
    if r is None:
        problems.append(f"record {i}: {oid} not exported"); continue
    for k, v in inp.items():
        got = r[k]
        if k == "cost_usd":
            if got == 999.0: problems.append(f"record {i}: cost_usd taken from the input")
            continue
        if k == "usage_raw" and not isinstance(v, str):
            got = json.loads(got)
        if got != v:
            problems.append(f"record {i}: {k}: exported {got!r}, recorded {v!r}")
    for k, v in r.items():
        if k not in inp and k not in made and v is not None:
            problems.append(f"record {i}: {k} = {v!r}, want null")
    if r["schema_version"] != 2: problems.append(f"record {i}: schema_version {r['schema_version']}")
    if "operation_id" in inp and oid != inp["operation_id"]:
        problems.append(f"record {i}: operation_id {oid}, recorded {inp['operation_id']}")
    if "timestamp" not in inp:
        t = time.mktime(time.strptime(r["timestamp"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        if abs(t - now) > 300: problems.append(f"record {i}: default timestamp {r['timestamp']}")
if problems:
    sys.exit("\n".join(problems[:20]))
EOF
ok "100 NDJSON records exported as recorded (defaults filled, cost_usd not taken)"
[[ $(count "$DB") -eq 101 ]] || fail "want 101 records, have $(count "$DB")"
head -1 "$T/in.ndjson" >"$T/again.ndjson"
expect_success "same operation_id again" "$LLMOPS" record --db "$DB" <"$T/again.ndjson"
[[ $(count "$DB") -eq 101 ]] || fail "recording an operation_id again added a record"
ok "recording an operation_id again replaces it"

# Normalised time, secrets removed, attribution from the environment.
DB2=$T/db2
expect_success "env attribution" env LLMOPS_SESSION_ID=env-s LLMOPS_AGENT_ID=env-a \
    LLMOPS_EXTRAS='{"team":"core","i":0}' "$LLMOPS" record --db "$DB2" <<'EOF'
{"timestamp": "2026-03-04T05:06:07+02:00", "url_path": "/v1/x?key=AIzaSECRET", "completion_args": {"model": "m", "api_key": "sk-secret-123"}}
{"timestamp": "2026-03-04T05:06:08.5Z", "session_id": "own", "extras": {"i": 7, "x": "y"}, "argv": ["agent", "--api-key", "hunter2"]}
EOF
"$LLMOPS" export --db "$DB2" >"$T/env.ndjson"
"$PY" - "$T/env.ndjson" <<'EOF'
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
want = [(a["timestamp"], "2026-03-04T03:06:07.000000Z"), (b["timestamp"], "2026-03-04T05:06:08.500000Z"),
        (a["session_id"], "env-s"), (a["agent_id"], "env-a"), (b["session_id"], "own"),
        (b["agent_id"], "env-a"), (a["extras"], {"team": "core", "i": 0}),
        (b["extras"], {"team": "core", "i": 7, "x": "y"}), (b["argv"], ["agent", "--api-key", "[REDACTED]"])]
bad = [f"got {g!r}, want {w!r}" for g, w in want if g != w]
if "SECRET" in a["url_path"] or "sk-secret" in a["completion_args"]:
    bad.append(f"secret kept: {a['url_path']} {a['completion_args']}")
if bad: sys.exit("\n".join(bad))
EOF
ok "times normalised, secrets removed, attribution filled from the environment"

# libllmops-api exports only llmops_* functions.
syms=$(nm -D --defined-only "$API_LIB" | awk '$2 != "A" {print $3}' | sed 's/@.*//' | sort)
bad=$(grep -v '^llmops_' <<<"$syms" || true)
[[ -z $bad ]] || fail "libllmops-api.so exports more than llmops_*: $bad"
for s in llmops_record_completion llmops_record_completion_async llmops_strerror llmops_flush; do
    grep -qx "$s" <<<"$syms" || fail "libllmops-api.so does not export $s"
done
ok "libllmops-api.so exports: $(tr '\n' ' ' <<<"$syms")"

# The C API from threads with a fork in between, then from Python's ctypes.
ADB=$T/apidb
LLMOPS_DB=$ADB LLMOPS_FLUSH_TIMEOUT_MS=10000 "$API_TEST" || fail "api_test failed"
LLMOPS_DB=$ADB "$PY" "$SRC/tests/tools/api_ctypes.py" "$API_LIB" || fail "api_ctypes.py failed"
# Under the shim the API refuses (the shim's collector owns the store here).
LD_PRELOAD=$BUILD/libllmops.so LLMOPS_DB=$ADB "$PY" - "$API_LIB" <<'EOF' || fail "API under the shim"
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.llmops_strerror.restype = ctypes.c_char_p
rc = lib.llmops_record_completion(b'{"model": "shim", "session_id": "shim"}')
if rc != -30608:
    sys.exit(f"under the shim: {rc} {lib.llmops_strerror(rc)}, want LLMOPS_ESHIM")
EOF
ok "under the shim the API returns LLMOPS_ESHIM"
# LLMOPS_DISABLE (one boolean grammar: "true" like "1") turns llmops off,
# the API included: the calls succeed and nothing is written, with or
# without the shim.
for pre in "" "$BUILD/libllmops.so"; do
    for off in 1 true; do
        LD_PRELOAD=$pre LLMOPS_DISABLE=$off LLMOPS_DB=$T/offdb "$PY" - "$API_LIB" <<'EOF' ||
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
rec = b'{"model": "off", "session_id": "off"}'
rcs = (lib.llmops_record_completion(rec), lib.llmops_record_completion_async(rec),
       lib.llmops_flush(1000))
if rcs != (0, 0, 0):
    sys.exit(f"LLMOPS_DISABLE: {rcs}, want (0, 0, 0)")
EOF
            fail "API with LLMOPS_DISABLE=$off ${pre:+under the shim}"
        [[ ! -e $T/offdb ]] || fail "LLMOPS_DISABLE=$off ${pre:+under the shim}: a store was written"
    done
done
ok "LLMOPS_DISABLE=1 or true: the API records nothing, with or without the shim"
"$LLMOPS" export --db "$ADB" >"$T/api.ndjson" || fail "export of the API store failed"
"$PY" - "$T/api.ndjson" <<'EOF'
import collections, json, sys
want = {"sync": 5, "child": 25, "exit": 50, "py": 6}
want.update({f"t{k}": 100 for k in range(4)})
want.update({f"after{k}": 50 for k in range(4)})
seen = collections.Counter()
problems = []
for r in map(json.loads, open(sys.argv[1])):
    s, i = r["session_id"], r["extras"]["i"]
    seen[(s, i)] += 1
    if r["input_tokens"] != i or r["output_tokens"] != 2 * i or r["latency_ms"] != i + 0.5:
        problems.append(f"{s}/{i}: values {r['input_tokens']} {r['output_tokens']} {r['latency_ms']}")
for s, n in want.items():
    for i in range(n):
        if seen[(s, i)] != 1:
            problems.append(f"{s}/{i}: exported {seen[(s, i)]} times, want once")
extra = set(s for s, _ in seen) - set(want)
if extra: problems.append(f"unexpected sessions {extra}")
if problems: sys.exit("\n".join(problems[:20]) + f"\n({len(problems)} problems)")
print(f"{sum(seen.values())} API records, each once", file=sys.stderr)
EOF
ok "C API (sync, async from 4 threads, fork, exit flush) and ctypes: every record exactly once"

echo "$passed passed, 0 failed"
