// The portal's Tasks area (issue 13) in a real browser, on one node on SQLite: a deployment that
// prints 300 lines (and verbose ones) over ~3 s is followed live on its task page — every line
// arrives once, in order, in the virtualised log, also across reads that fail for a while (as when
// the node serving them dies) and are retried; the verbose toggle hides and shows the verbose
// lines; a manual intervention is approved in place with notes; guided failure shows its buttons
// and the API's message when an answer is refused; another task is cancelled from
// its page; the tasks list filters by state, kind and activity, and keeps its filters in the URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_KEY, tempDir, eventually } from './lib/cluster.mjs';
import { openBrowser, readLogView } from './lib/browser.mjs';
import { startPortalNode } from './lib/portal.mjs';
import { action, step } from './lib/octopus.mjs';

const require = createRequire(import.meta.url);
const {
  Client, EnvironmentRepository, LifecycleRepository, ProjectGroupRepository, ProjectRepository,
  NewProject, DeploymentProcessRepository, ReleaseRepository, DeploymentRepository,
} = require('@octopusdeploy/api-client');

const SPACE = 'Default';
const LINES = 300;
// 300 numbered lines in six bursts 0.5 s apart, a verbose line after each burst, one warning, and
// an artifact.
const CHATTY = [
  `for i in $(seq 1 ${LINES}); do`,
  '  echo "line $i of ' + LINES + '"',
  '  if [ $((i % 50)) -eq 0 ]; then write_verbose "verbose after $i"; sleep 0.5; fi',
  'done',
  'write_warning "careful now"',
  'echo "report body" > report.txt',
  'new_octopusartifact report.txt report.txt',
].join('\n');

let node, dir, client, session;
const ids = {};

before(async () => {
  dir = tempDir();
  node = await startPortalNode('tasks1', { sharedDir: dir });
  client = await Client.create({ instanceURL: node.url, apiKey: ADMIN_KEY, userAgentApp: 'cuttle-test' });
  ids.env = (await new EnvironmentRepository(client, SPACE).create({ Name: 'Dev' })).Id;
  ids.lifecycle = (await new LifecycleRepository(client, SPACE).list({ take: 100 })).Items[0];
  ids.group = (await new ProjectGroupRepository(client, SPACE).list({ take: 1 })).Items[0];
  const target = await node.api('POST', '/api/Spaces-1/machines', {
    body: { Name: 'cloud-1', Roles: ['web'], EnvironmentIds: [ids.env], Endpoint: { CommunicationStyle: 'None' } },
  });
  assert.equal(target.status, 201, target.text);
});

after(async () => {
  await session?.close();
  await node?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const scriptAction = (name, body) => step(name, 'web', action(name, 'Octopus.Script', {
  'Octopus.Action.Script.ScriptSource': 'Inline', 'Octopus.Action.Script.Syntax': 'Bash',
  'Octopus.Action.Script.ScriptBody': body,
}));

// A project of `steps`, released as 1.0.0 and deployed to Dev; its task's id.
async function deployProject(name, steps, { guided = false } = {}) {
  const project = await new ProjectRepository(client, SPACE).create(NewProject(name, ids.group, ids.lifecycle));
  const processes = new DeploymentProcessRepository(client, SPACE);
  const proc = await processes.get(project);
  proc.Steps = steps;
  await processes.update(project, proc);
  await new ReleaseRepository(client, SPACE).create({ spaceName: SPACE, ProjectName: name, ReleaseVersion: '1.0.0' });
  const d = await new DeploymentRepository(client, SPACE).create({
    spaceName: SPACE, ProjectName: name, ReleaseVersion: '1.0.0', EnvironmentNames: ['Dev'], UseGuidedFailure: guided,
  });
  return { taskId: d.DeploymentServerTasks[0].ServerTaskId, projectId: project.Id };
}

async function browser(t) {
  if (!session) {
    session = await openBrowser('portal-tasks', { baseURL: node.url, log: (m) => t.diagnostic(m) });
    await session.context.setExtraHTTPHeaders({ 'X-Octopus-ApiKey': ADMIN_KEY });
  }
  return session;
}

// The console's errors, but for the log reads the first test makes fail and the answer the
// guided-failure test has refused (409), on purpose.
const unexpectedErrors = () => session.consoleErrors.filter((e) => !/ERR_CONNECTION_RESET|status of 409/.test(e));

const stateOf = (page) => page.getByTestId('task-state').textContent();
async function waitState(page, state, timeoutMs = 30000) {
  await eventually(async () => (await stateOf(page)) === state, { timeoutMs, what: `the task page to say ${state}` });
}

test('a running deployment\'s log is followed live: every line once, in order; verbose toggles', async (t) => {
  const { page, screenshot } = await browser(t);
  const { taskId, projectId } = await deployProject('Chatty', [scriptAction('Talk', CHATTY)]);
  // The log's reads can be made to fail, as when the node serving them dies.
  let failing = false;
  let refused = 0;
  await page.route(/\/api\/tasks\/[^/]+\/raw\?/, (route) => {
    if (!failing) return route.continue();
    refused++;
    return route.abort('connectionreset');
  });
  await page.goto(`/app/tasks/${taskId}`);
  const log = page.getByRole('log', { name: 'Task log' });
  await log.waitFor();
  // Seen while it runs: some lines in, the log not complete.
  await eventually(async () => Number(await log.getAttribute('data-line-count')) > 0 &&
    (await log.getAttribute('data-log-complete')) === 'false', { timeoutMs: 15000, what: 'a partly read log' });
  await screenshot('task-running');
  // Reads fail for a while: the page says it is reconnecting, keeps what it has, and retries.
  failing = true;
  const connection = page.getByRole('status', { name: 'Log connection' });
  await eventually(async () => /Reconnecting/.test(await connection.textContent()) && refused >= 3,
    { what: 'three refused reads and the reconnecting status' });
  assert.equal(await log.getAttribute('data-reconnecting'), 'true');
  await screenshot('task-reconnecting');
  failing = false;
  await eventually(async () => (await log.getAttribute('data-reconnecting')) === 'false', { what: 'reading again' });
  assert.equal((await connection.textContent()).trim(), '');
  await eventually(async () => (await log.getAttribute('data-log-complete')) === 'true',
    { timeoutMs: 30000, what: 'the whole log read' });
  await waitState(page, 'Success');

  const raw = await node.get(`/api/tasks/${taskId}/raw`);
  const lines = raw.text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  assert.equal(Number(await log.getAttribute('data-log-offset')), Buffer.byteLength(raw.text));
  assert.equal(Number(await log.getAttribute('data-line-count')), lines.length);
  const numbered = lines.filter((l) => / \| line \d+ of 300$/.test(l));
  assert.equal(numbered.length, LINES, 'the script printed its lines');
  const verbose = lines.filter((l) => / Verbose +\| /.test(l));
  assert.ok(verbose.length >= 6, `verbose lines in the log: ${verbose.length}`);

  // Verbose hidden by default, shown by the checkbox.
  const toggle = page.getByLabel('Show verbose', { exact: true });
  assert.equal(await toggle.isChecked(), false);
  assert.equal(Number(await log.getAttribute('data-shown-line-count')), lines.length - verbose.length);
  await toggle.check();
  assert.equal(Number(await log.getAttribute('data-shown-line-count')), lines.length);

  // Read the whole log back out of the view by scrolling it: every line of the log, once, in
  // order, with its category and message (the view only holds the rows in sight).
  const seen = await readLogView(log);
  assert.equal(seen.size, lines.length, 'every line has its row');
  lines.forEach((line, i) => {
    const bar = line.indexOf(' | ');
    const category = line.slice(line.indexOf(' ') + 1, bar).trim();
    assert.deepEqual(seen.get(i + 1), [category, line.slice(bar + 3)], `line ${i + 1}`);
  });
  const order = [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, [, m]]) => m)
    .filter((m) => /^line \d+ of 300$/.test(m)).map((m) => Number(m.split(' ')[1]));
  assert.deepEqual(order, Array.from({ length: LINES }, (_, i) => i + 1));

  await log.evaluate((el) => { el.scrollTop = el.scrollHeight; });
  const warningRow = log.locator('.log-warning', { hasText: 'careful now' });
  await warningRow.waitFor();

  // Hidden again: no verbose row in the view.
  await toggle.uncheck();
  assert.equal(Number(await log.getAttribute('data-shown-line-count')), lines.length - verbose.length);
  assert.equal(await log.locator('.log-verbose').count(), 0);

  // The header links to the project and the release; the step tree shows the step.
  await page.getByRole('link', { name: 'Chatty', exact: true }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Chatty', exact: true }).getAttribute('href'), `/app/projects/${projectId}`);
  assert.equal(await page.getByRole('link', { name: '1.0.0', exact: true }).getAttribute('href'), `/app/projects/${projectId}/releases/1.0.0`);
  await page.getByRole('list', { name: 'Steps' }).getByText('Step 1: Talk').waitFor();
  // The artifact, with its download link.
  const artifact = page.getByRole('link', { name: 'report.txt', exact: true });
  await artifact.waitFor({ timeout: 10000 });
  const href = await artifact.getAttribute('href');
  assert.match(href, /^\/api\/artifacts\/[^/]+\/content$/);
  assert.equal((await node.get(href)).text.trim(), 'report body');
  assert.equal(await page.getByRole('button', { name: 'Cancel', exact: true }).count(), 0, 'no Cancel once finished');
  await screenshot('task-finished');
  await page.unroute(/\/api\/tasks\/[^/]+\/raw\?/);
  assert.deepEqual(unexpectedErrors(), []);
});

test('a manual intervention is approved in place, with notes', async (t) => {
  const { page, screenshot } = await browser(t);
  const { taskId } = await deployProject('Gated', [
    step('Approve', '', action('Approve', 'Octopus.Manual', {
      'Octopus.Action.Manual.Instructions': 'Check the release notes.', 'Octopus.Action.RunOnServer': 'true',
    })),
    scriptAction('After', 'echo "approved and on we go"'),
  ]);
  await page.goto(`/app/tasks/${taskId}`);
  const proceed = page.getByRole('button', { name: 'Proceed', exact: true });
  await proceed.waitFor({ timeout: 30000 });
  await page.getByRole('region', { name: /^Manual intervention:/ }).getByText('Check the release notes.').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Abort', exact: true }).count(), 1);
  await page.getByLabel('Notes', { exact: true }).fill('notes read, go');
  await screenshot('manual-intervention');
  await proceed.click();
  await waitState(page, 'Success');
  const log = page.getByRole('log', { name: 'Task log' });
  await eventually(async () => (await log.getAttribute('data-log-complete')) === 'true', { what: 'the whole log read' });
  await log.locator('.log-message', { hasText: 'approved and on we go' }).waitFor();
  assert.equal(await proceed.count(), 0, 'the prompt is gone once answered');
  const answered = await node.get(`/api/interruptions?regarding=${taskId}`);
  assert.equal(answered.json.Items[0].Form.Values.Result, 'Proceed');
  assert.equal(answered.json.Items[0].Form.Values.Notes, 'notes read, go');
  await screenshot('manual-approved');
});

test('guided failure offers its buttons in place; a refused answer shows the API\'s message', async (t) => {
  const { page, screenshot } = await browser(t);
  const mark = path.join(dir, 'flaky-ran-once');
  // The retry waits for the test to let it finish, so the task still runs while the page answers.
  const release = path.join(dir, 'flaky-may-finish');
  const { taskId } = await deployProject('Flaky', [scriptAction('Flaky', [
    `if [ ! -f '${mark}' ]; then touch '${mark}'; echo "first try fails"; exit 3; fi`,
    `while [ ! -f '${release}' ]; do sleep 0.05; done`,
    'echo "second time lucky"',
  ].join('\n'))], { guided: true });
  await page.goto(`/app/tasks/${taskId}`);
  const prompt = page.getByRole('region', { name: /^Guided failure:/ });
  const retry = prompt.getByRole('button', { name: 'Retry', exact: true });
  await retry.waitFor({ timeout: 30000 });
  for (const name of ['Fail', 'Ignore', 'Exclude machine from deployment']) {
    assert.equal(await prompt.getByRole('button', { name, exact: true }).count(), 1, name);
  }
  // Fail asks once more, in place; Back leaves it unanswered.
  await prompt.getByRole('button', { name: 'Fail', exact: true }).click();
  await prompt.getByRole('button', { name: 'Confirm Fail', exact: true }).waitFor();
  await prompt.getByRole('button', { name: 'Back', exact: true }).click();
  await retry.waitFor();

  // Someone answers first (the page still shows the prompt it polled): the page's answer is
  // refused and it shows what the API said.
  const pending = await node.get(`/api/interruptions?regarding=${taskId}&pendingOnly=true`);
  const stale = pending.text;
  await page.route(/\/api\/interruptions\?/, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: stale }));
  const id = pending.json.Items[0].Id;
  assert.equal((await node.api('PUT', `/api/interruptions/${id}/responsible`)).status, 200);
  assert.equal((await node.api('POST', `/api/interruptions/${id}/submit`, { body: { Guidance: 'Retry', Notes: 'by the API' } })).status, 200);
  const refusal = await node.api('PUT', `/api/interruptions/${id}/responsible`);
  assert.equal(refusal.status, 409, refusal.text);
  await page.getByLabel('Notes', { exact: true }).fill('too late');
  await retry.click();
  const alert = prompt.getByRole('alert');
  await alert.waitFor();
  assert.equal((await alert.textContent()).trim(), refusal.json.ErrorMessage);
  await screenshot('guided-failure-refused');
  await page.unroute(/\/api\/interruptions\?/);
  writeFileSync(release, '');
  await waitState(page, 'Success');
  await prompt.waitFor({ state: 'detached' });
  const log = page.getByRole('log', { name: 'Task log' });
  await log.locator('.log-message', { hasText: 'second time lucky' }).waitFor();
});

test('the log follows its tail until the reader scrolls up; a running task is cancelled from its page', async (t) => {
  const { page, screenshot } = await browser(t);
  const { taskId } = await deployProject('Sleepy', [scriptAction('Tick',
    'echo "going to sleep"; for i in $(seq 1 1200); do echo "tick $i"; sleep 0.05; done; echo "woke up"')]);
  await page.goto(`/app/tasks/${taskId}`);
  const log = page.getByRole('log', { name: 'Task log' });
  await log.locator('.log-message', { hasText: 'going to sleep' }).waitFor({ timeout: 30000 });
  await waitState(page, 'Executing');
  const count = async () => Number(await log.getAttribute('data-line-count'));
  const position = () => log.evaluate((el) => ({ top: el.scrollTop, bottom: el.scrollHeight - el.clientHeight }));
  // Following: as lines arrive the view stays at the bottom.
  await eventually(async () => (await count()) > 60, { timeoutMs: 15000, what: 'a screenful of ticks' });
  await eventually(async () => { const p = await position(); return p.bottom > 0 && p.top >= p.bottom - 1; },
    { what: 'the view at the bottom' });
  // Scrolled up by the reader: more lines arrive, the view stays where the reader put it.
  await log.evaluate((el) => { el.scrollTop = 100; });
  let seen = await count();
  await eventually(async () => (await count()) > seen + 20, { what: 'more ticks' });
  assert.equal((await position()).top, 100, 'no auto-scroll once scrolled up');
  // Back at the bottom (End key on the focused log), following resumes.
  await log.focus();
  await page.keyboard.press('End');
  seen = await count();
  await eventually(async () => (await count()) > seen + 20, { what: 'more ticks again' });
  await eventually(async () => { const p = await position(); return p.top >= p.bottom - 1; }, { what: 'following again' });
  await screenshot('task-following');

  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await waitState(page, 'Canceled');
  assert.equal(await page.getByRole('button', { name: 'Cancel', exact: true }).count(), 0);
  assert.equal((await node.get(`/api/tasks/${taskId}`)).json.State, 'Canceled');
  await eventually(async () => (await log.getAttribute('data-log-complete')) === 'true', { what: 'the whole log read' });
  await screenshot('task-canceled');
  ids.canceled = taskId;
});

test('the tasks list filters, links each task, and keeps its filters in the URL', async (t) => {
  const { page, screenshot } = await browser(t);
  assert.ok(ids.canceled, 'the cancel test ran first');
  await page.goto('/app/tasks');
  await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor();
  const rows = page.getByRole('table').locator('tbody tr');
  await eventually(async () => (await rows.count()) >= 4, { what: 'the four deployments listed' });
  await screenshot('tasks-list');

  await page.getByLabel('State', { exact: true }).selectOption('Canceled');
  await eventually(async () => (await rows.count()) === 1, { what: 'only the canceled task' });
  assert.equal(await rows.first().getAttribute('data-task-id'), ids.canceled);
  assert.match(page.url(), /[?&]state=Canceled/);
  await page.reload();
  await eventually(async () => (await rows.count()) === 1, { what: 'the filter kept across a reload' });
  assert.equal(await page.getByLabel('State', { exact: true }).inputValue(), 'Canceled');
  await screenshot('tasks-list-canceled');

  await page.getByLabel('State', { exact: true }).selectOption('');
  await page.getByLabel('Task kind', { exact: true }).selectOption('Health');
  await page.getByText('No tasks match.').waitFor();
  await page.getByLabel('Task kind', { exact: true }).selectOption('Deploy');
  await eventually(async () => (await rows.count()) === 4, { what: 'the four deployments' });
  await page.getByLabel('Show', { exact: true }).selectOption('running');
  await page.getByText('No tasks match.').waitFor();
  await page.getByLabel('Show', { exact: true }).selectOption('');
  await eventually(async () => (await rows.count()) === 4, { what: 'the four deployments again' });

  // Each row links to its task page.
  const link = page.locator(`tr[data-task-id="${ids.canceled}"]`).getByRole('link', { name: 'Deploy Sleepy release 1.0.0 to Dev' });
  await link.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/app/tasks/${ids.canceled}$`));
  await waitState(page, 'Canceled');
  assert.deepEqual(unexpectedErrors(), []);
});
