#!/usr/bin/env bash
# bench/bench_export.sh: section 6 of the llmops benchmark. `llmops export` of
# BENCH_EXPORT_RECORDS (1,000,000) records to NDJSON and to SQLite, each as a
# RATIO against the raw floor measured in the same run on the same data:
#   NDJSON: `cat` of the export's own output file to /dev/null
#   SQLite: `sqlite3` `.mode csv` / `.import` of the same rows (the CSV export)
#           into a table with the CSV's columns, types, primary key and indexes
# plus records/s and the store's size on disk per record. The store comes from
# tests/tools/mkstore and is generated once into a cache under the build dir,
# keyed by the record count and mkstore's binary hash (so is the CSV, keyed by
# llmops' hash too). Prints a markdown section on stdout, progress on stderr.
#
# usage: bash bench/bench_export.sh [BUILD_DIR] [> section.md]
# Knobs (environment): BENCH_EXPORT_RECORDS (1000000) BENCH_EXPORT_CHUNK
# (100000 records per mkstore run) BENCH_EXPORT_REPS (1) BENCH_EXPORT_CAT_REPS (3)
# BENCH_EXPORT_CACHE=0 (generate into the temp dir, no cache) BENCH_KEEP=1.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"
BUILD=${1:-${LLMOPS_BUILD:-$SRC/build}}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
N=${BENCH_EXPORT_RECORDS:-1000000}
CHUNK=${BENCH_EXPORT_CHUNK:-100000}
REPS=${BENCH_EXPORT_REPS:-1}
CAT_REPS=${BENCH_EXPORT_CAT_REPS:-3}
CACHE=${BENCH_EXPORT_CACHE:-1}
CLI=$BUILD/llmops
MKSTORE=$BUILD/tests/tools/mkstore
T0=$SECONDS
unset LLMOPS_DB LD_PRELOAD || true

skip() { # REASON: the section says why it has no figures; not a bench failure
  log "export section skipped: $*"
  printf '## 6. Export of %s records\n\nSkipped: %s\n' "$N" "$*"
  exit 0
}
((N > 0 && CHUNK > 0 && REPS > 0 && CAT_REPS > 0)) || die "bad BENCH_EXPORT_* values"
for t in llmops mkstore; do
  b=$CLI
  if [[ $t == mkstore ]]; then b=$MKSTORE; fi
  [[ -x $b ]] || cmake --build "$BUILD" --target "$t" >/dev/null 2>&1 || true
  [[ -x $b ]] || skip "no $b (cmake --build $BUILD --target $t failed)"
done
HAVE_SQLITE=1
CSV_COLS=()
command -v sqlite3 >/dev/null || HAVE_SQLITE=0

bench_tmp llmops-bench-export

# ---------------------------------------------------------------- the store
MK_HASH=$(sha256sum "$MKSTORE" | cut -c1-16)
CLI_HASH=$(sha256sum "$CLI" | cut -c1-16)
if ((CACHE)); then
  CDIR=$BUILD/bench-cache/export-$N-$MK_HASH
  mkdir -p "$BUILD/bench-cache"
  for d in "$BUILD"/bench-cache/export-*; do # stale: made by another mkstore
    [[ -e $d && $d != *-"$MK_HASH" ]] || continue
    log "removing stale cache $d"
    rm -rf "$d"
  done
else
  CDIR=$TMP/cache
fi
STORE=$CDIR/store
mkdir -p "$CDIR"
GEN_NOTE=
if [[ -f $CDIR/store.ok ]]; then
  GEN_NOTE="cached: $(<"$CDIR/store.ok")"
  log "6. export: cached store $STORE ($N records)"
else
  log "6. export: generating $N records into $STORE (mkstore, chunks of $CHUNK)"
  g0=$EPOCHREALTIME
  gen_store "$MKSTORE" "$STORE" "$N" "$CHUNK"
  GEN_S=$(calc "$EPOCHREALTIME - $g0" 1)
  GEN_NOTE="generated in this run in $GEN_S s ($(calc "$N / $GEN_S" 0) records/s)"
  if ((CACHE)); then GEN_NOTE+=", cached for the next runs"; fi
  echo "generated $(date +%F) in $GEN_S s ($(calc "$N / $GEN_S" 0) records/s)" \
    >"$CDIR/store.ok"
  log "generated in $GEN_S s"
fi
if command -v mdb_stat >/dev/null; then
  got=$(mdb_stat -s ops "$STORE" | sed -n 's/^ *Entries: //p' | head -1)
  [[ $got == "$N" ]] || die "the store $STORE holds $got records, not $N (rm -rf $CDIR)"
fi
STORE_DU=$(du -B1 -s "$STORE" | cut -f1)
STORE_APPARENT=$(stat -c %s "$STORE/data.mdb")

# The CSV for the sqlite3 floor: not timed, so cached as well (keyed by llmops too).
CSV=$CDIR/rows-$CLI_HASH.csv
CSV_NOTE=
if ((HAVE_SQLITE)) && [[ ! -f $CSV.ok ]]; then
  rm -f "$CDIR"/rows-*.csv "$CDIR"/rows-*.csv.ok
  log "writing the CSV for the sqlite3 floor"
  t=$(timed /dev/null "$TMP/csv.err" "$CLI" export --db "$STORE" --format csv --out "$CSV") ||
    { cat "$TMP/csv.err" >&2; die "llmops export --format csv"; }
  CSV_NOTE="(CSV export in this run: $(col 1 "$t") s wall, $(calc "$(col 2 "$t") + $(col 3 "$t")") s CPU, $(calc "$N / $(col 1 "$t")" 0) records/s)"
  touch "$CSV.ok"
fi

# The floor's table: the CSV's columns (in its order, since .import fills by
# position), typed as llm_operations types them, the same primary key and the
# same indexes (an index on a column the CSV lacks, timestamp_us, goes on the
# column it is derived from, timestamp).
FLOOR_DDL=
if ((HAVE_SQLITE)); then
  "$CLI" create-tables --to "sqlite:$TMP/ref.sqlite" >/dev/null 2>&1 || die "llmops create-tables"
  declare -A TYPE=()
  while IFS='|' read -r c ty pk; do
    TYPE[$c]=$ty
    if ((pk)); then TYPE[$c]+=" NOT NULL PRIMARY KEY"; fi
  done < <(sqlite3 "$TMP/ref.sqlite" "SELECT name, type, pk FROM pragma_table_info('llm_operations')")
  IFS=, read -ra CSV_COLS < <(head -1 "$CSV" | tr -d '\r')
  declare -A IN_CSV=()
  defs=()
  for c in "${CSV_COLS[@]}"; do
    IN_CSV[$c]=1
    defs+=("$c ${TYPE[$c]:-TEXT}")
  done
  FLOOR_DDL="CREATE TABLE llm_operations ($(
    IFS=,
    echo "${defs[*]}"
  ));"$'\n'
  while IFS='|' read -r name c; do
    if [[ -z ${IN_CSV[$c]:-} && -n ${IN_CSV[${c%_us}]:-} ]]; then c=${c%_us}; fi
    [[ -n ${IN_CSV[$c]:-} ]] || continue
    FLOOR_DDL+="CREATE INDEX $name ON llm_operations ($c);"$'\n'
  done < <(sqlite3 "$TMP/ref.sqlite" "SELECT il.name, ii.name FROM pragma_index_list('llm_operations') il,
    pragma_index_info(il.name) ii WHERE il.origin = 'c' ORDER BY il.name")
fi

# ---------------------------------------------------------------- runs
log "warming the page cache ($(calc "$STORE_APPARENT / 1048576" 0) MiB store)"
cat "$STORE/data.mdb" >/dev/null
if ((HAVE_SQLITE)); then cat "$CSV" >/dev/null; fi

ND=() CAT=() SQ=() IMP=() CS=() STA=()
NDJSON_BYTES=0 SQLITE_BYTES=0 FLOOR_BYTES=0 CSV_BYTES=0
for ((r = 0; r < REPS; r++)); do
  log "rep $((r + 1))/$REPS: llmops export --format ndjson ($N records)"
  rm -f "$TMP/out.ndjson"
  t=$(timed /dev/null "$TMP/nd.err" "$CLI" export --db "$STORE" --format ndjson \
    --out "$TMP/out.ndjson") || { cat "$TMP/nd.err" >&2; die "llmops export --format ndjson"; }
  ND+=("$t")
  NDJSON_BYTES=$(stat -c %s "$TMP/out.ndjson")
  for ((c = 0; c < CAT_REPS; c++)); do
    CAT+=("$(timed /dev/null /dev/null cat "$TMP/out.ndjson")") || die "cat"
  done
  lines=$(wc -l <"$TMP/out.ndjson")
  [[ $lines == "$N" ]] || die "the NDJSON export has $lines lines, not $N"
  rm -f "$TMP/out.ndjson"

  log "rep $((r + 1))/$REPS: llmops export --format csv"
  rm -f "$TMP/out.csv"
  t=$(timed /dev/null "$TMP/cs.err" "$CLI" export --db "$STORE" --format csv \
    --out "$TMP/out.csv") || { cat "$TMP/cs.err" >&2; die "llmops export --format csv"; }
  CS+=("$t")
  CSV_BYTES=$(stat -c %s "$TMP/out.csv")
  rm -f "$TMP/out.csv"

  log "rep $((r + 1))/$REPS: llmops stats"
  t=$(timed /dev/null "$TMP/st.err" "$CLI" stats --db "$STORE") ||
    { cat "$TMP/st.err" >&2; die "llmops stats"; }
  STA+=("$t")

  ((HAVE_SQLITE)) || continue
  log "rep $((r + 1))/$REPS: llmops export --format sqlite"
  rm -f "$TMP/out.sqlite"
  t=$(timed /dev/null "$TMP/sq.err" "$CLI" export --db "$STORE" --format sqlite \
    --out "$TMP/out.sqlite") || { cat "$TMP/sq.err" >&2; die "llmops export --format sqlite"; }
  SQ+=("$t")
  SQLITE_BYTES=$(stat -c %s "$TMP/out.sqlite")
  got=$(sqlite3 "$TMP/out.sqlite" 'SELECT count(*) FROM llm_operations')
  [[ $got == "$N" ]] || die "the SQLite export has $got rows, not $N"
  rm -f "$TMP/out.sqlite"

  log "rep $((r + 1))/$REPS: sqlite3 .import of the CSV"
  rm -f "$TMP/floor.sqlite"
  printf '%s' "$FLOOR_DDL" >"$TMP/floor.sql"
  sqlite3 "$TMP/floor.sqlite" <"$TMP/floor.sql" || die "the floor's CREATE TABLE"
  printf '.mode csv\n.import --skip 1 %s llm_operations\n' "$CSV" >"$TMP/import.cmd"
  t=$(timed /dev/null "$TMP/imp.err" sqlite3 "$TMP/floor.sqlite" <"$TMP/import.cmd") ||
    { cat "$TMP/imp.err" >&2; die "sqlite3 .import"; }
  if [[ -s $TMP/imp.err ]]; then
    head -5 "$TMP/imp.err" >&2
    die "sqlite3 .import complained"
  fi
  IMP+=("$t")
  FLOOR_BYTES=$(stat -c %s "$TMP/floor.sqlite")
  got=$(sqlite3 "$TMP/floor.sqlite" 'SELECT count(*) FROM llm_operations')
  [[ $got == "$N" ]] || die "sqlite3 .import made $got rows, not $N"
  rm -f "$TMP/floor.sqlite"
done

# ---------------------------------------------------------------- report
# med I LINES...: median of column I of the "wall user sys" lines
med() {
  local i=$1 l
  shift
  for l in "$@"; do col "$i" "$l"; done | stats | cut -d' ' -f2
}
cpu_med() {
  local l
  for l in "$@"; do calc "$(col 2 "$l") + $(col 3 "$l")"; echo; done | stats | cut -d' ' -f2
}
row() { # NAME BYTES LINES...
  local name=$1 bytes=$2 w c
  shift 2
  w=$(med 1 "$@")
  c=$(cpu_med "$@")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$(calc "$w" 3)" "$(calc "$c" 3)" \
    "$(calc "$N / $w" 0)" "$(calc "$bytes / 1048576 / $w" 1)" "$(calc "$bytes / 1048576" 0)"
}
ND_W=$(med 1 "${ND[@]}")
CAT_W=$(med 1 "${CAT[@]}")
ND_C=$(cpu_med "${ND[@]}")
CAT_C=$(cpu_med "${CAT[@]}")
if ((HAVE_SQLITE)); then
  SQ_W=$(med 1 "${SQ[@]}")
  IMP_W=$(med 1 "${IMP[@]}")
  SQ_C=$(cpu_med "${SQ[@]}")
  IMP_C=$(cpu_med "${IMP[@]}")
fi
raw() { local l; for l in "${@:2}"; do echo "$1 wall_s/user_s/sys_s $l"; done; }

cat <<EOF
## 6. Export of $N records (llmops export vs the raw floor)

Store: \`mkstore\` records (a chat completion's fields, ~10% errors, extras/argv/tool calls),
$GEN_NOTE. **Store size on disk: $(calc "$STORE_DU / $N" 0) bytes per record**
($(calc "$STORE_DU / 1048576" 0) MiB allocated, data.mdb $(calc "$STORE_APPARENT / 1048576" 0) MiB apparent;
written in shuffled order, as mkstore does, so B-tree pages are partly filled). NDJSON output:
$(calc "$NDJSON_BYTES / $N" 0) bytes per record. Files on the same disk (page-cached; the store
and the CSV are read once before timing). Wall = bash \`time\`, CPU = user+sys of the command;
median of $REPS run(s) each (cat: $((REPS * CAT_REPS)) runs).

| command | wall s | CPU s | records/s | MiB/s of its output | output MiB |
|---|---|---|---|---|---|
$(row "llmops export --format ndjson --out FILE" "$NDJSON_BYTES" "${ND[@]}")
$(row "floor: cat FILE >/dev/null (that NDJSON)" "$NDJSON_BYTES" "${CAT[@]}")
$(row "llmops export --format csv --out FILE" "$CSV_BYTES" "${CS[@]}")
$(row "llmops stats (table, by provider,model)" 0 "${STA[@]}")
$(if ((HAVE_SQLITE)); then
    row "llmops export --format sqlite --out DB (fresh file)" "$SQLITE_BYTES" "${SQ[@]}"
    row "floor: sqlite3 .mode csv / .import of the CSV (fresh file)" "$FLOOR_BYTES" "${IMP[@]}"
  fi)

**NDJSON: export / cat = $(ratio "$ND_W" "$CAT_W")** wall ($(ratio "$ND_C" "$CAT_C") CPU).
**CSV: $(calc "$N / $(med 1 "${CS[@]}")" 0) records/s** wall ($(calc "$N / $(cpu_med "${CS[@]}")" 0) per CPU second; goal ≥ 80,000).
**stats on $N records: $(calc "$(med 1 "${STA[@]}")" 2) s** wall ($(calc "$(cpu_med "${STA[@]}")" 2) s CPU; goal ≤ 3 s for 1,000,000).
$(if ((HAVE_SQLITE)); then
    echo "**SQLite: export / sqlite3 .import = $(ratio "$SQ_W" "$IMP_W")** wall ($(ratio "$SQ_C" "$IMP_C") CPU; goal ≤ 1.0)."
  else echo "SQLite: skipped (no sqlite3 CLI; apt-get install sqlite3)."; fi)

The SQLite floor imports the CSV export ${CSV_NOTE:-(cached)} into a table with the CSV's
${#CSV_COLS[@]} columns, llm_operations' types and primary key and the same indexes
(timestamp_us, which the CSV lacks, indexed as timestamp), in the one transaction
\`.import\` opens, with SQLite's default sync; \`llmops\` also fills timestamp_us and
end_timestamp_us and binds typed values (NULLs, integers) where \`.import\` stores CSV text.
The floors do no decoding: the gap is msgpack decoding, the JSON/SQL value conversion and
formatting per record.

\`\`\`
$(raw "ndjson export" "${ND[@]}")
$(raw "csv export   " "${CS[@]}")
$(raw "stats        " "${STA[@]}")
$(raw "cat          " "${CAT[@]}")
$(if ((HAVE_SQLITE)); then
    raw "sqlite export" "${SQ[@]}"
    raw "sqlite3 import" "${IMP[@]}"
  fi)
\`\`\`

Section time: $((SECONDS - T0)) s.
EOF
