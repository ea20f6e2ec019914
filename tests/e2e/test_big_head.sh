#!/usr/bin/env bash
# Issue 13, finding 8: a request head far above 16 KiB (a 16,500-byte Cookie)
# to an LLM API is recorded, and it costs none of the later requests on the
# same keep-alive connection: 4 calls on one connection, the first with the
# big Cookie, give 4 records, over TLS (api.openai.com, Python's ssl) and
# over plaintext (a path only).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
VEC=openai_chat_nostream_1
cat >"$E2E_TMP/prog.py" <<'EOF2'
import http.client, json, os, ssl, sys
sys.path.insert(0, os.environ["E2E_DIR"])
from client import install_resolver
mode, port, corpus = sys.argv[1], int(sys.argv[2]), sys.argv[3]
vec = json.load(open(os.path.join(corpus, "openai_chat_nostream_1.json")))
if mode == "tls":
    install_resolver(port, {"api.openai.com"})
    c = http.client.HTTPSConnection("api.openai.com", 443, timeout=30,
                                    context=ssl.create_default_context(cafile=sys.argv[4]))
else:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for i in range(4):
    h = {"Content-Type": "application/json", "X-Test-Vector": "openai_chat_nostream_1"}
    if i == 0:
        h["Cookie"] = "c=" + "x" * 16500
    c.request("POST", "/v1/chat/completions", body=vec["request_body"].encode(), headers=h)
    r = c.getresponse()
    r.read()
    assert r.status == vec["status"], r.status
print("connections:", 1)
EOF2
for mode in tls plain; do
  start_server "$mode"
  DB=$E2E_TMP/db.$mode
  with_shim "$DB" env E2E_DIR="$E2E_DIR" "$PY" "$E2E_TMP/prog.py" "$mode" "$PORT" "$CORPUS" "$CA" \
    >"$E2E_TMP/$mode.out" 2>&1 || { cat "$E2E_TMP/$mode.out" >&2; fail "$mode: client failed"; }
  n=0
  [[ -d $DB ]] && n=$(export_ndjson "$DB" | "$PY" -c 'import json,sys
print(sum(1 for l in sys.stdin if json.loads(l)["status"] == "ok"))')
  [[ $n == 4 ]] || fail "$mode: $n complete records for 4 calls on one connection"
  log "$mode: 4 calls on one keep-alive connection, the first with a 16,500-byte Cookie: 4 records"
done
