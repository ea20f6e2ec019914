#!/usr/bin/env bash
# The inline hooks outside node (shim/inline.c): a PIE program exporting its
# own SSL_write/SSL_read/SSL_free (inline_client.c) is patched (LLMOPS_LOG
# names the functions) and behaves exactly as without the shim; the same
# program whose functions are too short to patch, one that already has a
# thread when the shim arrives (dlopen), and LLMOPS_INLINE=0 are refused
# cleanly: output unchanged, one reason in LLMOPS_LOG, nothing patched.
set -euo pipefail
: "${LLMOPS_BUILD:?}" "${INLINE_CLIENT:?}" "${INLINE_CLIENT_SHORT:?}"
SHIM=$LLMOPS_BUILD/libllmops.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }

# case NAME LOG-PATTERN ENV... -- PROGRAM ARGS...: same output and status, and the log line
case_() {
  local name=$1 pat=$2 envs=() rc1=0 rc2=0
  shift 2
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  rm -f "$tmp/log"
  "$@" >"$tmp/plain" 2>&1 || rc1=$?
  env "${envs[@]}" LLMOPS_LOG="$tmp/log" LLMOPS_DB="$tmp/db" LD_PRELOAD="$SHIM" "$@" >"$tmp/shim" 2>&1 || rc2=$?
  if [ "$rc1" = "$rc2" ] && cmp -s "$tmp/plain" "$tmp/shim" && grep -q -- "$pat" "$tmp/log"; then
    ok "$name"
  else
    bad "$name (exit $rc1 vs $rc2)"; diff "$tmp/plain" "$tmp/shim" | head; cat "$tmp/log" 2>/dev/null | head
  fi
}

case_ "patched: same results through the trampolines" "inline hooks on SSL_write SSL_read SSL_free (3 functions" \
  -- "$INLINE_CLIENT"
case_ "too short to patch: refused with the reason" "SSL_write not patched: function shorter than the jump" \
  -- "$INLINE_CLIENT_SHORT"
grep -q "none installed" "$tmp/log" && ok "too short: nothing installed" || bad "too short: installed something"
case_ "LLMOPS_INLINE=0: left alone" "inline hooks: off" LLMOPS_INLINE=0 -- "$INLINE_CLIENT"
# loaded by dlopen after a thread started: no LD_PRELOAD, the program loads the shim
rm -f "$tmp/log"
rc=0
LLMOPS_LOG="$tmp/log" LLMOPS_DB="$tmp/db" "$INLINE_CLIENT" threads "$SHIM" >"$tmp/thr" 2>&1 || rc=$?
if [ $rc = 0 ] && cmp -s "$tmp/plain" "$tmp/thr" && grep -q "already has threads; not patching" "$tmp/log"; then
  ok "a process with threads already: refused"
else
  bad "a process with threads already (exit $rc)"; cat "$tmp/log" 2>/dev/null | head
fi
[ ! -e "$tmp/db/data.mdb" ] && ok "no LLM traffic: no store" || bad "a store was created"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
