#!/usr/bin/env bash
# bench/bench_parquet.sh: section 6b of the llmops benchmark. `llmops export
# --format parquet` of BENCH_EXPORT_RECORDS (1,000,000) records against the
# NDJSON export of the same store in the same run: wall and CPU time, output
# size, and each one's peak memory: GNU time's %M (resident set, which counts
# the pages of the store's read-only LMDB map the scan touched) and the peak
# of RssAnon (the process's own heap and stack, sampled from /proc every
# 0.1 s). The Parquet writer buffers one row group at a time
# (tools/parquet.c), so its RssAnon peak must stay under
# BENCH_PARQUET_MAX_RSS_MB (256) however many records go through: over it,
# the section fails. Where tests/node has DuckDB, the file's row count
# and summed input tokens are checked against the NDJSON.
# The store is bench_export.sh's (the same cache under the build dir, made by
# tests/tools/mkstore in chunks when missing).
#
# usage: bash bench/bench_parquet.sh [BUILD_DIR] [> section.md]
# Knobs: BENCH_EXPORT_RECORDS (1000000) BENCH_EXPORT_CHUNK (100000)
# BENCH_EXPORT_CACHE=0 (no cache) BENCH_PARQUET_MAX_RSS_MB (256) BENCH_KEEP=1.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"
BUILD=${1:-${LLMOPS_BUILD:-$SRC/build}}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
N=${BENCH_EXPORT_RECORDS:-1000000}
CHUNK=${BENCH_EXPORT_CHUNK:-100000}
CACHE=${BENCH_EXPORT_CACHE:-1}
MAX_RSS_MB=${BENCH_PARQUET_MAX_RSS_MB:-256}
CLI=$BUILD/llmops
MKSTORE=$BUILD/tests/tools/mkstore
GNU_TIME=/usr/bin/time
T0=$SECONDS
unset LLMOPS_DB LD_PRELOAD || true

skip() {
  log "parquet section skipped: $*"
  printf '## 6b. Parquet export of %s records\n\nSkipped: %s\n' "$N" "$*"
  exit 0
}
((N > 0 && CHUNK > 0)) || die "bad BENCH_EXPORT_* values"
[[ -x $GNU_TIME ]] || skip "no $GNU_TIME (apt-get install time)"
for b in "$CLI" "$MKSTORE"; do
  [[ -x $b ]] || skip "no $b (cmake --build $BUILD)"
done
bench_tmp llmops-bench-parquet

# ---------------------------------------------------------------- the store
MK_HASH=$(sha256sum "$MKSTORE" | cut -c1-16)
if ((CACHE)); then CDIR=$BUILD/bench-cache/export-$N-$MK_HASH; else CDIR=$TMP/cache; fi
STORE=$CDIR/store
mkdir -p "$CDIR"
if [[ -f $CDIR/store.ok ]]; then
  log "6b. parquet: cached store $STORE"
else # as bench_export.sh makes it, so the two share the cache
  log "6b. parquet: generating $N records into $STORE (mkstore, chunks of $CHUNK)"
  gen_store "$MKSTORE" "$STORE" "$N" "$CHUNK"
  echo "generated $(date +%F) by bench_parquet.sh" >"$CDIR/store.ok"
fi
cat "$STORE/data.mdb" >/dev/null

# measure NAME FORMAT OUT: "wall_s cpu_s max_rss_kib bytes peak_rss_anon_kib"
measure() {
  local fmt=$2 out=$3 pid anon=0 a
  rm -f "$out"
  log "llmops export --format $fmt ($N records)"
  "$GNU_TIME" -f '%e %U %S %M' -o "$TMP/$1.time" "$CLI" export --db "$STORE" --format "$fmt" \
    --out "$out" 2>"$TMP/$1.err" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for c in $(pgrep -P "$pid"); do # the llmops under time
      a=$(sed -n 's/^RssAnon:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$c/status" 2>/dev/null || true)
      if [[ -n $a ]] && ((a > anon)); then anon=$a; fi
    done
    sleep 0.1
  done
  wait "$pid" || { cat "$TMP/$1.err" >&2; die "llmops export --format $fmt"; }
  read -r w u s m <"$TMP/$1.time"
  echo "$w $(calc "$u + $s") $m $(stat -c %s "$out") $anon"
}
ND=$(measure nd ndjson "$TMP/out.ndjson")
lines=$(wc -l <"$TMP/out.ndjson")
[[ $lines == "$N" ]] || die "the NDJSON export has $lines lines, not $N"
PQ=$(measure pq parquet "$TMP/out.parquet")

CHECK="not checked (no DuckDB in tests/node)"
if [[ -d $SRC/tests/node/node_modules/@duckdb/node-api ]]; then
  want=$(python3 -c 'import json,sys
n=s=0
for l in open(sys.argv[1]):
    r=json.loads(l); n+=1; s+=r["input_tokens"] or 0
print(n, s)' "$TMP/out.ndjson")
  got=$(cd "$SRC/tests/node" && node --input-type=module -e '
import { createRequire } from "node:module";
const require = createRequire(process.cwd() + "/package.json");
const { DuckDBInstance } = require("@duckdb/node-api");
const con = await (await DuckDBInstance.create(":memory:")).connect();
const r = await con.runAndReadAll(`SELECT count(*), coalesce(sum(input_tokens), 0) FROM read_parquet(${JSON.stringify(process.argv[1]).replaceAll("\"", "\x27")})`);
console.log(r.getRows()[0].map(String).join(" "));' "$TMP/out.parquet")
  [[ $got == "$want" ]] || die "DuckDB reads '$got' (rows, input tokens) from the Parquet, the NDJSON has '$want'"
  CHECK="DuckDB reads $N rows and the same summed input_tokens as the NDJSON"
fi
rm -f "$TMP/out.ndjson" "$TMP/out.parquet"

PQ_RSS_MB=$(calc "$(col 5 "$PQ") / 1024" 0)
row() { # NAME LINE
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$(col 1 "$2")" "$(col 2 "$2")" \
    "$(calc "$N / $(col 1 "$2")" 0)" "$(calc "$(col 4 "$2") / 1048576" 1)" \
    "$(calc "$(col 3 "$2") / 1024" 0)" "$(calc "$(col 5 "$2") / 1024" 0)"
}
cat <<EOF
## 6b. Parquet export of $N records (vs the NDJSON export of the same store)

Same store as section 6. Wall and CPU (user+sys) from GNU time, one run each. Peak RSS is
the maximum resident set, including the store's memory map as the scan touches it; peak
anon is the process's own memory (RssAnon, sampled every 0.1 s), what the writer holds.

| command | wall s | CPU s | records/s | output MiB | peak RSS MiB | peak anon MiB |
|---|---|---|---|---|---|---|
$(row "llmops export --format ndjson --out FILE" "$ND")
$(row "llmops export --format parquet --out FILE" "$PQ")

**Parquet / NDJSON: size $(ratio "$(col 4 "$PQ")" "$(col 4 "$ND")"), wall $(ratio "$(col 1 "$PQ")" "$(col 1 "$ND")"), CPU $(ratio "$(col 2 "$PQ")" "$(col 2 "$ND")").**
Parquet peak anon memory $PQ_RSS_MB MiB (bound: $MAX_RSS_MB MiB). $CHECK.

Section time: $((SECONDS - T0)) s.
EOF
((PQ_RSS_MB <= MAX_RSS_MB)) || die "the Parquet export's own memory peaked at $PQ_RSS_MB MiB, over $MAX_RSS_MB MiB"
