#!/usr/bin/python3
"""What the shim must record for a corpus vector, and the checks every record passes.

A corpus vector's `expected` object holds RAW provider values (see
tests/corpus/README.md). A record holds NORMALISED values (README.md, "The
record"). normalised() converts the one into the other; the table below is
the only place where provider semantics live.

  record field        from the vector
  ------------------  -----------------------------------------------------------
  input_tokens        the whole prompt. INPUT_ADDS_CACHE providers (Anthropic,
                      Bedrock) report input without cache reads and writes:
                      input + cached_input + cache_creation. Others (OpenAI
                      family, Gemini/Vertex, Cohere, Ollama) as reported.
                      Bedrock: when the body carries no usage,
                      input_tokens_from_headers (X-Amzn-Bedrock-Input-Token-Count).
  output_tokens       reasoning included. OUTPUT_ADDS_REASONING providers (xAI,
                      Gemini, Vertex) report it apart: output + reasoning.
                      Others as reported. Bedrock: output_tokens_from_headers
                      when the body has none.
  cache_read_tokens   cached_input_tokens
  cache_write_tokens  cache_creation_input_tokens
  reasoning_tokens, total_tokens, finish_reason, stream, request_model,
  response_model, model                    as in `expected`
  usage_source        "provider" iff any token field above is non-null, else "missing"
  status              "error" if `expected.error` is non-null or the HTTP status
                      is >= 400, else "ok". On "error": error_message is set when
                      the error object has a message, error_type when it has a
                      type/code/status; on "ok" both are null.
  api, operation_type API[vector api] where the name is settled
  provider            PROVIDER[vector provider] (OpenTelemetry gen_ai.provider.name)
  url_path            path + query as sent, key=-style values -> [REDACTED]
  http_status         what the replay server sent: status, else status_inferred, else 200
  server_address      the URL's host; http_method the vector's method
  temperature, top_p, max_tokens   from the request body (REQUEST_PARAMS locations)
  completion_args     the request body as JSON, credential members -> [REDACTED]
  ttft_ms             a number when a stream produced output (response or tool_calls)

generic_problems() holds what every record must satisfy whatever the call:
every schema field present, RFC 3339 timestamps, 0 <= ttfb <= ttft <= latency,
sane ids/pids/exe/argv/hostname, capture and operation_type from known sets.

ACCEPT lists the few documented places where the replayed wire request says
more than the recording's `expected` (e.g. a URL template).

Library: normalised(vec), check_record(rec, name, vec, ctx) -> [problem, ...],
generic_problems(rec, ctx), compare_records(a, b), scan_secrets(paths, secrets).

CLI:
  corpus_expect.py check  --corpus DIR EXPORT [--vector NAME] [--secret S ...]
      check every record of an ndjson export; the vector is --vector, else the
      record's extras.vector.
  corpus_expect.py report --corpus DIR EXPORT --calls FILE [--reference RUN]
                          [--optional VECTOR ...] [--secret S ...]
      FILE lists the calls made, one "RUN VECTOR [SENT_URL [REQ_BYTES RESP_BYTES]]"
      per line (body bytes on the wire, "-" when unknown); every
      record carries extras {"run": RUN, "vector": VECTOR}. Checks each record,
      compares every run's record with the reference run's, prints a
      PASS/FAIL table per vector and the failures (vector, run, field,
      expected, got). Exit 1 if any call failed. An --optional vector without
      a record is SKIP, not FAIL.
  corpus_expect.py scan   --secret S ... FILE ...
      exit 1 if any secret (or a 16-character piece of one) is in any file.
  corpus_expect.py show   --corpus DIR VECTOR
      print the normalised expectation.
"""
import argparse
import json
import os
import re
import socket
import sys
import urllib.parse

# ---------------------------------------------------------------- the schema
FIELDS = """operation_id schema_version timestamp end_timestamp latency_ms ttfb_ms ttft_ms
operation_type api provider server_address server_port url_path http_method http_status
http_version capture request_model response_model model stream temperature max_tokens top_p
input_tokens output_tokens cache_read_tokens cache_write_tokens reasoning_tokens total_tokens
usage_source usage_raw finish_reason status error_type error_message cost_usd cost_source
completion_args
response tool_calls request_bytes response_bytes truncated session_id workspace agent_id
action_id extras pid ppid exe argv hostname
trace_id parent_span_id trace_state""".split()
CAPTURES = {"openssl", "openssl_inline", "libcurl", "socket", "proxy"}  # how the shim (or llmops run) saw the call
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
# OpenTelemetry gen_ai.operation.name values (image_generation is ours: OTel has none)
OPERATIONS = {"chat", "text_completion", "embeddings", "generate_content", "create_agent",
              "invoke_agent", "execute_tool", "image_generation"}

# ------------------------------------------------------- normalisation table
PROVIDER = {  # vector provider -> record provider (OpenTelemetry names)
    "openai": "openai", "azure_openai": "azure.ai.openai", "anthropic": "anthropic",
    "gemini": "gcp.gemini", "vertex_ai": "gcp.vertex_ai", "bedrock": "aws.bedrock",
    "mistral": "mistral_ai", "groq": "groq", "deepseek": "deepseek", "xai": "x_ai",
    "openrouter": "openrouter", "together": "together_ai", "cohere": "cohere",
    "ollama": "ollama",
}
INPUT_ADDS_CACHE = {"anthropic", "bedrock"}  # raw input excludes cache reads/writes
OUTPUT_ADDS_REASONING = {"xai", "gemini", "vertex_ai"}  # raw output excludes reasoning
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
          "reasoning_tokens", "total_tokens")
# vector api -> (record api, operation_type) where unambiguous (None: not checked)
API = {
    "chat.completions": ("openai.chat_completions", "chat"),
    "messages": ("anthropic.messages", "chat"),
    "complete (legacy Text Completions)": ("anthropic.complete", "text_completion"),
    "completions (legacy)": (None, "text_completion"),
    "embeddings": (None, "embeddings"),
}
# Where request parameters live, first match wins (dotted paths in the body).
REQUEST_PARAMS = {
    "temperature": ["temperature", "generationConfig.temperature", "inferenceConfig.temperature",
                    "options.temperature", "textGenerationConfig.temperature"],
    "top_p": ["top_p", "p", "generationConfig.topP", "inferenceConfig.topP", "options.top_p",
              "textGenerationConfig.topP"],
    "max_tokens": ["max_completion_tokens", "max_tokens", "max_output_tokens",
                   "max_tokens_to_sample", "generationConfig.maxOutputTokens",
                   "inferenceConfig.maxTokens", "options.num_predict",
                   "textGenerationConfig.maxTokenCount", "max_gen_len"],
}
# Credential member names (JSON bodies, query strings); mirrors collector/redact.c.
SECRET_NAMES = {"key", "api_key", "apikey", "api-key", "x-api-key", "x-goog-api-key",
                "authorization", "access_token", "auth_token", "password", "secret",
                "client_secret", "cookie", "token", "session_token", "x-amz-security-token"}
REDACTED = "[REDACTED]"
# The wire request can carry what the recording's `expected` left null.
ACCEPT = {
    # URL template recorded literally: the model segment is "{model}"
    "gemini_generatecontent-error_nostream_1": {"request_model": [None, "{model}"],
                                                "model": [None, "{model}"]},
}
# Fields that differ between two recordings of the same exchange: identity,
# timing, wire sizes (compression), and who made the call.
VOLATILE = {"operation_id", "timestamp", "end_timestamp", "latency_ms", "ttfb_ms", "ttft_ms",
            "request_bytes", "response_bytes", "pid", "ppid", "exe", "argv", "extras"}
PER_PROGRAM = {"capture", "server_port"}  # differ between two programs making the same call


def vector_status(vec):
    return vec.get("status") or vec.get("status_inferred") or 200


def redact_url(target):
    path, sep, query = target.partition("?")
    if not sep:
        return path
    parts = []
    for kv in query.split("&"):
        k, eq, _ = kv.partition("=")
        parts.append(k + "=" + REDACTED if eq and k.lower() in SECRET_NAMES else kv)
    return path + "?" + "&".join(parts)


def sent_target(url):
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def redact_json(v):
    if isinstance(v, dict):
        return {k: (REDACTED if k.lower() in SECRET_NAMES and isinstance(x, (str, int, float))
                    and not isinstance(x, bool) else redact_json(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [redact_json(x) for x in v]
    return v


def dig(obj, path):
    for k in path.split("."):
        if not isinstance(obj, dict) or k not in obj:
            return None
        obj = obj[k]
    return obj


def request_json(vec):
    try:
        body = json.loads(vec["request_body"]) if vec.get("request_body") else None
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def normalised(vec):
    """The record fields a vector determines, under the record's semantics."""
    exp, prov = vec["expected"], vec["provider"]
    inp, out = exp.get("input_tokens"), exp.get("output_tokens")
    if prov == "bedrock":
        if inp is None:
            inp = exp.get("input_tokens_from_headers")
        if out is None:
            out = exp.get("output_tokens_from_headers")
    cr, cw, rs = (exp.get("cached_input_tokens"), exp.get("cache_creation_input_tokens"),
                  exp.get("reasoning_tokens"))
    if prov in INPUT_ADDS_CACHE and inp is not None:
        inp += (cr or 0) + (cw or 0)
    if prov in OUTPUT_ADDS_REASONING and (out is not None or rs is not None):
        out = (out or 0) + (rs or 0)
    n = {"input_tokens": inp, "output_tokens": out, "cache_read_tokens": cr,
         "cache_write_tokens": cw, "reasoning_tokens": rs, "total_tokens": exp.get("total_tokens")}
    for f in ("request_model", "response_model", "model", "finish_reason", "stream"):
        n[f] = exp.get(f)
    n["usage_source"] = "provider" if any(n[t] is not None for t in TOKENS) else "missing"
    status = vector_status(vec)
    n["http_status"] = status
    n["status"] = "error" if exp.get("error") is not None or status >= 400 else "ok"
    n["provider"] = PROVIDER[prov]
    n["http_method"] = (vec.get("method") or "POST").upper()
    n["server_address"] = urllib.parse.urlsplit(vec["url"]).hostname
    n["url_path"] = redact_url(sent_target(vec["url"]))
    n["api"], n["operation_type"] = API.get(vec["api"], (None, None))
    body = request_json(vec)
    for f, paths in REQUEST_PARAMS.items():
        n[f] = next((v for v in (dig(body, p) for p in paths) if v is not None), None)
    return n


# ------------------------------------------------------------------- checks
def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def same(got, want):
    if is_num(got) and is_num(want):
        return got == want
    return type(got) is type(want) and got == want


def show(v):
    s = json.dumps(v)
    return s if len(s) <= 120 else s[:100] + "...(%d chars)" % len(s)


class Ctx:
    """What the test knows beyond the vector (all optional)."""

    def __init__(self, sent_url=None, exe_prefix=None, extras=None, session_id=None,
                 capture_content=True):
        self.sent_url = sent_url
        self.exe_prefix = exe_prefix
        self.extras = extras  # expected extras object, or None for "any object"
        self.session_id = session_id
        self.capture_content = capture_content


def generic_problems(rec, ctx=None):
    """Checks every record passes whatever the call: (field, got, want) triples."""
    ctx = ctx or Ctx()
    p = []
    missing = [f for f in FIELDS if f not in rec]
    extra = [f for f in rec if f not in FIELDS]
    if missing:
        p.append(("(fields)", "missing " + ",".join(missing), "all schema fields present"))
    if extra:
        p.append(("(fields)", "unknown " + ",".join(extra), "only schema fields"))
    lat, ttfb, ttft = rec.get("latency_ms"), rec.get("ttfb_ms"), rec.get("ttft_ms")
    if not (isinstance(lat, float) and lat > 0):
        p.append(("latency_ms", lat, "a float > 0"))
    elif not (is_num(ttfb) and 0 <= ttfb <= lat):
        p.append(("ttfb_ms", ttfb, "a number in [0, latency_ms=%s]" % lat))
    elif ttft is not None and not (is_num(ttft) and ttfb <= ttft <= lat):
        p.append(("ttft_ms", ttft, "null or a number in [ttfb_ms=%s, latency_ms=%s]" % (ttfb, lat)))
    for f in ("timestamp", "end_timestamp"):
        if not (isinstance(rec.get(f), str) and TS.match(rec[f])):
            p.append((f, rec.get(f), "RFC 3339 UTC with microseconds, e.g. 2025-01-02T03:04:05.123456Z"))
    if isinstance(rec.get("end_timestamp"), str) and rec["end_timestamp"] < str(rec.get("timestamp")):
        p.append(("end_timestamp", rec["end_timestamp"], ">= timestamp " + str(rec.get("timestamp"))))
    if not same(rec.get("schema_version"), 2):
        p.append(("schema_version", rec.get("schema_version"), "2"))
    if rec.get("truncated") not in (False, None):
        p.append(("truncated", rec.get("truncated"), "false (small bodies)"))
    for f in ("request_bytes", "response_bytes"):
        if rec.get(f) is not None and not (is_int(rec[f]) and rec[f] >= 0):
            p.append((f, rec[f], "null or an integer >= 0"))
    if not (isinstance(rec.get("operation_id"), str) and rec["operation_id"]):
        p.append(("operation_id", rec.get("operation_id"), "a non-empty string"))
    for f in ("pid", "ppid"):
        if not (is_int(rec.get(f)) and rec[f] > 0):
            p.append((f, rec.get(f), "a positive integer"))
    exe = rec.get("exe")
    if not (isinstance(exe, str) and exe.startswith("/")):
        p.append(("exe", exe, "an absolute path"))
    elif ctx.exe_prefix and not os.path.basename(exe).startswith(ctx.exe_prefix):
        p.append(("exe", exe, "the %s executable" % ctx.exe_prefix))
    argv = rec.get("argv")
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        p.append(("argv", argv, "a non-empty array of strings"))
    if rec.get("hostname") != socket.gethostname():
        p.append(("hostname", rec.get("hostname"), json.dumps(socket.gethostname())))
    if ctx.extras is not None:
        if rec.get("extras") != ctx.extras:
            p.append(("extras", rec.get("extras"), json.dumps(ctx.extras)))
    elif not isinstance(rec.get("extras"), (dict, type(None))):
        p.append(("extras", rec.get("extras"), "an object or null"))
    if ctx.session_id is not None and rec.get("session_id") != ctx.session_id:
        p.append(("session_id", rec.get("session_id"), json.dumps(ctx.session_id)))
    if not (isinstance(rec.get("http_version"), str) and "1.1" in rec["http_version"]):
        p.append(("http_version", rec.get("http_version"), "HTTP/1.1"))
    if rec.get("capture") not in CAPTURES:
        p.append(("capture", rec.get("capture"), " or ".join(sorted(CAPTURES))))
    if not (is_int(rec.get("server_port")) and rec["server_port"] > 0):
        p.append(("server_port", rec.get("server_port"), "a port number"))
    if not (isinstance(rec.get("api"), str) and rec["api"]):
        p.append(("api", rec.get("api"), "the API name, e.g. openai.chat_completions"))
    if rec.get("operation_type") not in OPERATIONS:
        p.append(("operation_type", rec.get("operation_type"),
                  "an OpenTelemetry gen_ai.operation.name (%s)" % ", ".join(sorted(OPERATIONS))))
    return p


def expectation_problems(rec, name, vec, ctx=None):
    """Vector-specific checks: (field, got, want) triples."""
    ctx = ctx or Ctx()
    p = []
    n = normalised(vec)
    if ctx.sent_url:
        n["url_path"] = redact_url(sent_target(ctx.sent_url))
    accept = ACCEPT.get(name, {})
    for f in ("request_model", "response_model", "model", "stream", "finish_reason", *TOKENS,
              "usage_source", "status", "provider", "http_status", "http_method",
              "server_address", "url_path", "temperature", "top_p", "max_tokens"):
        ok = [n[f]] + [a for a in accept.get(f, []) if a != n[f]]
        if not any(same(rec.get(f), w) for w in ok):
            p.append((f, rec.get(f), " or ".join(json.dumps(w) for w in ok)))
    if rec.get("stream") is True and (rec.get("response") or rec.get("tool_calls")) and not is_num(
            rec.get("ttft_ms")):
        p.append(("ttft_ms", rec.get("ttft_ms"), "a number (a stream that produced output)"))
    for f in ("api", "operation_type"):
        if n[f] is not None and rec.get(f) != n[f]:
            p.append((f, rec.get(f), json.dumps(n[f])))
    if n["usage_source"] == "provider" and not isinstance(rec.get("usage_raw"), (dict, str)):
        p.append(("usage_raw", rec.get("usage_raw"), "the provider's usage object"))

    err = vec["expected"].get("error")
    if n["status"] == "error":
        err = err if isinstance(err, dict) else {}
        msg = err.get("message")
        got = rec.get("error_message")
        if not (isinstance(rec.get("error_type"), str) and rec["error_type"]) and not (
                isinstance(got, str) and got):
            p.append(("error_type/error_message", [rec.get("error_type"), got],
                      "at least one non-empty string"))
        if isinstance(msg, str) and msg:
            if not (isinstance(got, str) and got):
                p.append(("error_message", got, show(msg)))
            elif not (msg.startswith(got) or got.startswith(msg)):
                p.append(("error_message", got, show(msg) + " (or a prefix of it)"))
        kinds = [str(err[k]) for k in ("type", "code", "status") if err.get(k) not in (None, "")]
        kinds.append("http_%d" % n["http_status"])
        if len(kinds) > 1 and rec.get("error_type") not in kinds:
            p.append(("error_type", rec.get("error_type"), " or ".join(json.dumps(k) for k in kinds)))
    else:
        for f in ("error_type", "error_message"):
            if rec.get(f) is not None:
                p.append((f, rec.get(f), "null (the call succeeded)"))

    body = request_json(vec)
    if body is not None and ctx.capture_content:
        want = redact_json(body)
        got = rec.get("completion_args")
        try:
            got_j = json.loads(got) if isinstance(got, str) else got
        except ValueError:
            got_j = "(not JSON)"
        if got_j != want:
            p.append(("completion_args", got, "the request body as JSON, credentials redacted"))
    return p


def check_record(rec, name, vec, ctx=None):
    """Every problem of one record as 'field: got X, want Y' strings."""
    return ["%s: got %s, want %s" % (f, show(g), w)
            for f, g, w in generic_problems(rec, ctx) + expectation_problems(rec, name, vec, ctx)]


def compare_records(ref, rec):
    """Fields (outside VOLATILE) where two records of the same exchange differ.
    capture and server_port are compared only between records of the same
    executable: how the shim saw the call depends on the program (libcurl vs
    OpenSSL hooks), and the port comes from the socket when the shim has one
    (Python: the test server's port, reached through the resolver override),
    else from Host (443)."""
    skip = VOLATILE if rec.get("exe") == ref.get("exe") else VOLATILE | PER_PROGRAM
    return [(f, ref.get(f), rec.get(f)) for f in FIELDS
            if f not in skip and not same(rec.get(f), ref.get(f))]


def secret_pieces(s):
    """The secret and every 16-character window of it (catches partial masking)."""
    if len(s) <= 16:
        return [s]
    return [s] + [s[i:i + 16] for i in range(0, len(s) - 15)]


def scan_secrets(paths, secrets):
    """[(path, secret)] for every file holding a secret or a 16-char piece of one."""
    found = []
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        for s in secrets:
            if any(piece.encode() in data for piece in secret_pieces(s)):
                found.append((path, s))
    return found


def vector_of(rec, vecs):
    """The one name in vecs ({name: vector}) whose request body the record's
    completion_args holds, or None (none, or several, match)."""
    try:
        sent = json.loads(rec.get("completion_args") or "null")
    except ValueError:
        return None
    names = [n for n, v in vecs.items() if json.loads(v["request_body"]) == sent]
    return names[0] if len(names) == 1 else None


def load_vector(corpus, name):
    with open(os.path.join(corpus, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def read_export(path):
    recs = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if line.strip():
                try:
                    recs.append(json.loads(line))
                except ValueError as e:
                    raise SystemExit("%s:%d: not JSON: %s" % (path, i, e))
    return recs


# ---------------------------------------------------------------------- CLI
def cmd_check(a):
    recs = read_export(a.export)
    problems = ["secret %s...%s found in %s" % (s[:6], s[-4:], p)
                for p, s in scan_secrets([a.export], a.secret)]
    if not recs:
        problems.append("no records in %s" % a.export)
    for i, rec in enumerate(recs):
        name = a.vector or (rec.get("extras") or {}).get("vector")
        if not name:
            problems.append("record #%d: no --vector and no extras.vector" % i)
            continue
        for pr in check_record(rec, name, load_vector(a.corpus, name)):
            problems.append("record #%d (%s): %s" % (i, name, pr))
    for pr in problems:
        print("  " + pr, file=sys.stderr)
    print("corpus_expect: %d record(s), %d problem(s)" % (len(recs), len(problems)), file=sys.stderr)
    return 1 if problems else 0


def cmd_report(a):
    calls = []  # (run, vector, sent_url, {field: wire bytes})
    with open(a.calls) as f:
        for line in f:
            parts = line.split() + [None] * 5
            if parts[0]:
                sizes = {f: int(n) for f, n in (("request_bytes", parts[3]),
                         ("response_bytes", parts[4])) if n and n.isdigit()}
                calls.append((parts[0], parts[1], parts[2], sizes))
    runs = list(dict.fromkeys(c[0] for c in calls))
    vectors = sorted(set(c[1] for c in calls))
    by_key, stray = {}, []
    recs = read_export(a.export)
    for rec in recs:
        x = rec.get("extras") or {}
        by_key.setdefault((x.get("run"), x.get("vector")), []).append(rec)
    known = {(c[0], c[1]) for c in calls}
    stray = [k for k in by_key if k not in known]

    result, details = {}, {}  # (run, vector) -> PASS/FAIL/SKIP; vector -> {problem: [runs]}
    for run, name, sent_url, sizes in calls:
        vec = load_vector(a.corpus, name)
        got = by_key.get((run, name), [])
        probs = []
        if not got:
            if name in a.optional:
                result[run, name] = "SKIP"
                continue
            probs.append("no record (server sent %d, %s)" % (vector_status(vec), vec["url"]))
        elif len(got) > 1:
            probs.append("%d records for one call" % len(got))
        else:
            rec = got[0]
            ctx = Ctx(sent_url=sent_url, extras={"run": run, "vector": name})
            probs += check_record(rec, name, vec, ctx)
            for f, n in sizes.items():
                if not same(rec.get(f), n):
                    probs.append("%s: got %s, want %d (body bytes on the wire, before decoding)"
                                 % (f, show(rec.get(f)), n))
            ref = by_key.get((a.reference, name))
            if run != a.reference and ref and len(ref) == 1:
                for f, want, g in compare_records(ref[0], rec):
                    probs.append("%s: got %s, but the %s run recorded %s"
                                 % (f, show(g), a.reference, show(want)))
        result[run, name] = "FAIL" if probs else "PASS"
        for pr in probs:
            details.setdefault(name, {}).setdefault(pr, []).append(run)

    w = max(len(v) for v in vectors)
    cols = [max(len(r), 4) for r in runs]
    print("%-*s  %s" % (w, "vector", "  ".join("%-*s" % (c, r) for c, r in zip(cols, runs))))
    for v in vectors:
        cells = [result.get((r, v), "-") for r in runs]
        print("%-*s  %s" % (w, v, "  ".join("%-*s" % (c, x) for c, x in zip(cols, cells))))
    nfail = sum(1 for v in vectors if any(result.get((r, v)) == "FAIL" for r in runs))
    nskip = sum(1 for v in vectors if all(result.get((r, v), "SKIP") in ("SKIP", "-") for r in runs)
                and any(result.get((r, v)) == "SKIP" for r in runs))
    if details:
        print("\nfailures (vector: [runs] field: got, want):")
        for v in sorted(details):
            for pr, rs in details[v].items():
                tag = "all runs" if len(rs) == len([r for r in runs if (r, v) in result]) else ",".join(rs)
                print("  %s [%s] %s" % (v, tag, pr))
    problems = []
    for s in a.secret:
        for p, _ in scan_secrets([a.export], [s]):
            problems.append("secret %s...%s found in %s" % (s[:6], s[-4:], p))
    for k in stray:
        problems.append("%d record(s) for no call: run=%s vector=%s" % ((len(by_key[k]),) + k))
    ids = [r.get("operation_id") for r in recs]
    if len(set(ids)) != len(ids):
        problems.append("operation_id values are not unique")
    for pr in problems:
        print("  " + pr)
    print("\n%d vectors: %d PASS, %d FAIL, %d SKIP; %d calls, %d records"
          % (len(vectors), len(vectors) - nfail - nskip, nfail, nskip, len(calls), len(recs)))
    return 1 if nfail or problems else 0


def cmd_scan(a):
    found = scan_secrets(a.files, a.secret)
    for p, s in found:
        print("secret %s...%s found in %s" % (s[:6], s[-4:], p), file=sys.stderr)
    return 1 if found else 0


def cmd_show(a):
    print(json.dumps(normalised(load_vector(a.corpus, a.vector)), indent=1))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("export")
    c.add_argument("--corpus", required=True)
    c.add_argument("--vector")
    c.add_argument("--secret", action="append", default=[])
    c.set_defaults(fn=cmd_check)
    r = sub.add_parser("report")
    r.add_argument("export")
    r.add_argument("--corpus", required=True)
    r.add_argument("--calls", required=True)
    r.add_argument("--reference", default="plain")
    r.add_argument("--optional", action="append", default=[])
    r.add_argument("--secret", action="append", default=[])
    r.set_defaults(fn=cmd_report)
    s = sub.add_parser("scan")
    s.add_argument("files", nargs="+")
    s.add_argument("--secret", action="append", default=[], required=True)
    s.set_defaults(fn=cmd_scan)
    w = sub.add_parser("show")
    w.add_argument("vector")
    w.add_argument("--corpus", required=True)
    w.set_defaults(fn=cmd_show)
    a = ap.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
