#!/bin/bash
# `make fuzz`: runs every libFuzzer harness of a fuzz build for SECONDS each,
# one at a time, from its seeds, the committed regression inputs and the
# corpus earlier runs grew (kept in BUILD/tests/fuzz/corpus/NAME). A crash,
# leak, timeout or out-of-memory is saved as BUILD/tests/fuzz/artifacts/
# NAME-crash-...; minimize it with
#   BUILD/tests/fuzz/fuzz_NAME -minimize_crash=1 -runs=10000 ARTIFACT
# and commit the result as tests/fuzz/regressions/NAME-<short-name>.
#   run_fuzz.sh BUILD SECONDS [NAME...]
set -uo pipefail
build=${1:?build dir} secs=${2:-60}
shift 2 || shift $#
src=$(cd "$(dirname "$0")" && pwd)
dir=$build/tests/fuzz
names=("$@")
[ ${#names[@]} -gt 0 ] ||
    names=(http1 h2 sse ndjson eventstream dialects body tlshello record redact)
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

summary=()
failed=0
for n in "${names[@]}"; do
    exe=$dir/fuzz_$n
    [ -x "$exe" ] || { echo "missing $exe (configure with LLMOPS_FUZZ=ON)" >&2; exit 2; }
    mkdir -p "$dir/corpus/$n" "$dir/artifacts" "$dir/regress/$n" "$dir/logs"
    rm -f "$dir/regress/$n"/*
    shopt -s nullglob
    for r in "$src/regressions/$n"-*; do cp "$r" "$dir/regress/$n/"; done
    shopt -u nullglob
    args=(-max_total_time="$secs" -timeout=25 -rss_limit_mb=4096 -print_final_stats=1
          -artifact_prefix="$dir/artifacts/$n-")
    [ -f "$src/$n.dict" ] && args+=(-dict="$src/$n.dict")
    log=$dir/logs/$n.log
    echo "== fuzz_$n for ${secs}s (log: $log)"
    "$exe" "${args[@]}" "$dir/corpus/$n" "$dir/seeds/$n" "$dir/regress/$n" \
        >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    if [ $rc -eq 0 ]; then
        result=ok
    else
        failed=1
        why=$(grep -m1 -E 'ERROR: |fuzz check failed|runtime error' "$log" | cut -c1-100)
        result="FAILED (rc $rc): $why"
        grep -m1 -o "Test unit written to .*" "$log" || true
    fi
    summary+=("$(printf '%-12s %6ss %10s execs  cov %-6s corpus %-6s %s' "$n" "$secs" \
        "${execs:-?}" "${cov:-?}" "$(ls "$dir/corpus/$n" | wc -l)" "$result")")
done
echo
echo "fuzz summary:"
printf '  %s\n' "${summary[@]}"
exit $failed
