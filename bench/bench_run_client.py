#!/usr/bin/python3
"""Client of bench_run.sh: N streamed chat completions on one keep-alive TLS
connection, direct or through the forward proxy in HTTPS_PROXY (a CONNECT
tunnel), after one untimed warm-up call. Prints "calls=N wall_ms_per_call=X ttfb_ms=Y proxy_cpu_ms=Z":
ttfb is the median time from sending a request to its first body byte;
proxy_cpu is the parent process's utime+stime over the run when --parent-cpu
(the client then runs under `llmops run`, whose proxy is its parent).

usage: bench_run_client.py HOST PORT BODY_FILE CALLS CAFILE [--delay-ms N] [--parent-cpu]"""
import http.client
import os
import ssl
import statistics
import sys
import time

host, port, body_file, calls, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(
    sys.argv[4]), sys.argv[5]
delay = sys.argv[sys.argv.index("--delay-ms") + 1] if "--delay-ms" in sys.argv else None
parent_cpu = "--parent-cpu" in sys.argv
body = open(body_file, "rb").read()
ctx = ssl.create_default_context(cafile=None if cafile == "-" else cafile)
proxy = os.environ.get("HTTPS_PROXY")


def cpu_ms(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


if proxy:
    ph, pp = proxy.split("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPSConnection(ph, int(pp), context=ctx, timeout=60)
    conn.set_tunnel(host, port)
else:
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=60)
headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"}
if delay:
    headers["X-Test-Delay-Ms"] = delay
ttfb = []


def one():
    s = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
    r = conn.getresponse()
    first = r.read1(65536)
    t = (time.perf_counter() - s) * 1000
    while first:
        first = r.read1(65536)
    if r.status != 200:
        sys.exit("status %d" % r.status)
    return t


one()  # warm-up: connection, tunnel, handshakes (and the proxy's first interception)
c0 = cpu_ms(os.getppid()) if parent_cpu else 0.0
t0 = time.perf_counter()
for _ in range(calls):
    ttfb.append(one())
wall = (time.perf_counter() - t0) * 1000
c1 = cpu_ms(os.getppid()) if parent_cpu else 0.0
print("calls=%d wall_ms_per_call=%.3f ttfb_ms=%.3f proxy_cpu_ms=%.3f" % (
    calls, wall / calls, statistics.median(ttfb), (c1 - c0) / calls))
