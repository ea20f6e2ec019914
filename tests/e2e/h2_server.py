#!/usr/bin/python3
"""Local HTTP/2 LLM API server replaying the recorded corpus: over TLS (ALPN
h2), or with --plain over cleartext (h2c), where it takes both the prior-
knowledge preface and an HTTP/1.1 request with `Upgrade: h2c` (answered with
101 and then on stream 1, RFC 7540 section 3.2).

The HTTP/2 twin of llm_server.py, whose corpus matching and response pieces
it reuses: a request is answered by the vector whose (method, path, body)
equals it, or the one named by `x-test-vector`. Each stream is answered as
soon as its request ends; the bodies of concurrent streams go out round-robin,
one piece (SSE event, or X-Test-Chunk bytes) per stream per round, so
multiplexed responses really interleave on the wire. Flow control is honoured.

Test controls (request headers):
  x-test-vector: NAME   pick a vector by name
  x-test-chunk: N       body pieces of N bytes (default: one per SSE event)
  x-test-delay-ms: N    sleep N ms between rounds of pieces
  x-test-reset: N       send N body pieces, then RST_STREAM (CANCEL)
Other endpoints: GET /health -> 200 "ok"; anything unmatched -> 404 JSON.

Usage: h2_server.py --corpus DIR (--cert PEM --key PEM | --plain)
                    [--host 127.0.0.1] [--port 0] [--port-file FILE] [--log FILE]
Run with Debian's /usr/bin/python3 (python3-h2).
"""
import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time

import h2.config  # Debian python3-h2
import h2.connection
import h2.errors
import h2.events
import h2.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llm_server import DROP_HEADERS, Corpus, decode_request_body, split_natural  # noqa: E402


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class Stream:
    def __init__(self, headers):
        self.headers = headers  # lower-case str -> str
        self.body = bytearray()
        self.pieces = None  # response body pieces still to send
        self.sent = 0  # pieces sent
        self.reset_after = None
        self.delay = 0.0


class H2Conn:
    def __init__(self, tls, corpus, log):
        self.tls = tls
        self.corpus = corpus
        self.log = log
        cfg = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=cfg)
        self.streams = {}

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.tls.sendall(data)

    def run(self, upgrade=None):
        """upgrade: (settings header, request headers, body) of an h2c upgrade."""
        if upgrade:
            settings, hdrs, body = upgrade
            self.conn.initiate_upgrade_connection(settings_header=settings)
            s = self.streams[1] = Stream(hdrs)
            s.body += body
            self.answer(1, s)
            self.pump()
        else:
            self.conn.initiate_connection()
        self.flush()
        while True:
            data = self.tls.recv(65536)
            if not data:
                return
            for ev in self.conn.receive_data(data):
                self.event(ev)
            self.pump()
            self.flush()

    def event(self, ev):
        if isinstance(ev, h2.events.RequestReceived):
            hdrs = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in ev.headers}
            self.streams[ev.stream_id] = Stream(hdrs)
        elif isinstance(ev, h2.events.DataReceived):
            s = self.streams.get(ev.stream_id)
            if s is not None:
                s.body += ev.data
            self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            if ev.stream_id in self.streams:
                self.answer(ev.stream_id, self.streams[ev.stream_id])
        elif isinstance(ev, h2.events.StreamReset):
            self.streams.pop(ev.stream_id, None)

    def answer(self, sid, s):
        method, path = s.headers.get(":method", "GET"), s.headers.get(":path", "/")
        ctype = "application/json"
        try:
            body = decode_request_body(bytes(s.body), s.headers.get("content-encoding"))
        except Exception as e:  # noqa: BLE001 (any decoding failure is the client's)
            return self.reply(sid, s, 400, [], json.dumps({"error": {"message": str(e)}}).encode(),
                              ctype, "-")
        if method == "GET" and path == "/health":
            return self.reply(sid, s, 200, [], b"ok", "text/plain", "-")
        v = self.corpus.match(method, path, body, s.headers.get("x-test-vector"))
        if v is None:
            msg = {"error": {"message": "no test vector matches %s %s" % (method, path),
                             "type": "not_found"}}
            return self.reply(sid, s, 404, [], json.dumps(msg).encode(), ctype, "-")
        self.reply(sid, s, v.status, v.headers, v.body, v.content_type, v.name, v.is_stream())

    def reply(self, sid, s, status, headers, body, ctype, name, stream=False):
        chunk = int(s.headers.get("x-test-chunk") or 0)
        if chunk > 0:
            s.pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)]
        else:
            s.pieces = [p for p in split_natural(body, ctype) if p]
        s.delay = int(s.headers.get("x-test-delay-ms") or 0) / 1000.0
        if s.headers.get("x-test-reset"):
            s.reset_after = int(s.headers["x-test-reset"])
        out = [(":status", str(status))]
        out += [(k.lower(), val) for k, val in headers if k.lower() not in DROP_HEADERS]
        if not any(k == "content-type" for k, _ in out):
            out.append(("content-type", ctype))
        if not stream:
            out.append(("content-length", str(len(body))))
        if self.log:
            self.log.write("h2 stream %d: %s %s %d %s\n" % (sid, s.headers.get(":method"),
                           s.headers.get(":path"), status, name))
            self.log.flush()
        self.conn.send_headers(sid, [(k.encode(), v.encode()) for k, v in out])

    def pump(self):
        """Round-robin: one piece per answered stream per round, within the windows."""
        while True:
            progress, delay = False, 0.0
            for sid, s in list(self.streams.items()):
                if s.pieces is None:
                    continue
                if s.reset_after is not None and s.sent >= s.reset_after:
                    self.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
                    del self.streams[sid]
                    progress = True
                    continue
                if not s.pieces:
                    self.conn.end_stream(sid)
                    del self.streams[sid]
                    progress = True
                    continue
                room = min(self.conn.local_flow_control_window(sid),
                           self.conn.max_outbound_frame_size)
                if room <= 0:
                    continue
                piece = s.pieces[0]
                self.conn.send_data(sid, piece[:room])
                if len(piece) > room:
                    s.pieces[0] = piece[room:]
                else:
                    s.pieces.pop(0)
                    s.sent += 1
                progress = True
                delay = max(delay, s.delay)
            if not progress:
                return
            self.flush()
            if delay:
                time.sleep(delay)


def read_h1_request(sock):
    """An HTTP/1.1 request head and its content-length body, or None."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more or len(data) > 1 << 20:
            return None
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    want = int(hdrs.get("content-length") or 0)
    while len(body) < want:
        more = sock.recv(65536)
        if not more:
            return None
        body += more
    return method, target, hdrs, body[:want]


def serve_plain(sock, corpus, log):
    """h2c: prior knowledge (the preface first) or an HTTP/1.1 Upgrade."""
    first = b""
    while len(first) < 24 and H2_PREFACE.startswith(first):
        more = sock.recv(24 - len(first), socket.MSG_PEEK | socket.MSG_WAITALL)
        if not more:
            return
        first = more
    if first == H2_PREFACE:
        return H2Conn(sock, corpus, log).run()
    req = read_h1_request(sock)
    if req is None:
        return
    method, target, hdrs, body = req
    upgrade = [t.strip().lower() for t in hdrs.get("upgrade", "").split(",")]
    if "h2c" not in upgrade or "http2-settings" not in hdrs:
        sock.sendall(b"HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
        return
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                 b"Upgrade: h2c\r\n\r\n")
    pseudo = {":method": method, ":path": target, ":scheme": "http",
              ":authority": hdrs.get("host", "")}
    rest = {k: v for k, v in hdrs.items()
            if k not in ("host", "connection", "upgrade", "http2-settings")}
    H2Conn(sock, corpus, log).run((hdrs["http2-settings"].encode(), {**pseudo, **rest}, body))


def serve(sock, ctx, corpus, log):
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ctx is None:
            sock.settimeout(60)
            with sock:
                return serve_plain(sock, corpus, log)
        with ctx.wrap_socket(sock, server_side=True) as tls:
            tls.settimeout(60)
            if tls.selected_alpn_protocol() != "h2":
                return
            H2Conn(tls, corpus, log).run()
    except (ConnectionError, ssl.SSLError, TimeoutError, OSError, h2.exceptions.ProtocolError):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--plain", action="store_true", help="cleartext h2c instead of TLS")
    ap.add_argument("--log", help="append an access log here")
    a = ap.parse_args()
    if not a.plain and not (a.cert and a.key):
        ap.error("--cert and --key are needed unless --plain")

    ctx = None
    if not a.plain:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        ctx.set_alpn_protocols(["h2"])
    corpus = Corpus(a.corpus)
    log = open(a.log, "a") if a.log else None
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.host, a.port))
    srv.listen(128)
    port = srv.getsockname()[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)  # appears atomically, complete
    print("h2_server: %s on %s:%d, %d vectors" % ("http (h2c)" if a.plain else "https (h2)",
                                                  a.host, port, len(corpus.vectors)),
          file=sys.stderr, flush=True)
    try:
        while True:
            sock, _ = srv.accept()
            threading.Thread(target=serve, args=(sock, ctx, corpus, log), daemon=True).start()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
