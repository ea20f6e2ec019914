#!/usr/bin/env bash
# libcurl at the API level: curl_client (linked with libcurl; also with the
# GnuTLS flavour when CURL_CLIENT_GNUTLS is set) and the curl CLI against the
# local TLS replay server, without and with the shim. Output must not change,
# every transfer must leave exactly one record with capture "libcurl" (none
# from the OpenSSL hooks) and the right model, tokens, finish_reason, stream
# and status; a non-LLM transfer leaves none. Needs LLMOPS_BUILD, LLMOPS_SRC
# and CURL_CLIENT (set by ctest).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${CURL_CLIENT:?}"
unset LD_PRELOAD LLMOPS_DB http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy || true
export NO_PROXY='*' no_proxy='*'

start_server tls
CA=$tmp/certs/ca.pem
mkdir "$tmp/bodies"
for f in "$CORPUS"/openai_chat_*.json "$CORPUS"/openai_chat-error_nostream_1.json; do
  v=$(basename "$f" .json)
  body_of "$v" "$tmp/bodies/$v.body"
done

# check DB SPEC: the records of DB, oldest first, against SPEC: a space-separated
# list of VECTOR (a complete call) or VECTOR:incomplete; "multi:" before the list
# matches records by model instead of by order (concurrent transfers). "Oldest"
# is by the records' timestamp (microseconds): the store's key order is by
# millisecond only, and two calls can start within the same millisecond.
check() {
  "$LLMOPS" export --db "$1" >"$tmp/out.ndjson" 2>/dev/null || : >"$tmp/out.ndjson"
  "$PY" - "$tmp/out.ndjson" "$CORPUS" "$tmp/bodies" "$2" <<'PYC'
import json, sys
path, corpus, bodies, spec = sys.argv[1:5]
recs = sorted((json.loads(l) for l in open(path)), key=lambda r: r["timestamp"])
unordered = spec.startswith("multi:")
want = spec.split(":", 1)[1].split() if unordered else spec.split()
assert len(recs) == len(want), f"{len(recs)} records, want {len(want)}"
assert "sk-curlclient" not in open(path).read(), "API key leaked"
if unordered:
    model = lambda v: json.load(open(f"{corpus}/{v}.json"))["expected"]["model"]
    recs = sorted(recs, key=lambda r: r["model"])
    want = sorted(want, key=model)
for rec, w in zip(recs, want):
    v, _, state = w.partition(":")
    vec = json.load(open(f"{corpus}/{v}.json"))
    e = vec["expected"]
    assert rec["capture"] == "libcurl", (v, rec["capture"])
    for k, val in (("provider", "openai"), ("server_address", "api.openai.com"),
                   ("url_path", "/v1/chat/completions"), ("http_method", "POST"),
                   ("stream", e["stream"]),
                   ("request_model", e["request_model"]),
                   ("request_bytes", len(open(f"{bodies}/{v}.body", "rb").read()))):
        assert rec[k] == val, (v, k, rec[k], val)
    assert isinstance(rec["server_port"], int) and rec["server_port"] > 0, rec["server_port"]
    assert rec["http_version"] in ("1.1", "2"), rec["http_version"]
    if state == "incomplete":
        assert rec["status"] == "incomplete" and rec["error_type"] == "connection_closed", rec
        continue
    for k in ("model", "input_tokens", "output_tokens", "total_tokens", "finish_reason"):
        assert rec[k] == e[k], (v, k, rec[k], e[k])
    assert rec["http_status"] == vec.get("status", 200), (v, rec["http_status"])
    if e.get("error"):
        assert rec["status"] == "error" and rec["error_type"] == e["error"]["type"], rec
    else:
        assert rec["status"] == "ok" and rec["truncated"] is False, (v, rec["status"])
    assert 0 <= rec["ttfb_ms"] <= rec["latency_ms"], (v, rec["ttfb_ms"], rec["latency_ms"])
    if e["stream"]:
        assert rec["ttft_ms"] is not None and rec["ttft_ms"] <= rec["latency_ms"], rec
PYC
}

# run NAME SPEC cmd...: cmd plain and under the shim (own store): same stdout and
# exit status, and the records SPEC says.
run() {
  local name=$1 spec=$2 rc1=0 rc2=0
  shift 2
  rm -rf "$tmp/db"
  timeout 60 "$@" >"$tmp/plain.out" 2>"$tmp/plain.err" || rc1=$?
  LLMOPS_DB=$tmp/db LD_PRELOAD=$SHIM timeout 60 "$@" >"$tmp/shim.out" 2>"$tmp/shim.err" || rc2=$?
  if [ "$rc1" != 0 ] || [ "$rc1" != "$rc2" ]; then
    bad "$name: exit status $rc1 plain, $rc2 under the shim: $(head -3 "$tmp/shim.err")"
  elif ! cmp -s "$tmp/plain.out" "$tmp/shim.out"; then
    bad "$name: output differs under the shim"
  elif ! msg=$(check "$tmp/db" "$spec" 2>&1); then
    bad "$name: records: $(echo "$msg" | tail -1)"
  else
    ok "$name: same output, records: ${spec:-none}"
  fi
}

cases=(
  "write_cb|openai_chat_nostream_1 openai_chat_nostream_1:incomplete"
  "default_write|openai_chat_nostream_4"
  "gzip|openai_chat_nostream_2"
  "gzip_raw|openai_chat_nostream_2"
  "multi|multi:openai_chat_nostream_1 openai_chat_stream_2 openai_chat_nostream_2"
  "multi_noinfo|multi:openai_chat_nostream_1 openai_chat_stream_2"
  "stream|openai_chat_stream_1"
  "copypost|openai_chat_nostream_2"
  "readfn|openai_chat_nostream_1"
  "dup_reset|openai_chat_stream_2 openai_chat_stream_2 openai_chat_nostream_1"
  "include_header|openai_chat_nostream_3"
  "error|openai_chat-error_nostream_1"
  "health|"
)
gzip_ok=1
grep -q 'X-Test-Encoding' "$E2E/llm_server.py" || gzip_ok=0
clients=("openssl:$CURL_CLIENT")
[ -n "${CURL_CLIENT_GNUTLS:-}" ] && clients+=("gnutls:$CURL_CLIENT_GNUTLS")
for cl in "${clients[@]}"; do
  flavour=${cl%%:*} bin=${cl#*:}
  for c in "${cases[@]}"; do
    name=${c%%|*} spec=${c#*|}
    if [[ $name == gzip* && $gzip_ok == 0 ]]; then
      skip "$flavour $name" "llm_server.py has no X-Test-Encoding"
      continue
    fi
    run "$flavour $name" "$spec" "$bin" "$name" "$port" "$CA" "$tmp/bodies"
  done
done

# The curl CLI: HTTP/1.1 and HTTP/2 (the replay server answers ALPN with
# http/1.1, so --http2 falls back; curl's HTTP/2 code path is exercised by the
# client side only), with and without --compressed.
cli=(curl -sS --cacert "$CA" --connect-to "api.openai.com:443:127.0.0.1:$port"
  -H 'Authorization: Bearer sk-curlclient-cli-0123456789' -H 'Content-Type: application/json'
  https://api.openai.com/v1/chat/completions)
b=$tmp/bodies
run "curl --http1.1" openai_chat_nostream_1 "${cli[@]}" --http1.1 \
  -H 'X-Test-Vector: openai_chat_nostream_1' --data-binary @"$b/openai_chat_nostream_1.body"
run "curl --http2 (stream)" openai_chat_stream_2 "${cli[@]}" --http2 \
  -H 'X-Test-Vector: openai_chat_stream_2' --data-binary @"$b/openai_chat_stream_2.body"
if [ $gzip_ok = 1 ]; then
  run "curl --compressed (gzip)" openai_chat_nostream_2 "${cli[@]}" --compressed \
    -H 'X-Test-Encoding: gzip' -H 'X-Test-Vector: openai_chat_nostream_2' \
    --data-binary @"$b/openai_chat_nostream_2.body"
fi

# Real HTTP/2 when nghttpd (nghttp2-server) is installed: it serves a recorded
# reply as a static file at the API path.
if command -v nghttpd >/dev/null; then
  mkdir -p "$tmp/h2/v1/chat"
  "$PY" -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["response_body"])' \
    "$CORPUS/openai_chat_nostream_1.json" >"$tmp/h2/v1/chat/completions"
  h2port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
  nghttpd -d "$tmp/h2" --address=127.0.0.1 "$h2port" "$tmp/certs/server.key" \
    "$tmp/certs/server.pem" >/dev/null 2>&1 &
  servers+=($!)
  for _ in $(seq 100); do
    "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
      "$h2port" 2>/dev/null && break
    sleep 0.05
  done
  run "h2 curl_client" openai_chat_nostream_1 "$CURL_CLIENT" h2 "$h2port" "$CA" "$tmp/bodies"
  if grep -q '^\[h2\] http version 2$' "$tmp/shim.out"; then
    ok "h2: the transfer used HTTP/2"
  else
    bad "h2: the transfer did not use HTTP/2: $(head -1 "$tmp/shim.out")"
  fi
  if [ "$("$LLMOPS" export --db "$tmp/db" | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["http_version"])')" = 2 ]; then
    ok "h2: the record says http_version 2"
  else
    bad "h2: the record does not say http_version 2"
  fi
  h2cli=("${cli[@]}")
  h2cli[5]="api.openai.com:443:127.0.0.1:$h2port"
  run "curl --http2 (HTTP/2 on the wire)" openai_chat_nostream_1 "${h2cli[@]}" --http2 \
    --data-binary @"$tmp/bodies/openai_chat_nostream_1.body"
else
  skip "HTTP/2 on the wire" "nghttpd (nghttp2-server) not installed"
fi

# Loading: every symbol bound at start; LLMOPS_DISABLE=1 is pure pass-through.
if LD_BIND_NOW=1 LLMOPS_DB=$tmp/db_now LD_PRELOAD=$SHIM "$CURL_CLIENT" readfn "$port" "$CA" \
  "$tmp/bodies" >/dev/null && check "$tmp/db_now" openai_chat_nostream_1 >/dev/null; then
  ok "LD_BIND_NOW=1: one record"
else
  bad "LD_BIND_NOW=1"
fi
LLMOPS_DISABLE=1 LLMOPS_DB=$tmp/db_off LD_PRELOAD=$SHIM "$CURL_CLIENT" multi "$port" "$CA" \
  "$tmp/bodies" >"$tmp/off.out"
"$CURL_CLIENT" multi "$port" "$CA" "$tmp/bodies" >"$tmp/on.out"
if [ ! -e "$tmp/db_off" ] && cmp -s "$tmp/off.out" "$tmp/on.out"; then
  ok "LLMOPS_DISABLE=1: same output, nothing written"
else
  bad "LLMOPS_DISABLE=1"
fi

finish
