// The dashboard in headless Chromium (Debian's, driven by puppeteer-core from
// tests/node): the report file and the live page of `llmops serve`. Checks
// that no console error appears, that no request leaves 127.0.0.1 (file: and
// data: aside), that the provider/model table shows what `llmops stats
// --format json` prints for the same store and filters, that hostile record
// content stays text and runs nothing, that a record written while the live
// page is open appears within 2 s, and writes a screenshot of every tab.
// usage: node dash_check.mjs CONFIG.json   (see test_dash.sh for its members)
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const require = createRequire(cfg.node_modules + "/");
const puppeteer = require("puppeteer-core");
const TABS = ["Overview", "Performance", "Tokens", "Cost", "Agents", "Operations"];
let passed = 0;
const ok = (m) => console.log(`ok ${++passed} - ${m}`);
const fail = (m) => { throw new Error(m); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

mkdirSync(cfg.shots, { recursive: true });
const browser = await puppeteer.launch({
  executablePath: cfg.chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
});

// A page that records console errors, uncaught exceptions and every request.
async function open(url) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1440, height: 1000 });
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  page.on("pageerror", (e) => problems.push("exception: " + e.message));
  page.on("request", (r) => {
    const u = new URL(r.url());
    const local = u.protocol === "file:" || u.protocol === "data:" || u.protocol === "about:" ||
      (u.protocol === "http:" && u.hostname === "127.0.0.1");
    if (!local) problems.push("request left 127.0.0.1: " + r.url());
  });
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("body[data-ready]", { timeout: 15000 });
  return { page, problems };
}

function clean(p, what) {
  if (p.problems.length) fail(`${what}: ${p.problems.join("; ")}`);
  ok(`${what}: no console errors, no request off 127.0.0.1`);
}

async function pwned(page) {
  return page.evaluate(() => window.__pwned === undefined ? null : String(window.__pwned));
}

// The provider/model table, as shown: {provider|model: {calls, ...}} from cell text.
async function shown(page) {
  await page.waitForSelector("#t-provider-model", { timeout: 10000 });
  return page.evaluate(() => {
    const out = {};
    for (const tr of document.querySelectorAll("#t-provider-model tbody tr")) {
      const row = {};
      for (const td of tr.querySelectorAll("td[data-k]")) row[td.getAttribute("data-k")] = td.textContent;
      out[tr.getAttribute("data-provider") + "|" + tr.getAttribute("data-model")] = row;
    }
    return out;
  });
}

function parseNum(text) {
  if (text === "\u2014") return null;
  return Number(text.replace(/[$,]/g, ""));
}

function compare(got, statsFile, what) {
  const want = JSON.parse(readFileSync(statsFile, "utf8"));
  const keys = Object.keys(got);
  if (keys.length !== want.length) fail(`${what}: ${keys.length} rows shown, stats has ${want.length}`);
  for (const w of want) {
    const k = (w.provider ?? "(unknown)") + "|" + (w.model ?? "(unknown)");
    const g = got[k];
    if (!g) fail(`${what}: no row ${k}`);
    for (const [col, tol] of [["calls", 0], ["errors", 0], ["input_tokens", 0], ["output_tokens", 0],
      ["cost_usd", 5e-7], ["latency_p50_ms", 0.05]]) {
      const a = parseNum(g[col]), b = w[col];
      if (b === null ? a !== null : a === null || Math.abs(a - b) > tol)
        fail(`${what}: ${k} ${col} shows '${g[col]}', stats says ${b}`);
    }
  }
  ok(`${what}: ${want.length} provider/model rows equal stats (calls, errors, tokens, cost, p50)`);
}

async function shootTabs(page, prefix) {
  for (const t of TABS) {
    await page.click(`[data-tab="${t}"]`);
    await page.waitForFunction((t) => document.querySelector(".tabs button.on")?.textContent === t &&
      document.querySelector("main .panel, main .banner"), { timeout: 10000 }, t);
    await sleep(150);
    await page.screenshot({ path: `${cfg.shots}/${prefix}-${t.toLowerCase()}.png`, fullPage: true });
  }
  ok(`${prefix}: a screenshot of each of the ${TABS.length} tabs in ${cfg.shots}`);
}

// The hostile record: its model in the table and its prompt in the record
// view are the very text stored, and nothing it carries runs.
async function hostile(page, what) {
  await page.click('[data-tab="Operations"]');
  await page.waitForSelector("#t-calls");
  const rowSel = await page.evaluate((model) => {
    const rows = [...document.querySelectorAll("#t-calls tbody tr")];
    const i = rows.findIndex((tr) => [...tr.cells].some((td) => td.textContent === model));
    return i < 0 ? null : `#t-calls tbody tr:nth-child(${i + 1})`;
  }, cfg.hostile_model);
  if (!rowSel) fail(`${what}: the hostile model is not shown as text in the calls table`);
  await page.click(rowSel);
  await page.waitForSelector("#drawer.open #rec-request", { timeout: 5000 });
  const req = await page.$eval("#rec-request", (e) => e.textContent);
  const resp = await page.$eval("#rec-response", (e) => e.textContent);
  // the request is shown as indented JSON: the prompt as a JSON string's content
  if (!req.includes(JSON.stringify(cfg.hostile_prompt).slice(1, -1))) fail(`${what}: the prompt is not shown as text: ${req.slice(0, 200)}`);
  if (resp !== cfg.hostile_response) fail(`${what}: the response is not shown as text: ${resp.slice(0, 200)}`);
  const injected = await page.evaluate(() => document.querySelectorAll("main img, #sheet img, main script, #sheet script").length);
  if (injected) fail(`${what}: ${injected} element(s) made from record content`);
  await sleep(300); // an onerror would have fired by now
  const p = await pwned(page);
  if (p !== null) fail(`${what}: hostile content ran (window.__pwned = ${p})`);
  await page.screenshot({ path: `${cfg.shots}/${what}-record.png` });
  await page.click("#close");
  ok(`${what}: hostile model, prompt and response shown as text; no script ran`);
}

try {
  // ---- the report file
  let p = await open("file://" + cfg.report);
  compare(await shown(p.page), cfg.stats_all, "report");
  await shootTabs(p.page, "report");
  await hostile(p.page, "report");
  clean(p, "report");
  await p.page.close();

  p = await open("file://" + cfg.report_openai);
  compare(await shown(p.page), cfg.stats_openai, "report --provider openai");
  clean(p, "report --provider openai");
  await p.page.close();

  // ---- the live page
  // by default the last 24 h, which holds every record of this store
  p = await open(cfg.url);
  compare(await shown(p.page), cfg.stats_all, "live, last 24 h (the default)");
  clean(p, "live, last 24 h");
  await p.page.close();
  p = await open(cfg.url + "#range=all");
  compare(await shown(p.page), cfg.stats_all, "live");
  await hostile(p.page, "live");
  await shootTabs(p.page, "live");
  await p.page.click('[data-tab="Overview"]');
  await shown(p.page);
  // a record written while the page is open appears on it within 2 s
  execFileSync(cfg.llmops, ["record", "--db", cfg.db], { input: JSON.stringify({
    provider: "openai", model: cfg.live_model, status: "ok", input_tokens: 11, output_tokens: 7,
    latency_ms: 123.5 }) + "\n" });
  const t0 = Date.now();
  await p.page.waitForFunction((m) => !!document.querySelector(`#t-provider-model tr[data-model="${m}"]`),
    { timeout: 2000, polling: 50 }, cfg.live_model).catch(() => fail("live: the new record did not appear within 2 s"));
  ok(`live: a record written while the page was open appeared after ${Date.now() - t0} ms`);
  await p.page.screenshot({ path: `${cfg.shots}/live-after-write.png`, fullPage: true });
  // a filter picked in the bar goes into the URL and the numbers follow it
  const anth = cfg.stats_openai_live.replace(/openai/g, "anthropic");
  writeFileSync(anth, execFileSync(cfg.llmops, ["stats", "--db", cfg.db, "--format", "json",
    "--provider", "anthropic"]));
  await p.page.select('select[data-f="provider"]', "anthropic");
  await p.page.waitForFunction(() => location.hash.includes("provider=anthropic") &&
    [...document.querySelectorAll("#t-provider-model tbody tr")].every((tr) =>
      tr.getAttribute("data-provider") === "anthropic"), { timeout: 10000 });
  compare(await shown(p.page), anth, "live, provider picked in the filter bar (and in the URL)");
  clean(p, "live");
  await p.page.close();

  // the same filters in the URL: the view can be shared (stats now counts the new record too)
  writeFileSync(cfg.stats_openai_live, execFileSync(cfg.llmops, ["stats", "--db", cfg.db, "--format",
    "json", "--provider", "openai"]));
  p = await open(cfg.url + "#range=all&provider=openai");
  compare(await shown(p.page), cfg.stats_openai_live, "live #range=all&provider=openai");
  const sel = await p.page.$eval('select[data-f="provider"]', (e) => e.value);
  if (sel !== "openai") fail(`live #range=all&provider=openai: the filter bar shows '${sel}'`);
  clean(p, "live #range=all&provider=openai");
  await p.page.close();

  // an unreadable store: the page says so
  const page = await browser.newPage();
  const resp = await page.goto(cfg.bad_url);
  const text = await page.evaluate(() => document.body.textContent);
  if (resp.status() !== 503 || !text.includes("cannot be read") || !text.includes(cfg.bad_db))
    fail(`unreadable store: status ${resp.status()}, page: ${text.slice(0, 300)}`);
  await page.screenshot({ path: `${cfg.shots}/unreadable-store.png` });
  ok(`unreadable store: 503 and a page that names it: ${text.slice(0, 120)}`);
  await page.close();
} catch (e) {
  console.error("FAIL - " + e.message);
  await browser.close();
  process.exit(1);
}
await browser.close();
console.log(`all ${passed} checks passed`);
