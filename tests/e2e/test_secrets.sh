#!/usr/bin/env bash
# No API key reaches the store. curl and Python call a spread of vectors with
# keys passed every way real programs pass them: Authorization: Bearer (and
# curl --oauth2-bearer), x-api-key, api-key (Azure), x-goog-api-key, Cookie
# (header, -b, --cookie, a requests cookie jar), ?key= in the URL (Gemini, and
# an OpenAI-compatible path), "api_key" inside the JSON body (from a file and
# inline on curl's command line), and keys on the command line of the program
# (curl -H ..., python3 prog.py --api-key K / --token=K). Then every byte of
# the LMDB files, the shim's log, every export format and `llmops stats` is
# scanned for every key (and any 16-character piece of one).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
start_server tls

DB=$E2E_TMP/db
SHIMLOG=$E2E_TMP/shim.log
mkdir -p "$E2E_TMP/out" "$E2E_TMP/bodies"
rnd() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
# Keys in their real shapes, and some with no recognisable shape at all.
K_OPENAI=sk-proj-$(rnd 24)          # Authorization: Bearer
K_OAUTH=ya29.a0$(rnd 24)            # Vertex OAuth token, curl --oauth2-bearer
K_ANTHROPIC=sk-ant-api03-$(rnd 24)  # x-api-key
K_AZURE=$(rnd 16)                   # api-key: 32 hex digits, no prefix
K_GOOG=AIzaSy$(rnd 16)              # x-goog-api-key
K_QUERY=AIzaSy$(rnd 16)             # ?key= (Gemini)
K_QUERY2=qk$(rnd 20)                # ?api_key= on an OpenAI-compatible path
K_COOKIE=sess$(rnd 20)              # Cookie: header
K_COOKIE2=ck$(rnd 20)               # curl -b / --cookie
K_BODY=bk$(rnd 20)                  # "api_key" in a JSON body file
K_BODY_ARGV=ba$(rnd 20)             # "api_key" in a JSON body inline on argv
K_PY_BEARER=sk-$(rnd 24)            # Python: headers from the environment
K_PY_XAPI=sk-ant-api03-$(rnd 24)
K_PY_AZURE=$(rnd 16)
K_PY_GOOG=AIzaSy$(rnd 16)
K_PY_COOKIE=pc$(rnd 20)
K_PY_QUERY=AIzaSy$(rnd 16)
K_PY_BODY=pb$(rnd 20)
K_PY_ARGV=pa$(rnd 20)               # python3 prog.py --api-key K
K_PY_ARGV2=pt$(rnd 20)              # python3 prog.py --token=K
KEYS=("$K_OPENAI" "$K_OAUTH" "$K_ANTHROPIC" "$K_AZURE" "$K_GOOG" "$K_QUERY" "$K_QUERY2"
  "$K_COOKIE" "$K_COOKIE2" "$K_BODY" "$K_BODY_ARGV" "$K_PY_BEARER" "$K_PY_XAPI" "$K_PY_AZURE"
  "$K_PY_GOOG" "$K_PY_COOKIE" "$K_PY_QUERY" "$K_PY_BODY" "$K_PY_ARGV" "$K_PY_ARGV2")

ncalls=0
# curlv NAME URL [curl args...]: POST the vector's body (unless args give one) to URL.
curlv() {
  local name=$1 url=$2 host code
  shift 2
  host=${url#https://}
  host=${host%%/*}
  local data=(--data-binary @"$E2E_TMP/bodies/$name")
  [[ -f $E2E_TMP/bodies/$name ]] || vector_field "$name" request_body >"$E2E_TMP/bodies/$name"
  [[ " $* " == *" -d "* || " $* " == *" --data-binary "* ]] && data=()
  code=$(with_shim "$DB" env LLMOPS_LOG="$SHIMLOG" curl --http1.1 -sS -g --cacert "$CA" \
    --connect-to "$host:443:127.0.0.1:$PORT" -H "X-Test-Vector: $name" \
    -H 'Content-Type: application/json' -o "$E2E_TMP/out/$ncalls" -w '%{http_code}' \
    "${data[@]}" "$@" "$url") || fail "curl $name failed"
  [[ $code == "$(vector_field "$name" status)" ]] || fail "$name: HTTP $code (harness problem)"
  ncalls=$((ncalls + 1))
}
# body_with_key NAME KEY -> file: the vector's JSON body with "api_key": KEY added.
body_with_key() {
  "$PY" -c 'import json,sys
b = json.loads(json.load(open(sys.argv[1]))["request_body"]); b["api_key"] = sys.argv[2]
sys.stdout.write(json.dumps(b))' "$CORPUS/$1.json" "$2"
}

OAI=https://api.openai.com/v1/chat/completions
GEM=https://generativelanguage.googleapis.com/v1beta/models
AZ=https://traceloop-stg.openai.azure.com/openai/deployments/openllmetry-testing/chat/completions
curlv openai_chat_nostream_1 "$OAI" -H "Authorization: Bearer $K_OPENAI"
curlv openai_chat_stream_2 "$OAI" -H "authorization:Bearer $K_OPENAI"
curlv openai_chat_nostream_4 "$OAI" --oauth2-bearer "$K_OAUTH"
curlv vertex_streamgeneratecontent_stream_1 \
  "https://aiplatform.googleapis.com/v1beta1/publishers/google/models/gemini-3.5-flash:streamGenerateContent?alt=sse" \
  --oauth2-bearer "$K_OAUTH"
curlv anthropic_messages_stream_1 https://api.anthropic.com/v1/messages -H "x-api-key: $K_ANTHROPIC"
curlv anthropic_messages_nostream_1 https://api.anthropic.com/v1/messages -H "X-Api-Key: $K_ANTHROPIC"
curlv azure_chat_nostream_1 "$AZ?api-version=2024-02-01" -H "api-key: $K_AZURE"
curlv azure_chat_stream_1 "$AZ?api-version=2024-02-01" -H "Api-Key: $K_AZURE"
curlv gemini_streamgeneratecontent_stream_4 "$GEM/gemini-3.5-flash:streamGenerateContent?alt=sse" \
  -H "x-goog-api-key: $K_GOOG"
curlv gemini_generatecontent_nostream_1 "$GEM/gemini-2.5-flash:generateContent?key=$K_QUERY"
curlv gemini_streamgeneratecontent_stream_1 \
  "$GEM/gemini-2.5-flash:streamGenerateContent?alt=sse&key=$K_QUERY"
curlv openai_chat_nostream_2 "$OAI?api_key=$K_QUERY2&x=1"
curlv openai_chat_nostream_3 "$OAI?key=$K_QUERY2"
curlv openrouter_chat-error_nostream_1 https://openrouter.ai/api/v1/chat/completions \
  -H "Cookie: theme=dark; session=$K_COOKIE"
curlv openai_chat-error_nostream_4 "$OAI" -b "auth=$K_COOKIE2"
curlv openai_chat-error_nostream_2 "$OAI" --cookie "auth=$K_COOKIE2"
body_with_key openai_chat_stream_3 "$K_BODY" >"$E2E_TMP/bodies/with_key"
curlv openai_chat_stream_3 "$OAI" --data-binary @"$E2E_TMP/bodies/with_key"
curlv openai_chat_stream_1 "$OAI" -d "$(body_with_key openai_chat_stream_1 "$K_BODY_ARGV")"
log "curl: $ncalls calls"

# Python: keys from the environment into headers, cookies, params and JSON
# bodies (requests and http.client), plus two keys on its own command line.
cat >"$E2E_TMP/prog.py" <<'EOF'
import http.client, json, os, ssl, sys
sys.path.insert(0, os.environ["E2E_DIR"])
import requests
from client import install_resolver
port, ca, corpus = int(sys.argv[1]), sys.argv[2], sys.argv[3]   # argv[4:]: --api-key K --token=K
E = os.environ
vec = lambda n: json.load(open(os.path.join(corpus, n + ".json")))
hosts = {"api.openai.com", "api.anthropic.com", "traceloop-stg.openai.azure.com",
         "generativelanguage.googleapis.com", "openrouter.ai"}
install_resolver(port, hosts)
s = requests.Session()
calls = 0
def go(name, url, headers=None, **kw):
    global calls
    v = vec(name)
    h = {"X-Test-Vector": name, "Content-Type": "application/json"}
    h.update(headers or {})
    if "json" not in kw:
        kw["data"] = v["request_body"].encode()
    r = s.post(url, headers=h, verify=ca, stream=True, timeout=30, **kw)
    r.content
    assert r.status_code == v["status"], (name, r.status_code)
    calls += 1
OAI = "https://api.openai.com/v1/chat/completions"
GEM = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:"
go("openai_chat_stream_2", OAI, {"Authorization": "Bearer " + E["K_PY_BEARER"]})
go("openai_chat_nostream_1", OAI, {"Authorization": "Bearer " + sys.argv[5]})  # the --api-key value
go("anthropic_messages_stream_3", "https://api.anthropic.com/v1/messages", {"x-api-key": E["K_PY_XAPI"]})
go("azure_chat_nostream_2", "https://traceloop-stg.openai.azure.com/openai/deployments/"
   "openllmetry-testing/chat/completions?api-version=2024-02-01", {"api-key": E["K_PY_AZURE"]})
go("gemini_generatecontent_nostream_2", GEM + "generateContent", {"x-goog-api-key": E["K_PY_GOOG"]})
go("gemini_streamgeneratecontent_stream_1", GEM + "streamGenerateContent",
   params={"alt": "sse", "key": E["K_PY_QUERY"]})
go("openrouter_chat-error_nostream_1", "https://openrouter.ai/api/v1/chat/completions",
   cookies={"session": E["K_PY_COOKIE"]})
b = json.loads(vec("openai_chat_nostream_4")["request_body"])
b["api_key"] = E["K_PY_BODY"]
go("openai_chat_nostream_4", OAI, json=b)
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection("api.openai.com", 443, context=ctx, timeout=30)
c.request("POST", "/v1/chat/completions", body=vec("openai_chat_nostream_2")["request_body"],
          headers={"Authorization": "Bearer " + E["K_PY_BEARER"], "Content-Type": "application/json",
                   "X-Test-Vector": "openai_chat_nostream_2", "Cookie": "a=" + E["K_PY_COOKIE"]})
c.getresponse().read()
calls += 1
print("python: %d calls" % calls)
EOF
with_shim "$DB" env LLMOPS_LOG="$SHIMLOG" E2E_DIR="$E2E_DIR" K_PY_BEARER="$K_PY_BEARER" \
  K_PY_XAPI="$K_PY_XAPI" K_PY_AZURE="$K_PY_AZURE" K_PY_GOOG="$K_PY_GOOG" \
  K_PY_COOKIE="$K_PY_COOKIE" K_PY_QUERY="$K_PY_QUERY" K_PY_BODY="$K_PY_BODY" \
  "$PY" "$E2E_TMP/prog.py" "$PORT" "$CA" "$CORPUS" --api-key "$K_PY_ARGV" --token="$K_PY_ARGV2" \
  >"$E2E_TMP/out/python" 2>&1 || { cat "$E2E_TMP/out/python" >&2; fail "python client failed"; }
pycalls=$(sed -n 's/^python: \([0-9]*\) calls$/\1/p' "$E2E_TMP/out/python")
ncalls=$((ncalls + pycalls))
log "python: $pycalls calls"

[[ -d $DB ]] || fail "no store created at $DB"
X=$E2E_TMP/exports
mkdir -p "$X"
"$LLMOPS_CLI" export --db "$DB" --format ndjson >"$X/export.ndjson" || fail "export ndjson failed"
"$LLMOPS_CLI" export --db "$DB" --format json >"$X/export.json" || fail "export json failed"
"$LLMOPS_CLI" export --db "$DB" --out "$X/export.out" || fail "export --out failed"
"$LLMOPS_CLI" stats --db "$DB" >"$X/stats.txt" || fail "stats failed"
touch "$SHIMLOG"
files=("$DB"/* "$X"/* "$SHIMLOG")
secret_args=()
for k in "${KEYS[@]}"; do secret_args+=(--secret "$k"); done
leaks=0
"$PY" "$E2E_DIR/corpus_expect.py" scan "${secret_args[@]}" "${files[@]}" || leaks=1

# Say where each leak is: the record field (and whose key it was).
"$PY" - "$X/export.ndjson" "$ncalls" "${KEYS[@]}" <<'EOF' || leaks=1
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ncalls, keys = int(sys.argv[2]), sys.argv[3:]
bad = 0
def pieces(k):
    return [k] + [k[i:i + 16] for i in range(len(k) - 15)]
for r in recs:
    for f, v in r.items():
        for item in (v if isinstance(v, list) else [v]):
            text = item if isinstance(item, str) else json.dumps(item)
            for k in keys:
                hit = next((p for p in pieces(k) if p in text), None)
                if hit:
                    i = text.index(hit)
                    print("  LEAK %s record of %s %s: field %s: ...%s..." % (
                          r.get("operation_id"), r.get("exe"), r.get("url_path"), f,
                          text[max(0, i - 60):i + len(k) + 20]), file=sys.stderr)
                    bad = 1
# Redaction must have happened where the secret was recorded at all.
for r in recs:
    ca, up = r.get("completion_args") or "", r.get("url_path") or ""
    if "api_key" in ca and '"api_key":"[REDACTED]"' not in ca.replace(" ", ""):
        print("  completion_args keeps api_key unredacted: " + ca[:200], file=sys.stderr); bad = 1
    if ("key=" in up) and "key=[REDACTED]" not in up:
        print("  url_path keeps key= unredacted: " + up, file=sys.stderr); bad = 1
print("secrets: %d records for %d calls%s" % (len(recs), ncalls, "" if len(recs) == ncalls else
      " (calls without a dialect yet leave none: their keys are checked once they are recorded)"),
      file=sys.stderr)
if not recs:
    print("  no record at all: nothing was checked", file=sys.stderr); bad = 1
sys.exit(bad)
EOF
((leaks == 0)) || fail "an API key reached the store or an export (see above)"
