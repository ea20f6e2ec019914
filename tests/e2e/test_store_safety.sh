#!/usr/bin/env bash
# Issue 13, finding 7: a store or log that is not the user's alone is
# refused, and the program runs on unharmed (same output, same status). For
# each trap curl makes one recorded call under the shim: a world-writable
# store directory with pre-made 0666 data.mdb and lock.mdb (another user
# would read our prompts), lock.mdb a symbolic link to a victim file (LMDB
# would overwrite it), data.mdb group-writable, a directory owned by another
# user (as root only), and LLMOPS_LOG a symbolic link to a victim file. No
# record is written, the victim is unchanged, and the shim's log says why in
# one line. A private store next to them records normally (the control).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_shim
start_server plain
VEC=openai_chat_nostream_1
vector_field "$VEC" request_body >"$E2E_TMP/body.json"
call() { # call DB LOG: one call under the shim; its stdout must be the server's reply
  with_shim "$1" env LLMOPS_LOG="$2" curl -sS --connect-to "api.openai.com:80:127.0.0.1:$PORT" \
    -H 'Content-Type: application/json' -H "X-Test-Vector: $VEC" --data-binary @"$E2E_TMP/body.json" \
    http://api.openai.com/v1/chat/completions >"$E2E_TMP/reply" || fail "curl failed under the shim"
  grep -q '"usage"' "$E2E_TMP/reply" || fail "the reply did not reach the program"
}
records() { "$LLMOPS_CLI" export --db "$1" 2>/dev/null | wc -l; }
VICTIM=$E2E_TMP/victim
printf 'export PATH=/usr/bin\n' >"$VICTIM"
cp "$VICTIM" "$E2E_TMP/victim.orig"

# control: a private store records the call
call "$E2E_TMP/ok" "$E2E_TMP/ok.log"
[[ $(records "$E2E_TMP/ok") == 1 ]] || fail "control: the private store has no record"

refused() { # refused NAME DB: no record in DB, one log line naming the store
  local log=$E2E_TMP/$1.log
  call "$2" "$log"
  if [[ -s $2/data.mdb ]]; then fail "$1: data.mdb was written"; fi
  grep -q "cannot open store .*not owned by this user" "$log" || {
    cat "$log" >&2
    fail "$1: no log line about the refusal"
  }
  [[ $(grep -c "cannot open store" "$log") == 1 ]] || fail "$1: more than one log line"
  cmp -s "$VICTIM" "$E2E_TMP/victim.orig" || fail "$1: the victim file was changed"
  log "$1: refused"
}

D=$E2E_TMP/shared
mkdir -m 0777 "$D"
chmod 0777 "$D"
install -m 0666 /dev/null "$D/data.mdb"
install -m 0666 /dev/null "$D/lock.mdb"
chmod 0666 "$D/data.mdb" "$D/lock.mdb"
refused world-writable-dir "$D"

D=$E2E_TMP/link
mkdir -m 0700 "$D"
ln -s "$VICTIM" "$D/lock.mdb"
refused lock-symlink "$D"

D=$E2E_TMP/groupw
mkdir -m 0700 "$D"
install -m 0620 /dev/null "$D/data.mdb"
refused group-writable-file "$D"

if [[ $(id -u) == 0 ]] && id nobody >/dev/null 2>&1; then
  D=$E2E_TMP/theirs
  mkdir -m 0700 "$D"
  chown nobody "$D"
  refused other-owner "$D"
fi

# LLMOPS_LOG through a symbolic link: never followed
ln -s "$VICTIM" "$E2E_TMP/log-link"
call "$E2E_TMP/ok2" "$E2E_TMP/log-link"
cmp -s "$VICTIM" "$E2E_TMP/victim.orig" || fail "LLMOPS_LOG: the symlink was followed"
[[ $(records "$E2E_TMP/ok2") == 1 ]] || fail "LLMOPS_LOG symlink: the call was not recorded"
# a store refused with the log behind a link: the victim still unchanged
call "$E2E_TMP/link" "$E2E_TMP/log-link"
cmp -s "$VICTIM" "$E2E_TMP/victim.orig" || fail "LLMOPS_LOG: the symlink was followed"
