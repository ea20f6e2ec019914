// otlp.mjs: the OpenTelemetry side of tests/tools/test_otlp.sh.
//
//   node otlp.mjs receive PORTFILE DIR [--fail 503,429,...] [--port P]
//     an OTLP/HTTP receiver on a free loopback port (written to PORTFILE).
//     Each POST /v1/traces or /v1/metrics body (OTLP/JSON) is decoded with
//     the official opentelemetry-proto definitions (the protobufjs code that
//     @opentelemetry/otlp-transformer 0.52.1 generates from them): every key
//     must be a field of its message, the message must verify and survive a
//     protobuf encode/decode. Accepted bodies are appended to DIR/traces.jsonl
//     or DIR/metrics.jsonl and their headers to DIR/headers.jsonl; a body
//     that does not decode gets 400 (DIR/errors.log). With --fail, the first
//     trace requests are answered with those statuses instead (each logged to
//     DIR/refused.log) before requests are accepted.
//   node otlp.mjs check RECORDS.ndjson TRACES.jsonl [METRICS.jsonl]
//     every record (the NDJSON export) has exactly one span, with exactly the
//     attributes, ids, times and status the GenAI semantic conventions
//     mapping gives (tools/otlp.c), and the resource of its process; the
//     metrics' token and duration histograms add up to the records'.
//     Prints "spans=N ids=FILE-less summary"; exit 1 with the problems.
import { createRequire } from "node:module";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";

const require = createRequire(new URL("../node/package.json", import.meta.url));
const root = require("@opentelemetry/otlp-transformer/build/src/generated/root.js");
const P = root.opentelemetry.proto;
const TraceReq = P.collector.trace.v1.ExportTraceServiceRequest;
const MetricsReq = P.collector.metrics.v1.ExportMetricsServiceRequest;

const HEX_IDS = { traceId: 32, spanId: 16, parentSpanId: 16 };

// OTLP/JSON -> the protobuf JSON mapping protobufjs takes (ids hex -> base64)
function toProtoJson(v, problems, path = "") {
  if (Array.isArray(v)) return v.map((x, i) => toProtoJson(x, problems, `${path}[${i}]`));
  if (v === null || typeof v !== "object") return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) {
    if (k in HEX_IDS) {
      if (typeof x !== "string" || !new RegExp(`^[0-9a-f]{${HEX_IDS[k]}}$`).test(x) || /^0+$/.test(x))
        problems.push(`${path}.${k}: not ${HEX_IDS[k]} lower-case hex digits, not all zero: ${x}`);
      out[k] = Buffer.from(String(x), "hex").toString("base64");
    } else out[k] = toProtoJson(x, problems, `${path}.${k}`);
  }
  return out;
}

// every key of the JSON is a field of the message protobufjs made of it
function strictKeys(json, msg, problems, path = "") {
  if (json === null || typeof json !== "object" || msg === null || typeof msg !== "object") return;
  if (Array.isArray(json)) {
    json.forEach((x, i) => strictKeys(x, msg[i], problems, `${path}[${i}]`));
    return;
  }
  const proto = Object.getPrototypeOf(msg);
  for (const k of Object.keys(json)) {
    if (!(k in proto) && !(k in msg)) problems.push(`${path}.${k}: no such field`);
    else strictKeys(json[k], msg[k], problems, `${path}.${k}`);
  }
}

function decode(Type, text) {
  const problems = [];
  let json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { problems: [`not JSON: ${e.message}`] };
  }
  const pj = toProtoJson(json, problems);
  const msg = Type.fromObject(pj);
  const err = Type.verify(msg);
  if (err) problems.push(`verify: ${err}`);
  strictKeys(pj, msg, problems);
  const again = Type.toObject(Type.decode(Type.encode(msg).finish()), { longs: String, bytes: String });
  if (JSON.stringify(again) !== JSON.stringify(Type.toObject(msg, { longs: String, bytes: String })))
    problems.push("changed by a protobuf round trip");
  return { problems, json };
}

function receive(portFile, dir, failArg, port) {
  const fails = failArg ? failArg.split(",").map(Number) : [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const Type = req.url === "/v1/traces" ? TraceReq : req.url === "/v1/metrics" ? MetricsReq : null;
      if (req.method !== "POST" || !Type) {
        res.writeHead(404).end();
        return;
      }
      if (Type === TraceReq && fails.length) {
        const status = fails.shift();
        appendFileSync(`${dir}/refused.log`, `${status}\n`);
        res.writeHead(status, status === 429 ? { "Retry-After": "1" } : {}).end();
        return;
      }
      const { problems } = decode(Type, body);
      if (req.headers["content-type"] !== "application/json")
        problems.push(`content-type ${req.headers["content-type"]}`);
      if (problems.length) {
        appendFileSync(`${dir}/errors.log`, `${req.url}: ${problems.slice(0, 10).join("; ")}\n`);
        res.writeHead(400, { "Content-Type": "application/json" }).end('{"message":"bad request"}');
        return;
      }
      appendFileSync(`${dir}/${Type === TraceReq ? "traces" : "metrics"}.jsonl`, body.replace(/\n/g, "") + "\n");
      appendFileSync(`${dir}/headers.jsonl`, JSON.stringify(req.headers) + "\n");
      res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
    });
  });
  server.listen(port || 0, "127.0.0.1", () => writeFileSync(portFile, String(server.address().port)));
}

// ------------------------------------------------------------------ check
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
function ulidHex(s) {
  let n = 0n;
  for (const c of s) n = n * 32n + BigInt(CROCKFORD.indexOf(c));
  return n.toString(16).padStart(32, "0");
}
function nanos(t) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z$/.exec(t || "");
  if (!m) return null;
  const s = BigInt(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000);
  return s * 1000000000n + BigInt((m[7] || "").padEnd(6, "0")) * 1000n;
}
function anyValue(v) {
  if ("stringValue" in v) return v.stringValue;
  if ("intValue" in v) return `int:${v.intValue}`;
  if ("doubleValue" in v) return Number(Number(v.doubleValue).toPrecision(15));
  if ("boolValue" in v) return v.boolValue;
  if ("arrayValue" in v) return (v.arrayValue.values || []).map(anyValue);
  return { unknown: v };
}
const attrMap = (list) => Object.fromEntries((list || []).map((a) => [a.key, anyValue(a.value)]));

function expectedAttrs(r) {
  const a = {};
  const s = (k, v) => { if (typeof v === "string" && v !== "") a[k] = v; };
  const i = (k, v) => { if (Number.isInteger(v)) a[k] = `int:${v}`; };
  const d = (k, v) => { if (typeof v === "number") a[k] = Number(v.toPrecision(15)); };
  const err = r.status === "error" || r.status === "incomplete";
  s("gen_ai.operation.name", r.operation_type);
  s("gen_ai.provider.name", r.provider);
  s("gen_ai.request.model", r.request_model);
  s("gen_ai.response.model", r.response_model);
  s("server.address", r.server_address);
  i("server.port", r.server_port);
  if (err) a["error.type"] = r.error_type || "_OTHER";
  d("gen_ai.request.temperature", r.temperature);
  i("gen_ai.request.max_tokens", r.max_tokens);
  d("gen_ai.request.top_p", r.top_p);
  i("gen_ai.usage.input_tokens", r.input_tokens);
  i("gen_ai.usage.output_tokens", r.output_tokens);
  i("gen_ai.usage.cache_read.input_tokens", r.cache_read_tokens);
  i("gen_ai.usage.cache_creation.input_tokens", r.cache_write_tokens);
  i("gen_ai.usage.reasoning.output_tokens", r.reasoning_tokens);
  if (r.finish_reason) a["gen_ai.response.finish_reasons"] = [r.finish_reason];
  i("http.response.status_code", r.http_status);
  s("llmops.operation_id", r.operation_id);
  d("llmops.cost_usd", r.cost_usd);
  d("llmops.ttft_ms", r.ttft_ms);
  s("llmops.api", r.api);
  s("llmops.capture", r.capture);
  s("llmops.status", r.status);
  s("llmops.workspace", r.workspace);
  s("llmops.agent_id", r.agent_id);
  s("llmops.action_id", r.action_id);
  s("llmops.session_id", r.session_id);
  s("session.id", r.session_id);
  s("gen_ai.agent.id", r.agent_id);
  s("url.path", r.url_path);
  s("http.request.method", r.http_method);
  let args = null;
  try { args = r.completion_args ? JSON.parse(r.completion_args) : null; } catch { args = null; }
  const msgs = args && typeof args === "object" ? (args.messages ?? args.input ?? args.contents) : undefined;
  if (msgs !== undefined && msgs !== null) a["gen_ai.input.messages"] = { json: msgs };
  if (r.response) {
    const m = { role: "assistant", parts: [{ type: "text", content: r.response }] };
    if (r.finish_reason) m.finish_reason = r.finish_reason;
    a["gen_ai.output.messages"] = { json: [m] };
  }
  return a;
}

function deepEqual(x, y) {
  return JSON.stringify(x) === JSON.stringify(y);
}

function check(ndjson, tracesFile, metricsFile) {
  const problems = [];
  const p = (w) => { if (problems.length < 40) problems.push(w); };
  const recs = readFileSync(ndjson, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const spans = new Map();
  let requests = 0;
  for (const line of readFileSync(tracesFile, "utf8").split("\n").filter(Boolean)) {
    const { problems: dp, json } = decode(TraceReq, line);
    dp.forEach((x) => p(`request ${requests}: ${x}`));
    requests++;
    for (const rs of json.resourceSpans || [])
      for (const ss of rs.scopeSpans || []) {
        if (ss.scope?.name !== "llmops") p(`scope ${JSON.stringify(ss.scope)}`);
        for (const sp of ss.spans || []) {
          const op = attrMap(sp.attributes)["llmops.operation_id"];
          if (spans.has(op)) p(`${op}: span received twice`);
          spans.set(op, { sp, res: attrMap(rs.resource?.attributes) });
        }
      }
  }
  const ids = new Set();
  const svc = process.env.OTEL_SERVICE_NAME;
  let parented = 0;
  for (const r of recs) {
    const got = spans.get(r.operation_id);
    if (!got) { p(`${r.operation_id}: no span`); continue; }
    spans.delete(r.operation_id);
    const { sp, res } = got;
    const want = expectedAttrs(r);
    const have = attrMap(sp.attributes);
    for (const k of new Set([...Object.keys(want), ...Object.keys(have)])) {
      let w = want[k], h = have[k];
      if (w && typeof w === "object" && "json" in w) {
        try { h = { json: JSON.parse(h) }; } catch { h = { bad: h }; }
      }
      if (!deepEqual(w, h)) p(`${r.operation_id} ${k}: span ${JSON.stringify(h)?.slice(0, 120)}, record ${JSON.stringify(w)?.slice(0, 120)}`);
    }
    const model = r.request_model || r.model;
    const name = `${r.operation_type || "llm"}${model ? " " + model : ""}`;
    if (sp.name !== name) p(`${r.operation_id} name ${sp.name}, want ${name}`);
    if (sp.kind !== 3) p(`${r.operation_id} kind ${sp.kind}`);
    const start = nanos(r.timestamp);
    const end = nanos(r.end_timestamp) ?? start + BigInt(Math.trunc((r.latency_ms ?? 0) * 1e6));
    if (String(start) !== sp.startTimeUnixNano) p(`${r.operation_id} start ${sp.startTimeUnixNano}, want ${start}`);
    if (String(end) !== sp.endTimeUnixNano) p(`${r.operation_id} end ${sp.endTimeUnixNano}, want ${end}`);
    if (r.trace_id) {
      parented++;
      if (sp.traceId !== r.trace_id) p(`${r.operation_id} traceId ${sp.traceId}, want ${r.trace_id}`);
      if (sp.parentSpanId !== r.parent_span_id) p(`${r.operation_id} parentSpanId ${sp.parentSpanId}, want ${r.parent_span_id}`);
      if ((sp.traceState ?? null) !== r.trace_state) p(`${r.operation_id} traceState ${sp.traceState}`);
    } else {
      if (sp.traceId !== ulidHex(r.operation_id)) p(`${r.operation_id} traceId ${sp.traceId}, want the ULID's bytes`);
      if ("parentSpanId" in sp || "traceState" in sp) p(`${r.operation_id}: a root span with a parent`);
    }
    if (ids.has(sp.spanId)) p(`${r.operation_id}: span id ${sp.spanId} used twice`);
    ids.add(sp.spanId);
    const err = r.status === "error" || r.status === "incomplete";
    const st = sp.status;
    if (err ? !(st && st.code === 2 && st.message === (r.error_message || r.error_type || "_OTHER")) : st)
      p(`${r.operation_id} status ${JSON.stringify(st)} for ${r.status}`);
    const exe = r.exe || null;
    const wantRes = {
      "service.name": svc || (exe ? exe.replace(/.*\//, "") : "unknown_service"),
      ...(r.hostname ? { "host.name": r.hostname } : {}),
      ...(Number.isInteger(r.pid) ? { "process.pid": `int:${r.pid}` } : {}),
      ...(Number.isInteger(r.ppid) ? { "process.parent_pid": `int:${r.ppid}` } : {}),
      ...(exe ? { "process.executable.path": exe } : {}),
      ...(Array.isArray(r.argv) ? { "process.command_args": r.argv } : {}),
    };
    if (!deepEqual(Object.entries(res).sort(), Object.entries(wantRes).sort()))
      p(`${r.operation_id} resource ${JSON.stringify(res)}, want ${JSON.stringify(wantRes)}`);
  }
  for (const op of spans.keys()) p(`span ${op} has no record`);
  let metricsNote = "";
  if (metricsFile) {
    const sums = { input: 0, output: 0 }, want = { input: 0, output: 0 };
    let durations = 0, wantDurations = 0;
    for (const line of readFileSync(metricsFile, "utf8").split("\n").filter(Boolean)) {
      const { problems: dp, json } = decode(MetricsReq, line);
      dp.forEach((x) => p(`metrics: ${x}`));
      for (const rm of json.resourceMetrics || [])
        for (const sm of rm.scopeMetrics || [])
          for (const m of sm.metrics || [])
            for (const dpnt of m.histogram?.dataPoints || []) {
              const buckets = dpnt.bucketCounts.map(Number).reduce((x, y) => x + y, 0);
              if (buckets !== Number(dpnt.count) || dpnt.bucketCounts.length !== dpnt.explicitBounds.length + 1)
                p(`${m.name}: buckets ${dpnt.bucketCounts} for count ${dpnt.count}`);
              if (m.histogram.aggregationTemporality !== 1) p(`${m.name}: not delta`);
              const at = attrMap(dpnt.attributes);
              if (m.name === "gen_ai.client.token.usage" && m.unit === "{token}") sums[at["gen_ai.token.type"]] += dpnt.sum;
              else if (m.name === "gen_ai.client.operation.duration" && m.unit === "s") durations += Number(dpnt.count);
              else p(`metric ${m.name} ${m.unit}`);
            }
    }
    for (const r of recs) {
      want.input += r.input_tokens ?? 0;
      want.output += r.output_tokens ?? 0;
      if (typeof r.latency_ms === "number") wantDurations++;
    }
    if (!deepEqual(sums, want)) p(`token usage sums ${JSON.stringify(sums)}, records ${JSON.stringify(want)}`);
    if (durations !== wantDurations) p(`duration points ${durations}, records with a latency ${wantDurations}`);
    metricsNote = `, metrics: ${want.input}+${want.output} tokens, ${durations} durations`;
  }
  if (problems.length) {
    console.error(`otlp check: ${problems.length} problem(s):\n  ` + problems.join("\n  "));
    process.exit(1);
  }
  console.log(`${recs.length} records = ${ids.size} spans in ${requests} requests (${parented} in a caller's trace)${metricsNote}`);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "receive") {
  const opt = (name) => (args.indexOf(name) > 1 ? args[args.indexOf(name) + 1] : null);
  receive(args[0], args[1], opt("--fail"), Number(opt("--port")) || 0);
}
else if (mode === "check") check(args[0], args[1], args[2]);
else {
  console.error("usage: otlp.mjs receive PORTFILE DIR [--fail S,...] | check RECORDS.ndjson TRACES.jsonl [METRICS.jsonl]");
  process.exit(2);
}
