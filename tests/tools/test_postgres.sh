#!/usr/bin/env bash
# The PostgreSQL targets against a real server (scripts/pg-test-server: a
# private cluster in a temporary directory, installed when missing):
# `export --format postgres` (every value read back and compared with the
# NDJSON export, column types from information_schema, idempotence),
# `create-tables` (creating, and migrating an older table without losing its
# rows), and `sync`: three stores ("hosts") syncing at once into one database,
# re-runs, a sync that fails midway, one killed midway, one whose server
# connection dies midway, records that land late behind the cursor, and the
# cursor kept in the store without the password. Sums and counts come from
# Python on the NDJSON exports.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PGS=$SRC/scripts/pg-test-server
STATE=$T/pg.state
trap '"$PGS" stop "$STATE" >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
URL=$("$PGS" start "$STATE" 2>"$T/err") || fail "pg-test-server start: $(cat "$T/err")"
BASE=${URL%/*} # postgresql://llmops@127.0.0.1:PORT
PORT=${BASE##*:}
command -v psql >/dev/null || fail "psql is missing"
ok "private PostgreSQL server at $URL"

# q DB SQL: one query's rows, unaligned, '|' between columns
q() {
    psql -X -A -t -q -v ON_ERROR_STOP=1 "$BASE/$1" -c "$2"
}
for db in exp filt mig fresh fleet fail kill term late; do
    q llmops "CREATE DATABASE $db" || fail "CREATE DATABASE $db"
done

# sums FILE...: "count input output total" of NDJSON exports, as the database sums them
sums() {
    "$PY" - "$@" <<'EOF'
import json, sys
n = i = o = t = 0
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)
        n += 1
        i += r["input_tokens"] or 0
        o += r["output_tokens"] or 0
        t += r["total_tokens"] or 0
print(n, i, o, t)
EOF
}
db_sums() {
    q "$1" "SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
        coalesce(sum(total_tokens), 0) FROM llm_operations" | tr '|' ' '
}
# ndjson STORE OUT: the store's NDJSON export
ndjson() {
    expect_success "export ndjson $1" "$LLMOPS" export --db "$1"
    mv "$T/out" "$2"
}
# ulid_at FILE N: operation_id of the Nth record (1-based, time order)
ulid_at() {
    sed -n "${2}p" "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["operation_id"])'
}
# cursor STORE: the sync cursors kept in the store's meta database, "name=value" per line
cursor() {
    mdb_dump -s meta -p "$1" | "$PY" -c '
import sys
lines = sys.stdin.read().split("HEADER=END\n")[1].split("DATA=END")[0].splitlines()
for k, v in zip(lines[0::2], lines[1::2]):
    if k.strip().startswith("sync "):
        print("%s=%s" % (k.strip(), v.strip()))'
}

# --- export --format postgres ----------------------------------------------------------
"$MKSTORE" --db "$T/main" --count 3000 --seed 7 --known --end 2025-06-01T12:00:00Z
N=3001
ndjson "$T/main" "$T/main.ndjson"
expect_success "export postgres" "$LLMOPS" export --db "$T/main" --format postgres --to "$BASE/exp"
[[ ! -s $T/out ]] || fail "export postgres wrote to stdout: $(head -c 300 "$T/out")"
expect_success "export postgres again" "$LLMOPS" export --db "$T/main" --format postgres \
    --to "$BASE/exp"
want=$(sums "$T/main.ndjson")
[[ $(db_sums exp) == "$want" ]] || fail "after two exports: $(db_sums exp), want $want"
[[ $(q exp "SELECT count(DISTINCT operation_id) FROM llm_operations") -eq $N ]] ||
    fail "duplicate operation_ids"
ok "export --format postgres twice: $N rows, no duplicates, count and token sums exact ($want)"

q exp "SELECT row_to_json(t) FROM llm_operations t" >"$T/rows.json"
"$PY" - "$SRC/collector/record.h" "$T/rows.json" "$T/main.ndjson" <<'EOF' >"$T/why" ||
import datetime, json, re, sys
fields = re.findall(r'X\(\w+,\s*"(\w+)",\s*LLM_T_(\w+)\)', open(sys.argv[1]).read())
rows = {r["operation_id"]: r for r in map(json.loads, open(sys.argv[2]))}
recs = [json.loads(l) for l in open(sys.argv[3])]
assert len(rows) == len(recs), (len(rows), len(recs))
def us(t):
    d = datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
    return int(d.timestamp()) * 10**6 + d.microsecond
jsons = 0
for rec in recs:
    row = rows[rec["operation_id"]]
    for name, typ in fields:
        v, got = rec[name], row[name]
        if v is not None and typ == "TIME":
            v, got = us(v), us(got)
        elif v is not None and typ == "REAL":
            got = float(got)  # row_to_json writes a whole double as 2, not 2.0
        elif v is not None and typ == "JSON":
            v = json.loads(v)  # JSON text in the record, JSONB in the database
            jsons += 1
        assert got == v and type(got) == type(v), "%s %s: %r != %r" % (rec["operation_id"], name, got, v)
    for name in ("timestamp", "end_timestamp"):
        assert row[name + "_us"] == (us(rec[name]) if rec[name] else None), name
    # members of a newer schema (none here, tested below): NULL
    extra = {k: v for k, v in rec.items() if k not in dict(fields)} or None
    assert row["extra_fields"] == extra, (rec["operation_id"], row["extra_fields"])
print("%d rows, %d JSON values" % (len(rows), jsons))
EOF
    fail "values: $(cat "$T/why")"
ok "every value read back equals the NDJSON one: times, floats, booleans, JSONB ($(cat "$T/why"))"

q exp "SELECT column_name, data_type FROM information_schema.columns
    WHERE table_name = 'llm_operations'" >"$T/cols"
"$PY" - "$SRC/collector/record.h" "$T/cols" <<'EOF' || fail "column types: $(cat "$T/cols")"
import re, sys
sql = {"STR": "text", "INT": "bigint", "REAL": "double precision", "BOOL": "boolean",
       "TIME": "timestamp with time zone", "JSON": "jsonb", "MAP": "jsonb", "ARRAY": "jsonb"}
want = {n: sql[t] for n, t in re.findall(r'X\(\w+,\s*"(\w+)",\s*LLM_T_(\w+)\)', open(sys.argv[1]).read())}
want.update(timestamp_us="bigint", end_timestamp_us="bigint", extra_fields="jsonb")
got = dict(l.rstrip("\n").split("|") for l in open(sys.argv[2]))
assert got == want, set(got.items()) ^ set(want.items())
assert {"timestamp with time zone", "jsonb", "bigint", "double precision", "boolean"} <= set(got.values())
EOF
idx=$(q exp "SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes
    WHERE tablename = 'llm_operations'")
[[ $idx == "llm_operations_model llm_operations_pkey llm_operations_provider llm_operations_session_id llm_operations_timestamp_us" ]] ||
    fail "indexes: $idx"
[[ $(q exp "SELECT value FROM llmops_meta WHERE name = 'schema_version'") == 2 ]] ||
    fail "llmops_meta: no schema_version 2"
ok "information_schema: timestamptz, jsonb, bigint, double precision, boolean, text per the schema; indexes; llmops_meta"

expect_success "filtered export" "$LLMOPS" export --db "$T/main" --format postgres \
    --to "$BASE/filt" --provider anthropic --min-tokens 100
want=$("$PY" -c 'import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
print(sum(1 for r in rs if r["provider"] == "anthropic" and
          (r["input_tokens"] is not None or r["output_tokens"] is not None) and
          (r["input_tokens"] or 0) + (r["output_tokens"] or 0) >= 100))' "$T/main.ndjson")
[[ $(q filt "SELECT count(*) FROM llm_operations") -eq $want && $want -gt 0 ]] ||
    fail "filtered: $(q filt "SELECT count(*) FROM llm_operations"), want $want"
ok "filters apply to export --format postgres ($want rows)"

"$MKSTORE" --db "$T/bad" --count 50 --garbage >/dev/null
run "$LLMOPS" export --db "$T/bad" --format postgres --to "$BASE/fresh"
[[ $rc -eq 3 ]] || fail "export postgres: a record that is not msgpack: exit $rc, want 3: $(cat "$T/err")"
grep -q '^llmops: export: 1 corrupt record skipped$' "$T/err" || fail "no count: $(cat "$T/err")"
[[ $(q fresh "SELECT count(*) FROM llm_operations") -eq 50 ]] ||
    fail "a corrupt record cost others: $(q fresh "SELECT count(*) FROM llm_operations") rows of 50"
ok "export postgres: a corrupt record is skipped with a warning, the 50 others loaded, exit 3"
[[ -z $(cursor "$T/main") ]] || fail "export wrote a sync cursor: $(cursor "$T/main")"

# --- create-tables ---------------------------------------------------------------------
q fresh "DROP TABLE llm_operations; DROP TABLE llmops_meta"
expect_success "create-tables fresh" "$LLMOPS" create-tables --to "$BASE/fresh"
[[ $(cat "$T/out") == "$BASE/fresh: created llm_operations (schema 2)" ]] ||
    fail "create-tables: $(cat "$T/out")"
expect_success "create-tables again" "$LLMOPS" create-tables --to "$BASE/fresh"
grep -q 'up to date (schema 2)' "$T/out" || fail "create-tables again: $(cat "$T/out")"
# a schema-1 table (before cost_source) is migrated to schema 2
q fresh "ALTER TABLE llm_operations DROP COLUMN cost_source;
    UPDATE llmops_meta SET value = '1' WHERE name = 'schema_version'"
expect_success "create-tables schema 1 -> 2" "$LLMOPS" create-tables --to "$BASE/fresh"
[[ $(cat "$T/out") == "$BASE/fresh: added 1 column to llm_operations (schema 1 -> 2)" ]] ||
    fail "create-tables 1 -> 2: $(cat "$T/out")"
[[ $(q fresh "SELECT data_type FROM information_schema.columns WHERE table_name = 'llm_operations'
    AND column_name = 'cost_source'") == text ]] || fail "no cost_source column after migration"

# an older llmops's table: fewer columns, rows in it
q mig "CREATE TABLE llm_operations (operation_id TEXT NOT NULL PRIMARY KEY,
    timestamp TIMESTAMPTZ, provider TEXT, input_tokens BIGINT);
    INSERT INTO llm_operations VALUES ('old-1', '2020-01-01T00:00:00Z', 'openai', 10),
    ('old-2', NULL, 'anthropic', 20), ('old-3', NULL, NULL, NULL)"
ncols=$(("$(q exp "SELECT count(*) FROM information_schema.columns WHERE table_name = 'llm_operations'")"))
expect_success "create-tables migrate" "$LLMOPS" create-tables --to "$BASE/mig"
[[ $(cat "$T/out") == "$BASE/mig: added $((ncols - 4)) columns to llm_operations (schema 0 -> 2)" ]] ||
    fail "migrate: $(cat "$T/out")"
[[ $(q mig "SELECT string_agg(operation_id || ':' || coalesce(input_tokens, -1), ',' ORDER BY 1)
    FROM llm_operations") == "old-1:10,old-2:20,old-3:-1" ]] || fail "migration lost rows"
q mig "SELECT column_name, data_type FROM information_schema.columns
    WHERE table_name = 'llm_operations'" | sort >"$T/mig.cols"
sort "$T/cols" | cmp -s - "$T/mig.cols" || fail "migrated columns differ: $(diff <(sort "$T/cols") "$T/mig.cols")"
expect_success "export into the migrated table" "$LLMOPS" export --db "$T/main" --format postgres \
    --to "$BASE/mig"
[[ $(q mig "SELECT count(*) FROM llm_operations") -eq $((N + 3)) ]] || fail "export after migration"
ok "create-tables: creates, then up to date; an older table gets its $((ncols - 4)) missing columns (same types), keeps its 3 rows, takes exports"

# a schema 1 table (before the trace context): its three columns are added
q fresh "INSERT INTO llm_operations (operation_id, provider) VALUES ('v1', 'openai');
    ALTER TABLE llm_operations DROP COLUMN trace_id, DROP COLUMN parent_span_id,
    DROP COLUMN trace_state; UPDATE llmops_meta SET value = '1' WHERE name = 'schema_version'"
expect_success "create-tables 1 -> 2" "$LLMOPS" create-tables --to "$BASE/fresh"
[[ $(cat "$T/out") == "$BASE/fresh: added 3 columns to llm_operations (schema 1 -> 2)" ]] ||
    fail "migrate 1 -> 2: $(cat "$T/out")"
[[ $(q fresh "SELECT provider || ':' || coalesce(trace_id, 'null') FROM llm_operations") == openai:null ]] ||
    fail "migration 1 -> 2 lost the row"
q fresh "SELECT column_name, data_type FROM information_schema.columns
    WHERE table_name = 'llm_operations'" | sort | cmp -s - <(sort "$T/cols") ||
    fail "the table migrated from schema 1 differs"
q fresh "DELETE FROM llm_operations"
ok "create-tables brings a schema 1 table to 2: trace_id, parent_span_id, trace_state added, rows kept"

# a schema 2 table from before extra_fields (an export column, not a record
# field: the schema stays 2) gets it; records of a newer schema fill it
q fresh "ALTER TABLE llm_operations DROP COLUMN extra_fields"
expect_success "create-tables extra_fields" "$LLMOPS" create-tables --to "$BASE/fresh"
[[ $(cat "$T/out") == "$BASE/fresh: added 1 column to llm_operations (schema 2 -> 2)" ]] ||
    fail "migrate to extra_fields: $(cat "$T/out")"
q fresh "SELECT column_name, data_type FROM information_schema.columns
    WHERE table_name = 'llm_operations'" | sort | cmp -s - <(sort "$T/cols") ||
    fail "the table migrated to extra_fields differs"
printf '%s\n' '{"timestamp": "2025-05-01T10:00:00.000001Z", "model": "m", "tier": {"a": [1, 2.5, "\u2603"], "n": null}, "q\"k": "a,b\r\n"}' \
    '{"timestamp": "2025-05-01T10:00:01.000001Z", "model": "n"}' >"$T/newer.json"
"$MKSTORE" --db "$T/newer" --count 0 --json "$T/newer.json"
expect_success "export newer postgres" "$LLMOPS" export --db "$T/newer" --format postgres \
    --to "$BASE/fresh"
q fresh "SELECT coalesce(extra_fields::text, 'NULL') FROM llm_operations ORDER BY timestamp" >"$T/extra"
"$PY" - "$T/extra" <<'EOF' || fail "extra_fields in PostgreSQL: $(cat "$T/extra")"
import json, sys
rows = open(sys.argv[1]).read().splitlines()
assert json.loads(rows[0]) == {"tier": {"a": [1, 2.5, "\u2603"], "n": None}, "q\"k": "a,b\r\n"}, rows[0]
assert rows[1:] == ["NULL"], rows
EOF
q fresh "DELETE FROM llm_operations"
ok "create-tables adds extra_fields (jsonb) to a schema 2 table; a newer schema's members land in it, NULL without"

# --- sync: three hosts at once ------------------------------------------------------------
"$MKSTORE" --db "$T/h1" --count 2500 --seed 11 --end 2025-06-01T12:00:00Z
"$MKSTORE" --db "$T/h2" --count 3000 --seed 12 --end 2025-06-01T12:00:00Z
"$MKSTORE" --db "$T/h3" --count 2200 --seed 13 --end 2025-06-01T11:00:00Z
for h in h1 h2 h3; do
    ndjson "$T/$h" "$T/$h.ndjson"
done
# h2 names a password (trust auth ignores it): it must not reach the store or any output
FLEET=$BASE/fleet
FLEET_PW=postgresql://llmops:pw-Zq81@127.0.0.1:$PORT/fleet
pids=()
for h in h1 h2 h3; do
    to=$FLEET
    [[ $h != h2 ]] || to=$FLEET_PW
    "$LLMOPS" sync --db "$T/$h" --to "$to" --batch 500 >"$T/$h.out" 2>"$T/$h.err" &
    pids+=($!)
done
for i in 0 1 2; do
    wait "${pids[$i]}" || fail "sync h$((i + 1)): $(cat "$T/h$((i + 1)).err")"
done
for h in h1 h2 h3; do
    n=$(wc -l <"$T/$h.ndjson")
    last=$(ulid_at "$T/$h.ndjson" "$n")
    [[ $(cat "$T/$h.out") == "shipped $n records, cursor $last" && ! -s $T/$h.err ]] ||
        fail "sync $h: $(cat "$T/$h.out" "$T/$h.err")"
done
want=$(sums "$T/h1.ndjson" "$T/h2.ndjson" "$T/h3.ndjson")
[[ $(db_sums fleet) == "$want" ]] || fail "fleet: $(db_sums fleet), want $want"
ok "three stores synced concurrently (batches of 500): each shipped all it had; counts and token sums exact ($want)"

for h in h1 h2 h3; do
    to=$FLEET
    [[ $h != h2 ]] || to=$FLEET_PW
    expect_success "sync $h again" "$LLMOPS" sync --db "$T/$h" --to "$to"
    grep -q '^shipped 0 records, cursor ' "$T/out" || fail "sync $h again: $(cat "$T/out")"
done
[[ $(db_sums fleet) == "$want" ]] || fail "re-runs changed the fleet: $(db_sums fleet)"
ok "re-running every sync ships nothing"

n2=$(wc -l <"$T/h2.ndjson")
[[ $(cursor "$T/h2") == "sync $FLEET=$(ulid_at "$T/h2.ndjson" "$n2")" ]] ||
    fail "h2 cursor: $(cursor "$T/h2")"
! grep -rq 'pw-Zq81' "$T/h2" "$T/h2.out" "$T/h2.err" "$T/out" || fail "the password reached the store or output"
ok "the cursor is in the store: '$(cursor "$T/h2")' (URL without its password)"

"$MKSTORE" --db "$T/h1" --count 300 --seed 21 --end 2025-06-02T00:00:00Z
ndjson "$T/h1" "$T/h1.ndjson"
expect_success "sync after more" "$LLMOPS" sync --db "$T/h1" --to "$FLEET"
[[ $(cat "$T/out") == "shipped 300 records, cursor $(ulid_at "$T/h1.ndjson" 2800)" ]] ||
    fail "sync after 300 more: $(cat "$T/out")"
want=$(sums "$T/h1.ndjson" "$T/h2.ndjson" "$T/h3.ndjson")
[[ $(db_sums fleet) == "$want" ]] || fail "fleet after more: $(db_sums fleet), want $want"
ok "after 300 new records a sync ships exactly those"

# --- sync interrupted midway --------------------------------------------------------------
"$MKSTORE" --db "$T/big" --count 6000 --seed 31 --end 2025-06-01T12:00:00Z
ndjson "$T/big" "$T/big.ndjson"
want=$(sums "$T/big.ndjson")
# a trigger that fails the row at position P, then one that stalls there
trap_row() { # DB MODE ULID
    local body="RAISE EXCEPTION 'test trigger: no row %', NEW.operation_id;"
    [[ $2 == fail ]] || body="PERFORM pg_sleep(60);"
    q "$1" "CREATE FUNCTION trap() RETURNS trigger LANGUAGE plpgsql AS \$\$
        BEGIN IF NEW.operation_id = '$3' THEN $body END IF; RETURN NEW; END \$\$;
        CREATE TRIGGER trap BEFORE INSERT ON llm_operations FOR EACH ROW EXECUTE FUNCTION trap()"
}
for db in fail kill term; do
    expect_success "create-tables $db" "$LLMOPS" create-tables --to "$BASE/$db"
done

trap_row fail fail "$(ulid_at "$T/big.ndjson" 3200)"
expect_error "sync failing in its 4th batch" 1 "$LLMOPS" sync --db "$T/big" --to "$BASE/fail" \
    --batch 1000
grep -q 'test trigger: no row' "$T/err" || fail "the error does not give the reason: $(cat "$T/err")"
[[ $(q fail "SELECT count(*) FROM llm_operations") -eq 3000 ]] || fail "after the failure"
[[ $(cursor "$T/big") == "sync $BASE/fail=$(ulid_at "$T/big.ndjson" 3000)" ]] ||
    fail "cursor after the failure: $(cursor "$T/big")"
q fail "DROP TRIGGER trap ON llm_operations"
expect_success "sync after the failure" "$LLMOPS" sync --db "$T/big" --to "$BASE/fail" --batch 1000
[[ $(cat "$T/out") == "shipped 3000 records, cursor $(ulid_at "$T/big.ndjson" 6000)" ]] ||
    fail "resume: $(cat "$T/out")"
[[ $(db_sums fail) == "$want" ]] || fail "after resuming: $(db_sums fail), want $want"
ok "a sync failing midway committed 3 batches, kept the cursor at the 3000th record; the next run shipped the other 3000 (sums exact)"

# stall_sync DB: starts a sync stalled in its 3rd batch; waits for the stall
stall_sync() {
    trap_row "$1" stall "$(ulid_at "$T/big.ndjson" 2500)"
    "$LLMOPS" sync --db "$T/big" --to "$BASE/$1" --batch 1000 >"$T/bg.out" 2>"$T/bg.err" &
    bg=$!
    for _ in $(seq 150); do
        [[ $(q "$1" "SELECT count(*) FROM pg_stat_activity
            WHERE application_name = 'llmops' AND wait_event = 'PgSleep'") -eq 1 ]] && return
        sleep 0.1
    done
    fail "the sync into $1 never reached the stalled row"
}
backend_end() { # DB: ends the sync's server connection, as a server going away would
    q "$1" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
        WHERE application_name = 'llmops' AND datname = '$1'" >/dev/null
}
resume() { # DB: the next run ships the rest, totals exact
    q "$1" "DROP TRIGGER trap ON llm_operations"
    expect_success "sync $1 resumed" "$LLMOPS" sync --db "$T/big" --to "$BASE/$1" --batch 1000
    [[ $(cat "$T/out") == "shipped 4000 records, cursor $(ulid_at "$T/big.ndjson" 6000)" ]] ||
        fail "resume $1: $(cat "$T/out")"
    [[ $(db_sums "$1") == "$want" ]] || fail "after resuming $1: $(db_sums "$1"), want $want"
}

stall_sync kill
[[ $(q kill "SELECT count(*) FROM llm_operations") -eq 2000 ]] || fail "before the kill"
{ kill -9 "$bg" && wait "$bg"; } 2>/dev/null || true # (no "Killed" note from bash)
backend_end kill
[[ $(q kill "SELECT count(*) FROM llm_operations") -eq 2000 ]] || fail "after the kill"
[[ $(cursor "$T/big" | grep "/kill=") == "sync $BASE/kill=$(ulid_at "$T/big.ndjson" 2000)" ]] ||
    fail "cursor after the kill: $(cursor "$T/big")"
resume kill
ok "a sync killed (SIGKILL) in its 3rd batch left 2000 rows and its cursor; the next run shipped 4000 (sums exact)"

stall_sync term
backend_end term
rc=0
wait "$bg" || rc=$?
[[ $rc -eq 1 && $(wc -l <"$T/bg.err") -eq 1 && ! -s $T/bg.out ]] ||
    fail "sync whose server went away: exit $rc, $(cat "$T/bg.out" "$T/bg.err")"
grep -Eq '^llmops: postgresql://.*(terminat|closed).*: database error$' "$T/bg.err" ||
    fail "server gone: $(cat "$T/bg.err")"
[[ $(q term "SELECT count(*) FROM llm_operations") -eq 2000 ]] || fail "after the server went away"
resume term
ok "a sync whose server connection died midway exits 1 with one line ($(cat "$T/bg.err")); the next run completes"

# --- records committed late, behind the cursor ---------------------------------------------
# Keys are a call's start, but a record is written when the call ends: records
# newer than --settle seconds are shipped yet kept ahead of the cursor.
"$MKSTORE" --db "$T/live" --count 600 --seed 41 # the last ~20 minutes, ending now
ndjson "$T/live" "$T/live.ndjson"
expect_success "sync live" "$LLMOPS" sync --db "$T/live" --to "$BASE/late"
grep -q '^shipped 600 records, cursor ' "$T/out" || fail "sync live: $(cat "$T/out")"
[[ $(cat "$T/out") != *"$(ulid_at "$T/live.ndjson" 600)" ]] || fail "the cursor passed the settle horizon"
end=$(date -u -d '-40 seconds' +%Y-%m-%dT%H:%M:%SZ)
"$MKSTORE" --db "$T/live" --count 5 --seed 42 --end "$end" # a long call, committed after the sync
ndjson "$T/live" "$T/live.ndjson"
expect_success "sync late" "$LLMOPS" sync --db "$T/live" --to "$BASE/late"
grep -q '^shipped 5 records, cursor ' "$T/out" || fail "late records: $(cat "$T/out")"
[[ $(db_sums late) == "$(sums "$T/live.ndjson")" ]] || fail "late: $(db_sums late)"
expect_success "sync live again" "$LLMOPS" sync --db "$T/live" --to "$BASE/late"
grep -q '^shipped 0 records, cursor ' "$T/out" || fail "live again: $(cat "$T/out")"
ok "records keyed before the last one shipped but written after it are shipped by the next sync"

# --- errors -----------------------------------------------------------------------------------
for cmd in "sync --db $T/h1 --to" "export --db $T/h1 --format postgres --to" "create-tables --to"; do
    # shellcheck disable=SC2086
    expect_error "$cmd unreachable" 1 "$LLMOPS" $cmd "postgresql://llmops:pw-Zq81@127.0.0.1:1/x"
    grep -q 'Connection refused' "$T/err" && ! grep -q 'pw-Zq81' "$T/err" ||
        fail "unreachable: $(cat "$T/err")"
done
expect_error "password= parameter" 1 "$LLMOPS" sync --db "$T/h1" \
    --to "postgresql://127.0.0.1:1/x?password=pw-Zq81&sslmode=disable"
! grep -q 'pw-Zq81' "$T/err" || fail "password parameter printed: $(cat "$T/err")"
expect_error "a password libpq cannot decode" 1 "$LLMOPS" sync --db "$T/h1" \
    --to "postgresql://u:pw-Zq81%zz@127.0.0.1:1/x"
! grep -q 'pw-Zq81' "$T/err" || fail "undecodable password printed: $(cat "$T/err")"
expect_error "no such database" 1 "$LLMOPS" sync --db "$T/h1" --to "$BASE/nosuchdb"
grep -q 'does not exist' "$T/err" || fail "no such database: $(cat "$T/err")"
[[ $(cursor "$T/h1" | wc -l) -eq 1 ]] || fail "failed syncs wrote cursors: $(cursor "$T/h1")"
expect_error "sync without --to" 2 "$LLMOPS" sync --db "$T/h1"
expect_error "sync --to sqlite:" 2 "$LLMOPS" sync --db "$T/h1" --to "sqlite:$T/x.db"
expect_error "sync --batch 0" 2 "$LLMOPS" sync --db "$T/h1" --to "$FLEET" --batch 0
expect_error "sync missing store" 1 "$LLMOPS" sync --db "$T/nope" --to "$FLEET"
expect_error "export postgres without --to" 2 "$LLMOPS" export --db "$T/h1" --format postgres
expect_error "export --to without postgres" 2 "$LLMOPS" export --db "$T/h1" --to "$FLEET"
expect_success "sync --help" "$LLMOPS" sync --help
grep -q -- '--settle' "$T/out" && grep -q -- '--min-latency' "$T/out" || fail "sync --help"
ok "errors: one line, exit 1 with libpq's reason and never the password; usage errors exit 2"
echo "all $passed passed"
