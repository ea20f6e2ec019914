#!/usr/bin/env bash
# bench/bench_dash.sh: the dashboard on BENCH_DASH_RECORDS (1,000,000)
# generated records (the store bench_export.sh makes, shared through its
# cache under the build dir): `llmops report` (target <= 10 s), each `llmops
# serve` endpoint, first request and repeated (target <= 1 s), all time and
# the last 24 h, and the floor of the same scan: `llmops stats`, which reads
# the same store with the same accumulator for one breakdown. Prints a
# markdown section on stdout, progress on stderr.
#
# usage: bash bench/bench_dash.sh [BUILD_DIR] [> section.md]
# Knobs: BENCH_DASH_RECORDS (1000000) BENCH_DASH_CHUNK (100000) BENCH_KEEP=1.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"
BUILD=${1:-${LLMOPS_BUILD:-$SRC/build}}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
N=${BENCH_DASH_RECORDS:-1000000}
CHUNK=${BENCH_DASH_CHUNK:-100000}
CLI=$BUILD/llmops
MKSTORE=$BUILD/tests/tools/mkstore
unset LLMOPS_DB LD_PRELOAD || true
for b in "$CLI" "$MKSTORE"; do [[ -x $b ]] || die "no $b (build first)"; done
command -v curl >/dev/null || die "no curl"
bench_tmp llmops-bench-dash

# the store: bench_export.sh's cache when it has one for this mkstore
MK_HASH=$(sha256sum "$MKSTORE" | cut -c1-16)
CDIR=$BUILD/bench-cache/export-$N-$MK_HASH
STORE=$CDIR/store
if [[ ! -f $CDIR/store.ok ]]; then
  log "generating $N records into $STORE (mkstore, chunks of $CHUNK)"
  mkdir -p "$CDIR"
  gen_store "$MKSTORE" "$STORE" "$N" "$CHUNK"
  echo "generated $(date +%F) by bench_dash.sh" >"$CDIR/store.ok"
fi
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
log "warming the page cache"
cat "$STORE/data.mdb" >/dev/null
# the last 24 hours of the store (its newest record's day), for the windowed figures
LAST=$("$CLI" tail --db "$STORE" -n 1 --format ndjson | sed -n 's/.*"timestamp":"\([^"]*\)".*/\1/p')
SINCE=$(date -u -d "$LAST - 24 hours" +%Y-%m-%dT%H:%M:%SZ)

rows=()
# row WHAT WALL CPU: CPU is what the process itself used (user + sys), the
# figure that stays put when other work shares the cores
row() { rows+=("| $1 | $2 | $3 | $(ratio "$3" "$STATS_C") |"); }
cpu_of() { calc "$(col 2 "$1") + $(col 3 "$1")"; }
log "llmops stats (the floor: one breakdown, same scan)"
t=$(timed /dev/null /dev/null "$CLI" stats --db "$STORE" --format json) || die "stats"
STATS_C=$(cpu_of "$t")
row "floor: llmops stats --format json (all time)" "$(col 1 "$t")" "$STATS_C"
log "llmops report"
t=$(timed /dev/null "$TMP/rep.err" "$CLI" report --db "$STORE" --out "$TMP/r.html") ||
  { cat "$TMP/rep.err" >&2; die "report"; }
row "llmops report --out FILE (all time, 200 calls with records)" "$(col 1 "$t")" "$(cpu_of "$t")"
REPORT_BYTES=$(stat -c %s "$TMP/r.html")
t=$(timed /dev/null /dev/null "$CLI" report --db "$STORE" --since "$SINCE" --out "$TMP/r24.html") || die "report --since"
row "llmops report --since (last 24 h)" "$(col 1 "$t")" "$(cpu_of "$t")"

"$CLI" serve --db "$STORE" --listen 127.0.0.1:0 >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVE=$!
PIDS+=($SERVE)
TICK=$(getconf CLK_TCK)
# the server's CPU seconds so far (utime + stime from /proc)
serve_cpu() { awk -v t="$TICK" '{ print ($14 + $15) / t }' "/proc/$SERVE/stat"; }
for _ in $(seq 200); do grep -q http "$TMP/serve.out" && break; sleep 0.05; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*/' "$TMP/serve.out") || die "serve did not start"
get() { curl -s -o "$TMP/body" -w '%{http_code} %{time_total}' "$URL$1"; }
KEY=
for ep in "" "api/version" "api/summary?rows=50" "api/summary?rows=50" \
  "api/summary?rows=50&since=$SINCE" "api/calls?rows=50&offset=0" "api/calls?rows=50&offset=5000" \
  "api/calls?rows=50&since=$SINCE" "api/summary?rows=50&provider=openai" "api/record?id=KEY"; do
  q=${ep/KEY/$KEY}
  log "GET /$q"
  c0=$(serve_cpu)
  r=$(get "$q")
  c1=$(serve_cpu)
  [[ ${r%% *} == 200 ]] || die "GET /$q: $r $(head -c 300 "$TMP/body")"
  if [[ $ep == api/calls* && -z $KEY ]]; then KEY=$(grep -o '"key":"[0-9A-Z]*"' "$TMP/body" | head -1 | cut -d'"' -f4); fi
  note=""
  if [[ $ep == "api/summary?rows=50" ]]; then
    if [[ -n ${seen_sum:-} ]]; then note=" (again: cached)"; else note=" (first)"; fi
    seen_sum=1
  fi
  row "serve GET /$q$note" "${r#* }" "$(calc "$c1 - $c0" 2)"
done

cat <<EOF2
## 9. Dashboard on $N records (llmops report, llmops serve)

Store: \`mkstore\` records, $N of them over $(calc "$N * 2 / 86400" 0) days (the 1M store of
section 6), page-cached. Wall seconds (curl's total for serve) and the CPU seconds the
process itself spent (user + sys; for serve, the server's, from /proc), with CPU as a ratio
against \`llmops stats\` on the same store in the same run (one scan, one breakdown, every
field decoded). Load average at the start: $LOAD. Report file: $(calc "$REPORT_BYTES / 1048576" 2) MiB.
Targets: report <= 10 s, each serve endpoint <= 1 s.

| what | wall s | CPU s | CPU / stats |
|---|---|---|---|
$(printf '%s\n' "${rows[@]}")
EOF2
