"""What `llmops stats` must print, computed independently from an NDJSON export.

Used by test_cli.sh, test_filters.sh and test_stats.sh. The per-record cost
is the export's cost_usd (test_cost.sh checks those against hand-computed
values); everything else - grouping, sums, nearest-rank percentiles, output
speed, the table layout and the footer ("no price for" lines, the share priced) - is
recomputed here.

  stats_expect.py NDJSON STATS_OUTPUT [KEY,KEY...]   exit 1 on a mismatch
"""
import json
import sys

FIELDS = {"provider": "provider", "model": "model", "agent": "agent_id", "session": "session_id",
          "exe": "exe", "day": "timestamp", "workspace": "workspace"}
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
          "reasoning_tokens")
HEADS = ["CALLS", "ERRORS", "INPUT", "OUTPUT", "CACHE_READ", "CACHE_WRITE", "REASONING",
         "COST_USD", "P50_MS", "P95_MS", "P99_MS", "TTFT_P50_MS", "OUT_TOK_S"]


def nearest_rank(values, pct):
    if not values:
        return None
    values = sorted(values)
    return values[-(-pct * len(values) // 100) - 1]


def key_value(r, k):
    v = r[FIELDS[k]]
    return v[:10] if v is not None and k == "day" else v


def groups(rows, by=("provider", "model")):
    """{key tuple (None for unknown): stats dict}, and {provider/model: unpriced calls}."""
    out, unpriced = {}, {}
    for r in rows:
        key = tuple(key_value(r, k) for k in by)
        g = out.setdefault(key, {"calls": 0, "errors": 0, "tokens": [0] * 5, "cost": 0.0,
                                 "priced": 0, "unpriced": 0, "lat": [], "ttft": [],
                                 "speed_tok": 0.0, "speed_s": 0.0})
        g["calls"] += 1
        g["errors"] += r["status"] != "ok"
        for i, f in enumerate(TOKENS):
            g["tokens"][i] += r[f] or 0
        if r["cost_usd"] is not None:
            g["cost"] += r["cost_usd"]
            g["priced"] += 1
        elif r["input_tokens"] is not None or r["output_tokens"] is not None:
            g["unpriced"] += 1
            name = "%s/%s" % (r["provider"] or "-", r["model"] or "-")
            unpriced[name] = unpriced.get(name, 0) + 1
        if r["latency_ms"] is not None:
            g["lat"].append(r["latency_ms"])
        if r["ttft_ms"] is not None:
            g["ttft"].append(r["ttft_ms"])
        if r["output_tokens"] is not None and r["latency_ms"] is not None:
            ms = r["latency_ms"]
            if r["stream"] is True and r["ttft_ms"] is not None:
                ms -= r["ttft_ms"]
            if ms > 0:
                g["speed_tok"] += r["output_tokens"]
                g["speed_s"] += ms / 1000
    return out, unpriced


def table(rows, by=("provider", "model")):
    """The table's lines, each split on whitespace; the footer as its lines."""
    gs, unpriced = groups(rows, by)
    fmt = lambda v, f="%.1f": "-" if v is None else f % v
    want = [[k.upper() for k in by] + HEADS]
    for key, g in sorted(gs.items(), key=lambda kv: ["-" if v is None else v for v in kv[0]]):
        want.append(["-" if v is None else v for v in key] + [
            str(g["calls"]), str(g["errors"])] + [str(t) for t in g["tokens"]] + [
            fmt(g["cost"] if g["priced"] else None, "%.6f"),
            fmt(nearest_rank(g["lat"], 50)), fmt(nearest_rank(g["lat"], 95)),
            fmt(nearest_rank(g["lat"], 99)), fmt(nearest_rank(g["ttft"], 50)),
            fmt(g["speed_tok"] / g["speed_s"] if g["speed_s"] > 0 else None)])
    footer = [["no", "price", "for:", name, "(%d" % n, "call)" if n == 1 else "calls)"]
              for name, n in sorted(unpriced.items())]
    priced = sum(g["priced"] for g in gs.values())
    usage = priced + sum(g["unpriced"] for g in gs.values())
    if usage:  # the share of the calls with token counts that are priced
        footer.append(["priced:", str(priced), "of", str(usage), "call" if usage == 1 else "calls",
                       "with", "token", "counts", "(%.1f%%)" % (100.0 * priced / usage)])
    return want + ([[]] + footer if footer else [])


def check(ndjson, output, by=("provider", "model")):
    rows = [json.loads(l) for l in open(ndjson)]
    want = table(rows, by)
    lines = open(output).read().splitlines()
    got = [l.split() for l in lines]
    if got != want:
        sys.exit("stats mismatch:\n got %s\nwant %s" % (got, want))
    body = lines[:len(groups(rows, by)[0]) + 1]
    if len({len(l) for l in body}) != 1:  # right-aligned last column: equal widths
        sys.exit("stats columns are not aligned:\n" + "\n".join(lines))
    return "%d groups, %d calls" % (len(body) - 1, len(rows))


if __name__ == "__main__":
    by = tuple(sys.argv[3].split(",")) if len(sys.argv) > 3 else ("provider", "model")
    print(check(sys.argv[1], sys.argv[2], by))
