# shellcheck shell=bash disable=SC2034
# lib.sh: helpers sourced by the e2e test scripts (bash).
#
# Environment (set by ctest, defaults for running a script by hand):
#   LLMOPS_SRC    source tree             (default: two levels above this file)
#   LLMOPS_BUILD  build tree with libllmops.so and llmops (default: $LLMOPS_SRC/build)
#   E2E_KEEP=1    keep the temp dir (certs, server log, stores, outputs) for debugging
#
# After sourcing: $E2E_TMP (removed on exit), $PY (Debian python3), $CORPUS.
# make_certs -> $CA; start_server tls|plain -> $PORT; start_h2 tls|plain -> $PORT;
# with_shim DB cmd...;
# export_ndjson DB > FILE; same_output NAME cmd... (runs cmd without and with the shim).

set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LLMOPS_SRC=${LLMOPS_SRC:-$(cd "$E2E_DIR/../.." && pwd)}
LLMOPS_BUILD=${LLMOPS_BUILD:-$LLMOPS_SRC/build}
PY=/usr/bin/python3 # Debian's interpreter, never a pyenv build on PATH
CORPUS=$LLMOPS_SRC/tests/corpus
SHIM=$LLMOPS_BUILD/libllmops.so
LLMOPS_CLI=$LLMOPS_BUILD/llmops
TEST_NAME=$(basename "$0" .sh)

# The tests control the shim's environment themselves.
unset LD_PRELOAD LLMOPS_DB LLMOPS_EXTRAS LLMOPS_SESSION_ID http_proxy https_proxy HTTP_PROXY \
  HTTPS_PROXY ALL_PROXY all_proxy || true
export NO_PROXY='*' no_proxy='*'

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmops-e2e-$TEST_NAME.XXXXXX")
SERVER_PID=
PORT=
CA=

log() { printf '[%s] %s\n' "$TEST_NAME" "$*" >&2; }
fail() {
  printf '[%s] FAIL: %s\n' "$TEST_NAME" "$*" >&2
  exit 1
}

_e2e_cleanup() {
  local rc=$?
  stop_server
  if [[ ${E2E_KEEP:-0} == 1 || $rc != 0 && ${E2E_KEEP_ON_FAIL:-0} == 1 ]]; then
    log "kept $E2E_TMP"
  else
    rm -rf "$E2E_TMP"
  fi
  if [[ $rc == 0 ]]; then log PASS; fi
  exit $rc
}
trap _e2e_cleanup EXIT
trap 'exit 130' INT TERM

require_shim() {
  [[ -f $SHIM ]] || fail "shim not built: $SHIM"
  [[ -x $LLMOPS_CLI ]] || fail "CLI not built: $LLMOPS_CLI"
}

# A fresh fake API key; pass every one you use to check_records.py --secret.
random_key() { printf 'sk-test-%s' "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"; }

make_certs() {
  bash "$E2E_DIR/mkcert.sh" "$E2E_TMP/certs" || fail "mkcert.sh failed"
  CA=$E2E_TMP/certs/ca.pem
}

# start_server tls|plain: replay server on a free loopback port, in $PORT.
# May be called more than once (e.g. a TLS and a plain server); all are
# stopped at exit.
SERVER_PIDS=()
start_server() {
  local args=() pf=$E2E_TMP/server.${1:-tls}.port i
  if [[ ${1:-tls} == plain ]]; then
    args=(--plain)
  else
    [[ -n $CA ]] || make_certs
    args=(--cert "$E2E_TMP/certs/server.pem" --key "$E2E_TMP/certs/server.key")
  fi
  rm -f "$pf"
  "$PY" "$E2E_DIR/llm_server.py" --corpus "$CORPUS" --host 127.0.0.1 --port 0 \
    --port-file "$pf" --log "$E2E_TMP/server.log" "${args[@]}" 2>>"$E2E_TMP/server.err" &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  for ((i = 0; i < 200; i++)); do
    [[ -s $pf ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$E2E_TMP/server.err" >&2; fail "server died"; }
    sleep 0.05
  done
  [[ -s $pf ]] || fail "server did not start within 10 s"
  PORT=$(<"$pf")
}

# start_h2 tls|plain: the HTTP/2 replay server (h2_server.py; plain = h2c)
# on a free loopback port, in $PORT; stopped at exit like start_server's.
start_h2() {
  local pf=$E2E_TMP/h2.${1:-tls}.port args=(--plain) i pid
  if [[ ${1:-tls} != plain ]]; then
    [[ -n $CA ]] || make_certs
    args=(--cert "$E2E_TMP/certs/server.pem" --key "$E2E_TMP/certs/server.key")
  fi
  rm -f "$pf"
  "$PY" "$E2E_DIR/h2_server.py" --corpus "$CORPUS" --host 127.0.0.1 --port 0 --port-file "$pf" \
    --log "$E2E_TMP/server.log" "${args[@]}" 2>>"$E2E_TMP/server.err" &
  pid=$!
  SERVER_PIDS+=("$pid")
  for ((i = 0; i < 200; i++)); do
    [[ -s $pf ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$E2E_TMP/server.err" >&2; fail "h2 server died"; }
    sleep 0.05
  done
  [[ -s $pf ]] || fail "h2 server (${1:-tls}) did not start within 10 s"
  PORT=$(<"$pf")
}

stop_server() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
  SERVER_PID=
}

# with_shim DB cmd...: run cmd with the shim preloaded, recording into DB.
# Extra variables can be put in front: with_shim DB env LLMOPS_EXTRAS=... cmd
with_shim() {
  local db=$1
  shift
  LD_PRELOAD=$SHIM LLMOPS_DB=$db "$@"
}

export_ndjson() {
  "$LLMOPS_CLI" export --db "$1" --format ndjson
}

# export_records NAME DB: DB's records into $E2E_TMP/NAME.ndjson (empty when
# the run made no store), and a log line with their count.
export_records() {
  if [[ -d $2 ]]; then
    export_ndjson "$2" >"$E2E_TMP/$1.ndjson" || fail "$1: llmops export failed"
  else
    : >"$E2E_TMP/$1.ndjson"
  fi
  log "$1: output identical; $(wc -l <"$E2E_TMP/$1.ndjson") records"
}

# same_output NAME DB cmd...: run cmd plainly, then under the shim (recording
# into DB); stdout and exit status must be identical. Outputs are kept in
# $E2E_TMP/out/NAME.{plain,shim}; a differing stderr is reported, not fatal.
same_output() {
  local name=$1 db=$2 o=$E2E_TMP/out/$1 rc1=0 rc2=0
  shift 2
  mkdir -p "$E2E_TMP/out"
  "$@" >"$o.plain" 2>"$o.plain.err" || rc1=$?
  with_shim "$db" "$@" >"$o.shim" 2>"$o.shim.err" || rc2=$?
  if ! cmp -s "$o.plain" "$o.shim"; then
    diff <(od -c "$o.plain") <(od -c "$o.shim") | head -20 >&2 || true
    fail "$name: stdout differs under the shim ($(wc -c <"$o.plain") vs $(wc -c <"$o.shim") bytes)"
  fi
  [[ $rc1 == "$rc2" ]] || fail "$name: exit status $rc1 without the shim, $rc2 with it"
  if ! cmp -s "$o.plain.err" "$o.shim.err"; then
    log "note: $name: stderr differs under the shim:"
    diff "$o.plain.err" "$o.shim.err" | head -10 >&2 || true
  fi
  SAME_OUTPUT_RC=$rc1
}

# vector_field NAME FIELD: print a top-level field of a corpus vector (strings raw).
vector_field() {
  "$PY" -c 'import json,sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
sys.stdout.write(v if isinstance(v, str) else json.dumps(v))' "$CORPUS/$1.json" "$2"
}
