// The dashboard in a real browser: Debian's Chromium driven by playwright-core
// against a real `boucle serve` with a trained task.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, copyFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = process.env.BOUCLE_BIN || join(root, "build", "boucle");
const work = mkdtempSync(join(tmpdir(), "boucle-browser-"));
let server, browser, url;

function freePort() {
  return new Promise((ok) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

function boucle(...args) {
  const p = spawnSync(bin, ["--config", join(work, "boucle.yaml"), ...args], { cwd: work, encoding: "utf8" });
  assert.equal(p.status, 0, `boucle ${args.join(" ")}: ${p.stderr}`);
  return p.stdout;
}

before(async () => {
  writeFileSync(join(work, "boucle.yaml"),
    "store: sqlite:boucle.db\nworker: {enabled: false}\ntasks:\n  sentiment:\n    type: multiclass\n" +
    "    text: [text]\n    label: airline_sentiment\n    model: {kind: linear}\n");
  copyFileSync(join(root, "examples/sentiment/tweets.csv"), join(work, "tweets.csv"));
  boucle("import", "tweets.csv");
  boucle("train");
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawn(bin, ["--config", join(work, "boucle.yaml"), "serve", "--listen", `127.0.0.1:${port}`],
    { cwd: work, stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${url}/readyz`)).status === 200) break; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
});

test("shows the task, the champion and its metrics, runs and datasets", async () => {
  const page = await browser.newPage();
  await page.goto(url + "/");
  await page.locator("#health", { hasText: "ready" }).waitFor();
  const card = page.locator('.card[data-task="sentiment"]');
  await card.waitFor();
  assert.match(await card.innerText(), /serving\s+v1/);
  const modelRow = page.locator("#models tbody tr").first();
  await modelRow.waitFor();
  const cells = await modelRow.locator("td").allInnerTexts();
  assert.equal(cells[0], "sentiment");
  assert.equal(cells[1], "1");
  assert.equal(cells[2], "champion");
  assert.ok(Number(cells[3]) > 0.6 && Number(cells[3]) <= 1, `accuracy ${cells[3]}`);
  assert.equal(await page.locator("#runs tbody tr").count(), 1);
  assert.match(await page.locator("#runs tbody tr").first().innerText(), /train\s+completed/);
  assert.match(await page.locator("#datasets tbody tr").first().innerText(), /6000\s+4800\s+1200/);
  await page.screenshot({ path: join(work, "dashboard.png"), fullPage: true });
});

test("a prediction typed in the page is answered with its label and probabilities", async () => {
  const page = await browser.newPage();
  await page.goto(url + "/");
  await page.locator("#try-task option").first().waitFor({ state: "attached" });
  await page.fill("#try-text", "@united lost my bag again, worst service ever");
  await page.click("#try button");
  const label = page.locator("#try-result .label");
  await label.waitFor();
  assert.equal(await label.innerText(), "negative");
  assert.equal(await page.locator("#try-result .bar").count(), 3);
});

test("an error from the API is shown, not swallowed", async () => {
  const page = await browser.newPage();
  await page.goto(url + "/");
  await page.locator("#try-task option").first().waitFor({ state: "attached" });
  await page.fill("#try-text", "x".repeat(70000)); // over limits.max_field_bytes
  await page.click("#try button");
  await page.locator("#try-result", { hasText: "max_field_bytes" }).waitFor();
});
