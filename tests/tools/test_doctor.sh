#!/usr/bin/env bash
# `llmops doctor`: verdicts on real binaries of each kind, built or found here.
set -euo pipefail
: "${LLMOPS_BUILD:?}"
LLMOPS=$LLMOPS_BUILD/llmops
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
# expect NAME STATUS PATTERN PROGRAM: exit status and a line of the report
expect() {
  local name=$1 want=$2 pat=$3 rc=0
  shift 3
  $LLMOPS doctor "$@" > "$tmp/out" 2>&1 || rc=$?
  if [ "$rc" = "$want" ] && grep -q -- "$pat" "$tmp/out"; then
    pass=$((pass + 1)); echo "ok - $name"
  else
    fail=$((fail + 1)); echo "not ok - $name (exit $rc)"; sed 's/^/    /' "$tmp/out"
  fi
}

expect "curl: via libcurl and OpenSSL" 0 "libcurl.so.4 uses libssl.so" curl
if "$LLMOPS" doctor curl | grep -q suggest; then
  fail=$((fail + 1)); echo "not ok - an observable program gets no llmops run suggestion"
fi
expect "Debian python3: its ssl module uses libssl" 0 "ssl module .* uses libssl" /usr/bin/python3
printf '#!/usr/bin/python3\nprint(1)\n' > "$tmp/script.py"; chmod +x "$tmp/script.py"
expect "a script is judged by its interpreter" 0 "a script run by /usr/bin/python3" "$tmp/script.py"
printf 'int main(void){return 0;}\n' > "$tmp/s.c"
cc -static -o "$tmp/static" "$tmp/s.c"
expect "a static binary is not observable" 1 "statically linked: LD_PRELOAD is ignored" "$tmp/static"
printf 'int SSL_read(void *s, void *b, int n){return 0;}\nint main(void){return SSL_read(0,0,0);}\n' > "$tmp/own.c"
cc -rdynamic -o "$tmp/ownssl" "$tmp/own.c"
expect "a binary defining SSL_read keeps TLS out of reach" 1 "defines SSL_read itself" "$tmp/ownssl"
printf 'const char *v = "rustls 0.23";\nint main(void){return v[0] == 0;}\n' > "$tmp/r.c"
cc -o "$tmp/rustls" "$tmp/r.c"
# node links OpenSSL statically and exports it: inline hooks, on which functions
if [ -x /usr/bin/node ] && nm -D --defined-only /usr/bin/node 2>/dev/null | grep -w SSL_write >/dev/null; then
  expect "node: observable through inline hooks" 0 \
    "inline hooks on SSL_write SSL_read SSL_free SSL_write_ex SSL_read_ex SSL_shutdown" /usr/bin/node
else
  echo "ok - node # SKIP no /usr/bin/node carrying its own OpenSSL"
fi
# its own SSL_write/SSL_read/SSL_free, each a 3-byte function: nothing to patch
printf 'int SSL_read(void *s, void *b, int n){return 0;}\nint SSL_write(void *s, const void *b, int n){return 0;}\nvoid SSL_free(void *s){}\nint main(void){return SSL_read(0,0,0)+SSL_write(0,0,0);}\n' > "$tmp/own2.c"
cc -O2 -rdynamic -o "$tmp/ownssl2" "$tmp/own2.c"
expect "own SSL_write/SSL_read too short to patch: refused, not observable" 1 \
  "cannot take them: SSL_write: function shorter than the jump" "$tmp/ownssl2"
expect "an embedded rustls is reported" 1 "embeds rustls" "$tmp/rustls"
expect "TLS out of reach: llmops run is suggested" 1 "suggest: llmops run -- $tmp/rustls" "$tmp/rustls"
expect "static: llmops run is suggested" 1 "suggest: llmops run -- " "$tmp/static"
expect "no TLS at all: plain HTTP only" 1 "no TLS library linked" /bin/true
cp /bin/true "$tmp/suid"; chmod u+s "$tmp/suid"
expect "setuid: LD_PRELOAD ignored" 1 "setuid/setgid" "$tmp/suid"
expect "missing program" 2 "No such file" /nonexistent/prog
expect "usage" 2 "expected one PROGRAM"
# a FIFO, named directly or as a script's interpreter, must not hang doctor
mkfifo "$tmp/fifo"
LLMOPS="timeout 10 $LLMOPS"
expect "a FIFO is refused, not read" 2 "not a regular file" "$tmp/fifo"
printf '#!%s\n' "$tmp/fifo" > "$tmp/fifo-script"; chmod +x "$tmp/fifo-script"
expect "a script whose interpreter is a FIFO" 2 "not a regular file" "$tmp/fifo-script"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
