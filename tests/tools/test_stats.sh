#!/usr/bin/env bash
# `llmops stats --by KEYS --format table|csv|json` against the same numbers
# computed independently (stats_expect.py) from the NDJSON export of a
# generated store; usage errors.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$MKSTORE" --db "$T/s" --count 2000 --seed 21 --error-pct 20 --null-tokens-pct 15 \
    --models "openai/gpt-4o,openai/gpt-4o-mini,anthropic/claude-3-5-haiku-20241022,-/-,ollama/-"
expect_success "export" "$LLMOPS" export --db "$T/s"
mv "$T/out" "$T/s.ndjson"

# the table, for several --by lists (stdout is not a terminal: still the table)
for by in provider,model provider agent session exe day model,day workspace,provider; do
    expect_success "stats --by $by" "$LLMOPS" stats --db "$T/s" --by "$by"
    "$PY" "$SRC/tests/tools/stats_expect.py" "$T/s.ndjson" "$T/out" "$by" >"$T/why" ||
        fail "stats --by $by: $(cat "$T/why")"
    ok "stats --by $by: $(cat "$T/why")"
done
expect_success "stats default" "$LLMOPS" stats --db "$T/s"
cp "$T/out" "$T/default"
expect_success "stats --format table" "$LLMOPS" stats --db "$T/s" --format table --by provider,model
cmp -s "$T/out" "$T/default" || fail "the default is not --by provider,model --format table"
ok "the default is the table by provider,model, also when stdout is a pipe"

# csv and json: the same groups, full precision, null/empty for unknown
check_machine() { # FORMAT BY OUTPUT
    "$PY" - "$SRC/tests/tools" "$T/s.ndjson" "$1" "$2" "$3" <<'EOF'
import csv, json, math, sys
sys.path.insert(0, sys.argv[1])
from stats_expect import groups, nearest_rank
fmt, by, out = sys.argv[3], sys.argv[4].split(","), sys.argv[5]
rows = [json.loads(l) for l in open(sys.argv[2])]
gs, _ = groups(rows, by)
cols = ["calls", "errors", "input_tokens", "output_tokens", "cache_read_tokens",
        "cache_write_tokens", "reasoning_tokens", "cost_usd", "unpriced_calls", "latency_p50_ms",
        "latency_p95_ms", "latency_p99_ms", "ttft_p50_ms", "output_tokens_per_s"]
if fmt == "json":
    got = json.load(open(out))
else:
    text = open(out, newline="").read()
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", ""), "not CRLF"
    lines = list(csv.reader(text.splitlines()))
    assert lines[0] == by + cols, lines[0]
    conv = lambda c, v: None if v == "" else float(v) if c in cols else v
    got = [{c: conv(c, v) for c, v in zip(lines[0], l)} for l in lines[1:]]
order = sorted(gs, key=lambda k: ["-" if v is None else v for v in k])
assert [tuple(g[k] for k in by) for g in got] == order, "group order"
for g, key in zip(got, order):
    w = gs[key]
    want = dict(zip(cols, [w["calls"], w["errors"], *w["tokens"],
                           w["cost"] if w["priced"] else None, w["unpriced"],
                           nearest_rank(w["lat"], 50), nearest_rank(w["lat"], 95),
                           nearest_rank(w["lat"], 99), nearest_rank(w["ttft"], 50),
                           w["speed_tok"] / w["speed_s"] if w["speed_s"] else None]))
    for c in cols:
        a, b = g[c], want[c]
        if b is None:
            assert a is None, (key, c, a)
        elif c in ("calls", "errors", "unpriced_calls") or c.endswith("tokens"):
            assert a == b and (fmt == "csv" or isinstance(a, int)), (key, c, a, b)
        else:
            assert math.isclose(a, b, rel_tol=1e-12), (key, c, a, b)
print("%d groups" % len(got))
EOF
}
for fmt in csv json; do
    for by in provider,model session,day exe; do
        expect_success "stats --format $fmt --by $by" "$LLMOPS" stats --db "$T/s" --format $fmt --by $by
        check_machine $fmt $by "$T/out" >"$T/why" || fail "stats --format $fmt --by $by"
        ok "stats --format $fmt --by $by: $(cat "$T/why")"
    done
done

# an empty store: header only; [] in JSON
"$MKSTORE" --db "$T/empty" --count 0
expect_success "stats csv empty" "$LLMOPS" stats --db "$T/empty" --format csv
[[ $(wc -l <"$T/out") -eq 1 ]] || fail "empty csv: $(cat "$T/out")"
expect_success "stats json empty" "$LLMOPS" stats --db "$T/empty" --format json
[[ $("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])))' "$T/out") == "[]" ]] ||
    fail "empty json: $(cat "$T/out")"
ok "an empty store: a header-only CSV, an empty JSON array"

# output speed and ttft, by hand: a stream (latency - ttft) and a non-stream
cat >"$T/speed.ndjson" <<'EOF'
{"timestamp": "2025-01-01T00:00:00Z", "provider": "p", "model": "m", "status": "ok", "stream": true, "latency_ms": 1500.0, "ttft_ms": 500.0, "output_tokens": 100}
{"timestamp": "2025-01-01T00:00:01Z", "provider": "p", "model": "m", "status": "ok", "stream": false, "latency_ms": 3000.0, "output_tokens": 200}
{"timestamp": "2025-01-01T00:00:02Z", "provider": "p", "model": "m", "status": "error", "latency_ms": 100.0}
EOF
"$MKSTORE" --db "$T/speed" --count 0 --json "$T/speed.ndjson"
expect_success "stats speed" "$LLMOPS" stats --db "$T/speed" --format json
"$PY" -c '
import json, sys
[g] = json.load(open(sys.argv[1]))
assert abs(g["output_tokens_per_s"] - 300 / 4.0) < 1e-9, g  # (100 + 200) / (1.0 s + 3.0 s)
assert g["ttft_p50_ms"] == 500.0 and g["errors"] == 1 and g["latency_p99_ms"] == 3000.0, g
assert g["cost_usd"] is None and g["unpriced_calls"] == 2, g' "$T/out" || fail "speed"
ok "OUT_TOK_S: output tokens over latency - ttft (streams) or latency (others)"

# days are UTC dates of the start time; unknown keys are '-' / null
cat >"$T/days.ndjson" <<'EOF'
{"timestamp": "2025-01-01T23:59:59.999999Z", "exe": "/usr/bin/python3", "status": "ok"}
{"timestamp": "2025-01-02T00:00:00Z", "exe": "/usr/bin/curl", "status": "ok"}
{"timestamp": "2025-01-03T12:00:00+02:00", "status": "ok"}
EOF
"$MKSTORE" --db "$T/days" --count 0 --json "$T/days.ndjson"
expect_success "stats --by day" "$LLMOPS" stats --db "$T/days" --by day,exe --format json
"$PY" -c '
import json, sys
got = [(g["day"], g["exe"], g["calls"]) for g in json.load(open(sys.argv[1]))]
assert got == [("2025-01-01", "/usr/bin/python3", 1), ("2025-01-02", "/usr/bin/curl", 1),
               ("2025-01-03", None, 1)], got' "$T/out" || fail "stats --by day,exe"
expect_success "stats --by exe table" "$LLMOPS" stats --db "$T/days" --by exe
[[ $(awk 'NR > 1 { print $1 }' "$T/out" | tr '\n' ' ') == "- /usr/bin/curl /usr/bin/python3 " ]] ||
    fail "stats --by exe: $(cat "$T/out")"
ok "--by day groups by UTC date; unknown keys are '-' in the table, null in JSON"

expect_error "stats --by bad" 2 "$LLMOPS" stats --db "$T/s" --by provider,colour
expect_error "stats --by empty" 2 "$LLMOPS" stats --db "$T/s" --by ""
expect_error "stats --by trailing comma" 2 "$LLMOPS" stats --db "$T/s" --by provider,
expect_error "stats --format xml" 2 "$LLMOPS" stats --db "$T/s" --format xml
expect_error "stats --prices missing" 1 "$LLMOPS" stats --db "$T/s" --prices "$T/none.json"
expect_success "stats --help" "$LLMOPS" stats --help
grep -q 'latency_ms -' "$T/out" || fail "stats --help does not define OUT_TOK_S"

echo "$passed passed, 0 failed"
