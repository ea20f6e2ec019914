#!/usr/bin/env bash
# `llmops report` and `llmops serve`: the page in headless Chromium
# (dash_check.mjs: numbers equal `llmops stats --format json`, no console
# errors, nothing fetched off 127.0.0.1, hostile content inert, a record
# written while the live page is open appears, a screenshot of every tab in
# $DASH_SHOTS), then the HTTP contract with curl: 400 with a message for bad
# query parameters, 404/400 for records, an error page for an unreadable
# store, a clean stop on SIGTERM and SIGINT; report's own errors.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
NODE_MODULES=$SRC/tests/node/node_modules
SHOTS=${DASH_SHOTS:-$T/shots}
if [[ -z $CHROMIUM || ! -d $NODE_MODULES/puppeteer-core ]] || ! command -v node >/dev/null; then
    echo "SKIP: needs chromium, node and tests/node's puppeteer-core (make test installs them)"
    exit 77
fi

# a store with errors, unknown providers and models, and one hostile record
"$MKSTORE" --db "$T/s" --count 1500 --seed 5 --error-pct 15 --null-tokens-pct 10 \
    --models "openai/gpt-4o,openai/gpt-4o-mini,anthropic/claude-3-5-haiku-20241022,-/-,ollama/-"
H_MODEL='gpt-</script><script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">'
H_PROMPT='<script>window.__pwned=3</script> "><img src=x onerror=window.__pwned=4> </script><!--'
H_RESP='</script><script>window.__pwned=5</script><img src=x onerror="window.__pwned=6">'
"$PY" - "$H_MODEL" "$H_PROMPT" "$H_RESP" >"$T/hostile.json" <<'PY'
import json, sys
m, p, r = sys.argv[1:4]
print(json.dumps({"provider": "openai", "model": m, "status": "ok", "input_tokens": 10,
    "output_tokens": 5, "latency_ms": 250.0, "response": r,
    "completion_args": json.dumps({"model": m, "messages": [{"role": "user", "content": p}]})}))
PY
expect_success "record the hostile call" "$LLMOPS" record --db "$T/s" <"$T/hostile.json"

expect_success "stats" "$LLMOPS" stats --db "$T/s" --format json
mv "$T/out" "$T/stats_all.json"
expect_success "stats --provider openai" "$LLMOPS" stats --db "$T/s" --format json --provider openai
mv "$T/out" "$T/stats_openai.json"

# ---- report
expect_success "report" "$LLMOPS" report --db "$T/s" --out "$T/r.html"
expect_success "report --provider openai" "$LLMOPS" report --db "$T/s" --provider openai --out "$T/r2.html"
# the data cannot end its <script> element: the only </script> are the page's own two
n=$(grep -o '</script>' "$T/r.html" | wc -l)
[[ $n -eq 2 ]] || fail "report: $n '</script>' in the file, want the page's 2"
! grep -q 'https\?://' <(grep -v '^<!--\|http://www.w3.org/2000/svg' "$T/r.html" | grep -o 'src="[^"]*"\|href="[^"]*"') ||
    fail "report: refers to something on the network"
ok "report: one file, $(wc -c <"$T/r.html") bytes, the data escaped"

# ---- serve
SERVE_PID= GOOD_PID= BAD_PID=
stop_serve() { # every serve this test started, also when it fails half-way
    local p
    for p in $SERVE_PID $GOOD_PID $BAD_PID; do kill "$p" 2>/dev/null || true; done
}
trap 'stop_serve; rm -rf "$T"' EXIT
start_serve() { # DB: starts serve on a free port; sets URL and SERVE_PID
    "$LLMOPS" serve --db "$1" --listen 127.0.0.1:0 >"$T/serve.out" 2>"$T/serve.err" &
    SERVE_PID=$!
    for _ in $(seq 100); do
        URL=$(grep -o 'http://127.0.0.1:[0-9]*/' "$T/serve.out" || true)
        [[ -n $URL ]] && return 0
        sleep 0.05
    done
    fail "serve did not say its URL: $(cat "$T/serve.out" "$T/serve.err")"
}
start_serve "$T/s"
ok "serve: $(cat "$T/serve.out")"
# http CODE PATH: the status and body of a GET
http() {
    code=$(curl -s -o "$T/body" -w '%{http_code}' "$URL$1")
}
for q in "api/summary?bogus=1" "api/summary?since=yesterday" "api/calls?rows=9999" \
    "api/summary?offset=-1" "api/summary?min-tokens=x" "?nope=1" "api/record?id=short"; do
    http "$q"
    [[ $code == 400 ]] || fail "GET /$q: $code, want 400"
    grep -Eq "unknown parameter|wants" "$T/body" || fail "GET /$q: no message: $(cat "$T/body")"
    ok "GET /$q -> 400: $(head -c 100 "$T/body")"
done
http "api/record?id=00000000000000000000000000"
[[ $code == 404 ]] || fail "a missing record: $code"
http "api/nothing"
[[ $code == 404 ]] || fail "an unknown endpoint: $code"
http "api/calls?provider=openai&rows=5"
[[ $code == 200 ]] || fail "api/calls: $code"
"$PY" - "$T/body" "$T/stats_openai.json" <<'PY' || fail "api/calls: $(head -c 300 "$T/body")"
import json, sys
c, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert c["total"] == sum(g["calls"] for g in s), (c["total"], s)
assert len(c["rows"]) == 5 and all(r["provider"] == "openai" for r in c["rows"])
keys = [r["key"] for r in c["rows"]]
assert keys == sorted(keys, reverse=True), "not newest first"
PY
ok "api/calls: filtered, counted and newest first; missing record 404; unknown endpoint 404"

# an unreadable store: serve starts and its pages say what is wrong
mkdir -p "$T/bad"
echo "not an lmdb file" >"$T/bad/data.mdb"
GOOD_URL=$URL GOOD_PID=$SERVE_PID
start_serve "$T/bad"
BAD_URL=$URL BAD_PID=$SERVE_PID
http "api/summary"
[[ $code == 503 ]] && grep -q "cannot open database" "$T/body" || fail "unreadable store: $code $(cat "$T/body")"
ok "unreadable store: /api/summary -> 503 $(cat "$T/body")"
URL=$GOOD_URL SERVE_PID=$GOOD_PID

cat >"$T/cfg.json" <<JSON
{"chromium": "$CHROMIUM", "node_modules": "$NODE_MODULES", "shots": "$SHOTS",
 "report": "$T/r.html", "report_openai": "$T/r2.html", "url": "$URL", "bad_url": "$BAD_URL",
 "bad_db": "$T/bad", "db": "$T/s", "llmops": "$LLMOPS",
 "stats_all": "$T/stats_all.json", "stats_openai": "$T/stats_openai.json",
 "stats_openai_live": "$T/stats_openai_live.json", "live_model": "live-model-$$",
 "hostile_model": $("$PY" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$H_MODEL"),
 "hostile_prompt": $("$PY" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$H_PROMPT"),
 "hostile_response": $("$PY" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$H_RESP")}
JSON
node "$SRC/tests/tools/dash_check.mjs" "$T/cfg.json" || fail "dash_check.mjs"
ok "Chromium checks passed; screenshots in $SHOTS"

# SIGTERM and SIGINT stop serve cleanly (status 0)
for p in "$SERVE_PID:TERM" "$BAD_PID:INT"; do
    kill -"${p#*:}" "${p%%:*}"
    rc=0
    wait "${p%%:*}" || rc=$?
    [[ $rc -eq 0 ]] || fail "serve after SIG${p#*:}: exit $rc"
done
SERVE_PID= GOOD_PID= BAD_PID=
ok "serve stops with status 0 on SIGTERM and SIGINT"

# report's own errors: one line each
expect_error "report without --out" 2 "$LLMOPS" report --db "$T/s"
expect_error "report of a missing store" 1 "$LLMOPS" report --db "$T/none" --out "$T/x.html"
expect_error "report of an unreadable store" 1 "$LLMOPS" report --db "$T/bad" --out "$T/x.html"
[[ ! -e $T/x.html ]] || fail "a failed report left a file"
expect_error "report --calls -1" 2 "$LLMOPS" report --db "$T/s" --out "$T/x.html" --calls -1
expect_error "serve --listen nonsense" 2 "$LLMOPS" serve --db "$T/s" --listen nonsense
echo "all $passed checks passed"
