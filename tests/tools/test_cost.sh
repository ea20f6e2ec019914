#!/usr/bin/env bash
# cost_usd: records with exact token counts (mkstore --json) priced by the
# shipped table and by override tables, against costs computed by hand here
# from the providers' per-million-token list prices; the same costs in every
# export format and in stats; the price table itself and `llmops prices`.
# Dates are in the past, so the shipped entries they hit never change (a
# price change is a new entry with a later effective_from).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# name, then the record; the hand computation is in the want table below
cat >"$T/calls.ndjson" <<'EOF'
{"action_id": "openai-cached", "timestamp": "2025-03-01T10:00:00Z", "provider": "openai", "model": "gpt-4o-mini-2024-07-18", "status": "ok", "input_tokens": 10000, "cache_read_tokens": 6000, "output_tokens": 500}
{"action_id": "anthropic-cache", "timestamp": "2025-01-15T10:00:00Z", "provider": "anthropic", "model": "claude-3-5-sonnet-20241022", "status": "ok", "input_tokens": 10000, "cache_read_tokens": 6000, "cache_write_tokens": 3000, "output_tokens": 800, "usage_raw": {"input_tokens": 1000, "cache_read_input_tokens": 6000, "cache_creation_input_tokens": 3000, "output_tokens": 800}}
{"action_id": "anthropic-1h", "timestamp": "2025-01-15T11:00:00Z", "provider": "anthropic", "model": "claude-3-5-sonnet-20241022", "status": "ok", "input_tokens": 10000, "cache_read_tokens": 6000, "cache_write_tokens": 3000, "output_tokens": 800, "usage_raw": {"input_tokens": 1000, "cache_read_input_tokens": 6000, "cache_creation_input_tokens": 3000, "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000}, "output_tokens": 800}}
{"action_id": "reasoning", "timestamp": "2025-05-01T00:00:00Z", "provider": "openai", "model": "o4-mini-2025-04-16", "status": "ok", "input_tokens": 2000, "output_tokens": 5000, "reasoning_tokens": 4000}
{"action_id": "gemini-long", "timestamp": "2025-07-01T00:00:00Z", "provider": "gcp.gemini", "model": "gemini-2.5-pro", "status": "ok", "input_tokens": 250000, "output_tokens": 2000, "reasoning_tokens": 1500}
{"action_id": "gemini-at-threshold", "timestamp": "2025-07-01T00:00:01Z", "provider": "gcp.gemini", "model": "gemini-2.5-pro", "status": "ok", "input_tokens": 200000, "output_tokens": 2000}
{"action_id": "anthropic-long", "timestamp": "2025-08-20T00:00:00Z", "provider": "anthropic", "model": "claude-sonnet-4-20250514", "status": "ok", "input_tokens": 300000, "cache_read_tokens": 100000, "output_tokens": 1000}
{"action_id": "o3-before-cut", "timestamp": "2025-05-01T00:00:00Z", "provider": "openai", "model": "o3-2025-04-16", "status": "ok", "input_tokens": 1000, "output_tokens": 1000}
{"action_id": "o3-after-cut", "timestamp": "2025-07-01T00:00:00Z", "provider": "openai", "model": "o3-2025-04-16", "status": "ok", "input_tokens": 1000, "output_tokens": 1000}
{"action_id": "deepseek-2025-03", "timestamp": "2025-03-01T00:00:00Z", "provider": "deepseek", "model": "deepseek-chat", "status": "ok", "input_tokens": 1000, "cache_read_tokens": 400, "output_tokens": 1000}
{"action_id": "deepseek-2025-03-peak", "timestamp": "2025-03-01T10:00:00Z", "provider": "deepseek", "model": "deepseek-chat", "status": "ok", "input_tokens": 1000, "cache_read_tokens": 400, "output_tokens": 1000}
{"action_id": "deepseek-2025-10", "timestamp": "2025-10-01T00:00:00Z", "provider": "deepseek", "model": "deepseek-chat", "status": "ok", "input_tokens": 1000, "cache_read_tokens": 400, "output_tokens": 1000}
{"action_id": "before-first-price", "timestamp": "2024-03-01T00:00:00Z", "provider": "openai", "model": "gpt-4o-mini", "status": "ok", "input_tokens": 1000, "output_tokens": 1000}
{"action_id": "unknown-model", "timestamp": "2025-05-01T00:00:01Z", "provider": "openai", "model": "gpt-nonexistent-9", "status": "ok", "input_tokens": 1000, "output_tokens": 1000, "cost_usd": 5.0}
{"action_id": "no-usage", "timestamp": "2025-05-01T00:00:02Z", "provider": "openai", "model": "gpt-4o-mini", "status": "error", "http_status": 429}
{"action_id": "exact-beats-prefix", "timestamp": "2025-01-01T00:00:00Z", "provider": "openai", "model": "gpt-4o-2024-05-13", "status": "ok", "input_tokens": 1000, "output_tokens": 1000}
{"action_id": "stored-cost-replaced", "timestamp": "2025-06-01T00:00:00Z", "provider": "x_ai", "model": "grok-3-mini", "status": "ok", "input_tokens": 1000, "output_tokens": 500, "reasoning_tokens": 400, "cost_usd": 99.0}
{"action_id": "embeddings", "timestamp": "2025-01-01T00:00:01Z", "provider": "openai", "model": "text-embedding-3-small", "operation_type": "embeddings", "status": "ok", "input_tokens": 1000}
{"action_id": "acme", "timestamp": "2025-01-01T00:00:02Z", "provider": "acme", "model": "m1", "status": "ok", "input_tokens": 1000, "output_tokens": 1000}
EOF
"$MKSTORE" --db "$T/c" --count 0 --json "$T/calls.ndjson"

# USD per million tokens, from the providers' pricing pages; None: no cost
cat >"$T/want.py" <<'EOF'
M = 1e6
SHIPPED = {
    "openai-cached": (4000 * 0.15 + 6000 * 0.075 + 500 * 0.60) / M,  # cached input at its rate
    "anthropic-cache": (1000 * 3 + 6000 * 0.30 + 3000 * 3.75 + 800 * 15) / M,  # reads and writes
    "anthropic-1h": (1000 * 3 + 6000 * 0.30 + 1000 * 3.75 + 2000 * 6 + 800 * 15) / M,
    "reasoning": (2000 * 1.10 + 5000 * 4.40) / M,  # reasoning is inside output_tokens
    "gemini-long": (250000 * 2.50 + 2000 * 15) / M,  # > 200k: the whole call at the long rates
    "gemini-at-threshold": (200000 * 1.25 + 2000 * 10) / M,  # not above the threshold
    "anthropic-long": (200000 * 6 + 100000 * 0.60 + 1000 * 22.50) / M,
    "o3-before-cut": (1000 * 10 + 1000 * 40) / M,  # the price before 2025-06-10
    "o3-after-cut": (1000 * 2 + 1000 * 8) / M,
    # curated entries defer to the database from 2025-02-26 16:30 to 2025-09-05: its
    # time-of-day prices, off-peak 16:30-00:30 UTC (half price) and peak
    "deepseek-2025-03": (600 * 0.135 + 400 * 0.035 + 1000 * 0.55) / M,
    "deepseek-2025-03-peak": (600 * 0.27 + 400 * 0.07 + 1000 * 1.10) / M,
    "deepseek-2025-10": (600 * 0.28 + 400 * 0.028 + 1000 * 0.42) / M,
    "before-first-price": (1000 * 0.15 + 1000 * 0.60) / M,  # the database does not date it
    "unknown-model": None,
    "no-usage": None,
    "exact-beats-prefix": (1000 * 5 + 1000 * 15) / M,  # not the gpt-4o* prefix's 2.50/10
    "stored-cost-replaced": (1000 * 0.30 + 500 * 0.50) / M,
    "embeddings": (1000 * 0.02) / M,
    "acme": None,
}
OVERRIDE = dict(SHIPPED)  # the user's table first, then the curated table and the database
OVERRIDE.update({
    "openai-cached": (4000 * 100 + 6000 * 50 + 500 * 200) / M,
    "before-first-price": (1000 * 100 + 1000 * 200) / M,
    "acme": (1000 * 1 + 1000 * 2) / M,
})

def check(rows, want, what):
    got = {r["action_id"]: r["cost_usd"] for r in rows}
    assert set(got) == set(want), (what, set(got) ^ set(want))
    for k, w in want.items():
        g = got[k]
        if w is None:
            assert g is None, "%s: %s costs %r, want null" % (what, k, g)
        else:
            assert isinstance(g, float) and abs(g - w) <= 1e-12 * max(1, w), \
                "%s: %s costs %r, want %r" % (what, k, g, w)
EOF

check_costs() { # NDJSON WANT WHAT
    "$PY" - "$T" "$1" "$2" "$3" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1])
import want
check = want.check
check([json.loads(l) for l in open(sys.argv[2])], getattr(want, sys.argv[3]), sys.argv[4])
EOF
}

expect_success "export" "$LLMOPS" export --db "$T/c"
cp "$T/out" "$T/c.ndjson"
check_costs "$T/c.ndjson" SHIPPED "ndjson" || fail "shipped-table costs"
ok "hand-computed costs: cached input, cache reads and writes (5 min and 1 h), reasoning," \
    "long context above (and at) the threshold, prices before and after a change, exact" \
    "beats prefix, stored cost replaced, embeddings; unknown model, no usage: null"

# every format carries the same cost_usd
expect_success "export json" "$LLMOPS" export --db "$T/c" --format json
"$PY" -c 'import json,sys; [print(json.dumps(r)) for r in json.load(open(sys.argv[1]))]' \
    "$T/out" >"$T/c.json.ndjson"
check_costs "$T/c.json.ndjson" SHIPPED "json" || fail "json costs"
expect_success "export csv" "$LLMOPS" export --db "$T/c" --format csv
"$PY" - "$T/out" >"$T/c.csv.ndjson" <<'EOF'
import csv, json, sys
for r in csv.DictReader(open(sys.argv[1], newline="")):
    print(json.dumps({"action_id": r["action_id"],
                      "cost_usd": float(r["cost_usd"]) if r["cost_usd"] else None}))
EOF
check_costs "$T/c.csv.ndjson" SHIPPED "csv" || fail "csv costs"
expect_success "export sqlite" "$LLMOPS" export --db "$T/c" --format sqlite --out "$T/c.sqlite"
"$PY" - "$T/c.sqlite" >"$T/c.sqlite.ndjson" <<'EOF'
import json, sqlite3, sys
for a, c in sqlite3.connect(sys.argv[1]).execute("SELECT action_id, cost_usd FROM llm_operations"):
    print(json.dumps({"action_id": a, "cost_usd": c}))
EOF
check_costs "$T/c.sqlite.ndjson" SHIPPED "sqlite" || fail "sqlite costs"
expect_success "export sql" "$LLMOPS" export --db "$T/c" --format sql
grep -q "0.00135" "$T/out" || fail "the sql script lacks the cached call's cost"
ok "ndjson, json, csv, sqlite and sql exports carry the same costs"

# stats: cost sums and the unpriced list
expect_success "stats" "$LLMOPS" stats --db "$T/c"
cat "$T/out"
"$PY" "$SRC/tests/tools/stats_expect.py" "$T/c.ndjson" "$T/out" >/dev/null || fail "stats table"
grep -qx 'no price for: openai/gpt-nonexistent-9 (1 call)' "$T/out" || fail "unknown model not listed"
grep -qx 'no price for: acme/m1 (1 call)' "$T/out" || fail "acme not listed"
[[ $(grep -c '^no price for:' "$T/out") -eq 2 ]] || fail "the call without usage is not unpriced"
# 19 calls, one without token counts; 2 with no price
grep -qx 'priced: 16 of 18 calls with token counts (88.9%)' "$T/out" || fail "no share priced"
expect_success "stats o3" "$LLMOPS" stats --db "$T/c" --model o3-2025-04-16 --format json
"$PY" -c '
import json, sys
[g] = json.load(open(sys.argv[1]))
assert abs(g["cost_usd"] - 0.06) < 1e-12 and g["unpriced_calls"] == 0, g' "$T/out" ||
    fail "stats cost of the two o3 calls"
ok "stats sums the costs, lists the unpriced models and the share of calls priced"

# --- overrides -----------------------------------------------------------------
cat >"$T/override.json" <<'EOF'
{"version": 1, "as_of": "2030-01-01", "entries": [
 {"provider": "acme", "model": "m1", "effective_from": "2020-01-01",
  "usd_per_mtok": {"input": 1, "output": 2}, "source": "https://example.com/acme"},
 {"provider": "openai", "model_prefix": "gpt-4o-mini", "effective_from": "2020-01-01",
  "usd_per_mtok": {"input": 100, "output": 200, "cache_read": 50}, "source": "https://example.com"}
]}
EOF
expect_success "export --prices" "$LLMOPS" export --db "$T/c" --prices "$T/override.json"
check_costs "$T/out" OVERRIDE "--prices" || fail "--prices costs"
LLMOPS_PRICES=$T/override.json expect_success "LLMOPS_PRICES" "$LLMOPS" export --db "$T/c"
check_costs "$T/out" OVERRIDE "LLMOPS_PRICES" || fail "LLMOPS_PRICES costs"
LLMOPS_PRICES=$T/nope.json expect_success "--prices beats LLMOPS_PRICES" \
    "$LLMOPS" export --db "$T/c" --prices "$T/override.json"
check_costs "$T/out" OVERRIDE "--prices over env" || fail "--prices does not win"
LLMOPS_PRICES=$T/override.json expect_success "stats LLMOPS_PRICES" "$LLMOPS" stats --db "$T/c" \
    --provider acme --format csv
grep -q '^acme,m1,1,0,1000,1000,0,0,0,0.003,0,' "$T/out" || fail "stats override: $(cat "$T/out")"
ok "--prices FILE and LLMOPS_PRICES: the user's table wins over the curated table and the" \
    "database, which price what it leaves out (export and stats)"

# bad tables: one line, exit 1, naming the file (and the entry)
echo '{"version": 1, "entries": [' >"$T/broken.json"
expect_error "export --prices broken JSON" 1 "$LLMOPS" export --db "$T/c" --prices "$T/broken.json"
grep -q "broken.json: line" "$T/err" || fail "no line number"
expect_error "export --prices missing" 1 "$LLMOPS" export --db "$T/c" --prices "$T/none.json"
"$PY" - "$T" <<'EOF'
import json, sys
good = {"provider": "p", "model": "m", "effective_from": "2025-01-01",
        "usd_per_mtok": {"input": 1, "output": 2}, "source": "https://example.com"}
bad = {
    "nosource": {k: v for k, v in good.items() if k != "source"},
    "both": dict(good, model_prefix="m"),
    "baddate": dict(good, effective_from="2025-02-30"),
    "negative": dict(good, usd_per_mtok={"input": -1, "output": 2}),
    "nooutput": dict(good, usd_per_mtok={"input": 1}),
    "badlong": dict(good, long_context={"threshold_input_tokens": 0, "input": 1, "output": 1}),
}
for name, e in bad.items():
    json.dump({"version": 1, "entries": [good, e]}, open("%s/bad-%s.json" % (sys.argv[1], name), "w"))
json.dump({"version": 1, "entries": [good, good]}, open(sys.argv[1] + "/bad-dup.json", "w"))
json.dump({"version": 2, "entries": []}, open(sys.argv[1] + "/bad-version.json", "w"))
EOF
for b in nosource both baddate negative nooutput badlong dup; do
    expect_error "table with a bad entry ($b)" 1 "$LLMOPS" stats --db "$T/c" --prices "$T/bad-$b.json"
    grep -q "entry 1:" "$T/err" || fail "$b: the error does not name the entry"
done
expect_error "table version 2" 1 "$LLMOPS" prices --prices "$T/bad-version.json"

# --- the shipped tables ---------------------------------------------------------
"$PY" - "$BUILD/prices.json" "$SRC/tools/prices.json" "$SRC/tools/prices" "$BUILD/prices" <<'EOF' || fail "shipped table"
import filecmp, json, os, sys
import jsonschema
assert filecmp.cmp(sys.argv[1], sys.argv[2], shallow=False), "build copy differs"
t = json.load(open(sys.argv[1]))
assert t["version"] == 1 and t["as_of"]
providers = {e["provider"] for e in t["entries"]}
assert providers == {"openai", "anthropic", "deepseek"}, providers
for e in t["entries"]:
    assert e["source"].startswith("https://"), e
    assert ("model" in e) != ("model_prefix" in e), e
    assert e.get("defer") or "cache_write_1h" in e["usd_per_mtok"] or e["provider"] != "anthropic", e
# the database travels with its README, licence and schema; the data is the published file,
# which validates against its schema once the pricing_urls it carries are allowed
for f in ("genai-prices-data_slim.json", "genai-prices-data_slim.schema.json", "README.md",
          "LICENSE.genai-prices"):
    assert filecmp.cmp(os.path.join(sys.argv[3], f), os.path.join(sys.argv[4], f), shallow=False), f
schema = json.load(open(os.path.join(sys.argv[3], "genai-prices-data_slim.schema.json")))
schema["$defs"]["Provider"]["properties"]["pricing_urls"] = {"type": "array", "items": {"type": "string"}}
data = json.load(open(os.path.join(sys.argv[3], "genai-prices-data_slim.json")))
jsonschema.Draft202012Validator(schema).validate(data)
print("%d curated entries; database: %d providers, %d models" % (
    len(t["entries"]), len(data), sum(len(p["models"]) for p in data)))
EOF
ok "the curated table cites a source for each entry and keeps Anthropic (one-hour cache" \
    "writes), DeepSeek (dated) and gpt-4o's first price; the database ships with its README," \
    "licence and schema, and validates against it"

# --- llmops prices -----------------------------------------------------------------
expect_success "prices" "$LLMOPS" prices
head -2 "$T/out"
[[ $(wc -l <"$T/out") -eq $(($("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["entries"]))' \
    "$BUILD/prices.json") + 3)) ]] || fail "prices does not list every entry"
grep -q "^curated table $BUILD/prices.json (as of " "$T/out" || fail "prices: $(head -1 "$T/out")"
grep -q "^database $BUILD/prices/genai-prices-data_slim.json: 34 providers, 1285 models" "$T/out" ||
    fail "prices: no database line: $(tail -1 "$T/out")"
expect_success "prices MODEL --at (curated, dated)" "$LLMOPS" prices deepseek-chat --at 2025-10-01
grep -Eq '^deepseek +deepseek-chat +2025-09-29 - +\* +0.28 +0.42 ' "$T/out" || fail "deepseek: $(cat "$T/out")"
grep -Eq '^deepseek +deepseek-chat +2025-02-26 2025-09-05 +\(next +layer\)' "$T/out" ||
    fail "deepseek defer entry: $(cat "$T/out")"
grep -q 'priced by the curated table, entry deepseek-chat from 2025-09-29T00:00:00Z: https://' \
    "$T/out" || fail "deepseek: no source line: $(cat "$T/out")"
expect_success "prices MODEL --at (database, time of day)" "$LLMOPS" prices deepseek-chat \
    --at 2025-03-01T10:00:00Z
grep -q 'conditional price 2 of 2: daily 00:30:00Z-16:30:00Z' "$T/out" || fail "$(cat "$T/out")"
expect_success "prices MODEL" "$LLMOPS" prices claude-sonnet-4-5-20250929
grep -q 'input_tokens > 200000: input 6, output 22.5' "$T/out" || fail "no long-context tier shown"
expect_success "prices MODEL (database, Bedrock)" "$LLMOPS" prices --provider aws.bedrock \
    us.anthropic.claude-sonnet-4-5-20250929-v1:0 --input-tokens 300000
grep -q 'provider aws (found by provider name), model regional.anthropic.claude-sonnet-4-5' \
    "$T/out" || fail "bedrock: $(cat "$T/out")"
grep -q 'rates: input 3.3, output 16.5, cache_read 0.33, cache_write 4.125' "$T/out" ||
    fail "bedrock rates: $(cat "$T/out")"
expect_success "prices MODEL (database, tier)" "$LLMOPS" prices --provider openai gpt-5.4 \
    --input-tokens 300000 --at 2026-06-01
grep -q 'rates at this prompt size (tiered): ' "$T/out" || fail "gpt-5.4 tier: $(cat "$T/out")"
expect_success "prices MODEL (database, model rules only)" "$LLMOPS" prices gemini-2.5-flash
grep -q 'provider google (found by model name), model gemini-2.5-flash' "$T/out" ||
    fail "gemini: $(cat "$T/out")"
expect_success "prices --prices --provider" "$LLMOPS" prices --prices "$T/override.json" --provider acme
[[ $(wc -l <"$T/out") -eq 4 ]] || fail "prices --provider acme: $(cat "$T/out")"
grep -q "^user table $T/override.json" "$T/out" || fail "no user table: $(cat "$T/out")"
ok "prices lists the layers; prices MODEL shows the entries, their dates, the one in effect," \
    "and which layer, entry or database rule (and tier) prices the call"
# --- cost_source: the response's own cost wins; schema 2 migrations ----------------
SQLITE=${SQLITE:-sqlite3}
cat >"$T/src.ndjson" <<'EOF'
{"action_id": "or-reported", "timestamp": "2025-07-01T00:00:00Z", "provider": "openrouter", "server_address": "openrouter.ai", "model": "openai/o3", "status": "ok", "input_tokens": 1000, "output_tokens": 1000, "cost_usd": 0.5, "cost_source": "provider"}
{"action_id": "or-table", "timestamp": "2025-07-01T00:00:01Z", "provider": "openrouter", "server_address": "openrouter.ai", "model": "openai/o3", "status": "ok", "input_tokens": 1000, "output_tokens": 1000}
{"action_id": "or-unknown", "timestamp": "2025-07-01T00:00:02Z", "provider": "openrouter", "model": "acme/nothing", "status": "ok", "input_tokens": 1000, "output_tokens": 1000, "cost_usd": 3.0}
EOF
"$MKSTORE" --db "$T/src" --count 0 --json "$T/src.ndjson"
expect_success "export (cost_source)" "$LLMOPS" export --db "$T/src"
"$PY" - "$T/out" <<'EOF' || fail "cost_source in the export"
import json, sys
got = {r["action_id"]: (r["cost_usd"], r["cost_source"]) for r in map(json.loads, open(sys.argv[1]))}
want = {"or-reported": (0.5, "provider"), "or-table": ((1000 * 2 + 1000 * 8) / 1e6, "table"),
        "or-unknown": (None, None)}
assert got == want, got
EOF
expect_success "export sqlite (cost_source)" "$LLMOPS" export --db "$T/src" --format sqlite --out "$T/src.db"
[[ $("$SQLITE" "$T/src.db" "SELECT group_concat(action_id || ':' || coalesce(cost_source, '-'), ',')
    FROM (SELECT * FROM llm_operations ORDER BY action_id)") == "or-reported:provider,or-table:table,or-unknown:-" ]] ||
    fail "sqlite cost_source"
expect_success "export csv (cost_source)" "$LLMOPS" export --db "$T/src" --format csv
"$PY" -c 'import csv,sys; r={x["action_id"]: x["cost_source"] for x in csv.DictReader(open(sys.argv[1]))}; assert r == {"or-reported": "provider", "or-table": "table", "or-unknown": ""}, r' \
    "$T/out" || fail "csv cost_source"
ok "a cost the provider reported (cost_source provider) wins over the tables; cost_source in" \
    "NDJSON, CSV and SQLite: provider, table or null"
# a schema-1 SQLite table (no cost_source) is migrated to schema 2
"$SQLITE" "$T/src.db" "ALTER TABLE llm_operations DROP COLUMN cost_source;
    UPDATE llmops_meta SET value = '1' WHERE name = 'schema_version'"
expect_success "create-tables (schema 1 -> 2)" "$LLMOPS" create-tables --to "sqlite:$T/src.db"
grep -qx "sqlite:$T/src.db: added 1 column to llm_operations (schema 1 -> 2)" "$T/out" ||
    fail "create-tables: $(cat "$T/out")"
"$MKSTORE" --db "$T/src2" --count 0 --json "$T/src.ndjson" # the same calls, new ids
expect_success "export into the migrated table" "$LLMOPS" export --db "$T/src2" --format sqlite \
    --out "$T/src.db"
[[ $("$SQLITE" "$T/src.db" "SELECT count(*) FROM llm_operations WHERE cost_source = 'provider'") == 1 ]] ||
    fail "migrated table: no cost_source"
ok "create-tables migrates a schema-1 SQLite table: cost_source added, version 2 recorded"

# --- prices update -----------------------------------------------------------------
# a newer database: the shipped one with gpt-4.1-nano's price changed; and bad copies
"$PY" - "$BUILD/prices/genai-prices-data_slim.json" "$T" <<'EOF'
import copy, json, sys
d = json.load(open(sys.argv[1]))
t = sys.argv[2]
def model(d, prov, mid):
    return next(m for p in d if p["id"] == prov for m in p["models"] if m["id"] == mid)
new = copy.deepcopy(d)
model(new, "openai", "gpt-4.1-nano")["prices"] = [
    {"prices": {"input_mtok": 0.1, "cache_read_mtok": 0.025, "output_mtok": 0.4}},
    {"constraint": {"start_date": "2030-01-01"}, "prices": {"input_mtok": 100, "output_mtok": 200}}]
json.dump(new, open(t + "/db-new.json", "w"))
bad = {}
b = copy.deepcopy(d); model(b, "openai", "gpt-4.1-nano")["match"] = {"regex": "gpt-(4"}; bad["regex"] = b
b = copy.deepcopy(d); model(b, "openai", "gpt-4.1-nano")["prices"]["input_mtok"] = -1; bad["negative"] = b
b = copy.deepcopy(d); del b[3]["api_pattern"]; bad["noapi"] = b
b = copy.deepcopy(d); model(b, "openai", "gpt-4.1-nano")["match"] = {"like": "gpt"}; bad["rule"] = b
b = copy.deepcopy(d); model(b, "openai", "gpt-4.1-nano")["prices"] = [
    {"constraint": {"start_date": "2030-02-30"}, "prices": {"input_mtok": 1}}]; bad["date"] = b
b = copy.deepcopy(d); model(b, "openai", "gpt-4.1-nano")["prices"]["input_mtok"] = {
    "base": 1, "tiers": [{"start": "big", "price": 2}]}; bad["tier"] = b
bad["object"] = {"providers": d}
for k, v in bad.items():
    json.dump(v, open("%s/db-bad-%s.json" % (t, k), "w"))
open(t + "/db-bad-json.json", "w").write(json.dumps(d)[:5000])
EOF
cat >"$T/nano.ndjson" <<'EOF'
{"action_id": "nano-now", "timestamp": "2026-01-01T00:00:00Z", "provider": "openai", "model": "gpt-4.1-nano-2025-04-14", "status": "ok", "input_tokens": 1000, "output_tokens": 1000}
{"action_id": "nano-2030", "timestamp": "2030-06-01T00:00:00Z", "provider": "openai", "model": "gpt-4.1-nano-2025-04-14", "status": "ok", "input_tokens": 1000, "output_tokens": 1000}
EOF
"$MKSTORE" --db "$T/nano" --count 0 --json "$T/nano.ndjson"
nano_costs() { # WANT-2030: the costs of the two calls
    "$PY" - "$T/out" "$1" <<'EOF'
import json, sys
got = {r["action_id"]: r["cost_usd"] for r in map(json.loads, open(sys.argv[1]))}
want = {"nano-now": (1000 * 0.1 + 1000 * 0.4) / 1e6, "nano-2030": float(sys.argv[2]) / 1e6}
assert all(abs(got[k] - w) < 1e-15 for k, w in want.items()), (got, want)
EOF
}
INSTALLED=$HOME/.local/share/llmops/prices/genai-prices-data_slim.json
expect_success "export (shipped database)" "$LLMOPS" export --db "$T/nano"
nano_costs 500 || fail "shipped database: gpt-4.1-nano"
expect_success "prices update" "$LLMOPS" prices update "$T/db-new.json"
grep -q "^installed $INSTALLED (34 providers, 1285 models)" "$T/out" || fail "update: $(cat "$T/out")"
cmp -s "$INSTALLED" "$T/db-new.json" || fail "the installed copy differs"
expect_success "export (updated database)" "$LLMOPS" export --db "$T/nano"
nano_costs 300000 || fail "the updated database does not price gpt-4.1-nano from 2030"
expect_success "prices (updated)" "$LLMOPS" prices
grep -q "^database $INSTALLED: 34 providers" "$T/out" || fail "prices: $(tail -1 "$T/out")"
ok "prices update installs a newer database in the user's data directory; it prices from then on" \
    "(a price dated 2030: calls before keep theirs)"
for b in regex negative noapi rule date tier object json; do
    expect_error "prices update, bad database ($b)" 1 "$LLMOPS" prices update "$T/db-bad-$b.json"
    grep -q "refused (the database is unchanged)" "$T/err" || fail "$b: $(cat "$T/err")"
    cmp -s "$INSTALLED" "$T/db-new.json" || fail "$b: the installed copy changed"
done
expect_success "export (after refusals)" "$LLMOPS" export --db "$T/nano"
nano_costs 300000 || fail "a refused update changed the prices"
ok "a database that fails the schema (bad regex, negative price, no api_pattern, unknown rule," \
    "impossible date, bad tier, not a list, truncated JSON) is refused and the old one kept"
XDG_DATA_HOME=$T/xdg expect_success "prices update (XDG_DATA_HOME)" "$LLMOPS" prices update \
    "$BUILD/prices/genai-prices-data_slim.json"
[[ -f $T/xdg/llmops/prices/genai-prices-data_slim.json && ! -e $T/xdg/llmops/prices/genai-prices-data_slim.json.previous ]] ||
    fail "XDG_DATA_HOME: $(find "$T/xdg")"
expect_success "prices update again" "$LLMOPS" prices update "$BUILD/prices/genai-prices-data_slim.json"
cmp -s "$INSTALLED.previous" "$T/db-new.json" || fail "the replaced copy is not kept"
cmp -s "$INSTALLED" "$BUILD/prices/genai-prices-data_slim.json" || fail "second update"
expect_success "export (second update)" "$LLMOPS" export --db "$T/nano"
nano_costs 500 || fail "second update: gpt-4.1-nano"
ok "prices update follows XDG_DATA_HOME and keeps the copy it replaces (.previous)"

expect_error "prices of an unknown model" 1 "$LLMOPS" prices gpt-nonexistent-9
[[ ! -s $T/out ]] || fail "prices printed for an unknown model: $(cat "$T/out")"
expect_error "prices --at bad" 2 "$LLMOPS" prices o3 --at soon
expect_error "prices two models" 2 "$LLMOPS" prices o3 o4
expect_error "prices --bogus" 2 "$LLMOPS" prices --bogus
expect_success "prices --help" "$LLMOPS" prices --help
grep -q 'long-context' "$T/out" || fail "prices --help does not explain the cost rules"

echo "$passed passed, 0 failed"
