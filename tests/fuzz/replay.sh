#!/bin/bash
# One fuzz-smoke test: runs a harness once on every seed of its own and on
# every committed regression input named after it.
#   replay.sh replay|libfuzzer EXE SEED_DIR REGRESSION_DIR NAME
# replay: EXE is the harness linked with replay_main.c; libfuzzer: EXE is the
# libFuzzer build, run with -runs=0 (execute the inputs, do not fuzz).
set -euo pipefail
mode=$1 exe=$2 seeds=$3 regs=$4 name=$5
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
shopt -s nullglob
regressions=("$regs/$name"-*)
[ -d "$seeds" ] || { echo "no seeds in $seeds (make_seeds.py did not run?)" >&2; exit 1; }
if [ "$mode" = libfuzzer ]; then
    "$exe" -runs=0 "$seeds"
    if [ ${#regressions[@]} -gt 0 ]; then
        "$exe" "${regressions[@]}"
    fi
else
    "$exe" "$seeds" "${regressions[@]}"
fi
echo "fuzz smoke $name: $(ls "$seeds" | wc -l) seeds, ${#regressions[@]} regression inputs: ok"
