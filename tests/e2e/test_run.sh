#!/usr/bin/env bash
# `llmops run`: real programs that honour proxy variables (Bun and Deno fetch,
# a Node program with undici's EnvHttpProxyAgent, Python requests and httpx
# (sync and asyncio),
# curl) call the replay server posing as api.openai.com through the recording
# proxy. Each program's output and exit status equal those of a run without
# `llmops run` (direct to the server), and every call is recorded exactly
# once, by the proxy (the preload-visible ones too), with the vector's fields.
# Each record names the program that made the call (exe, pid, argv, its
# LLMOPS_* attribution), not `llmops run`.
# Then HTTP/2 end to end (curl --http2 and Deno against the HTTP/2 server).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
start_server tls

NODE_DIR=$LLMOPS_SRC/tests/node
BUN=$NODE_DIR/node_modules/.bin/bun
DENO=$NODE_DIR/node_modules/.bin/deno
DB=$E2E_TMP/db
KEY=$(random_key)
DIRECT=https://localhost:$PORT/v1/chat/completions
VIA=https://api.openai.com/v1/chat/completions
# The programs trust the test CA (each through its own variable); the proxy
# sends api.openai.com to the replay server and verifies it with that trust.
export SSL_CERT_FILE=$CA NODE_EXTRA_CA_CERTS=$CA DENO_CERT=$CA REQUESTS_CA_BUNDLE=$CA \
  CURL_CA_BUNDLE=$CA
export LLMOPS_CONNECT_TO=api.openai.com:443:127.0.0.1:$PORT
export DENO_DIR=$E2E_TMP/deno DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 BUN_INSTALL_CACHE_DIR=$E2E_TMP/bun
mkdir -p "$E2E_TMP/bodies" "$E2E_TMP/out"
body() {
  local f=$E2E_TMP/bodies/$1
  [[ -f $f ]] || vector_field "$1" request_body >"$f"
  printf '%s' "$f"
}

calls=() callers=()
# The program that makes a call (what its record's exe must be): resolved
# like /proc/PID/exe, through symbolic links.
CURL_EXE=$(readlink -f "$(command -v curl)")
PY_EXE=$(readlink -f "$PY")
NODE_EXE=$(readlink -f "$(command -v node)")
# run_pair NAME VECTOR EXE cmd... (the URL is appended): without llmops run,
# straight to the server, then under llmops run through the proxy. EXE is
# the caller's executable ("bun", "deno": a name in it), and a "pid N" line
# on the program's stderr names its pid. The program (not llmops run) gets
# its own session id, so the record's can only come from its environment.
run_pair() {
  local name=$1 v=$2 exe=$3 o=$E2E_TMP/out/$1 rc1=0 rc2=0
  shift 3
  "$@" "$DIRECT" "$(body "$v")" "$KEY" >"$o.plain" 2>"$o.plain.err" || rc1=$?
  env -u LLMOPS_SESSION_ID "$LLMOPS_CLI" run --db "$DB" -- env LLMOPS_SESSION_ID="sess-$name" \
    "$@" "$VIA" "$(body "$v")" "$KEY" >"$o.run" 2>"$o.run.err" || rc2=$?
  if ! cmp -s "$o.plain" "$o.run"; then
    diff "$o.plain" "$o.run" | head -10 >&2 || true
    cat "$o.run.err" >&2
    fail "$name: output differs under llmops run"
  fi
  [[ $rc1 == "$rc2" ]] || fail "$name: exit status $rc1 without llmops run, $rc2 with it"
  [[ $rc1 == 0 ]] || { cat "$o.plain.err" >&2; fail "$name: exited $rc1"; }
  grep -q 'status 200$' "$o.plain" || fail "$name: no 200 status: $(head -1 "$o.plain")"
  calls+=("$v")
  callers+=("$name $exe $(sed -n 's/^pid \([0-9]*\)$/\1/p' "$o.run.err" | head -1)")
  log "$name: output and status identical"
}

for v in openai_chat_nostream_1 openai_chat_stream_2; do
  run_pair "curl_$v" "$v" "$CURL_EXE" bash "$E2E_DIR/run_curl.sh"
  run_pair "requests_$v" "$v" "$PY_EXE" "$PY" "$E2E_DIR/run_py.py" requests
  run_pair "httpx_$v" "$v" "$PY_EXE" "$PY" "$E2E_DIR/run_py.py" httpx
  # asyncio's TLS runs over a memory BIO: the shim sees its SSL* with no
  # socket, and must still leave it to the proxy (one record)
  run_pair "httpx_async_$v" "$v" "$PY_EXE" "$PY" "$E2E_DIR/run_py.py" httpx_async
  run_pair "undici_$v" "$v" "$NODE_EXE" node "$NODE_DIR/undici_env_proxy.mjs"
  if [[ -x $BUN ]] && "$BUN" --version >/dev/null 2>&1; then
    run_pair "bun_$v" "$v" bun "$BUN" "$E2E_DIR/run_fetch.mjs"
  else
    fail "bun from tests/node is not installed (scripts/node-deps)"
  fi
  if [[ -x $DENO ]] && "$DENO" --version >/dev/null 2>&1; then
    run_pair "deno_$v" "$v" deno "$DENO" run -A --no-lock "$E2E_DIR/run_fetch.mjs"
  else
    fail "deno from tests/node is not installed (scripts/node-deps)"
  fi
done

[[ -d $DB ]] || fail "no store created at $DB"
export_ndjson "$DB" >"$E2E_TMP/export.ndjson" || fail "llmops export failed"
"$PY" "$E2E_DIR/check_records.py" "$E2E_TMP/export.ndjson" --corpus "$CORPUS" \
  --secret "$KEY" "${calls[@]}"
"$PY" - "$E2E_TMP/export.ndjson" <<'PYEOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
bad = [r for r in recs if r["capture"] != "proxy" or r["server_address"] != "api.openai.com"]
for r in bad:
    print("not a proxy record: capture=%s server_address=%s exe=%s" % (
        r["capture"], r["server_address"], r["exe"]), file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
check_callers() {
  "$PY" - "$1" "$LLMOPS_CLI" "${callers[@]}" <<'PYEOF'
import json, os, sys
export, cli, *callers = sys.argv[1:]
recs = sorted((json.loads(l) for l in open(export)), key=lambda r: (r["timestamp"], r["end_timestamp"]))
problems = [] if len(recs) == len(callers) else ["%d records for %d calls" % (len(recs), len(callers))]
for rec, caller in zip(recs, callers):
    name, exe, *pid = caller.split()
    got = rec.get("exe") or ""
    ok = got == exe if exe.startswith("/") else exe in os.path.basename(got)
    if not ok or got == os.path.realpath(cli):
        problems.append("%s: exe %r, expected %r" % (name, got, exe))
    if pid and rec.get("pid") != int(pid[0]):
        problems.append("%s: pid %r, the program said %s" % (name, rec.get("pid"), pid[0]))
    if not isinstance(rec.get("pid"), int) or not isinstance(rec.get("ppid"), int):
        problems.append("%s: pid %r ppid %r" % (name, rec.get("pid"), rec.get("ppid")))
    if rec.get("session_id") != "sess-" + name:
        problems.append("%s: session_id %r (from the program's environment)" % (name, rec.get("session_id")))
    argv = rec.get("argv") or []
    if "run_py.py" in caller or exe.endswith("/curl"):
        want = "run_py.py" if "python" in exe else "-sS"
        if not any(want in a for a in argv):
            problems.append("%s: argv %r lacks %r" % (name, argv, want))
for p in problems:
    print("  " + p, file=sys.stderr)
print("callers: %d records%s" % (len(recs), "" if problems else " OK"), file=sys.stderr)
sys.exit(1 if problems else 0)
PYEOF
}
check_callers "$E2E_TMP/export.ndjson" || fail "records do not name the calling program"

# HTTP/2 end to end: curl --http2 and Deno (which offers h2) against the
# HTTP/2 replay server; the proxy gives the client the ALPN the server chose.
start_h2 tls
DB=$E2E_TMP/db_h2
calls=() callers=()
DIRECT=https://localhost:$PORT/v1/chat/completions
export LLMOPS_CONNECT_TO=api.openai.com:443:127.0.0.1:$PORT
for v in openai_chat_stream_2; do
  RUN_CURL_HTTP2=1 run_pair "curl_h2_$v" "$v" "$CURL_EXE" bash "$E2E_DIR/run_curl.sh"
  grep -qx 'http 2' "$E2E_TMP/out/curl_h2_$v.run" || fail "curl_h2_$v: not HTTP/2 through the proxy"
  run_pair "deno_h2_$v" "$v" deno "$DENO" run -A --no-lock "$E2E_DIR/run_fetch.mjs"
done

export_ndjson "$DB" >"$E2E_TMP/export_h2.ndjson" || fail "llmops export failed"
# checked as the HTTP/1.1 ones, except http_version: "2" here
"$PY" - "$E2E_TMP/export_h2.ndjson" "$CORPUS" "$KEY" "$E2E_DIR" "${calls[@]}" <<'PYEOF'
import json, os, sys
export, corpus, key, e2e, *calls = sys.argv[1:]
sys.path.insert(0, e2e)
import corpus_expect as ce
recs = sorted((json.loads(l) for l in open(export)), key=lambda r: r["timestamp"])
problems = ["the API key is in the export"] if ce.scan_secrets([export], [key]) else []
if len(recs) != len(calls):
    problems.append("%d records for %d calls" % (len(recs), len(calls)))
for i, (rec, name) in enumerate(zip(recs, calls)):
    vec = json.load(open(os.path.join(corpus, name + ".json")))
    if rec["http_version"] != "2" or rec["capture"] != "proxy":
        problems.append("record #%d: http_version %r capture %r" % (i, rec["http_version"], rec["capture"]))
    problems += ["record #%d (%s): %s" % (i, name, p)
                 for p in ce.check_record(dict(rec, http_version="1.1"), name, vec)]
for p in problems:
    print("  " + p, file=sys.stderr)
print("HTTP/2 records: %d%s" % (len(recs), "" if problems else " OK"), file=sys.stderr)
sys.exit(1 if problems else 0)
PYEOF
check_callers "$E2E_TMP/export_h2.ndjson" || fail "HTTP/2 records do not name the calling program"
