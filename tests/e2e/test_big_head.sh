#!/usr/bin/env bash
# Issue 13, finding 8: a request head far above 16 KiB (a 16,500-byte Cookie)
# to an LLM API is recorded, and it costs none of the later requests on the
# same keep-alive connection: 4 calls on one connection, the first with the
# big Cookie, give 4 records, over TLS (api.openai.com, Python's ssl) and
# over plaintext (a path only). Then heads up to LLMOPS_MAX_HEAD (1 MiB by
# default): a 200 KiB head (four 50 KiB Cookie lines) gives a whole record,
# and a head over a 128k LLMOPS_MAX_HEAD a record flagged truncated, each
# with the calls after it on the connection recorded.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
VEC=openai_chat_nostream_1
cat >"$E2E_TMP/prog.py" <<'EOF2'
import http.client, json, os, ssl, sys
sys.path.insert(0, os.environ["E2E_DIR"])
from client import install_resolver
mode, port, corpus = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kib = int(os.environ.get("BIG_KIB", "0"))  # the first head's size in 50 KiB Cookie lines
vec = json.load(open(os.path.join(corpus, "openai_chat_nostream_1.json")))
if mode == "tls":
    install_resolver(port, {"api.openai.com"})
    c = http.client.HTTPSConnection("api.openai.com", 443, timeout=30,
                                    context=ssl.create_default_context(cafile=sys.argv[4]))
else:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for i in range(4):
    h = {"Content-Type": "application/json", "X-Test-Vector": "openai_chat_nostream_1"}
    c.putrequest("POST", "/v1/chat/completions")
    if i == 0 and not kib:
        h["Cookie"] = "c=" + "x" * 16500
    for k in range(kib // 50 if i == 0 else 0):
        c.putheader("Cookie", "c%d=" % k + "x" * (50 << 10))
    body = vec["request_body"].encode()
    h["Content-Length"] = str(len(body))
    for k, v in h.items():
        c.putheader(k, v)
    c.endheaders(body)
    r = c.getresponse()
    r.read()
    assert r.status == vec["status"], r.status
print("connections:", 1)
EOF2
for mode in tls plain; do
  start_server "$mode"
  DB=$E2E_TMP/db.$mode
  with_shim "$DB" env E2E_DIR="$E2E_DIR" "$PY" "$E2E_TMP/prog.py" "$mode" "$PORT" "$CORPUS" "$CA" \
    >"$E2E_TMP/$mode.out" 2>&1 || { cat "$E2E_TMP/$mode.out" >&2; fail "$mode: client failed"; }
  n=0
  [[ -d $DB ]] && n=$(export_ndjson "$DB" | "$PY" -c 'import json,sys
print(sum(1 for l in sys.stdin if json.loads(l)["status"] == "ok"))')
  [[ $n == 4 ]] || fail "$mode: $n complete records for 4 calls on one connection"
  log "$mode: 4 calls on one keep-alive connection, the first with a 16,500-byte Cookie: 4 records"
done

# [mode, first head in KiB, LLMOPS_MAX_HEAD, want the first record truncated]
for run in "tls 200 - false" "plain 200 - false" "plain 200 128k true" "tls 300 128k true"; do
  read -r mode kib max want <<<"$run"
  start_server "$mode"
  DB=$E2E_TMP/db.$mode.$kib.$max
  set -- env E2E_DIR="$E2E_DIR" BIG_KIB="$kib"
  [[ $max == - ]] || set -- "$@" LLMOPS_MAX_HEAD="$max"
  with_shim "$DB" "$@" "$PY" "$E2E_TMP/prog.py" "$mode" "$PORT" "$CORPUS" "$CA" \
    >"$E2E_TMP/$mode.out" 2>&1 || { cat "$E2E_TMP/$mode.out" >&2; fail "$run: client failed"; }
  [[ -d $DB ]] || fail "$run: no store"
  got=$(export_ndjson "$DB" | "$PY" -c 'import json,sys
rs=[json.loads(l) for l in sys.stdin]
print(len(rs), *[r["status"] + ":" + str(r["truncated"]).lower() + ":" + str(r.get("request_model")) for r in rs])')
  m=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["expected"]["request_model"])' "$CORPUS/$VEC.json")
  want_got="4 ok:$want:$m ok:false:$m ok:false:$m ok:false:$m"
  [[ $got == "$want_got" ]] || fail "$run: got [$got], want [$want_got]"
  log "$run: a ${kib} KiB head then 3 calls on one connection: $got"
done
