#!/usr/bin/env bash
# curl for test_run.sh, with the arguments of the other clients:
# run_curl.sh URL BODY_FILE API_KEY (proxy and CA from the environment);
# RUN_CURL_HTTP2=1 asks for HTTP/2 and prints the version used.
args=(-w '\nstatus %{http_code}\n')
[[ ${RUN_CURL_HTTP2:-0} == 1 ]] && args=(--http2 -w '\nhttp %{http_version}\nstatus %{http_code}\n')
exec curl -sS "${args[@]}" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
  --data-binary @"$2" "$1"
