#!/usr/bin/env bash
# Every API in collector/apis.def is tapped on a host nobody knows: an
# OpenAI image generation (POST /v1/images/generations, the call the old
# second list of paths missed) to a plaintext server on 127.0.0.1, from
# Python's urllib (socket hooks) and from curl (libcurl hooks), is recorded
# with its API, model and error, and the clients' output is unchanged by
# the shim. (test_socket.sh does the same for chat completions.)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
start_server plain
body_of openai_images-error_nostream_1 "$tmp/img.json"
url=http://127.0.0.1:$port/v1/images/generations

run_py() {
  "$PY" - "$url" "$tmp/img.json" <<'PYC'
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], data=open(sys.argv[2], 'rb').read(),
                             headers={'Content-Type': 'application/json'})
try:
    print(urllib.request.urlopen(req).read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PYC
}
run_curl() {
  curl -sS --http1.1 -H 'Content-Type: application/json' --data-binary @"$tmp/img.json" "$url"
}

for client in py curl; do
  "run_$client" >"$tmp/$client.plain"
  LLMOPS_DB=$tmp/db_$client LD_PRELOAD=$SHIM \
    bash -c "$(declare -f "run_$client"); PY=$PY tmp=$tmp url=$url run_$client" >"$tmp/$client.shim"
  cmp -s "$tmp/$client.plain" "$tmp/$client.shim" && ok "$client: output identical" \
    || bad "$client: output differs"
  "$LLMOPS" export --db "$tmp/db_$client" >"$tmp/$client.ndjson" || true
  if "$PY" - "$tmp/$client.ndjson" "$client" <<'PYC'; then ok "$client: image generation recorded"; else bad "$client: image generation not recorded"; fi
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 1, recs
r = recs[0]
want = {"api": "openai.images", "operation_type": "image_generation", "http_method": "POST",
        "url_path": "/v1/images/generations", "provider": "openai_compatible",
        "server_address": "127.0.0.1", "request_model": "dall-e-2", "http_status": 400,
        "status": "error", "error_type": "invalid_request_error",
        "capture": "socket" if sys.argv[2] == "py" else "libcurl"}
for k, v in want.items():
    assert r.get(k) == v, (k, r.get(k), v)
PYC
done

finish
