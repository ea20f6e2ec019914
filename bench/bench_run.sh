#!/usr/bin/env bash
# bench/bench_run.sh: `llmops run`'s recording proxy against mitmproxy's
# mitmdump in streaming mode (forward proxy, `--set stream_large_bodies=1`,
# so streams pass through), on the same replay (bench_run_client.py: one
# keep-alive TLS connection, BENCH_CALLS streamed chat completions through a
# CONNECT tunnel), interleaved BENCH_RUN_REPS times:
#   direct   client -> replay server
#   llmops   client under `llmops run` -> proxy (intercepts: LLMOPS_HOSTS
#            names localhost) -> server
#   mitm     client -> mitmdump -> server
# Reports per mode the wall time per call and its excess over direct (added
# latency), the time to the first body byte of a stream whose events are
# BENCH_RUN_DELAY_MS apart (added TTFB), the proxy's CPU per request, and the
# start-up of `llmops run -- /bin/true` against /bin/true. The ratio llmops
# added latency / mitm added latency is the figure to watch (target <= 0.1).
# Prints a markdown section on stdout, progress on stderr.
#
# usage: bash bench/bench_run.sh [BUILD_DIR] [> section.md]
# Knobs: BENCH_CALLS (100) BENCH_RUN_REPS (5) BENCH_RUN_DELAY_MS (50) BENCH_KEEP=1
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"
BUILD=${1:-${LLMOPS_BUILD:-$SRC/build}}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
CALLS=${BENCH_CALLS:-100}
REPS=${BENCH_RUN_REPS:-5}
DELAY=${BENCH_RUN_DELAY_MS:-50}
PY=/usr/bin/python3
LLMOPS=$BUILD/llmops
CLIENT=$SRC/bench/bench_run_client.py
[[ -x $LLMOPS ]] || die "llmops not built in $BUILD"
bench_tmp llmops-bench-run
bash "$SRC/tests/e2e/mkcert.sh" "$TMP/certs" >/dev/null
start_replay
"$PY" -c 'import json, sys; sys.stdout.write(json.load(open(sys.argv[1]))["request_body"])' \
  "$SRC/tests/corpus/openai_chat_stream_1.json" >"$TMP/body.json"
export LLMOPS_HOSTS=localhost=openai LLMOPS_DB=$TMP/db SSL_CERT_FILE=$TMP/certs/ca.pem
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy

have_mitm=0
if command -v mitmdump >/dev/null; then
  MITM_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mitmdump --mode regular --listen-host 127.0.0.1 --listen-port "$MITM_PORT" \
    --set confdir="$TMP/mitm" --set stream_large_bodies=1 \
    --set ssl_verify_upstream_trusted_ca="$TMP/certs/ca.pem" -q >"$TMP/mitm.log" 2>&1 &
  PIDS+=($!)
  MITM_PID=$!
  for ((i = 0; i < 100; i++)); do
    if [[ -s $TMP/mitm/mitmproxy-ca-cert.pem ]] && (: </dev/tcp/127.0.0.1/"$MITM_PORT") 2>/dev/null; then
      have_mitm=1
      break
    fi
    sleep 0.1
  done
  ((have_mitm)) || log "mitmdump did not start; its column is empty"
fi

# one MODE CALLS [--delay-ms N]: one run, prints the client's line
one() {
  local mode=$1 CALLS=$2
  shift 2
  case $mode in
  direct) "$PY" "$CLIENT" localhost "$LLM_PORT" "$TMP/body.json" "$CALLS" "$TMP/certs/ca.pem" "$@" ;;
  llmops) "$LLMOPS" run -- "$PY" "$CLIENT" localhost "$LLM_PORT" "$TMP/body.json" "$CALLS" - \
    --parent-cpu "$@" ;;
  mitm) HTTPS_PROXY=http://127.0.0.1:$MITM_PORT "$PY" "$CLIENT" localhost "$LLM_PORT" \
    "$TMP/body.json" "$CALLS" "$TMP/mitm/mitmproxy-ca-cert.pem" "$@" ;;
  esac
}
modes=(direct llmops)
((have_mitm)) && modes+=(mitm)
declare -A wall ttfb cpu
for ((r = 0; r < REPS; r++)); do
  for m in "${modes[@]}"; do
    line=$(one "$m" "$CALLS")
    wall[$m]+="$(field wall_ms_per_call "$line") "
    cpu[$m]+="$(field proxy_cpu_ms "$line") "
    line=$(one "$m" 10 --delay-ms "$DELAY")
    ttfb[$m]+="$(field ttfb_ms "$line") "
  done
  log "rep $((r + 1))/$REPS"
done
if ((have_mitm)); then
  m0=$(cat /proc/"$MITM_PID"/stat | awk '{print $14 + $15}')
  one mitm "$CALLS" >/dev/null
  m1=$(cat /proc/"$MITM_PID"/stat | awk '{print $14 + $15}')
  cpu[mitm]=$(calc "($m1 - $m0) * 1000 / $(getconf CLK_TCK) / $CALLS")
fi
med() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# start-up: llmops run -- /bin/true against /bin/true
t_true=() t_run=()
for ((r = 0; r < 20; r++)); do
  s=$(date +%s%N); /bin/true; e=$(date +%s%N); t_true+=($(((e - s) / 1000)))
  s=$(date +%s%N); "$LLMOPS" run -- /bin/true; e=$(date +%s%N); t_run+=($(((e - s) / 1000)))
done
st_true=$(med "${t_true[*]}")
st_run=$(med "${t_run[*]}")

dw=$(med "${wall[direct]}")
dt=$(med "${ttfb[direct]}")
echo "## llmops run: recording proxy vs mitmdump (streaming mode)"
echo
echo "$CALLS streamed calls per run on one keep-alive CONNECT tunnel, median of $REPS runs;"
echo "TTFB: 10 streams with events ${DELAY} ms apart. Host: $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)."
echo
echo "| mode | ms/call | added ms/call | TTFB ms | added TTFB ms | proxy CPU ms/call |"
echo "| --- | --- | --- | --- | --- | --- |"
for m in "${modes[@]}"; do
  w=$(med "${wall[$m]}")
  t=$(med "${ttfb[$m]}")
  c=$([[ $m == direct ]] && echo - || { [[ $m == mitm ]] && echo "${cpu[mitm]}" || med "${cpu[$m]}"; })
  echo "| $m | $w | $(calc "$w - $dw") | $t | $(calc "$t - $dt") | $c |"
done
if ((have_mitm)); then
  al=$(calc "$(med "${wall[llmops]}") - $dw")
  am=$(calc "$(med "${wall[mitm]}") - $dw")
  echo
  echo "added latency llmops / mitmdump: $(ratio "$al" "$am") (target <= 0.1)"
fi
echo
echo "start-up: \`llmops run -- /bin/true\` ${st_run} us against /bin/true ${st_true} us (median of 20)"
