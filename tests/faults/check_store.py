#!/usr/bin/python3
"""Checks an NDJSON export made by the fault and load tests.

usage: check_store.py --corpus DIR EXPORT [checks...]

Every record names its call in extras.vector (fault_client.py sends
X-LLMOps-Extra-Vector). Checks, each optional:
  --count N        exactly N records
  --pids N         from exactly N distinct processes
  --valid          every record passes tests/e2e/corpus_expect.py's check
                   for its vector (complete, correct, tokens exact)
  --valid-ok       the same for records whose status is not "incomplete";
                   incomplete ones must say capture_lost (or be truncated)
  --tokens-only    with --valid: check only status, usage and tokens (for
                   records whose content was cut on purpose)
  --plan V,V,..xN  the calls made: N calls cycling through the vectors; may
                   be repeated (one per process). The records per vector and
                   the sums of input and output tokens must equal the plan's,
                   with the vectors' normalised expectations
  --superset FILE  every operation_id of the export FILE is still present
  --need-calls I,J calls I and J (extras.call, fault_client.py's index) have
                   a record whose status is not "incomplete" (with --valid-ok,
                   a valid one)
Prints one summary line; the problems (at most 20) on stderr; exit 1 if any.
"""
import argparse
import collections
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import corpus_expect  # noqa: E402


def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("export")
    ap.add_argument("--count", type=int)
    ap.add_argument("--pids", type=int)
    ap.add_argument("--valid", action="store_true")
    ap.add_argument("--valid-ok", action="store_true")
    ap.add_argument("--tokens-only", action="store_true")
    ap.add_argument("--plan", action="append", default=[])
    ap.add_argument("--superset")
    ap.add_argument("--need-calls")
    a = ap.parse_args()

    recs = read(a.export)
    problems = []
    vecs = {}

    def vector(name):
        if name not in vecs:
            vecs[name] = corpus_expect.load_vector(a.corpus, name)
        return vecs[name]

    if a.count is not None and len(recs) != a.count:
        problems.append("%d records, want %d" % (len(recs), a.count))
    pids = {r.get("pid") for r in recs}
    if a.pids is not None and len(pids) != a.pids:
        problems.append("records from %d processes, want %d" % (len(pids), a.pids))
    ids = [r.get("operation_id") for r in recs]
    if len(set(ids)) != len(ids):
        problems.append("%d duplicate operation_ids" % (len(ids) - len(set(ids))))

    incomplete = 0
    for i, r in enumerate(recs):
        name = (r.get("extras") or {}).get("vector")
        if not name:
            problems.append("record #%d %s: no extras.vector" % (i, r.get("operation_id")))
            continue
        if a.valid_ok and r.get("status") == "incomplete":
            incomplete += 1
            if r.get("error_type") != "capture_lost" and not r.get("truncated"):
                problems.append("record #%d (%s): incomplete with error_type %r, want "
                                "capture_lost or truncated" % (i, name, r.get("error_type")))
            continue
        if not (a.valid or a.valid_ok):
            continue
        if a.tokens_only:
            n = corpus_expect.normalised(vector(name))
            for f in ("status", "usage_source") + corpus_expect.TOKENS:
                if not corpus_expect.same(r.get(f), n[f]):
                    problems.append("record #%d (%s): %s: got %r, want %r" %
                                    (i, name, f, r.get(f), n[f]))
            continue
        for p in corpus_expect.check_record(r, name, vector(name)):
            problems.append("record #%d (%s): %s" % (i, name, p))

    if a.plan:
        want = collections.Counter()
        for spec in a.plan:
            names, _, n = spec.rpartition("x")
            names = names.split(",")
            for k in range(int(n)):
                want[names[k % len(names)]] += 1
        got = collections.Counter((r.get("extras") or {}).get("vector") for r in recs)
        for name in sorted(set(want) | set(got), key=str):
            if want[name] != got[name]:
                problems.append("vector %s: %d records, want %d" % (name, got[name], want[name]))
        for f in ("input_tokens", "output_tokens"):
            w = sum((corpus_expect.normalised(vector(v))[f] or 0) * k for v, k in want.items())
            g = sum(r.get(f) or 0 for r in recs)
            if g != w:
                problems.append("sum of %s: %d, want %d" % (f, g, w))
            else:
                print("sum of %s: %d (as planned)" % (f, g))

    if a.need_calls:
        done = {(r.get("extras") or {}).get("call") for r in recs if r.get("status") != "incomplete"}
        for c in a.need_calls.split(","):
            if c not in done:
                problems.append("call %s has no complete record" % c)

    if a.superset:
        have = set(ids)
        gone = [r["operation_id"] for r in read(a.superset) if r["operation_id"] not in have]
        if gone:
            problems.append("%d committed records disappeared, e.g. %s" % (len(gone), gone[0]))

    print("check_store: %d records, %d processes, %d incomplete, %d problems" %
          (len(recs), len(pids), incomplete, len(problems)))
    for p in problems[:20]:
        print("  " + p, file=sys.stderr)
    if len(problems) > 20:
        print("  ... and %d more" % (len(problems) - 20), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
