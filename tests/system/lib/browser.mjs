// Browser tests: Debian's Chromium driven by playwright-core (no browser download). Each test
// gets a fresh browser context and a folder for its screenshots, which it prints so CI can keep
// them as artifacts (CUTTLE_TEST_ARTIFACTS_DIR, default <build>/test-artifacts through `make
// test`, else the system temp folder).
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CUTTLE_TEST_CHROMIUM ?? '/usr/bin/chromium';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// The built portal the nodes under test serve (`make` builds it there).
export const WEB_DIR = process.env.CUTTLE_TEST_WEB_DIR ?? path.join(repoRoot, 'web', 'dist');

export function artifactsDir(name) {
  const root = process.env.CUTTLE_TEST_ARTIFACTS_DIR ?? path.join(tmpdir(), 'cuttle-test-artifacts');
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

// Debian's Chromium, headless (the benchmarks in bench/ launch it through here too).
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
  });
}

// Launches Chromium headless; `name` names the artifacts folder. Returns the page and helpers.
export async function openBrowser(name, { baseURL, log = console.log } = {}) {
  const dir = artifactsDir(name);
  log(`screenshots: ${dir}`);
  const browser = await launchChromium();
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  // Chromium's console names no URL for a failed load: keep them apart, with the URL.
  const failedResponses = [];
  page.on('response', (r) => { if (r.status() >= 400) failedResponses.push(`${r.status()} ${r.url()}`); });
  let shot = 0;
  return {
    browser, context, page, dir, consoleErrors, failedResponses,
    // Saves a full-page screenshot as NN-<label>.png in the test's folder.
    async screenshot(label) {
      const file = path.join(dir, `${String(++shot).padStart(2, '0')}-${label}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await context.close().catch(() => {});
      await browser.close().catch(() => {});
    },
  };
}

// Reads a task page's virtualised log view (role log, rows [data-line-number] with .log-category
// and .log-message) by scrolling it from top to bottom, since only the rows in sight are in the
// DOM. Returns Map(line number -> [category, message]); a row seen twice must read the same.
export async function readLogView(log) {
  const seen = new Map();
  const height = await log.evaluate((el) => el.clientHeight);
  for (let top = 0; ; top += height / 2) {
    const rows = await log.evaluate((el, y) => {
      el.scrollTop = y;
      return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve({
        atEnd: el.scrollTop + el.clientHeight >= el.scrollHeight - 1,
        rows: [...el.querySelectorAll('[data-line-number]')].map((r) => [Number(r.dataset.lineNumber),
          r.querySelector('.log-category').textContent, r.querySelector('.log-message').textContent]),
      }))));
    }, top);
    for (const [n, category, message] of rows.rows) {
      const before = seen.get(n);
      if (before && (before[0] !== category || before[1] !== message)) {
        throw new Error(`row ${n} changed: ${JSON.stringify(before)} then ${JSON.stringify([category, message])}`);
      }
      seen.set(n, [category, message]);
    }
    if (rows.atEnd) return seen;
  }
}
