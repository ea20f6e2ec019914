#!/usr/bin/env bash
# bench/run.sh: the llmops benchmark (`make bench`). Measures, each time as a
# RATIO against a baseline taken in the same run, interleaved:
#   1. start-up cost of LD_PRELOAD=libllmops.so (/bin/true; python3 -c 'import ssl')
#   2. the LLM path: one C client making N streamed chat completions over one
#      keep-alive TLS connection to the e2e replay server, with/without the shim
#   3. passthrough: the same client downloading bulk non-LLM data over TLS
#   4. instructions per hooked call on non-LLM traffic (valgrind --tool=callgrind):
#      no preload vs an empty forwarding interposer vs libllmops.so, and the LLM
#      path's instructions per call and per SSE event
#   5. writer throughput: llm_store_put vs raw batched mdb_put, 1 and 4 processes
#   6. export of 1M records to NDJSON / SQLite vs cat / sqlite3 .import (bench_export.sh)
#   6b. export of the same records to Parquet vs NDJSON: time, size, peak memory (bench_parquet.sh)
#   7. the shim vs a logging reverse proxy, mitmproxy (bench_proxy.sh)
#   8. node: start-up with the inline hooks, patch time, HTTPS bulk (bench_node.sh)
#   9. the dashboard on 1M records: report and each serve endpoint (bench_dash.sh)
# Writes bench/results/<date>.md and bench/results/latest.md; see bench/README.md.
#
# usage: bash bench/run.sh [BUILD_DIR]   (default $LLMOPS_BUILD, else ./build)
# Knobs (environment): BENCH_CALLS (200) BENCH_REPS (10) BENCH_STARTUP_RUNS (1000)
# BENCH_PY_RUNS (60) BENCH_BULK_MIB (1024) BENCH_BULK_REPS (6)
# BENCH_VECTOR (openai_chat_stream_1) BENCH_CG_N (20000) BENCH_CG_TLS_N (5000)
# BENCH_CG_LLM_CALLS (20) BENCH_CG=0 (skip 4) BENCH_STORE_RECORDS (50 per phase, batch 1;
# x10 without sync)
# BENCH_STORE_BATCH_RECORDS (1920, batches > 1) BENCH_STORE_BATCHES ("1 64")
# BENCH_STORE_PROCS ("1 4") BENCH_STORE_ROUNDS (10) BENCH_STORE_SYNC ("sync nosync")
# BENCH_STORE=0 (skip 5) BENCH_KEEP=1 (keep the temp dir). BENCH_EXPORT=0 (skip 6),
# BENCH_PARQUET=0 (skip 6b), BENCH_PROXY=0 (skip 7), BENCH_NODE=0 (skip 8), BENCH_DASH=0 (skip 9);
# their own knobs are in the scripts (bench_export.sh, bench_parquet.sh, bench_proxy.sh,
# bench_node.sh, bench_dash.sh).
# Loopback only; no network access.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-${LLMOPS_BUILD:-$SRC/build}}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
CALLS=${BENCH_CALLS:-200}
REPS=${BENCH_REPS:-10}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-1000}
PY_RUNS=${BENCH_PY_RUNS:-60}
BULK_MIB=${BENCH_BULK_MIB:-1024}
BULK_REPS=${BENCH_BULK_REPS:-6}
VECTOR=${BENCH_VECTOR:-openai_chat_stream_1}
CG=${BENCH_CG:-1}
CG_N=${BENCH_CG_N:-20000}
CG_TLS_N=${BENCH_CG_TLS_N:-5000}
CG_LLM_CALLS=${BENCH_CG_LLM_CALLS:-20}
STORE=${BENCH_STORE:-1}
STORE_RECORDS=${BENCH_STORE_RECORDS:-50}
STORE_BATCH_RECORDS=${BENCH_STORE_BATCH_RECORDS:-1920}
STORE_BATCHES=${BENCH_STORE_BATCHES:-1 64}
STORE_PROCS=${BENCH_STORE_PROCS:-1 4}
STORE_ROUNDS=${BENCH_STORE_ROUNDS:-10}
STORE_SYNC=${BENCH_STORE_SYNC:-sync nosync}
T_BEGIN=$SECONDS
PY=/usr/bin/python3 # Debian's interpreter: the e2e server and the python start-up figure
SHIM=$BUILD/libllmops.so
CLI=$BUILD/llmops
CC=${CC:-cc}

unset LD_PRELOAD LLMOPS_DB LLMOPS_DISABLE LLMOPS_LOG LLMOPS_HOSTS http_proxy https_proxy \
  HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy || true

# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"

# ---------------------------------------------------------------- setup
if [[ ! -f $SHIM || ! -f $BUILD/libllmops-core.so || ! -x $CLI ]]; then
  log "building llmops in $BUILD"
  cmake -S "$SRC" -B "$BUILD" >/dev/null && cmake --build "$BUILD" -j"$(nproc)" >/dev/null ||
    log "WARNING: the build failed"
  [[ -f $SHIM && -f $BUILD/libllmops-core.so ]] || die "no libllmops.so / libllmops-core.so"
  [[ -x $CLI ]] || log "WARNING: no $CLI: records are counted with mdb_stat"
fi
[[ -x $PY ]] || die "$PY is needed (replay server)"

bench_tmp llmops-bench

log "compiling the bench programs"
CFLAGS=(-std=c11 -O2 -Wall -Wextra -Wshadow -Wmissing-prototypes -D_GNU_SOURCE)
for b in bench_client bench_bulk_server bench_echo_server bench_io; do
  "$CC" "${CFLAGS[@]}" -o "$TMP/$b" "$SRC/bench/$b.c" -lssl -lcrypto -lpthread ||
    die "cannot compile $b (libssl-dev installed?)"
done
"$CC" "${CFLAGS[@]}" -o "$TMP/bench_spawn" "$SRC/bench/bench_spawn.c" -lm || die "bench_spawn"
"$CC" "${CFLAGS[@]}" -shared -fPIC -o "$TMP/empty_preload.so" "$SRC/bench/empty_preload.c" ||
  die "empty_preload"
"$CC" "${CFLAGS[@]}" -shared -fPIC -o "$TMP/forward_preload.so" "$SRC/bench/forward_preload.c" \
  -ldl || die "forward_preload"
# bench_store links the collector's store and record code: built in the tree
STORE_BIN=
if ((STORE)); then
  if cmake --build "$BUILD" --target bench_store >"$TMP/bench_store.build" 2>&1 &&
    [[ -x $BUILD/bench_store ]]; then
    STORE_BIN=$BUILD/bench_store
  else
    log "WARNING: cannot build bench_store in $BUILD (figure 5 skipped):"
    tail -5 "$TMP/bench_store.build" >&2
  fi
fi
HAVE_CG=0
if ((CG)); then
  if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
    HAVE_CG=1
  else
    log "WARNING: valgrind not installed (apt-get install valgrind): figure 4 skipped"
  fi
fi

bash "$SRC/tests/e2e/mkcert.sh" "$TMP/certs" || die "mkcert.sh failed"
CA=$TMP/certs/ca.pem

"$PY" -c 'import json, sys; sys.stdout.write(json.load(open(sys.argv[1]))["request_body"])' \
  "$SRC/tests/corpus/$VECTOR.json" >"$TMP/body.json" || die "no vector $VECTOR"
read -r VECTOR_HOST VECTOR_PATH < <(vector_target "$VECTOR")

start_replay

"$TMP/bench_bulk_server" --cert "$TMP/certs/server.pem" --key "$TMP/certs/server.key" \
  --port-file "$TMP/bulk.port" 2>"$TMP/bulk_server.err" &
PIDS+=($!)
wait_port "$TMP/bulk.port" "${PIDS[-1]}" || { cat "$TMP/bulk_server.err" >&2; die "bulk server"; }
BULK_PORT=$(<"$TMP/bulk.port")

"$TMP/bench_echo_server" --cert "$TMP/certs/server.pem" --key "$TMP/certs/server.key" \
  --port-file "$TMP/echo.port" 2>"$TMP/echo_server.err" &
PIDS+=($!)
wait_port "$TMP/echo.port" "${PIDS[-1]}" || { cat "$TMP/echo_server.err" >&2; die "echo server"; }
read -r ECHO_TCP_PORT ECHO_TLS_PORT <"$TMP/echo.port"
EVENTS_PER_CALL=$("$PY" -c 'import json, sys
b = json.load(open(sys.argv[1]))["response_body"]
print(sum(1 for l in b.splitlines() if l.startswith("data:")))' "$SRC/tests/corpus/$VECTOR.json")
((EVENTS_PER_CALL > 0)) || EVENTS_PER_CALL=1

# ---------------------------------------------------------------- 1. start-up
T_START0=$SECONDS
log "1. start-up: /bin/true x$STARTUP_RUNS each, python3 -c 'import ssl' x$PY_RUNS each"
export LLMOPS_DB=$TMP/startup-db # never written: no LLM call happens
ST_TRUE=$("$TMP/bench_spawn" --runs "$STARTUP_RUNS" --warmup 20 --preload "$SHIM" -- /bin/true)
ST_EMPTY=$("$TMP/bench_spawn" --runs "$STARTUP_RUNS" --warmup 20 \
  --preload "$TMP/empty_preload.so" -- /bin/true)
ST_PY=$("$TMP/bench_spawn" --runs "$PY_RUNS" --warmup 3 --preload "$SHIM" -- \
  "$PY" -c 'import ssl')
# goal 1: the shim against its floor, any LD_PRELOAD (an empty .so), paired
ST_VS_EMPTY=$("$TMP/bench_spawn" --runs "$STARTUP_RUNS" --warmup 20 \
  --base "$TMP/empty_preload.so" --preload "$SHIM" -- /bin/true)
# ... and in instructions, start to exit (callgrind; exact from run to run)
IDLE_IR=()
if ((HAVE_CG)); then
  mkdir -p "$TMP/cg"
  for m in none empty shim; do
    pre=()
    [[ $m == empty ]] && pre=(env LD_PRELOAD="$TMP/empty_preload.so")
    [[ $m == shim ]] && pre=(env LD_PRELOAD="$SHIM")
    "${pre[@]}" valgrind --tool=callgrind --callgrind-out-file="$TMP/cg/idle-$m" /bin/true \
      2>"$TMP/cg/idle-$m.log" || { cat "$TMP/cg/idle-$m.log" >&2; die "callgrind /bin/true"; }
    IDLE_IR+=("$(awk '/^(summary|totals):/ { print $2; exit }' "$TMP/cg/idle-$m")")
  done
fi
unset LLMOPS_DB
[[ ! -e $TMP/startup-db ]] || log "WARNING: the start-up runs created a store"
T_START=$((SECONDS - T_START0))

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

T_LLM0=$SECONDS
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
PER_EVENT_US=$(calc "$PER_CALL_US / $EVENTS_PER_CALL" 2)
PER_EVENT_COLL_US=$(calc "$PER_CALL_COLL_US / $EVENTS_PER_CALL" 2)
T_LLM=$((SECONDS - T_LLM0))

# ---------------------------------------------------------------- 3. bulk
T_BULK0=$SECONDS
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
T_BULK=$((SECONDS - T_BULK0))

# ---------------------------------------------------------------- 4. instructions
# Callgrind counts user-space instructions, so these figures repeat exactly
# from run to run (the kernel's share of a syscall is not in them). Every
# figure is (Ir of a run with N rounds - Ir of a run with 0 rounds) / calls:
# start-up, the TLS handshake and the first-call symbol lookups cancel out
# (bench_io does one warm-up round in both).
# cg_total FILE: the Ir total of a callgrind out file
cg_total() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }
# cg_prof FILE: "Ir<TAB>function (object)" for every function (self cost)
cg_prof() {
  callgrind_annotate --threshold=100 --show-percs=no --auto=no "$1" 2>/dev/null | awk '
    f && /^ *[0-9][0-9,]* / {
      n = $1; gsub(/,/, "", n); $1 = ""; sub(/^ +/, "")
      obj = ""
      if (match($0, / \[[^]]*\]$/)) {
        obj = substr($0, RSTART + 2, RLENGTH - 3)
        $0 = substr($0, 1, RSTART - 1)
      }
      sub(/.*\//, "", obj); fn = $0; sub(/^.*:/, "", fn)
      if (obj == "") obj = "inlined, object not named"
      if (fn ~ /^0x/) fn = "?"
      printf "%s\t%s (%s)\n", n, fn, obj
    }
    /file:function/ { f = 1 }'
}
# cg_delta CALLS MIN A0 AN [B0 BN]: per function ((AN - A0) - (BN - B0)) / CALLS,
# those of at least MIN in size, largest first
cg_delta() {
  local calls=$1 min=$2
  shift 2
  awk -F'\t' -v calls="$calls" -v min="$min" '
    FNR == 1 { i++ }
    { a[$2] += (i == 2 || i == 3 ? 1 : -1) * $1 }
    END {
      for (k in a) { v = a[k] / calls; if (v >= min || v <= -min) printf "%.1f\t%s\n", v, k }
    }' \
    "$@" | sort -t$'\t' -k1,1gr
}
# cg_io VARIANT WORKLOAD N -> "ir=... calls=..." (callgrind file kept as $TMP/cg/W-V-N)
cg_io() {
  local v=$1 w=$2 n=$3 out=$TMP/cg/$2-$1-$3 pre=() args
  case $w in
  tcp) args=(tcp --port "$ECHO_TCP_PORT") ;;
  tls) args=(tls --port "$ECHO_TLS_PORT" --ca "$CA") ;;
  file) args=(file --file "$TMP/cg/file.dat") ;;
  file_conn) args=(file --file "$TMP/cg/file.dat" --connect "$ECHO_TCP_PORT") ;;
  esac
  case $v in
  fwd) pre=(env LD_PRELOAD="$TMP/forward_preload.so") ;;
  shim) pre=(env LD_PRELOAD="$SHIM" LLMOPS_DB="$TMP/cg-db") ;;
  esac
  local line
  line=$("${pre[@]}" valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$TMP/bench_io" "${args[@]}" --n "$n" 2>"$out.log") ||
    { cat "$out.log" >&2; die "bench_io $w ($v)"; }
  [[ $v == fwd ]] || cg_prof "$out" >"$out.prof"
  echo "ir=$(cg_total "$out") calls=$(field calls "$line")"
}
CG_ROWS=""
CG_FUNCS=""
CG_LLM=""
T_CG0=$SECONDS
if ((HAVE_CG)); then
  mkdir -p "$TMP/cg"
  log "4. instructions per hooked call (callgrind): tcp/file x$CG_N, tls x$CG_TLS_N," \
    "LLM x$CG_LLM_CALLS"
  for w in tcp tls file file_conn; do
    n=$CG_N
    [[ $w == tls ]] && n=$CG_TLS_N
    declare -A IR=() NC=()
    for v in plain fwd shim; do
      a=$(cg_io "$v" "$w" 0)
      b=$(cg_io "$v" "$w" "$n")
      IR[$v]=$(($(field ir "$b") - $(field ir "$a")))
      NC[$v]=$(($(field calls "$b") - $(field calls "$a")))
    done
    [[ ${NC[plain]} == "${NC[fwd]}" && ${NC[plain]} == "${NC[shim]}" ]] ||
      log "WARNING: $w: hooked call counts differ (${NC[plain]} ${NC[fwd]} ${NC[shim]})"
    c=${NC[plain]}
    case $w in
    tcp) what="write()+read(), 64 B, loopback TCP (connect()ed fd, classified other)" ;;
    tls) what="SSL_write()+SSL_read(), 64 B, TLS (SNI localhost, classified other)" ;;
    file) what="write()+lseek()+read(), 64 B, regular file, no connect() (fd table unmapped)" ;;
    file_conn) what="the same, after one connect() (fd table mapped)" ;;
    esac
    CG_ROWS+="| $what | $n | $(calc "$c / $n" 1) | $(calc "${IR[plain]} / $n" 1)"
    CG_ROWS+=" | $(calc "(${IR[fwd]} - ${IR[plain]}) / $c" 1)"
    CG_ROWS+=" | **$(calc "(${IR[shim]} - ${IR[plain]}) / $c" 1)**"
    CG_ROWS+=" | **$(calc "(${IR[shim]} - ${IR[fwd]}) / $c" 1)** |"$'\n'
    CG_FUNCS+="$w ($c hooked calls; instructions per call, shim minus no preload):"$'\n'
    CG_FUNCS+=$(cg_delta "$c" 0.5 "$TMP/cg/$w-shim-0.prof" "$TMP/cg/$w-shim-$n.prof" \
      "$TMP/cg/$w-plain-0.prof" "$TMP/cg/$w-plain-$n.prof" | head -12 |
      awk -F'\t' '{ printf "  %8s  %s\n", $1, $2 }')$'\n'
    unset IR NC
  done
  [[ ! -e $TMP/cg-db ]] || log "WARNING: the non-LLM callgrind runs created a store"

  # The LLM path under callgrind: 1 call vs 1 + CG_LLM_CALLS calls, threads apart
  # (01 = main, 02 = the collector). The flush timeout is long: valgrind is slow.
  cg_llm() { # plain|shim CALLS -> callgrind files $TMP/cg/llm-MODE-CALLS-0[12]
    local out=$TMP/cg/llm-$1-$2 pre=()
    [[ $1 == shim ]] && pre=(env LD_PRELOAD="$SHIM" LLMOPS_DB="$TMP/cg-llm-db-$2"
      LLMOPS_FLUSH_TIMEOUT_MS=300000)
    "${pre[@]}" valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" \
      "$TMP/bench_client" --port "$LLM_PORT" --ca "$CA" --host "$VECTOR_HOST" \
      --path "$VECTOR_PATH" --calls "$2" --body "$TMP/body.json" --vector "$VECTOR" \
      >/dev/null 2>"$out.log" || { cat "$out.log" >&2; die "bench_client under callgrind ($1)"; }
  }
  K=$CG_LLM_CALLS
  for m in plain shim; do
    cg_llm "$m" 1
    cg_llm "$m" $((K + 1))
  done
  n1=$(count_records "$TMP/cg-llm-db-1")
  nk=$(count_records "$TMP/cg-llm-db-$((K + 1))")
  [[ $n1 == 1 && $nk == $((K + 1)) ]] || die "callgrind LLM runs stored $n1 and $nk records"
  ir() { cg_total "$TMP/cg/llm-$1"; }
  LLM_APP_PLAIN=$((($(ir plain-$((K + 1))-01) - $(ir plain-1-01)) / K))
  LLM_APP_SHIM=$((($(ir shim-$((K + 1))-01) - $(ir shim-1-01)) / K))
  LLM_COLL=$((($(ir shim-$((K + 1))-02) - $(ir shim-1-02)) / K))
  cg_prof "$TMP/cg/llm-shim-1-02" >"$TMP/cg/coll-1.prof"
  cg_prof "$TMP/cg/llm-shim-$((K + 1))-02" >"$TMP/cg/coll-k.prof"
  # by object: where the collector's instructions per call go
  LLM_BY_OBJ=$(cg_delta "$K" 0 "$TMP/cg/coll-1.prof" "$TMP/cg/coll-k.prof" |
    awk -F'\t' '{ o = $2; sub(/.*\(/, "", o); sub(/\)$/, "", o); a[o] += $1 }
      END { for (o in a) printf "%.0f\t%s\n", a[o], o }' | sort -t$'\t' -k1,1gr |
    awk -F'\t' -v t="$LLM_COLL" -v e="$EVENTS_PER_CALL" '$1 >= 1000 {
      printf "| %s | %d | %.0f | %.1f%% |\n", $2, $1, $1 / e, 100 * $1 / t }')
  LLM_TOP_FUNCS=$(cg_delta "$K" 1000 "$TMP/cg/coll-1.prof" "$TMP/cg/coll-k.prof" | head -15 |
    awk -F'\t' '{ printf "  %9.0f  %s\n", $1, $2 }')
  CG_LLM=yes
fi
T_CG=$((SECONDS - T_CG0))

# ---------------------------------------------------------------- 5. writer
# bench_store interleaves llm_store_put and raw mdb_put phases itself (ABBA,
# the same records into two stores), so one run per configuration.
STORE_ROWS=""
STORE_RAW_LINES=""
T_ST0=$SECONDS
if [[ -n $STORE_BIN ]]; then
  log "5. writer throughput: $STORE_RECORDS (batch 1) / $STORE_BATCH_RECORDS records per phase" \
    "and process, batches ($STORE_BATCHES), processes ($STORE_PROCS), $STORE_ROUNDS rounds," \
    "($STORE_SYNC)"
  for sy in $STORE_SYNC; do
    for p in $STORE_PROCS; do
      for bt in $STORE_BATCHES; do
        n=$STORE_RECORDS
        ((bt > 1)) && n=$STORE_BATCH_RECORDS
        # without fsync a commit of one record takes microseconds: 10x as many
        [[ $sy == nosync && $bt == 1 ]] && n=$((n * 10))
        st_args=()
        [[ $sy == nosync ]] && st_args+=(--nosync)
        d=$TMP/store-$sy-$p-$bt
        l=$("$STORE_BIN" --dir "$d" --procs "$p" --records "$n" --batch "$bt" \
          --rounds "$STORE_ROUNDS" --body "$TMP/body.json" "${st_args[@]}") ||
          die "bench_store --procs $p --batch $bt $sy"
        rm -rf "$d"
        STORE_RAW_LINES+="$l"$'\n'
        STORE_VBYTES=$(field value_bytes "$l")
        STORE_ROWS+="| $(field sync "$l") | $p | $bt | $n | $(calc "$(field llm_rps "$l")" 0)"
        STORE_ROWS+=" | $(calc "$(field raw_rps "$l")" 0)"
        STORE_ROWS+=" | **$(ratio "$(field llm_rps "$l")" "$(field raw_rps "$l")")**"
        STORE_ROWS+=" | $(field ratio_median "$l") ($(field ratio_min "$l")..$(field ratio_max "$l"))"
        STORE_ROWS+=" | $(field llm_cpu_us "$l") / $(field raw_cpu_us "$l")"
        STORE_ROWS+=" | $(field encode_us "$l") |"$'\n'
      done
    done
  done
fi
T_ST=$((SECONDS - T_ST0))

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
Load average (1/5/15 min) at the end: $(cut -d' ' -f1-3 /proc/loadavg).
Tree: $COMMIT$DIRTY. Ratios are shim / plain, measured interleaved in this run.

## 1. Start-up (no LLM call; ABBA-interleaved spawns, wall = posix_spawn..wait4)

| program | plain wall µs | shim wall µs | wall ratio (mean) | wall ratio (median) | plain CPU µs | shim CPU µs | max RSS KiB plain / shim |
|---|---|---|---|---|---|---|---|
$(startup_row "/bin/true ×$STARTUP_RUNS" "$ST_TRUE")
$(startup_row "reference: /bin/true, LD_PRELOAD of an empty .so ×$STARTUP_RUNS" "$ST_EMPTY")
$(startup_row "python3 -c 'import ssl' ×$PY_RUNS" "$ST_PY")
$(startup_row "/bin/true, shim against the empty preload (the \"plain\" side preloads the empty .so) ×$STARTUP_RUNS" "$ST_VS_EMPTY")

Goal: a process that makes no connection pays ≤ 1.02× the empty preload's wall (last row,
ratio of the means) and ≤ +15,000 instructions over it, start to exit:

$(if ((${#IDLE_IR[@]} == 3)); then cat <<EOT
| /bin/true under callgrind | Ir (user space, start to exit) | over no preload | over the empty preload |
|---|---|---|---|
| no preload | ${IDLE_IR[0]} | | |
| LD_PRELOAD of an empty .so (the floor) | ${IDLE_IR[1]} | $((IDLE_IR[1] - IDLE_IR[0])) | |
| LD_PRELOAD=libllmops.so | ${IDLE_IR[2]} | $((IDLE_IR[2] - IDLE_IR[0])) | **$((IDLE_IR[2] - IDLE_IR[1]))** (goal ≤ 15000: $( ((IDLE_IR[2] - IDLE_IR[1] <= 15000)) && echo met || echo NOT met)) |
EOT
else echo "(callgrind counts skipped: valgrind not installed, or BENCH_CG=0)"; fi)

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

Per SSE event ($EVENTS_PER_CALL \`data:\` events per call in \`$VECTOR\`): shim CPU **$PER_EVENT_US µs/event**,
collector thread **$PER_EVENT_COLL_US µs/event**. The same in instructions (which repeat within a
few % from run to run) is in section 4b.

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

## 4. Instructions per hooked call on non-LLM traffic (callgrind)

$(if ((HAVE_CG)); then cat <<EOT
\`valgrind --tool=callgrind\` instruction counts (Ir, user space only: the syscall itself is not
in them) of \`bench_io\`, (a) without preload, (b) with \`forward_preload.so\` (the same hooks,
each only forwarding to \`dlsym(RTLD_NEXT)\`: the physical floor of interposition), (c) with
libllmops.so. Per row: (Ir of N rounds − Ir of 0 rounds) / hooked calls; both runs do one
warm-up round, so start-up, the handshake, symbol resolution and classification cancel out.
These counts repeat exactly between runs. A "hooked call" is one read()/write() (tcp, file) or
one SSL_read()/SSL_write() (tls; each also makes one nested read()/write() that the
shim passes straight through, counted in the same figure).

| workload | N rounds | hooked calls / round | (a) Ir / round, no preload | (b) − (a) Ir / call: any interposer | (c) − (a) Ir / call: the shim | (c) − (b) Ir / call: classification over the floor |
|---|---|---|---|---|---|---|
$CG_ROWS
Where the shim's extra instructions go, per hooked call (self cost per function, shim run
minus no-preload run, |Δ| ≥ 0.5):

\`\`\`
$CG_FUNCS\`\`\`
EOT
else echo "Skipped (valgrind not installed, or BENCH_CG=0)."; fi)

### 4b. LLM path in instructions ($CG_LLM_CALLS streamed calls of \`$VECTOR\` under callgrind, 1 call subtracted)

Two threads under valgrind interleave a little differently from run to run (futex wakes, queue
batching), so these counts repeat within a few %, not exactly.

$(if [[ -n $CG_LLM ]]; then cat <<EOT
| | Ir per call | Ir per SSE event ($EVENTS_PER_CALL / call) |
|---|---|---|
| main thread, no preload (TLS, HTTP reading) | $LLM_APP_PLAIN | $(calc "$LLM_APP_PLAIN / $EVENTS_PER_CALL" 0) |
| main thread with the shim (+ hooks, tap, queue push) | $LLM_APP_SHIM | $(calc "$LLM_APP_SHIM / $EVENTS_PER_CALL" 0) |
| ... the shim's app-thread share | **$((LLM_APP_SHIM - LLM_APP_PLAIN))** | **$(calc "($LLM_APP_SHIM - $LLM_APP_PLAIN) / $EVENTS_PER_CALL" 0)** |
| collector thread (HTTP, SSE, JSON, record, LMDB) | **$LLM_COLL** | **$(calc "$LLM_COLL / $EVENTS_PER_CALL" 0)** |

The collector's instructions per call by library:

| object | Ir / call | Ir / event | share |
|---|---|---|---|
$LLM_BY_OBJ

Top functions of the collector thread (self Ir per call):

\`\`\`
$LLM_TOP_FUNCS
\`\`\`
EOT
else echo "Skipped (valgrind not installed, or BENCH_CG=0)."; fi)

## 5. Writer throughput: llm_store_put vs raw mdb_put (LMDB)

$(if [[ -n $STORE_BIN ]]; then cat <<EOT
\`bench_store\`: PROCS writer processes, each with both stores open, commit pre-encoded records
(msgpack, ~$STORE_VBYTES bytes each, the fields of a streamed chat completion) in phases of RECORDS
records per process, BATCH records per transaction, alternately with \`llm_store_put\`
(collector/store.c, as the writer thread does) and with raw \`mdb_txn_begin\` + \`mdb_put\` ×
BATCH + \`mdb_txn_commit\` on an env with the same flags (MDB_NOTLS | MDB_NOMETASYNC; "fdatasync"
rows: one fdatasync per commit, as the writer does; "nosync" rows add MDB_NOSYNC), the same map
size and the same "ops" database. Phase i of both sides writes the very same records; the
phases run ABBA over $STORE_ROUNDS rounds after a warm-up round, so disk and CPU drift hit both.
rec/s = records of all phases / their summed wall time (start gate to the last writer done);
ratio = llm / raw; per round the same ratio, median (min..max). The writer thread commits what
one wake-up found (up to 512): batch 1 is a process making one call at a time, 64 a burst.

| sync | processes | batch | records / phase / process | llm_store_put rec/s | raw mdb_put rec/s | ratio | ratio per round, median (min..max) | writer CPU µs/record llm / raw | llm_record_encode µs/record |
|---|---|---|---|---|---|---|---|---|---|
$STORE_ROWS
EOT
else echo "Skipped (bench_store could not be built in the build tree, or BENCH_STORE=0)."; fi)

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
start-up /bin/true, empty preload (reported as "plain") vs the shim:
$ST_VS_EMPTY
$STORE_RAW_LINES\`\`\`

Section times: start-up ${T_START} s, LLM path ${T_LLM} s, bulk ${T_BULK} s, callgrind ${T_CG} s,
writer ${T_ST} s; total $((SECONDS - T_BEGIN)) s.
EOF
)

mkdir -p "$SRC/bench/results"
printf '%s\n' "$REPORT" >"$SRC/bench/results/$STAMP.md"
cp "$SRC/bench/results/$STAMP.md" "$SRC/bench/results/latest.md"
printf '%s\n' "$REPORT"
log "written bench/results/$STAMP.md and bench/results/latest.md"

# ---------------------------------------------------------------- 6, 7, 8
# Separate scripts, each printing one markdown section, appended to the results
# file. A script that fails leaves a note there and fails the run at the end.
EXTRA_FAILED=()
for s in export parquet proxy node dash; do
  v=BENCH_${s^^}
  [[ ${!v:-1} != 0 ]] || continue
  log "running bench/bench_$s.sh"
  if sec=$(bash "$SRC/bench/bench_$s.sh" "$BUILD"); then :; else
    sec="## bench/bench_$s.sh failed (exit $?; its messages are in the bench log)"
    EXTRA_FAILED+=("bench_$s.sh")
  fi
  printf '\n%s\n' "$sec" | tee -a "$SRC/bench/results/$STAMP.md"
done
cp "$SRC/bench/results/$STAMP.md" "$SRC/bench/results/latest.md"
log "sections 6-8 appended to bench/results/$STAMP.md and latest.md"
[[ $REC_OK == yes ]] || die "store record count mismatch: ${N_RECORDS[*]} (expected $CALLS)"
((${#EXTRA_FAILED[@]} == 0)) || die "failed: ${EXTRA_FAILED[*]}"
