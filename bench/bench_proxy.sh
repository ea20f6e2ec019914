#!/usr/bin/env bash
# bench/bench_proxy.sh: section 7 of the llmops benchmark. The shim against the
# approach users reach for today, a logging reverse proxy (mitmproxy's
# mitmdump): the same replay of BENCH_CALLS streamed chat completions as
# section 2 (bench_client, one keep-alive TLS connection, the e2e replay
# server), run three ways, interleaved:
#   direct  the client talks TLS to the server (the baseline)
#   shim    the same with LD_PRELOAD=libllmops.so
#   proxy   the client talks TLS to `mitmdump --mode reverse:https://127.0.0.1:PORT
#           --ssl-insecure`, trusting mitmproxy's CA (a confdir in the temp dir)
# Reports added latency per call (wall per call minus the direct run's) and
# CPU: the proxy process's utime+stime (/proc/PID/stat) over each run against
# the shim's in-process extra CPU. If mitmproxy is missing or does not start,
# the section says so and the script exits 0. Prints a markdown section on
# stdout, progress on stderr.
#
# usage: bash bench/bench_proxy.sh [BUILD_DIR] [> section.md]
# Knobs (environment): BENCH_CALLS (200) BENCH_PROXY_REPS (10 runs per mode)
# BENCH_VECTOR (openai_chat_stream_1) BENCH_PROXY_ARGS (extra mitmdump
# arguments, e.g. "--set stream_large_bodies=1") BENCH_KEEP=1.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"
BUILD=${1:-${LLMOPS_BUILD:-$SRC/build}}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
CALLS=${BENCH_CALLS:-200}
REPS=${BENCH_PROXY_REPS:-10}
VECTOR=${BENCH_VECTOR:-openai_chat_stream_1}
read -ra PROXY_ARGS <<<"${BENCH_PROXY_ARGS:-}"
PY=/usr/bin/python3 # Debian's interpreter, as in run.sh (the replay server)
SHIM=$BUILD/libllmops.so
CLI=$BUILD/llmops
CC=${CC:-cc}
T0=$SECONDS
unset LD_PRELOAD LLMOPS_DB LLMOPS_DISABLE LLMOPS_LOG LLMOPS_HOSTS http_proxy https_proxy \
  HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy || true
TITLE="## 7. The shim vs a logging reverse proxy (mitmproxy), $CALLS streamed calls"

skip() { # REASON: the section says why it has no figures; not a bench failure
  log "proxy section skipped: $*"
  printf '%s\n\nSkipped: %s\n' "$TITLE" "$*"
  exit 0
}
((CALLS > 0 && REPS > 0)) || die "bad BENCH_CALLS / BENCH_PROXY_REPS"
[[ -f $SHIM ]] || die "no $SHIM (build llmops first)"
[[ -x $PY ]] || die "$PY is needed (replay server)"

bench_tmp llmops-bench-proxy

# ---------------------------------------------------------------- setup
"$CC" -std=c11 -O2 -Wall -Wextra -Wshadow -Wmissing-prototypes -D_GNU_SOURCE \
  -o "$TMP/bench_client" "$SRC/bench/bench_client.c" -lssl -lcrypto ||
  die "cannot compile bench_client (libssl-dev installed?)"
bash "$SRC/tests/e2e/mkcert.sh" "$TMP/certs" >/dev/null || die "mkcert.sh failed"
CA=$TMP/certs/ca.pem
"$PY" -c 'import json, sys; sys.stdout.write(json.load(open(sys.argv[1]))["request_body"])' \
  "$SRC/tests/corpus/$VECTOR.json" >"$TMP/body.json" || die "no vector $VECTOR"
read -r VECTOR_HOST VECTOR_PATH < <(vector_target "$VECTOR")

start_replay

command -v mitmdump >/dev/null ||
  skip "mitmdump is not installed (Debian package mitmproxy: scripts/install-deps bench)."
MITM_VERSION=$(mitmdump --version 2>/dev/null | sed -n 's/^Mitmproxy: *//p' | head -1) || true
PROXY_PORT=$("$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
# mitmdump's own default output (one line per request and response) goes to a file
mitmdump --set confdir="$TMP/mitm" --mode "reverse:https://127.0.0.1:$LLM_PORT" \
  --listen-host 127.0.0.1 --listen-port "$PROXY_PORT" --ssl-insecure "${PROXY_ARGS[@]}" \
  >"$TMP/mitm.log" 2>&1 &
MITM_PID=$!
PIDS+=("$MITM_PID")
for ((i = 0; i < 600; i++)); do # up to 30 s: a cold Python start-up on a loaded machine
  grep -qs 'listening at' "$TMP/mitm.log" && break
  kill -0 "$MITM_PID" 2>/dev/null || break
  sleep 0.05
done
MITM_CA=$TMP/mitm/mitmproxy-ca-cert.pem
if ! grep -qs 'listening at' "$TMP/mitm.log" || [[ ! -s $MITM_CA ]]; then
  skip "mitmdump ${MITM_VERSION:-?} did not start: $(tail -3 "$TMP/mitm.log" | tr '\n' ' ')"
fi
log "7. proxy: mitmdump $MITM_VERSION (pid $MITM_PID) on :$PROXY_PORT -> :$LLM_PORT;" \
  "$REPS x 3 runs of $CALLS calls"

# ---------------------------------------------------------------- runs
HZ=$(getconf CLK_TCK)
proxy_ticks() { awk '{ print $14 + $15 }' "/proc/$MITM_PID/stat"; }
# run direct|shim|proxy -> the client's "exit" line + proxy_cpu_s (the proxy
# process's CPU during the run, whichever mode) + records (shim)
run() {
  local mode=$1 port=$LLM_PORT ca=$CA pre=() out t0 t1 db=$TMP/db-$RANDOM$RANDOM n=0
  [[ $mode != proxy ]] || port=$PROXY_PORT ca=$MITM_CA
  [[ $mode != shim ]] || pre=(env LD_PRELOAD="$SHIM" LLMOPS_DB="$db")
  t0=$(proxy_ticks) || die "mitmdump died (see its log)"
  out=$("${pre[@]}" "$TMP/bench_client" --port "$port" --ca "$ca" --host "$VECTOR_HOST" \
    --path "$VECTOR_PATH" --calls "$CALLS" --body "$TMP/body.json" --vector "$VECTOR") ||
    { tail -5 "$TMP/mitm.log" >&2; die "bench_client ($mode)"; }
  t1=$(proxy_ticks) || die "mitmdump died during a $mode run"
  if [[ $mode == shim ]]; then
    n=$("$CLI" export --db "$db" --format ndjson 2>/dev/null | wc -l)
    rm -rf "$db"
  fi
  echo "$(grep '^exit' <<<"$out") proxy_cpu_s=$(calc "($t1 - $t0) / $HZ" 2) records=$n"
}
run direct >/dev/null # warm-up: server, page cache, mitmproxy's certificate for the SNI
run shim >/dev/null
run proxy >/dev/null
declare -A L=([direct]="" [shim]="" [proxy]="")
ORDERS=("direct shim proxy" "shim proxy direct" "proxy direct shim")
for ((r = 0; r < REPS; r++)); do
  for m in ${ORDERS[r % 3]}; do
    L[$m]+="$(run "$m")"$'\n'
  done
done
PROXY_RSS=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$MITM_PID/status")

# ---------------------------------------------------------------- figures
lines() { sed '/^$/d' <<<"${L[$1]}"; }
# per MODE KEY: median over the runs of KEY / CALLS
per() {
  local l
  while read -r l; do calc "$(field "$2" "$l") / $CALLS" 9; echo; done < <(lines "$1") | stats
}
declare -A WALL CPU PCPU BYTES RSS CSW # per mode: "mean median min max" (BYTES: one run's)
for m in direct shim proxy; do
  WALL[$m]=$(per "$m" wall_s)
  CPU[$m]=$(per "$m" cpu_s)
  PCPU[$m]=$(per "$m" proxy_cpu_s)
  BYTES[$m]=$(field bytes_in "$(lines "$m" | head -1)")
  RSS[$m]=$(while read -r l; do field maxrss_kb "$l"; done < <(lines "$m") | stats)
  CSW[$m]=$(per "$m" vcsw)
done
REC_OK=yes
while read -r l; do [[ $(field records "$l") == "$CALLS" ]] || REC_OK=no; done < <(lines shim)
us() { calc "($1) * 1e6" "${2:-1}"; }
med() { col 2 "$1"; }
# wall per call, ms, median (mean) [min..max]
wall_cell() { echo "$(calc "$(med "$1") * 1e3" 3) ($(calc "$(col 1 "$1") * 1e3" 3)) [$(calc "$(col 3 "$1") * 1e3" 2)..$(calc "$(col 4 "$1") * 1e3" 2)]"; }
ADD_SHIM=$(us "$(med "${WALL[shim]}") - $(med "${WALL[direct]}")")
ADD_PROXY=$(us "$(med "${WALL[proxy]}") - $(med "${WALL[direct]}")")
SHIM_CPU=$(us "$(med "${CPU[shim]}") - $(med "${CPU[direct]}")")
PROXY_CPU=$(us "$(med "${PCPU[proxy]}")")
CLIENT_PROXY_CPU=$(us "$(med "${CPU[proxy]}") - $(med "${CPU[direct]}")")
# the proxy's background CPU while it idles (direct and shim runs), per second
IDLE=$(for m in direct shim; do
  lines "$m" | while read -r l; do echo "$(field proxy_cpu_s "$l") $(field wall_s "$l")"; done
done | awk '{ c += $1; w += $2 } END { printf "%.3f", (w > 0 ? c / w : 0) }')
raw() { lines "$1" | sed "s/^/$1 /"; }

cat <<EOF
$TITLE

mitmdump $MITM_VERSION, \`mitmdump --mode reverse:https://127.0.0.1:PORT --listen-port P2 --ssl-insecure${PROXY_ARGS[*]:+ ${PROXY_ARGS[*]}}\`
with its default output (a line per request and response) to a file and nothing saved (no
\`-w\`), so it records less than the shim does. Vector \`$VECTOR\`; $REPS runs of $CALLS calls per
mode over one keep-alive TLS connection, the three modes in rotating order. Per call =
run / $CALLS; medians over the runs (mean) [min..max]. The proxy's CPU is utime+stime of the
mitmdump process (/proc/PID/stat, all its threads, ${HZ} Hz ticks) across each run.

| | direct | shim | proxy |
|---|---|---|---|
| wall ms per call | $(wall_cell "${WALL[direct]}") | $(wall_cell "${WALL[shim]}") | $(wall_cell "${WALL[proxy]}") |
| **added latency µs per call** (vs direct) | — | **$ADD_SHIM** | **$ADD_PROXY** |
| wall ratio vs direct | 1 | $(ratio "$(med "${WALL[shim]}")" "$(med "${WALL[direct]}")") | $(ratio "$(med "${WALL[proxy]}")" "$(med "${WALL[direct]}")") |
| client CPU µs per call (user+sys, all threads) | $(us "$(med "${CPU[direct]}")") | $(us "$(med "${CPU[shim]}")") | $(us "$(med "${CPU[proxy]}")") |
| proxy process CPU µs per call | | | $PROXY_CPU |
| **extra CPU µs per call** | — | **$SHIM_CPU** (in the client: hooks + collector) | **$PROXY_CPU** (mitmdump)$(if [[ $CLIENT_PROXY_CPU == -* ]]; then echo "; client $CLIENT_PROXY_CPU"; else echo "; client +$CLIENT_PROXY_CPU"; fi) |
| bytes read by the client per call (TLS payload) | $(calc "${BYTES[direct]} / $CALLS" 0) | $(calc "${BYTES[shim]} / $CALLS" 0) | $(calc "${BYTES[proxy]} / $CALLS" 0) |
| client voluntary context switches per call | $(calc "$(med "${CSW[direct]}")" 1) | $(calc "$(med "${CSW[shim]}")" 1) | $(calc "$(med "${CSW[proxy]}")" 1) |
| max RSS KiB | client $(med "${RSS[direct]}") | client $(med "${RSS[shim]}") | client $(med "${RSS[proxy]}") + mitmdump ${PROXY_RSS:-?} |

Proxy CPU / shim extra CPU: **$(ratio "$PROXY_CPU" "$SHIM_CPU")**. The shim's added wall is a
difference of two medians that spread by about the same amount between runs (see min..max):
only the proxy's is far outside that spread. mitmdump's background CPU while idle (during the
direct and shim runs): $IDLE s per s. Store check: every shim run stored $CALLS records:
**$([[ $REC_OK == yes ]] && echo OK || echo MISMATCH)**.

$(if [[ " ${PROXY_ARGS[*]} " == *stream_large_bodies* ]]; then
    echo "With \`stream_large_bodies\` set, mitmproxy forwards the response as it arrives (compare"
    echo "the client's bytes and context switches with the direct run's)."
  else
    echo "By default mitmproxy reads a whole response before it forwards it (\`stream_large_bodies\`"
    echo "unset): the client got each streamed completion in one piece (fewer bytes and context"
    echo "switches above), so a streaming client's first token comes only when the response is"
    echo "complete; the shim does not change what the client receives. Rerun with"
    echo "BENCH_PROXY_ARGS=\"--set stream_large_bodies=1\" to let it stream."
  fi)

\`\`\`
$(raw direct)
$(raw shim)
$(raw proxy)
\`\`\`

Section time: $((SECONDS - T0)) s.
EOF
[[ $REC_OK == yes ]] || die "shim runs stored the wrong number of records"
