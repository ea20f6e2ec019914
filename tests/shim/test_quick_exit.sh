#!/usr/bin/env bash
# Programs that end with quick_exit() (Bun exits every process that way)
# right after a streamed call, the connection still open: quick_exit skips
# atexit handlers, so only a hook gives the collector its bounded exit
# flush. Five processes over plaintext and five over TLS must leave five
# complete records each; the program's at_quick_exit handler still runs and
# its exit status is kept.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${QEXIT_CLIENT:?}"
VEC=openai_chat_stream_1
body_of "$VEC" "$tmp/body.json"
start_server plain
plain_port=$port
start_server tls
tls_port=$port

for mode in plain tls; do
  p=$plain_port
  [ "$mode" = tls ] && p=$tls_port
  rm -rf "$tmp/db.$mode"
  ran=0
  for i in 1 2 3 4 5; do
    rc=0
    LLMOPS_DB=$tmp/db.$mode LD_PRELOAD=$SHIM timeout 20 "$QEXIT_CLIENT" "$mode" "$p" \
      "$tmp/body.json" "$VEC" "$tmp/certs/ca.pem" >"$tmp/out.$mode.$i" || rc=$?
    [ "$rc" = 3 ] && grep -qx handler "$tmp/out.$mode.$i" && ran=$((ran + 1))
  done
  [ "$ran" = 5 ] && ok "$mode: exit status 3 and the at_quick_exit handler ran, 5 of 5" ||
    bad "$mode: status/handler right in only $ran of 5 runs"
  n=0
  [ -d "$tmp/db.$mode" ] && n=$("$LLMOPS" export --db "$tmp/db.$mode" |
    "$PY" -c 'import json,sys
print(sum(1 for l in sys.stdin if json.loads(l)["status"] == "ok" and json.loads(l)["stream"]))')
  [ "$n" = 5 ] && ok "$mode: 5 complete streamed records from 5 quick_exit processes" ||
    bad "$mode: $n complete records from 5 quick_exit processes"
done
finish
