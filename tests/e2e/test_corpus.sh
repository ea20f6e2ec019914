#!/usr/bin/env bash
# Every corpus vector replayed under the shim, each record checked against the
# vector (corpus_expect.py: `expected` under the record's normalised semantics).
#
# Runs (each call tagged with LLMOPS_EXTRAS {"run","vector"}):
#   plain         curl, every vector, identity bodies
#   gzip/br/zstd  the same calls with the response compressed by the server
#                 (curl without --compressed passes the compressed bytes through:
#                 the shim must decode them itself); records must equal plain's
#   reqgzip       a handful with a gzip-compressed request body
#   deflate, deflate-raw  the handful with "deflate" responses, zlib-wrapped and raw
#   py-requests   Debian python3 + requests (responses gzip-compressed, decoded by requests)
#   py-httpclient Debian python3 + http.client (identity)
# Every run's record must equal the plain run's field by field, except ids,
# times, latencies, wire byte counts and who made the call (pid, argv, ...).
#
# The Ollama vectors (http://127.0.0.1:11434, plaintext) go to a plain server
# and are recorded through the plaintext socket hooks like the rest.
#
# CORPUS_ONLY='glob' limits the vectors (e.g. CORPUS_ONLY='gemini_*').
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
start_server plain
PLAIN_PORT=$PORT
start_server tls
TLS_PORT=$PORT

DB=$E2E_TMP/db
CALLS=$E2E_TMP/calls.txt
: >"$CALLS"
mkdir -p "$E2E_TMP/bodies" "$E2E_TMP/out"

# One line per vector: name method url body_file status (url without its #fragment;
# body_file "-" when the recording has no request body).
"$PY" - "$CORPUS" "${CORPUS_ONLY:-*}" "$E2E_TMP/bodies" >"$E2E_TMP/vectors.txt" <<'EOF'
import fnmatch, glob, json, os, sys
corpus, only, bodies = sys.argv[1:]
for p in sorted(glob.glob(os.path.join(corpus, "*.json"))):
    name = os.path.basename(p)[:-5]
    if not fnmatch.fnmatch(name, only):
        continue
    v = json.load(open(p, encoding="utf-8"))
    body = v.get("request_body")
    if body is not None:
        with open(os.path.join(bodies, name), "w", encoding="utf-8") as f:
            f.write(body)
    print(name, (v.get("method") or "POST").upper(), v["url"].split("#")[0],
          os.path.join(bodies, name) if body is not None else "-",
          v.get("status") or v.get("status_inferred") or 200)
EOF
[[ -s $E2E_TMP/vectors.txt ]] || fail "no vectors match CORPUS_ONLY=${CORPUS_ONLY:-*}"

# call RUN NAME METHOD URL BODY_FILE STATUS [extra curl args]: one curl under the shim.
call() {
  local run=$1 name=$2 method=$3 url=$4 body=$5 status=$6 hostport host port target code up down
  shift 6
  hostport=${url#*://}
  hostport=${hostport%%/*}
  host=${hostport%%:*}
  if [[ $url == http://* ]]; then
    port=${hostport#*:}
    [[ $port == "$hostport" ]] && port=80
    target="$host:$port:127.0.0.1:$PLAIN_PORT"
  else
    target="$host:443:127.0.0.1:$TLS_PORT"
  fi
  local args=(--http1.1 -sS -g --max-time 30 --cacert "$CA" --connect-to "$target" -X "$method"
    -H "X-Test-Vector: $name" -H 'Content-Type: application/json'
    -o "$E2E_TMP/out/$run.$name" -w '%{http_code} %{size_upload} %{size_download}\n')
  if [[ $body == - ]]; then
    args+=(--data-binary '')
  else
    args+=(--data-binary @"$body")
  fi
  read -r code up down < <(with_shim "$DB" env LLMOPS_EXTRAS="{\"run\":\"$run\",\"vector\":\"$name\"}" \
    curl "${args[@]}" "$@" "$url" 2>"$E2E_TMP/out/$run.$name.err" || echo "curl-failed")
  [[ $code == "$status" ]] || fail "$run $name: HTTP ${code:-?}, want $status (harness problem):" \
    "$(cat "$E2E_TMP/out/$run.$name.err")"
  # curl without --compressed counts body bytes as they travel (before decoding)
  printf '%s %s %s %s %s\n' "$run" "$name" "$url" "$up" "$down" >>"$CALLS"
}

SECONDS=0
# The four runs of a vector go side by side (each call is its own process).
while read -r name method url body status; do
  pids=()
  call plain "$name" "$method" "$url" "$body" "$status" &
  pids+=($!)
  for enc in gzip br zstd; do
    call "$enc" "$name" "$method" "$url" "$body" "$status" -H "X-Test-Encoding: $enc" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || exit 1; done # call said why
done <"$E2E_TMP/vectors.txt"
log "curl: $(wc -l <"$CALLS") calls in ${SECONDS}s"

# A handful more: a gzip-compressed request body (Content-Encoding: gzip) with
# a plain response, and responses in both "deflate" forms (zlib-wrapped, raw).
handful=(openai_chat_nostream_3 anthropic_messages_nostream_2 gemini_streamgeneratecontent_stream_2
  bedrock_converse_nostream_1 bedrock_conversestream_stream_1 cohere_chat-v2_stream_1
  openai_responses_stream_1 ollama_generate_stream_1)
for name in "${handful[@]}"; do
  line=$(grep "^$name " "$E2E_TMP/vectors.txt") || continue
  read -r _ method url body status <<<"$line"
  [[ $body != - ]] || continue
  gzip -c -n "$body" >"$body.gz"
  call reqgzip "$name" "$method" "$url" "$body.gz" "$status" -H 'Content-Encoding: gzip'
  for enc in deflate deflate-raw; do
    call "$enc" "$name" "$method" "$url" "$body" "$status" -H "X-Test-Encoding: $enc"
  done
done

# Python: one process per call, so each record can be tagged with its vector;
# the two clients of a vector run side by side.
py_subset=(openai_chat_stream_2 openai_chat-error_nostream_2 openai_responses_stream_1
  openai_embeddings_nostream_1 azure_chat_nostream_1 anthropic_messages_stream_2
  anthropic_messages_nostream_2 gemini_streamgeneratecontent_stream_1
  gemini_streamgeneratecontent_stream_3 vertex_streamgeneratecontent_stream_1
  bedrock_conversestream_stream_1 bedrock_invoke_nostream_1 cohere_chat-v1_stream_1
  cohere_chat-v2_stream_1 deepseek_chat_stream_1 groq_chat_stream_1 mistral_chat_stream_1
  openrouter_chat_stream_2 xai_chat_stream_1 together_chat_nostream_1)
# py RUN NAME CLIENT-ARGS...: corpus_client.py under the shim, in the background.
py() {
  local run=$1 name=$2
  shift 2
  with_shim "$DB" env LLMOPS_EXTRAS="{\"run\":\"$run\",\"vector\":\"$name\"}" \
    "$PY" "$E2E_DIR/corpus_client.py" --port "$TLS_PORT" --ca "$CA" --corpus "$CORPUS" "$@" \
    "$name" >"$E2E_TMP/out/$run.$name" 2>"$E2E_TMP/out/$run.$name.err" &
}
SECONDS=0
for name in "${py_subset[@]}"; do
  line=$(grep "^$name " "$E2E_TMP/vectors.txt") || continue
  read -r _ _ url body _ <<<"$line"
  py py-requests "$name" --lib requests --encoding gzip # requests decodes gzip itself
  p1=$!
  py py-httpclient "$name" --lib http.client
  p2=$!
  for run in py-requests py-httpclient; do
    if [[ $run == py-requests ]]; then pid=$p1; else pid=$p2; fi
    wait "$pid" || fail "$run $name: client failed: $(cat "$E2E_TMP/out/$run.$name.err")"
    sizes="- -" # http.client reads the identity body as it travelled: its size is known
    if [[ $run == py-httpclient ]]; then
      up=0
      [[ $body == - ]] || up=$(stat -c %s "$body")
      sizes="$up $(sed -n '1s/^== [^ ]* [0-9]* //p' "$E2E_TMP/out/$run.$name")"
    fi
    printf '%s %s %s %s\n' "$run" "$name" "$url" "$sizes" >>"$CALLS"
  done
done
log "python: $((2 * ${#py_subset[@]})) calls in ${SECONDS}s"

if [[ -d $DB ]]; then
  export_ndjson "$DB" >"$E2E_TMP/export.ndjson" || fail "llmops export failed"
else
  : >"$E2E_TMP/export.ndjson" # no record at all: every call fails below
fi
"$PY" "$E2E_DIR/corpus_expect.py" report "$E2E_TMP/export.ndjson" --corpus "$CORPUS" \
  --calls "$CALLS" --reference plain ||
  fail "some vectors are not recorded as expected (table above)"
