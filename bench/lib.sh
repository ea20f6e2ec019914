# shellcheck shell=bash
# bench/lib.sh: helpers shared by bench/run.sh, bench/bench_export.sh and
# bench/bench_proxy.sh (sourced, not run). Each of those scripts prints one markdown section of the
# benchmark report on stdout and its progress on stderr; bench/run.sh appends
# the sections to the results file. Same conventions as run.sh: every figure
# is a ratio against a baseline measured in the same run.

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
  printf '[bench] ERROR: %s\n' "$*" >&2
  exit 1
}
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

# bench_tmp PREFIX: a scratch directory in $TMP, removed at exit (kept with
# BENCH_KEEP=1) after every process in PIDS is stopped.
bench_tmp() {
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
bench_cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}

# wait_port FILE PID: until FILE is non-empty (a server wrote its port), or PID died
wait_port() {
  local i
  for ((i = 0; i < 200; i++)); do
    [[ -s $1 ]] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# start_replay: tests/e2e/llm_server.py over TLS (certificates in $TMP/certs)
# on a free loopback port, in LLM_PORT; stopped at exit with PIDS.
start_replay() {
  "$PY" "$SRC/tests/e2e/llm_server.py" --corpus "$SRC/tests/corpus" --host 127.0.0.1 --port 0 \
    --port-file "$TMP/llm.port" --cert "$TMP/certs/server.pem" --key "$TMP/certs/server.key" \
    2>"$TMP/llm_server.err" &
  PIDS+=($!)
  wait_port "$TMP/llm.port" "${PIDS[-1]}" || { cat "$TMP/llm_server.err" >&2; die "replay server"; }
  LLM_PORT=$(<"$TMP/llm.port")
}

# vector_target VECTOR: "host path?query" of a corpus vector's URL
vector_target() {
  "$PY" -c 'import json, sys, urllib.parse as u
p = u.urlsplit(json.load(open(sys.argv[1]))["url"])
print(p.hostname, p.path + ("?" + p.query if p.query else ""))' "$SRC/tests/corpus/$1.json"
}

# timed OUT ERR CMD...: runs CMD with stdout to OUT and stderr to ERR and prints
# "wall_s user_s sys_s" (bash's time keyword: the command and its children).
# Fails if CMD does.
timed() {
  local out=$1 err=$2 t
  shift 2
  t=$({
    TIMEFORMAT='%3R %3U %3S'
    time "$@" >"$out" 2>"$err"
  } 2>&1) || return 1
  echo "$t"
}

# gen_store MKSTORE STORE N CHUNK: N mkstore records into STORE (renamed into
# place only when whole), CHUNK per mkstore run (it holds a run's records in
# memory before it writes them, shuffled), each run with its own seed over its
# own stretch of past time (records are 1-3 s apart). bench_export.sh,
# bench_parquet.sh and bench_dash.sh share the store this makes.
gen_store() {
  local mk=$1 store=$2 total=$3 chunk=$4 now span end n done_n i
  rm -rf "$store" "$store.tmp"
  now=$(date +%s)
  span=$((chunk * 3 + 3600))
  for ((done_n = 0, i = 0; done_n < total; i++)); do
    n=$((total - done_n < chunk ? total - done_n : chunk))
    end=$(date -u -d "@$((now - i * span))" +%Y-%m-%dT%H:%M:%SZ)
    "$mk" --db "$store.tmp" --count "$n" --seed $((i + 1)) --end "$end" >/dev/null ||
      die "mkstore --count $n --seed $((i + 1)) --end $end"
    done_n=$((done_n + n))
  done
  mv "$store.tmp" "$store"
}
