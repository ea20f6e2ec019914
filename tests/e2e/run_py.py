#!/usr/bin/python3
"""requests, httpx or httpx's AsyncClient (asyncio: TLS over a memory BIO)
for test_run.sh: POST a body file to URL with the environment's proxy and CA
settings, print status and body (a stream as it arrives).
usage: run_py.py requests|httpx|httpx_async URL BODY_FILE API_KEY
Prints "pid N" on stderr: the record must name this process, not the proxy."""
import os
import sys

lib, url, body_file, key = sys.argv[1:5]
body = open(body_file, "rb").read()
headers = {"Content-Type": "application/json", "Authorization": "Bearer " + key}
out = sys.stdout.buffer
print("pid %d" % os.getpid(), file=sys.stderr, flush=True)
if lib == "requests":
    import requests
    with requests.post(url, data=body, headers=headers, stream=True, timeout=60) as r:
        out.write(b"status %d\n" % r.status_code)
        for chunk in r.iter_content(chunk_size=None):
            out.write(chunk)
            out.flush()
elif lib == "httpx_async":
    import asyncio

    import httpx

    async def main():
        async with httpx.AsyncClient(timeout=60) as c:
            async with c.stream("POST", url, content=body, headers=headers) as r:
                out.write(b"status %d\n" % r.status_code)
                async for chunk in r.aiter_raw():
                    out.write(chunk)
                    out.flush()

    asyncio.run(main())
else:
    import httpx
    with httpx.Client(timeout=60) as c:  # trust_env: proxies and SSL_CERT_FILE
        with c.stream("POST", url, content=body, headers=headers) as r:
            out.write(b"status %d\n" % r.status_code)
            for chunk in r.iter_raw():
                out.write(chunk)
                out.flush()
