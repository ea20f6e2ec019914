#!/usr/bin/env bash
# `llmops run`'s proxy and process handling: a non-LLM HTTPS download is
# tunnelled byte for byte with the real server's certificate chain; the CA is
# name-constrained and its key 0600; an unreachable upstream gives a 502,
# malformed requests a 400; 200 concurrent calls all pass and are recorded;
# a client that hangs up after the last event still gets its record; exit
# status and signals are CMD's; nothing is printed on stdout; a proxy that
# cannot start leaves CMD running with the preload only.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
start_server tls

DB=$E2E_TMP/db
KEY=$(random_key)
RUN=("$LLMOPS_CLI" run --db "$DB" --)
export SSL_CERT_FILE=$CA
export LLMOPS_CONNECT_TO=api.openai.com:443:127.0.0.1:$PORT
vector_field openai_chat_nostream_1 request_body >"$E2E_TMP/nostream.json"
vector_field openai_chat_stream_2 request_body >"$E2E_TMP/stream.json"
records() { export_ndjson "$DB" | wc -l; }

# --- a non-LLM download: tunnelled untouched
mkdir -p "$E2E_TMP/www"
head -c 3000000 /dev/urandom >"$E2E_TMP/www/blob"
"$PY" - "$E2E_TMP/www" "$E2E_TMP/certs" "$E2E_TMP/www.port" <<'PYEOF' &
import functools, http.server, ssl, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2] + "/server.pem", sys.argv[2] + "/server.key")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(sys.argv[3], "w").write(str(srv.server_address[1]))
srv.serve_forever()
PYEOF
SERVER_PIDS+=($!)
for ((i = 0; i < 100; i++)); do [[ -s $E2E_TMP/www.port ]] && break; sleep 0.05; done
WWW=$(<"$E2E_TMP/www.port")
"${RUN[@]}" curl -sS -o "$E2E_TMP/blob.via" "https://127.0.0.1:$WWW/blob" ||
  fail "download through the proxy failed"
cmp -s "$E2E_TMP/www/blob" "$E2E_TMP/blob.via" || fail "download differs through the proxy"
chain() { sed -n '/BEGIN CERT/,/END CERT/p'; }
openssl s_client -connect "127.0.0.1:$WWW" -showcerts </dev/null 2>/dev/null | chain >"$E2E_TMP/chain.direct"
"${RUN[@]}" sh -c 'openssl s_client -proxy "${HTTPS_PROXY#http://}" -connect 127.0.0.1:'"$WWW"' \
  -showcerts </dev/null 2>/dev/null' | chain >"$E2E_TMP/chain.via"
[[ -s $E2E_TMP/chain.direct ]] && cmp -s "$E2E_TMP/chain.direct" "$E2E_TMP/chain.via" ||
  fail "the tunnelled certificate chain is not the server's"
[[ $(records) == 0 ]] || fail "the non-LLM download was recorded"
log "non-LLM download tunnelled: identical bytes and certificate chain, no record"

# --- an LLM host is intercepted with a leaf from the store's CA
issuer=$("${RUN[@]}" sh -c 'openssl s_client -proxy "${HTTPS_PROXY#http://}" \
  -connect api.openai.com:443 -servername api.openai.com -CAfile "$SSL_CERT_FILE" \
  -verify_return_error </dev/null 2>/dev/null' | grep -m1 '^issuer=' || true)
[[ $issuer == *"llmops run proxy CA"* ]] || fail "api.openai.com not intercepted: '$issuer'"
ca=$(ls "$DB"/proxy-ca-*.pem)
[[ $(stat -c %a "${ca%.pem}.key") == 600 ]] || fail "CA key mode is not 0600"
openssl x509 -in "$ca" -noout -text | grep -A60 'Name Constraints: critical' >"$E2E_TMP/nc"
grep -q 'DNS:api.openai.com' "$E2E_TMP/nc" && grep -q 'Excluded' "$E2E_TMP/nc" ||
  fail "CA lacks its name constraints: $(cat "$E2E_TMP/nc")"
[[ ! -e $DB/run-* ]] 2>/dev/null || fail "the run's bundle was left behind"
log "LLM host intercepted by a name-constrained CA (key 0600)"

# --- the upstream is verified with the trust the program had: without the
# test CA, the interception fails the client's handshake and records nothing
rc=0
before=$(records)
SSL_CERT_FILE=/nonexistent "${RUN[@]}" curl -sS -o /dev/null \
  https://api.openai.com/v1/chat/completions 2>"$E2E_TMP/verify.err" || rc=$?
[[ $rc == 35 ]] || fail "untrusted upstream: curl exited $rc: $(cat "$E2E_TMP/verify.err")"
[[ $(records) == "$before" ]] || fail "a call to an untrusted upstream was recorded"
log "upstream verified: an untrusted server fails the client's handshake"

# --- plain http:// through HTTP_PROXY: forwarded and recorded
TLS_PORT=$PORT
start_server plain
o=$E2E_TMP/plain
curl -sS -H 'Content-Type: application/json' --data-binary @"$E2E_TMP/stream.json" \
  "http://127.0.0.1:$PORT/v1/chat/completions" >"$o.direct"
LLMOPS_CONNECT_TO=api.openai.com:80:127.0.0.1:$PORT "${RUN[@]}" curl -sS \
  -H 'Content-Type: application/json' --data-binary @"$E2E_TMP/stream.json" \
  http://api.openai.com/v1/chat/completions >"$o.via"
cmp -s "$o.direct" "$o.via" && [[ -s $o.via ]] || fail "plain http output differs through the proxy"
export_ndjson "$DB" | "$PY" -c 'import json, sys
r = [json.loads(l) for l in sys.stdin][-1]
ok = r["capture"] == "proxy" and r["status"] == "ok" and r["server_address"] == "api.openai.com" \
    and r["stream"] and r["output_tokens"]
sys.exit(0 if ok else "plain http record: %s %s %s" % (r["capture"], r["status"], r["server_address"]))'
[[ $(records) == $((before + 1)) ]] || fail "plain http: $(($(records) - before)) records, want 1"
PORT=$TLS_PORT
log "plain http:// forwarded and recorded once"

# --- failures answer cleanly
rc=0
LLMOPS_CONNECT_TO=api.openai.com:443:127.0.0.1:1 "${RUN[@]}" curl -sS -o /dev/null \
  https://api.openai.com/v1/chat/completions 2>"$E2E_TMP/unreach.err" || rc=$?
[[ $rc == 56 ]] && grep -q 502 "$E2E_TMP/unreach.err" ||
  fail "unreachable upstream: curl exited $rc: $(cat "$E2E_TMP/unreach.err")"
body=$("${RUN[@]}" curl -sS -w ' %{http_code}' http://127.0.0.1:1/x)
[[ $body == *"cannot connect to 127.0.0.1:1"*" 502" ]] || fail "plain http 502: '$body'"
"${RUN[@]}" "$PY" "$E2E_DIR/run_proxy_checks.py" bad || fail "malformed requests"
log "unreachable upstream: 502; malformed requests: 400"

# --- many calls at once, and a client that hangs up after the last event
before=$(records)
"${RUN[@]}" "$PY" "$E2E_DIR/run_proxy_checks.py" concurrent 200 "$E2E_TMP/nostream.json" "$KEY" ||
  fail "concurrent calls"
"${RUN[@]}" "$PY" "$E2E_DIR/run_proxy_checks.py" hangup "$E2E_TMP/stream.json" "$KEY" ||
  fail "hangup client"
export_ndjson "$DB" >"$E2E_TMP/export.ndjson"
[[ $(wc -l <"$E2E_TMP/export.ndjson") == $((before + 201)) ]] ||
  fail "expected $((before + 201)) records, got $(wc -l <"$E2E_TMP/export.ndjson")"
"$PY" - "$E2E_TMP/export.ndjson" <<'PYEOF' || fail "records"
import json, sys
recs = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda r: r["end_timestamp"])
bad = [r for r in recs if r["capture"] != "proxy" or r["status"] != "ok" or not r["output_tokens"]]
for r in bad[:5]:
    print("bad record: capture=%s status=%s error_type=%s output_tokens=%s" % (
        r["capture"], r["status"], r["error_type"], r["output_tokens"]), file=sys.stderr)
last = recs[-1]
if not last["stream"]:
    bad.append(last)
    print("the hung-up stream is not the last record", file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
log "200 concurrent calls and a hung-up stream recorded, once each"

# --- process handling
rc=0
"${RUN[@]}" sh -c 'exit 7' || rc=$?
[[ $rc == 7 ]] || fail "exit status: $rc, want 7"
rc=0
"${RUN[@]}" sh -c 'kill -TERM $$' || rc=$?
[[ $rc == 143 ]] || fail "CMD killed by SIGTERM: status $rc, want 143"
"${RUN[@]}" sleep 30 &
pid=$!
sleep 1
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc == 143 ]] || fail "SIGTERM forwarded: status $rc, want 143"
out=$("${RUN[@]}" true)
[[ -z $out ]] || fail "llmops run printed on stdout: '$out'"
rc=0
out=$("$LLMOPS_CLI" run --db /proc/llmops-no-such-dir -- echo hi 2>"$E2E_TMP/nostart.err") || rc=$?
[[ $rc == 0 && $out == hi ]] || fail "CMD did not run when the proxy could not start ($rc, '$out')"
[[ $(wc -l <"$E2E_TMP/nostart.err") == 1 ]] && grep -q 'preload only' "$E2E_TMP/nostart.err" ||
  fail "proxy start failure not reported in one line: $(cat "$E2E_TMP/nostart.err")"
log "exit status, signals, stdout and start failure as CMD's"
