#!/usr/bin/env bash
# make demo: start the bundled local LLM server (TLS, a CA made on the spot,
# replaying recorded OpenAI responses from tests/corpus), run unmodified
# programs (curl and a Python client) under the shim against it, then show
# what was recorded with `llmops stats` and `llmops export`, and end with a
# dashboard of the calls as one HTML file (`llmops report`; kept in the build
# directory, its path printed last).
set -euo pipefail
BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
SHIM=$BUILD/libllmops.so
LLMOPS=$BUILD/llmops
CORPUS=$SRC/tests/corpus
PY=/usr/bin/python3
tmp=$(mktemp -d /tmp/llmops-demo.XXXXXX)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

bash "$SRC/tests/e2e/mkcert.sh" "$tmp/certs" >/dev/null
"$PY" "$SRC/tests/e2e/llm_server.py" --corpus "$CORPUS" --host 127.0.0.1 --port 0 \
  --port-file "$tmp/port" --cert "$tmp/certs/server.pem" --key "$tmp/certs/server.key" \
  2>"$tmp/server.err" &
server=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")
export LLMOPS_DB=$tmp/db LLMOPS_SESSION_ID=demo LLMOPS_EXTRAS='{"team":"demo"}'
body() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["request_body"], end="")' \
  "$CORPUS/$1.json" >"$tmp/$1.body"; echo "$tmp/$1.body"; }

echo "== local server on 127.0.0.1:$port, posing as api.openai.com"
echo "== database: $LLMOPS_DB"
echo
echo "== 1. curl, non-streaming (LD_PRELOAD=$SHIM curl ...)"
LD_PRELOAD=$SHIM curl -sS --http1.1 --cacert "$tmp/certs/ca.pem" \
  --connect-to "api.openai.com:443:127.0.0.1:$port" \
  -H "Authorization: Bearer sk-demo-not-a-real-key" -H "Content-Type: application/json" \
  --data-binary @"$(body openai_chat_nostream_3)" https://api.openai.com/v1/chat/completions |
  head -c 300
echo " ..."
echo
echo "== 2. curl, streaming with tool calls"
LD_PRELOAD=$SHIM curl -sS --http1.1 --cacert "$tmp/certs/ca.pem" \
  --connect-to "api.openai.com:443:127.0.0.1:$port" \
  -H "Authorization: Bearer sk-demo-not-a-real-key" -H "Content-Type: application/json" \
  --data-binary @"$(body openai_chat_stream_3)" https://api.openai.com/v1/chat/completions |
  head -n 4
echo "..."
echo
echo "== 3. Python (http.client over ssl), three calls on one keep-alive connection"
LD_PRELOAD=$SHIM "$PY" "$SRC/tests/e2e/client.py" --port "$port" --ca "$tmp/certs/ca.pem" \
  --key sk-demo-not-a-real-key --corpus "$CORPUS" \
  openai_chat_nostream_1 openai_chat_stream_2 openai_chat-error_nostream_2 | cut -c1-100 | head -n 6
echo "..."
echo
echo "== llmops stats"
"$LLMOPS" stats
echo
echo "== llmops export --format ndjson (a few fields of each record)"
"$LLMOPS" export --format ndjson | "$PY" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print(json.dumps({k: r[k] for k in ("timestamp", "exe", "provider", "model", "stream",
          "input_tokens", "output_tokens", "cache_read_tokens", "finish_reason", "status",
          "latency_ms", "ttft_ms", "session_id", "extras")}))'
echo
echo "Every field of every record: $LLMOPS export --db DIR | head -n1"
echo
echo "== llmops report (the dashboard of these calls as one self-contained HTML file)"
report=$BUILD/llmops-demo-report.html
"$LLMOPS" report --out "$report"
echo "Live, while programs record: $LLMOPS serve --db DIR   (http://127.0.0.1:8750/)"
echo "Report written: $report"
