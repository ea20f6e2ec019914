#!/usr/bin/env bash
# Every corpus call priced by llmops against an independent oracle: the
# genai-prices database's own JavaScript implementation (@pydantic/genai-prices,
# pinned in tests/node; cost_oracle.mjs) given the same database file, usage,
# API URL and timestamp. The corpus is replayed through the collector
# (corpus_records: records as the shim would store them, each at the time
# the provider answered), stored (mkstore --json) and exported.
#   - a call the oracle prices: cost_usd equal to 1e-9 USD, except the
#     DELIBERATE differences below (the curated table wins; hand-computed);
#   - a call the oracle cannot price: listed in UNPRICED with the reason, and
#     llmops gives it no cost either;
#   - a call whose response reports its cost (OpenRouter's usage.cost): that
#     cost, cost_source "provider"; every other priced call cost_source "table";
#   - the calls with token counts: at least 55 priced, cache reads and writes
#     among them.
# The long-context calls are checked to be above a tier of the model (the
# oracle prices them from the tier).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CORPUS_RECORDS=${CORPUS_RECORDS:-$BUILD/tests/tools/corpus_records}
DBFILE=$BUILD/prices/genai-prices-data_slim.json
[[ -d $SRC/tests/node/node_modules/@pydantic/genai-prices ]] ||
    (cd "$SRC/tests/node" && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
    fail "npm ci failed"

"$CORPUS_RECORDS" "$SRC/tests/corpus" >"$T/corpus.ndjson" || fail "corpus_records"
# long prompts (above the tiers of Gemini 2.5 Pro, GPT-5.4 and, through OpenRouter, Claude Sonnet 4.5),
# with cache reads and writes, priced by the database's tiers
cat >>"$T/corpus.ndjson" <<'EOF'
{"timestamp": "2025-11-02T10:00:00.000000Z", "provider": "gcp.gemini", "server_address": "generativelanguage.googleapis.com", "model": "gemini-2.5-pro", "status": "ok", "input_tokens": 250000, "cache_read_tokens": 50000, "output_tokens": 3000, "extras": {"vector": "long-gemini-2.5-pro"}}
{"timestamp": "2026-06-01T10:00:01.000000Z", "provider": "openai", "server_address": "api.openai.com", "url_path": "/v1/responses", "model": "gpt-5.4", "status": "ok", "input_tokens": 300000, "cache_read_tokens": 100000, "output_tokens": 2000, "extras": {"vector": "long-openai-gpt-5.4"}}
{"timestamp": "2025-11-02T10:00:03.000000Z", "provider": "openrouter", "server_address": "openrouter.ai", "url_path": "/api/v1/chat/completions", "model": "anthropic/claude-sonnet-4.5", "status": "ok", "input_tokens": 250000, "cache_read_tokens": 20000, "cache_write_tokens": 10000, "output_tokens": 1500, "extras": {"vector": "long-openrouter-claude-sonnet-4.5"}}
{"timestamp": "2025-11-02T10:00:02.000000Z", "provider": "gcp.gemini", "server_address": "generativelanguage.googleapis.com", "model": "gemini-2.5-pro", "status": "ok", "input_tokens": 200000, "output_tokens": 3000, "extras": {"vector": "at-tier-gemini-2.5-pro"}}
EOF
"$MKSTORE" --db "$T/c" --count 0 --json "$T/corpus.ndjson" || fail "mkstore"
expect_success "export" "$LLMOPS" export --db "$T/c"
cp "$T/out" "$T/export.ndjson"
node "$SRC/tests/tools/cost_oracle.mjs" "$DBFILE" "$T/export.ndjson" >"$T/oracle.ndjson" \
    2>"$T/oracle.err" || fail "oracle: $(cat "$T/oracle.err")"

"$PY" - "$T/oracle.ndjson" <<'EOF' || fail "corpus costs differ from the oracle"
import json, sys
M = 1e6
# vector -> (reason, hand-computed USD): the curated table (tools/prices.json) wins
DELIBERATE = {
    # no Date header: priced at corpus_records' default time, 2025-10-01T12:00Z; DeepSeek's
    # 2025-09-29 price (V3.2-Exp), which the database does not date (it keeps the 2025
    # peak/off-peak scheme: 0.55/2.19 at noon UTC)
    "deepseek_chat_nostream_1": ("DeepSeek dated price change (curated)",
                                 (12 * 0.28 + 789 * 0.42) / M),
}
# vector -> the cost its response reports (usage.cost, USD)
PROVIDER = {
    "openrouter_chat_stream_1": 0.00085,  # openai/o3; the oracle agrees
    "openrouter_chat_stream_2": 0.0,  # minimax/minimax-m2:free: free; the database has no price
}
# vector -> why nobody prices it (the oracle gives null too)
UNPRICED = {
    "openai_completions_nostream_1": "davinci-002: not in the database",
    "ollama_chat_nostream_1": "Ollama: a local model, no price",
    "ollama_chat_stream_1": "Ollama: a local model, no price",
    "ollama_generate_nostream_1": "Ollama: a local model, no price",
    "ollama_generate_stream_1": "Ollama: a local model, no price",
}
rows = [json.loads(l) for l in open(sys.argv[1])]
bad, priced, cached, tiers, provider = [], 0, 0, 0, 0
seen = set()
for r in rows:
    v, ours, oracle, u = r["vector"], r["ours"], r["oracle"], r["usage"]
    seen.add(v)
    raw = r["usage_raw"]
    raw = json.loads(raw) if isinstance(raw, str) else raw or {}
    if v in PROVIDER:
        if ours != PROVIDER[v] or raw.get("cost") != PROVIDER[v] or r["cost_source"] != "provider":
            bad.append("%s: cost %r (%r), want the reported %r" % (v, ours, r["cost_source"],
                                                                PROVIDER[v]))
        provider += 1
        continue
    if (ours is None) != (r["cost_source"] is None) or r["cost_source"] not in (None, "table"):
        bad.append("%s: cost %r, cost_source %r" % (v, ours, r["cost_source"]))
    if "input_tokens" not in u and "output_tokens" not in u:
        if ours is not None:
            bad.append("%s: no usage, cost %r" % (v, ours))
        continue
    if v in DELIBERATE:
        why, want = DELIBERATE[v]
        if ours is None or abs(ours - want) > 1e-12 * max(1, want) or oracle is None:
            bad.append("%s (%s): %r, want %r (oracle %r)" % (v, why, ours, want, oracle))
        elif abs(ours - oracle) <= 1e-9:
            bad.append("%s: listed as deliberate but equals the oracle" % v)
        priced += 1
        continue
    if oracle is None:
        if v not in UNPRICED:
            bad.append("%s: the oracle cannot price %s/%s; list it with a reason"
                       % (v, r["record_provider"], r["record_model"]))
        elif ours is not None:
            bad.append("%s: priced %r but nobody should (%s)" % (v, ours, UNPRICED[v]))
        continue
    if ours is None or abs(ours - oracle) > 1e-9:
        bad.append("%s %s/%s at %s %s: ours %r, oracle %r (%s/%s)" % (
            v, r["record_provider"], r["record_model"], r["timestamp"], u, ours, oracle,
            r["provider"], r["model"]))
        continue
    priced += 1
    cached += bool(u.get("cache_read_tokens") or u.get("cache_write_tokens"))
    tiers += r["above_tier"]
    if v.startswith("long-") != r["above_tier"]:
        bad.append("%s: above a tier: %r" % (v, r["above_tier"]))
for v in list(DELIBERATE) + list(UNPRICED) + list(PROVIDER):
    if v not in seen:
        bad.append("%s: listed but not in the corpus" % v)
print("%d calls with usage priced (%d with cache reads/writes, %d long-context), %d at the cost "
      "their response reports, %d unpriced with reasons" % (priced, cached, tiers, provider,
                                                            len(UNPRICED)))
if priced < 55 or cached < 6 or tiers != 3 or provider != len(PROVIDER):
    bad.append("too few priced calls: %d (cached %d, tiers %d)" % (priced, cached, tiers))
for b in bad:
    print("FAIL", b)
sys.exit(1 if bad else 0)
EOF
ok "every corpus call the database knows costs what genai-prices' calcPrice computes (1e-9 USD)," \
    "cache reads and writes and long-context tiers included; deliberate differences hand-computed;" \
    "a cost the response reports wins (cost_source provider)"
# --- the whole database ----------------------------------------------------------
# Every model of every provider, named by its id, called through its provider's
# API URL (no provider name: found by api_pattern, as the oracle finds it), at
# four times (2024; 2025 at 20:00 and 10:00 UTC, DeepSeek's off-peak and peak
# hours; 2026 evening) and two prompt sizes (1,000 and 300,000 tokens: above
# every long-context tier) with cache reads and writes: llmops and calcPrice
# agree on every one, priced or not.
"$PY" - "$DBFILE" >"$T/db.ndjson" <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
HOSTS = {"aws": ("bedrock-runtime.us-east-1.amazonaws.com", "/model/x/converse"),
         "azure": ("example.openai.azure.com", "/openai/deployments/x/chat/completions"),
         "google": ("generativelanguage.googleapis.com", "/v1beta/models/x:generateContent"),
         "cohere": ("api.cohere.com", "/v2/chat"), "minimax": ("api.minimax.io", "/v1/text"),
         "moonshotai": ("api.moonshot.ai", "/v1/chat/completions"),
         "openrouter": ("openrouter.ai", "/api/v1/chat/completions")}
n = 0
for p in d:
    if p["id"] in HOSTS:
        host, path = HOSTS[p["id"]]
    else:  # https://api\.x\.com[/prefix]
        m = re.fullmatch(r"https://((?:[a-z0-9-]|\\\.)+)(/[a-z-]+)?", p["api_pattern"])
        assert m, "no host for %s: %s" % (p["id"], p["api_pattern"])
        host, path = m.group(1).replace("\\.", "."), (m.group(2) or "") + "/v1/chat/completions"
    for mod in p["models"]:
        for ts in ("2024-06-01T12:00:00", "2025-03-01T20:00:00", "2025-03-01T10:00:00",
                   "2026-06-01T20:00:00"):
            for size in (1000, 300000):
                n += 1
                print(json.dumps({
                    "timestamp": "%s.%06dZ" % (ts, n), "server_address": host, "url_path": path,
                    "model": mod["id"], "status": "ok", "input_tokens": size,
                    "cache_read_tokens": size // 10, "cache_write_tokens": size // 20,
                    "output_tokens": 777,
                    "extras": {"vector": "%s/%s@%s/%d" % (p["id"], mod["id"], ts, size)}}))
EOF
"$MKSTORE" --db "$T/db" --count 0 --json "$T/db.ndjson" || fail "mkstore (database)"
expect_success "export (database)" "$LLMOPS" export --db "$T/db"
cp "$T/out" "$T/db-export.ndjson"
node "$SRC/tests/tools/cost_oracle.mjs" "$DBFILE" "$T/db-export.ndjson" >"$T/db-oracle.ndjson" \
    2>"$T/oracle.err" || fail "oracle: $(cat "$T/oracle.err")"
"$PY" - "$T/db-oracle.ndjson" <<'EOF' || fail "database costs differ from the oracle"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
bad = [r for r in rows if (r["ours"] is None) != (r["oracle"] is None) or
       (r["ours"] is not None and abs(r["ours"] - r["oracle"]) > 1e-9)]
for r in bad[:20]:
    print("FAIL %s: ours %r, oracle %r (%s/%s)" % (r["vector"], r["ours"], r["oracle"],
                                                  r["provider"], r["model"]))
priced = sum(r["oracle"] is not None for r in rows)
tod = {r["vector"]: r["ours"] for r in rows if r["vector"].startswith("deepseek/deepseek-chat@2025-03-01")}
print("%d calls, %d priced, %d differences" % (len(rows), priced, len(bad)))
assert len(rows) > 10000 and priced > 0.95 * len(rows)
assert tod["deepseek/deepseek-chat@2025-03-01T20:00:00/1000"] < tod["deepseek/deepseek-chat@2025-03-01T10:00:00/1000"], tod
sys.exit(1 if bad else 0)
EOF
ok "every model of the database through its API URL, at four times and two prompt sizes:" \
    "the same cost as calcPrice (rules, regexes, fallbacks, dates, times of day, tiers)"

echo "$passed passed, 0 failed"
