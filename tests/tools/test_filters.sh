#!/usr/bin/env bash
# Filters on `export` and `stats`. Every filter's result is checked against
# what Python computes from the unfiltered NDJSON export of the same store;
# --since/--until are checked to read only their key range: with
# LLMOPS_DEBUG_SCAN=1 the tool says how many records it visited, and on a
# 50,000-record store that must equal the number of records in the range.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# about 100 minutes of calls across midnight into 2024-03-01 (after a leap day)
"$MKSTORE" --db "$T/f" --count 3000 --seed 11 --error-pct 30 --null-tokens-pct 30 \
    --models "openai/gpt-4o,anthropic/claude-3-haiku,-/-,groq/llama-3.1-8b,ollama/-" \
    --end 2024-03-01T01:00:00.250377Z
expect_success "export all" "$LLMOPS" export --db "$T/f"
mv "$T/out" "$T/all.ndjson"

# The cases: llmops arguments, then the same filter in Python. Expected rows
# come from all.ndjson; each case runs export (ids and order must match) and
# stats (the table must be the one computed from the expected rows).
"$PY" - "$LLMOPS" "$T/f" "$T/all.ndjson" "$SRC/tests/tools" <<'EOF' || fail "filters: see above"
import calendar, datetime, json, subprocess, sys

llmops, db, ref, tools_dir = sys.argv[1:5]
recs = [json.loads(l) for l in open(ref)]

def us(t):
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(t)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return calendar.timegm(d.utctimetuple()) * 10**6 + d.microsecond

def iso(u):
    d = datetime.datetime.fromtimestamp(u // 10**6, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (u % 10**6)

def tokens(r):
    if r["input_tokens"] is None and r["output_tokens"] is None:
        return None
    return (r["input_tokens"] or 0) + (r["output_tokens"] or 0)

ts = [us(r["timestamp"]) for r in recs]
d0, d1 = "2024-02-29", "2024-03-01"
assert ts[0] < us(d1 + "T00:00:00Z") <= ts[-1], "the store does not cross midnight"
a, b = ts[1000], ts[1200]  # exact bounds at the microsecond of two records
offset = datetime.datetime.fromtimestamp(a / 1e6, datetime.timezone(datetime.timedelta(hours=2)))

def eq(field, value):
    return lambda r: r[field] == value

def between(get, lo=None, hi=None):
    def f(r):
        v = get(r)
        return v is not None and (lo is None or v >= lo) and (hi is None or v <= hi)
    return f

cases = [
    (["--provider", "anthropic"], eq("provider", "anthropic")),
    (["--model", "gpt-4o"], eq("model", "gpt-4o")),
    (["--operation-type", "embeddings"], eq("operation_type", "embeddings")),
    (["--session", "sess-42"], eq("session_id", "sess-42")),
    (["--agent", "agent-2"], eq("agent_id", "agent-2")),
    (["--action", "act-77"], eq("action_id", "act-77")),
    (["--workspace", "/home/dev/other"], eq("workspace", "/home/dev/other")),
    (["--status", "error"], eq("status", "error")),
    (["--provider", "nobody"], lambda r: False),
    (["--min-tokens", "2500"], between(tokens, lo=2500)),
    (["--max-tokens", "1500"], between(tokens, hi=1500)),
    (["--min-tokens", "1000", "--max-tokens", "3000"], between(tokens, 1000, 3000)),
    (["--min-latency", "2500.5"], between(lambda r: r["latency_ms"], lo=2500.5)),
    (["--max-latency", "1000"], between(lambda r: r["latency_ms"], hi=1000)),
    (["--min-latency", "100", "--max-latency", "200.25"],
     between(lambda r: r["latency_ms"], 100, 200.25)),
    (["--since", d0], lambda r: us(r["timestamp"]) >= us(d0 + "T00:00:00Z")),
    (["--until", d1], lambda r: us(r["timestamp"]) < us(d1 + "T00:00:00Z")),
    (["--since", d1], lambda r: us(r["timestamp"]) >= us(d1 + "T00:00:00Z")),
    (["--until", d0], lambda r: False),
    (["--since", d0, "--until", d1],
     lambda r: us(d0 + "T00:00:00Z") <= us(r["timestamp"]) < us(d1 + "T00:00:00Z")),
    (["--since", iso(a), "--until", iso(b)], lambda r: a <= us(r["timestamp"]) < b),
    (["--since", iso(a + 1), "--until", iso(b + 1)], lambda r: a < us(r["timestamp"]) <= b),
    (["--since", offset.isoformat()], lambda r: us(r["timestamp"]) >= a),
    (["--since", iso(b), "--until", iso(a)], lambda r: False),
    (["--provider", "openai", "--status", "ok", "--min-latency", "1000", "--agent", "agent-1",
      "--since", iso(a)],
     lambda r: r["provider"] == "openai" and r["status"] == "ok" and r["agent_id"] == "agent-1"
     and r["latency_ms"] is not None and r["latency_ms"] >= 1000 and us(r["timestamp"]) >= a),
]

sys.path.insert(0, tools_dir)
from stats_expect import table as stats_table

def run(args):
    p = subprocess.run([llmops] + args, capture_output=True, text=True)
    if p.returncode or p.stderr:
        sys.exit("llmops %s: exit %d, stderr %r" % (" ".join(args), p.returncode, p.stderr))
    return p.stdout

n = 0
for args, pred in cases:
    want = [r for r in recs if pred(r)]
    got = [json.loads(l) for l in run(["export", "--db", db] + args).splitlines()]
    if [r["operation_id"] for r in got] != [r["operation_id"] for r in want]:
        sys.exit("export %s: %d records, want %d" % (" ".join(args), len(got), len(want)))
    assert got == want, args
    table = [l.split() for l in run(["stats", "--db", db] + args).splitlines()]
    if table != stats_table(want):
        sys.exit("stats %s:\n got %s\nwant %s" % (" ".join(args), table, stats_table(want)))
    n += 1
    print("ok - %s: %d of %d records; stats agree" % (" ".join(args), len(want), len(recs)))
empty = sum(1 for args, pred in cases if not any(pred(r) for r in recs))
assert empty == 3, "want exactly the 3 empty cases, got %d" % empty
assert all(0 < sum(map(p, recs)) < len(recs) for a, p in cases if a[0] == "--until" and a[1] == d1)
print("%d filter cases passed" % n)
EOF
ok "each filter and a combination: export and stats equal Python's selection"

# --- bad values: one line, exit 2 ---------------------------------------------
for cmd in export stats; do
    expect_error "$cmd --since not a date" 2 "$LLMOPS" $cmd --db "$T/f" --since yesterday
    expect_error "$cmd --since month 13" 2 "$LLMOPS" $cmd --db "$T/f" --since 2024-13-01
    expect_error "$cmd --until Feb 30" 2 "$LLMOPS" $cmd --db "$T/f" --until 2024-02-30
    expect_error "$cmd --until Feb 29 of 2023" 2 "$LLMOPS" $cmd --db "$T/f" --until 2023-02-29
    expect_error "$cmd --since bad time" 2 "$LLMOPS" $cmd --db "$T/f" --since 2024-01-01T25:00:00Z
    expect_error "$cmd --min-tokens word" 2 "$LLMOPS" $cmd --db "$T/f" --min-tokens many
    expect_error "$cmd --max-tokens negative" 2 "$LLMOPS" $cmd --db "$T/f" --max-tokens -5
    expect_error "$cmd --min-latency word" 2 "$LLMOPS" $cmd --db "$T/f" --min-latency fast
    expect_error "$cmd --max-latency nan" 2 "$LLMOPS" $cmd --db "$T/f" --max-latency nan
    expect_error "$cmd --provider without value" 2 "$LLMOPS" $cmd --db "$T/f" --provider
done
expect_success "leap day" "$LLMOPS" stats --db "$T/f" --since 2024-02-29 --until 2024-03-01

# --- key-range scans -----------------------------------------------------------
"$MKSTORE" --db "$T/big" --count 50000 --seed 5
LLMOPS_DEBUG_SCAN=1 run "$LLMOPS" stats --db "$T/big"
[[ $rc -eq 0 && $(cat "$T/err") == "scanned 50000" ]] || fail "full stats: exit $rc, $(cat "$T/err")"
expect_success "export big" "$LLMOPS" export --db "$T/big" --format csv
# timestamps only, from the CSV's third column: [since, until) one hour around the middle
"$PY" - "$T/out" >"$T/range" <<'EOF'
import calendar, csv, datetime, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0][2] == "timestamp"
ts = [datetime.datetime.strptime(r[2], "%Y-%m-%dT%H:%M:%S.%fZ") for r in rows[1:]]
since = ts[len(ts) // 2].replace(minute=0, second=0, microsecond=0)
until = since + datetime.timedelta(hours=1)
fmt = "%Y-%m-%dT%H:%M:%SZ"
print(since.strftime(fmt), until.strftime(fmt), sum(since <= t < until for t in ts),
      sum(t >= since for t in ts), sum(t < until for t in ts))
EOF
read -r since until in_range from_since before_until <"$T/range"
[[ $in_range -gt 0 && $in_range -lt 5000 ]] || fail "range [$since, $until) holds $in_range records"

LLMOPS_DEBUG_SCAN=1 run "$LLMOPS" stats --db "$T/big" --since "$since" --until "$until"
[[ $rc -eq 0 && $(cat "$T/err") == "scanned $in_range" ]] ||
    fail "stats [$since, $until): exit $rc, '$(cat "$T/err")', want 'scanned $in_range'"
calls=$(awk 'NR > 1 { n += $3 } END { print n + 0 }' "$T/out")
[[ $calls -eq $in_range ]] || fail "stats on the range counted $calls calls, want $in_range"
ok "stats --since $since --until $until visits exactly the $in_range records in range (of 50000)"

LLMOPS_DEBUG_SCAN=1 run "$LLMOPS" export --db "$T/big" --since "$since" --until "$until"
[[ $rc -eq 0 && $(cat "$T/err") == "scanned $in_range" && $(wc -l <"$T/out") -eq $in_range ]] ||
    fail "export range: exit $rc, '$(cat "$T/err")', $(wc -l <"$T/out") lines, want $in_range"
LLMOPS_DEBUG_SCAN=1 run "$LLMOPS" export --db "$T/big" --since "$since" --until "$until" \
    --provider openai --format csv
[[ $rc -eq 0 && $(cat "$T/err") == "scanned $in_range" ]] ||
    fail "export range + provider: '$(cat "$T/err")', want 'scanned $in_range'"
LLMOPS_DEBUG_SCAN=1 run "$LLMOPS" stats --db "$T/big" --since "$since"
[[ $(cat "$T/err") == "scanned $from_since" ]] || fail "--since alone: '$(cat "$T/err")', want $from_since"
LLMOPS_DEBUG_SCAN=1 run "$LLMOPS" stats --db "$T/big" --until "$until"
[[ $(cat "$T/err") == "scanned $before_until" ]] ||
    fail "--until alone: '$(cat "$T/err")', want $before_until"
LLMOPS_DEBUG_SCAN=1 run "$LLMOPS" stats --db "$T/big" --since "$until" --until "$since"
[[ $(cat "$T/err") == "scanned 0" ]] || fail "an empty range: '$(cat "$T/err")', want 'scanned 0'"
ok "export and --since or --until alone visit only their ranges ($from_since, $before_until);" \
    "an inverted range visits none"

echo "$passed passed, 0 failed"
