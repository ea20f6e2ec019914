#!/usr/bin/python3
"""Check an `llmops export --format ndjson` file against corpus vectors.

usage: check_records.py EXPORT --corpus DIR [--secret S ...] [--extras JSON]
                        [--session-id ID] [--exe-suffix NAME] VECTOR[=COUNT] ...

The VECTOR arguments list the calls the test made, in order (NAME=3: three
consecutive calls of that vector). Records are sorted by timestamp and matched
to the calls one to one; the number of records must equal the number of calls.
Each record is compared with the vector's `expected` object and the request
that was sent. Every mismatch is printed; exit status 1 if there was any.
"""
import argparse
import json
import os
import re
import socket
import sys
import urllib.parse

FIELDS = """operation_id schema_version timestamp end_timestamp latency_ms ttfb_ms ttft_ms
operation_type api provider server_address server_port url_path http_method http_status
http_version capture request_model response_model model stream temperature max_tokens top_p
input_tokens output_tokens cache_read_tokens cache_write_tokens reasoning_tokens total_tokens
usage_source usage_raw finish_reason status error_type error_message cost_usd completion_args
response tool_calls request_bytes response_bytes truncated session_id workspace agent_id
action_id extras pid ppid exe argv hostname""".split()

TOKENS = {  # record field -> key of the vector's `expected`
    "input_tokens": "input_tokens", "output_tokens": "output_tokens",
    "cache_read_tokens": "cached_input_tokens", "cache_write_tokens": "cache_creation_input_tokens",
    "reasoning_tokens": "reasoning_tokens", "total_tokens": "total_tokens",
}
API = {("openai", "chat.completions"): ("openai.chat_completions", "chat")}
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_record(i, rec, name, vec, args, problems):
    def bad(field, got, want):
        problems.append("record #%d (%s): %s: got %s, want %s"
                        % (i, name, field, json.dumps(got), want))

    def eq(field, want):
        if rec.get(field) != want or type(rec.get(field)) is not type(want):
            if not (is_num(want) and is_num(rec.get(field)) and rec.get(field) == want):
                bad(field, rec.get(field), json.dumps(want))

    missing = [f for f in FIELDS if f not in rec]
    extra = [f for f in rec if f not in FIELDS]
    if missing:
        bad("(fields)", "missing " + ",".join(missing), "all schema fields present")
    if extra:
        bad("(fields)", "unknown " + ",".join(extra), "only schema fields")

    exp = vec["expected"]
    for f in ("request_model", "response_model", "model", "finish_reason", "stream"):
        eq(f, exp[f])
    for f, k in TOKENS.items():
        eq(f, exp.get(k))
    has_tokens = any(exp.get(k) is not None for k in ("input_tokens", "output_tokens", "total_tokens"))
    eq("usage_source", "provider" if has_tokens else "missing")
    if has_tokens and not isinstance(rec.get("usage_raw"), (dict, str)):
        bad("usage_raw", rec.get("usage_raw"), "the provider's usage object")

    err = exp.get("error")
    if err:
        eq("status", "error")
        for f in ("error_type", "error_message"):
            if not isinstance(rec.get(f), str) or not rec.get(f):
                bad(f, rec.get(f), "a non-empty string")
        msg = err.get("message") if isinstance(err, dict) else None
        got = rec.get("error_message")
        if isinstance(msg, str) and isinstance(got, str) and got and not msg.startswith(got):
            bad("error_message", got, json.dumps(msg))
    else:
        eq("status", "ok")
        for f in ("error_type", "error_message"):
            eq(f, None)

    eq("http_status", vec.get("status") or vec.get("status_inferred") or 200)
    eq("http_method", vec.get("method", "POST"))
    url = urllib.parse.urlsplit(vec["url"])
    eq("provider", exp.get("provider") or vec["provider"])
    eq("url_path", exp.get("endpoint") or url.path)
    eq("server_address", url.hostname)
    api = API.get((vec["provider"], vec["api"]))
    if api:
        eq("api", api[0])
        eq("operation_type", api[1])
    if not (isinstance(rec.get("http_version"), str) and "1.1" in rec["http_version"]):
        bad("http_version", rec.get("http_version"), "HTTP/1.1")
    if not (is_int(rec.get("server_port")) and rec["server_port"] > 0):
        bad("server_port", rec.get("server_port"), "a port number")

    body = json.loads(vec["request_body"]) if vec.get("request_body") else {}
    eq("temperature", body.get("temperature"))
    eq("top_p", body.get("top_p"))
    eq("max_tokens", body.get("max_completion_tokens", body.get("max_tokens")))

    lat, ttfb, ttft = rec.get("latency_ms"), rec.get("ttfb_ms"), rec.get("ttft_ms")
    if not (isinstance(lat, float) and lat > 0):
        bad("latency_ms", lat, "a float > 0")
    elif not (is_num(ttfb) and 0 <= ttfb <= lat):
        bad("ttfb_ms", ttfb, "a number in [0, latency_ms=%s]" % lat)
    elif ttft is not None and not (is_num(ttft) and 0 <= ttft <= lat):
        bad("ttft_ms", ttft, "null or a number in [0, latency_ms=%s]" % lat)
    for f in ("timestamp", "end_timestamp"):
        if not (isinstance(rec.get(f), str) and TS.match(rec[f])):
            bad(f, rec.get(f), "RFC 3339 UTC with microseconds, e.g. 2025-01-02T03:04:05.123456Z")
    if isinstance(rec.get("end_timestamp"), str) and rec["end_timestamp"] < (rec.get("timestamp") or ""):
        bad("end_timestamp", rec["end_timestamp"], ">= timestamp " + str(rec.get("timestamp")))

    eq("schema_version", 1)
    if rec.get("truncated") not in (False, None):
        bad("truncated", rec.get("truncated"), "false (small bodies)")
    for f in ("request_bytes", "response_bytes"):
        if rec.get(f) is not None and not (is_int(rec[f]) and rec[f] > 0):
            bad(f, rec[f], "null or a positive integer")
    if not (isinstance(rec.get("operation_id"), str) and rec["operation_id"]):
        bad("operation_id", rec.get("operation_id"), "a non-empty string")
    for f in ("pid", "ppid"):
        if not (is_int(rec.get(f)) and rec[f] > 0):
            bad(f, rec.get(f), "a positive integer")
    exe = rec.get("exe")
    if not (isinstance(exe, str) and exe.startswith("/")):
        bad("exe", exe, "an absolute path")
    elif args.exe_suffix and not os.path.basename(exe).startswith(args.exe_suffix):
        bad("exe", exe, "the %s executable" % args.exe_suffix)
    argv = rec.get("argv")
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        bad("argv", argv, "a non-empty array of strings")
    eq("hostname", socket.gethostname())
    if args.extras is not None:
        eq("extras", json.loads(args.extras))
    elif not isinstance(rec.get("extras"), (dict, type(None))):
        bad("extras", rec.get("extras"), "an object or null")
    if args.session_id is not None:
        eq("session_id", args.session_id)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export")
    ap.add_argument("calls", nargs="+", metavar="VECTOR[=COUNT]")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--secret", action="append", default=[], help="must not appear in the export")
    ap.add_argument("--extras", help="expected extras object (JSON)")
    ap.add_argument("--session-id")
    ap.add_argument("--exe-suffix", help="basename the recorded exe must start with")
    args = ap.parse_args()

    calls = []
    for c in args.calls:
        name, _, n = c.partition("=")
        calls += [name] * int(n or 1)
    vectors = {}
    for name in set(calls):
        with open(os.path.join(args.corpus, name + ".json"), encoding="utf-8") as f:
            vectors[name] = json.load(f)

    with open(args.export, "rb") as f:
        raw = f.read()
    problems = []
    for s in args.secret:
        if s and s.encode() in raw:
            problems.append("secret %s...%s found in the export" % (s[:8], s[-4:]))
    records = []
    for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError as e:
                problems.append("export line %d is not JSON: %s" % (n, e))
    records.sort(key=lambda r: (str(r.get("timestamp")), str(r.get("end_timestamp"))))
    if len(records) != len(calls):
        problems.append("export has %d records, the test made %d calls" % (len(records), len(calls)))
        for i, r in enumerate(records):
            problems.append("  record #%d: %s %s status=%s model=%s stream=%s" % (
                i, r.get("timestamp"), r.get("url_path"), r.get("http_status"),
                r.get("request_model"), r.get("stream")))
    else:
        for i, (rec, name) in enumerate(zip(records, calls)):
            check_record(i, rec, name, vectors[name], args, problems)
        ids = [r.get("operation_id") for r in records]
        if len(set(ids)) != len(ids):
            problems.append("operation_id values are not unique")

    if problems:
        print("check_records: %d problem(s) in %s:" % (len(problems), args.export), file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print("check_records: %d records OK" % len(records), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
