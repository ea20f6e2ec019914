#!/usr/bin/env bash
# The direct JSON text writer (tools/record_json.c) against the jansson path
# it replaced (llm_record_to_json + json_dumpb): byte for byte, never merely
# equal as JSON. json_text_test compares the two value by value on hand-made
# msgpack, the corpus and mkstore stores (see its header); then the CLI's
# NDJSON and JSON exports (with filters, and a store holding a corrupt
# record) and `tail` must print the very same bytes, stderr and exit status
# with LLMOPS_DEBUG_JANSSON=1 (every record through jansson) as without.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

JTT=${JSON_TEXT_TEST:-$BUILD/tests/tools/json_text_test}
PRICES=$SRC/tools/prices.json

# --- value by value --------------------------------------------------------------
"$JTT" --prices "$PRICES" --cases --corpus "$SRC/tests/corpus" >"$T/jtt.out" 2>&1 ||
    fail "json_text_test cases/corpus: $(cat "$T/jtt.out")"
ok "cases and corpus: $(tr '\n' ';' <"$T/jtt.out")"

"$MKSTORE" --db "$T/a" --count 3000 --seed 21 --known --garbage >/dev/null
"$MKSTORE" --db "$T/b" --count 3000 --seed 22 --error-pct 40 --null-tokens-pct 25 \
    --models "openai/gpt-4o,anthropic/claude-3-haiku,-/-,groq/llama-3.1-8b,ollama/-" \
    --end 2024-03-01T01:00:00.250377Z
"$JTT" --prices "$PRICES" --db "$T/a" --db "$T/b" >"$T/jtt.out" 2>&1 ||
    fail "json_text_test stores: $(cat "$T/jtt.out")"
ok "stores: $(tr '\n' ';' <"$T/jtt.out")"

# --- the CLI both ways ---------------------------------------------------------------
# same NAME CMD... : stdout, stderr and exit status equal with and without
# LLMOPS_DEBUG_JANSSON=1; the direct run's status must be WANT_RC (default 0)
same() {
    local name=$1 rc_d=0 rc_j=0
    shift
    "$@" >"$T/direct.out" 2>"$T/direct.err" || rc_d=$?
    LLMOPS_DEBUG_JANSSON=1 "$@" >"$T/jansson.out" 2>"$T/jansson.err" || rc_j=$?
    [[ $rc_d -eq $rc_j ]] || fail "$name: exit $rc_d direct, $rc_j through jansson"
    [[ $rc_d -eq ${WANT_RC:-0} ]] || fail "$name: exit $rc_d; stderr: $(cat "$T/direct.err")"
    cmp -s "$T/direct.out" "$T/jansson.out" ||
        fail "$name: stdout differs: $(cmp "$T/direct.out" "$T/jansson.out" 2>&1 | head -1)"
    cmp -s "$T/direct.err" "$T/jansson.err" ||
        fail "$name: stderr differs: $(cat "$T/direct.err") / $(cat "$T/jansson.err")"
    ok "$name: $(wc -l <"$T/direct.out") lines, $(wc -c <"$T/direct.out") bytes identical"
}

same "export ndjson" "$LLMOPS" export --db "$T/b"
[[ $(wc -l <"$T/direct.out") -eq 3000 ]] || fail "export ndjson: $(wc -l <"$T/direct.out") lines"
cp "$T/direct.out" "$T/b.ndjson"
same "export json" "$LLMOPS" export --db "$T/b" --format json
# records with members of a newer schema: their extra_fields column both ways
printf '%s\n' '{"timestamp": "2024-05-01T10:00:00.000001Z", "model": "m", "tier": {"a": [1, 2.5, "\u2603"]}, "q\"k": "a,b\r\n"}' \
    '{"timestamp": "2024-05-01T10:00:01.000001Z", "model": "n"}' >"$T/newer.json"
"$MKSTORE" --db "$T/newer" --count 0 --json "$T/newer.json"
same "export csv, newer schema" "$LLMOPS" export --db "$T/newer" --format csv
grep -q 'tier' "$T/direct.out" || fail "csv, newer schema: no extra_fields"
same "export sql, newer schema" "$LLMOPS" export --db "$T/newer" --format sql --dialect postgres
same "export --out" "$LLMOPS" export --db "$T/b" --out -
# every filter option (one reading a field llm_filter_fields does not mark
# would show here); values taken from the store's own records
read -r provider model session since until < <("$PY" -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
r = next(r for r in recs[100:] if r["provider"] and r["model"] and r["session_id"])
print(r["provider"], r["model"], r["session_id"], recs[500]["timestamp"], recs[900]["timestamp"])
' "$T/b.ndjson")
same "--provider" "$LLMOPS" export --db "$T/b" --provider "$provider"
same "--model --format json" "$LLMOPS" export --db "$T/b" --model "$model" --format json
same "--session" "$LLMOPS" export --db "$T/b" --session "$session"
same "--since --until" "$LLMOPS" export --db "$T/b" --since "$since" --until "$until"
same "--status error" "$LLMOPS" export --db "$T/b" --status error
same "--min-tokens --max-latency" "$LLMOPS" export --db "$T/b" --min-tokens 500 --max-latency 2000
same "--agent --workspace" "$LLMOPS" export --db "$T/b" --agent agent-1 --workspace /home/dev/other
same "--operation-type --action" "$LLMOPS" export --db "$T/b" --operation-type chat --action act-7
same "--min-latency --max-tokens" "$LLMOPS" export --db "$T/b" --min-latency 900 --max-tokens 3000
same "no match" "$LLMOPS" export --db "$T/b" --provider nobody --format json
# the store with a value that is not msgpack: every other record, a warning
# naming the bad one, a count at the end and exit status 3
WANT_RC=3 same "export of a corrupt record" "$LLMOPS" export --db "$T/a"
grep -q '^llmops: record .*: .*; skipped$' "$T/direct.err" || fail "corrupt record: $(cat "$T/direct.err")"
grep -q '^llmops: export: 1 corrupt record skipped$' "$T/direct.err" ||
    fail "corrupt record count: $(cat "$T/direct.err")"
[[ $(wc -l <"$T/direct.out") -eq 3001 ]] || fail "corrupt record: $(wc -l <"$T/direct.out") of 3001 records"
WANT_RC=3 same "json export of a corrupt record" "$LLMOPS" export --db "$T/a" --format json
# the table formats read values straight from the msgpack too (llm_rjson_cell);
# with LLMOPS_DEBUG_JANSSON=1 they take the jansson row path they replaced
same "export csv" "$LLMOPS" export --db "$T/b" --format csv
rows=$("$PY" -c 'import csv, sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline=""))))' \
    "$T/direct.out")
[[ $rows -eq 3001 ]] || fail "export csv: $rows rows with the header"
same "csv --status error" "$LLMOPS" export --db "$T/b" --format csv --status error
WANT_RC=3 same "csv export of a corrupt record" "$LLMOPS" export --db "$T/a" --format csv
# SQLite: the two databases hold the same rows, value for value and type for type
sqlite_same() { # NAME DB ARGS...
    local name=$1 db=$2 d
    shift 2
    rm -f "$T/direct.db" "$T/jansson.db"
    "$LLMOPS" export --db "$db" --format sqlite --out "$T/direct.db" "$@" ||
        fail "$name: direct export"
    LLMOPS_DEBUG_JANSSON=1 "$LLMOPS" export --db "$db" --format sqlite --out "$T/jansson.db" \
        "$@" || fail "$name: jansson export"
    for d in direct jansson; do
        sqlite3 "$T/$d.db" .dump >"$T/$d.dump" || fail "$name: sqlite3 .dump $d"
    done
    cmp -s "$T/direct.dump" "$T/jansson.dump" ||
        fail "$name: dumps differ: $(cmp "$T/direct.dump" "$T/jansson.dump" 2>&1 | head -1)"
    ok "$name: $(grep -c '^INSERT INTO llm_operations' "$T/direct.dump") rows identical"
}
sqlite_same "export sqlite" "$T/b"
[[ $(grep -c '^INSERT INTO llm_operations' "$T/direct.dump") -eq 3000 ]] ||
    fail "export sqlite: not 3000 rows"
sqlite_same "sqlite --model" "$T/b" --model "$model"
sqlite_same "export sqlite, newer schema" "$T/newer"
grep -q 'tier' "$T/direct.dump" || fail "sqlite, newer schema: no extra_fields"
# stats reads the fields it counts the same way (with filters, every grouping)
same "stats" "$LLMOPS" stats --db "$T/b"
same "stats --by session --format csv" "$LLMOPS" stats --db "$T/b" --by session --format csv
same "stats --by day,workspace,agent,exe --format json" "$LLMOPS" stats --db "$T/b" \
    --by day,workspace,agent,exe --format json
same "stats --status error --by model" "$LLMOPS" stats --db "$T/b" --status error --by model
same "stats of a corrupt record" "$LLMOPS" stats --db "$T/a"
# tail, both formats
same "tail ndjson" "$LLMOPS" tail --db "$T/b" -n 400 --format ndjson
[[ $(wc -l <"$T/direct.out") -eq 400 ]] || fail "tail: $(wc -l <"$T/direct.out") lines"
same "tail text" "$LLMOPS" tail --db "$T/b" -n 400
same "tail filtered" "$LLMOPS" tail --db "$T/b" -n 50 --model "$model" --format ndjson
echo "all $passed passed"
