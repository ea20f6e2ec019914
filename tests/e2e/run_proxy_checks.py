#!/usr/bin/python3
"""Proxy-level checks for test_run_proxy.sh, run under `llmops run` (the
proxy's address comes from HTTPS_PROXY, the CA bundle from SSL_CERT_FILE).

  run_proxy_checks.py bad                   malformed requests are refused
  run_proxy_checks.py concurrent N BODY KEY N calls at once through the proxy
  run_proxy_checks.py hangup BODY KEY       a stream whose client hangs up
                                            right after its last event
"""
import http.client
import os
import socket
import ssl
import sys
import threading

HOST = "api.openai.com"
PATH = "/v1/chat/completions"
proxy = os.environ["HTTPS_PROXY"].split("//", 1)[1]
phost, pport = proxy.rsplit(":", 1)
pport = int(pport)


def ask(raw, read_all=True):
    s = socket.create_connection((phost, pport), timeout=20)
    s.sendall(raw)
    data = b""
    while read_all or b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return s, data


def bad():
    for raw in (b"CONNECT nonsense HTTP/1.1\r\n\r\n", b"CONNECT host:99999 HTTP/1.1\r\n\r\n",
                b"\x16\x03\x01\x00\x05hello\r\n\r\n", b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n",
                b"FTP ftp://x/ HTTP/1.1\r\n\r\n"):
        s, data = ask(raw)
        s.close()
        if not data.startswith(b"HTTP/1.1 400 "):
            sys.exit("%r: expected a 400, got %r" % (raw, data[:80]))
    # an LLM host's tunnel that does not speak TLS
    s, data = ask(b"CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (HOST.encode(), HOST.encode()),
                  read_all=False)
    if not data.startswith(b"HTTP/1.1 200 "):
        sys.exit("CONNECT: expected 200, got %r" % data[:80])
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    rest = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    if not rest.startswith(b"HTTP/1.1 400 ") or b"expected TLS" not in rest:
        sys.exit("plain bytes in an LLM tunnel: expected a 400, got %r" % rest[:80])
    print("bad requests refused", file=sys.stderr)


def call(body, key, results, i, barrier):
    ctx = ssl.create_default_context()
    try:
        c = http.client.HTTPSConnection(phost, pport, context=ctx, timeout=60)
        c.set_tunnel(HOST, 443)
        barrier.wait()
        c.request("POST", PATH, body=body, headers={"Content-Type": "application/json",
                                                    "Authorization": "Bearer " + key})
        r = c.getresponse()
        results[i] = (r.status, len(r.read()))
        c.close()
    except Exception as e:  # reported below
        results[i] = repr(e)


def concurrent(n, body_file, key):
    body = open(body_file, "rb").read()
    results = [None] * n
    barrier = threading.Barrier(n, timeout=60)
    ts = [threading.Thread(target=call, args=(body, key, results, i, barrier)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    bad = [r for r in results if not (isinstance(r, tuple) and r[0] == 200 and r[1] > 0)]
    if bad:
        sys.exit("%d of %d concurrent calls failed: %s" % (len(bad), n, bad[:3]))
    print("%d concurrent calls OK" % n, file=sys.stderr)


def hangup(body_file, key):
    body = open(body_file, "rb").read()
    s, data = ask(b"CONNECT %s:443 HTTP/1.1\r\n\r\n" % HOST.encode(), read_all=False)
    t = ssl.create_default_context().wrap_socket(s, server_hostname=HOST)
    t.sendall(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
              b"X-Test-Delay-Ms: 100\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s" % (
                  PATH.encode(), HOST.encode(), key.encode(), len(body), body))
    got = b""
    while b"data: [DONE]" not in got:
        chunk = t.recv(65536)
        if not chunk:
            sys.exit("stream ended before its last event")
        got += chunk
    # gone at once, without close_notify, as a CLI that exits after its answer
    t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    t.close()
    print("hung up after the last event", file=sys.stderr)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "bad":
        bad()
    elif cmd == "concurrent":
        concurrent(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        hangup(sys.argv[2], sys.argv[3])
