// Issue 13, the portal in a cluster: Debian's Chromium (playwright-core) drives the portal through
// HAProxy in front of two nodes on PostgreSQL, as an operator would:
//   sign in; create an environment, a project, a script step printing 2,000 lines over ~10 s and a
//   manual step after it; upload a package through the library page; create a release and deploy
//   it; follow the task's log while the node serving the page is killed halfway (the page goes on
//   without a reload and every line arrives exactly once); approve the manual intervention; see
//   the task succeed; restart the node, drain it from the nodes page and see its ping turn 418;
//   sign out.
// Node n1 has a task cap of 0, so the deployment runs on n2 and the kill of n1 tests the page, not
// the engine's adoption (issue 8's tests cover that). Screenshots of each page are saved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { eventually, startCluster, tempDir } from './lib/cluster.mjs';
import { Haproxy } from './lib/haproxy.mjs';
import { freePort } from './lib/cluster.mjs';
import { openBrowser, readLogView, WEB_DIR } from './lib/browser.mjs';
import { adminPassword, assertPortalBuilt, signIn } from './lib/portal.mjs';
import { zip } from './lib/archives.mjs';

const LINES = 2000;
let cluster, lb, session;

before(async () => {
  assertPortalBuilt();
  cluster = await startCluster(2, { prefix: 'ha', extraArgs: ['--web-dir', WEB_DIR] });
  lb = await new Haproxy({ port: await freePort(), servers: cluster.nodes.map((n) => ({ name: n.name, port: n.port })) }).start();
});

after(async () => {
  await session?.close();
  await lb?.stop();
  await cluster?.stop();
});

test('an operator deploys through the portal while the node serving it dies', async (t) => {
  const [n1, n2] = cluster.nodes;
  const note = (m) => t.diagnostic(m);
  const password = adminPassword(...cluster.nodes);
  // n1 runs no tasks: the deployment runs on n2, so killing n1 tests the page alone.
  const cap = await n1.api('PUT', `/api/octopusservernodes/${(await n1.get('/api/octopusservernodes')).json.Items.find((x) => x.Name === n1.name).Id}`,
    { body: { MaxConcurrentTasks: 0 } });
  assert.equal(cap.status, 200, cap.text);

  session = await openBrowser('portal-ha', { baseURL: lb.url, log: note });
  const { page } = session;
  // Which node answered each log read (Octopus-Node on every response).
  const logReads = [];
  page.on('response', (r) => {
    if (/\/api\/tasks\/[^/]+\/raw/.test(r.url())) logReads.push({ at: Date.now(), node: r.headers()['octopus-node'], status: r.status() });
  });

  // Sign in.
  await signIn(page, 'admin', password);
  await session.screenshot('dashboard');

  await createEnvironment(page, 'Production');
  await session.screenshot('environments');
  await createProject(page, 'Storefront');
  const script = `for i in $(seq 1 ${LINES}); do echo "storefront line $i"; if [ $((i % 20)) -eq 0 ]; then sleep 0.1; fi; done`;
  await addScriptStep(page, 'Print lines', script);
  await addManualStep(page, 'Approve go-live', 'Check the storefront, then proceed.');
  await saveProcess(page);
  await session.screenshot('process');

  const pkg = path.join(tempDir('cuttle-ha-pkg-'), 'Storefront.Web.1.0.0.zip');
  writeFileSync(pkg, zip([['index.html', '<h1>storefront</h1>\n']]));
  await uploadPackage(page, pkg);
  await session.screenshot('library');

  await createRelease(page, 'Storefront');
  await session.screenshot('release');
  await deployTo(page, 'Production');
  await page.waitForURL(/\/app\/tasks\/ServerTasks-\d+/);
  const taskId = page.url().match(/ServerTasks-\d+/)[0];

  // Follow the log; halfway through, kill the node that is serving it.
  const mark = await page.evaluate(() => (window.__cuttleNoReload = Math.random()));
  const lineCount = () => page.getByRole('log', { name: 'Task log' }).getAttribute('data-line-count').then(Number);
  await eventually(async () => (await lineCount()) >= LINES / 2, { timeoutMs: 60000, intervalMs: 100, what: 'half the log shown' });
  // The node that served the latest log read; if n2 served it, wait for n1 to serve one (leastconn
  // spreads the page's requests), since n2 runs the task.
  await eventually(() => logReads.slice(-3).some((r) => r.node === n1.name), { timeoutMs: 10000, what: `a log read served by ${n1.name}` });
  const killedAt = Date.now();
  await n1.kill();
  note(`killed ${n1.name} (serving the page) at ${await lineCount()} lines`);
  await session.screenshot('log-node-killed');

  // The page continues without a reload, and the manual step waits for approval.
  await page.getByRole('button', { name: 'Proceed', exact: true }).waitFor({ timeout: 60000 });
  const resumed = logReads.find((r) => r.at > killedAt && r.status === 200);
  note(`first log read answered after the kill: ${resumed ? `${resumed.at - killedAt} ms later, by ${resumed.node}` : 'none'}`);
  assert.equal(await page.evaluate(() => window.__cuttleNoReload), mark, 'the page was not reloaded');
  await session.screenshot('manual-intervention');
  await page.getByLabel('Notes', { exact: true }).fill('Looks good');
  await page.getByRole('button', { name: 'Proceed', exact: true }).click();
  await eventually(async () => (await n2.get(`/api/tasks/${taskId}`)).json?.State === 'Success', { timeoutMs: 30000, what: 'the task succeeded' });
  await eventually(async () => (await page.getByTestId('task-state').textContent()).includes('Success'), { timeoutMs: 10000, what: 'the page showing Success' });
  await session.screenshot('task-success');

  // Every line exactly once, in order: the page's rows against the log in shared storage.
  const log = page.getByRole('log', { name: 'Task log' });
  await eventually(async () => (await log.getAttribute('data-log-complete')) === 'true', { timeoutMs: 30000, what: 'the whole log read' });
  const raw = (await n2.get(`/api/tasks/${taskId}/raw`)).text;
  const lines = raw.split('\n');
  if (lines.at(-1) === '') lines.pop();
  assert.equal(Number(await log.getAttribute('data-log-offset')), Buffer.byteLength(raw), 'every byte read once');
  assert.equal(Number(await log.getAttribute('data-line-count')), lines.length);
  await page.getByLabel('Show verbose', { exact: true }).check();
  const seen = await readLogView(log);
  assert.equal(seen.size, lines.length, 'every line has its row');
  lines.forEach((line, i) => assert.equal(seen.get(i + 1)?.[1], line.slice(line.indexOf(' | ') + 3), `line ${i + 1}`));
  const ours = [...seen.values()].map(([, m]) => m).filter((m) => /^storefront line \d+$/.test(m)).map((m) => Number(m.split(' ')[2]));
  assert.deepEqual(ours, Array.from({ length: LINES }, (_, i) => i + 1), "the script's lines, each once, in order");

  // Bring n1 back, drain it from the nodes page, and see its ping turn 418.
  await n1.start();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Configuration', exact: true }).click();
  await page.getByRole('link', { name: 'Nodes', exact: true }).click();
  const row = page.getByRole('row').filter({ hasText: n1.name });
  await row.getByRole('switch').click();
  await eventually(async () => (await fetch(`${n1.url}/api/octopusservernodes/ping`)).status === 418, { timeoutMs: 10000, what: `${n1.name}'s ping answering 418` });
  await session.screenshot('nodes-drained');

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(/\/app\/sign-in/);
  assert.equal((await page.request.get(`${lb.url}/api/users/me`)).status(), 401, 'signed out on every node');
  await session.screenshot('signed-out');
});

// ---- The pages, driven by their accessible names (as a keyboard or screen-reader user finds them).

function nav(page, area) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: area, exact: true }).click();
}

async function createProject(page, name) {
  await nav(page, 'Projects');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Create project', exact: true }).click();
  await page.waitForURL(/\/app\/projects\/Projects-\d+$/);
}

async function addScriptStep(page, name, script) {
  await page.getByRole('navigation', { name: /^Project / }).getByRole('link', { name: 'Process', exact: true }).click();
  await page.getByRole('button', { name: 'Add script step', exact: true }).click();
  await page.getByLabel('Step name', { exact: true }).fill(name);
  await page.getByLabel('Script', { exact: true }).fill(script);
}

async function addManualStep(page, name, instructions) {
  await page.getByRole('button', { name: 'Add manual intervention step', exact: true }).click();
  await page.getByLabel('Step name', { exact: true }).fill(name);
  await page.getByLabel('Instructions', { exact: true }).fill(instructions);
}

async function saveProcess(page) {
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText(/^Saved \(version \d+\)\.$/).waitFor();
}

async function createEnvironment(page, name) {
  await nav(page, 'Infrastructure');
  await page.getByRole('link', { name: 'Environments', exact: true }).first().click();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Create environment', exact: true }).click();
  await page.getByRole('table', { name: 'Environments' }).getByRole('rowheader', { name, exact: true }).waitFor();
}

async function uploadPackage(page, file) {
  await nav(page, 'Library');
  await page.getByLabel('Package file', { exact: true }).setInputFiles(file);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.getByText(/^Uploaded /).waitFor();
  await page.getByRole('table', { name: 'Packages' }).getByText(path.basename(file).split('.').slice(0, 2).join('.')).first().waitFor();
}

async function createRelease(page, project) {
  await nav(page, 'Projects');
  await page.getByRole('link', { name: project, exact: true }).click();
  await page.getByRole('link', { name: 'Create release', exact: true }).click();
  await page.getByRole('heading', { name: 'Create release', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Create release', exact: true }).click();
  await page.getByRole('heading', { name: /^Release / }).waitFor();
}

async function deployTo(page, environment) {
  await page.getByRole('button', { name: `Deploy to ${environment}`, exact: true }).click();
}
