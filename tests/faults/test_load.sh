#!/usr/bin/env bash
# Load: 8 processes x 2,000 calls at once, streaming and not, OpenAI chat,
# Anthropic Messages and Gemini, against two local servers (4 processes over
# TLS: the OpenSSL hooks; 4 over plain HTTP: the socket hooks), one store.
# Every process's output and exit status must equal its run without the
# shim; the store must hold exactly 16,000 records, each correct for its
# vector, from 8 processes, with the token sums of the plan (the vectors'
# normalised expectations, tests/e2e/corpus_expect.py); no message dropped,
# no commit failed. Prints both runs' wall times.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PROCS=8
CALLS=${LOAD_CALLS:-2000}
VECTORS=openai_chat_nostream_1,openai_chat_stream_2,anthropic_messages_nostream_1,anthropic_messages_stream_1,gemini_generatecontent_nostream_1,gemini_streamgeneratecontent_stream_1
T=$E2E_TMP
mkdir -p "$T/out"
start_servers

# run_all TAG [env VAR=value...]: the 8 clients at once; wall time in WALL (ms)
run_all() {
  local tag=$1 i kind t0 pids=()
  shift
  t0=$(date +%s%N)
  for ((i = 0; i < PROCS; i++)); do
    kind=tls
    ((i % 2)) && kind=plain
    # shellcheck disable=SC2046
    timeout -k 5 300 "$@" $(client $kind --vectors "$VECTORS" --calls "$CALLS") \
      >"$T/out/$tag.$i.out" 2>"$T/out/$tag.$i.err" &
    pids+=($!)
  done
  RCS=()
  for ((i = 0; i < PROCS; i++)); do
    local rc=0
    wait "${pids[$i]}" || rc=$?
    RCS+=("$rc")
  done
  WALL=$((($(date +%s%N) - t0) / 1000000))
}

run_all plain
for ((i = 0; i < PROCS; i++)); do
  [[ ${RCS[$i]} == 0 ]] || fail "client $i without the shim exits ${RCS[$i]}: $(head -c 300 "$T/out/plain.$i.err")"
done
PLAIN_WALL=$WALL
run_all shim env LD_PRELOAD="$SHIM" LLMOPS_DB="$T/db" LLMOPS_LOG="$T/out/shim.log"
log "$PROCS x $CALLS calls: ${PLAIN_WALL} ms without the shim, ${WALL} ms with it"

bad=0
for ((i = 0; i < PROCS; i++)); do
  if [[ ${RCS[$i]} != 0 ]]; then
    log "FAIL: client $i under the shim exits ${RCS[$i]}: $(head -c 300 "$T/out/shim.$i.err")"
    bad=1
  elif ! cmp -s "$T/out/plain.$i.out" "$T/out/shim.$i.out"; then
    log "FAIL: client $i: stdout differs under the shim"
    bad=1
  fi
done
if [[ -s $T/out/shim.log ]]; then
  log "FAIL: the shim logged: $(head -5 "$T/out/shim.log")"
  bad=1
fi

"$LLMOPS_CLI" export --db "$T/db" >"$T/out/load.ndjson" || fail "llmops export failed"
plan=()
for ((i = 0; i < PROCS; i++)); do plan+=(--plan "${VECTORS}x$CALLS"); done
if ! check "$T/out/load.ndjson" --count $((PROCS * CALLS)) --pids $PROCS --valid "${plan[@]}"; then
  bad=1
fi
"$PY" - "$T/out/load.ndjson" <<'PYC' >&2
import collections, json, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    c[(r["provider"], r["capture"], r["stream"])] += 1
for k, n in sorted(c.items()):
    print("[test_load]   %-11s %-8s stream=%-5s %6d records" % (k + (n,)))
PYC
[[ $bad == 0 ]] || fail "see above"
