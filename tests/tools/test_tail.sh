#!/usr/bin/env bash
# `llmops tail`: the last N calls, and with -f every call as it lands while
# a writer runs (each exactly once, in order, including one that lands late,
# keyed ten minutes in the past); SIGINT, SIGTERM and a closed pipe end it
# with status 0.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT

ids() { "$PY" -c 'import json,sys; [print(json.loads(l)["operation_id"]) for l in open(sys.argv[1])]' "$1"; }

# --- the last N ----------------------------------------------------------------
"$MKSTORE" --db "$T/t" --count 300 --seed 4
expect_success "export" "$LLMOPS" export --db "$T/t"
ids "$T/out" >"$T/all.ids"
expect_success "tail ndjson" "$LLMOPS" tail --db "$T/t" --format ndjson
diff <(ids "$T/out") <(tail -n 10 "$T/all.ids") >/dev/null || fail "tail is not the last 10"
expect_success "tail -n 3" "$LLMOPS" tail --db "$T/t" -n 3 --format ndjson
diff <(ids "$T/out") <(tail -n 3 "$T/all.ids") >/dev/null || fail "tail -n 3"
expect_success "tail -n 0" "$LLMOPS" tail --db "$T/t" -n 0
[[ ! -s $T/out ]] || fail "tail -n 0 printed"
expect_success "tail text" "$LLMOPS" tail --db "$T/t" --lines 25
[[ $(wc -l <"$T/out") -eq 25 ]] || fail "tail --lines 25: $(wc -l <"$T/out") lines"
expect_success "tail filtered" "$LLMOPS" tail --db "$T/t" --provider anthropic -n 4 --format ndjson
"$PY" - "$T/out" <<'EOF' || fail "tail --provider"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
assert len(got) == 4 and all(r["provider"] == "anthropic" for r in got), got
EOF
"$LLMOPS" export --db "$T/t" --provider anthropic >"$T/anth.ndjson"
diff <(ids "$T/out") <(ids "$T/anth.ndjson" | tail -n 4) >/dev/null || fail "tail --provider order"
ok "tail prints the last N (default 10) that pass the filters, oldest first"

# one line's fields, on a record with known values
cat >"$T/one.ndjson" <<'EOF'
{"timestamp": "2025-03-01T10:00:00.123456Z", "exe": "/usr/bin/python3.11", "provider": "openai", "model": "gpt-4o-mini-2024-07-18", "status": "ok", "input_tokens": 10000, "cache_read_tokens": 6000, "output_tokens": 500, "latency_ms": 812.4}
{"timestamp": "2025-03-01T10:00:01Z", "status": "incomplete"}
EOF
"$MKSTORE" --db "$T/one" --count 0 --json "$T/one.ndjson"
expect_success "tail one" "$LLMOPS" tail --db "$T/one"
cat "$T/out"
read -ra f <<<"$(head -1 "$T/out")"
[[ "${f[*]}" == "2025-03-01 10:00:00.123 python3.11 openai gpt-4o-mini-2024-07-18 ok 10000/500 812ms \$0.001350" ]] ||
    fail "tail line: ${f[*]}"
read -ra f <<<"$(tail -n 1 "$T/out")"
[[ "${f[*]}" == "2025-03-01 10:00:01.000 - - - incomplete -/- - -" ]] || fail "tail line: ${f[*]}"
ok "a line: time, program, provider, model, status, tokens in/out, latency, cost"

# --- -f next to a live writer ------------------------------------------------------
"$MKSTORE" --db "$T/live" --count 20 --seed 8
"$LLMOPS" export --db "$T/live" >"$T/before.ndjson"
"$LLMOPS" tail -f -n 1 --format ndjson --db "$T/live" >"$T/f1" 2>"$T/f1.err" &
F1=$!
PIDS+=("$F1")
"$LLMOPS" tail --follow -n 2 --interval 50 --db "$T/live" >"$T/f2" 2>"$T/f2.err" &
F2=$!
PIDS+=("$F2")
# each has printed its last lines, so each has taken stock of the store
for _ in $(seq 100); do
    [[ $(wc -l <"$T/f1") -eq 1 && $(wc -l <"$T/f2") -eq 2 ]] && break
    sleep 0.1
done
[[ $(wc -l <"$T/f1") -eq 1 && $(wc -l <"$T/f2") -eq 2 ]] || fail "tail -f printed no last lines"
"$MKSTORE" --db "$T/live" --seconds 3 --batch 5 --pause-ms 20 --seed 9 >"$T/wrote"
# let both followers print everything written so far before the late record
# lands, or one poll may see them together (and print them in key order)
n_live=$(awk '{print $2}' "$T/wrote")
for _ in $(seq 100); do
    [[ $(wc -l <"$T/f1") -ge $((1 + n_live)) && $(wc -l <"$T/f2") -ge $((2 + n_live)) ]] && break
    sleep 0.1
done
late=$("$PY" -c 'import datetime as d; print((d.datetime.now(d.timezone.utc) - d.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))')
echo "{\"timestamp\": \"$late\", \"provider\": \"openai\", \"model\": \"late\", \"status\": \"ok\"}" >"$T/late.ndjson"
"$MKSTORE" --db "$T/live" --count 0 --json "$T/late.ndjson"
sleep 1 # a few polls
kill -INT "$F1"
kill -TERM "$F2"
rc1=0 rc2=0
wait "$F1" || rc1=$?
wait "$F2" || rc2=$?
PIDS=()
[[ $rc1 -eq 0 && ! -s $T/f1.err ]] || fail "tail -f after SIGINT: exit $rc1, $(cat "$T/f1.err")"
[[ $rc2 -eq 0 && ! -s $T/f2.err ]] || fail "tail -f after SIGTERM: exit $rc2, $(cat "$T/f2.err")"
"$LLMOPS" export --db "$T/live" >"$T/after.ndjson"
"$PY" - "$T/before.ndjson" "$T/after.ndjson" "$T/f1" "$T/f2" "$(awk '{print $2}' "$T/wrote")" <<'EOF' ||
import json, sys
before = [json.loads(l)["operation_id"] for l in open(sys.argv[1])]
after = [json.loads(l) for l in open(sys.argv[2])]
got = [json.loads(l)["operation_id"] for l in open(sys.argv[3])]
assert got[0] == before[-1], "tail -f -n 1 did not start with the last record"
got = got[1:]
wrote = int(sys.argv[5])
late = [r["operation_id"] for r in after if r["model"] == "late"]
new = [r["operation_id"] for r in after if r["operation_id"] not in set(before)]
assert len(new) == wrote + 1 and len(late) == 1, (len(new), wrote)
assert len(got) == len(set(got)), "a record printed twice"
assert sorted(got) == sorted(new), "missing %d, extra %d" % (len(set(new) - set(got)),
                                                            len(set(got) - set(new)))
assert got[-1] == late[0], "the late record is not last"
assert got[:-1] == [i for i in new if i != late[0]], "not in order"
lines = open(sys.argv[4]).read().splitlines()
assert len(lines) == 2 + wrote + 1, (len(lines), wrote)
print(wrote)
EOF
    fail "tail -f did not print each new record once, in order"
ok "tail -f printed each of $(awk '{print $2}' "$T/wrote") live records and a late one once, in" \
    "order; SIGINT and SIGTERM end it with status 0"

# a closed pipe ends it, even with nothing new to write
start=$(date +%s)
set +o pipefail
timeout 20 "$LLMOPS" tail -f -n 5 --db "$T/live" 2>"$T/pipe.err" | head -n 1 >/dev/null
st=("${PIPESTATUS[@]}")
set -o pipefail
[[ ${st[0]} -eq 0 && ! -s $T/pipe.err ]] || fail "tail -f | head: exit ${st[0]}, $(cat "$T/pipe.err")"
[[ $(($(date +%s) - start)) -lt 10 ]] || fail "tail -f | head took too long"
ok "tail -f | head -n 1 ends with status 0"

# tail -f on a store that does not exist yet waits for it
"$LLMOPS" tail -f -n 5 --interval 50 --format ndjson --db "$T/later/db" >"$T/w" 2>"$T/w.err" &
waiter=$!
sleep 0.5
kill -0 $waiter 2>/dev/null || fail "tail -f on a missing store exited: $(cat "$T/w.err")"
mkdir -p "$T/later"
"$MKSTORE" --db "$T/later/db" --count 3 --seed 5 >/dev/null
for _ in $(seq 100); do [[ $(wc -l <"$T/w") -ge 3 ]] && break; sleep 0.1; done
kill -TERM $waiter
rc=0
wait $waiter || rc=$?
[[ $rc -eq 0 && $(wc -l <"$T/w") -eq 3 ]] ||
  fail "tail -f on a store made later: exit $rc, $(wc -l <"$T/w") lines, $(cat "$T/w.err")"
ok "tail -f waits for a store that does not exist yet, then prints its records"

expect_error "tail missing db" 1 "$LLMOPS" tail --db "$T/nope"
[[ ! -e $T/nope ]] || fail "tail created a database"
expect_error "tail -n word" 2 "$LLMOPS" tail --db "$T/t" -n many
expect_error "tail -n huge" 2 "$LLMOPS" tail --db "$T/t" -n 99999999
expect_error "tail --interval 0" 2 "$LLMOPS" tail --db "$T/t" -f --interval 0
expect_error "tail --format xml" 2 "$LLMOPS" tail --db "$T/t" --format xml
expect_error "tail stray argument" 2 "$LLMOPS" tail --db "$T/t" extra
expect_success "tail --help" "$LLMOPS" tail --help
grep -q -- '--follow' "$T/out" || fail "tail --help"

echo "$passed passed, 0 failed"
