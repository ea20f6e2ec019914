#!/usr/bin/env bash
# The curl CLI (OpenSSL, HTTP/1.1) against the replay server, without and with
# the shim: identical output, and one correct record per request.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
start_server tls

DB=$E2E_TMP/db
KEY=$(random_key)
URL=https://api.openai.com/v1/chat/completions
mkdir -p "$E2E_TMP/bodies"

# Common curl options; every request goes to the local server via --connect-to
# while SNI, certificate check and Host stay api.openai.com.
opts() {
  printf '%s\n' --http1.1 -sS --cacert "$CA" --connect-to "api.openai.com:443:127.0.0.1:$PORT" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -w '\n[http %{http_code} %{num_connects}]\n'
}
mapfile -t OPTS < <(opts)
body() { # body NAME -> path of a file holding the vector's request body
  local f=$E2E_TMP/bodies/$1
  [[ -f $f ]] || vector_field "$1" request_body >"$f"
  printf '%s' "$f"
}

calls=()
for f in "$CORPUS"/openai_chat_*.json "$CORPUS"/openai_chat-error_*.json; do
  v=$(basename "$f" .json)
  same_output "$v" "$DB" curl "${OPTS[@]}" --data-binary @"$(body "$v")" "$URL"
  [[ $SAME_OUTPUT_RC == 0 ]] || fail "$v: curl exited $SAME_OUTPUT_RC"
  grep -q "\[http $(vector_field "$v" status) 1\]" "$E2E_TMP/out/$v.shim" ||
    fail "$v: unexpected status line: $(tail -1 "$E2E_TMP/out/$v.shim")"
  calls+=("$v")
done
log "${#calls[@]} single calls OK"

# Several requests on one keep-alive connection: curl URL --next URL ...
ka=(openai_chat_nostream_1 openai_chat_stream_2 openai_chat-error_nostream_2 openai_chat_nostream_4)
cmd=(curl)
for v in "${ka[@]}"; do
  [[ ${#cmd[@]} == 1 ]] || cmd+=(--next)
  cmd+=("${OPTS[@]}" --data-binary @"$(body "$v")" "$URL")
  calls+=("$v")
done
same_output keepalive "$DB" "${cmd[@]}"
# num_connects is 1 for the first transfer, 0 for each one reusing the connection.
[[ $(grep -c '^\[http [0-9]* 0\]$' "$E2E_TMP/out/keepalive.shim") == 3 ]] ||
  fail "keepalive: the connection was not reused: $(grep '^\[http' "$E2E_TMP/out/keepalive.shim" | tr '\n' ' ')"

# A stream written one byte per send (one TLS record per byte).
same_output chunk1 "$DB" curl "${OPTS[@]}" -H 'X-Test-Chunk: 1' \
  --data-binary @"$(body openai_chat_stream_2)" "$URL"
cmp -s "$E2E_TMP/out/chunk1.shim" "$E2E_TMP/out/openai_chat_stream_2.shim" ||
  fail "chunk1: body differs from the normally framed stream"
calls+=(openai_chat_stream_2)

# A stream in tiny pieces with a delay (ttft/ttfb well inside latency).
# openai_chat_stream_1 is 6893 bytes: 35 pieces, 34 pauses, >= 680 ms in all.
same_output slow "$DB" curl "${OPTS[@]}" -H 'X-Test-Chunk: 200' -H 'X-Test-Delay-Ms: 20' \
  --data-binary @"$(body openai_chat_stream_1)" "$URL"
slow_index=${#calls[@]}
calls+=(openai_chat_stream_1)

# Close-delimited responses (no Content-Length, no chunking), plain and streamed.
same_output close "$DB" curl "${OPTS[@]}" -H 'X-Test-Framing: close' \
  --data-binary @"$(body openai_chat_nostream_2)" "$URL"
calls+=(openai_chat_nostream_2)
same_output close_stream "$DB" curl "${OPTS[@]}" -H 'X-Test-Framing: close' \
  --data-binary @"$(body openai_chat_stream_3)" "$URL"
calls+=(openai_chat_stream_3)

# A non-streamed body sent chunked.
same_output chunked_json "$DB" curl "${OPTS[@]}" -H 'X-Test-Framing: chunked' -H 'X-Test-Chunk: 64' \
  --data-binary @"$(body openai_chat_nostream_3)" "$URL"
calls+=(openai_chat_nostream_3)

[[ -d $DB ]] || fail "no store created at $DB"
export_ndjson "$DB" >"$E2E_TMP/export.ndjson" || fail "llmops export failed"
"$PY" "$E2E_DIR/check_records.py" "$E2E_TMP/export.ndjson" --corpus "$CORPUS" \
  --secret "$KEY" --exe-suffix curl "${calls[@]}"

# Timing of the slowly streamed response: latency covers the whole body, the
# first byte and first token come early.
"$PY" - "$E2E_TMP/export.ndjson" "$slow_index" <<'EOF'
import json, sys
recs = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda r: r["timestamp"])
r = recs[int(sys.argv[2])]
lat, ttfb, ttft = r["latency_ms"], r["ttfb_ms"], r["ttft_ms"]
ok = lat >= 680 and ttfb < lat / 2 and ttft is not None and ttfb <= ttft < lat / 2
print("slow stream: latency_ms=%s ttfb_ms=%s ttft_ms=%s: %s" % (lat, ttfb, ttft, "OK" if ok else
      "FAIL (want latency >= 680, ttfb <= ttft < latency/2)"), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
