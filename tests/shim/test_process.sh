#!/usr/bin/env bash
# Process shapes under the shim: fork without exec (the child records its own
# calls, nothing inherited is written twice), os._exit, exec'd children,
# posix_spawn and a vfork child whose exec fails, threads (and one connection
# shared by two threads), and SIGTERM with the default action after a
# completed call. Each
# scenario must finish promptly (no hang at exit or after fork) and leave
# exactly the records of the calls it made.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
CLIENT=$(dirname "$0")/proc_client.py
start_server tls
body_of openai_chat_nostream_1 "$tmp/body.json"

# check DB COUNT PIDS: exactly COUNT records from PIDS distinct processes,
# all complete and correct, no operation_id twice
check() {
  "$LLMOPS" export --db "$1" > "$tmp/out.ndjson"
  "$PY" - "$tmp/out.ndjson" "$2" "$3" <<'PYC'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
want, pids = int(sys.argv[2]), int(sys.argv[3])
assert len(recs) == want, f"{len(recs)} records, want {want}"
assert len({r["operation_id"] for r in recs}) == want, "duplicate records"
assert len({r["pid"] for r in recs}) == pids, f"{len({r['pid'] for r in recs})} pids, want {pids}"
for r in recs:
    assert r["status"] == "ok" and r["input_tokens"] == 15 and r["output_tokens"] == 19, r
PYC
}

run() { # run NAME COUNT PIDS: the scenario under the shim, within 20 s
  local name=$1
  rm -rf "$tmp/db"
  if LLMOPS_DB=$tmp/db LD_PRELOAD=$SHIM timeout 20 "$PY" "$CLIENT" "$port" "$tmp/certs/ca.pem" \
    "$tmp/body.json" "$name" && check "$tmp/db" "$2" "$3"; then
    ok "$name: $2 records from $3 processes"
  else
    bad "$name"
  fi
}

run fork 4 2
run _exit 4 2
run exec 2 2
run threads 16 1
run spawn 3 2
run shared 2 1

# exec'd child: its record names curl and its parent
rm -rf "$tmp/db"
LLMOPS_DB=$tmp/db LD_PRELOAD=$SHIM "$PY" "$CLIENT" "$port" "$tmp/certs/ca.pem" "$tmp/body.json" exec
"$LLMOPS" export --db "$tmp/db" > "$tmp/exec.ndjson"
if "$PY" - "$tmp/exec.ndjson" <<'PYC'; then ok "exec: the child is instrumented and names its parent"; else bad "exec child"; fi
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
assert "python3" in a["exe"] and b["exe"].endswith("/curl"), (a["exe"], b["exe"])
assert b["ppid"] == a["pid"], (b["ppid"], a["pid"])
PYC

# SIGTERM, default action, after the call completed and the client said so
rm -rf "$tmp/db"
LLMOPS_DB=$tmp/db LD_PRELOAD=$SHIM "$PY" "$CLIENT" "$port" "$tmp/certs/ca.pem" "$tmp/body.json" \
  term > "$tmp/term.out" &
victim=$!
for _ in $(seq 200); do grep -q done "$tmp/term.out" 2>/dev/null && break; sleep 0.05; done
sleep 0.3 # the collector commits within milliseconds of the response
kill -TERM $victim
wait $victim && rc=0 || rc=$?
[ "$rc" = 143 ] && ok "SIGTERM: default action kept (exit status 143)" || bad "SIGTERM exit $rc"
check "$tmp/db" 1 1 && ok "SIGTERM: the completed call was recorded" || bad "SIGTERM record"

finish
