#!/usr/bin/python3
"""The Python HTTP clients people run, against the replay server (e2e tests).

usage: py_clients.py CLIENT --port PORT --corpus DIR [--ca CA.pem | --plain]
                     [--repeat N] VECTOR ...
       py_clients.py check EXPORT --corpus DIR --capture openssl|socket
                     [--provider P] [--server-address A] [--secret S ...] VECTOR[=N] ...

CLIENT is one of
  requests         one requests.Session; streams read with iter_lines()
  httpx            one httpx.Client; streams with client.stream() + iter_lines()
  httpx-async      one httpx.AsyncClient; every call at once (asyncio.gather)
  aiohttp          one aiohttp.ClientSession; every call at once; streams read
                   line by line from resp.content
  asyncio-streams  asyncio.open_connection (TLS through ssl.SSLObject and memory
                   BIOs): a hand-written HTTP/1.1 client, every call at once,
                   each connection carrying two requests (keep-alive)
  urllib           urllib.request.urlopen; streams read with readline()
The async clients run every call on ONE event loop, all concurrently.

Each vector's request (method, URL, body) goes to the vector's own host
(api.openai.com, api.anthropic.com), which a resolver override maps to
127.0.0.1:PORT, so SNI, certificate check and Host stay the provider's; with
--plain the URL's scheme is http:// (port 80, mapped the same way). The header
X-Test-Vector picks the reply. API keys come from OPENAI_API_KEY and
ANTHROPIC_API_KEY and are sent the way the providers want them
(Authorization: Bearer, x-api-key). Every vector is called --repeat times
(default 1). Prints "== VECTOR STATUS BYTES" and the body for each call, in
vector order whatever order they completed in, so the output can be compared
byte for byte with and without the shim. Exit 1 if a status differs from the
vector's.

check: the records of an `llmops export` NDJSON file against the calls made
(VECTOR=N: N calls of that vector, in any order). Records are matched to
vectors by url_path and completion_args (the vectors used by one run must
have distinct request bodies); each is checked by corpus_expect (the vector's
expectation, the generic checks), with --capture and, when given, --provider
and --server-address replacing the vector's provider and host (a client that
talks to 127.0.0.1). Every problem is printed as "vector: field: got X, want
Y"; exit 1 if there is any, or if a secret (or a 16-character piece of one)
is in the export.
"""
import argparse
import asyncio
import json
import os
import socket
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


# ------------------------------------------------------------------ requests
def load(corpus, name):
    with open(os.path.join(corpus, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def want_status(v):
    return v.get("status") or v.get("status_inferred") or 200


class Call:
    """One request of a vector: URL (scheme per --plain), headers, body."""

    def __init__(self, name, v, plain):
        self.name, self.vec = name, v
        u = urllib.parse.urlsplit(v["url"])
        self.host = u.hostname
        self.target = u.path + ("?" + u.query if u.query else "")
        self.url = ("http" if plain else "https") + "://" + self.host + self.target
        self.method = (v.get("method") or "POST").upper()
        self.body = v["request_body"].encode("utf-8")
        self.stream = bool(json.loads(self.body).get("stream"))
        self.headers = {"Content-Type": "application/json", "X-Test-Vector": name}
        if "anthropic" in self.host:
            self.headers["x-api-key"] = os.environ.get("ANTHROPIC_API_KEY", "")
            self.headers["anthropic-version"] = "2023-06-01"
        else:
            self.headers["Authorization"] = "Bearer " + os.environ.get("OPENAI_API_KEY", "")


def install_resolver(port, hosts):
    """Resolve every name in hosts to 127.0.0.1:port, whatever port was asked for."""
    real = socket.getaddrinfo

    def getaddrinfo(host, p, family=0, type=0, proto=0, flags=0):
        if isinstance(host, bytes):
            host = host.decode()
        if host in hosts:
            return real("127.0.0.1", port, socket.AF_INET, type, proto, flags)
        return real(host, p, family, type, proto, flags)

    socket.getaddrinfo = getaddrinfo


def join_lines(lines):
    return b"\n".join(x.rstrip(b"\r\n") if isinstance(x, bytes) else x.encode() for x in lines)


# ------------------------------------------------------------- sync clients
def run_requests(calls, a, ctx):
    import requests  # Debian python3-requests
    out = []
    verify = a.ca if a.ca else True
    with requests.Session() as s:
        for c in calls:
            r = s.request(c.method, c.url, data=c.body, headers=c.headers, verify=verify,
                          stream=c.stream, timeout=30)
            body = join_lines(r.iter_lines()) if c.stream else r.content
            r.close()
            out.append((r.status_code, body))
    return out


def run_httpx(calls, a, ctx):
    import httpx  # Debian python3-httpx
    out = []
    with httpx.Client(verify=ctx if ctx else False, timeout=30) as client:
        for c in calls:
            if c.stream:
                with client.stream(c.method, c.url, content=c.body, headers=c.headers) as r:
                    body = join_lines(list(r.iter_lines()))
            else:
                r = client.request(c.method, c.url, content=c.body, headers=c.headers)
                body = r.content
            out.append((r.status_code, body))
    return out


def run_urllib(calls, a, ctx):
    out = []
    for c in calls:
        req = urllib.request.Request(c.url, data=c.body, headers=c.headers, method=c.method)
        try:
            resp = urllib.request.urlopen(req, context=ctx, timeout=30)
        except urllib.error.HTTPError as e:
            resp = e
        with resp:
            status = resp.status if hasattr(resp, "status") else resp.code
            if c.stream:
                lines = []
                while True:
                    line = resp.readline()
                    if not line:
                        break
                    lines.append(line)
                body = join_lines(lines)
            else:
                body = resp.read()
        out.append((status, body))
    return out


# ------------------------------------------------------------ async clients
async def run_httpx_async(calls, a, ctx):
    import httpx

    async def one(client, c):
        if c.stream:
            async with client.stream(c.method, c.url, content=c.body, headers=c.headers) as r:
                return r.status_code, join_lines([x async for x in r.aiter_lines()])
        r = await client.request(c.method, c.url, content=c.body, headers=c.headers)
        return r.status_code, r.content

    # httpx's async path (anyio) connects to the URL's port whatever getaddrinfo
    # says, so the host mapping goes into httpcore's network backend instead.
    import httpcore
    from httpcore.backends.auto import AutoBackend

    class MapBackend(AutoBackend):
        async def connect_tcp(self, host, port, *args, **kw):
            if host in a.hosts:
                host, port = "127.0.0.1", a.port
            return await super().connect_tcp(host, port, *args, **kw)

    transport = httpx.AsyncHTTPTransport(verify=ctx if ctx else False)
    transport._pool = httpcore.AsyncConnectionPool(ssl_context=transport._pool._ssl_context,
                                                   max_connections=100,
                                                   network_backend=MapBackend())
    async with httpx.AsyncClient(transport=transport, timeout=30) as client:
        return await asyncio.gather(*(one(client, c) for c in calls))


async def run_aiohttp(calls, a, ctx):
    import aiohttp  # Debian python3-aiohttp
    from aiohttp.abc import AbstractResolver

    class MapResolver(AbstractResolver):
        """The provider hosts -> 127.0.0.1:PORT (aiohttp's own resolver hook)."""

        async def resolve(self, host, port=0, family=socket.AF_INET):
            if host in a.hosts:
                host, port = "127.0.0.1", a.port
            return [{"hostname": host, "host": host, "port": port, "family": socket.AF_INET,
                     "proto": 0, "flags": socket.AI_NUMERICHOST}]

        async def close(self):
            pass

    async def one(session, c):
        async with session.request(c.method, c.url, data=c.body, headers=c.headers) as r:
            if c.stream:
                return r.status, join_lines([line async for line in r.content])
            return r.status, await r.read()

    conn = aiohttp.TCPConnector(resolver=MapResolver(), ssl=ctx if ctx else False, limit=0)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=30),
                                     auto_decompress=False) as session:
        return await asyncio.gather(*(one(session, c) for c in calls))


async def http1_exchange(reader, writer, c):
    """One HTTP/1.1 request on an open stream; the response read piece by piece."""
    head = "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (
        c.method, c.target, c.host, len(c.body))
    head += "".join("%s: %s\r\n" % kv for kv in c.headers.items()) + "\r\n"
    writer.write(head.encode() + c.body)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    hdrs = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, val = line.decode("latin-1").partition(":")
        hdrs[k.strip().lower()] = val.strip()
    body = b""
    if "chunked" in hdrs.get("transfer-encoding", "").lower():
        while True:
            n = int((await reader.readline()).split(b";")[0].strip(), 16)
            if n == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += await reader.readexactly(n)
            await reader.readexactly(2)
    elif "content-length" in hdrs:
        body = await reader.readexactly(int(hdrs["content-length"]))
    else:
        body = await reader.read()
    return status, body


async def run_asyncio_streams(calls, a, ctx):
    """Calls paired two per connection (keep-alive), all connections at once."""
    transports = []

    async def conn_pair(pair):
        host = pair[0].host
        reader, writer = await asyncio.open_connection(host, 80 if a.plain else 443, ssl=ctx,
                                                       server_hostname=None if a.plain else host)
        transports.append(writer.get_extra_info("ssl_object"))
        res = []
        for c in pair:
            res.append(await http1_exchange(reader, writer, c))
        writer.close()
        await writer.wait_closed()
        return res

    pairs, by_host = [], {}
    for i, c in enumerate(calls):
        by_host.setdefault(c.host, []).append(i)
    for idx in by_host.values():
        pairs += [idx[j:j + 2] for j in range(0, len(idx), 2)]
    results = await asyncio.gather(*(conn_pair([calls[i] for i in p]) for p in pairs))
    out = [None] * len(calls)
    for p, res in zip(pairs, results):
        for i, r in zip(p, res):
            out[i] = r
    # the point of this client: asyncio's TLS is ssl.SSLObject over memory BIOs
    kinds = sorted({type(t).__name__ for t in transports})
    a.note = "== asyncio transports: %d connections, TLS object %s\n" % (
        len(transports), ",".join(kinds))
    if not a.plain and kinds != ["SSLObject"]:
        print("py_clients: asyncio TLS used %s, want SSLObject only" % kinds, file=sys.stderr)
        a.errors += 1
    return out


CLIENTS = {
    "requests": run_requests, "httpx": run_httpx, "urllib": run_urllib,
    "httpx-async": run_httpx_async, "aiohttp": run_aiohttp,
    "asyncio-streams": run_asyncio_streams,
}


def cmd_client(a):
    vecs = [(n, load(a.corpus, n)) for n in a.vectors]
    calls = [Call(n, v, a.plain) for n, v in vecs for _ in range(a.repeat)]
    a.hosts = {c.host for c in calls}
    a.note, a.errors = "", 0
    install_resolver(a.port, a.hosts)
    ctx = None if a.plain else ssl.create_default_context(cafile=a.ca)
    fn = CLIENTS[a.client]
    res = asyncio.run(fn(calls, a, ctx)) if asyncio.iscoroutinefunction(fn) else fn(calls, a, ctx)
    out = sys.stdout.buffer
    for c, (status, body) in zip(calls, res):
        out.write(b"== %s %s %d %d\n" % (a.client.encode(), c.name.encode(), status, len(body)))
        out.write(body + b"\n")
        if status != want_status(c.vec):
            print("py_clients: %s %s: status %d, want %d" % (a.client, c.name, status,
                                                           want_status(c.vec)), file=sys.stderr)
            a.errors += 1
    out.write(a.note.encode())
    out.flush()
    return 1 if a.errors else 0


# -------------------------------------------------------------------- check
def cmd_check(a):
    import corpus_expect as ce
    calls = {}
    for spec in a.calls:
        name, _, n = spec.partition("=")
        calls[name] = calls.get(name, 0) + int(n or 1)
    vecs = {n: ce.load_vector(a.corpus, n) for n in calls}
    keys = {}
    for n, v in vecs.items():
        k = (ce.redact_url(ce.sent_target(v["url"])), json.dumps(json.loads(v["request_body"]),
                                                                   sort_keys=True))
        if k in keys:
            raise SystemExit("check: %s and %s send the same request: cannot tell their records "
                             "apart" % (keys[k], n))
        keys[k] = n
    problems = ["secret %s...%s found in the export" % (s[:6], s[-4:])
                for _, s in ce.scan_secrets([a.export], a.secret)]
    recs = ce.read_export(a.export)
    got = {}
    for i, r in enumerate(recs):
        try:
            body = json.dumps(json.loads(r.get("completion_args") or "null"), sort_keys=True)
        except ValueError:
            body = None
        name = keys.get((r.get("url_path"), body))
        if name is None:
            problems.append("record #%d (%s %s, model %s) matches no call made" % (
                i, r.get("http_method"), r.get("url_path"), r.get("request_model")))
            continue
        got.setdefault(name, []).append(r)
    override = {"capture": a.capture}
    if a.provider:
        override["provider"] = a.provider
    if a.server_address:
        override["server_address"] = a.server_address
    if a.http_version:
        override["http_version"] = a.http_version
    for name, n in calls.items():
        rs = got.get(name, [])
        if len(rs) != n:
            problems.append("%s: %d record(s), want %d (one per call)" % (name, len(rs), n))
        for r in rs:
            ctx = ce.Ctx()
            triples = ce.generic_problems(r, ctx) + ce.expectation_problems(r, name, vecs[name], ctx)
            for f, g, w in triples:
                if f not in override:
                    problems.append("%s: %s: got %s, want %s" % (name, f, ce.show(g), w))
            for f, w in override.items():
                if r.get(f) != w:
                    problems.append("%s: %s: got %s, want %s" % (name, f, ce.show(r.get(f)),
                                                                 json.dumps(w)))
    for p in problems:
        print("  " + p, file=sys.stderr)
    print("py_clients check: %d record(s) for %d call(s), %d problem(s)" % (
        len(recs), sum(calls.values()), len(problems)), file=sys.stderr)
    return 1 if problems else 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        ap = argparse.ArgumentParser(prog="py_clients.py check")
        ap.add_argument("export")
        ap.add_argument("calls", nargs="+", metavar="VECTOR[=N]")
        ap.add_argument("--corpus", required=True)
        ap.add_argument("--capture", required=True)
        ap.add_argument("--provider")
        ap.add_argument("--server-address")
        ap.add_argument("--http-version", help="expected instead of 1.1 (e.g. 2)")
        ap.add_argument("--secret", action="append", default=[])
        return cmd_check(ap.parse_args(sys.argv[2:]))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    ap.add_argument("client", choices=sorted(CLIENTS))
    ap.add_argument("vectors", nargs="+")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--ca")
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    if not a.plain and not a.ca:
        ap.error("need --ca, or --plain")
    return cmd_client(a)


if __name__ == "__main__":
    sys.exit(main())
