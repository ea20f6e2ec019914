// A Node program that routes its requests through undici's EnvHttpProxyAgent
// (HTTPS_PROXY/HTTP_PROXY/NO_PROXY from the environment), as agent CLIs do:
// POSTs a body file to URL, prints status and body. Used by test_run.sh.
// usage: node undici_env_proxy.mjs URL BODY_FILE API_KEY
import { readFileSync } from "node:fs";
import { EnvHttpProxyAgent, fetch } from "undici";

const [url, bodyFile, key] = process.argv.slice(2);
const dispatcher = new EnvHttpProxyAgent();
const res = await fetch(url, {
  method: "POST",
  dispatcher,
  headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
  body: readFileSync(bodyFile, "utf8"),
});
process.stdout.write(`status ${res.status}\n`);
for await (const chunk of res.body) process.stdout.write(chunk);
await dispatcher.close();
