#!/usr/bin/env bash
# Issue 13, findings 1-6 and 10: secrets in the forms the first redaction
# missed never reach the store. A small HTTP/1.1 server (keep-alive) answers
# chat completions, a 401 that echoes the bearer key in full, and a 502 HTML
# page that echoes the Authorization header. Clients: Python's http.client
# with bodies jansson rejects (NaN, a lone surrogate, a top-level array),
# form bodies, arrays under secret names, the credential vocabulary, query
# parameters (percent-encoded names, presigned-URL and SAS parameters, ;),
# keys in prompts, the head of a body over LLMOPS_MAX_PARSE, and secrets in
# its own argv in every form; curl with -HName: value, --header=, -uuser:K,
# a URL with userinfo. Then data.mdb, lock.mdb, the shim's log and every
# export format (ndjson, json, csv, sqlite, sql for both dialects) are
# scanned for every key. With LLMOPS_CAPTURE_CONTENT=0 the prompt words and
# the server's error text are in none of them either, and argv keeps only
# the program and flag names.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim

rnd() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
cat >"$E2E_TMP/server.py" <<'EOF'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        auth = self.headers.get("Authorization", "")
        mode = self.headers.get("X-Echo", "")
        prompt = self.headers.get("X-Prompt", "")
        if mode == "401":
            code, ctype = 401, "application/json"
            body = json.dumps({"error": {"message": "Incorrect API key provided: %s. %s" % (
                auth.split(" ", 1)[-1], prompt), "type": "invalid_request_error",
                "code": "invalid_api_key"}})
        elif mode == "502":
            code, ctype = 502, "text/html"
            body = "<html><body><h1>502</h1><pre>Authorization: %s\n%s</pre></body></html>" % (
                auth, prompt)
        else:
            code, ctype = 200, "application/json"
            body = json.dumps({"id": "c1", "object": "chat.completion", "model": "gpt-4o",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok " +
                self.headers.get("X-Reply", "")}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
EOF
"$PY" "$E2E_TMP/server.py" "$E2E_TMP/port" 2>"$E2E_TMP/server.err" &
SERVER_PIDS+=($!)
for ((i = 0; i < 200; i++)); do [[ -s $E2E_TMP/port ]] && break; sleep 0.05; done
PORT=$(<"$E2E_TMP/port")

# Keys with no recognisable shape (found by name) and in real shapes (found
# anywhere: prompts, error text). mk VAR PREFIX N: a fresh key in VAR.
KEYS=()
mk() {
  printf -v "$1" '%s%s' "$2" "$(rnd "$3")"
  KEYS+=("${!1}")
}
cat >"$E2E_TMP/prog.py" <<'EOF'
import http.client, json, os, sys
port = int(sys.argv[1])
K = json.loads(os.environ["K_JSON"])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
n = 0
def post(body, path="/v1/chat/completions", ctype="application/json", **hdr):
    global n
    h = {"Host": "api.openai.com", "Content-Type": ctype}
    h.update(hdr)
    c.request("POST", path, body=body if isinstance(body, bytes) else body.encode(), headers=h)
    c.getresponse().read()
    n += 1
m = '"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]'
# finding 1: bodies jansson rejects, form bodies, arrays, a cut head
post('{%s,"api_key":"%s","temperature":NaN}' % (m, K["nan"]))
post('{%s,"x":"\\ud800","api_key":"%s"}' % (m, K["surrogate"]))
post('[{%s,"api_key":"%s"}]' % (m, K["array"]))
post("model=gpt-4o&api_key=%s&n=1" % K["form"], ctype="application/x-www-form-urlencoded")
post('{%s,"api_key":["%s"]}' % (m, K["list"]))
post('{"api_key":"%s",%s,"pad":"%s"}' % (K["head"], m, "x" * 6000))
# finding 2: the credential vocabulary, and "Bearer K" under any name
names = ["openai_api_key", "aws_secret_access_key", "secret_key", "private_key", "access_key",
         "api_token", "refresh_token", "id_token", "credentials", "passwd", "bearer", "auth"]
post("{%s,%s}" % (m, ",".join('"%s":"%s"' % (nm, K["name_" + nm]) for nm in names)))
post('{%s,"note":"Bearer %s"}' % (m, K["bearer_any"]))
# finding 3: query parameters
q = ("api%%5Fkey=%s&X-Amz-Signature=%s&X-Amz-Credential=%s&sig=%s&api-token=%s&apitoken=%s"
     "&auth=%s&private_token=%s&refresh_token=%s&code=%s" % tuple(K["q%d" % i] for i in range(10)))
post('{%s}' % m, path="/v1/chat/completions?" + q)
post('{%s}' % m, path="/v1/chat/completions?a=1;key=%s" % K["semi"])
# finding 5: a key the server echoes
post('{%s}' % m, Authorization="Bearer " + K["echo401"], **{"X-Echo": "401"})
post('{%s}' % m, Authorization="Bearer " + K["echo502"], **{"X-Echo": "502"})
# finding 6: a key pasted into the prompt, and one the model repeats
post('{"model":"gpt-4o","messages":[{"role":"user","content":"my key is %s, use it"}]}' % K["prompt"],
     **{"X-Reply": K["reply"]})
print("calls:", n)
EOF

K_JSON=$("$PY" - <<'EOF'
import json, os
r = lambda n: os.urandom(n).hex()
k = {"nan": "kn" + r(12), "surrogate": "ks" + r(12), "array": "ka" + r(12), "form": "kf" + r(12),
     "list": "kl" + r(12), "head": "kh" + r(12), "bearer_any": "bb" + r(12),
     "semi": "ksc" + r(12), "echo401": "sk-proj-" + r(20), "echo502": "eb" + r(12),
     "prompt": "sk-ant-api03-" + r(20), "reply": "hf_" + r(12)}
for nm in ["openai_api_key", "aws_secret_access_key", "secret_key", "private_key", "access_key",
           "api_token", "refresh_token", "id_token", "credentials", "passwd", "bearer", "auth"]:
    k["name_" + nm] = "n" + r(12)
for i in range(10):
    k["q%d" % i] = "q%d" % i + r(12)
print(json.dumps(k))
EOF
)
while IFS= read -r k; do KEYS+=("$k"); done < <("$PY" -c 'import json,sys
for v in json.loads(sys.argv[1]).values(): print(v)' "$K_JSON")

# finding 4: secrets on the program's own command line, every form
mk a1 oa 12; mk a2 an 12; mk a3 at 12; mk a4 sc 12; mk a5 hb 12; mk a6 hh 12
mk a7 uu 12; mk a8 ui 12; mk a9 xa 12; mk a10 ev 12; mk a11 fd 12; mk a12 hf_ 12
mk a13 '' 8; mk a14 sg 16
A=(--openai-api-key "$a1" --anthropic_api_key "$a2" --api-token "$a3" --secret-key "$a4"
  "-HAuthorization: Bearer $a5" "--header=Authorization: Bearer $a6" "-uuser:$a7"
  "https://user:$a8@host/x" "X-Auth-Token: $a9" "OPENAI_API_KEY=$a10" -d "model=x&api_key=$a11"
  "$a12" "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI${a13}In0.$a14")
DB=$E2E_TMP/db
SHIMLOG=$E2E_TMP/shim.log
with_shim "$DB" env LLMOPS_LOG="$SHIMLOG" LLMOPS_MAX_PARSE=4096 K_JSON="$K_JSON" \
  "$PY" "$E2E_TMP/prog.py" "$PORT" "${A[@]}" >"$E2E_TMP/prog.out" 2>&1 ||
  { cat "$E2E_TMP/prog.out" >&2; fail "python client failed"; }
# curl's own forms (its argv and what it sends)
mk CK1 cu 12; mk CK2 ch 12; mk CK3 cq 12; mk CK4 cb 12
with_shim "$DB" env LLMOPS_LOG="$SHIMLOG" curl -sS -o /dev/null \
  --connect-to "api.openai.com:80:127.0.0.1:$PORT" "-HAuthorization: Bearer $CK1" \
  --header "X-Auth-Token: $CK2" -H 'Content-Type: application/json' \
  -d '{"model":"gpt-4o","messages":[]}' "http://api.openai.com/v1/chat/completions?a=1;key=$CK3" ||
  fail "curl failed"
with_shim "$DB" env LLMOPS_LOG="$SHIMLOG" curl -sS -o /dev/null \
  --connect-to "api.openai.com:80:127.0.0.1:$PORT" "-uuser:$CK4" \
  -H 'Content-Type: application/json' -d '{"model":"gpt-4o","messages":[]}' \
  "http://api.openai.com/v1/chat/completions" || fail "curl failed"

# export DB DIR: every export format of DB into DIR
export_all() {
  mkdir -p "$2"
  "$LLMOPS_CLI" export --db "$1" --format ndjson >"$2/x.ndjson" || fail "export ndjson failed"
  "$LLMOPS_CLI" export --db "$1" --format json >"$2/x.json" || fail "export json failed"
  "$LLMOPS_CLI" export --db "$1" --format csv >"$2/x.csv" || fail "export csv failed"
  "$LLMOPS_CLI" export --db "$1" --format sqlite --out "$2/x.sqlite" || fail "export sqlite failed"
  "$LLMOPS_CLI" export --db "$1" --format sql >"$2/x.sql" || fail "export sql failed"
  "$LLMOPS_CLI" export --db "$1" --format sql --dialect postgres >"$2/x.pg.sql" ||
    fail "export sql (postgres) failed"
}
X=$E2E_TMP/exports
export_all "$DB" "$X"
touch "$SHIMLOG"
nrec=$(wc -l <"$X/x.ndjson")
log "$nrec records"
((nrec == 15)) || fail "want 15 records (13 python calls, 2 curl), got $nrec"
grep -q '\[REDACTED\]' "$X/x.ndjson" || fail "no [REDACTED] marker at all"
# what was kept around the keys is still there: names and the rest of the text
grep -q 'Incorrect API key provided: \[REDACTED\]' "$X/x.ndjson" || fail "401 message not kept"
grep -q 'X-Amz-Signature=\[REDACTED\]' "$X/x.ndjson" || fail "url_path lost its parameter name"
secret_args=()
for k in "${KEYS[@]}"; do secret_args+=(--secret "$k"); done
"$PY" "$E2E_DIR/corpus_expect.py" scan "${secret_args[@]}" "$DB/data.mdb" "$DB/lock.mdb" \
  "$SHIMLOG" "$X"/* || {
  grep -n -o ".\{0,60\}$(printf '%s\|' "${KEYS[@]}" | sed 's/\\|$//').\{0,20\}" "$X/x.ndjson" |
    head -20 >&2 || true
  fail "a secret reached the store, the log or an export"
}

# finding 10: LLMOPS_CAPTURE_CONTENT=0 keeps no content anywhere
W1=prompt$(rnd 8) W2=question$(rnd 8) W3=echoed$(rnd 8)
DB0=$E2E_TMP/db0
with_shim "$DB0" env LLMOPS_LOG="$SHIMLOG" LLMOPS_CAPTURE_CONTENT=0 curl -sS -o /dev/null \
  --connect-to "api.openai.com:80:127.0.0.1:$PORT" -H 'Content-Type: application/json' \
  -H "X-Echo: 401" -H "X-Prompt: $W3" \
  -d "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"$W1\"}]}" \
  "http://api.openai.com/v1/chat/completions" || fail "curl failed"
cat >"$E2E_TMP/llm.py" <<'EOF'
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
for echo in ("502", ""):
    c.request("POST", "/v1/chat/completions", body=json.dumps({"model": "gpt-4o",
              "messages": [{"role": "user", "content": sys.argv[2]}]}),
              headers={"Host": "api.openai.com", "Content-Type": "application/json",
                       "X-Echo": echo, "X-Prompt": sys.argv[3], "X-Reply": sys.argv[3]})
    c.getresponse().read()
EOF
with_shim "$DB0" env LLMOPS_LOG="$SHIMLOG" LLMOPS_CAPTURE_CONTENT=0 \
  "$PY" "$E2E_TMP/llm.py" "$PORT" "$W2" "$W3" --model=gpt-4o || fail "llm.py failed"
X0=$E2E_TMP/exports0
export_all "$DB0" "$X0"
n0=$(wc -l <"$X0/x.ndjson")
((n0 == 3)) || fail "capture off: want 3 records, got $n0"
for w in "$W1" "$W2" "$W3"; do
  if grep -l -a -F "$w" "$DB0/data.mdb" "$DB0/lock.mdb" "$SHIMLOG" "$X0"/*; then
    fail "capture off: content word $w was kept (files above)"
  fi
done
"$PY" - "$X0/x.ndjson" <<'EOF' || fail "capture off: argv or error_message not reduced"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ok = True
for r in recs:
    argv = r["argv"]
    if any(not a.startswith("-") for a in argv[1:]):
        print("argv keeps more than flag names:", argv, file=sys.stderr); ok = False
    if r["http_status"] in (401, 502) and r["error_message"] not in (None, r["error_type"]):
        print("error_message kept:", r["error_message"], file=sys.stderr); ok = False
    if "--model" not in argv and "-d" not in argv:
        print("flag names lost:", argv, file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
EOF
