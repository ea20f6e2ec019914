# Shared by the tools test scripts (test_formats.sh, test_filters.sh):
# locations, a scratch directory removed at exit, and the checks on exit
# status and the one-line error contract. Source it; it sets -euo pipefail.
# Environment: LLMOPS_BUILD (holds llmops), LLMOPS_SRC, MKSTORE.
set -euo pipefail

SRC=${LLMOPS_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${LLMOPS_BUILD:-$SRC/build}
LLMOPS=${LLMOPS:-$BUILD/llmops}
MKSTORE=${MKSTORE:-$BUILD/tests/tools/mkstore}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/llmops-tools.XXXXXX")
trap 'rm -rf "$T"' EXIT
# the tool must not fall back on the invoking user's real database
export LLMOPS_DB=$T/no-such-default HOME=$T/home XDG_DATA_HOME=
unset LLMOPS_DEBUG_SCAN LLMOPS_DEBUG_JANSSON LLMOPS_PRICES # the shipped price table, whatever the caller has

passed=0
ok() {
    passed=$((passed + 1))
    echo "ok $passed - $*"
}
fail() {
    echo "FAIL - $*" >&2
    exit 1
}
skipped=0
# skip REASON: a check that cannot run here; the script then ends with 77
skip() {
    skipped=$((skipped + 1))
    echo "ok - # SKIP $*"
}
# finish: the summary line; exit 77 (ctest: skipped) when a check was skipped
finish() {
    echo "$passed passed, 0 failed, $skipped skipped"
    [[ $skipped -eq 0 ]] || exit 77
}

# run CMD... : runs it with stdout in $T/out, stderr in $T/err, status in $rc
run() {
    rc=0
    "$@" >"$T/out" 2>"$T/err" || rc=$?
}

# expect_error NAME STATUS CMD... : that exit status, one well-formed stderr line
expect_error() {
    local name=$1 want=$2
    shift 2
    run "$@"
    [[ $rc -eq $want ]] || fail "$name: exit $rc, want $want; stderr: $(cat "$T/err")"
    [[ $(wc -l <"$T/err") -eq 1 && $(wc -c <"$T/err") -gt 0 ]] ||
        fail "$name: want exactly one stderr line, got: $(cat "$T/err")"
    grep -Eq '^llmops: .+: .+$' "$T/err" || fail "$name: malformed error line: $(cat "$T/err")"
    ok "$name -> $want: $(cat "$T/err")"
}

# expect_success NAME CMD... : exit 0 and nothing on stderr
expect_success() {
    local name=$1
    shift
    run "$@"
    [[ $rc -eq 0 ]] || fail "$name: exit $rc; stderr: $(cat "$T/err")"
    [[ ! -s $T/err ]] || fail "$name: unexpected stderr: $(cat "$T/err")"
}
