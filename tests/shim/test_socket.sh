#!/usr/bin/env bash
# Plaintext HTTP through the socket hooks: Python urllib (sendall/recv_into)
# against the local replay server in --plain mode, and curl, whose transfers
# the libcurl hooks record (capture "libcurl": its sockets are then passed
# through, so each call is recorded once). Records must carry the right
# capture and tokens, and the clients' output must not change. A TLS
# connection seen by the socket layer must not produce a second record.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
start_server plain
body_of openai_chat_nostream_3 "$tmp/n.json"
body_of openai_chat_stream_2 "$tmp/s.json"
url=http://127.0.0.1:$port/v1/chat/completions

run_curl() {
  curl -sS --http1.1 -H 'Content-Type: application/json' -H 'Authorization: Bearer sk-plain-0123456789' \
    --data-binary @"$tmp/n.json" "$url" --next --http1.1 -H 'Content-Type: application/json' \
    --data-binary @"$tmp/s.json" "$url"
}
run_py() {
  "$PY" - "$url" "$tmp/n.json" <<'PYC'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=open(sys.argv[2], 'rb').read(),
                             headers={'Content-Type': 'application/json'})
print(urllib.request.urlopen(req).read().decode())
PYC
}
run_curl > "$tmp/curl.plain"
LLMOPS_DB=$tmp/db LD_PRELOAD=$SHIM bash -c "$(declare -f run_curl); tmp=$tmp url=$url run_curl" > "$tmp/curl.shim"
cmp -s "$tmp/curl.plain" "$tmp/curl.shim" && ok "curl output identical" || bad "curl output differs"
run_py > "$tmp/py.plain"
LLMOPS_DB=$tmp/db LD_PRELOAD=$SHIM bash -c "$(declare -f run_py); PY=$PY tmp=$tmp url=$url run_py" > "$tmp/py.shim"
cmp -s "$tmp/py.plain" "$tmp/py.shim" && ok "python output identical" || bad "python output differs"

"$LLMOPS" export --db "$tmp/db" > "$tmp/out.ndjson"
if "$PY" - "$tmp/out.ndjson" "$CORPUS" <<'PYC'; then ok "socket records exact"; else bad "socket records"; fi
import json, sys
# in call order: by timestamp (us); the store's keys order by millisecond only
recs = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda r: r["timestamp"])
assert len(recs) == 3, len(recs)
exp = lambda v: json.load(open(f"{sys.argv[2]}/{v}.json"))["expected"]
for rec, v in zip(recs, ["openai_chat_nostream_3", "openai_chat_stream_2", "openai_chat_nostream_3"]):
    e = exp(v)
    for k in ("model", "input_tokens", "output_tokens", "total_tokens", "finish_reason", "stream"):
        assert rec[k] == e[k], (v, k, rec[k], e[k])
    want = "libcurl" if rec["exe"].endswith("curl") else "socket"
    assert rec["capture"] == want and rec["provider"] == "openai_compatible", rec
    assert rec["server_address"] == "127.0.0.1" and rec["status"] == "ok", rec
    assert rec["http_version"] == "1.1"
assert recs[0]["exe"].endswith("curl") and "python3" in recs[2]["exe"]
assert "sk-plain" not in open(sys.argv[1]).read()
PYC

# LLMOPS_HOSTS names a self-hosted server: its calls carry that provider
LLMOPS_HOSTS="127.0.0.1=vllm" LLMOPS_DB=$tmp/db_hosts LD_PRELOAD=$SHIM \
  bash -c "$(declare -f run_py); PY=$PY tmp=$tmp url=$url run_py" >/dev/null
if [ "$("$LLMOPS" export --db "$tmp/db_hosts" | "$PY" -c 'import json,sys
print(",".join(json.loads(l)["provider"] for l in sys.stdin))')" = vllm ]; then
  ok "LLMOPS_HOSTS: provider named by the user"
else
  bad "LLMOPS_HOSTS not applied"
fi

finish
