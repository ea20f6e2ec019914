#!/usr/bin/env bash
# Black-box tests of the llmops CLI on stores written by mkstore. Expected
# values are computed here, independently, with python from mkstore's
# manifest and from the NDJSON export, never taken from llmops itself.
# Environment: LLMOPS_BUILD (holds llmops), LLMOPS_SRC, MKSTORE.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WRITER=
cleanup() {
    if [[ -n $WRITER ]]; then kill "$WRITER" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT

# check_stats NDJSON STATS_OUTPUT: recomputes the table from the export
check_stats() {
    "$PY" "$SRC/tests/tools/stats_expect.py" "$1" "$2"
}

# --- help and version -------------------------------------------------------
for args in "--help" "help" "-h"; do
    expect_success "llmops $args" "$LLMOPS" $args
    grep -q '^usage: llmops <command>' "$T/out" || fail "llmops $args: no usage"
done
expect_success "export --help" "$LLMOPS" export --help
grep -q -- '--format ndjson|json' "$T/out" || fail "export --help lacks --format"
expect_success "stats --help" "$LLMOPS" stats --help
grep -q 'nearest-rank' "$T/out" || fail "stats --help does not say nearest-rank"
expect_success "version" "$LLMOPS" version
grep -Eq '^llmops [0-9]' "$T/out" || fail "version: $(cat "$T/out")"
ok "help texts and version"

# --- the schema mkstore reports is the one record.h declares ----------------
"$MKSTORE" --schema >"$T/schema"
"$PY" - "$SRC/collector/record.h" "$T/schema" <<'EOF'
import re, sys
header = open(sys.argv[1]).read()
block = header[header.index("#define LLM_FIELDS(X)"):header.index("enum llm_field {")]
declared = re.findall(r'X\(\w+,\s*"(\w+)"', block)
reported = open(sys.argv[2]).read().split()
assert declared and declared == reported, (declared, reported)
EOF
ok "mkstore --schema matches LLM_FIELDS ($(wc -l <"$T/schema") fields)"

# --- export: counts, schema, round trip, order --------------------------------
N=500
"$MKSTORE" --db "$T/main" --count $N --seed 7 --known --manifest "$T/main.manifest"
expect_success "export ndjson" "$LLMOPS" export --db "$T/main"
mv "$T/out" "$T/main.ndjson"
[[ $(wc -l <"$T/main.ndjson") -eq $((N + 1)) ]] || fail "export: $(wc -l <"$T/main.ndjson") lines"
ok "export ndjson has N+1 = $((N + 1)) lines"

"$PY" - "$T/schema" "$T/main.ndjson" "$T/main.manifest" <<'EOF'
import json, sys
schema = open(sys.argv[1]).read().split()
rows = [json.loads(l) for l in open(sys.argv[2])]
made = [json.loads(l) for l in open(sys.argv[3])]
assert len(rows) == len(made), (len(rows), len(made))
for i, (r, m) in enumerate(zip(rows, made)):
    assert list(r) == schema, "record %d: keys %s" % (i, list(r))
    for f in schema:  # what mkstore set comes back exactly; the rest is null
        if f not in ("cost_usd", "cost_source"):  # priced at export (test_cost.sh)
            assert r[f] == m.get(f), "record %d field %s: %r != %r" % (i, f, r[f], m.get(f))
    if r["model"] is None or r["provider"] == "ollama":
        assert r["cost_usd"] is None, "record %d: cost of an unpriced call" % i
    assert r["cost_source"] == ("table" if r["cost_usd"] is not None else None), r
ids = [r["operation_id"] for r in rows]
times = [r["timestamp"] for r in rows]
assert ids == sorted(ids) and len(set(ids)) == len(ids), "not in key order"
assert times == sorted(times), "key order is not time order"
k = rows[0]
want = {"operation_id": k["operation_id"], "timestamp": "2024-02-29T12:34:56.789012Z",
        "provider": "openai", "model": "gpt-4o-mini", "status": "ok", "input_tokens": 1234,
        "output_tokens": 567, "latency_ms": 812.5, "stream": True,
        "response": 'h\u00e9llo "w"\n\\ \u2603',
        "extras": {"team": "search", "n": [1, 2, 3], "deep": {"x": None}},
        "argv": ["python3", "agent.py", "--task", "summarize"], "total_tokens": None,
        "cost_usd": round((1234 * 0.15 + 567 * 0.6) / 1e6, 12)}  # the database: gpt-4o-mini
for f, v in want.items():
    assert k[f] == v and type(k[f]) == type(v), "known record %s: %r" % (f, k[f])
assert sum(r["status"] == "error" for r in rows) > 0, "no error records"
assert sum(r["input_tokens"] is None for r in rows) > 0, "no null-token records"
assert sum(r["model"] is None for r in rows) > 0, "no null-model records"
assert sum(isinstance(r["cost_usd"], float) for r in rows) > len(rows) // 3, "too few costs"
assert sum(isinstance(r["extras"], dict) for r in rows) > len(rows) // 2, "too few extras"
EOF
ok "every line is JSON with every schema field in order; values round-trip; key order is time order"

expect_success "export json" "$LLMOPS" export --db "$T/main" --format json
"$PY" - "$T/out" "$T/main.ndjson" <<'EOF'
import json, sys
arr = json.load(open(sys.argv[1]))
assert isinstance(arr, list) and arr == [json.loads(l) for l in open(sys.argv[2])]
EOF
ok "export --format json is one array equal to the NDJSON records"

expect_success "export --out" "$LLMOPS" export --db "$T/main" --format ndjson --out "$T/file.ndjson"
[[ ! -s $T/out ]] || fail "--out FILE also wrote to stdout"
cmp -s "$T/file.ndjson" "$T/main.ndjson" || fail "--out FILE differs from stdout export"
[[ $(ls "$T" | grep -c '^file\.ndjson') -eq 1 ]] || fail "--out left temporary files: $(ls "$T")"
expect_success "export --out -" "$LLMOPS" export --db "$T/main" --out -
cmp -s "$T/out" "$T/main.ndjson" || fail "--out - differs"
ok "--out FILE and --out - write the same export"

# --- stats --------------------------------------------------------------------
expect_success "stats" "$LLMOPS" stats --db "$T/main"
cat "$T/out"
check_stats "$T/main.ndjson" "$T/out" >"$T/why" || fail "stats: $(cat "$T/why")"
ok "stats match independent computation: $(cat "$T/why")"

"$MKSTORE" --db "$T/mix" --count 333 --seed 99 --error-pct 50 --null-tokens-pct 40 \
    --models "openai/gpt-4o,anthropic/claude-3-haiku,-/-,groq/llama-3.1-8b"
expect_success "export mix" "$LLMOPS" export --db "$T/mix"
mv "$T/out" "$T/mix.ndjson"
expect_success "stats mix" "$LLMOPS" stats --db "$T/mix"
check_stats "$T/mix.ndjson" "$T/out" >"$T/why" || fail "stats mix: $(cat "$T/why")"
ok "stats on a 50% error, 40% null-token mix: $(cat "$T/why")"

# --- default database location -----------------------------------------------
LLMOPS_DB=$T/main expect_success "LLMOPS_DB" "$LLMOPS" export
cmp -s "$T/out" "$T/main.ndjson" || fail "LLMOPS_DB export differs"
mkdir -p "$T/xdg" && cp -r "$T/mix" "$T/xdg/llmops"
LLMOPS_DB= XDG_DATA_HOME=$T/xdg expect_success "XDG_DATA_HOME" "$LLMOPS" export
cmp -s "$T/out" "$T/mix.ndjson" || fail "XDG_DATA_HOME export differs"
mkdir -p "$T/home/.local/share" && cp -r "$T/main" "$T/home/.local/share/llmops"
LLMOPS_DB= expect_success "HOME" "$LLMOPS" stats
[[ $(wc -l <"$T/out") -gt 1 ]] || fail "~/.local/share/llmops not used"
ok "--db defaults to LLMOPS_DB, XDG_DATA_HOME/llmops, ~/.local/share/llmops"

# --- an empty store ----------------------------------------------------------
"$MKSTORE" --db "$T/empty" --count 0
expect_success "export empty" "$LLMOPS" export --db "$T/empty"
[[ ! -s $T/out ]] || fail "empty export printed: $(cat "$T/out")"
expect_success "export empty json" "$LLMOPS" export --db "$T/empty" --format json
[[ $("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])))' "$T/out") == "[]" ]] ||
    fail "empty json export: $(cat "$T/out")"
expect_success "stats empty" "$LLMOPS" stats --db "$T/empty"
[[ $(wc -l <"$T/out") -eq 1 ]] || fail "empty stats: $(cat "$T/out")"
ok "an empty store exports nothing, [] and a header-only table"

# --- usage errors: exit 2 ----------------------------------------------------
expect_error "unknown --format" 2 "$LLMOPS" export --db "$T/main" --format xml
expect_error "unknown option" 2 "$LLMOPS" export --db "$T/main" --bogus
expect_error "option without value" 2 "$LLMOPS" export --db
expect_error "stats --format xml" 2 "$LLMOPS" stats --db "$T/main" --format xml
expect_error "stats --by nonsense" 2 "$LLMOPS" stats --db "$T/main" --by provider,colour
expect_error "stray argument" 2 "$LLMOPS" stats --db "$T/main" extra
expect_error "unknown command" 2 "$LLMOPS" frobnicate
expect_error "no command" 2 "$LLMOPS"

# --- damaged or missing stores: exit 1, one line, no crash --------------------
for cmd in export stats; do
    expect_error "$cmd: missing db dir" 1 "$LLMOPS" $cmd --db "$T/nope"
    mkdir -p "$T/emptydir"
    expect_error "$cmd: empty dir" 1 "$LLMOPS" $cmd --db "$T/emptydir"
    [[ -z $(ls -A "$T/emptydir") ]] || fail "$cmd: reading an empty dir created $(ls "$T/emptydir")"
    expect_error "$cmd: db is a file" 1 "$LLMOPS" $cmd --db "$T/main.ndjson"
    mkdir -p "$T/garbage"
    head -c 1048576 /dev/urandom >"$T/garbage/data.mdb"
    expect_error "$cmd: random-bytes data.mdb" 1 "$LLMOPS" $cmd --db "$T/garbage"
done
size=$(stat -c %s "$T/main/data.mdb")
# (a cut that only drops pages no reader visits, such as freelist pages, is
# harmless and reads fine, so every cut here is below the live data)
for cut in 10 100 4096 8192 12288 $((size / 2)); do
    rm -rf "$T/cut" && cp -r "$T/main" "$T/cut"
    truncate -s $cut "$T/cut/data.mdb"
    expect_error "export: data.mdb truncated to $cut" 1 "$LLMOPS" export --db "$T/cut"
    expect_error "stats: data.mdb truncated to $cut" 1 "$LLMOPS" stats --db "$T/cut"
done

"$MKSTORE" --db "$T/bad" --count 50 --garbage >"$T/badkey"
bad=$(cat "$T/badkey")
# a record that is not msgpack: skipped with a warning naming it, every other
# record exported, a count at the end, exit status 3
run "$LLMOPS" export --db "$T/bad"
[[ $rc -eq 3 ]] || fail "export: record that is not msgpack: exit $rc, want 3: $(cat "$T/err")"
grep -q "^llmops: record $bad: .*; skipped$" "$T/err" || fail "warning does not name record $bad"
grep -q '^llmops: export: 1 corrupt record skipped$' "$T/err" || fail "no count: $(cat "$T/err")"
[[ $(wc -l <"$T/out") -eq 50 ]] || fail "the 50 good records were not exported"
ok "export: a corrupt record is skipped with a warning; 50 exported; exit 3"
run "$LLMOPS" stats --db "$T/bad"
[[ $rc -eq 0 ]] && grep -q "$bad" "$T/err" || fail "stats past a corrupt record: exit $rc: $(cat "$T/err")"
ok "stats: a corrupt record is skipped with a warning"
run "$LLMOPS" export --db "$T/bad" --out "$T/bad.ndjson"
[[ $rc -eq 3 && $(wc -l <"$T/bad.ndjson") -eq 50 ]] ||
    fail "export --out past a corrupt record: exit $rc, $(cat "$T/err")"
ok "export --out: a corrupt record is skipped; the file holds the 50 others"
expect_error "export --out into a missing dir" 1 "$LLMOPS" export --db "$T/main" --out "$T/no/x"
expect_error "export to a full device" 1 "$LLMOPS" export --db "$T/main" --out /dev/full

# --- readers next to a live writer --------------------------------------------
"$MKSTORE" --db "$T/live" --count 10
"$MKSTORE" --db "$T/live" --seconds 4 --batch 10 --pause-ms 10 --seed 3 >"$T/wrote" &
WRITER=$!
exports=0 last=0
while kill -0 "$WRITER" 2>/dev/null; do
    "$LLMOPS" export --db "$T/live" >"$T/live.ndjson" 2>"$T/live.err" ||
        fail "export during writes failed: $(cat "$T/live.err")"
    "$PY" -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/live.ndjson" ||
        fail "export during writes is not valid NDJSON"
    n=$(wc -l <"$T/live.ndjson")
    [[ $n -ge $last ]] || fail "export during writes went backwards: $n < $last"
    last=$n
    "$LLMOPS" stats --db "$T/live" >/dev/null 2>"$T/live.err" ||
        fail "stats during writes failed: $(cat "$T/live.err")"
    exports=$((exports + 1))
done
wait "$WRITER" || fail "the writer failed"
WRITER=
wrote=$(awk '{print $2}' "$T/wrote")
expect_success "export after writes" "$LLMOPS" export --db "$T/live"
final=$(wc -l <"$T/out")
[[ $final -eq $((wrote + 10)) ]] || fail "final export has $final records, want $((wrote + 10))"
[[ $exports -ge 3 ]] || fail "only $exports exports overlapped the writer"
ok "$exports export+stats runs during $wrote live writes all succeeded and only grew"

echo "all $passed tool tests passed"
