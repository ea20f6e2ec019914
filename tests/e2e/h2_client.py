#!/usr/bin/python3
"""httpx (HTTP/2) OpenAI chat client for the e2e tests.

usage: h2_client.py --port PORT (--ca CA.pem | --plain) --key API_KEY --corpus DIR
                    [--host NAME] [--warm-llm] [--reset VECTOR] VECTOR ...

NAME (default api.openai.com) is resolved to 127.0.0.1:PORT by a getaddrinfo
override, so TLS SNI, certificate verification and :authority stay NAME.
--plain speaks cleartext HTTP/2 with prior knowledge (h2c, no TLS).
--warm-llm opens the shared connection below with the first VECTOR's call
instead of GET /health (an HTTP/2 connection to a host that is not a known
LLM provider is judged by its first request). The
VECTOR requests go one after the other over one httpx.Client(http2=True)
connection (streams read incrementally), then --reset (a stream the server
resets after two events) on the same connection, then all VECTOR requests
at once from threads over one more httpx.Client(http2=True) connection,
multiplexed (a GET /health opens it first, so the threads find it open).
Everything printed is deterministic, so the output can be compared byte for
byte with and without the shim. Exit 1 if a status differs from the vector's
or a response was not HTTP/2.
"""
import argparse
import concurrent.futures
import json
import os
import socket
import ssl
import sys
import threading

import httpx  # Debian python3-httpx, HTTP/2 through python3-h2

HOST = "api.openai.com"
URL = None
connects = []


def install_resolver(port):
    real = socket.getaddrinfo

    def getaddrinfo(host, p, *args, **kw):
        if host == HOST:
            connects.append(p)
            return real("127.0.0.1", port, socket.AF_INET, *args[1:], **kw)
        return real(host, p, *args, **kw)

    socket.getaddrinfo = getaddrinfo


def load(corpus, name):
    with open(os.path.join(corpus, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def show(label, name, status, version, body, want):
    print("== %s %s %d %s" % (label, name, status, version))
    sys.stdout.write(body.decode("utf-8", "replace"))
    print()
    return status == want and version == "HTTP/2"


# httpcore 0.16 (Debian bookworm) is not thread-safe while it opens a stream:
# two threads may take the same stream id, or HPACK-encode their headers in
# one order and write them in the other, so the server sees a dynamic table
# index it never got ("Invalid table index") and drops the connection, with
# or without the shim. Threads therefore take turns from the stream's
# creation until its request is written (HEADERS and DATA: h2's send buffer
# is not safe to append to from two threads either; httpcore's trace
# extension says when); responses still arrive concurrently, multiplexed.
OPEN_TURN = threading.Lock()


def post_in_turn(c, vec, hdrs):
    held = [True]
    OPEN_TURN.acquire()

    def trace(name, info):
        if name in ("http2.send_request_body.complete", "http2.send_request_body.failed",
                    "http2.send_request_headers.failed") and held[0]:
            held[0] = False
            OPEN_TURN.release()

    try:
        return c.post(URL, content=vec["request_body"].encode(), headers=hdrs,
                      extensions={"trace": trace})
    finally:
        if held[0]:
            held[0] = False
            OPEN_TURN.release()


def main():
    global HOST, URL
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca")
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--host", default=HOST)
    ap.add_argument("--warm-llm", action="store_true")
    ap.add_argument("--key", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--reset")
    ap.add_argument("vectors", nargs="+")
    a = ap.parse_args()
    HOST = a.host
    base = "%s://%s" % ("http" if a.plain else "https", HOST)
    URL = base + "/v1/chat/completions"
    install_resolver(a.port)
    ctx = False if a.plain else ssl.create_default_context(cafile=a.ca)
    # prior knowledge on cleartext: HTTP/2 only
    opts = dict(http1=False) if a.plain else {}
    hdrs = {"Authorization": "Bearer " + a.key, "Content-Type": "application/json"}
    vecs = {n: load(a.corpus, n) for n in a.vectors + ([a.reset] if a.reset else [])}
    ok = True

    with httpx.Client(http2=True, verify=ctx, timeout=30, **opts) as c:
        for n in a.vectors:
            v = vecs[n]
            with c.stream("POST", URL, content=v["request_body"].encode(), headers=hdrs) as r:
                body = b"".join(r.iter_bytes())
                ok &= show("seq", n, r.status_code, r.http_version, body, v.get("status") or 200)
        if a.reset:
            try:
                with c.stream("POST", URL, content=vecs[a.reset]["request_body"].encode(),
                              headers=dict(hdrs, **{"X-Test-Reset": "2"})) as r:
                    b"".join(r.iter_bytes())
                print("== reset %s: not reset" % a.reset)
                ok = False
            except httpx.HTTPError as e:
                print("== reset %s: %s" % (a.reset, type(e).__name__))

    # Concurrent requests from threads share the client's one HTTP/2 connection.
    with httpx.Client(http2=True, verify=ctx, timeout=30, **opts) as c:
        # opens the connection the threads will share
        if a.warm_llm:
            n = a.vectors[0]
            r = c.post(URL, content=vecs[n]["request_body"].encode(), headers=hdrs)
            ok &= show("warm", n, r.status_code, r.http_version, r.content,
                       vecs[n].get("status") or 200)
        else:
            c.get(base + "/health")
        with concurrent.futures.ThreadPoolExecutor(len(a.vectors)) as pool:
            rs = list(pool.map(lambda n: post_in_turn(c, vecs[n], hdrs), a.vectors))
    for n, r in zip(a.vectors, rs):
        ok &= show("par", n, r.status_code, r.http_version, r.content,
                   vecs[n].get("status") or 200)
    print("== connections %d" % len(connects))
    return 0 if ok and len(connects) == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
