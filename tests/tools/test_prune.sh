#!/usr/bin/env bash
# `llmops prune --before TIME`: deletes exactly the records of calls that
# started before TIME (counted here from the export), never creates a store,
# and runs next to a live writer without losing its records.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$MKSTORE" --db "$T/p" --count 1000 --seed 6 --end 2024-03-01T01:00:00Z
expect_success "export" "$LLMOPS" export --db "$T/p"
mv "$T/out" "$T/all.ndjson"
# the cut: the 400th record's own start time, to the microsecond
cut=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[399])["timestamp"])' \
    "$T/all.ndjson")

expect_success "prune --dry-run" "$LLMOPS" prune --db "$T/p" --before "$cut" --dry-run
[[ $(cat "$T/out") == "would delete 399 records before $cut" ]] || fail "dry run: $(cat "$T/out")"
expect_success "export after dry run" "$LLMOPS" export --db "$T/p"
cmp -s "$T/out" "$T/all.ndjson" || fail "--dry-run deleted something"
expect_success "prune" "$LLMOPS" prune --db "$T/p" --before "$cut"
[[ $(cat "$T/out") == "deleted 399 records before $cut" ]] || fail "prune: $(cat "$T/out")"
expect_success "export after prune" "$LLMOPS" export --db "$T/p"
cmp -s "$T/out" <(tail -n 601 "$T/all.ndjson") || fail "prune did not keep exactly the records from $cut"
ok "prune --before a record's time deleted the 399 before it and kept it and the 600 after"

expect_success "prune again" "$LLMOPS" prune --db "$T/p" --before "$cut"
[[ $(cat "$T/out") == "deleted 0 records before $cut" ]] || fail "second prune: $(cat "$T/out")"
expect_success "prune before everything" "$LLMOPS" prune --db "$T/p" --before 2000-01-01
[[ $(cat "$T/out") == "deleted 0 records before 2000-01-01" ]] || fail "$(cat "$T/out")"
expect_success "prune a date" "$LLMOPS" prune --db "$T/p" --before 2024-03-02
[[ $(cat "$T/out") == "deleted 601 records before 2024-03-02" ]] || fail "$(cat "$T/out")"
expect_success "stats after" "$LLMOPS" stats --db "$T/p"
[[ $(wc -l <"$T/out") -eq 1 ]] || fail "records left: $(cat "$T/out")"
ok "prune is idempotent; a date before everything deletes nothing, after everything all"

# next to a live writer: nothing it writes is lost
"$MKSTORE" --db "$T/live" --count 200 --seed 2
"$MKSTORE" --db "$T/live" --seconds 3 --batch 5 --pause-ms 10 --seed 3 >"$T/wrote" &
W=$!
sleep 1
now=$("$PY" -c 'import datetime as d
print(d.datetime.now(d.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z"))')
expect_success "prune during writes" "$LLMOPS" prune --db "$T/live" --before "$now"
deleted=$(awk '{print $2}' "$T/out")
wait "$W" || fail "the writer failed"
expect_success "export after live prune" "$LLMOPS" export --db "$T/live"
left=$(wc -l <"$T/out")
[[ $((left + deleted)) -eq $((200 + $(awk '{print $2}' "$T/wrote"))) ]] ||
    fail "left $left + deleted $deleted != 200 + $(cat "$T/wrote")"
"$PY" - "$T/out" "$now" <<'EOF' || fail "a record before the cut survived"
import json, sys
assert all(json.loads(l)["timestamp"] >= sys.argv[2] for l in open(sys.argv[1]))
EOF
ok "prune during live writes deleted $deleted, kept $left, lost nothing"

expect_error "prune without --before" 2 "$LLMOPS" prune --db "$T/p"
expect_error "prune --before bad" 2 "$LLMOPS" prune --db "$T/p" --before yesterday
expect_error "prune --before Feb 30" 2 "$LLMOPS" prune --db "$T/p" --before 2024-02-30
expect_error "prune stray argument" 2 "$LLMOPS" prune --db "$T/p" --before 2024-01-01 now
expect_error "prune missing db" 1 "$LLMOPS" prune --db "$T/nope" --before 2024-01-01
[[ ! -e $T/nope ]] || fail "prune created a database"
mkdir -p "$T/garbage" && head -c 65536 /dev/urandom >"$T/garbage/data.mdb"
expect_error "prune a corrupt db" 1 "$LLMOPS" prune --db "$T/garbage" --before 2024-01-01
expect_success "prune --help" "$LLMOPS" prune --help

echo "$passed passed, 0 failed"
