// The official Node SDKs (`openai`, `@anthropic-ai/sdk`, pinned in
// package.json) against the local replay server: over plaintext HTTP (seen
// by the socket hooks), or with --tls over HTTPS (node's own OpenSSL, seen
// by the inline hooks).
//
// usage: node sdk_clients.mjs --port PORT --corpus DIR [--only openai|anthropic] [--tls] VECTOR ...
//
// --tls: HTTPS to the vector's own host (api.openai.com, api.groq.com,
// *.openai.azure.com, ...) on PORT, every name resolved to 127.0.0.1 here
// (dns.lookup), the CA from NODE_EXTRA_CA_CERTS. The client's base URL is
// the vector's URL up to the SDK's endpoint path (query kept), and the SDK
// method follows the endpoint: chat.completions, completions, embeddings,
// responses, images.generate; messages for Anthropic.
//
// openai vectors go through `new OpenAI({baseURL: http://127.0.0.1:PORT/v1})`
// .chat.completions.create(), anthropic vectors through `new Anthropic({baseURL:
// http://127.0.0.1:PORT})`.messages.create(), with the vector's request body as
// the parameters (streams iterated event by event). Every vector is called
// twice: one after the other, then all at once (Promise.all). Keys come from
// OPENAI_API_KEY / ANTHROPIC_API_KEY (the SDKs send them as Authorization:
// Bearer and x-api-key). The header X-Test-Vector picks the server's reply.
// Prints "== ROUND VECTOR STATUS" and the result (or each stream event, or the
// API error) as JSON, in a fixed order, so the output can be compared with and
// without the shim. Exit 1 if a status differs from the vector's.
import fs from "node:fs";
import path from "node:path";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const port = opt("--port");
const corpus = opt("--corpus");
const only = opt("--only");
const tlsAt = args.indexOf("--tls");
const tls = tlsAt >= 0;
if (tls) {
  args.splice(tlsAt, 1);
  const dns = (await import("node:dns")).default;
  const lookup = dns.lookup;
  dns.lookup = (host, o, cb) => lookup("127.0.0.1", o, cb);
}
if (!port || !corpus || !args.length) {
  console.error("usage: sdk_clients.mjs --port PORT --corpus DIR [--only openai|anthropic] VECTOR ...");
  process.exit(2);
}

const openai = new OpenAI({
  apiKey: process.env.OPENAI_API_KEY,
  baseURL: `http://127.0.0.1:${port}/v1`,
  maxRetries: 0,
  timeout: 30000,
});
const anthropic = new Anthropic({
  apiKey: process.env.ANTHROPIC_API_KEY,
  baseURL: `http://127.0.0.1:${port}`,
  maxRetries: 0,
  timeout: 30000,
});

const ENDPOINTS = [
  ["/chat/completions", (c, p, o) => c.chat.completions.create(p, o)],
  ["/completions", (c, p, o) => c.completions.create(p, o)],
  ["/embeddings", (c, p, o) => c.embeddings.create(p, o)],
  ["/responses", (c, p, o) => c.responses.create(p, o)],
  ["/images/generations", (c, p, o) => c.images.generate(p, o)],
  ["/v1/messages", (c, p, o) => c.messages.create(p, o)], // the Anthropic SDK adds /v1
];

// The client and method for a vector over TLS: its own host and path prefix.
function tlsClient(v, kind) {
  const u = new URL(v.url);
  const [suffix, method] = ENDPOINTS.find(([e]) => u.pathname.endsWith(e));
  const baseURL = `https://${u.hostname}:${port}${u.pathname.slice(0, -suffix.length)}`;
  const defaultQuery = Object.fromEntries(u.searchParams);
  const common = { baseURL, defaultQuery, maxRetries: 0, timeout: 30000 };
  const client = kind === "anthropic"
    ? new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY, ...common })
    : new OpenAI({ apiKey: process.env.OPENAI_API_KEY, ...common });
  return (p, o) => method(client, p, o);
}

const vectors = args.map((name) => {
  const v = JSON.parse(fs.readFileSync(path.join(corpus, `${name}.json`), "utf8"));
  const kind = new URL(v.url).hostname.includes("anthropic") ? "anthropic" : "openai";
  const create = tls ? tlsClient(v, kind)
    : kind === "openai" ? (p, o) => openai.chat.completions.create(p, o)
    : (p, o) => anthropic.messages.create(p, o);
  return { name, v, kind, create, status: v.status || v.status_inferred || 200 };
}).filter((x) => !only || x.kind === only);

// One call; resolves to [status, text] without throwing.
async function call({ name, v, create }) {
  const params = JSON.parse(v.request_body);
  const options = { headers: { "X-Test-Vector": name } };
  const lines = [];
  try {
    const res = await create(params, options);
    if (params.stream) {
      for await (const event of res) lines.push(JSON.stringify(event));
    } else {
      lines.push(JSON.stringify(res));
    }
    return [200, lines.join("\n")];
  } catch (e) {
    if (e && typeof e.status === "number") return [e.status, JSON.stringify(e.error ?? null)];
    return [0, String(e && e.stack || e)];
  }
}

let errors = 0;
function report(round, x, [status, text]) {
  process.stdout.write(`== ${round} ${x.name} ${status}\n${text}\n`);
  if (status !== x.status) {
    console.error(`sdk_clients: ${round} ${x.name}: status ${status}, want ${x.status}`);
    errors++;
  }
}

for (const x of vectors) report("sequential", x, await call(x));
const all = await Promise.all(vectors.map(call));
vectors.forEach((x, i) => report("concurrent", x, all[i]));
process.exitCode = errors ? 1 : 0;
