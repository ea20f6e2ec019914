#!/usr/bin/env bash
# "Not observable is said, not silent": a program whose TLS we cannot hook
# (Node's bundled OpenSSL with its inline hooks turned off, LLMOPS_INLINE=0)
# calling a known LLM host leaves exactly one not_observable record naming
# the host, however many connections it makes; a host that is not an LLM host
# leaves nothing; and programs whose TLS we do see (node through the inline
# hooks, Python's ssl, asyncio's memory BIOs, curl) never get such a record.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
start_server tls
body_of openai_chat_nostream_1 "$tmp/body.json"

# summary DB: "status:server_address" of every record, sorted, comma-joined
summary() {
  "$LLMOPS" export --db "$1" | "$PY" -c 'import json,sys
recs = [json.loads(l) for l in sys.stdin]
print(",".join(sorted("%s:%s" % (r["status"], r["server_address"]) for r in recs)))'
}
expect() { # NAME DB WANT
  local got
  got=$(summary "$2" 2>/dev/null || true)
  if [ "$got" = "$3" ]; then ok "$1"; else bad "$1: got '$got', want '$3'"; fi
}

if command -v node >/dev/null; then
  LLMOPS_INLINE=0 LLMOPS_DB=$tmp/node LD_PRELOAD=$SHIM node "$HERE/node_https.mjs" "$port" "$tmp/certs/ca.pem" \
    "$tmp/body.json" 3 > "$tmp/node.out"
  expect "node https to api.openai.com: one not_observable record for three connections" \
    "$tmp/node" "not_observable:api.openai.com"
  "$LLMOPS" export --db "$tmp/node" > "$tmp/node.ndjson"
  if "$PY" - "$tmp/node.ndjson" <<'PYC'; then ok "the record names provider, exe and the reason"; else bad "not_observable fields"; fi
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["provider"] == "openai" and r["exe"].endswith("/node"), r
assert r["capture"] == "socket" and r["error_type"] == "tls_not_hooked", r
assert "api.openai.com" in r["error_message"] and r["input_tokens"] is None, r
assert "sk-node-opaque" not in open(sys.argv[1]).read()
PYC
  LLMOPS_INLINE=0 LLMOPS_DB=$tmp/node_other LD_PRELOAD=$SHIM node "$HERE/node_https.mjs" "$port" "$tmp/certs/ca.pem" \
    "$tmp/body.json" 1 localhost > /dev/null
  if [ ! -e "$tmp/node_other/data.mdb" ]; then ok "node https to a non-LLM host: no record, no store"
  else bad "node https to a non-LLM host left a store"; fi
  # the same program with its inline hooks: every call seen, nothing opaque
  LLMOPS_DB=$tmp/node_inline LD_PRELOAD=$SHIM node "$HERE/node_https.mjs" "$port" "$tmp/certs/ca.pem" \
    "$tmp/body.json" 3 > "$tmp/node_inline.out"
  expect "node https through the inline hooks: three records, no not_observable" "$tmp/node_inline" \
    "ok:api.openai.com,ok:api.openai.com,ok:api.openai.com"
  "$LLMOPS" export --db "$tmp/node_inline" > "$tmp/node_inline.ndjson"
  if "$PY" - "$tmp/node_inline.ndjson" <<'PYC'; then ok "inline records: capture openssl_inline, tokens, no key"; else bad "inline record fields"; fi
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    assert r["capture"] == "openssl_inline" and r["provider"] == "openai", r
    assert r["input_tokens"] == 15 and r["output_tokens"] == 19, r
assert "sk-node-opaque" not in open(sys.argv[1]).read()
PYC
else
  skip node "node not installed"
fi

# Python's ssl: seen through the OpenSSL hooks, never "not observable"
cat > "$tmp/py.py" <<'PYC'
import asyncio, http.client, socket, ssl, sys
port, ca, body = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], 'rb').read()
real = socket.getaddrinfo
socket.getaddrinfo = lambda h, p, *a, **k: real('127.0.0.1', port, *a, **k) if h == 'api.openai.com' else real(h, p, *a, **k)
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection('api.openai.com', 443, context=ctx)
c.request('POST', '/v1/chat/completions', body=body, headers={'Content-Type': 'application/json'})
c.getresponse().read()
c.close()
async def via_asyncio():  # memory BIOs: OpenSSL's records go out through a plain socket
    r, w = await asyncio.open_connection('127.0.0.1', port, ssl=ctx, server_hostname='api.openai.com')
    w.write(b'POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nConnection: close\r\n'
            b'Content-Type: application/json\r\nContent-Length: %d\r\n\r\n' % len(body) + body)
    await w.drain()
    await r.read()
    w.close()
asyncio.run(via_asyncio())
PYC
LLMOPS_DB=$tmp/py LD_PRELOAD=$SHIM "$PY" "$tmp/py.py" "$port" "$tmp/certs/ca.pem" "$tmp/body.json"
expect "python ssl and asyncio: recorded, never not_observable" "$tmp/py" \
  "ok:api.openai.com,ok:api.openai.com"

LLMOPS_DB=$tmp/curl LD_PRELOAD=$SHIM curl -sS -o /dev/null --cacert "$tmp/certs/ca.pem" \
  --connect-to "api.openai.com:443:127.0.0.1:$port" -H 'Content-Type: application/json' \
  --data-binary @"$tmp/body.json" https://api.openai.com/v1/chat/completions
expect "curl: recorded, never not_observable" "$tmp/curl" "ok:api.openai.com"

finish
