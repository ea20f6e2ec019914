#!/usr/bin/env bash
# Debian's python3 (ssl module, http.client, urllib) against the replay server,
# without and with the shim: identical output, one correct record per request.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
start_server tls

DB=$E2E_TMP/db
KEY=$(random_key)

vectors=()
for f in "$CORPUS"/openai_chat_*.json "$CORPUS"/openai_chat-error_*.json; do
  vectors+=("$(basename "$f" .json)")
done
chunk1=openai_chat_stream_2
urllib_v=openai_chat_nostream_4

same_output python "$DB" "$PY" "$E2E_DIR/client.py" --port "$PORT" --ca "$CA" --key "$KEY" \
  --corpus "$CORPUS" --chunk1 "$chunk1" --urllib "$urllib_v" "${vectors[@]}"
[[ $SAME_OUTPUT_RC == 0 ]] || { cat "$E2E_TMP/out/python.plain.err" >&2; fail "client.py exited $SAME_OUTPUT_RC"; }
grep -q '^== connections 1$' "$E2E_TMP/out/python.shim" || fail "keep-alive connection not reused"
[[ $(grep -c '^== ' "$E2E_TMP/out/python.shim") == $((${#vectors[@]} + 3)) ]] ||
  fail "client printed an unexpected number of responses"

[[ -d $DB ]] || fail "no store created at $DB"
export_ndjson "$DB" >"$E2E_TMP/export.ndjson" || fail "llmops export failed"
"$PY" "$E2E_DIR/check_records.py" "$E2E_TMP/export.ndjson" --corpus "$CORPUS" \
  --secret "$KEY" --exe-suffix python3 "${vectors[@]}" "$chunk1" "$urllib_v"
