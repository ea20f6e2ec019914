#!/usr/bin/python3
"""Python standard-library OpenAI chat client for the e2e tests.

usage: client.py --port PORT --ca CA.pem --key API_KEY --corpus DIR
                 [--urllib VECTOR] [--chunk1 VECTOR] VECTOR ...

api.openai.com is resolved to 127.0.0.1:PORT by a getaddrinfo override, so
TLS SNI, certificate verification and the Host header all stay
api.openai.com. The VECTOR requests go over ONE keep-alive
http.client.HTTPSConnection; streamed responses are read incrementally
(alternately resp.read(1) loops and readline). Then --chunk1 (a stream the
server writes one byte per send) on the same connection, and --urllib with
urllib.request on a connection of its own. Every response body is printed,
so the output can be compared byte for byte with and without the shim.
Exit 1 if a response status differs from the vector's, or the keep-alive
connection was not reused.
"""
import argparse
import http.client
import json
import os
import socket
import ssl
import sys
import urllib.error
import urllib.request

HOST = "api.openai.com"
PATH = "/v1/chat/completions"
connects = []


def install_resolver(port, hosts=(HOST,)):
    """Resolve every name in hosts to 127.0.0.1:port (other tests import this)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, p, *args, **kw):
        if host in hosts:
            connects.append(p)
            return real("127.0.0.1", port, socket.AF_INET, *args[1:], **kw)
        return real(host, p, *args, **kw)

    socket.getaddrinfo = getaddrinfo


def load(corpus, name):
    with open(os.path.join(corpus, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def read_incrementally(resp, style):
    out = b""
    if style == "byte":
        while True:
            b = resp.read(1)
            if not b:
                return out
            out += b
    while True:
        line = resp.readline()
        if not line:
            return out
        out += line


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--urllib")
    ap.add_argument("--chunk1")
    ap.add_argument("vectors", nargs="*")
    a = ap.parse_args()
    install_resolver(a.port)
    ctx = ssl.create_default_context(cafile=a.ca)
    out = sys.stdout.buffer
    errors = 0
    headers = {"Authorization": "Bearer " + a.key, "Content-Type": "application/json",
               "Accept-Encoding": "identity"}

    conn = http.client.HTTPSConnection(HOST, 443, context=ctx, timeout=30)
    jobs = [(v, {}) for v in a.vectors]
    if a.chunk1:
        jobs.append((a.chunk1, {"X-Test-Chunk": "1"}))
    nstream = 0
    for name, extra in jobs:
        v = load(a.corpus, name)
        conn.request("POST", PATH, body=v["request_body"].encode("utf-8"),
                     headers=dict(headers, **extra))
        resp = conn.getresponse()
        if resp.getheader("Content-Type", "").startswith("text/event-stream"):
            nstream += 1
            body = read_incrementally(resp, "byte" if nstream % 2 else "line")
        else:
            body = resp.read()
        out.write(b"== %s %d %d\n" % (name.encode(), resp.status, len(body)))
        out.write(body + b"\n")
        out.flush()
        if resp.status != v["status"]:
            print("client: %s: status %d, want %d" % (name, resp.status, v["status"]), file=sys.stderr)
            errors += 1
    conn.close()
    if jobs and len(connects) != 1:
        print("client: %d connections for %d requests, want 1" % (len(connects), len(jobs)),
              file=sys.stderr)
        errors += 1
    out.write(b"== connections %d\n" % len(connects))

    if a.urllib:
        v = load(a.corpus, a.urllib)
        req = urllib.request.Request("https://%s%s" % (HOST, PATH), method="POST",
                                     data=v["request_body"].encode("utf-8"), headers=headers)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        out.write(b"== urllib %s %d %d\n" % (a.urllib.encode(), status, len(body)))
        out.write(body + b"\n")
        if status != v["status"]:
            print("client: urllib %s: status %d, want %d" % (a.urllib, status, v["status"]),
                  file=sys.stderr)
            errors += 1
    out.flush()
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
