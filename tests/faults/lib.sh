# shellcheck shell=bash disable=SC2034
# lib.sh: helpers for the fault and load tests (bash), on top of tests/e2e/lib.sh
# (E2E_TMP, PY, log, fail, make_certs, start_server, stop_server).
#
# After sourcing: $CORPUS is a corpus with the synthetic vectors of
# gen_corpus.py too; start_servers -> $TPORT (TLS) and $PPORT (plain HTTP);
# client tls|plain ARGS... runs fault_client.py; shim_env DB prints the
# variables that preload the shim; check EXPORT ARGS... runs check_store.py.
# Results: ok/bad count checks, finish prints the tally and sets the status,
# so one failing fault does not hide the others.

FAULTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../e2e/lib.sh
source "$FAULTS_DIR/../e2e/lib.sh"
require_shim

CORPUS=$E2E_TMP/corpus
"$PY" "$FAULTS_DIR/gen_corpus.py" "$LLMOPS_SRC/tests/corpus" "$CORPUS"
chmod 755 "$E2E_TMP" # the unprivileged client reads the certificates and corpus

TPORT=
PPORT=
start_servers() {
  start_server tls
  TPORT=$PORT
  start_server plain
  PPORT=$PORT
  chmod -R a+rX "$E2E_TMP/certs"
}

PASS=0
FAILS=()
ok() {
  PASS=$((PASS + 1))
  echo "ok - $*"
}
bad() {
  FAILS+=("$*")
  echo "not ok - $*"
}
SKIPPED=0
# skip WHAT REASON: a check that cannot run here (finish then exits 77)
skip() {
  SKIPPED=$((SKIPPED + 1))
  echo "ok - $1 # SKIP $2"
}
# finish: the summary; exit 77 (ctest: skipped) when all passed but some
# check was skipped
finish() {
  local f
  echo "$PASS passed, ${#FAILS[@]} failed, $SKIPPED skipped"
  for f in "${FAILS[@]}"; do echo "FAILED: $f"; done
  [[ ${#FAILS[@]} -eq 0 ]] || return 1
  [[ $SKIPPED -eq 0 ]] || exit 77
}

# client tls|plain [fault_client options]: the client's command line
client() {
  local kind=$1
  shift
  if [[ $kind == tls ]]; then
    echo "$PY" "$FAULTS_DIR/fault_client.py" --port "$TPORT" --ca "$E2E_TMP/certs/ca.pem" \
      --corpus "$CORPUS" "$@"
  else
    echo "$PY" "$FAULTS_DIR/fault_client.py" --port "$PPORT" --plain --corpus "$CORPUS" "$@"
  fi
}

# reference NAME CMD...: the command without the shim (60 s at most); its
# stdout in $E2E_TMP/ref/NAME.out and status in REF_RC
reference() {
  local name=$1
  shift
  mkdir -p "$E2E_TMP/ref"
  REF_RC=0
  timeout -k 5 60 "$@" >"$E2E_TMP/ref/$name.out" 2>"$E2E_TMP/ref/$name.err" || REF_RC=$?
  [[ $REF_RC == 0 ]] || fail "reference run $name exits $REF_RC: $(head -c 300 "$E2E_TMP/ref/$name.err")"
}

# same_as_reference NAME OUT RC: the shim run's stdout and status against the
# reference's; 0 when identical, else says how they differ (and returns 1)
same_as_reference() {
  local name=$1 out=$2 rc=$3 why=
  if [[ $rc != "$REF_RC" ]]; then
    why="exit status $rc under the shim, $REF_RC without it"
    ((rc > 128 && rc != 124)) && why+=" (killed by signal $((rc - 128)): $(kill -l $((rc - 128)) 2>/dev/null))"
    [[ $rc == 124 ]] && why+=" (timed out: the host hung)"
  elif ! cmp -s "$E2E_TMP/ref/$name.out" "$out"; then
    why="stdout differs ($(wc -l <"$E2E_TMP/ref/$name.out") lines without the shim, $(wc -l <"$out") with it)"
  fi
  [[ -z $why ]] && return 0
  SAME_WHY=$why
  return 1
}

shim_env() { # shim_env DB [more VAR=value]: for `env`
  echo "LD_PRELOAD=$SHIM" "LLMOPS_DB=$1" "${@:2}"
}

check() { # check EXPORT [check_store.py options]
  "$PY" "$FAULTS_DIR/check_store.py" --corpus "$CORPUS" "$@"
}

# export_to DB FILE: llmops export; its status in EXPORT_RC, stderr in FILE.err
export_to() {
  EXPORT_RC=0
  timeout 60 "$LLMOPS_CLI" export --db "$1" >"$2" 2>"$2.err" || EXPORT_RC=$?
}
