// The independent price of each exported call: the genai-prices database's
// own JavaScript implementation (@pydantic/genai-prices, pinned in tests/node)
// given the very database file llmops reads, each call's usage, its API URL
// ("https://" server_address url_path: the provider found by api_pattern, not
// by our provider name) and its timestamp.
// Usage: node cost_oracle.mjs DATABASE.json EXPORT.ndjson
// Prints one JSON object per record: {vector, ours, oracle, provider, model,
// above_tier (a tiered price at a prompt above a tier start), ...}
// (oracle null: the implementation prices nothing for the call).
import { createRequire } from "node:module";
import fs from "node:fs";

const require = createRequire(new URL("../node/package.json", import.meta.url));
const { calcPrice, updatePrices, waitForUpdate } = require("@pydantic/genai-prices");

const [dbPath, exportPath] = process.argv.slice(2);
const data = JSON.parse(fs.readFileSync(dbPath, "utf8"));
updatePrices(({ setProviderData }) => setProviderData(data));
await waitForUpdate();

for (const line of fs.readFileSync(exportPath, "utf8").split("\n")) {
  if (!line.trim()) continue;
  const r = JSON.parse(line);
  const usage = {};
  for (const k of ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"])
    if (Number.isInteger(r[k])) usage[k] = r[k];
  let oracle = null, provider = null, model = null, aboveTier = false;
  if (r.model && (usage.input_tokens !== undefined || usage.output_tokens !== undefined)) {
    const url = r.server_address ? `https://${r.server_address}${r.url_path ?? ""}` : undefined;
    const p = calcPrice(usage, r.model, { providerApiUrl: url, timestamp: new Date(r.timestamp) });
    if (p) {
      oracle = p.total_price;
      provider = p.provider.id;
      model = p.model.id;
      aboveTier = Object.values(p.model_price).some((v) => typeof v === "object" &&
        v.tiers.some((t) => (usage.input_tokens ?? 0) > t.start));
    }
  }
  console.log(JSON.stringify({
    vector: r.extras?.vector ?? r.action_id, ours: r.cost_usd, oracle, provider, model,
    above_tier: aboveTier,
    record_provider: r.provider, record_model: r.model, cost_source: r.cost_source,
    usage_raw: r.usage_raw ?? null,
    usage, timestamp: r.timestamp,
  }));
}
