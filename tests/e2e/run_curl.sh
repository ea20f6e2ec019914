#!/usr/bin/env bash
# curl for test_run.sh, with the arguments of the other clients:
# run_curl.sh URL BODY_FILE API_KEY (proxy and CA from the environment).
exec curl -sS -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
  -w '\nstatus %{http_code}\n' --data-binary @"$2" "$1"
