// The browser half of bench/portal_bench.py: opens the portal in headless Chromium (Debian's,
// through playwright-core) against a node that portal_bench.py started and loaded, and prints one
// JSON line of figures.
//
// Time to an interactive dashboard: from the navigation's start (performance.timeOrigin) until the
// grid holds every project (aria-rowcount: the grid is windowed, so only the rows in view are in
// the DOM), its first rows are there, and the main thread has answered a frame and a task after
// it, so the page is painted and takes input. Then the grid is scrolled to its end, and the last
// project's row must appear (the window follows the scroll). Measured `runs` times in fresh browser contexts (cold cache,
// every asset and the dashboard fetched again), on a page whose requests carry an API key.
//
// Usage: node bench/portal_browser.mjs BASE_URL API_KEY EXPECTED_ROWS [RUNS]
import { launchChromium } from '../tests/system/lib/browser.mjs';

const [baseURL, key, expectedRows, runsArg] = process.argv.slice(2);
const rows = Number(expectedRows);
const runs = Number(runsArg ?? 5);
const browser = await launchChromium();
const samples = [];
let transfer;
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
    await context.setExtraHTTPHeaders({ 'X-Octopus-ApiKey': key });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto('/app', { waitUntil: 'commit' });
    const ms = await page.evaluate(async (want) => {
      await new Promise((resolve) => {
        const done = () => {
          const grid = document.querySelector('table.grid');
          return grid && Number(grid.getAttribute('aria-rowcount')) === want + 1 &&
            grid.querySelector('tbody tr[aria-rowindex]') !== null;
        };
        if (done()) return resolve();
        const seen = new MutationObserver(() => {
          if (done()) {
            seen.disconnect();
            resolve();
          }
        });
        seen.observe(document.documentElement, { childList: true, subtree: true });
      });
      // Painted, and the main thread free to take input: a frame, then a task after it.
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      return performance.now();
    }, rows);
    if (errors.length) throw new Error(`the page failed: ${errors.join('; ')}`);
    samples.push(ms);
    await page.evaluate(() => {
      const s = document.querySelector('.dashboard-scroll');
      s.scrollTop = s.scrollHeight;
    });
    await page.waitForSelector(`table.grid tbody tr[aria-rowindex="${rows + 1}"]`, { timeout: 5000 });
    const marks = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const dash = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/dashboard'));
      const script = performance.getEntriesByType('resource').find((e) => e.name.endsWith('.js'));
      return { domContentLoaded: nav?.domContentLoadedEventEnd, scriptEnd: script?.responseEnd,
               dashboardStart: dash?.requestStart, dashboardFirstByte: dash?.responseStart, dashboardEnd: dash?.responseEnd };
    });
    if (process.env.CUTTLE_BENCH_VERBOSE) console.error(JSON.stringify({ ms, ...marks }));
    if (i === 0) {
      // What the first load moved over the wire, as the browser fetched it (br or gzip).
      transfer = await page.evaluate(() =>
        performance.getEntriesByType('resource').map((e) => ({
          name: e.name, type: e.initiatorType, transfer: e.transferSize, body: e.decodedBodySize,
        })));
    }
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ samples, transfer }));
