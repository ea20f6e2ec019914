// fetch() in Bun or Deno (or Node) for test_run.sh: POSTs a body file to URL
// and prints the status and the response body; a stream is read and printed
// chunk by chunk as it arrives.
// usage: bun|deno run -A run_fetch.mjs URL BODY_FILE API_KEY
import { readFileSync } from "node:fs";

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const [url, bodyFile, key] = args;
const body = readFileSync(bodyFile, "utf8");
const res = await fetch(url, {
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
  body,
});
const out = [];
out.push(`status ${res.status}\n`);
const reader = res.body.getReader();
const dec = new TextDecoder();
for (;;) {
  const { done, value } = await reader.read();
  if (done) break;
  out.push(dec.decode(value, { stream: true }));
}
const text = out.join("");
if (globalThis.Deno) await Deno.stdout.write(new TextEncoder().encode(text));
else process.stdout.write(text);
