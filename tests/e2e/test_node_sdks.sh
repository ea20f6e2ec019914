#!/usr/bin/env bash
# The official Node SDKs from npm (`openai`, `@anthropic-ai/sdk`, exact versions
# in tests/node/package.json and package-lock.json) under the shim, talking
# PLAINTEXT HTTP to the local replay server (plaintext goes through the libc
# socket calls the shim hooks; HTTPS through node's own OpenSSL is
# test_node_https.sh). tests/node/sdk_clients.mjs makes chat completions (streaming and
# not, tool calls, an error) and messages (streaming and not, tool use) calls,
# each twice: in turn, then all at once. Output must be identical without and
# with the shim; every call must give one correct record with capture
# "socket", server_address 127.0.0.1 and provider "openai_compatible" (a host
# the shim does not know), or the provider LLMOPS_HOSTS names for 127.0.0.1.
# The SDKs send the keys (Authorization: Bearer, x-api-key): none may reach
# the store.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim

NODE=/usr/bin/node
NODE_DIR=$LLMOPS_SRC/tests/node
have_sdks() { [[ -f $NODE_DIR/node_modules/openai/package.json && -f $NODE_DIR/node_modules/@anthropic-ai/sdk/package.json ]]; }
if ! have_sdks; then
  # one npm ci at a time (other tests share tests/node/node_modules)
  (
    flock 9
    have_sdks && exit 0
    log "npm ci in $NODE_DIR"
    cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error
  ) 9>"${TMPDIR:-/tmp}/llmops-npm-ci.lock" || fail "npm ci failed"
fi
for p in openai @anthropic-ai/sdk; do
  want=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["dependencies"][sys.argv[2]])' \
    "$NODE_DIR/package.json" "$p")
  got=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$NODE_DIR/node_modules/$p/package.json")
  [[ $got == "$want" ]] || fail "$p $got installed, package.json pins $want (run npm ci in tests/node)"
  log "$p $got"
done

start_server plain
OPENAI_KEY=sk-proj-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
ANTHROPIC_KEY=sk-ant-api03-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
openai_v=(openai_chat_nostream_1 openai_chat_stream_2 openai_chat_stream_3 openai_chat-error_nostream_4)
anthropic_v=(anthropic_messages_nostream_1 anthropic_messages_stream_1 anthropic_messages_stream_3)

# run NAME all|openai|anthropic PROVIDER LLMOPS_HOSTS: one sdk_clients.mjs run, checked.
failed=0
run() {
  local name=$1 kind=$2 provider=$3 hosts=$4 vs=() expect=() v
  case $kind in
  openai) vs=("${openai_v[@]}") ;;
  anthropic) vs=("${anthropic_v[@]}") ;;
  *) vs=("${openai_v[@]}" "${anthropic_v[@]}") ;;
  esac
  for v in "${vs[@]}"; do expect+=("$v=2"); done
  local db=$E2E_TMP/db.$name only=()
  [[ $kind == all ]] || only=(--only "$kind")
  same_output "$name" "$db" env LLMOPS_HOSTS="$hosts" OPENAI_API_KEY="$OPENAI_KEY" \
    ANTHROPIC_API_KEY="$ANTHROPIC_KEY" "$NODE" "$NODE_DIR/sdk_clients.mjs" --port "$PORT" \
    --corpus "$CORPUS" "${only[@]}" "${vs[@]}"
  if [[ $SAME_OUTPUT_RC != 0 ]]; then
    cat "$E2E_TMP/out/$name.plain.err" >&2
    fail "$name: sdk_clients.mjs exited $SAME_OUTPUT_RC without the shim (harness problem)"
  fi
  [[ $(grep -c '^== ' "$E2E_TMP/out/$name.shim") == $((2 * ${#vs[@]})) ]] ||
    fail "$name: sdk_clients.mjs printed an unexpected number of responses"
  export_records "$name" "$db"
  if "$PY" "$E2E_DIR/py_clients.py" check "$E2E_TMP/$name.ndjson" --corpus "$CORPUS" \
    --capture socket --provider "$provider" --server-address 127.0.0.1 \
    --secret "$OPENAI_KEY" --secret "$ANTHROPIC_KEY" "${expect[@]}" 2>"$E2E_TMP/$name.check"; then
    log "PASS $name"
  else
    sed "s/^/[$name] /" "$E2E_TMP/$name.check" >&2
    log "FAIL $name"
    failed=$((failed + 1))
  fi
}
# LLMOPS_HOSTS is empty for the plain run too: it only matters to the shim.
run sdks all openai_compatible ""
run openai-named openai openai 127.0.0.1=openai
run anthropic-named anthropic anthropic 127.0.0.1=anthropic

stores=()
for f in "$E2E_TMP"/db.*/*.mdb; do [[ -f $f ]] && stores+=("$f"); done
((${#stores[@]})) || fail "no store was created"
"$PY" "$E2E_DIR/corpus_expect.py" scan --secret "$OPENAI_KEY" --secret "$ANTHROPIC_KEY" \
  "${stores[@]}" || fail "an API key reached a store"
((failed == 0)) || fail "$failed SDK run(s) recorded wrongly (see above)"
