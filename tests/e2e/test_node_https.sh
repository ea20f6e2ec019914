#!/usr/bin/env bash
# Node over HTTPS: the shim's inline hooks on the OpenSSL inside the node
# executable (shim/hook_ssl_inline.c). Every host resolves to 127.0.0.1 in
# the node programs; the test CA comes through NODE_EXTRA_CA_CERTS.
#  1. The official SDKs (`openai`, `@anthropic-ai/sdk`, pinned in tests/node)
#     replay every corpus vector they can express, each to its own provider
#     host (tests/node/sdk_clients.mjs --tls), each twice (in turn, then all
#     at once): one right record per call, capture "openssl_inline", the
#     provider and server_address of the vector's host, no API key stored.
#  2. tests/node/tls_clients.mjs: fetch(), https.request twice on one
#     keep-alive connection, node:http2 (ALPN h2, two streams at once), a
#     stream the client drops after its first piece (`incomplete`), 4 worker
#     threads, and a child process spawned by node.
#  3. tests/node/tls_behaviour.mjs: node:tls with a server in the same
#     process (tls.connect with ALPN, bulk echo, client certificates required,
#     TLS 1.2 session resumption, TLS 1.3 tickets, renegotiation): no record.
# Output and exit status of every program are identical without and with the
# shim, and no run leaves a not_observable record.
# Left out of 1 (not expressible through the SDKs): vectors without a
# recorded request, the non-OpenAI-shaped APIs (Gemini, Bedrock, Cohere,
# Ollama, Anthropic's legacy Complete), requests whose JSON the SDK
# re-serialises differently (temperature 1.0 goes out as 1; the embeddings
# call adds encoding_format), a stream that ends in an error event the SDK
# throws on, and duplicates of another vector's request.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim

NODE=/usr/bin/node
NODE_DIR=$LLMOPS_SRC/tests/node
[[ -x $NODE ]] || {
  log "SKIP: $NODE not installed"
  exit 77
}
[[ -f $NODE_DIR/node_modules/openai/package.json && -f $NODE_DIR/node_modules/@anthropic-ai/sdk/package.json ]] ||
  fail "tests/node/node_modules is not installed (scripts/node-deps)"
# a node that links the system libssl (Debian's own package) is the dynamic
# hooks' business, tested elsewhere: this test is for a node carrying OpenSSL
if ! nm -D --defined-only "$NODE" 2>/dev/null | grep -w SSL_write >/dev/null; then
  log "SKIP: $NODE does not carry its own OpenSSL"
  exit 77
fi
if ! LLMOPS_LOG=$E2E_TMP/probe.log LD_PRELOAD=$SHIM "$NODE" -e 0 ||
  ! grep -q "inline hooks on SSL_write SSL_read SSL_free" "$E2E_TMP/probe.log"; then
  cat "$E2E_TMP/probe.log" >&2 || true
  fail "the shim did not hook node's OpenSSL"
fi

start_server tls
TLS_PORT=$PORT
start_h2 tls
H2_PORT=$PORT
export NODE_EXTRA_CA_CERTS=$CA
OPENAI_KEY=sk-proj-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
ANTHROPIC_KEY=sk-ant-api03-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')

# the vectors the SDKs can express (see above)
mapfile -t vectors < <("$PY" - "$CORPUS" <<'PYV'
import glob, json, os, sys
skip_prefix = ("bedrock", "cohere", "gemini", "vertex", "ollama", "anthropic_complete")
skip = {"openrouter_chat_stream_2", "anthropic_messages_nostream_3", "azure_chat_nostream_2",
        "mistral_embeddings_nostream_1", "anthropic_messages_stream_4",
        "anthropic_messages_stream_5"}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    n = os.path.basename(f)[:-5]
    if n in skip or n.startswith(skip_prefix) or json.load(open(f)).get("request_body") is None:
        continue
    print(n)
PYV
)
((${#vectors[@]} >= 40)) || fail "only ${#vectors[@]} corpus vectors selected"
log "${#vectors[@]} vectors through the SDKs"

failed=0
check() { # NAME: the records of run NAME, checked with py_clients.py (args after NAME)
  local name=$1
  shift
  export_records "$name" "$E2E_TMP/db.$name"
  if "$PY" "$E2E_DIR/py_clients.py" check "$E2E_TMP/$name.ndjson" --corpus "$CORPUS" \
    --capture openssl_inline --secret "$OPENAI_KEY" --secret "$ANTHROPIC_KEY" "$@" \
    2>"$E2E_TMP/$name.check"; then
    log "PASS $name"
  else
    sed "s/^/[$name] /" "$E2E_TMP/$name.check" >&2
    log "FAIL $name"
    failed=$((failed + 1))
  fi
}

expect=()
for v in "${vectors[@]}"; do expect+=("$v=2"); done
same_output sdks "$E2E_TMP/db.sdks" env OPENAI_API_KEY="$OPENAI_KEY" ANTHROPIC_API_KEY="$ANTHROPIC_KEY" \
  "$NODE" "$NODE_DIR/sdk_clients.mjs" --tls --port "$TLS_PORT" --corpus "$CORPUS" "${vectors[@]}"
[[ $SAME_OUTPUT_RC == 0 ]] || fail "sdk_clients.mjs exited $SAME_OUTPUT_RC without the shim"
[[ $(grep -c '^== ' "$E2E_TMP/out/sdks.shim") == $((2 * ${#vectors[@]})) ]] ||
  fail "sdk_clients.mjs printed an unexpected number of responses"
check sdks "${expect[@]}"

run() { # SCENARIO PORT: one tls_clients.mjs run, without and with the shim
  same_output "$1" "$E2E_TMP/db.$1" "$NODE" "$NODE_DIR/tls_clients.mjs" "$1" "$2" "$CORPUS"
  [[ $SAME_OUTPUT_RC == 0 ]] || fail "tls_clients.mjs $1 exited $SAME_OUTPUT_RC"
}
run fetch "$TLS_PORT"
check fetch openai_chat_nostream_1=1
run https "$TLS_PORT"
grep -qx "reused true" "$E2E_TMP/out/https.shim" || fail "https: the second request did not reuse the connection"
check https openai_chat_nostream_1=1 openai_chat_stream_2=1
run h2 "$H2_PORT"
grep -qx "alpn h2" "$E2E_TMP/out/h2.shim" || fail "h2: ALPN did not pick h2"
check h2 --http-version 2 openai_chat_nostream_1=1 openai_chat_stream_2=1
run workers "$TLS_PORT"
check workers openai_chat_nostream_1=4 openai_chat_nostream_2=4
run child "$TLS_PORT"
check child openai_chat_nostream_1=1
run cut "$TLS_PORT"
export_records cut "$E2E_TMP/db.cut"

# h2: http_version 2; child: the record names the child, not node's parent;
# cut: one incomplete record; workers: one process; nowhere not_observable
"$PY" - "$E2E_TMP" <<'PYC' || fail "record details (above)"
import json, os, sys
t = sys.argv[1]
recs = {n: [json.loads(l) for l in open(os.path.join(t, n + ".ndjson"))]
        for n in ("sdks", "fetch", "https", "h2", "workers", "child", "cut")}
assert all(r["http_version"] == "2" for r in recs["h2"]), [r["http_version"] for r in recs["h2"]]
assert len({r["pid"] for r in recs["workers"]}) == 1
child = recs["child"][0]
assert child["argv"][2] == "fetch" and child["ppid"] != child["pid"], child["argv"]
cut = recs["cut"]
assert len(cut) == 1 and cut[0]["status"] == "incomplete", cut
assert cut[0]["error_type"] == "connection_closed" and cut[0]["capture"] == "openssl_inline", cut
assert cut[0]["stream"] is True and cut[0]["request_model"], cut
for n, rs in recs.items():
    assert not any(r["status"] == "not_observable" for r in rs), n
PYC
log "h2 over ALPN, child process, cut stream: as expected"

# 3: a client certificate signed by the test CA, then node:tls behaviour
(
  cd "$E2E_TMP/certs"
  openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
    -subj "/CN=llmops test client" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n' >client.ext
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
    -extfile client.ext -out client.pem 2>/dev/null
) || fail "could not make a client certificate"
same_output tls "$E2E_TMP/db.tls" "$NODE" "$NODE_DIR/tls_behaviour.mjs" "$E2E_TMP/certs"
[[ $SAME_OUTPUT_RC == 0 ]] || fail "tls_behaviour.mjs exited $SAME_OUTPUT_RC"
[[ $(wc -l <"$E2E_TMP/out/tls.shim") == 7 ]] || fail "tls_behaviour.mjs: $(cat "$E2E_TMP/out/tls.shim")"
grep -qx "clientcert with peer=llmops test client" "$E2E_TMP/out/tls.shim" ||
  fail "tls_behaviour.mjs: the client certificate was not seen"
[[ ! -e $E2E_TMP/db.tls/data.mdb ]] || fail "node:tls traffic that is not HTTP left a store"
log "node:tls behaviour identical: $(tr '\n' ';' <"$E2E_TMP/out/tls.shim")"
((failed == 0)) || fail "$failed run(s) recorded wrongly (see above)"
