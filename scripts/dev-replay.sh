#!/usr/bin/env bash
# replay.sh VECTOR...: curl each corpus vector through the local server under the shim; print record vs expected
set -u
# Developer aid: B=<build dir> scripts/dev-replay.sh VECTOR... (names from tests/corpus, no .json)
B=${B:-$(cd "$(dirname "$0")/.." && pwd)/build}; SRC=$(cd "$(dirname "$0")/.." && pwd); C=$SRC/tests/corpus; T=$(mktemp -d)
bash $SRC/tests/e2e/mkcert.sh $T/certs >/dev/null
/usr/bin/python3 $SRC/tests/e2e/llm_server.py --corpus $C --host 127.0.0.1 --port 0 --port-file $T/port --cert $T/certs/server.pem --key $T/certs/server.key 2>$T/err & S=$!
for i in $(seq 100); do [ -s $T/port ] && break; sleep 0.05; done; P=$(cat $T/port)
for v in "$@"; do
  url=$(python3 -c "import json;print(json.load(open('$C/$v.json'))['url'])")
  host=$(python3 -c "import urllib.parse;print(urllib.parse.urlparse('$url').hostname)")
  python3 -c "import json,sys;b=json.load(open('$C/$v.json'))['request_body'];sys.stdout.write(b or '')" > $T/body
  method=$(python3 -c "import json;print(json.load(open('$C/$v.json'))['method'])")
  LD_PRELOAD=$B/libllmops.so LLMOPS_DB=$T/db LLMOPS_HOSTS="${HOSTS:-}" curl -sS --http1.1 --cacert $T/certs/ca.pem --connect-to $host:443:127.0.0.1:$P -X $method -H "X-Test-Vector: $v" -H 'Content-Type: application/json' ${ENC:+-H "X-Test-Encoding: $ENC"} --data-binary @$T/body "$url" -o /dev/null || echo "curl failed $v"
done
$B/llmops export --db $T/db > $T/out.ndjson
python3 - "$C" "$T/out.ndjson" "$@" <<'PY'
import json,sys
C=sys.argv[1]; recs=[json.loads(l) for l in open(sys.argv[2])]; vs=sys.argv[3:]
print(len(recs),'records for',len(vs),'vectors')
m={'cached_input_tokens':'cache_read_tokens','cache_creation_input_tokens':'cache_write_tokens'}
for v,r in zip(vs,recs):
  e=json.load(open(f'{C}/{v}.json'))['expected']
  diffs=[]
  for k in ['request_model','response_model','model','input_tokens','output_tokens','cached_input_tokens','cache_creation_input_tokens','reasoning_tokens','total_tokens','finish_reason','stream']:
    if k in e and e[k] != r.get(m.get(k,k)): diffs.append(f"{k}: exp={e[k]} got={r.get(m.get(k,k))}")
  print(('OK  ' if not diffs else 'DIFF'), v, r['api'], r['provider'], r['status'], r['error_type'], (r['response'] or '')[:40].replace('\n',' '), r['tool_calls'] and r['tool_calls'][:60], '|', '; '.join(diffs))
PY
kill $S; rm -rf $T
