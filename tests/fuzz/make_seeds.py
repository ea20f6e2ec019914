#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz harness (tests/fuzz/fuzz_*.c) into
OUTDIR/<harness>/, built from the recorded corpus (tests/corpus) and a few
hand-made cases: HTTP/1.1 requests and responses, SSE, NDJSON and AWS
event-stream bodies, the same bodies compressed every way body.c decodes,
HTTP/2 connections (frames and HPACK made here), ClientHellos, stored
records (msgpack made here), URLs and command lines with secrets.

Each seed starts with the selector bytes its harness reads (see the
comment at the top of each fuzz_*.c). Python's standard library only; the
brotli and zstd command-line tools are used when present.

usage: make_seeds.py CORPUS_DIR OUTDIR
"""
import base64
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib

HARNESSES = ["http1", "h2", "h2peek", "sse", "ndjson", "eventstream", "dialects", "body", "tlshello",
             "record", "redact"]
SEP = b"\n@@@@\n"  # fuzz_dialects.c: request body / response body


class Out:
    def __init__(self, root):
        self.root = root
        self.n = {}
        for h in HARNESSES:
            d = os.path.join(root, h)
            if os.path.isdir(d):
                shutil.rmtree(d)
            os.makedirs(d)

    def add(self, harness, name, data):
        k = self.n.get(harness, 0)
        self.n[harness] = k + 1
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80]
        with open(os.path.join(self.root, harness, "%04d-%s" % (k, safe)), "wb") as f:
            f.write(data)


def load_corpus(d):
    vecs = []
    for name in sorted(os.listdir(d)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(d, name)) as f:
            v = json.load(f)
        v["_name"] = name[:-5]
        url = v["url"]
        rest = url.split("://", 1)[-1]
        host, _, path = rest.partition("/")
        v["_host"] = host
        v["_path"] = ("/" + path).split("#")[0]
        req = v.get("request_body")
        v["_req"] = req.encode() if isinstance(req, str) else b""
        hdrs = {k.lower(): val for k, val in (v.get("response_headers") or {}).items()}
        ct = hdrs.get("content-type")
        body = v.get("response_body_sse_reconstructed")
        if isinstance(body, str):
            ct = "text/event-stream"
        else:
            body = v.get("response_body") or ""
        if v.get("decoded") == "binary-kept-as-base64":
            v["_resp"] = base64.b64decode(body)
        else:
            v["_resp"] = body.encode()
        v["_ct"] = ct
        st = v.get("status")
        if not isinstance(st, int):
            st = v.get("status_inferred")
        v["_status"] = st if isinstance(st, int) else 200
        vecs.append(v)
    return vecs


def http_request(v):
    head = "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n" \
           "Authorization: Bearer sk-REDACTEDREDACTED\r\nContent-Length: %d\r\n\r\n" % (
               v["method"], v["_path"], v["_host"], len(v["_req"]))
    return head.encode() + v["_req"]


def chunked(body, step=97):
    out = b""
    for i in range(0, len(body), step):
        c = body[i:i + step]
        out += b"%x\r\n" % len(c) + c + b"\r\n"
    return out + b"0\r\n\r\n"


def http_response(v, framing):
    head = "HTTP/1.1 %d X\r\n" % v["_status"]
    if v["_ct"]:
        head += "Content-Type: %s\r\n" % v["_ct"]
    body = v["_resp"]
    if framing == "length":
        return (head + "Content-Length: %d\r\n\r\n" % len(body)).encode() + body
    if framing == "chunked":
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + chunked(body)
    return (head + "Connection: close\r\n\r\n").encode() + body


# --- HTTP/1.1 ---

def seeds_http1(out, vecs):
    for i, v in enumerate(vecs):
        split = [0x00, 0x01, 0x06, 0x0e, 0x03][i % 5]
        out.add("http1", v["_name"] + "-req", bytes([1, split]) + http_request(v))
        for j, fr in enumerate(["length", "chunked", "close"]):
            out.add("http1", v["_name"] + "-resp-" + fr,
                    bytes([0, (split + j * 4) & 0xff]) + http_response(v, fr))
    v = vecs[0]
    two = http_request(v) * 2  # pipelined
    out.add("http1", "pipelined", bytes([1, 0x05]) + two)
    out.add("http1", "continue", bytes([0, 0x02]) +
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    out.add("http1", "head-response", bytes([2, 0x00]) +
            b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
    many = b"".join(b"X-H%d: %d\r\n" % (k, k) for k in range(80))
    out.add("http1", "many-headers", bytes([1, 0x07]) +
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\n" + many +
            b"Content-Length: 0\r\n\r\n")
    out.add("http1", "connect", bytes([1, 0]) + b"CONNECT api.openai.com:443 HTTP/1.1\r\n\r\n")
    out.add("http1", "upgrade", bytes([1, 0]) +
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nxyz")


# --- SSE, NDJSON, event stream ---

def seeds_framing(out, vecs):
    for i, v in enumerate(vecs):
        ct = v["_ct"] or ""
        if "event-stream" in ct and "amazon" not in ct:
            cap = [0, 0, 40, 200][i % 4]
            out.add("sse", v["_name"], bytes([cap, [0, 1, 0x0a, 0x13][i % 4]]) + v["_resp"])
            crlf = v["_resp"].replace(b"\n", b"\r\n")
            out.add("sse", v["_name"] + "-crlf", bytes([0, 0x05]) + crlf)
            # the same events as NDJSON lines
            lines = b"\n".join(l[5:].strip() for l in v["_resp"].split(b"\n")
                               if l.startswith(b"data:"))
            out.add("ndjson", v["_name"] + "-lines", bytes([0, 0, 0x09]) + lines)
        if v["_host"].startswith("127.0.0.1:11434") and v.get("expected", {}).get("stream"):
            out.add("ndjson", v["_name"], bytes([0, 0, 0x01]) + v["_resp"])
            out.add("ndjson", v["_name"] + "-small", bytes([1, 30, 0x0e]) + v["_resp"])
        if "amazon.eventstream" in ct:
            out.add("eventstream", v["_name"] + "-raw", bytes([1, 0x0d]) + v["_resp"])
            out.add("eventstream", v["_name"] + "-raw-cap", bytes([1 | (20 << 1), 0x02]) +
                    v["_resp"])
            out.add("eventstream", v["_name"] + "-records", bytes([0, 0x01]) +
                    es_records(v["_resp"]))
    out.add("sse", "bom-cr", bytes([0, 0x01]) +
            b"\xef\xbb\xbfevent: x\rdata: a\rdata: b\r\r: comment\r\ndata:c\n\ndata")
    out.add("sse", "tiny-cap", bytes([3, 0x00]) + b"data: abcdefgh\nevent: " + b"e" * 300 +
            b"\ndata: 1\n\n")


def es_records(raw):
    """The event-stream messages as fuzz_eventstream.c's records."""
    out, i = b"", 0
    while i + 12 <= len(raw):
        total, hlen = struct.unpack(">II", raw[i:i + 8])
        if total < 16 or i + total > len(raw):
            break
        h = raw[i + 12:i + 12 + hlen]
        p = raw[i + 12 + hlen:i + total - 4]
        out += struct.pack(">HH", len(h), len(p)) + h + p
        i += total
    return out


def es_header(name, value):
    n, v = name.encode(), value.encode()
    return bytes([len(n)]) + n + b"\x07" + struct.pack(">H", len(v)) + v


def es_message(headers, payload):
    h = b"".join(es_header(k, val) for k, val in headers)
    total = 12 + len(h) + len(payload) + 4
    pre = struct.pack(">II", total, len(h))
    pre += struct.pack(">I", zlib.crc32(pre))
    msg = pre + h + payload
    return msg + struct.pack(">I", zlib.crc32(msg))


# --- content encodings ---

def compressors():
    def deflate_raw(b):
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(b) + c.flush()

    def tool(cmd):
        if not shutil.which(cmd[0]):
            return None
        return lambda b: subprocess.run(cmd, input=b, stdout=subprocess.PIPE, check=True).stdout

    return [(1, "gzip", lambda b: gzip.compress(b, mtime=0)), (2, "zlib", zlib.compress),
            (2, "rawdeflate", deflate_raw), (3, "br", tool(["brotli", "-c"])),
            (4, "zstd", tool(["zstd", "-q", "-c"]))]


def seeds_body(out, vecs):
    comps = compressors()
    picked = [v for i, v in enumerate(vecs) if i % 3 == 0]
    for i, v in enumerate(picked):
        ct = v["_ct"] or ""
        fr = 1 if "event-stream" in ct and "amazon" not in ct else \
            3 if "amazon" in ct else 2 if "ndjson" in ct else 0
        for code, name, fn in comps:
            if fn is None:
                continue
            cap = 0 if i % 2 else 50
            out.add("body", "%s-%s" % (v["_name"], name),
                    bytes([code | fr << 3, cap, [0, 0x01, 0x0a, 0x13][i % 4]]) + fn(v["_resp"]))
        out.add("body", v["_name"] + "-identity", bytes([fr << 3, 0, 0x07]) + v["_resp"])
    big = b"data: " + b"x" * 70000 + b"\n\n"
    for code, name, fn in comps:
        if fn is not None:
            out.add("body", "long-match-" + name, bytes([code | 1 << 3, 0, 0x03]) + fn(big))
    out.add("body", "unsupported", bytes([6, 0, 0]) + b"\x1f\x8b\x08")


# --- HTTP/2 ---

def hpack_int(v, prefix_bits, first):
    lim = (1 << prefix_bits) - 1
    if v < lim:
        return bytes([first | v])
    out = [first | lim]
    v -= lim
    while v >= 128:
        out.append(v % 128 + 128)
        v //= 128
    out.append(v)
    return bytes(out)


def hpack_literal(name, value, index=False):
    """Literal with a new name, incremental indexing or not, no Huffman."""
    n, v = name.encode(), value.encode()
    return (b"\x40" if index else b"\x00") + hpack_int(len(n), 7, 0) + n + \
        hpack_int(len(v), 7, 0) + v


def frame(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", sid) + payload


def segment(direction, data, flags=0):
    out = b""
    for i in range(0, max(len(data), 1), 65535):
        out += bytes([direction | flags]) + struct.pack(">H", len(data[i:i + 65535])) + \
            data[i:i + 65535]
    return out


def h2_exchange(v, sid, variant):
    req_hdrs = [(":method", v["method"]), (":scheme", "https"), (":path", v["_path"]),
                (":authority", v["_host"]), ("content-type", "application/json")]
    block = b"".join(hpack_literal(k, val, index=(variant == 1)) for k, val in req_hdrs)
    out = b""
    if variant == 2:  # padded HEADERS split by a CONTINUATION
        half = len(block) // 2
        out += frame(1, 0x08, sid, bytes([3]) + block[:half] + b"\0\0\0")
        out += frame(9, 0x04, sid, block[half:])
    else:
        out += frame(1, 0x04, sid, block)
    body = v["_req"]
    for i in range(0, len(body), 4000):
        out += frame(0, 0, sid, body[i:i + 4000])
    out += frame(0, 0x01, sid, b"")
    resp_hdrs = [(":status", str(v["_status"]))]
    if v["_ct"]:
        resp_hdrs.append(("content-type", v["_ct"]))
    if variant == 3:
        resp_hdrs.append(("content-length", str(len(v["_resp"]))))
    rblock = b"".join(hpack_literal(k, val) for k, val in resp_hdrs)
    inn = frame(1, 0x04, sid, rblock)
    rb = v["_resp"]
    for i in range(0, len(rb), 3000):
        inn += frame(0, 0, sid, rb[i:i + 3000])
    inn += frame(0, 0x01, sid, b"")
    return out, inn


def seeds_h2(out, vecs):
    settings_out = frame(4, 0, 0, struct.pack(">HI", 1, 4096) + struct.pack(">HI", 4, 65535))
    settings_in = frame(4, 0, 0, struct.pack(">HI", 1, 256))
    for i, v in enumerate(vecs):
        variant = i % 4
        o, n = h2_exchange(v, 1, variant)
        segs = segment(0, settings_out + o) + segment(1, settings_in + frame(4, 1, 0, b"") + n)
        out.add("h2", "%s-v%d" % (v["_name"], variant),
                bytes([[0, 0x01, 0x0e, 0x13][i % 4], i % 3]) + segs)
    v1, v2 = vecs[0], vecs[-1]
    o1, n1 = h2_exchange(v1, 1, 1)
    o3, n3 = h2_exchange(v2, 3, 0)
    # two streams interleaved, then RST_STREAM and a GOAWAY for a third
    o5, _ = h2_exchange(v1, 5, 0)
    segs = segment(0, settings_out + o1 + o3) + segment(1, n3[:40]) + segment(1, n1) + \
        segment(1, n3[40:]) + segment(0, o5) + segment(1, frame(3, 0, 5, b"\0\0\0\x08")) + \
        segment(1, frame(7, 0, 0, struct.pack(">II", 3, 0)))
    out.add("h2", "interleaved-rst-goaway", bytes([0x05, 0]) + segs)
    # stream 7 names its request headers by the dynamic table entries o1 added
    o7 = frame(1, 0x05, 7, bytes([0xbe, 0xbf, 0xc0, 0xc1, 0xc2]))
    segs = segment(0, settings_out + o1 + o7) + segment(1, n1)
    out.add("h2", "indexed", bytes([0x01, 0]) + segs)
    segs = segment(0, settings_out + o1) + segment(1, n1[:30], 2) + segment(1, n1[30:])
    out.add("h2", "lost", bytes([0, 0]) + segs)
    segs = segment(0, settings_out + o1) + segment(1, n1[:50], 4)
    out.add("h2", "closed", bytes([0x01, 1]) + segs)
    push = frame(5, 0x04, 1, struct.pack(">I", 2) + hpack_literal(":path", "/x", True))
    segs = segment(0, o1) + segment(1, push + n1 + frame(6, 0, 0, b"12345678"))
    out.add("h2", "push-ping", bytes([0x02, 2]) + segs)


def seeds_h2peek(out, vecs):
    """First client bytes: HTTP/2 with prior knowledge, HTTP/1.1 offering h2c."""
    settings = frame(4, 0, 0, struct.pack(">HI", 3, 100) + struct.pack(">HI", 4, 65535))
    wu = frame(8, 0, 0, struct.pack(">I", 0xf0000))
    prio = frame(2, 0, 3, struct.pack(">IB", 0, 200))
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    offer = (b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
             b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n")
    for i, v in enumerate(vecs[:24]):
        variant = i % 4
        o, _ = h2_exchange(v, 1 + 2 * (i % 3), variant)
        first = preface + settings + (wu if i % 2 else prio) + o
        out.add("h2peek", "%s-v%d" % (v["_name"], variant), bytes([i % 4]) + first)
    o, _ = h2_exchange(vecs[0], 3, 0)
    out.add("h2peek", "upgrade-options", b"\x00" + b"OPTIONS * HTTP/1.1\r\nHost: 10.0.0.1\r\n" +
            offer + b"\r\n" + preface + settings + o)
    out.add("h2peek", "upgrade-body", b"\x00" + b"POST /upload HTTP/1.1\r\nHost: x\r\n" +
            b"Content-Length: 5\r\n" + offer + b"\r\nhello" + preface + settings + o)
    out.add("h2peek", "http1", b"\x00POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n")


# --- dialects ---

def route_for(v):
    """Index into routes[] in fuzz_dialects.c."""
    host, path, stream = v["_host"], v["_path"], bool(v.get("expected", {}).get("stream"))
    if "azure" in host:
        return 31 if "embeddings" in path else 7
    if "bedrock" in host:
        if path.endswith("/converse-stream"):
            return 20
        if path.endswith("/converse"):
            return 19
        if path.endswith("/invoke-with-response-stream"):
            return 22
        return 23 if "titan" in path else 21
    if "aiplatform" in host:
        return 13
    if "generativelanguage" in host:
        return 12 if "streamGenerateContent" in path else 11
    if host.startswith("127.0.0.1:11434"):
        return 14 if "/api/chat" in path else 15 if "/api/generate" in path else 16
    if "cohere" in host:
        return 17 if "/v1/chat" in path else 18
    if "anthropic" in host:
        return 10 if path.endswith("/complete") else 9 if stream else 8
    for key, idx in (("groq", 24), ("deepseek", 25), ("x.ai", 27), ("openrouter", 28)):
        if key in host:
            return idx
    if "mistral" in host:
        return 32 if "embeddings" in path else 29
    if "together" in host:
        return 30 if path.endswith("/v1/completions") else 26
    if "/chat/completions" in path:
        return 1 if stream else 0
    if "/responses" in path:
        return 3 if stream else 2
    if "/completions" in path:
        return 4
    if "/embeddings" in path:
        return 5
    if "/images" in path:
        return 6
    return 26


STATUSES = [200, 200, 200, 400, 401, 404, 429, 500, 503, 529, 201, 204]


def seeds_dialects(out, vecs):
    for i, v in enumerate(vecs):
        ct = v["_ct"]
        ctsel = 5 if not ct else 2 if "event-stream" in ct and "amazon" not in ct else \
            4 if "amazon" in ct else 3 if "ndjson" in ct else 1
        status = STATUSES.index(v["_status"]) if v["_status"] in STATUSES else 0
        framing = i % 3
        flags = ctsel | framing << 3 | (0x20 if i % 5 == 0 else 0) | (0x80 if i % 7 == 3 else 0)
        split = [0, 0x01, 0x0a, 0x13, 0x3e][i % 5]
        resp = v["_resp"]
        if ctsel == 4 and i % 2:
            flags |= 0x40
            resp = es_records(resp)
        out.add("dialects", v["_name"],
                bytes([route_for(v), flags, split, status]) + v["_req"] + SEP + resp)
    # a Bedrock stream exception and error message, framed
    exc = es_message([(":message-type", "exception"), (":exception-type", "throttlingException"),
                      (":content-type", "application/json")], b'{"message":"slow down"}')
    err = es_message([(":message-type", "error"), (":error-code", "InternalFailure"),
                      (":error-message", "boom")], b"")
    out.add("dialects", "bedrock-exception", bytes([20, 4, 0x01, 0]) + b'{"messages":[]}' +
            SEP + exc + err)


# --- TLS ClientHello ---

def client_hello(sni, extra_ext=b"", sid_len=32, version=b"\x03\x03", split_records=False):
    exts = extra_ext
    if sni is not None:
        name = sni.encode()
        sn = b"\x00" + struct.pack(">H", len(name)) + name
        exts += struct.pack(">HH", 0, len(sn) + 2) + struct.pack(">H", len(sn)) + sn
    exts += struct.pack(">HH", 16, 5) + b"\x00\x03\x02h2"  # ALPN
    body = version + bytes(32) + bytes([sid_len]) + bytes(sid_len) + \
        struct.pack(">H", 4) + b"\x13\x01\x13\x02" + b"\x01\x00" + \
        struct.pack(">H", len(exts)) + exts
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    if split_records:
        return b"\x16\x03\x01" + struct.pack(">H", 40) + hs[:40] + \
            b"\x16\x03\x01" + struct.pack(">H", len(hs) - 40) + hs[40:]
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def seeds_tlshello(out):
    grease = struct.pack(">HH", 0x0a0a, 0) + struct.pack(">HH", 10, 4) + b"\x00\x02\x00\x1d"
    cases = [("openai", client_hello("api.openai.com")),
             ("anthropic-grease", client_hello("api.anthropic.com", grease)),
             ("no-sni", client_hello(None)),
             ("empty-sid", client_hello("generativelanguage.googleapis.com", sid_len=0)),
             ("long-name", client_hello("a" * 250 + ".example")),
             ("split-records", client_hello("api.groq.com", split_records=True)),
             ("not-tls", b"POST /v1/chat/completions HTTP/1.1\r\n")]
    for i, (name, hello) in enumerate(cases):
        out.add("tlshello", name, bytes([255]) + hello)
        out.add("tlshello", name + "-small", bytes([i * 3 + 4]) + hello)


# --- stored records ---

def mp(o):
    """A small msgpack encoder (what record.c's llm_record_encode writes)."""
    if o is None:
        return b"\xc0"
    if o is True:
        return b"\xc3"
    if o is False:
        return b"\xc2"
    if isinstance(o, int):
        if 0 <= o < 128:
            return bytes([o])
        if -32 <= o < 0:
            return struct.pack("b", o)
        return b"\xd3" + struct.pack(">q", o) if o < 0 else b"\xcf" + struct.pack(">Q", o)
    if isinstance(o, float):
        return b"\xcb" + struct.pack(">d", o)
    if isinstance(o, (str, bytes)):
        b = o.encode() if isinstance(o, str) else o
        if len(b) < 32:
            return bytes([0xa0 | len(b)]) + b
        if len(b) < 256:
            return b"\xd9" + bytes([len(b)]) + b
        return b"\xda" + struct.pack(">H", len(b)) + b if len(b) < 65536 else \
            b"\xdb" + struct.pack(">I", len(b)) + b
    if isinstance(o, list):
        head = bytes([0x90 | len(o)]) if len(o) < 16 else b"\xdc" + struct.pack(">H", len(o))
        return head + b"".join(mp(x) for x in o)
    if isinstance(o, dict):
        head = bytes([0x80 | len(o)]) if len(o) < 16 else b"\xde" + struct.pack(">H", len(o))
        return head + b"".join(mp(k) + mp(v) for k, v in o.items())
    raise TypeError(type(o))


def seeds_record(out, vecs):
    for i, v in enumerate(vecs[::4]):
        e = v.get("expected", {})
        rec = {"operation_id": "01JD8X0000000000000000000%d" % (i % 10), "schema_version": 1,
               "timestamp": "2026-11-27T19:06:36.123456Z", "latency_ms": 812.5,
               "api": v.get("api"), "provider": v.get("provider"), "url_path": v["_path"],
               "http_status": v["_status"], "model": e.get("model"), "stream": e.get("stream"),
               "input_tokens": e.get("input_tokens"), "output_tokens": e.get("output_tokens"),
               "usage_raw": json.dumps(e.get("usage")) if e.get("usage") else None,
               "response": (v["_resp"][:200]).decode("utf-8", "replace"),
               "extras": {"ticket": "T-1", "n": [1, 2.5, None, True]},
               "argv": ["python3", "agent.py", "--api-key", "REDACTED"], "pid": 4242}
        out.add("record", v["_name"], b"\x00" + mp(rec))
    out.add("record", "not-utf8", b"\x00" + mp({"response": b"\xff\xfe abc", "model": None,
                                                 5: "int key", "x-new-field": [1]}))
    out.add("record", "negative", b"\x00" + mp({"input_tokens": -5, "latency_ms": -1.0}))
    # round-trip mode: [field][len][bytes] triples (fields by schema index)
    fields = [(0, b"01JD8X00000000000000000000"), (18, b"gpt-4o-mini"), (24, b"\x01\x00"),
              (47, b'{"ticket":"T-1","n":[1,2.5,{"a":[[[]]]}]}'), (51, b'["curl","-H","x:y"]'),
              (20, b"\x01"), (4, b"\x00\x01\x02\x03"), (38, b"\xffhi\x00yo"),
              (31, b'{"prompt_tokens":3}'), (39, b"[]")]
    trip = b"".join(bytes([f, len(b)]) + b for f, b in fields)
    out.add("record", "round-trip", b"\x01" + trip)


# --- redaction ---

def seeds_redact(out, vecs):
    urls = sorted({v["_path"] for v in vecs})
    for u in urls[:12]:
        out.add("redact", "url", b"\x00" + u.encode())
    out.add("redact", "url-secrets", b"\x00/v1beta/models/x:generateContent?key=AIzaSyA-secret"
                                     b"&alt=sse&api_key=&token=t&&=&key")
    argvs = [[b"curl", b"-H", b"Authorization: Bearer sk-proj-abcdefghijkl",
              b"https://api.openai.com/v1/chat/completions?key=abc", b"-d",
              b'{"model":"m","api_key":"sk-abcdefghijk"}', b"-u", b"user:pass"],
             [b"python3", b"agent.py", b"--api-key=gsk_abcdefghijklmnop", b"--token", b"xyz",
              b"  x-api-key:abc", b"AIzaSyABCDEFGHIJ"],
             [b"node", b"--password", b"-", b"{", b"-E", b"cert.pem"]]
    for a in argvs:
        out.add("redact", "argv", b"\x01" + b"\x00".join(a))
    for v in vecs[:10]:
        if v["_req"]:
            out.add("redact", "json-" + v["_name"], b"\x02" + v["_req"])
    out.add("redact", "json-secrets", b'\x02{"api_key":"k","nested":[{"Authorization":1,'
                                      b'"token":{"secret":"s"}}],"password":null}')
    # issue 13: the forms each net must catch (text mode and JSON mode)
    texts = [b'{"api_key":"K1234567","temperature":NaN}', b'{"x":"\\ud800","secret_key":"K"}',
             b'[{"openai_api_key":"K"}]', b'model=x&api_key=K&b=2', b'{"api_key":["K","L"]}',
             b'{"api_key":"unterminated head of a body', b'/x?api%5Fkey=K;sig=S&code=C#f',
             b'https://user:K@host/p?X-Amz-Signature=abc&X-Amz-Credential=AKIAABCDEFGHIJKLMNOP',
             b'-HAuthorization: Bearer abc123456789', b'--header=X-Auth-Token: K',
             b'OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwx and hf_abcdefghijklmnopqrst',
             b'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
             b'{\\"api_key\\":\\"K\\"}', b'Incorrect API key provided: sk-proj-abcdefghijklmnop1234.']
    for t in texts:
        out.add("redact", "text", b"\x00" + t)
        out.add("redact", "json", b"\x02" + t)
    out.add("redact", "argv-13", b"\x01" + b"\x00".join(
        [b"curl", b"--openai-api-key", b"K", b"-uuser:K", b"--secret-key", b"S", b"-d",
         b"model=x&api_key=K", b"--user=u:p", b"-u", b"u:[REDACTED]"]))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    vecs = load_corpus(sys.argv[1])
    out = Out(sys.argv[2])
    seeds_http1(out, vecs)
    seeds_framing(out, vecs)
    seeds_body(out, vecs)
    seeds_h2(out, vecs)
    seeds_h2peek(out, vecs)
    seeds_dialects(out, vecs)
    seeds_tlshello(out)
    seeds_record(out, vecs)
    seeds_redact(out, vecs)
    print("seeds: " + ", ".join("%s %d" % (h, out.n.get(h, 0)) for h in HARNESSES))


if __name__ == "__main__":
    main()
