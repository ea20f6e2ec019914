#!/usr/bin/python3
"""Local LLM API server that replays the recorded corpus (tests/corpus/*.json).

A request is answered by the vector whose (method, URL path with query,
request body) equals it; JSON bodies compare after json.loads, others byte
for byte. The header `X-Test-Vector: <file stem>` picks a vector by name
(needed when several vectors share a request, or have none recorded).

Reply: the vector's status (recorded, else status_inferred, else 200), its
recorded response headers minus hop-by-hop/framing ones, and its body
(base64-decoded for binary vectors; the reconstructed SSE form when present).

Test controls (request headers):
  X-Test-Framing: length|chunked|close   default chunked for streams, else length
  X-Test-Chunk: N      write the body in N-byte pieces (default: one per
                       SSE event / NDJSON line / event-stream message)
  X-Test-Delay-Ms: N   sleep N ms between pieces
  X-Test-Encoding: gzip|br|zstd|deflate|deflate-raw
                       compress the body and send Content-Encoding (deflate-raw
                       is a raw DEFLATE stream labelled "deflate", as some
                       servers send it). The pieces are compressed one after
                       the other by one compressor flushed after each piece,
                       so a stream still goes out piece by piece; the
                       compressor's end marker goes out as a last piece.
A request body with Content-Encoding (gzip, deflate, br, zstd) is decoded
before matching.
Other endpoints: GET /health -> 200 "ok"; anything unmatched -> 404 JSON.

Usage: llm_server.py --corpus DIR (--cert PEM --key PEM | --plain)
                     [--host 127.0.0.1] [--port 0] [--port-file FILE] [--log FILE]
Stdlib only; run with Debian's /usr/bin/python3.
"""
import argparse
import base64
import email.utils
import glob
import json
import os
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler

import brotli  # Debian python3-brotli
import zstandard  # Debian python3-zstandard

DROP_HEADERS = {"content-length", "transfer-encoding", "content-encoding", "connection",
                "keep-alive", "proxy-connection", "te", "trailer", "upgrade"}
STREAM_TYPES = ("text/event-stream", "application/x-ndjson", "application/stream+json",
                "application/vnd.amazon.eventstream")


def norm_body(raw):
    """Comparable form of a request body: parsed JSON when it parses, else bytes."""
    if raw is None:
        return ("none", None)
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if not raw:
        return ("none", None)
    try:
        return ("json", json.loads(raw))
    except ValueError:
        return ("bytes", raw)


class Vector:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.method = (d.get("method") or "POST").upper()
        u = urllib.parse.urlsplit(d["url"])  # drops any '#fragment'
        self.target = u.path + ("?" + u.query if u.query else "")
        self.body_key = norm_body(d.get("request_body"))
        self.status = d.get("status") or d.get("status_inferred") or 200
        self.headers = []
        for k, v in (d.get("response_headers") or {}).items():
            if k.lower() in DROP_HEADERS:
                continue
            for one in (v if isinstance(v, list) else [v]):
                self.headers.append((k, str(one)))
        if d.get("response_body_sse_reconstructed"):
            self.body = d["response_body_sse_reconstructed"].encode("utf-8")
            self.set_default_type("text/event-stream")
        elif d.get("decoded") == "binary-kept-as-base64":
            self.body = base64.b64decode(d["response_body"])
        else:
            self.body = (d.get("response_body") or "").encode("utf-8")
        self.set_default_type("application/json")
        self.content_type = self.header("content-type") or ""

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def set_default_type(self, ctype):
        if self.header("content-type") is None:
            self.headers.append(("Content-Type", ctype))

    def is_stream(self):
        return self.content_type.lower().startswith(STREAM_TYPES)


def split_natural(body, ctype):
    """Default pieces: one per SSE event, NDJSON line or AWS event-stream message."""
    ctype = ctype.lower()
    pieces = []
    if ctype.startswith("text/event-stream"):
        sep = b"\r\n\r\n" if b"\r\n\r\n" in body else b"\n\n"
        rest = body
        while rest:
            i = rest.find(sep)
            end = len(rest) if i < 0 else i + len(sep)
            pieces.append(rest[:end])
            rest = rest[end:]
    elif ctype.startswith(("application/x-ndjson", "application/stream+json")):
        pieces = body.splitlines(keepends=True)
    elif ctype.startswith("application/vnd.amazon.eventstream"):
        i = 0
        while i + 4 <= len(body):
            n = int.from_bytes(body[i:i + 4], "big") or len(body) - i
            pieces.append(body[i:i + n])
            i += n
        if i < len(body):
            pieces.append(body[i:])
    return [p for p in pieces if p] or [body]


ENCODINGS = ("gzip", "deflate", "deflate-raw", "br", "zstd")  # X-Test-Encoding values


class Compressor:
    """One streaming compressor; piece() output decodes to everything fed so far."""
    WBITS = {"gzip": 16 + 15, "deflate": 15, "deflate-raw": -15}

    def __init__(self, name):
        self.name = name
        if name in self.WBITS:
            self.z = zlib.compressobj(6, zlib.DEFLATED, self.WBITS[name])
        elif name == "br":
            self.z = brotli.Compressor()
        elif name == "zstd":
            self.z = zstandard.ZstdCompressor().compressobj()
        else:
            raise ValueError(name)

    def content_encoding(self):
        return "deflate" if self.name == "deflate-raw" else self.name

    def piece(self, data):
        if self.name == "br":
            return self.z.process(data) + self.z.flush()
        if self.name == "zstd":
            return self.z.compress(data) + self.z.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        return self.z.compress(data) + self.z.flush(zlib.Z_SYNC_FLUSH)

    def end(self):
        return self.z.finish() if self.name == "br" else self.z.flush()


def compress_pieces(pieces, encoding):
    """(Content-Encoding, compressed pieces) for X-Test-Encoding."""
    c = Compressor(encoding)
    out = [c.piece(p) for p in pieces] + [c.end()]
    return c.content_encoding(), [p for p in out if p]


def decode_request_body(body, content_encoding):
    """Undo the request's Content-Encoding (one coding; identity passes)."""
    ce = (content_encoding or "identity").strip().lower()
    if ce == "identity" or not body:
        return body
    if ce in ("gzip", "x-gzip"):
        return zlib.decompress(body, 16 + 15)
    if ce == "deflate":  # zlib-wrapped, or raw DEFLATE as some clients send it
        return zlib.decompress(body, 15 if (body[0] & 0x0F) == 8 else -15)
    if ce == "br":
        return brotli.decompress(body)
    if ce == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    raise ValueError("unsupported request Content-Encoding %r" % ce)


class Corpus:
    def __init__(self, directory):
        self.vectors = [Vector(p) for p in sorted(glob.glob(os.path.join(directory, "*.json")))]
        self.by_name = {v.name: v for v in self.vectors}
        if not self.vectors:
            raise SystemExit("llm_server: no vectors in %s" % directory)

    def match(self, method, target, body, pick):
        if pick:
            return self.by_name.get(pick)
        key = norm_body(body)
        for v in self.vectors:  # sorted by name: first match is deterministic
            if v.method == method and v.target == target and v.body_key == key:
                return v
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "llm-test-server/1"
    timeout = 60  # idle keep-alive connections

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def log_message(self, fmt, *args):
        if self.server.log:
            self.server.log.write("%s:%d %s\n" % (self.client_address[:2] + (fmt % args,)))
            self.server.log.flush()

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def handle_any(self):
        self.vector = "-"
        body = self.read_body()
        try:
            body = decode_request_body(body, self.headers.get("Content-Encoding"))
        except (ValueError, zlib.error, brotli.error, zstandard.ZstdError) as e:
            msg = {"error": {"message": "request body: %s" % e, "type": "bad_encoding"}}
            return self.reply(400, [("Content-Type", "application/json")], json.dumps(msg).encode())
        enc = (self.headers.get("X-Test-Encoding") or "identity").strip().lower()
        if enc != "identity" and enc not in ENCODINGS:
            msg = {"error": {"message": "X-Test-Encoding: unknown %r" % enc, "type": "bad_test"}}
            return self.reply(400, [("Content-Type", "application/json")], json.dumps(msg).encode())
        if self.command == "GET" and self.path == "/health":
            return self.reply(200, [("Content-Type", "text/plain")], b"ok")
        v = self.server.corpus.match(self.command, self.path, body,
                                     self.headers.get("X-Test-Vector"))
        if v is None:
            msg = {"error": {"message": "no test vector matches %s %s" % (self.command, self.path),
                             "type": "not_found"}}
            return self.reply(404, [("Content-Type", "application/json")],
                              json.dumps(msg).encode())
        self.vector = v.name
        self.reply(v.status, v.headers, v.body, v.content_type, v.is_stream())

    def reply(self, status, headers, body, ctype="", stream=False):
        framing = (self.headers.get("X-Test-Framing") or
                   ("chunked" if stream else "length")).strip().lower()
        chunk = int(self.headers.get("X-Test-Chunk") or 0)
        delay = int(self.headers.get("X-Test-Delay-Ms") or 0) / 1000.0
        if framing not in ("length", "chunked", "close"):
            framing = "length"
        if chunk > 0:
            pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)] or [b""]
        else:
            pieces = split_natural(body, ctype)
        encoding = (self.headers.get("X-Test-Encoding") or "").strip().lower()
        if encoding in ENCODINGS:
            ce, pieces = compress_pieces(pieces, encoding)
            headers = list(headers) + [("Content-Encoding", ce)]
            body = b"".join(pieces)

        self.log_message('"%s" %d %s %s %s', self.requestline, status, framing,
                         encoding or "identity", self.vector)
        self.send_response_only(status)
        if not any(k.lower() == "date" for k, _ in headers):
            self.send_header("Date", email.utils.formatdate(usegmt=True))
        for k, val in headers:
            self.send_header(k, val)
        if framing == "length":
            self.send_header("Content-Length", str(len(body)))
        elif framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        if framing == "close" or self.close_connection:
            self.close_connection = True
            self.send_header("Connection", "close")
        else:
            self.send_header("Connection", "keep-alive")
        self.end_headers()  # flushes the header block as one send

        for i, p in enumerate(pieces):
            if i and delay:
                time.sleep(delay)
            if framing == "chunked":
                if p:
                    self.wfile.write(b"%x\r\n" % len(p) + p + b"\r\n")
            elif p:
                self.wfile.write(p)
        if framing == "chunked":
            if delay and pieces:
                time.sleep(delay)
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError, OSError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--plain", action="store_true", help="plaintext HTTP, no TLS")
    ap.add_argument("--log", help="append an access log here")
    a = ap.parse_args()
    if not a.plain and not (a.cert and a.key):
        ap.error("need --cert and --key, or --plain")

    srv = Server((a.host, a.port), Handler)
    srv.corpus = Corpus(a.corpus)
    srv.log = open(a.log, "a") if a.log else None
    if not a.plain:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        ctx.set_alpn_protocols(["http/1.1"])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)  # appears atomically, complete
    print("llm_server: %s on %s:%d, %d vectors" % ("http" if a.plain else "https", a.host,
          port, len(srv.corpus.vectors)), file=sys.stderr, flush=True)
    threading.current_thread().name = "llm_server"
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
