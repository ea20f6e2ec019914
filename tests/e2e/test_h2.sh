#!/usr/bin/env bash
# HTTP/2 (TLS, ALPN h2) against h2_server.py, without and with the shim:
# curl --http2 one call per connection, curl --http2 --parallel (several
# streams multiplexed on one connection), and httpx with http2=True
# (sequential streams on one connection, concurrent ones on another, and a
# stream the server resets). Outputs must be identical; every call must give
# one correct record, http_version "2" for everything captured from OpenSSL.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
make_certs

start_h2 tls

DB=$E2E_TMP/db
KEY=$(random_key)
URL=https://api.openai.com/v1/chat/completions
mkdir -p "$E2E_TMP/bodies"
opts() {
  printf '%s\n' --http2 -sS --cacert "$CA" --connect-to "api.openai.com:443:127.0.0.1:$PORT" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json'
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
  same_output "h2_$v" "$DB" curl "${OPTS[@]}" -w '\n[%{http_version} %{http_code}]\n' \
    --data-binary @"$(body "$v")" "$URL"
  [[ $SAME_OUTPUT_RC == 0 ]] || fail "$v: curl exited $SAME_OUTPUT_RC"
  grep -qx "\[2 $(vector_field "$v" status)\]" "$E2E_TMP/out/h2_$v.shim" ||
    fail "$v: not an HTTP/2 answer with the vector's status: $(tail -1 "$E2E_TMP/out/h2_$v.shim")"
  calls+=("$v")
done
log "${#calls[@]} curl --http2 calls OK"

# Several streams at once on one connection (--parallel spans the --next
# sections). Each body goes to its own file (stdout would interleave); the -w
# lines come in completion order, so they are sorted.
par=(openai_chat_nostream_1 openai_chat_stream_2 openai_chat-error_nostream_2
  openai_chat_nostream_4 openai_chat_stream_1 openai_chat_stream_3)
parallel() {
  local dir i=0 args=(--parallel --parallel-max 10)
  dir=$(mktemp -d "$E2E_TMP/par.XXXXXX")
  for v in "${par[@]}"; do
    ((i == 0)) || args+=(--next)
    args+=("${OPTS[@]}" --no-progress-meter -w '[%{http_version} %{http_code} %{num_connects}]\n'
      --data-binary @"$(body "$v")" -o "$dir/$((i++))" "$URL")
  done
  curl "${args[@]}" | sort
  for ((i = 0; i < ${#par[@]}; i++)); do cat "$dir/$i"; echo; done
}
same_output parallel "$DB" parallel
[[ $SAME_OUTPUT_RC == 0 ]] || fail "parallel: curl exited $SAME_OUTPUT_RC"
[[ $(grep -c '^\[2 [0-9]* 1\]$' "$E2E_TMP/out/parallel.shim") == 1 &&
  $(grep -c '^\[2 [0-9]* 0\]$' "$E2E_TMP/out/parallel.shim") == $((${#par[@]} - 1)) ]] ||
  fail "parallel: not multiplexed on one connection:" \
    "$(grep '^\[' "$E2E_TMP/out/parallel.shim" | tr '\n' ' ')"
calls+=("${par[@]}")
log "curl --parallel: ${#par[@]} streams on one connection OK"

# httpx: sequential and concurrent streams, and one reset by the server.
hx=(openai_chat_nostream_1 openai_chat_stream_2 openai_chat-error_nostream_1
  openai_chat_stream_3 openai_chat_nostream_2)
reset=openai_chat_stream_1 # the server resets it after two events
same_output httpx "$DB" "$PY" "$E2E_DIR/h2_client.py" --port "$PORT" --ca "$CA" --key "$KEY" \
  --corpus "$CORPUS" --reset "$reset" "${hx[@]}"
if [[ $SAME_OUTPUT_RC != 0 ]]; then
  cat "$E2E_TMP/out/httpx.shim.err" >&2
  fail "h2_client.py exited $SAME_OUTPUT_RC"
fi
grep -qx "== reset $reset: RemoteProtocolError" "$E2E_TMP/out/httpx.shim" ||
  fail "httpx: the reset stream did not fail as expected"
calls+=("${hx[@]}" "${hx[@]}")
log "httpx http2=True OK"

! grep ' 404 -$' "$E2E_TMP/server.log" || fail "the server got requests matching no vector"
[[ -d $DB ]] || fail "no store created at $DB"
export_ndjson "$DB" >"$E2E_TMP/export.ndjson" || fail "llmops export failed"

# Records are matched to calls by request body (streams finish in any order)
# and checked by corpus_expect.check_record, except http_version: "2" here.
"$PY" - "$E2E_TMP/export.ndjson" "$CORPUS" "$KEY" "$E2E_DIR" "$reset" "${calls[@]}" <<'EOF'
import collections, json, os, sys
export, corpus, key, e2e, reset_name, *calls = sys.argv[1:]
sys.path.insert(0, e2e)
import corpus_expect as ce

problems = []
if ce.scan_secrets([export], [key]):
    problems.append("the API key (or a piece of it) is in the export")
recs = [json.loads(l) for l in open(export, encoding="utf-8") if l.strip()]
vecs = {n: json.load(open(os.path.join(corpus, n + ".json"))) for n in set(calls) | {reset_name}}

want = collections.Counter(calls + [reset_name])
got, captures = collections.Counter(), collections.Counter()
for i, rec in enumerate(recs):
    name = ce.vector_of(rec, vecs)
    if name is None:
        problems.append("record #%d matches no single vector: %s" % (i, rec.get("completion_args")))
        continue
    got[name] += 1
    captures[rec.get("capture")] += 1
    if rec.get("http_version") != "2":
        problems.append("record #%d (%s): http_version %r, want \"2\""
                        % (i, name, rec.get("http_version")))
    if name == reset_name and rec.get("status") == "incomplete":  # the stream the server reset
        if rec.get("error_type") != "stream_reset" or rec.get("http_status") != 200:
            problems.append("record #%d (reset): %s %s"
                            % (i, rec.get("error_type"), rec.get("http_status")))
        continue
    for p in ce.check_record(dict(rec, http_version="1.1"), name, vecs[name]):
        problems.append("record #%d (%s): %s" % (i, name, p))
if got != want:
    problems.append("records per vector %s, want %s" % (dict(got), dict(want)))
print("check: %d records (captures %s)%s" % (len(recs), dict(captures), "" if problems else " OK"),
      file=sys.stderr)
for p in problems:
    print("  " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
