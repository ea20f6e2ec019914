#!/usr/bin/python3
"""Check an `llmops export --format ndjson` file against corpus vectors.

usage: check_records.py EXPORT --corpus DIR [--secret S ...] [--extras JSON]
                        [--session-id ID] [--exe-suffix NAME] VECTOR[=COUNT] ...

The VECTOR arguments list the calls the test made, in order (NAME=3: three
consecutive calls of that vector). Records are sorted by timestamp and matched
to the calls one to one; the number of records must equal the number of calls.
Each record is checked by corpus_expect.check_record (the vector's `expected`
under the record's normalised semantics, the request that was sent, and the
checks every record passes). Every mismatch is printed; exit status 1 if
there was any.
"""
import argparse
import json
import os
import sys

import corpus_expect as ce


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
    problems = ["secret %s...%s found in the export" % (s[:8], s[-4:])
                for _, s in ce.scan_secrets([args.export], [s for s in args.secret if s])]
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
        ctx = ce.Ctx(exe_prefix=args.exe_suffix, session_id=args.session_id,
                     extras=json.loads(args.extras) if args.extras is not None else None)
        for i, (rec, name) in enumerate(zip(records, calls)):
            for p in ce.check_record(rec, name, vectors[name], ctx):
                problems.append("record #%d (%s): %s" % (i, name, p))
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
