#!/usr/bin/env bash
# export --format parquet (tools/export_parquet.c, tools/parquet.c).
# Two independent readers, nodejs-polars and DuckDB (tests/node), read what we
# write and every value is compared (parquet_check.mjs): random tables from
# parquet_fuzz (the writer on its own: every type, nulls, row groups down to
# one row, big strings, extreme numbers), and exports of mkstore stores against
# the NDJSON export of the same store (every schema field typed, every value
# and null equal), with one and many row groups; then the usage and write
# errors.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PARQUET_FUZZ=${PARQUET_FUZZ:-$BUILD/tests/tools/parquet_fuzz}
CHECK=$SRC/tests/tools/parquet_check.mjs
NODE_DIR=$SRC/tests/node
if [[ ! -d $NODE_DIR/node_modules/nodejs-polars || ! -d $NODE_DIR/node_modules/@duckdb/node-api ]]; then
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2 || fail "npm ci failed"
fi

# --- the writer on random tables -----------------------------------------------
seed=${PARQUET_SEED:-1}
mkdir "$T/fuzz"
"$PARQUET_FUZZ" "$T/fuzz" 30 "$seed" || fail "parquet_fuzz seed $seed"
why=$(node "$CHECK" fuzz "$T/fuzz" 30 2>&1) || fail "fuzz seed $seed (PARQUET_SEED): $why"
ok "fuzz seed $seed: $why, read back by polars and duckdb"
rm -rf "$T/fuzz"

# --- exports -------------------------------------------------------------------
# records with the shapes mkstore's generator does not make
cat >"$T/edge.ndjson" <<'EOF'
{"timestamp":"2025-03-01T10:00:00.000001Z","end_timestamp":"2025-03-01T10:00:02Z","provider":"anthropic","model":"claude-sonnet-4-5","latency_ms":2.0,"temperature":0.0,"input_tokens":0,"output_tokens":9007199254740991,"response":"h\u00e9llo \u4e16\u754c \ud83d\ude00 \"quoted\"\n\ttab","session_id":"","extras":{"ticket":"T-1","nested":{"a":[1,2.5,null,true]}},"argv":["python3","-c","print('x')"],"stream":false,"truncated":true,"completion_args":"{\"model\":\"x\",\"messages\":[]}","status":"ok","reasoning_effort":"high","tier":{"a":[1,2.5,"\u2603"],"q\"k":"a,b\r\n"}}
{"timestamp":"1999-12-31T23:59:59.999999Z","provider":"openai","status":"error","error_type":"rate_limit","http_status":429,"pid":-1,"extras":{},"argv":[]}
EOF
"$MKSTORE" --db "$T/main" --count 400 --seed 11 --known --error-pct 20 --null-tokens-pct 30 \
    --json "$T/edge.ndjson"
expect_success "export ndjson" "$LLMOPS" export --db "$T/main"
mv "$T/out" "$T/main.ndjson"
expect_success "export parquet" "$LLMOPS" export --db "$T/main" --format parquet --out "$T/main.parquet"
[[ $(head -c 4 "$T/main.parquet") == PAR1 && $(tail -c 4 "$T/main.parquet") == PAR1 ]] ||
    fail "no PAR1 magic at both ends"

LLMOPS_PARQUET_ROWS=7 expect_success "export parquet, 7-row groups" \
    "$LLMOPS" export --db "$T/main" --format parquet --out "$T/groups.parquet"

# filters apply, standard output works, and an empty export is a valid file
expect_success "export parquet -" "$LLMOPS" export --db "$T/main" --format parquet --out - \
    --provider anthropic
mv "$T/out" "$T/anthropic.parquet"
expect_success "export ndjson anthropic" "$LLMOPS" export --db "$T/main" --provider anthropic
mv "$T/out" "$T/anthropic.ndjson"
[[ -s $T/anthropic.ndjson ]] || fail "no anthropic records to compare"
expect_success "export parquet, nothing matches" "$LLMOPS" export --db "$T/main" --format parquet \
    --out "$T/empty.parquet" --provider no-such-provider
: >"$T/empty.ndjson"
# main: one row group; groups: 7-row groups; anthropic: filtered, to stdout;
# empty: no records, still a valid file; the first edge record carries members
# of a newer schema (extra_fields)
why=$(node "$CHECK" export "$SRC/collector/record.h" "$T/main.parquet" "$T/main.ndjson" \
    "$T/groups.parquet" "$T/main.ndjson" "$T/anthropic.parquet" "$T/anthropic.ndjson" \
    "$T/empty.parquet" "$T/empty.ndjson" 2>&1) || fail "export: $why"
ok "parquet exports equal the NDJSON ones: $why"

# --- errors ----------------------------------------------------------------------
expect_error "parquet without --out" 2 "$LLMOPS" export --db "$T/main" --format parquet
if [[ -w /dev/full ]]; then
    expect_error "parquet to a full device" 1 "$LLMOPS" export --db "$T/main" --format parquet \
        --out /dev/full
fi
expect_error "parquet into a missing directory" 1 "$LLMOPS" export --db "$T/main" \
    --format parquet --out "$T/no/such/dir.parquet"
[[ ! -e $T/no ]] || fail "a failed export left a file"
echo "all $passed parquet checks passed"
