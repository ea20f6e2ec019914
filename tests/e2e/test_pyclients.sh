#!/usr/bin/env bash
# The Python HTTP clients people run (py_clients.py), each over TLS and over
# plaintext, without and with the shim: identical output, and one correct
# record per call (OpenAI chat streaming and not, an OpenAI error, Anthropic
# messages streaming and not). Clients: requests, httpx (sync), urllib,
# httpx (async), aiohttp, and asyncio streams; the async ones make every call
# at once on one event loop. asyncio's TLS (asyncio streams, aiohttp, and
# anyio under httpx async) runs OpenSSL over memory BIOs (ssl.SSLObject): the
# records prove the shim's SSL*-keyed connections work without a socket fd.
# Over TLS the records must say capture "openssl"; over plaintext "socket".
# Each client and transport records into its own store; no API key may reach
# any of them.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
for m in requests httpx aiohttp; do
  "$PY" -c "import $m" 2>/dev/null || fail "Debian python3-$m is not installed (scripts/install-deps)"
done
start_server plain
PLAIN_PORT=$PORT
start_server tls
TLS_PORT=$PORT

OPENAI_KEY=$(random_key)
ANTHROPIC_KEY=sk-ant-api03-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
REPEAT=2 # every vector twice: repeated requests on keep-alive connections / at once
vectors=(openai_chat_nostream_1 openai_chat_stream_2 openai_chat_stream_3 openai_chat-error_nostream_4
  anthropic_messages_nostream_1 anthropic_messages_stream_1 anthropic_messages_stream_3)
expect=()
for v in "${vectors[@]}"; do expect+=("$v=$REPEAT"); done

clients=(requests httpx urllib httpx-async aiohttp asyncio-streams)
results=()
failed=0
SECONDS=0
for client in "${clients[@]}"; do
  for transport in tls plain; do
    name=$client.$transport
    db=$E2E_TMP/db.$name
    if [[ $transport == tls ]]; then
      args=(--port "$TLS_PORT" --ca "$CA")
      capture=openssl
    else
      args=(--port "$PLAIN_PORT" --plain)
      capture=socket
    fi
    same_output "$name" "$db" env OPENAI_API_KEY="$OPENAI_KEY" ANTHROPIC_API_KEY="$ANTHROPIC_KEY" \
      "$PY" "$E2E_DIR/py_clients.py" "$client" "${args[@]}" --repeat "$REPEAT" \
      --corpus "$CORPUS" "${vectors[@]}"
    if [[ $SAME_OUTPUT_RC != 0 ]]; then
      cat "$E2E_TMP/out/$name.plain.err" >&2
      fail "$name: py_clients.py exited $SAME_OUTPUT_RC without the shim (harness problem)"
    fi
    [[ $(grep -c '^== ' "$E2E_TMP/out/$name.shim") -ge $((${#vectors[@]} * REPEAT)) ]] ||
      fail "$name: client printed too few responses"
    if [[ $client == asyncio-streams && $transport == tls ]]; then
      grep -q '^== asyncio transports: .* TLS object SSLObject$' "$E2E_TMP/out/$name.shim" ||
        fail "$name: asyncio did not use ssl.SSLObject (memory BIOs)"
    fi
    export_records "$name" "$db"
    if "$PY" "$E2E_DIR/py_clients.py" check "$E2E_TMP/$name.ndjson" --corpus "$CORPUS" \
      --capture "$capture" --secret "$OPENAI_KEY" --secret "$ANTHROPIC_KEY" "${expect[@]}" \
      2>"$E2E_TMP/$name.check"; then
      results+=("PASS $name")
    else
      results+=("FAIL $name")
      failed=$((failed + 1))
      sed "s/^/[$name] /" "$E2E_TMP/$name.check" >&2
    fi
  done
done
# Every byte of every store, too (the export could hide what the LMDB files hold).
stores=()
for f in "$E2E_TMP"/db.*/*.mdb; do [[ -f $f ]] && stores+=("$f"); done
((${#stores[@]})) || fail "no store was created"
"$PY" "$E2E_DIR/corpus_expect.py" scan --secret "$OPENAI_KEY" --secret "$ANTHROPIC_KEY" \
  "${stores[@]}" || fail "an API key reached a store"
for r in "${results[@]}"; do log "$r"; done
log "${#results[@]} client runs in ${SECONDS}s"
((failed == 0)) || fail "$failed client run(s) recorded wrongly (see above)"
