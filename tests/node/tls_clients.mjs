// Node's own HTTPS clients against the local replay servers, for the inline
// hooks on node's statically linked OpenSSL (tests/e2e/test_node_https.sh).
// Every host name resolves to 127.0.0.1 here; the CA comes from
// NODE_EXTRA_CA_CERTS. Output is deterministic (status, body length, a
// digest), so it can be compared with and without the shim.
//
// usage: node tls_clients.mjs SCENARIO PORT [CORPUS]
//   fetch    fetch() of openai_chat_nostream_1
//   https    https.request twice on one keep-alive connection (chat, then a stream)
//   h2       node:http2 (ALPN h2) to h2_server.py: two streams at once
//   cut      a streamed call dropped by the client after its first piece
//   workers  4 worker threads, 2 fetch() calls each
//   child    a child process (child_process) running `fetch`
import crypto from "node:crypto";
import dns from "node:dns";
import fs from "node:fs";
import http2 from "node:http2";
import https from "node:https";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";

const lookup = dns.lookup;
dns.lookup = (host, o, cb) => lookup("127.0.0.1", o, cb);
const self = fileURLToPath(import.meta.url);
const [scenario, port, corpus = path.join(path.dirname(self), "../corpus")] =
  isMainThread ? process.argv.slice(2) : workerData;
const vec = (n) => JSON.parse(fs.readFileSync(path.join(corpus, `${n}.json`), "utf8"));
const digest = (s) => crypto.createHash("sha256").update(s).digest("hex").slice(0, 16);
// in a worker the line goes to the main thread, which prints them sorted
const show = (name, status, body) => {
  const line = `${name} ${status} ${body.length} ${digest(body)}`;
  if (isMainThread) console.log(line);
  else parentPort.postMessage(line);
};

async function viaFetch(name) {
  const v = vec(name);
  const r = await fetch(`https://api.openai.com:${port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-test-vector": name },
    body: v.request_body,
  });
  show(name, r.status, await r.text());
}

function request(agent, name, extra = {}, onData) {
  const v = vec(name);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: "api.openai.com", port: Number(port), path: "/v1/chat/completions", method: "POST",
      agent, headers: { "content-type": "application/json", "x-test-vector": name, ...extra },
    }, (res) => {
      let body = "";
      res.on("data", (c) => { body += c; if (onData) onData(req, res); });
      res.on("end", () => resolve([res.statusCode, body, req.reusedSocket]));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(v.request_body);
  });
}

const scenarios = {
  fetch: () => viaFetch("openai_chat_nostream_1"),
  async https() {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    for (const name of ["openai_chat_nostream_1", "openai_chat_stream_2"]) {
      const [status, body, reused] = await request(agent, name);
      show(name, status, body);
      console.log(`reused ${reused}`);
    }
    agent.destroy();
  },
  async h2() {
    const s = http2.connect(`https://api.openai.com:${port}`);
    const one = (name) => new Promise((resolve, reject) => {
      const req = s.request({ ":method": "POST", ":path": "/v1/chat/completions",
        "content-type": "application/json", "x-test-vector": name });
      let status = 0, body = "";
      req.on("response", (h) => { status = h[":status"]; });
      req.setEncoding("utf8");
      req.on("data", (c) => { body += c; });
      req.on("end", () => resolve([name, status, body]));
      req.on("error", reject);
      req.end(vec(name).request_body);
    });
    const all = await Promise.all(["openai_chat_nostream_1", "openai_chat_stream_2"].map(one));
    console.log(`alpn ${s.alpnProtocol}`);
    for (const [name, status, body] of all) show(name, status, body);
    s.close();
  },
  async cut() {
    // the server sends 40-byte pieces 100 ms apart; we hang up after the first
    await new Promise((resolve) => {
      const req = https.request({
        host: "api.openai.com", port: Number(port), path: "/v1/chat/completions", method: "POST",
        agent: false, headers: { "content-type": "application/json",
          "x-test-vector": "openai_chat_stream_2", "x-test-chunk": "40", "x-test-delay-ms": "100" },
      }, (res) => {
        res.once("data", () => { console.log(`cut ${res.statusCode}`); req.destroy(); resolve(); });
      });
      req.on("error", () => {});
      req.end(vec("openai_chat_stream_2").request_body);
    });
  },
  async workers() {
    const lines = [];
    const ws = [0, 1, 2, 3].map(() => new Worker(self, { workerData: ["fetch2", port, corpus] }));
    ws.forEach((w) => w.on("message", (l) => lines.push(l)));
    await Promise.all(ws.map((w) => new Promise((r) => w.on("exit", r))));
    console.log(lines.sort().join("\n"));
  },
  async fetch2() {
    await viaFetch("openai_chat_nostream_1");
    await viaFetch("openai_chat_nostream_2");
  },
  child() {
    process.stdout.write(execFileSync(process.execPath, [self, "fetch", port, corpus]));
  },
};

if (!scenarios[scenario]) {
  console.error(`usage: tls_clients.mjs ${Object.keys(scenarios).join("|")} PORT [CORPUS]`);
  process.exit(2);
}
await scenarios[scenario]();
