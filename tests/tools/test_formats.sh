#!/usr/bin/env bash
# The export formats beyond NDJSON (csv, sqlite, sql) and create-tables.
# Each format is read back by an independent reader (Python's csv and sqlite3
# modules, the sqlite3 CLI, nodejs-polars, PostgreSQL's own parser through
# pglast) and compared with the NDJSON export of the same store, which
# test_cli.sh checks against what mkstore wrote.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SQLITE=${SQLITE:-sqlite3}
command -v "$SQLITE" >/dev/null || fail "the sqlite3 CLI is missing (scripts/install-deps test)"

# count DB: rows in llm_operations, through the sqlite3 CLI
count() {
    "$SQLITE" "$1" "SELECT count(*) FROM llm_operations"
}

# check_db DB NDJSON: every record is one row, every value typed and equal
check_db() {
    "$PY" - "$SRC/collector/record.h" "$1" "$2" <<'EOF'
import calendar, datetime, json, re, sqlite3, sys
header = open(sys.argv[1]).read()
fields = re.findall(r'X\(\w+,\s*"(\w+)",\s*LLM_T_(\w+)\)', header)
db = sqlite3.connect(sys.argv[2])
db.row_factory = sqlite3.Row
rows = {r["operation_id"]: r for r in db.execute("SELECT * FROM llm_operations")}
recs = [json.loads(l) for l in open(sys.argv[3])]
assert len(rows) == len(recs), "%d rows for %d records" % (len(rows), len(recs))

def us(t):
    if t is None:
        return None
    d = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
    return calendar.timegm(d.utctimetuple()) * 10**6 + d.microsecond

for rec in recs:
    row = rows[rec["operation_id"]]
    for name, typ in fields:
        v, got = rec[name], row[name]
        if v is None:
            want = None
        elif typ == "BOOL":
            want = int(v)
        elif typ in ("MAP", "ARRAY"):
            want, got = v, json.loads(got)
        else:
            want = v
        assert got == want and type(got) == type(want), \
            "%s %s: %r (%s) != %r" % (rec["operation_id"], name, got, type(got), want)
    for name in ("timestamp", "end_timestamp"):
        assert row[name + "_us"] == us(rec[name]), (name, row[name + "_us"], rec[name])
    # members of a newer schema: one JSON object, NULL when there are none
    extra = {k: v for k, v in rec.items() if k not in dict(fields)} or None
    got = row["extra_fields"]
    assert (got if got is None else json.loads(got)) == extra, (rec["operation_id"], got, extra)
print("%d rows" % len(rows))
EOF
}

N=500
"$MKSTORE" --db "$T/main" --count $N --seed 7 --known
N=$((N + 1))
expect_success "export ndjson" "$LLMOPS" export --db "$T/main"
mv "$T/out" "$T/main.ndjson"
known=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["operation_id"])' \
    "$T/main.ndjson")

# --- csv ----------------------------------------------------------------------
expect_success "export csv" "$LLMOPS" export --db "$T/main" --format csv
mv "$T/out" "$T/main.csv"
"$PY" - "$SRC/collector/record.h" "$T/main.csv" "$T/main.ndjson" <<'EOF' >"$T/why" ||
import csv, io, json, re, sys
header = open(sys.argv[1]).read()
fields = re.findall(r'X\(\w+,\s*"(\w+)",\s*LLM_T_(\w+)\)', header)
raw = open(sys.argv[2], "rb").read().decode("utf-8")
recs = [json.loads(l) for l in open(sys.argv[3])]
# RFC 4180: every record ends in CRLF; a bare LF appears only inside quotes
quoted, ends = False, 0
for i, ch in enumerate(raw):
    if ch == '"':
        quoted = not quoted
    elif ch == "\n" and not quoted:
        assert raw[i - 1] == "\r", "bare LF ending the line at offset %d" % i
        ends += 1
assert raw.endswith("\r\n") and not quoted and ends == len(recs) + 1, (ends, len(recs))
rows = list(csv.reader(io.StringIO(raw, newline=""), strict=True))
assert rows[0] == [f for f, _ in fields] + ["extra_fields"], "header: %s" % rows[0]
assert len(rows) == len(recs) + 1, len(rows)
for rec, row in zip(recs, rows[1:]):
    assert len(row) == len(fields) + 1 and row[-1] == "", row[len(fields):]
    for (name, typ), cell in zip(fields, row):
        v = rec[name]
        what = "%s %s: %r vs %r" % (rec["operation_id"], name, cell, v)
        if v is None:
            assert cell == "", what
        elif isinstance(v, bool):
            assert cell == ("true" if v else "false"), what
        elif isinstance(v, int):
            assert re.fullmatch(r"-?\d+", cell) and int(cell) == v, what
        elif isinstance(v, float):
            assert re.search(r"[.eE]", cell) and float(cell) == v, what
        elif isinstance(v, (dict, list)):
            assert json.loads(cell) == v, what
        else:
            assert cell == v, what
for name, typ in fields:  # a float column keeps its point even for whole values
    if typ == "REAL":
        i = [f for f, _ in fields].index(name)
        assert all(re.search(r"[.eE]", r[i]) for r in rows[1:] if r[i]), name
whole = sum(1 for r in recs if r["temperature"] is not None and r["temperature"] == int(r["temperature"]))
assert whole > 0, "no whole-valued float to check"
print("%d rows, %d whole-valued temperatures" % (len(recs), whole))
EOF
    fail "csv: $(cat "$T/why")"
ok "csv: RFC 4180 with CRLF, header of every field, values equal to the NDJSON ones ($(cat "$T/why"))"

expect_success "export csv --out" "$LLMOPS" export --db "$T/main" --format csv --out "$T/file.csv"
cmp -s "$T/file.csv" "$T/main.csv" || fail "csv --out differs from stdout"
ok "csv --out FILE equals the standard output export"

NODE_DIR=$SRC/tests/node
if [[ ! -d $NODE_DIR/node_modules/nodejs-polars ]]; then
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2 || fail "npm ci failed"
fi
node "$SRC/tests/tools/polars_formats.mjs" "$T/main.csv" $N >"$T/polars" 2>"$T/err" ||
    fail "polars: $(cat "$T/err")"
want_sum=$("$PY" -c 'import json, sys
print(sum(json.loads(l)["input_tokens"] or 0 for l in open(sys.argv[1])))' "$T/main.ndjson")
grep -qx "input_tokens_sum=$want_sum" "$T/polars" || fail "polars sum: $(cat "$T/polars"), want $want_sum"
ok "nodejs-polars readCSV: Int64 tokens, Float64 latency, Boolean stream; token sum $want_sum"

# --- sqlite ---------------------------------------------------------------------
expect_success "export sqlite" "$LLMOPS" export --db "$T/main" --format sqlite --out "$T/main.db"
[[ ! -s $T/out ]] || fail "export sqlite wrote to stdout"
[[ $(count "$T/main.db") -eq $N ]] || fail "sqlite: $(count "$T/main.db") rows, want $N"
[[ $(stat -c %a "$T/main.db") == 600 ]] || fail "sqlite file mode $(stat -c %a "$T/main.db")"
check_db "$T/main.db" "$T/main.ndjson" >"$T/why" || fail "sqlite values: $(cat "$T/why")"
ok "sqlite: $N rows (mode 0600), every value equal to the NDJSON one ($(cat "$T/why"))"

types=$("$SQLITE" "$T/main.db" "SELECT typeof(operation_id), typeof(schema_version),
    typeof(timestamp), typeof(timestamp_us), typeof(latency_ms), typeof(stream),
    typeof(input_tokens), typeof(extras), typeof(argv), typeof(total_tokens), stream, timestamp_us
    FROM llm_operations WHERE operation_id = '$known'")
[[ $types == "text|integer|text|integer|real|integer|integer|text|text|null|1|1709210096789012" ]] ||
    fail "typeof on the known record: $types"
"$SQLITE" "$T/main.db" "SELECT name, type, pk FROM pragma_table_info('llm_operations')" >"$T/cols"
"$PY" - "$SRC/collector/record.h" "$T/cols" <<'EOF' || fail "sqlite column types: $(cat "$T/cols")"
import re, sys
header = open(sys.argv[1]).read()
sql = {"STR": "TEXT", "INT": "INTEGER", "REAL": "REAL", "BOOL": "INTEGER", "TIME": "TEXT",
       "JSON": "TEXT", "MAP": "TEXT", "ARRAY": "TEXT"}
want = {n: sql[t] for n, t in re.findall(r'X\(\w+,\s*"(\w+)",\s*LLM_T_(\w+)\)', header)}
want.update(timestamp_us="INTEGER", end_timestamp_us="INTEGER", extra_fields="TEXT")
got = {}
for line in open(sys.argv[2]):
    name, typ, pk = line.rstrip("\n").split("|")
    got[name] = typ
    assert (pk == "1") == (name == "operation_id"), line
assert got == want, set(got.items()) ^ set(want.items())
EOF
ok "sqlite: typeof() per column on a known record; declared types follow the schema types"

"$SQLITE" "$T/main.db" "SELECT name FROM sqlite_master WHERE type = 'index' AND
    tbl_name = 'llm_operations' AND sql IS NOT NULL ORDER BY name" | tr '\n' ' ' >"$T/idx"
want="llm_operations_model llm_operations_provider llm_operations_session_id"
[[ $(cat "$T/idx") == "$want llm_operations_timestamp_us " ]] ||
    fail "indexes: $(cat "$T/idx")"
"$SQLITE" "$T/main.db" "EXPLAIN QUERY PLAN SELECT count(*) FROM llm_operations
    WHERE timestamp_us >= 1700000000000000" | grep -q 'llm_operations_timestamp_us' ||
    fail "a timestamp_us range does not use its index"
[[ $("$SQLITE" "$T/main.db" "SELECT value FROM llmops_meta WHERE name = 'schema_version'") == 2 ]] ||
    fail "llmops_meta has no schema_version 2"
ok "sqlite: indexes on timestamp_us, provider, model, session_id (used); llmops_meta schema_version 2"

expect_success "export sqlite again" "$LLMOPS" export --db "$T/main" --format sqlite --out "$T/main.db"
[[ $(count "$T/main.db") -eq $N ]] || fail "the same export twice: $(count "$T/main.db") rows"
"$MKSTORE" --db "$T/main" --count 120 --seed 8
expect_success "export ndjson after more" "$LLMOPS" export --db "$T/main"
mv "$T/out" "$T/more.ndjson"
expect_success "export sqlite after more" "$LLMOPS" export --db "$T/main" --format sqlite \
    --out "$T/main.db"
[[ $(count "$T/main.db") -eq $((N + 120)) ]] ||
    fail "after 120 new records: $(count "$T/main.db") rows, want $((N + 120))"
check_db "$T/main.db" "$T/more.ndjson" >"$T/why" || fail "sqlite after more: $(cat "$T/why")"
ok "sqlite: exporting again adds nothing; after 120 new records it adds exactly those ($(cat "$T/why"))"
N=$((N + 120))
cp "$T/more.ndjson" "$T/main.ndjson"

expect_success "filtered sqlite" "$LLMOPS" export --db "$T/main" --format sqlite --out "$T/f.db" \
    --provider anthropic
want=$("$PY" -c 'import json, sys
print(sum(json.loads(l)["provider"] == "anthropic" for l in open(sys.argv[1])))' "$T/main.ndjson")
[[ $(count "$T/f.db") -eq $want && $want -gt 0 ]] || fail "filtered sqlite: $(count "$T/f.db"), want $want"
ok "sqlite export honours filters ($want anthropic rows)"

"$MKSTORE" --db "$T/bad" --count 50 --garbage >/dev/null
run "$LLMOPS" export --db "$T/bad" --format sqlite --out "$T/bad.db"
[[ $rc -eq 3 ]] || fail "sqlite: a record that is not msgpack: exit $rc, want 3: $(cat "$T/err")"
grep -q '; skipped$' "$T/err" && grep -q '^llmops: export: 1 corrupt record skipped$' "$T/err" ||
    fail "sqlite: corrupt record: $(cat "$T/err")"
[[ $(count "$T/bad.db") -eq 50 ]] || fail "a corrupt record cost others: $(count "$T/bad.db") rows of 50"
ok "sqlite: a corrupt record is skipped with a warning, the 50 others exported, exit 3"

# --- sql scripts ----------------------------------------------------------------
expect_success "export sql" "$LLMOPS" export --db "$T/main" --format sql
mv "$T/out" "$T/main.sql"
expect_success "export sql --dialect sqlite --out" "$LLMOPS" export --db "$T/main" --format sql \
    --dialect sqlite --out "$T/file.sql"
cmp -s "$T/main.sql" "$T/file.sql" || fail "--dialect sqlite --out differs from the default"
for i in 1 2; do
    "$SQLITE" -bail "$T/script.db" <"$T/main.sql" >"$T/load" 2>&1 || fail "sql load $i: $(cat "$T/load")"
    [[ ! -s $T/load ]] || fail "sql load $i printed: $(cat "$T/load")"
done
[[ $(count "$T/script.db") -eq $N ]] || fail "sql loaded twice: $(count "$T/script.db") rows, want $N"
check_db "$T/script.db" "$T/main.ndjson" >"$T/why" || fail "sql values: $(cat "$T/why")"
ok "sql (sqlite): loads twice into sqlite3 without error or duplicates, values equal ($(cat "$T/why"))"

expect_success "export sql postgres" "$LLMOPS" export --db "$T/main" --format sql --dialect postgres
mv "$T/out" "$T/pg.sql"
[[ $(sed -n 2,3p "$T/pg.sql" | tr '\n' ' ') == "SET standard_conforming_strings = on; BEGIN; " ]] ||
    fail "postgres script does not start with SET standard_conforming_strings and BEGIN"
[[ $(tail -n 1 "$T/pg.sql") == "COMMIT;" ]] || fail "postgres script does not end with COMMIT"
if "$PY" -c 'import pglast' 2>/dev/null; then
    "$PY" - "$T/pg.sql" "$T/main.ndjson" "$SRC/collector/record.h" <<'EOF' >"$T/why" ||
import json, re, sys
from decimal import Decimal
import pglast
from pglast import ast
stmts = [s.stmt for s in pglast.parse_sql(open(sys.argv[1]).read())]
recs = {r["operation_id"]: r for r in map(json.loads, open(sys.argv[2]))}
fields = dict(re.findall(r'X\(\w+,\s*"(\w+)",\s*LLM_T_(\w+)\)', open(sys.argv[3]).read()))
pg = {"STR": "text", "INT": "int8", "REAL": "float8", "BOOL": "bool", "TIME": "timestamptz",
      "JSON": "jsonb", "MAP": "jsonb", "ARRAY": "jsonb"}
create = [s for s in stmts if isinstance(s, ast.CreateStmt)]
assert len(create) == 1 and create[0].if_not_exists, "CREATE TABLE IF NOT EXISTS"
types = {c.colname: c.typeName.names[-1].sval for c in create[0].tableElts}
want = {n: pg[t] for n, t in fields.items()}
want.update(timestamp_us="int8", end_timestamp_us="int8", extra_fields="jsonb")
assert types == want, set(types.items()) ^ set(want.items())
indexes = sorted(s.idxname for s in stmts if isinstance(s, ast.IndexStmt))
assert len(indexes) == 4, indexes

def const(c):
    if c.isnull:
        return None
    v = c.val
    if isinstance(v, ast.Integer):
        return v.ival
    if isinstance(v, ast.Float):
        return Decimal(v.fval)
    if isinstance(v, ast.Boolean):
        return v.boolval
    return v.sval

seen = 0
for s in (s for s in stmts if isinstance(s, ast.InsertStmt)):
    assert s.onConflictClause.action.name == "ONCONFLICT_NOTHING", s.onConflictClause
    assert [e.name for e in s.onConflictClause.infer.indexElems] == ["operation_id"]
    cols = [c.name for c in s.cols]
    for row in s.selectStmt.valuesLists:
        vals = dict(zip(cols, map(const, row)))
        rec = recs[vals["operation_id"]]
        for name, typ in fields.items():
            v, got = rec[name], vals[name]
            what = "%s %s: %r vs %r" % (rec["operation_id"], name, got, v)
            if typ in ("MAP", "ARRAY"):
                assert (None if got is None else json.loads(got)) == v, what
            elif typ == "REAL" and v is not None:
                assert float(got) == v, what
            elif typ == "INT" and v is not None:
                assert int(got) == v, what
            else:  # text survives quoting exactly: quotes doubled, backslashes literal
                assert got == v and type(got) == type(v), what
        extra = {k: v for k, v in rec.items() if k not in fields} or None
        got = vals["extra_fields"]
        assert (got if got is None else json.loads(got)) == extra, (rec["operation_id"], got)
        seen += 1
assert seen == len(recs), (seen, len(recs))
print("%d rows, %d statements" % (seen, len(stmts)))
EOF
        fail "postgres script: $(cat "$T/why")"
    ok "sql (postgres): PostgreSQL's parser (pglast) reads it; the types per column;" \
        "every value parses back equal; ON CONFLICT DO NOTHING ($(cat "$T/why"))"
else
    skip "pglast is not installed (scripts/install-deps test): postgres script not parsed"
fi
"$PY" -c 'import sys; s = open(sys.argv[1]).read()
assert "\n\\ \u2603'"'"'" in s and "\\\\" not in s' "$T/pg.sql" ||
    fail "the known response's backslash is not written as one literal backslash"
ok "postgres script keeps the backslash literal (standard_conforming_strings)"

# --- records of a newer schema ------------------------------------------------------
# members this llmops does not know (a newer writer's) are kept in every table
# format as one JSON object, extra_fields, null when a record has none
cat >"$T/newer.json" <<'EOF'
{"timestamp": "2024-05-01T10:00:00.000001Z", "provider": "openai", "model": "gpt-4o", "input_tokens": 3, "reasoning_effort": "high", "service_tier": {"name": "flex", "weight": 0.5, "ok": true, "n": null}}
{"timestamp": "2024-05-01T10:00:01.000001Z", "provider": "anthropic", "model": "claude", "input_tokens": 4}
{"timestamp": "2024-05-01T10:00:02.000001Z", "provider": "openai", "model": "o3", "quote\"key": "a,b\r\n\u2603", "list": [1, 2.5, "x", [], {}], "big": -9007199254740993}
EOF
"$MKSTORE" --db "$T/newer" --count 0 --json "$T/newer.json"
expect_success "export newer ndjson" "$LLMOPS" export --db "$T/newer"
mv "$T/out" "$T/newer.ndjson"
"$PY" - "$T/newer.json" "$T/newer.ndjson" <<'EOF' || fail "ndjson lost members of a newer schema"
import json, sys
src = [json.loads(l) for l in open(sys.argv[1])]
out = [json.loads(l) for l in open(sys.argv[2])]
assert len(out) == 3 and all(all(o[k] == v for k, v in s.items()) for s, o in zip(src, out))
EOF
expect_success "export newer csv" "$LLMOPS" export --db "$T/newer" --format csv
"$PY" - "$T/out" "$T/newer.json" <<'EOF' >"$T/why" || fail "csv extra_fields: $(cat "$T/why")"
import csv, io, json, sys
rows = list(csv.reader(io.StringIO(open(sys.argv[1], newline="").read(), newline=""), strict=True))
src = [json.loads(l) for l in open(sys.argv[2])]
i = rows[0].index("extra_fields")
assert i == len(rows[0]) - 1, rows[0]
known = set(rows[0][:i])
for s, r in zip(src, rows[1:]):
    extra = {k: v for k, v in s.items() if k not in known}
    assert (json.loads(r[i]) if r[i] else {}) == extra, (r[i], extra)
    assert r[i] != "" or not extra
print(rows[1][i])
EOF
ok "csv: members of a newer schema in extra_fields ($(cat "$T/why"))"
expect_success "export newer sqlite" "$LLMOPS" export --db "$T/newer" --format sqlite --out "$T/newer.db"
check_db "$T/newer.db" "$T/newer.ndjson" >"$T/why" || fail "sqlite extra_fields: $(cat "$T/why")"
expect_success "export newer sql" "$LLMOPS" export --db "$T/newer" --format sql --out "$T/newer.sql"
"$SQLITE" -bail "$T/newer-script.db" <"$T/newer.sql" || fail "newer sql does not load"
check_db "$T/newer-script.db" "$T/newer.ndjson" >"$T/why" || fail "sql extra_fields: $(cat "$T/why")"
[[ $("$SQLITE" "$T/newer.db" "SELECT count(*) FROM llm_operations WHERE extra_fields IS NULL") == 1 ]] ||
    fail "a record with no unknown member has a non-null extra_fields"
ok "sqlite and sql: members of a newer schema in extra_fields, NULL without ($(cat "$T/why"))"

# --- empty store ----------------------------------------------------------------
"$MKSTORE" --db "$T/empty" --count 0
expect_success "empty csv" "$LLMOPS" export --db "$T/empty" --format csv
[[ $(wc -l <"$T/out") -eq 1 ]] || fail "empty csv: $(wc -l <"$T/out") lines"
expect_success "empty sql" "$LLMOPS" export --db "$T/empty" --format sql --out "$T/empty.sql"
"$SQLITE" -bail "$T/empty-script.db" <"$T/empty.sql" || fail "empty sql does not load"
[[ $(count "$T/empty-script.db") -eq 0 ]] || fail "empty sql made rows"
expect_success "empty sqlite" "$LLMOPS" export --db "$T/empty" --format sqlite --out "$T/empty.db"
[[ $(count "$T/empty.db") -eq 0 ]] || fail "empty sqlite made rows"
ok "an empty store: header-only csv, loadable sql, an empty llm_operations"

# --- create-tables ----------------------------------------------------------------
expect_success "create-tables new" "$LLMOPS" create-tables --to "sqlite:$T/ct.db"
grep -q 'created llm_operations (schema 2)' "$T/out" || fail "create-tables new: $(cat "$T/out")"
expect_success "create-tables again" "$LLMOPS" create-tables --to "sqlite:$T/ct.db"
grep -q 'up to date (schema 2)' "$T/out" || fail "create-tables again: $(cat "$T/out")"
"$SQLITE" "$T/ct.db" "SELECT name, type FROM pragma_table_info('llm_operations') ORDER BY name" \
    >"$T/cols.new"
cmp -s "$T/cols.new" <("$SQLITE" "$T/main.db" \
    "SELECT name, type FROM pragma_table_info('llm_operations') ORDER BY name") ||
    fail "create-tables and export make different tables"
ok "create-tables makes the table export makes, and says when it is up to date"

# an older llmops's table: fewer columns, rows, no llmops_meta
"$SQLITE" "$T/old.db" "CREATE TABLE llm_operations (operation_id TEXT NOT NULL PRIMARY KEY,
    timestamp TEXT, provider TEXT, model TEXT, input_tokens INTEGER);
    INSERT INTO llm_operations VALUES ('A', '2024-01-01T00:00:00.000000Z', 'openai', 'gpt-4o', 10),
    ('B', NULL, 'anthropic', NULL, NULL), ('C', '2024-01-02T00:00:00.000000Z', NULL, 'x', 3);"
before=$("$SQLITE" "$T/old.db" "SELECT * FROM llm_operations ORDER BY operation_id")
expect_success "create-tables migrate" "$LLMOPS" create-tables --to "sqlite:$T/old.db"
ncols=$(wc -l <"$T/cols.new")
grep -q "added $((ncols - 5)) columns to llm_operations (schema 0 -> 2)" "$T/out" ||
    fail "create-tables migrate: $(cat "$T/out")"
"$SQLITE" "$T/old.db" "SELECT name, type FROM pragma_table_info('llm_operations') ORDER BY name" |
    cmp -s - "$T/cols.new" || fail "the migrated table lacks columns"
after=$("$SQLITE" "$T/old.db" "SELECT operation_id, timestamp, provider, model, input_tokens
    FROM llm_operations ORDER BY operation_id")
[[ $before == "$after" ]] || fail "migration changed rows: $before -> $after"
[[ $("$SQLITE" "$T/old.db" "SELECT value FROM llmops_meta WHERE name = 'schema_version'") == 2 ]] ||
    fail "migration did not record schema_version 2"
expect_success "export into migrated" "$LLMOPS" export --db "$T/main" --format sqlite --out "$T/old.db"
[[ $(count "$T/old.db") -eq $((N + 3)) ]] || fail "export into migrated: $(count "$T/old.db")"
ok "create-tables migrates an old table: $((ncols - 5)) columns added, its 3 rows kept," \
    "version 2 recorded; export then adds $N"

# a schema 1 table (before the trace context): its three columns are added
cp "$T/ct.db" "$T/v1.db"
"$SQLITE" "$T/v1.db" "ALTER TABLE llm_operations DROP COLUMN trace_id;
    ALTER TABLE llm_operations DROP COLUMN parent_span_id;
    ALTER TABLE llm_operations DROP COLUMN trace_state;
    UPDATE llmops_meta SET value = '1' WHERE name = 'schema_version';
    INSERT INTO llm_operations (operation_id, provider) VALUES ('V1', 'openai');"
expect_success "create-tables 1 -> 2" "$LLMOPS" create-tables --to "sqlite:$T/v1.db"
grep -q 'added 3 columns to llm_operations (schema 1 -> 2)' "$T/out" ||
    fail "create-tables 1 -> 2: $(cat "$T/out")"
"$SQLITE" "$T/v1.db" "SELECT name, type FROM pragma_table_info('llm_operations') ORDER BY name" |
    cmp -s - "$T/cols.new" || fail "the table migrated from schema 1 lacks columns"
[[ $("$SQLITE" "$T/v1.db" "SELECT provider || '/' || quote(trace_id) FROM llm_operations") == openai/NULL ]] ||
    fail "migration 1 -> 2 lost the row"
ok "create-tables brings a schema 1 table to 2: trace_id, parent_span_id, trace_state added, rows kept"

# a schema 2 table from before extra_fields (an export column, not a record
# field: the schema stays 2): the column is added, rows kept
cp "$T/ct.db" "$T/v2.db"
"$SQLITE" "$T/v2.db" "ALTER TABLE llm_operations DROP COLUMN extra_fields;
    INSERT INTO llm_operations (operation_id, provider) VALUES ('V2', 'openai');"
expect_success "create-tables extra_fields" "$LLMOPS" create-tables --to "sqlite:$T/v2.db"
grep -q 'added 1 column to llm_operations (schema 2 -> 2)' "$T/out" ||
    fail "create-tables extra_fields: $(cat "$T/out")"
"$SQLITE" "$T/v2.db" "SELECT name, type FROM pragma_table_info('llm_operations') ORDER BY name" |
    cmp -s - "$T/cols.new" || fail "the table migrated to extra_fields lacks columns"
expect_success "export newer into v2" "$LLMOPS" export --db "$T/newer" --format sqlite --out "$T/v2.db"
[[ $("$SQLITE" "$T/v2.db" "SELECT count(*) FROM llm_operations WHERE extra_fields IS NOT NULL") == 2 ]] ||
    fail "export into the migrated table lost extra_fields"
ok "create-tables adds extra_fields to a schema 2 table without it; rows kept, exports fill it"

"$SQLITE" "$T/ct.db" "UPDATE llmops_meta SET value = '99' WHERE name = 'schema_version'"
expect_success "create-tables newer" "$LLMOPS" create-tables --to "sqlite:$T/ct.db"
grep -q 'newer schema (99)' "$T/out" || fail "create-tables newer: $(cat "$T/out")"
[[ $("$SQLITE" "$T/ct.db" "SELECT value FROM llmops_meta WHERE name = 'schema_version'") == 99 ]] ||
    fail "create-tables lowered a newer version"
ok "a newer schema version is left as it is"

# --- errors -------------------------------------------------------------------------
expect_error "sqlite without --out" 2 "$LLMOPS" export --db "$T/main" --format sqlite
expect_error "sqlite --out -" 2 "$LLMOPS" export --db "$T/main" --format sqlite --out -
expect_error "--dialect without sql" 2 "$LLMOPS" export --db "$T/main" --format csv --dialect sqlite
expect_error "unknown dialect" 2 "$LLMOPS" export --db "$T/main" --format sql --dialect mysql
expect_error "unknown format" 2 "$LLMOPS" export --db "$T/main" --format parquet
expect_error "create-tables without --to" 2 "$LLMOPS" create-tables
# (test_postgres.sh runs the PostgreSQL targets against a real server)
expect_error "create-tables postgresql:// unreachable" 1 \
    "$LLMOPS" create-tables --to postgresql://127.0.0.1:1/db
expect_error "create-tables postgres:// unreachable" 1 \
    "$LLMOPS" create-tables --to postgres://127.0.0.1:1/db
expect_error "create-tables unknown target" 2 "$LLMOPS" create-tables --to mysql://x
expect_error "create-tables sqlite: without a path" 2 "$LLMOPS" create-tables --to sqlite:
expect_error "create-tables stray argument" 2 "$LLMOPS" create-tables --to "sqlite:$T/x.db" extra
expect_error "sqlite --out in a missing dir" 1 \
    "$LLMOPS" export --db "$T/main" --format sqlite --out "$T/no/such.db"
expect_error "sqlite --out a file that is not SQLite" 1 \
    "$LLMOPS" export --db "$T/main" --format sqlite --out "$T/main.csv"
expect_error "create-tables on a file that is not SQLite" 1 \
    "$LLMOPS" create-tables --to "sqlite:$T/main.csv"
expect_error "sql to a full device" 1 "$LLMOPS" export --db "$T/main" --format sql --out /dev/full
expect_error "csv to a full device" 1 "$LLMOPS" export --db "$T/main" --format csv --out /dev/full
expect_success "create-tables --help" "$LLMOPS" create-tables --help
grep -q 'sqlite:PATH' "$T/out" || fail "create-tables --help"
expect_success "export --help" "$LLMOPS" export --help
grep -q -- '--dialect sqlite|postgres' "$T/out" && grep -q -- '--min-latency' "$T/out" ||
    fail "export --help lacks --dialect or the filters"
ok "help texts name the new options"

finish
