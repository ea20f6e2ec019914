#!/usr/bin/env bash
# bench/run.sh: the llmops benchmark (`make bench`). Measures, each time as a
# RATIO against a baseline taken in the same run, interleaved:
#   1. start-up cost of LD_PRELOAD=libllmops.so (/bin/true; python3 -c 'import ssl')
#   2. the LLM path: one C client making N streamed chat completions over one
#      keep-alive TLS connection to the e2e replay server, with/without the shim
#   3. passthrough: the same client downloading bulk non-LLM data over TLS
# Writes bench/results/<date>.md and bench/results/latest.md; see bench/README.md.
#
# Knobs (environment): BENCH_CALLS (200) BENCH_REPS (10) BENCH_STARTUP_RUNS (1000)
# BENCH_PY_RUNS (60) BENCH_BULK_MIB (256) BENCH_BULK_REPS (6)
# BENCH_VECTOR (openai_chat_stream_1) LLMOPS_BUILD (build tree, default ./build)
# BENCH_KEEP=1 keeps the temp dir. Loopback only; no network access.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${LLMOPS_BUILD:-$SRC/build}
CALLS=${BENCH_CALLS:-200}
REPS=${BENCH_REPS:-10}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-1000}
PY_RUNS=${BENCH_PY_RUNS:-60}
BULK_MIB=${BENCH_BULK_MIB:-256}
BULK_REPS=${BENCH_BULK_REPS:-6}
VECTOR=${BENCH_VECTOR:-openai_chat_stream_1}
PY=/usr/bin/python3 # Debian's interpreter: the e2e server and the python start-up figure
SHIM=$BUILD/libllmops.so
CLI=$BUILD/llmops
CC=${CC:-cc}

unset LD_PRELOAD LLMOPS_DB LLMOPS_DISABLE LLMOPS_LOG LLMOPS_HOSTS http_proxy https_proxy \
  HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy || true

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
  printf '[bench] ERROR: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------- setup
if [[ ! -f $SHIM || ! -f $BUILD/libllmops-core.so || ! -x $CLI ]]; then
  log "building llmops in $BUILD"
  cmake -S "$SRC" -B "$BUILD" >/dev/null && cmake --build "$BUILD" -j"$(nproc)" >/dev/null ||
    die "build failed"
fi
[[ -x $PY ]] || die "$PY is needed (replay server)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/llmops-bench.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "compiling the bench programs"
CFLAGS=(-std=c11 -O2 -Wall -Wextra -Wshadow -Wmissing-prototypes -D_GNU_SOURCE)
for b in bench_client bench_bulk_server; do
  "$CC" "${CFLAGS[@]}" -o "$TMP/$b" "$SRC/bench/$b.c" -lssl -lcrypto ||
    die "cannot compile $b (libssl-dev installed?)"
done
"$CC" "${CFLAGS[@]}" -o "$TMP/bench_spawn" "$SRC/bench/bench_spawn.c" -lm || die "bench_spawn"
"$CC" "${CFLAGS[@]}" -shared -fPIC -o "$TMP/empty_preload.so" "$SRC/bench/empty_preload.c" ||
  die "empty_preload"

bash "$SRC/tests/e2e/mkcert.sh" "$TMP/certs" || die "mkcert.sh failed"
CA=$TMP/certs/ca.pem

"$PY" -c 'import json, sys; sys.stdout.write(json.load(open(sys.argv[1]))["request_body"])' \
  "$SRC/tests/corpus/$VECTOR.json" >"$TMP/body.json" || die "no vector $VECTOR"
VECTOR_PATH=$("$PY" -c 'import json, sys, urllib.parse as u
p = u.urlsplit(json.load(open(sys.argv[1]))["url"]); print(p.path + ("?" + p.query if p.query else ""))' \
  "$SRC/tests/corpus/$VECTOR.json")
VECTOR_HOST=$("$PY" -c 'import json, sys, urllib.parse as u
print(u.urlsplit(json.load(open(sys.argv[1]))["url"]).hostname)' "$SRC/tests/corpus/$VECTOR.json")

wait_port() { # FILE PID
  local i
  for ((i = 0; i < 200; i++)); do
    [[ -s $1 ]] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

"$PY" "$SRC/tests/e2e/llm_server.py" --corpus "$SRC/tests/corpus" --host 127.0.0.1 --port 0 \
  --port-file "$TMP/llm.port" --cert "$TMP/certs/server.pem" --key "$TMP/certs/server.key" \
  2>"$TMP/llm_server.err" &
PIDS+=($!)
wait_port "$TMP/llm.port" "${PIDS[-1]}" || { cat "$TMP/llm_server.err" >&2; die "replay server"; }
LLM_PORT=$(<"$TMP/llm.port")

"$TMP/bench_bulk_server" --cert "$TMP/certs/server.pem" --key "$TMP/certs/server.key" \
  --port-file "$TMP/bulk.port" 2>"$TMP/bulk_server.err" &
PIDS+=($!)
wait_port "$TMP/bulk.port" "${PIDS[-1]}" || { cat "$TMP/bulk_server.err" >&2; die "bulk server"; }
BULK_PORT=$(<"$TMP/bulk.port")

# ---------------------------------------------------------------- helpers
# field KEY "k=v k=v ...": the value of KEY
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
# stats: numbers on stdin -> "mean median min max"
stats() {
  sort -g | awk '{v[NR] = $1; s += $1} END {
    if (!NR) { print "nan nan nan nan"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.6g %.6g %.6g %.6g\n", s / NR, m, v[1], v[NR] }'
}
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }
col() { awk -v i="$1" '{ print $i }' <<<"$2"; }

# ---------------------------------------------------------------- 1. start-up
log "1. start-up: /bin/true x$STARTUP_RUNS each, python3 -c 'import ssl' x$PY_RUNS each"
export LLMOPS_DB=$TMP/startup-db # never written: no LLM call happens
ST_TRUE=$("$TMP/bench_spawn" --runs "$STARTUP_RUNS" --warmup 20 --preload "$SHIM" -- /bin/true)
ST_EMPTY=$("$TMP/bench_spawn" --runs "$STARTUP_RUNS" --warmup 20 \
  --preload "$TMP/empty_preload.so" -- /bin/true)
ST_PY=$("$TMP/bench_spawn" --runs "$PY_RUNS" --warmup 3 --preload "$SHIM" -- \
  "$PY" -c 'import ssl')
unset LLMOPS_DB
[[ ! -e $TMP/startup-db ]] || log "WARNING: the start-up runs created a store"

startup_row() { # NAME OUTPUT
  local p s
  p=$(grep '^plain' <<<"$2")
  s=$(grep '^shim' <<<"$2")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" \
    "$(calc "$(field wall_mean_us "$p")" 1)" "$(calc "$(field wall_mean_us "$s")" 1)" \
    "$(ratio "$(field wall_mean_us "$s")" "$(field wall_mean_us "$p")")" \
    "$(ratio "$(field wall_median_us "$s")" "$(field wall_median_us "$p")")" \
    "$(calc "$(field cpu_mean_us "$p")" 1)" "$(calc "$(field cpu_mean_us "$s")" 1)" \
    "$(field maxrss_kb "$p") / $(field maxrss_kb "$s")"
}

# ---------------------------------------------------------------- 2. LLM path
# One run: llm_run plain|shim -> the client's "exit" line (after the shim's
# exit flush), plus "main_cpu_s=" from its end-of-main line.
# count_records DB: records in the store (the CLI, else mdb_stat's "ops" table)
count_records() {
  local n
  if n=$("$CLI" export --db "$1" --format ndjson 2>/dev/null | wc -l) && ((n > 0)); then
    echo "$n"
  elif command -v mdb_stat >/dev/null; then
    mdb_stat -s ops "$1" 2>/dev/null | sed -n 's/^ *Entries: //p' | head -1
  else
    echo "${n:-0}"
  fi
}
# (runs in a command substitution: record counts go to a file)
llm_run() {
  local mode=$1 db=$TMP/db-$RANDOM$RANDOM out
  local args=(--port "$LLM_PORT" --ca "$CA" --host "$VECTOR_HOST" --path "$VECTOR_PATH"
    --calls "$CALLS" --body "$TMP/body.json" --vector "$VECTOR")
  if [[ $mode == shim ]]; then
    out=$(LD_PRELOAD=$SHIM LLMOPS_DB=$db "$TMP/bench_client" "${args[@]}") || die "client (shim)"
    local n
    n=$(count_records "$db")
    echo "$n" >>"$TMP/records"
    rm -rf "$db"
  else
    out=$("$TMP/bench_client" "${args[@]}") || die "client (plain)"
  fi
  echo "$(grep '^exit' <<<"$out") main_cpu_s=$(field cpu_s "$(grep '^main' <<<"$out")")"
}

log "2. LLM path: $REPS x 2 runs of $CALLS streamed calls ($VECTOR)"
llm_run plain >/dev/null # warm-up: server, page cache
llm_run shim >/dev/null
: >"$TMP/records"
LLM_PLAIN=()
LLM_SHIM=()
for ((r = 0; r < REPS; r++)); do
  if ((r % 2 == 0)); then
    LLM_PLAIN+=("$(llm_run plain)")
    LLM_SHIM+=("$(llm_run shim)")
  else
    LLM_SHIM+=("$(llm_run shim)")
    LLM_PLAIN+=("$(llm_run plain)")
  fi
done

col_of() { # KEY LINES... -> stats of KEY over LINES
  local k=$1 l
  shift
  for l in "$@"; do field "$k" "$l"; done | stats
}
LP_CPU=$(col_of cpu_s "${LLM_PLAIN[@]}")
LS_CPU=$(col_of cpu_s "${LLM_SHIM[@]}")
LP_MCPU=$(col_of main_cpu_s "${LLM_PLAIN[@]}")
LS_MCPU=$(col_of main_cpu_s "${LLM_SHIM[@]}")
LP_USER=$(col_of user_s "${LLM_PLAIN[@]}")
LS_USER=$(col_of user_s "${LLM_SHIM[@]}")
LP_SYS=$(col_of sys_s "${LLM_PLAIN[@]}")
LS_SYS=$(col_of sys_s "${LLM_SHIM[@]}")
LP_WALL=$(col_of wall_s "${LLM_PLAIN[@]}")
LS_WALL=$(col_of wall_s "${LLM_SHIM[@]}")
LP_RSS=$(col_of maxrss_kb "${LLM_PLAIN[@]}")
LP_CSW=$(col_of vcsw "${LLM_PLAIN[@]}")
LS_CSW=$(col_of vcsw "${LLM_SHIM[@]}")
LP_THR=$(col_of main_thread_cpu_s "${LLM_PLAIN[@]}")
LS_THR=$(col_of main_thread_cpu_s "${LLM_SHIM[@]}")
other_threads() { # LINES... -> stats of cpu_s - main_thread_cpu_s
  local l
  for l in "$@"; do calc "$(field cpu_s "$l") - $(field main_thread_cpu_s "$l")" 6; echo; done | stats
}
LP_OTH=$(other_threads "${LLM_PLAIN[@]}")
LS_OTH=$(other_threads "${LLM_SHIM[@]}")
LS_RSS=$(col_of maxrss_kb "${LLM_SHIM[@]}")
BYTES_PER_CALL=$(calc "$(field bytes_in "${LLM_PLAIN[0]}") / $CALLS" 0)
mapfile -t N_RECORDS <"$TMP/records"
REC_OK=yes
((${#N_RECORDS[@]} == REPS)) || REC_OK=no
for n in "${N_RECORDS[@]}"; do [[ $n == "$CALLS" ]] || REC_OK=no; done
PER_CALL_US=$(calc "($(col 2 "$LS_CPU") - $(col 2 "$LP_CPU")) * 1e6 / $CALLS" 1)
PER_CALL_MAIN_US=$(calc "($(col 2 "$LS_MCPU") - $(col 2 "$LP_MCPU")) * 1e6 / $CALLS" 1)
PER_CALL_APP_US=$(calc "($(col 2 "$LS_THR") - $(col 2 "$LP_THR")) * 1e6 / $CALLS" 1)
PER_CALL_COLL_US=$(calc "($(col 2 "$LS_OTH") - $(col 2 "$LP_OTH")) * 1e6 / $CALLS" 1)

# ---------------------------------------------------------------- 3. bulk
BULK_BYTES=$((BULK_MIB * 1024 * 1024))
bulk_run() {
  local out
  if [[ $1 == shim ]]; then
    out=$(LD_PRELOAD=$SHIM LLMOPS_DB=$TMP/bulk-db "$TMP/bench_client" --port "$BULK_PORT" \
      --ca "$CA" --host localhost --bulk "$BULK_BYTES") || die "bulk client (shim)"
  else
    out=$("$TMP/bench_client" --port "$BULK_PORT" --ca "$CA" --host localhost \
      --bulk "$BULK_BYTES") || die "bulk client (plain)"
  fi
  local l
  l=$(grep '^exit' <<<"$out")
  echo "$l mibps=$(calc "$BULK_MIB / $(field wall_s "$l")" 1)"
}
log "3. passthrough: $BULK_REPS x 2 downloads of $BULK_MIB MiB (non-LLM GET over TLS)"
bulk_run plain >/dev/null
bulk_run shim >/dev/null
BULK_PLAIN=()
BULK_SHIM=()
for ((r = 0; r < BULK_REPS; r++)); do
  if ((r % 2 == 0)); then
    BULK_PLAIN+=("$(bulk_run plain)")
    BULK_SHIM+=("$(bulk_run shim)")
  else
    BULK_SHIM+=("$(bulk_run shim)")
    BULK_PLAIN+=("$(bulk_run plain)")
  fi
done
[[ ! -e $TMP/bulk-db ]] || log "WARNING: the bulk download created a store (it is not an LLM call)"
BP_TP=$(col_of mibps "${BULK_PLAIN[@]}")
BS_TP=$(col_of mibps "${BULK_SHIM[@]}")
BP_CPU=$(col_of cpu_s "${BULK_PLAIN[@]}")
BS_CPU=$(col_of cpu_s "${BULK_SHIM[@]}")
# TLS records of <= 16 KiB: about one SSL_read_ex hook per 16 KiB
BULK_READS=$((BULK_BYTES / 16384))
PER_READ_NS=$(calc "($(col 2 "$BS_CPU") - $(col 2 "$BP_CPU")) * 1e9 / $BULK_READS" 0)

# ---------------------------------------------------------------- report
STAMP=$(date +%Y-%m-%d_%H%M%S)
COMMIT=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$SRC" status --porcelain 2>/dev/null | grep -qv '^??' && echo " (+ uncommitted changes)" || true)
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
us() { calc "$1 * 1e6" 0; }
ms() { calc "$1 * 1e3" 1; }

REPORT=$(
  cat <<EOF
# llmops benchmark — $STAMP

Machine: $(nproc) CPUs, $CPU_MODEL, Linux $(uname -r), $(openssl version 2>/dev/null || echo "OpenSSL ?").
Tree: $COMMIT$DIRTY. Ratios are shim / plain, measured interleaved in this run.

## 1. Start-up (no LLM call; ABBA-interleaved spawns, wall = posix_spawn..wait4)

| program | plain wall µs | shim wall µs | wall ratio (mean) | wall ratio (median) | plain CPU µs | shim CPU µs | max RSS KiB plain / shim |
|---|---|---|---|---|---|---|---|
$(startup_row "/bin/true ×$STARTUP_RUNS" "$ST_TRUE")
$(startup_row "reference: /bin/true, LD_PRELOAD of an empty .so ×$STARTUP_RUNS" "$ST_EMPTY")
$(startup_row "python3 -c 'import ssl' ×$PY_RUNS" "$ST_PY")

## 2. LLM path ($CALLS streamed chat completions, one keep-alive TLS connection, $REPS runs each)

Vector \`$VECTOR\` (~$BYTES_PER_CALL bytes/call on the wire incl. TLS framing, read by the
client). CPU = getrusage(RUSAGE_SELF) user+sys of the client process, which includes the
collector thread; taken after the shim's exit flush. Medians (mean in brackets).

| | plain | shim | ratio |
|---|---|---|---|
| client CPU ms (user+sys) | $(ms "$(col 2 "$LP_CPU")") ($(ms "$(col 1 "$LP_CPU")")) | $(ms "$(col 2 "$LS_CPU")") ($(ms "$(col 1 "$LS_CPU")")) | **$(ratio "$(col 2 "$LS_CPU")" "$(col 2 "$LP_CPU")")** |
| ... of which user ms | $(ms "$(col 2 "$LP_USER")") | $(ms "$(col 2 "$LS_USER")") | $(ratio "$(col 2 "$LS_USER")" "$(col 2 "$LP_USER")") |
| ... of which sys ms | $(ms "$(col 2 "$LP_SYS")") | $(ms "$(col 2 "$LS_SYS")") | $(ratio "$(col 2 "$LS_SYS")" "$(col 2 "$LP_SYS")") |
| ... main thread only (app side: TLS, hooks, tap) ms | $(ms "$(col 2 "$LP_THR")") | $(ms "$(col 2 "$LS_THR")") | $(ratio "$(col 2 "$LS_THR")" "$(col 2 "$LP_THR")") |
| ... other threads (the collector) ms | $(ms "$(col 2 "$LP_OTH")") | $(ms "$(col 2 "$LS_OTH")") | |
| client CPU ms at end of main (before exit flush) | $(ms "$(col 2 "$LP_MCPU")") | $(ms "$(col 2 "$LS_MCPU")") | $(ratio "$(col 2 "$LS_MCPU")" "$(col 2 "$LP_MCPU")") |
| wall ms (client start..exit) | $(ms "$(col 2 "$LP_WALL")") ($(ms "$(col 1 "$LP_WALL")")) | $(ms "$(col 2 "$LS_WALL")") ($(ms "$(col 1 "$LS_WALL")")) | **$(ratio "$(col 2 "$LS_WALL")" "$(col 2 "$LP_WALL")")** |
| wall ms, fastest run | $(ms "$(col 3 "$LP_WALL")") | $(ms "$(col 3 "$LS_WALL")") | $(ratio "$(col 3 "$LS_WALL")" "$(col 3 "$LP_WALL")") |
| voluntary context switches per call | $(calc "$(col 2 "$LP_CSW") / $CALLS" 1) | $(calc "$(col 2 "$LS_CSW") / $CALLS" 1) | |
| max RSS KiB | $(col 4 "$LP_RSS") | $(col 4 "$LS_RSS") | $(ratio "$(col 4 "$LS_RSS")" "$(col 4 "$LP_RSS")") |

Shim CPU per call: **$PER_CALL_US µs** ((median CPU shim − plain) / $CALLS; $PER_CALL_MAIN_US µs
counting only up to the end of main, i.e. without the work left for the exit flush).
Split: app thread (hooks + tap + queue push) $PER_CALL_APP_US µs/call, collector thread
$PER_CALL_COLL_US µs/call (each a difference of medians, so they need not add up exactly).

Store check: records per shim run = ${N_RECORDS[*]} (expected $CALLS each): **$([[ $REC_OK == yes ]] && echo OK || echo MISMATCH)**.

## 3. Passthrough: non-LLM bulk download ($BULK_MIB MiB GET over TLS, $BULK_REPS runs each)

| | plain | shim | ratio |
|---|---|---|---|
| throughput MiB/s (median) | $(calc "$(col 2 "$BP_TP")" 1) | $(calc "$(col 2 "$BS_TP")" 1) | **$(ratio "$(col 2 "$BS_TP")" "$(col 2 "$BP_TP")")** |
| throughput MiB/s (min..max) | $(calc "$(col 3 "$BP_TP")" 0)..$(calc "$(col 4 "$BP_TP")" 0) | $(calc "$(col 3 "$BS_TP")" 0)..$(calc "$(col 4 "$BS_TP")" 0) | |
| client CPU ms (median) | $(ms "$(col 2 "$BP_CPU")") | $(ms "$(col 2 "$BS_CPU")") | $(ratio "$(col 2 "$BS_CPU")" "$(col 2 "$BP_CPU")") |

Extra client CPU per 16 KiB TLS record (≈ one hooked SSL_read_ex): $PER_READ_NS ns (noisy:
a difference of two ~$(ms "$(col 2 "$BP_CPU")") ms figures). The server runs on the other
core, so throughput is bounded by the slower of client and server.

## Raw client lines

\`\`\`
$(for l in "${LLM_PLAIN[@]}"; do echo "llm plain  $l"; done)
$(for l in "${LLM_SHIM[@]}"; do echo "llm shim   $l"; done)
$(for l in "${BULK_PLAIN[@]}"; do echo "bulk plain $l"; done)
$(for l in "${BULK_SHIM[@]}"; do echo "bulk shim  $l"; done)
start-up /bin/true:
$ST_TRUE
start-up /bin/true, empty preload (reported as "shim"):
$ST_EMPTY
start-up python3 -c 'import ssl':
$ST_PY
\`\`\`
EOF
)

mkdir -p "$SRC/bench/results"
printf '%s\n' "$REPORT" >"$SRC/bench/results/$STAMP.md"
cp "$SRC/bench/results/$STAMP.md" "$SRC/bench/results/latest.md"
printf '%s\n' "$REPORT"
log "written bench/results/$STAMP.md and bench/results/latest.md"
[[ $REC_OK == yes ]] || die "store record count mismatch: ${N_RECORDS[*]} (expected $CALLS)"
