#!/usr/bin/env bash
# The export progress bar: never a byte on stderr unless it is a terminal
# (the tests' normal case: no tty), and on a terminal (script(1) provides
# one) a bar for exports of more than 10,000 records, none for small ones
# or when the export itself goes to that terminal.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$MKSTORE" --db "$T/big" --count 12000 --seed 12
"$MKSTORE" --db "$T/small" --count 500 --seed 12

for fmt in ndjson csv; do
    expect_success "export $fmt, no tty" "$LLMOPS" export --db "$T/big" --format $fmt --out "$T/x"
done
expect_success "export sqlite, no tty" "$LLMOPS" export --db "$T/big" --format sqlite --out "$T/x.db"
ok "no tty: nothing at all on stderr (12,000 records)"

if ! command -v script >/dev/null; then
    skip "no script(1) (bsdutils) for a terminal"
    finish
fi
# tty CMD...: runs CMD with a terminal for stdin, stdout and stderr; the
# terminal's bytes in $T/tty
tty() {
    local cmd
    printf -v cmd '%q ' "$@"
    rc=0
    script -qec "$cmd" /dev/null >"$T/tty" </dev/null || rc=$?
}

tty "$LLMOPS" export --db "$T/big" --out "$T/big.ndjson"
[[ $rc -eq 0 ]] || fail "export on a tty: exit $rc: $(cat "$T/tty")"
grep -aq 'export \[#*\.*\] *[0-9]*% [0-9]*/12000 records' "$T/tty" || fail "no bar: $(cat -v "$T/tty")"
grep -aq '100% 12000/12000 records' "$T/tty" || fail "the bar never reached 100%: $(cat -v "$T/tty")"
grep -aq $'\e\[K' "$T/tty" || fail "the bar was not erased"
[[ $(wc -l <"$T/big.ndjson") -eq 12000 ]] || fail "the export with a bar is incomplete"
ok "a terminal on stderr: a bar from 0 to 100%, erased at the end; the export is whole"

tty "$LLMOPS" export --db "$T/big" --provider openai --format csv --out "$T/big.csv"
grep -aq '100% 12000/12000 records' "$T/tty" || fail "a filtered export's bar: $(cat -v "$T/tty")"
tty "$LLMOPS" export --db "$T/small" --out "$T/small.ndjson"
[[ ! -s $T/tty ]] || fail "a bar for 500 records: $(cat -v "$T/tty")"
tty "$LLMOPS" export --db "$T/big" --format csv
! grep -aq 'records' "$T/tty" || fail "a bar mixed into an export to the terminal"
tty "$LLMOPS" stats --db "$T/big"
! grep -aq '% ' "$T/tty" || fail "stats drew a bar"
ok "no bar for 500 records, for an export to the terminal itself, or for stats"

finish
