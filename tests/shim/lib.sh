# Shared by the shim test scripts (test_socket, test_process, test_opaque):
# locations, a scratch directory and replay servers stopped at exit, TAP-ish
# ok/bad counters, and the corpus request bodies. Source it after
# `set -euo pipefail`. Needs LLMOPS_BUILD and LLMOPS_SRC (set by ctest).
: "${LLMOPS_BUILD:?}" "${LLMOPS_SRC:?}"
SHIM=$LLMOPS_BUILD/libllmops.so
LLMOPS=$LLMOPS_BUILD/llmops
E2E=$LLMOPS_SRC/tests/e2e
CORPUS=$LLMOPS_SRC/tests/corpus
PY=/usr/bin/python3
tmp=$(mktemp -d)
servers=()
trap 'for s in "${servers[@]}"; do kill "$s" 2>/dev/null; done; rm -rf "$tmp"' EXIT
pass=0 fail=0 skipped=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }
# skip WHAT REASON: a check that cannot run here (finish then exits 77)
skip() { skipped=$((skipped + 1)); echo "ok - $1 # SKIP $2"; }

# start_server tls|plain: the local replay server on a free port, in $port;
# tls also makes $tmp/certs (ca.pem for the clients).
start_server() {
  local args=(--plain)
  if [ "$1" = tls ]; then
    bash "$E2E/mkcert.sh" "$tmp/certs" >/dev/null
    args=(--cert "$tmp/certs/server.pem" --key "$tmp/certs/server.key")
  fi
  "$PY" "$E2E/llm_server.py" --corpus "$CORPUS" --host 127.0.0.1 --port 0 \
    --port-file "$tmp/port.$1" "${args[@]}" 2>"$tmp/server.$1.err" &
  servers+=($!)
  for _ in $(seq 200); do [ -s "$tmp/port.$1" ] && break; sleep 0.05; done
  port=$(cat "$tmp/port.$1")
}

# body_of VECTOR FILE: the vector's request body into FILE
body_of() {
  "$PY" -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["request_body"])' \
    "$CORPUS/$1.json" >"$2"
}

# finish: the summary line and the exit status (77, ctest's skipped, when
# all passed but some check was skipped)
finish() {
  echo "$pass passed, $fail failed, $skipped skipped"
  [ "$fail" -eq 0 ] || return 1
  [ "$skipped" -eq 0 ] || exit 77
}
