// The portal's Infrastructure and Library areas (issue 13) in a real browser, on one SQLite node,
// signed in as admin: environments created and reordered through the page (the API's order
// checked), deployment targets with health and last contact, a health check, the add-agent page
// whose command — run as written, by a shell, with the real cuttle-agent — registers an agent that
// then shows up on the page, and a package uploaded through the Library with its progress reaching
// 100% (a duplicate shows the API's message).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { tempDir, eventually, ADMIN_KEY, runProcess } from './lib/cluster.mjs';
import { openBrowser } from './lib/browser.mjs';
import { adminPassword, signIn, startPortalNode } from './lib/portal.mjs';
import { Identity, registerIdentity } from './lib/agents.mjs';
import { zip, multipart } from './lib/archives.mjs';

const AGENT_BIN = process.env.CUTTLE_AGENT_BIN ?? '/work/main/build/src/agent/cuttle-agent';

let node;
let session;
const work = tempDir('cuttle-portal-infra-');

// The API's own answers, for comparing with what the pages show.
const ok = (method, p, body) => node.ok(method, p, body);
const envIdsInOrder = async () => ok('GET', '/api/environments/sortorder');
const envNamed = async (name) => (await ok('GET', '/api/environments/all')).find((e) => e.Name === name);
// 4xx answers the tests provoke on purpose (a duplicate) are logged by Chromium as console errors.
const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));

before(async () => {
  assert.ok(existsSync(AGENT_BIN), `the cuttle-agent binary (CUTTLE_AGENT_BIN) is missing: ${AGENT_BIN}`);
  node = await startPortalNode('infra1');
});

after(async () => {
  await session?.close();
  await node?.kill();
});

test('sign in, then create two environments and reorder them through the Environments page', async (t) => {
  session = await openBrowser('portal-infra', { baseURL: node.url, log: (m) => t.diagnostic(m) });
  const { page } = session;
  await signIn(page, 'admin', adminPassword(node));

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Infrastructure', exact: true }).click();
  await page.getByRole('heading', { name: 'Infrastructure', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Environments', exact: true }).click();
  await page.getByRole('heading', { name: 'Environments', level: 1 }).waitFor();

  const table = page.getByRole('table', { name: 'Environments' });
  for (const [name, description] of [['Staging', 'Before production'], ['Production', 'Live']]) {
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Description', { exact: true }).fill(description);
    await page.getByRole('button', { name: 'Create environment', exact: true }).click();
    await table.getByRole('rowheader', { name, exact: true }).waitFor();
  }
  const staging = await envNamed('Staging');
  const production = await envNamed('Production');
  assert.equal(staging.Description, 'Before production');
  assert.deepEqual(await envIdsInOrder(), [staging.Id, production.Id]);
  const shownOrder = async () => (await table.getByRole('rowheader').allTextContents()).map((s) => s.trim());
  assert.deepEqual(await shownOrder(), ['Staging', 'Production']);
  await session.screenshot('environments-created');

  // Production before Staging: the API's order follows the page's.
  await page.getByRole('button', { name: 'Move Production up', exact: true }).click();
  await eventually(async () => (await envIdsInOrder())[0] === production.Id, { what: 'Production first in the API' });
  assert.deepEqual(await envIdsInOrder(), [production.Id, staging.Id]);
  await eventually(async () => (await shownOrder()).join() === 'Production,Staging', { what: 'the page shows the new order' });
  // It stays so after a reload (the page shows the server's order, not only its own).
  await page.reload();
  await table.getByRole('rowheader', { name: 'Staging', exact: true }).waitFor();
  assert.deepEqual(await shownOrder(), ['Production', 'Staging']);
  await session.screenshot('environments-reordered');

  // A second environment with a taken name: the page shows what the API says.
  const refused = await node.api('POST', '/api/environments', { body: { Name: 'Staging' } });
  assert.ok(refused.status >= 400 && refused.json?.ErrorMessage, refused.text);
  await page.getByLabel('Name', { exact: true }).fill('Staging');
  await page.getByRole('button', { name: 'Create environment', exact: true }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match((await alert.textContent()).trim(), new RegExp('^' + refused.json.ErrorMessage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  await session.screenshot('environments-duplicate');

  // Edit, then delete (confirmed) a third one.
  await page.getByLabel('Name', { exact: true }).fill('Scratch');
  await page.getByRole('button', { name: 'Create environment', exact: true }).click();
  await table.getByRole('rowheader', { name: 'Scratch', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Edit Scratch', exact: true }).click();
  await page.getByLabel('New name', { exact: true }).fill('Scratchpad');
  await page.getByLabel('New description', { exact: true }).fill('To throw away');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await table.getByRole('rowheader', { name: 'Scratchpad', exact: true }).waitFor();
  assert.equal((await envNamed('Scratchpad'))?.Description, 'To throw away');
  await page.getByRole('button', { name: 'Delete Scratchpad', exact: true }).click();
  await page.getByText('Delete the environment Scratchpad?').waitFor();
  await session.screenshot('environments-confirm-delete');
  await page.getByRole('button', { name: 'Yes, delete', exact: true }).click();
  await table.getByRole('rowheader', { name: 'Scratchpad', exact: true }).waitFor({ state: 'detached' });
  assert.equal(await envNamed('Scratchpad'), undefined);
  assert.deepEqual(unexpected(session.consoleErrors), []);
});

test('deployment targets: health and last contact, live; a target\'s page edits roles and checks health', async () => {
  const { page } = session;
  const staging = await envNamed('Staging');
  const cloud = await ok('POST', '/api/machines', {
    Name: 'cloud-1', EnvironmentIds: [staging.Id], Roles: ['web'], Endpoint: { CommunicationStyle: 'None' },
  });
  await page.goto('/app/infrastructure/machines');
  await page.getByRole('heading', { name: 'Deployment targets', level: 1 }).waitFor();
  const table = page.getByRole('table', { name: 'Deployment targets' });
  const cloudRow = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'cloud-1' }) });
  await cloudRow.getByText('Unknown', { exact: true }).waitFor();
  await cloudRow.getByText('This deployment target has not been health checked.').waitFor();
  await cloudRow.getByText('Cloud region', { exact: true }).waitFor();
  await cloudRow.getByText('Never (no agent)').waitFor();
  await cloudRow.getByText('Staging', { exact: true }).waitFor();

  // An agent registered while the page is open appears by itself, with its last contact.
  const identity = Identity.generate();
  const reg = await registerIdentity(node.url, ADMIN_KEY, identity, { name: 'sim-agent', environments: ['Production'], roles: ['db'] });
  assert.equal(reg.status, 201, JSON.stringify(reg.json));
  const agentRow = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'sim-agent' }) });
  await agentRow.waitFor({ timeout: 8000 });
  await agentRow.getByText('Agent', { exact: true }).waitFor();
  const contact = await ok('GET', `/api/machines/${identity.machineId}`);
  assert.ok(contact.LastContact, 'the API gives an agent\'s LastContact');
  assert.equal(await agentRow.locator('time').getAttribute('datetime'), contact.LastContact);
  assert.match(await agentRow.locator('time').textContent(), /just now|\d+ s ago/);

  // Filters: by role.
  await page.getByLabel('Role', { exact: true }).selectOption('db');
  await agentRow.waitFor();
  await cloudRow.waitFor({ state: 'detached' });
  await session.screenshot('machines-filtered');
  await page.getByLabel('Role', { exact: true }).selectOption('');
  await cloudRow.waitFor();
  await session.screenshot('machines');

  // The target's page: edit its roles and environments.
  await cloudRow.getByRole('link', { name: 'cloud-1' }).click();
  await page.getByRole('heading', { name: 'cloud-1', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Edit roles and environments', exact: true }).click();
  await page.getByLabel('Production', { exact: true }).check();
  await page.getByLabel('Roles', { exact: true }).fill('web, api');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Deployment target saved.').waitFor();
  const edited = await ok('GET', `/api/machines/${cloud.Id}`);
  assert.deepEqual([...edited.Roles].sort(), ['api', 'web']);
  assert.deepEqual(new Set(edited.EnvironmentIds), new Set([staging.Id, (await envNamed('Production')).Id]));

  // Check health: a Health task for this target, whose page opens; the target turns Healthy.
  await page.getByRole('button', { name: 'Check health', exact: true }).click();
  await page.waitForURL(/\/app\/tasks\/ServerTasks-\d+$/);
  const taskId = decodeURIComponent(page.url().split('/').pop());
  const task = await ok('GET', `/api/tasks/${taskId}`);
  assert.equal(task.Name, 'Health');
  await eventually(async () => (await ok('GET', `/api/machines/${cloud.Id}`)).HealthStatus === 'Healthy',
    { what: 'cloud-1 healthy after the check', timeoutMs: 20000 });
  await page.goto(`/app/infrastructure/machines/${cloud.Id}`);
  await page.getByText('Healthy', { exact: true }).waitFor();
  await session.screenshot('machine-page');

  // Delete (confirmed): the agent's target; its key is revoked.
  await page.goto(`/app/infrastructure/machines/${identity.machineId}`);
  await page.getByRole('heading', { name: 'sim-agent', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Delete deployment target', exact: true }).click();
  await page.getByText(/Its agent is revoked/).waitFor();
  await page.getByRole('button', { name: 'Yes, delete', exact: true }).click();
  await page.getByRole('heading', { name: 'Deployment targets', level: 1 }).waitFor();
  assert.equal((await node.api('GET', `/api/machines/${identity.machineId}`)).status, 404);
  assert.deepEqual(unexpected(session.consoleErrors), []);
});

test('add an agent: the command on the page, run as written, registers an agent that appears there', async () => {
  const { page, context } = session;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: node.url });
  await page.goto('/app/infrastructure/machines');
  await page.getByRole('link', { name: 'Add an agent', exact: true }).click();
  await page.getByRole('heading', { name: 'Add an agent', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Configuration → Users' }).waitFor();

  const home = path.join(work, 'agent home');  // a space: the command must quote it
  await page.getByLabel('Staging', { exact: true }).check();
  await page.getByLabel('Production', { exact: true }).check();
  await page.getByLabel('Roles', { exact: true }).fill('web, worker');
  await page.getByLabel('Machine name', { exact: true }).fill('portal-agent-1');
  await page.getByLabel('API key', { exact: true }).fill(ADMIN_KEY);
  await page.getByLabel('Agent folder', { exact: true }).fill(home);
  const code = page.locator('pre code');
  await eventually(async () => (await code.getAttribute('data-complete')) === 'true', { what: 'a complete command' });
  const command = (await code.textContent()).trim();
  assert.ok(command.startsWith(`cuttle-agent register --server ${node.url} --api-key ${ADMIN_KEY} --name portal-agent-1 `), command);

  await page.getByRole('button', { name: 'Copy command', exact: true }).click();
  await page.getByText('Copied the command to the clipboard.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), command);
  await session.screenshot('add-agent');

  // Run exactly what the page shows, in a shell, with cuttle-agent on the PATH.
  const bin = path.join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(AGENT_BIN, path.join(bin, 'cuttle-agent'));
  const run = await runProcess('/bin/sh', ['-c', command],
    { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, timeoutMs: 20000 });
  assert.equal(run.code, 0, `the page's command failed:\n${command}\n${run.stdout}\n${run.stderr}`);

  const recent = page.getByRole('table', { name: 'Recently registered agents' });
  const row = recent.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /portal-agent-1/ }) });
  await row.waitFor({ timeout: 8000 });
  await row.getByText('new', { exact: true }).waitFor();
  await row.getByText('Production, Staging').waitFor({ timeout: 5000 });  // in the environments' order
  const machine = (await ok('GET', '/api/machines/all')).find((m) => m.Name === 'portal-agent-1');
  assert.equal(machine.Endpoint.CommunicationStyle, 'TentacleActive');
  assert.deepEqual([...machine.Roles].sort(), ['web', 'worker']);
  await session.screenshot('add-agent-registered');

  // The overview counts it.
  await page.goto('/app/infrastructure');
  const overview = page.getByRole('table', { name: 'Deployment targets by environment and health' });
  await overview.getByRole('rowheader', { name: 'Staging' }).waitFor();
  await session.screenshot('infrastructure');
  assert.deepEqual(unexpected(session.consoleErrors), []);
});

test('library: upload a package with progress to 100%, see it listed, a duplicate shows the API\'s message', async () => {
  const { page } = session;
  const file = path.join(work, 'Portal.Upload.1.0.0.zip');
  const bytes = zip([['payload.bin', randomBytes(4 * 1024 * 1024)], ['readme.txt', 'portal upload test\n']]);
  writeFileSync(file, bytes);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Library', exact: true }).click();
  await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor();
  await page.getByText('No packages yet: upload one.').waitFor();

  // Every percent the page shows, recorded in the page as it changes.
  await page.evaluate(() => {
    window.__percents = [];
    new MutationObserver(() => {
      const el = document.querySelector('[data-testid="upload-percent"]');
      if (el && window.__percents.at(-1) !== el.textContent) window.__percents.push(el.textContent);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  // Upload throttled to ~4 MB/s (Chromium's network emulation), so the bar has steps to show.
  const cdp = await session.context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions',
    { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 4 * 1024 * 1024 });
  await page.getByLabel('Package file', { exact: true }).setInputFiles(file);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.getByText('Uploaded Portal.Upload 1.0.0').waitFor();
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const progress = page.getByLabel('Upload progress', { exact: true });
  assert.equal(await progress.evaluate((el) => el.tagName), 'PROGRESS');
  assert.equal(await progress.evaluate((el) => el.value), 100);
  assert.equal((await page.getByTestId('upload-percent').textContent()).trim(), '100%');
  const percents = await page.evaluate(() => window.__percents);
  assert.equal(percents.at(-1), '100%', `percents shown: ${percents}`);
  assert.ok(percents.some((p) => parseInt(p, 10) > 0 && parseInt(p, 10) < 100), `progress between 0 and 100 shown: ${percents}`);
  const listed = page.getByRole('table', { name: 'Packages' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Portal.Upload' }) });
  await listed.getByText('1.0.0', { exact: true }).waitFor();
  const stored = await ok('GET', '/api/packages?nuGetPackageId=Portal.Upload');
  assert.equal(stored.Items.length, 1);
  assert.equal(stored.Items[0].PackageSizeBytes, bytes.length);
  await session.screenshot('library-uploaded');

  // The same version again: the API's message, as the API gives it.
  const { body, contentType } = multipart('Portal.Upload.1.0.0.zip', bytes);
  const dup = await fetch(node.url + '/api/packages/raw', {
    method: 'POST', headers: { 'X-Octopus-ApiKey': ADMIN_KEY, 'Content-Type': contentType }, body,
  });
  assert.equal(dup.status, 409);
  const { ErrorMessage: expected } = await dup.json();
  await page.getByLabel('Package file', { exact: true }).setInputFiles(file);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal((await alert.textContent()).trim(), expected);
  await session.screenshot('library-duplicate');

  // Its versions, and delete (confirmed).
  await listed.getByRole('button', { name: 'Versions of Portal.Upload' }).click();
  await page.getByRole('heading', { name: 'Versions of Portal.Upload' }).waitFor();
  await page.getByRole('button', { name: 'Delete Portal.Upload 1.0.0', exact: true }).click();
  await page.getByRole('button', { name: 'Yes, delete', exact: true }).click();
  await page.getByText('No packages yet: upload one.').waitFor({ timeout: 15000 });
  assert.equal((await ok('GET', '/api/packages')).TotalResults, 0);
  assert.deepEqual(unexpected(session.consoleErrors), []);
});
