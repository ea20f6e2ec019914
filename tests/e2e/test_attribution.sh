#!/usr/bin/env bash
# Per-request attribution: X-LLMOps-Session/-Agent/-Action/-Workspace headers
# override the LLMOPS_* environment for that call's record, and
# X-LLMOps-Extra-<name> adds extras[<name lowercased>] on top of LLMOPS_EXTRAS.
# Calls with and without the headers alternate on ONE keep-alive connection
# (curl with --next, captured through libcurl; Python's http.client through
# OpenSSL; httpx over HTTP/2), so nothing may leak from one request to the
# next; a 302-byte value is cut to 256 bytes on a UTF-8 boundary with
# `truncated` set; a process without the environment gets the headers' values
# only.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
start_server tls
unset LLMOPS_WORKSPACE LLMOPS_AGENT_ID LLMOPS_ACTION_ID

KEY=$(random_key)
URL=https://api.openai.com/v1/chat/completions
BODY=$E2E_TMP/body.json
vector_field openai_chat_nostream_1 request_body >"$BODY"
LONG=$(printf 'x%.0s' {1..255})é$(printf 'y%.0s' {1..45}) # 302 bytes; byte 256 cuts the é
ENV=(env LLMOPS_SESSION_ID=env-s LLMOPS_AGENT_ID=env-a LLMOPS_WORKSPACE=env-ws
  LLMOPS_EXTRAS='{"team":"core","run":7}')

# curl: five requests on one connection, headers on the 2nd and 4th only.
DB=$E2E_TMP/db-curl
args=()
seg() {
  ((${#args[@]})) && args+=(--next)
  args+=(--http1.1 -sS -o /dev/null -w '%{num_connects}\n' --cacert "$CA"
    --connect-to "api.openai.com:443:127.0.0.1:$PORT" -H "Authorization: Bearer $KEY"
    -H 'Content-Type: application/json' --data-binary @"$BODY" "$@" "$URL")
}
seg
seg -H 'X-LLMOps-Session: req-s2' -H 'X-LLMOps-Agent: req-a2' -H 'x-llmops-action: req-act2' \
  -H 'X-LLMOps-Extra-Team: blue' -H 'X-LLMOps-Extra-Ticket: T-1'
seg
seg -H 'X-LLMOPS-WORKSPACE: req-ws4' -H "X-LLMOps-Session: $LONG" \
  -H 'X-LLMOps-Extra-CamelCase: v4' -H 'X-LLMOps-Extra-Team:   padded  ' -H 'X-LLMOps-Agent;'
seg
with_shim "$DB" "${ENV[@]}" curl "${args[@]}" >"$E2E_TMP/connects" || fail "curl failed"
[[ $(tr '\n' ' ' <"$E2E_TMP/connects") == "1 0 0 0 0 " ]] ||
  fail "curl did not reuse one connection: $(tr '\n' ' ' <"$E2E_TMP/connects")"
# A process without the environment: the headers' values alone.
with_shim "$DB" curl --http1.1 -sS -o /dev/null --cacert "$CA" \
  --connect-to "api.openai.com:443:127.0.0.1:$PORT" -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' --data-binary @"$BODY" \
  -H 'X-LLMOps-Session: solo' -H 'X-LLMOps-Extra-K: v' "$URL" || fail "curl (no env) failed"

# Python http.client (OpenSSL, HTTP/1.1): four requests on one connection.
PYDB=$E2E_TMP/db-py
with_shim "$PYDB" "${ENV[@]}" "$PY" - "$E2E_DIR" "$PORT" "$CA" "$BODY" "$KEY" <<'EOF' ||
import http.client, ssl, sys
sys.path.insert(0, sys.argv[1])
import client
client.install_resolver(int(sys.argv[2]))
ctx = ssl.create_default_context(cafile=sys.argv[3])
body = open(sys.argv[4], "rb").read()
conn = http.client.HTTPSConnection("api.openai.com", 443, context=ctx)
own = [{}, {"X-LLMOps-Action": "py-act", "X-LLMOps-Extra-Run": "8"}, {},
       {"x-llmops-session": "py-s", "X-LLMOps-Extra-Step": "4"}]
for h in own:
    h.update({"Authorization": "Bearer " + sys.argv[5], "Content-Type": "application/json"})
    conn.request("POST", "/v1/chat/completions", body, h)
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"status {r.status}")
if len(client.connects) != 1:
    sys.exit(f"{len(client.connects)} connections, want 1")
EOF
  fail "python client failed"

# HTTP/2 (httpx through OpenSSL, HPACK-coded lowercase names): two streams on
# one connection to h2_server.py, headers on the second only.
H2DB=$E2E_TMP/db-h2
pf=$E2E_TMP/h2.port
"$PY" "$E2E_DIR/h2_server.py" --corpus "$CORPUS" --host 127.0.0.1 --port 0 --port-file "$pf" \
  --cert "$E2E_TMP/certs/server.pem" --key "$E2E_TMP/certs/server.key" \
  --log "$E2E_TMP/h2.log" 2>>"$E2E_TMP/server.err" &
SERVER_PIDS+=("$!")
for ((i = 0; i < 200; i++)); do [[ -s $pf ]] && break; sleep 0.05; done
[[ -s $pf ]] || fail "h2 server did not start"
with_shim "$H2DB" "${ENV[@]}" "$PY" - "$E2E_DIR" "$(<"$pf")" "$CA" "$BODY" "$KEY" <<'EOF' ||
import ssl, sys
import httpx
sys.path.insert(0, sys.argv[1])
import client
client.install_resolver(int(sys.argv[2]))
body = open(sys.argv[4], "rb").read()
with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=sys.argv[3])) as c:
    for own in ({}, {"X-LLMOps-Agent": "h2-a", "X-LLMOps-Extra-Proto": "h2"}):
        h = {"Authorization": "Bearer " + sys.argv[5], "Content-Type": "application/json", **own}
        r = c.post("https://api.openai.com/v1/chat/completions", content=body, headers=h)
        if r.status_code != 200 or r.http_version != "HTTP/2":
            sys.exit(f"{r.http_version} {r.status_code}")
EOF
  fail "httpx HTTP/2 client failed"

export_ndjson "$DB" >"$E2E_TMP/curl.ndjson" || fail "export failed"
export_ndjson "$H2DB" >"$E2E_TMP/h2.ndjson" || fail "export failed"
export_ndjson "$PYDB" >"$E2E_TMP/py.ndjson" || fail "export failed"
"$PY" - "$E2E_TMP/curl.ndjson" "$E2E_TMP/py.ndjson" "$LONG" "$E2E_TMP/h2.ndjson" <<'EOF'
import json, sys
def load(p):  # in request order: timestamps have microseconds, ULIDs only milliseconds
    return sorted(map(json.loads, open(p, encoding="utf-8")), key=lambda r: r["timestamp"])
curl, py, long, h2 = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3], load(sys.argv[4])
env = dict(session_id="env-s", agent_id="env-a", workspace="env-ws", action_id=None)
E = {"team": "core", "run": 7}
cut = long.encode()[:256].decode("utf-8", "ignore")
want = [  # (name, records, index, attribution, extras, truncated)
    ("curl 1", curl, 0, env, E, False),
    ("curl 2 headers", curl, 1, dict(env, session_id="req-s2", agent_id="req-a2",
                                     action_id="req-act2"),
     {"team": "blue", "run": 7, "ticket": "T-1"}, False),
    ("curl 3", curl, 2, env, E, False),
    ("curl 4 headers", curl, 3, dict(env, workspace="req-ws4", session_id=cut),
     {"team": "padded", "run": 7, "camelcase": "v4"}, True),
    ("curl 5", curl, 4, env, E, False),
    ("curl no env", curl, 5,
     dict(session_id="solo", agent_id=None, workspace=None, action_id=None), {"k": "v"}, False),
    ("py 1", py, 0, env, E, False),
    ("py 2 headers", py, 1, dict(env, action_id="py-act"), {"team": "core", "run": "8"}, False),
    ("py 3", py, 2, env, E, False),
    ("py 4 headers", py, 3, dict(env, session_id="py-s"),
     {"team": "core", "run": 7, "step": "4"}, False),
    ("h2 1", h2, 0, env, E, False),
    ("h2 2 headers", h2, 1, dict(env, agent_id="h2-a"),
     {"team": "core", "run": 7, "proto": "h2"}, False),
]
problems = []
if len(curl) != 6 or len(py) != 4 or len(h2) != 2:
    problems.append(f"records: curl {len(curl)} (want 6), python {len(py)} (want 4), "
                    f"h2 {len(h2)} (want 2)")
problems += [f"h2 record: http_version {r['http_version']}" for r in h2 if r["http_version"] != "2"]
for name, recs, i, fields, extras, truncated in want:
    if i >= len(recs):
        continue
    r = recs[i]
    for k, v in fields.items():
        if r[k] != v:
            problems.append(f"{name}: {k} = {r[k]!r}, want {v!r}")
    if r["extras"] != extras:
        problems.append(f"{name}: extras = {r['extras']!r}, want {extras!r}")
    if r["truncated"] != truncated:
        problems.append(f"{name}: truncated = {r['truncated']}, want {truncated}")
    if r["status"] != "ok":
        problems.append(f"{name}: status {r['status']}")
if cut != "x" * 255:
    problems.append("test bug: the cut should fall before the 2-byte character")
if problems:
    sys.exit("\n".join(problems))
print(f"{len(curl)} curl, {len(py)} http.client and {len(h2)} HTTP/2 records attributed as requested",
      file=sys.stderr)
EOF
