#!/usr/bin/env bash
# The NDJSON export loads into nodejs-polars as a well-typed table, with the
# extras and session id given to the shim through the environment.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim

NODE_DIR=$LLMOPS_SRC/tests/node
if [[ ! -d $NODE_DIR/node_modules/nodejs-polars ]]; then
  log "npm ci in $NODE_DIR"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
fi

start_server tls
DB=$E2E_TMP/db
KEY=$(random_key)
SESSION=e2e-polars-session-1
EXTRAS='{"team":"core","run":7}'
URL=https://api.openai.com/v1/chat/completions
calls=(openai_chat_nostream_1 openai_chat_stream_2 openai_chat-error_nostream_2 openai_chat_nostream_3)
for v in "${calls[@]}"; do
  vector_field "$v" request_body >"$E2E_TMP/$v.body"
  with_shim "$DB" env LLMOPS_EXTRAS="$EXTRAS" LLMOPS_SESSION_ID="$SESSION" \
    curl --http1.1 -sS -o /dev/null --cacert "$CA" --connect-to "api.openai.com:443:127.0.0.1:$PORT" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    --data-binary @"$E2E_TMP/$v.body" "$URL" || fail "curl $v failed"
done

export_ndjson "$DB" >"$E2E_TMP/export.ndjson" || fail "llmops export failed"
"$PY" "$E2E_DIR/check_records.py" "$E2E_TMP/export.ndjson" --corpus "$CORPUS" --secret "$KEY" \
  --extras "$EXTRAS" --session-id "$SESSION" "${calls[@]}"
/usr/bin/node "$E2E_DIR/polars_check.mjs" "$E2E_TMP/export.ndjson" "${#calls[@]}" "$SESSION"
