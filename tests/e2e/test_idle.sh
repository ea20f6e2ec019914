#!/usr/bin/env bash
# A process that makes no LLM call under the shim must not notice it: no store
# directory created, no extra thread started, the core library never loaded,
# output unchanged. HTTP/2 to a host no provider table knows is the one case
# that loads the core (to read the first request's HPACK-coded headers): even
# then no thread starts and no file is made.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
start_server tls

DB=$E2E_TMP/idle-db # must never appear

# HTTPS GET /health (not an LLM endpoint) from Debian's python3, then report
# the thread count and which llmops libraries are mapped.
cat >"$E2E_TMP/idle.py" <<'EOF'
import os, ssl, sys, urllib.request
port, ca, note = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=ca)
with urllib.request.urlopen("https://127.0.0.1:%s/health" % port, context=ctx, timeout=30) as r:
    print("health", r.status, r.read().decode())
print("threads", len(os.listdir("/proc/self/task")))
maps = open("/proc/self/maps").read()
print("core-loaded", "libllmops-core.so" in maps)
with open(note, "w") as f:  # not stdout: that must not differ
    f.write("shim-loaded %s\n" % ("libllmops.so" in maps))
EOF

same_output idle_python "$DB" "$PY" "$E2E_TMP/idle.py" "$PORT" "$CA" "$E2E_TMP/note"
o=$E2E_TMP/out/idle_python
[[ $SAME_OUTPUT_RC == 0 ]] || fail "idle.py exited $SAME_OUTPUT_RC: $(cat "$o.shim.err")"
grep -qx 'health 200 ok' "$o.shim" || fail "GET /health failed: $(cat "$o.shim")"
grep -qx 'threads 1' "$o.plain" || fail "unexpected baseline: $(cat "$o.plain")"
grep -qx 'core-loaded False' "$o.shim" || fail "libllmops-core.so loaded without an LLM call"
# Guard against a vacuous pass: the shim really was preloaded.
# (the shim run came second and overwrote the note of the plain run)
grep -qx 'shim-loaded True' "$E2E_TMP/note" || fail "LD_PRELOAD did not load $SHIM"

# The curl CLI doing the same.
same_output idle_curl "$DB" curl --http1.1 -sS --cacert "$CA" "https://127.0.0.1:$PORT/health"
[[ $SAME_OUTPUT_RC == 0 && $(cat "$E2E_TMP/out/idle_curl.shim") == ok ]] || fail "curl GET /health failed"

# HTTP/2 (h2c, prior knowledge) GET /health with httpx: the core is loaded
# to read the request, nothing else happens.
PORT_H1=$PORT
start_h2 plain
cat >"$E2E_TMP/idle_h2.py" <<'EOF'
import os, sys
import httpx
with httpx.Client(http1=False, http2=True) as c:
    r = c.get("http://127.0.0.1:%s/health" % sys.argv[1])
    print("health", r.status_code, r.http_version, r.text)
print("threads", len(os.listdir("/proc/self/task")))
with open(sys.argv[2], "w") as f:  # not stdout: that must not differ
    f.write("core-loaded %s\n" % ("libllmops-core.so" in open("/proc/self/maps").read()))
EOF
same_output idle_h2 "$DB" "$PY" "$E2E_TMP/idle_h2.py" "$PORT" "$E2E_TMP/note_h2"
o=$E2E_TMP/out/idle_h2
[[ $SAME_OUTPUT_RC == 0 ]] || fail "idle_h2.py exited $SAME_OUTPUT_RC: $(cat "$o.shim.err")"
grep -qx 'health 200 HTTP/2 ok' "$o.shim" || fail "h2 GET /health failed: $(cat "$o.shim")"
grep -qx 'threads 1' "$o.shim" || fail "a thread started for a non-LLM HTTP/2 call"
grep -qx 'core-loaded True' "$E2E_TMP/note_h2" || fail "the core did not read the HTTP/2 request"
PORT=$PORT_H1

# Programs that do no networking at all.
same_output idle_true "$DB" /bin/true
same_output idle_sh "$DB" /bin/sh -c 'echo hi; /bin/true'
[[ $(cat "$E2E_TMP/out/idle_sh.shim") == hi ]] || fail "sh output changed"

[[ ! -e $DB ]] || fail "the store directory was created: $(ls -la "$DB" 2>&1)"
