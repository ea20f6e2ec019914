#!/usr/bin/env bash
# HTTP/2 that no SNI names, without and with the shim, against h2_server.py:
# cleartext (h2c) with prior knowledge and by HTTP/1.1 Upgrade, and TLS to a
# self-hosted name (llm.internal) or an IP address (no SNI at all). Clients:
# curl (--http2-prior-knowledge, --http2 on http://, --http2 on https://),
# nghttp (prior knowledge, -u upgrade riding on "OPTIONS *", TLS to an IP)
# and httpx (http2, sequential, multiplexed and reset streams). Outputs must
# be identical; every call gives one correct record with http_version "2"
# and the capture path expected for the client (libcurl for curl, socket or
# openssl for the others); nothing else is recorded.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
make_certs
command -v nghttp >/dev/null || fail "nghttp (Debian nghttp2-client) is not installed"

start_h2 plain
PLAIN=$PORT
start_h2 tls
TLS=$PORT

DB=$E2E_TMP/db
KEY=$(random_key)
PATH_=/v1/chat/completions
mkdir -p "$E2E_TMP/bodies"
body() { # body NAME -> path of a file holding the vector's request body
  local f=$E2E_TMP/bodies/$1
  [[ -f $f ]] || vector_field "$1" request_body >"$f"
  printf '%s' "$f"
}
vecs=(openai_chat_nostream_1 openai_chat_stream_2 openai_chat-error_nostream_1)
CALLS=$E2E_TMP/calls # "vector capture host" per call that must leave a record
: >"$CALLS"

# curl: libcurl's own API hooks see every one of these
curl_h2() { # curl_h2 LABEL HOST CURL-ARGS... URL
  local label=$1 host=$2 v
  shift 2
  for v in "${vecs[@]}"; do
    same_output "${label}_$v" "$DB" curl -sS "$@" -w '\n[%{http_version} %{http_code}]\n' \
      -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
      --data-binary @"$(body "$v")"
    [[ $SAME_OUTPUT_RC == 0 ]] || fail "$label $v: curl exited $SAME_OUTPUT_RC"
    grep -qx "\[2 $(vector_field "$v" status)\]" "$E2E_TMP/out/${label}_$v.shim" ||
      fail "$label $v: not an HTTP/2 answer with the vector's status:" \
        "$(tail -1 "$E2E_TMP/out/${label}_$v.shim")"
    echo "$v libcurl $host" >>"$CALLS"
  done
}
curl_h2 curl_h2c_prior 127.0.0.1 --http2-prior-knowledge "http://127.0.0.1:$PLAIN$PATH_"
curl_h2 curl_h2c_upgrade 127.0.0.1 --http2 "http://127.0.0.1:$PLAIN$PATH_"
curl_h2 curl_h2_tls llm.internal --http2 --cacert "$CA" --connect-to "llm.internal:443:127.0.0.1:$TLS" \
  "https://llm.internal$PATH_"
log "curl: h2c prior knowledge, h2c upgrade, TLS to llm.internal OK"

# nghttp: sockets (cleartext) or OpenSSL (TLS), never libcurl
nghttp_h2() { # nghttp_h2 LABEL CAPTURE NGHTTP-ARGS... URL
  local label=$1 capture=$2 v
  shift 2
  for v in "${vecs[@]}"; do
    same_output "${label}_$v" "$DB" nghttp -H "authorization: Bearer $KEY" \
      -H 'content-type: application/json' -d "$(body "$v")" "$@"
    [[ $SAME_OUTPUT_RC == 0 ]] || fail "$label $v: nghttp exited $SAME_OUTPUT_RC"
    cmp -s "$E2E_TMP/out/${label}_$v.shim" <(vector_field "$v" response_body) ||
      fail "$label $v: the body is not the vector's response"
    echo "$v $capture 127.0.0.1" >>"$CALLS"
  done
}
nghttp_h2 nghttp_prior socket "http://127.0.0.1:$PLAIN$PATH_"
nghttp_h2 nghttp_upgrade socket -u "http://127.0.0.1:$PLAIN$PATH_"
nghttp_h2 nghttp_tls_ip openssl "https://127.0.0.1:$TLS$PATH_"
grep -q '^h2 stream 1: OPTIONS \* ' "$E2E_TMP/server.log" ||
  fail "nghttp -u did not upgrade with OPTIONS * (the case under test)"
log "nghttp: h2c prior knowledge, h2c upgrade (OPTIONS *), TLS without SNI OK"

# httpx: sequential streams, a reset one, then several multiplexed at once
hx=(openai_chat_nostream_1 openai_chat_stream_2 openai_chat-error_nostream_1 openai_chat_stream_3)
reset=openai_chat_stream_1
httpx_h2() { # httpx_h2 LABEL CAPTURE H2_CLIENT-ARGS...
  local label=$1 capture=$2 v
  shift 2
  same_output "$label" "$DB" "$PY" "$E2E_DIR/h2_client.py" --key "$KEY" --corpus "$CORPUS" \
    --host llm.internal --warm-llm --reset "$reset" "$@" "${hx[@]}"
  if [[ $SAME_OUTPUT_RC != 0 ]]; then
    cat "$E2E_TMP/out/$label.shim.err" >&2
    fail "$label: h2_client.py exited $SAME_OUTPUT_RC"
  fi
  grep -qx "== reset $reset: RemoteProtocolError" "$E2E_TMP/out/$label.shim" ||
    fail "$label: the reset stream did not fail as expected"
  for v in "${hx[@]}" "${hx[@]}" "${hx[0]}" "$reset"; do echo "$v $capture llm.internal"; done >>"$CALLS"
}
httpx_h2 httpx_h2c socket --port "$PLAIN" --plain
httpx_h2 httpx_tls openssl --port "$TLS" --ca "$CA"
log "httpx http2: cleartext prior knowledge and TLS to llm.internal OK"

! grep ' 404 -$' "$E2E_TMP/server.log" | grep -v 'OPTIONS \*' ||
  fail "the server got requests matching no vector"
[[ -d $DB ]] || fail "no store created at $DB"
export_ndjson "$DB" >"$E2E_TMP/export.ndjson" || fail "llmops export failed"

"$PY" - "$E2E_TMP/export.ndjson" "$CORPUS" "$KEY" "$E2E_DIR" "$reset" "$CALLS" <<'EOF'
import collections, json, os, sys
export, corpus, key, e2e, reset_name, calls_file = sys.argv[1:]
sys.path.insert(0, e2e)
import corpus_expect as ce

calls = [tuple(l.split()) for l in open(calls_file) if l.strip()]
problems = []
if ce.scan_secrets([export], [key]):
    problems.append("the API key (or a piece of it) is in the export")
recs = [json.loads(l) for l in open(export, encoding="utf-8") if l.strip()]
vecs = {n: json.load(open(os.path.join(corpus, n + ".json"))) for n, _, _ in calls}

got = collections.Counter()
for i, rec in enumerate(recs):
    name = ce.vector_of(rec, vecs)
    if name is None:
        problems.append("record #%d matches no single vector: %s" % (i, rec.get("completion_args")))
        continue
    got[(name, rec.get("capture"), rec.get("server_address"))] += 1
    if rec.get("http_version") != "2":
        problems.append("record #%d (%s, %s): http_version %r, want \"2\""
                        % (i, name, rec.get("capture"), rec.get("http_version")))
    # no provider table knows these hosts: the API shape decides
    if rec.get("provider") != "openai_compatible":
        problems.append("record #%d (%s, %s): provider %r, want \"openai_compatible\""
                        % (i, name, rec.get("capture"), rec.get("provider")))
    if name == reset_name:  # the stream the server reset after two events
        if (rec.get("status"), rec.get("error_type")) != ("incomplete", "stream_reset"):
            problems.append("record #%d (reset): %s %s"
                            % (i, rec.get("status"), rec.get("error_type")))
        continue
    as_recorded = dict(rec, http_version="1.1", provider="openai", server_address="api.openai.com")
    for p in ce.check_record(as_recorded, name, vecs[name]):
        problems.append("record #%d (%s, %s): %s" % (i, name, rec.get("capture"), p))
want = collections.Counter(calls)
if got != want:
    problems.append("records per (vector, capture, host): missing %s, unexpected %s"
                    % (dict(want - got), dict(got - want)))
print("check: %d records, %d calls%s" % (len(recs), len(calls), "" if problems else " OK"),
      file=sys.stderr)
for p in problems:
    print("  " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
