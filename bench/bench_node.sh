#!/usr/bin/env bash
# bench_node.sh [BUILD_DIR]: section 8 of the benchmark report, node and the
# shim's inline hooks on its own OpenSSL. Prints a markdown section on stdout,
# progress on stderr. Every figure is a ratio against a floor measured in the
# same run:
#  - start-up of `node -e 0`: without a preload, with an empty preload
#    (bench/empty_preload.c: what any LD_PRELOAD costs) and with the shim
#    (which patches node's SSL_* in its constructor), bench_spawn's ABBA runs;
#  - the patching itself, from the shim's LLMOPS_LOG line, over the same runs;
#  - non-LLM HTTPS bulk through node (https.get of BENCH_NODE_MB MiB from
#    bench_bulk_server, a connection the tap rules out on its first bytes),
#    with and without the shim, interleaved.
# Knobs: BENCH_NODE_RUNS (start-ups per side, 60), BENCH_NODE_BULK_RUNS (7),
# BENCH_NODE_MB (256), BENCH_KEEP=1.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"
BUILD=${1:-${LLMOPS_BUILD:-$SRC/build}}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
SHIM=$BUILD/libllmops.so
NODE=${NODE:-/usr/bin/node}
RUNS=${BENCH_NODE_RUNS:-60}
BULK_RUNS=${BENCH_NODE_BULK_RUNS:-7}
MB=${BENCH_NODE_MB:-256}
CC=${CC:-cc}
CFLAGS=(-std=c11 -O2 -Wall -Wextra -D_GNU_SOURCE)
unset LLMOPS_DB LD_PRELOAD || true

skip() {
  log "node section skipped: $*"
  printf '## 8. Node: inline hooks on its own OpenSSL\n\nSkipped: %s\n' "$*"
  exit 0
}
[[ -x $NODE ]] || skip "$NODE not installed"
[[ -f $SHIM ]] || skip "no $SHIM"
bench_tmp llmops-bench-node
"$CC" "${CFLAGS[@]}" -o "$TMP/bench_spawn" "$SRC/bench/bench_spawn.c" -lm || die "bench_spawn"
"$CC" "${CFLAGS[@]}" -shared -fPIC -o "$TMP/empty_preload.so" "$SRC/bench/empty_preload.c" ||
  die "empty_preload"
"$CC" "${CFLAGS[@]}" -o "$TMP/bench_bulk_server" "$SRC/bench/bench_bulk_server.c" -lssl -lcrypto ||
  die "bench_bulk_server"
bash "$SRC/tests/e2e/mkcert.sh" "$TMP/certs" >/dev/null || die "mkcert"

# 1. start-up (no LLM call happens: no store may appear)
export LLMOPS_DB=$TMP/db LLMOPS_LOG=$TMP/shim.log
log "node -e 0: $RUNS runs per side, shim then empty preload"
ST_SHIM=$("$TMP/bench_spawn" --runs "$RUNS" --warmup 5 --preload "$SHIM" -- "$NODE" -e 0)
ST_EMPTY=$("$TMP/bench_spawn" --runs "$RUNS" --warmup 5 --preload "$TMP/empty_preload.so" -- \
  "$NODE" -e 0)
unset LLMOPS_DB LLMOPS_LOG
[[ ! -e $TMP/db ]] || log "WARNING: node -e 0 created a store"
grep -q "inline hooks on SSL_write SSL_read SSL_free" "$TMP/shim.log" ||
  die "the shim did not patch node (see $TMP/shim.log)"
PATCH=$(sed -n 's/.*functions, \([0-9.]*\) ms).*/\1/p' "$TMP/shim.log" | stats)
FNS=$(sed -n 's/.*inline hooks on \(.*\) ([0-9]* functions.*/\1/p' "$TMP/shim.log" | head -1)

# 2. non-LLM HTTPS bulk through node
"$TMP/bench_bulk_server" --cert "$TMP/certs/server.pem" --key "$TMP/certs/server.key" \
  --port-file "$TMP/bulk.port" 2>"$TMP/bulk.err" &
PIDS+=($!)
wait_port "$TMP/bulk.port" "${PIDS[-1]}" || { cat "$TMP/bulk.err" >&2; die "bulk server"; }
BULK_PORT=$(awk '{print $1}' "$TMP/bulk.port")
cat >"$TMP/bulk.mjs" <<'JS'
import https from "node:https";
const [port, mb] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
https.get({ host: "127.0.0.1", port: Number(port), path: `/bulk/${Number(mb) << 20}`,
  servername: "localhost", agent: false }, (res) => {
  let n = 0;
  res.on("data", (c) => { n += c.length; });
  res.on("end", () => console.log(n, Number(process.hrtime.bigint() - t0) / 1e9));
}).on("error", (e) => { console.error(e); process.exit(1); });
JS
export NODE_EXTRA_CA_CERTS=$TMP/certs/ca.pem
log "https bulk: $MB MiB x $BULK_RUNS per side, interleaved"
: >"$TMP/bulk.plain"
: >"$TMP/bulk.shim"
for ((i = 0; i < BULK_RUNS; i++)); do
  "$NODE" "$TMP/bulk.mjs" "$BULK_PORT" "$MB" | awk '{print $2}' >>"$TMP/bulk.plain"
  LD_PRELOAD=$SHIM LLMOPS_DB=$TMP/db "$NODE" "$TMP/bulk.mjs" "$BULK_PORT" "$MB" |
    awk '{print $2}' >>"$TMP/bulk.shim"
done
[[ ! -e $TMP/db ]] || log "WARNING: the bulk runs created a store"
BP=$(stats <"$TMP/bulk.plain")
BS=$(stats <"$TMP/bulk.shim")

p=$(grep '^plain' <<<"$ST_SHIM")
s=$(grep '^shim' <<<"$ST_SHIM")
e=$(grep '^shim' <<<"$ST_EMPTY")
pe=$(grep '^plain' <<<"$ST_EMPTY")
ms() { calc "$1 / 1000" 2; }
cat <<MD
## 8. Node: inline hooks on its own OpenSSL

\`$NODE\` ($("$NODE" --version)); the shim patches $FNS.

| \`node -e 0\` | no preload | empty preload | shim | shim / no preload | shim / empty preload |
| --- | --- | --- | --- | --- | --- |
| wall ms, median | $(ms "$(field wall_median_us "$p")") | $(ms "$(field wall_median_us "$e")") | $(ms "$(field wall_median_us "$s")") | **$(ratio "$(field wall_median_us "$s")" "$(field wall_median_us "$p")")** | **$(ratio "$(field wall_median_us "$s")" "$(field wall_median_us "$e")")** |
| wall ms, mean | $(ms "$(field wall_mean_us "$p")") | $(ms "$(field wall_mean_us "$e")") | $(ms "$(field wall_mean_us "$s")") | $(ratio "$(field wall_mean_us "$s")" "$(field wall_mean_us "$p")") | $(ratio "$(field wall_mean_us "$s")" "$(field wall_mean_us "$e")") |
| CPU ms, median | $(ms "$(field cpu_median_us "$p")") | $(ms "$(field cpu_median_us "$e")") | $(ms "$(field cpu_median_us "$s")") | $(ratio "$(field cpu_median_us "$s")" "$(field cpu_median_us "$p")") | $(ratio "$(field cpu_median_us "$s")" "$(field cpu_median_us "$e")") |
| max RSS KiB | $(field maxrss_kb "$p") | $(field maxrss_kb "$e") | $(field maxrss_kb "$s") | $(ratio "$(field maxrss_kb "$s")" "$(field maxrss_kb "$p")") | |

(The empty-preload run has its own no-preload floor: median $(ms "$(field wall_median_us "$pe")") ms.)
Patching in the constructor (decoder load, lookup, relocation, writes), from the shim's log over
$(grep -c 'inline hooks on' "$TMP/shim.log") start-ups: median $(col 2 "$PATCH") ms (min $(col 3 "$PATCH"), max $(col 4 "$PATCH")).

| non-LLM HTTPS through node, $MB MiB | no preload | shim | ratio |
| --- | --- | --- | --- |
| wall s, median of $BULK_RUNS | $(calc "$(col 2 "$BP")") | $(calc "$(col 2 "$BS")") | **$(ratio "$(col 2 "$BS")" "$(col 2 "$BP")")** |
| wall s, fastest | $(calc "$(col 3 "$BP")") | $(calc "$(col 3 "$BS")") | $(ratio "$(col 3 "$BS")" "$(col 3 "$BP")") |
MD
