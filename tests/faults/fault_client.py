#!/usr/bin/python3
"""Client for the fault and load tests (Debian's python3, stdlib only).

usage: fault_client.py --port P (--ca CA | --plain) --corpus DIR [options]

Makes --calls calls over one keep-alive connection per host, cycling through
--vectors (corpus file stems). Every request names its vector with
X-Test-Vector (for the server), X-LLMOps-Extra-Vector and
X-LLMOps-Extra-Call (so the record's extras say which call it is: vector
and 0-based index); hosts resolve to 127.0.0.1:P, so TLS gets the real SNI and
Host. For each call one line goes to stdout, flushed:
  "<i> <vector> <status> <sha256 of the body>"
so a run with and without the shim can be compared byte for byte, and a test
can follow the progress. Exit status 0 when every status is the vector's own,
3 otherwise.

options:
  --vectors a,b,c     default openai_chat_nostream_1
  --calls N           default 1
  --pause-ms N        sleep between calls
  --delay-ms N        X-Test-Delay-Ms (between the response's pieces)
  --chunk N           X-Test-Chunk
  --body-mb N         replace the request body with an N MiB JSON document
                      (one long user message), sent in 64 KiB writes
  --marker FILE       touch FILE once the first call's response head arrived
  --gate N:FILE       before call N (0-based), wait until FILE exists (60 s at most)
"""
import argparse
import hashlib
import json
import os
import socket
import ssl
import sys
import time
import http.client
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca")
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--vectors", default="openai_chat_nostream_1")
    ap.add_argument("--calls", type=int, default=1)
    ap.add_argument("--pause-ms", type=int, default=0)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=0)
    ap.add_argument("--body-mb", type=int, default=0)
    ap.add_argument("--marker")
    ap.add_argument("--gate")
    a = ap.parse_args()

    real = socket.getaddrinfo
    socket.getaddrinfo = lambda h, p, *r, **k: real("127.0.0.1", a.port, *r, **k)
    ctx = None if a.plain else ssl.create_default_context(cafile=a.ca)

    vecs = []
    for name in a.vectors.split(","):
        with open(os.path.join(a.corpus, name + ".json"), encoding="utf-8") as f:
            d = json.load(f)
        u = urllib.parse.urlsplit(d["url"])
        body = d.get("request_body")
        vecs.append((name, (d.get("method") or "POST").upper(), u.hostname,
                     u.path + ("?" + u.query if u.query else ""),
                     body.encode() if isinstance(body, str) else None,
                     d.get("status") or d.get("status_inferred") or 200))
    conns = {}
    bad = 0
    gate_at, gate_file = (int(a.gate.split(":", 1)[0]), a.gate.split(":", 1)[1]) if a.gate \
        else (-1, None)
    for i in range(a.calls):
        if i == gate_at:
            t_end = time.monotonic() + 60
            while not os.path.exists(gate_file) and time.monotonic() < t_end:
                time.sleep(0.02)
        name, method, host, target, body, want = vecs[i % len(vecs)]
        hdrs = {"X-Test-Vector": name, "Content-Type": "application/json",
                "X-LLMOps-Extra-Vector": name, "X-LLMOps-Extra-Call": str(i)}
        if a.delay_ms:
            hdrs["X-Test-Delay-Ms"] = str(a.delay_ms)
        if a.chunk:
            hdrs["X-Test-Chunk"] = str(a.chunk)
        if a.body_mb:
            body = BigBody(a.body_mb << 20)
            hdrs["Content-Length"] = str(body.size)
        c = conns.get(host)
        if c is None:
            if ctx:
                c = http.client.HTTPSConnection(host, 443, context=ctx, timeout=60,
                                                blocksize=65536)
            else:
                c = http.client.HTTPConnection(host, 80, timeout=60, blocksize=65536)
            conns[host] = c
        c.request(method, target, body=body, headers=hdrs)
        r = c.getresponse()
        if a.marker and i == 0:
            open(a.marker, "w").close()
        data = r.read()
        if r.status != want:
            bad += 1
        sys.stdout.write("%d %s %d %s\n" % (i, name, r.status, hashlib.sha256(data).hexdigest()))
        sys.stdout.flush()
        if a.pause_ms:
            time.sleep(a.pause_ms / 1000.0)
    for c in conns.values():
        c.close()
    sys.exit(3 if bad else 0)


class BigBody:
    """A JSON chat request of `size` bytes, produced 64 KiB at a time."""

    def __init__(self, size):
        head = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"'
        tail = b'"}]}'
        self.parts = [head, size - len(head) - len(tail), tail]
        self.size = size
        self.block = b"x" * 65536

    def read(self, n=65536):
        while self.parts:
            p = self.parts[0]
            if isinstance(p, bytes):
                self.parts.pop(0)
                if p:
                    return p
                continue
            if p == 0:
                self.parts.pop(0)
                continue
            k = min(p, n, len(self.block))
            self.parts[0] = p - k
            return self.block[:k]
        return b""


if __name__ == "__main__":
    main()
