// The portal's accessibility (issue 13): one node on SQLite, signed in as admin in Chromium, with
// enough data seeded through the API that every page has content (an environment, a target, a
// project whose process has a script and a manual step, a variable, a runbook, a release deployed
// to completion, a failed deployment, one waiting on a manual intervention, a package). Every route of web/src/App.tsx is visited and checked with axe-core
// (WCAG 2 A and AA rules), in the light and the dark colour scheme; on each page Tab must reach the main navigation and no element may
// have a positive tabindex. A failure lists every violation: page, rule, impact, targets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { eventually, ADMIN_KEY } from './lib/cluster.mjs';
import { openBrowser } from './lib/browser.mjs';
import { adminPassword, signIn, startPortalNode } from './lib/portal.mjs';
import { multipart, zip } from './lib/archives.mjs';
import { action, step, script } from './lib/octopus.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

let node;
let session;
const ids = {};

const ok = (method, p, body) => node.ok(method, p, body);

before(async () => {
  node = await startPortalNode('a11y1');

  ids.env = (await ok('POST', '/api/environments', { Name: 'Dev' })).Id;
  ids.machine = (await ok('POST', '/api/machines', {
    Name: 'web-1', EnvironmentIds: [ids.env], Roles: ['web'], Endpoint: { CommunicationStyle: 'None' },
  })).Id;
  const group = (await ok('GET', '/api/projectgroups')).Items[0];
  const lifecycle = (await ok('GET', '/api/lifecycles')).Items[0];
  const project = await ok('POST', '/api/projects', { Name: 'Shop', ProjectGroupId: group.Id, LifecycleId: lifecycle.Id });
  ids.project = project.Id;

  const say = step('Say hello', '', action('Say hello', 'Octopus.Script',
    script('Bash', 'echo "hello from $(get_octopusvariable "Greeting")"', true)));
  const process = await ok('GET', `/api/deploymentprocesses/${project.DeploymentProcessId}`);
  process.Steps = [say];
  await ok('PUT', `/api/deploymentprocesses/${project.DeploymentProcessId}`, process);

  const vars = await ok('GET', `/api/variables/${project.VariableSetId}`);
  vars.Variables = [{ Name: 'Greeting', Value: 'the a11y test', Type: 'String', IsSensitive: false, Scope: {} }];
  await ok('PUT', `/api/variables/${project.VariableSetId}`, vars);

  // Released and deployed with the script step only (a release snapshots its process), so the
  // deployment completes; then the process gains a manual step for the process page.
  const release = await ok('POST', '/api/releases', { ProjectId: project.Id, Version: '1.0.0' });
  const deployment = await ok('POST', '/api/deployments', { ReleaseId: release.Id, EnvironmentId: ids.env });
  ids.task = deployment.TaskId;
  await eventually(async () => (await ok('GET', `/api/tasks/${ids.task}`)).IsCompleted,
    { timeoutMs: 20000, what: 'the deployment completes' });
  const again = await ok('GET', `/api/deploymentprocesses/${project.DeploymentProcessId}`);
  again.Steps.push(step('Approve', '', action('Approve', 'Octopus.Manual', {
    'Octopus.Action.Manual.Instructions': 'Check the site.', 'Octopus.Action.RunOnServer': 'true',
  })));
  await ok('PUT', `/api/deploymentprocesses/${project.DeploymentProcessId}`, again);

  ids.runbook = (await ok('POST', `/api/projects/${project.Id}/runbooks`, { Name: 'Restart', ProjectId: project.Id })).Id;

  const { body, contentType } = multipart('Shop.Web.1.0.0.zip', zip([['index.html', 'hello']]));
  const r = await fetch(`${node.url}/api/packages/raw`, {
    method: 'POST', headers: { 'X-Octopus-ApiKey': ADMIN_KEY, 'Content-Type': contentType }, body,
  });
  assert.equal(r.status, 201, `upload: ${await r.text()}`);

  ids.admin = (await ok('GET', '/api/users/me')).Id;

  // Two more states: a deployment that failed, and one waiting on a manual intervention.
  const deployOf = async (Name, steps) => {
    const p = await ok('POST', '/api/projects', { Name, ProjectGroupId: group.Id, LifecycleId: lifecycle.Id });
    const proc = await ok('GET', `/api/deploymentprocesses/${p.DeploymentProcessId}`);
    proc.Steps = steps;
    await ok('PUT', `/api/deploymentprocesses/${p.DeploymentProcessId}`, proc);
    const rel = await ok('POST', '/api/releases', { ProjectId: p.Id, Version: '1.0.0' });
    return (await ok('POST', '/api/deployments', { ReleaseId: rel.Id, EnvironmentId: ids.env })).TaskId;
  };
  ids.failed = await deployOf('Broken', [step('Fail', '', action('Fail', 'Octopus.Script',
    script('Bash', 'echo "about to fail" >&2; exit 3', true)))]);
  ids.waiting = await deployOf('Gated', [step('Approve', '', action('Approve', 'Octopus.Manual', {
    'Octopus.Action.Manual.Instructions': 'Check the release notes.', 'Octopus.Action.RunOnServer': 'true',
  }))]);
  await eventually(async () => (await ok('GET', `/api/tasks/${ids.failed}`)).State === 'Failed',
    { timeoutMs: 20000, what: 'the failing deployment fails' });
  await eventually(async () => (await ok('GET', `/api/tasks/${ids.waiting}`)).HasPendingInterruptions,
    { timeoutMs: 20000, what: 'the gated deployment waits for its intervention' });
});

after(async () => {
  await session?.close();
  await node?.kill();
});

// Every route of web/src/App.tsx, with a text the page shows once its data is there, and the
// buttons that open more of the page (forms), clicked in order and checked again.
function routes() {
  const p = `/app/projects/${ids.project}`;
  return [
    ['dashboard', '/app', 'Shop'],
    ['projects', '/app/projects', 'Shop'],
    ['project overview', p, '1.0.0'],
    ['process', `${p}/process`, 'Approve', ['Approve']],
    ['variables', `${p}/variables`, null, [{ text: 'Unscoped' }]],
    ['channels', `${p}/channels`, 'Default', ['Add channel', 'Add version rule']],
    ['runbooks', `${p}/runbooks`, 'Restart', ['Add runbook']],
    ['runbook', `${p}/runbooks/${ids.runbook}`, 'Restart'],
    ['create release', `${p}/releases/new`, null],
    ['release', `${p}/releases/1.0.0`, 'Dev'],
    ['tasks', '/app/tasks', 'Shop'],
    ['task', `/app/tasks/${ids.task}`, 'hello from the a11y test'],
    ['failed task', `/app/tasks/${ids.failed}`, 'about to fail'],
    ['waiting task', `/app/tasks/${ids.waiting}`, 'Check the release notes.'],
    ['infrastructure', '/app/infrastructure', null],
    ['environments', '/app/infrastructure/environments', 'Dev', ['Edit Dev']],
    ['environments', '/app/infrastructure/environments', 'Dev', ['Delete Dev']],
    ['machines', '/app/infrastructure/machines', 'web-1'],
    ['machine', `/app/infrastructure/machines/${ids.machine}`, 'web-1'],
    ['add agent', '/app/infrastructure/machines/new-agent', null],
    ['library', '/app/library', 'Shop.Web', ['Versions of Shop.Web']],
    ['configuration', '/app/configuration', null],
    ['nodes', '/app/configuration/nodes', 'a11y1'],
    ['users', '/app/configuration/users', 'admin'],
    ['user', `/app/configuration/users/${ids.admin}`, 'admin'],
    ['events', '/app/configuration/events', null],
    ['not found', '/app/no-such-page', null],
  ];
}

test('every page: no WCAG 2 A/AA violation (axe), Tab reaches the main navigation, no positive tabindex', async (t) => {
  session = await openBrowser('portal-a11y', { baseURL: node.url, log: (m) => t.diagnostic(m) });
  // axe is injected as a script: a context that bypasses the portal's Content-Security-Policy.
  const context = await session.browser.newContext({ baseURL: node.url, bypassCSP: true, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto('/app/sign-in');
  // The sign-in page is checked too, before signing in.
  await page.getByLabel('Username', { exact: true }).waitFor();
  const problems = [];
  const axe = async (name) => {
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } }));
    for (const v of result.violations) {
      problems.push(`${name}: ${v.id} (${v.impact}) ${v.help}\n` +
        v.nodes.map((n) => `    ${n.target.join(' ')}${n.failureSummary ? ` — ${n.failureSummary.split('\n').slice(1).join(' ').trim()}` : ''}`).join('\n'));
    }
  };
  await axe('sign-in');
  await signIn(page, 'admin', adminPassword(node));

  // Both colour schemes: the portal follows the system's (styles.css), contrast is checked in each.
  for (const scheme of ['light', 'dark']) {
  await page.emulateMedia({ colorScheme: scheme });
  for (const [route, url, text, opens = []] of routes()) {
    const name = scheme === 'light' ? route : `${route} (dark)`;
    await page.goto(url);
    // Loaded: a page heading, the expected data, and nothing saying Loading….
    await page.locator('main h1').first().waitFor();
    if (text) await page.locator('main').getByText(text, { exact: false }).first().waitFor({ timeout: 15000 });
    await eventually(() => page.evaluate(() =>
      ![...document.querySelectorAll('main [role=status]')].some((e) => /Loading/.test(e.textContent ?? ''))),
      { what: `${name} finishes loading` });
    await axe(name);

    const positive = await page.evaluate(() => [...document.querySelectorAll('[tabindex]')]
      .filter((e) => e.tabIndex > 0).map((e) => e.outerHTML.slice(0, 120)));
    for (const e of positive) problems.push(`${name}: positive tabindex: ${e}`);

    // From the top of the document, Tab reaches the main navigation (after the skip link).
    await page.evaluate(() => {
      if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    });
    let reached = false;
    for (let i = 0; i < 4 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => !!document.activeElement?.closest('nav[aria-label="Main"]'));
    }
    if (!reached) problems.push(`${name}: Tab does not reach the main navigation within 4 presses from the top`);

    for (const open of opens) {
      const main = page.locator('main');
      const what = typeof open === 'string' ? open : open.text;
      await (typeof open === 'string' ? main.getByRole('button', { name: open, exact: true }) : main.getByText(open.text))
        .first().click();
      await axe(`${name} after "${what}"`);
    }
  }
  }
  assert.deepEqual(problems, [], `accessibility problems:\n${problems.join('\n')}`);
  assert.deepEqual(consoleErrors.filter((e) => !/status of 40[14]/.test(e)), []);
});
