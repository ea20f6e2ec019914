#!/usr/bin/python3
"""Replay corpus vectors with Python HTTP clients (for the e2e tests).

usage: corpus_client.py --port PORT --ca CA.pem --corpus DIR
                        --lib requests|http.client [--encoding ENC]
                        [--header 'Name: value' ...] [--gzip-request] VECTOR ...

Each vector's request (method, URL, body) goes to its own host name, which
client.install_resolver maps to 127.0.0.1:PORT, so SNI, certificate check and
Host stay the provider's. The header X-Test-Vector picks the reply;
--encoding asks the server to compress it (X-Test-Encoding). requests reads
streams with iter_content (decoding gzip/br itself); http.client reads them
in pieces with read1(). Prints "== VECTOR STATUS BYTES" and the body per call;
exit 1 if a status differs from the vector's.
"""
import argparse
import gzip
import http.client
import json
import os
import ssl
import sys
import urllib.parse

from client import install_resolver


def load(corpus, name):
    with open(os.path.join(corpus, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def request_parts(v):
    u = urllib.parse.urlsplit(v["url"])
    target = u.path + ("?" + u.query if u.query else "")
    body = v["request_body"].encode("utf-8") if v.get("request_body") is not None else b""
    return (v.get("method") or "POST").upper(), u.hostname, target, body


def with_requests(session, ca, method, host, target, body, headers):
    import requests  # Debian python3-requests
    try:
        r = session.request(method, "https://%s%s" % (host, target), data=body, headers=headers,
                            verify=ca, stream=True, timeout=30)
    except requests.RequestException as e:
        return 0, str(e).encode()
    out = b"".join(r.iter_content(chunk_size=None))
    return r.status_code, out


def with_http_client(ctx, method, host, target, body, headers):
    conn = http.client.HTTPSConnection(host, 443, context=ctx, timeout=30)
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        out = b""
        while True:
            piece = resp.read1(4096)
            if not piece:
                break
            out += piece
        return resp.status, out
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--lib", choices=("requests", "http.client"), required=True)
    ap.add_argument("--encoding", help="X-Test-Encoding for the replies")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--gzip-request", action="store_true", help="send the body gzip-compressed")
    ap.add_argument("vectors", nargs="+")
    a = ap.parse_args()

    vecs = [(n, load(a.corpus, n)) for n in a.vectors]
    install_resolver(a.port, {request_parts(v)[1] for _, v in vecs})
    ctx = ssl.create_default_context(cafile=a.ca)
    session = None
    if a.lib == "requests":
        import requests
        session = requests.Session()
    errors = 0
    for name, v in vecs:
        method, host, target, body = request_parts(v)
        headers = {"Content-Type": "application/json", "X-Test-Vector": name}
        if a.encoding:
            headers["X-Test-Encoding"] = a.encoding
        if a.gzip_request and body:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        for h in a.header:
            k, _, val = h.partition(":")
            headers[k.strip()] = val.strip()
        if a.lib == "requests":
            status, out = with_requests(session, a.ca, method, host, target, body, headers)
        else:
            status, out = with_http_client(ctx, method, host, target, body, headers)
        sys.stdout.buffer.write(b"== %s %d %d\n" % (name.encode(), status, len(out)) + out + b"\n")
        want = v.get("status") or v.get("status_inferred") or 200
        if status != want:
            print("corpus_client: %s: status %d, want %d" % (name, status, want), file=sys.stderr)
            errors += 1
    sys.stdout.flush()
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
