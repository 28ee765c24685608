// The portal's release pages (issue 13): one node on SQLite, signed in as admin in Chromium.
// Set up through the API: a lifecycle of two phases (Dev, then Prod), a project whose process
// has a script step on the server and a package step, and two versions of the package. Then
// through the pages: variables (one sensitive, which never comes back to the page and which the
// server keeps: the deployment's script sees it), a channel with a version rule, a release that
// picks the older package version, a deployment to Dev only (Prod is not offered until Dev
// succeeded, and then appears without a reload), and a runbook created, published and run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { eventually, ADMIN_KEY } from './lib/cluster.mjs';
import { openBrowser } from './lib/browser.mjs';
import { adminPassword, signIn, startPortalNode } from './lib/portal.mjs';
import { multipart, zip } from './lib/archives.mjs';
import { action, step, script } from './lib/octopus.mjs';

const SECRET = 's3cret-value-42';
const secretDigest = createHash('sha256').update(SECRET).digest('hex').slice(0, 16);

let node;
let session;
const ids = {};

const ok = (method, p, body) => node.ok(method, p, body);

async function upload(filename, data) {
  const { body, contentType } = multipart(filename, data);
  const r = await fetch(`${node.url}/api/packages/raw`, {
    method: 'POST', headers: { 'X-Octopus-ApiKey': ADMIN_KEY, 'Content-Type': contentType }, body,
  });
  assert.equal(r.status, 201, `upload ${filename}: ${await r.text()}`);
}

async function waitTask(id) {
  let task;
  await eventually(async () => {
    task = await ok('GET', `/api/tasks/${id}`);
    return task.IsCompleted;
  }, { timeoutMs: 20000, what: `task ${id} completes` });
  return task;
}

before(async () => {
  node = await startPortalNode('portalrel1');

  ids.dev = (await ok('POST', '/api/environments', { Name: 'Dev' })).Id;
  ids.prod = (await ok('POST', '/api/environments', { Name: 'Prod' })).Id;
  const phase = (Name, env) => ({ Name, AutomaticDeploymentTargets: [], OptionalDeploymentTargets: [env],
                                  MinimumEnvironmentsBeforePromotion: 0, IsOptionalPhase: false });
  const retention = { QuantityToKeep: 0, ShouldKeepForever: true, Unit: 'Days' };
  const lifecycle = await ok('POST', '/api/lifecycles', {
    Name: 'Dev then Prod', Phases: [phase('Development', ids.dev), phase('Production', ids.prod)],
    ReleaseRetentionPolicy: retention, TentacleRetentionPolicy: retention,
  });
  const group = (await ok('GET', '/api/projectgroups')).Items[0];
  const project = await ok('POST', '/api/projects', {
    Name: 'Shop', ProjectGroupId: group.Id, LifecycleId: lifecycle.Id,
    // No target has the package step's role: it is skipped, so the deployment succeeds.
    ProjectConnectivityPolicy: { AllowDeploymentsToNoTargets: true, SkipMachineBehavior: 'None',
                                 TargetRoles: [], ExcludeUnhealthyTargets: false },
  });
  ids.project = project.Id;
  const process = await ok('GET', `/api/deploymentprocesses/${project.DeploymentProcessId}`);
  process.Steps = [
    step('Say hello', '', action('Say hello', 'Octopus.Script', script('Bash', [
      'v=$(get_octopusvariable "DbPassword")',
      'echo "secret digest: $(printf %s "$v" | sha256sum | cut -c1-16)"',
      'echo "greeting: $(get_octopusvariable "Greeting")"',
    ].join('\n'), true))),
    step('Deploy web', 'web', action('Deploy web', 'Octopus.TentaclePackage', {
      'Octopus.Action.Package.PackageId': 'Shop.Web', 'Octopus.Action.Package.FeedId': 'feeds-builtin',
    }, { Packages: [{ Name: '', PackageId: 'Shop.Web', FeedId: 'feeds-builtin', AcquisitionLocation: 'Server', Properties: {} }] })),
  ];
  await ok('PUT', `/api/deploymentprocesses/${project.DeploymentProcessId}`, process);
  await upload('Shop.Web.1.0.0.zip', zip([['index.html', 'version one']]));
  await upload('Shop.Web.1.1.0.zip', zip([['index.html', 'version two']]));
});

after(async () => {
  await session?.close();
  await node?.kill();
});

test('variables, a channel, a release with an older package, a deployment the lifecycle allows, a runbook', async (t) => {
  session = await openBrowser('portal-releases', { baseURL: node.url, log: (m) => t.diagnostic(m) });
  const { page } = session;
  await signIn(page, 'admin', adminPassword(node));
  const projectUrl = `/app/projects/${ids.project}`;

  // --- variables: one scoped to Dev, one sensitive ---
  await page.goto(`${projectUrl}/variables`);
  await page.getByRole('heading', { name: 'Variables', level: 1 }).waitFor();
  await page.getByText('This project has no variables yet.').waitFor();
  await page.getByRole('button', { name: 'Add variable', exact: true }).click();
  await page.getByLabel('Variable 1 name', { exact: true }).fill('Greeting');
  await page.getByLabel('Variable 1 value', { exact: true }).fill('hello from dev');
  const row1 = page.getByRole('row').filter({ has: page.getByLabel('Variable 1 name', { exact: true }) });
  await row1.getByText('Unscoped').click();
  await row1.getByRole('checkbox', { name: 'Dev', exact: true }).check();
  await row1.getByText('Environments: Dev').waitFor();
  await page.getByRole('button', { name: 'Add variable', exact: true }).click();
  await page.getByLabel('Variable 2 name', { exact: true }).fill('DbPassword');
  await page.getByLabel('Variable 2 sensitive', { exact: true }).check();
  const secretField = page.getByLabel('Variable 2 value', { exact: true });
  assert.equal(await secretField.getAttribute('type'), 'password');
  await secretField.fill(SECRET);
  await session.screenshot('variables-editing');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

  const set = await ok('GET', `/api/variables/variableset-${ids.project}`);
  const byName = Object.fromEntries(set.Variables.map((v) => [v.Name, v]));
  assert.equal(byName.Greeting.Value, 'hello from dev');
  assert.deepEqual(byName.Greeting.Scope.Environment, [ids.dev]);
  assert.equal(byName.DbPassword.IsSensitive, true);
  assert.equal(byName.DbPassword.Value, null);

  // After a reload the secret is nowhere in the page, not even in a field's value.
  await page.reload();
  await page.getByLabel('Variable 2 name', { exact: true }).waitFor();
  const values = await page.locator('input').evaluateAll((els) => els.map((e) => e.value));
  assert.ok(!values.includes(SECRET), 'the secret is in no field');
  assert.ok(!(await page.content()).includes(SECRET), 'the secret is not in the page');
  assert.equal(await page.getByLabel('Variable 2 value', { exact: true }).inputValue(), '');
  // Saving again without touching it keeps it (checked by the deployment's script below).
  await page.getByLabel('Variable 1 value', { exact: true }).fill('hello from Dev');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await session.screenshot('variables-saved');

  // A stale Version is refused with the API's message.
  await ok('PUT', `/api/variables/${set.Id}`, { ...(await ok('GET', `/api/variables/${set.Id}`)) });
  await page.getByLabel('Variable 1 name', { exact: true }).fill('Greeting2');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'changed by someone else' }).waitFor();
  await page.getByRole('button', { name: 'Discard changes and reload', exact: true }).click();
  await eventually(async () => (await page.getByLabel('Variable 1 name', { exact: true }).inputValue()) === 'Greeting',
                   { what: 'the reloaded set' });

  // --- a channel with a version rule on the package step ---
  await page.goto(`${projectUrl}/channels`);
  await page.getByRole('heading', { name: 'Channels', level: 1 }).waitFor();
  await page.getByRole('rowheader', { name: 'Default' }).waitFor();
  await page.getByRole('button', { name: 'Add channel', exact: true }).click();
  await page.getByLabel('Name', { exact: true }).fill('Hotfix');
  await page.getByLabel('Description', { exact: true }).fill('Patches of 1.0');
  await page.getByRole('button', { name: 'Add version rule', exact: true }).click();
  await page.getByLabel('Rule 1 version range', { exact: true }).fill('[1.0,1.1)');
  await page.getByRole('checkbox', { name: 'Rule 1 applies to Deploy web (Shop.Web)', exact: true }).check();
  await session.screenshot('channel-new');
  await page.getByRole('button', { name: 'Create channel', exact: true }).click();
  await page.getByRole('rowheader', { name: 'Hotfix' }).waitFor();
  const channels = (await ok('GET', `/api/projects/${ids.project}/channels`)).Items;
  const hotfix = channels.find((c) => c.Name === 'Hotfix');
  assert.equal(hotfix.Description, 'Patches of 1.0');
  assert.equal(hotfix.LifecycleId, null);
  assert.deepEqual(hotfix.Rules.map((r) => [r.VersionRange, r.ActionPackages[0].DeploymentAction]), [['[1.0,1.1)', 'Deploy web']]);
  await session.screenshot('channels');
  // Edit, then delete a second channel.
  await page.getByRole('button', { name: 'Add channel', exact: true }).click();
  await page.getByLabel('Name', { exact: true }).fill('Scratch');
  await page.getByRole('button', { name: 'Create channel', exact: true }).click();
  await page.getByRole('rowheader', { name: 'Scratch' }).waitFor();
  await page.getByRole('button', { name: 'Edit Scratch', exact: true }).click();
  await page.getByLabel('Description', { exact: true }).fill('edited');
  await page.getByLabel('Lifecycle', { exact: true }).selectOption({ label: 'Dev then Prod' });
  await page.getByRole('button', { name: 'Save channel', exact: true }).click();
  await page.getByRole('row').filter({ hasText: 'edited' }).waitFor();
  const scratch = (await ok('GET', `/api/projects/${ids.project}/channels`)).Items.find((c) => c.Name === 'Scratch');
  assert.equal(scratch.Description, 'edited');
  assert.ok(scratch.LifecycleId, 'the lifecycle was chosen');
  assert.equal(await page.getByRole('button', { name: 'Delete Default', exact: true }).count(), 0, 'the default channel cannot be deleted');
  await page.getByRole('button', { name: 'Delete Scratch', exact: true }).click();
  await page.getByRole('rowheader', { name: 'Scratch' }).waitFor({ state: 'detached' });
  assert.equal((await ok('GET', `/api/projects/${ids.project}/channels`)).Items.length, 2);

  // --- create a release, picking the older package version ---
  await page.goto(`${projectUrl}/releases/new`);
  await page.getByRole('heading', { name: 'Create release', level: 1 }).waitFor();
  const version = page.getByLabel('Version', { exact: true });
  await eventually(async () => (await version.inputValue()) === '0.0.1', { what: 'the proposed version 0.0.1' });
  const picker = page.getByLabel('Version of Shop.Web for Deploy web', { exact: true });
  await eventually(async () => (await picker.inputValue()) === '1.1.0', { what: 'the latest package preselected' });
  // The Hotfix channel's rule leaves only 1.0.0.
  await page.getByLabel('Channel', { exact: true }).selectOption({ label: 'Hotfix' });
  await eventually(async () => JSON.stringify(await picker.locator('option').evaluateAll((os) => os.map((o) => o.value))) === '["1.0.0"]',
                   { what: 'only 1.0.0 in the Hotfix channel' });
  await page.getByLabel('Channel', { exact: true }).selectOption({ label: 'Default (default)' });
  await picker.selectOption('1.0.0');
  await page.getByLabel('Release notes', { exact: true }).fill('The first release.');
  await session.screenshot('create-release');
  await page.getByRole('button', { name: 'Create release', exact: true }).click();
  await page.waitForURL(new RegExp(`/app/projects/${ids.project}/releases/0\\.0\\.1$`));
  await page.getByRole('heading', { name: 'Release 0.0.1', level: 1 }).waitFor();
  const release = await ok('GET', `/api/projects/${ids.project}/releases/0.0.1`);
  assert.deepEqual(release.SelectedPackages.map((p) => [p.ActionName, p.Version]), [['Deploy web', '1.0.0']]);
  assert.equal(release.ReleaseNotes, 'The first release.');
  assert.equal(release.ChannelId, channels.find((c) => c.IsDefault).Id);

  // The next release is proposed as 0.0.2; a taken version is refused with the API's message.
  await page.goto(`${projectUrl}/releases/new`);
  await eventually(async () => (await version.inputValue()) === '0.0.2', { what: 'the proposed version 0.0.2' });
  await version.fill('0.0.1');
  await page.getByRole('button', { name: 'Create release', exact: true }).click();
  const refused = await node.api('POST', '/api/releases', { body: { ProjectId: ids.project, Version: '0.0.1' } });
  assert.ok(refused.status >= 400 && refused.json?.ErrorMessage, refused.text);
  await page.getByRole('alert').filter({ hasText: refused.json.ErrorMessage }).waitFor();
  await page.goto(`${projectUrl}/releases/0.0.1`);
  await page.getByRole('heading', { name: 'Release 0.0.1', level: 1 }).waitFor();

  // --- deploy: only Dev is offered; deploying opens the task ---
  const deployButtons = page.getByRole('button', { name: /^Deploy to / });
  await page.getByRole('button', { name: 'Deploy to Dev', exact: true }).waitFor();
  assert.deepEqual(await deployButtons.allTextContents(), ['Deploy to Dev']);
  await page.getByRole('cell', { name: '1.0.0' }).waitFor();
  await session.screenshot('release');
  await page.getByRole('button', { name: 'Deploy to Dev', exact: true }).click();
  await page.waitForURL(/\/app\/tasks\/ServerTasks-\d+$/);
  const taskId = page.url().split('/').pop();
  const deployments = (await ok('GET', `/api/releases/${release.Id}/deployments`)).Items;
  assert.deepEqual(deployments.map((d) => [d.EnvironmentId, d.TaskId]), [[ids.dev, taskId]]);
  // The release page follows the deployment live: its state, then Prod once Dev succeeded.
  await page.goto(`${projectUrl}/releases/0.0.1`);
  const devRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Dev', exact: true }) });
  await devRow.getByRole('link', { name: taskId, exact: true }).waitFor();
  const task = await waitTask(taskId);
  assert.equal(task.State, 'Success', `the deployment succeeded: ${JSON.stringify(task)}`);
  await devRow.getByText('Success', { exact: true }).waitFor({ timeout: 5000 });
  await page.getByRole('button', { name: 'Deploy to Prod', exact: true }).waitFor({ timeout: 5000 });
  await session.screenshot('release-deployed');
  // The script saw the kept secret and Dev's greeting.
  const log = (await node.api('GET', `/api/tasks/${taskId}/raw`)).text;
  assert.match(log, new RegExp(`secret digest: ${secretDigest}`), log);
  assert.match(log, /greeting: hello from Dev/, log);
  assert.ok(!log.includes(SECRET), 'the secret is not in the log');

  // --- a runbook: create, give it a process, publish, run in Dev ---
  await page.goto(`${projectUrl}/runbooks`);
  await page.getByRole('heading', { name: 'Runbooks', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Add runbook', exact: true }).click();
  await page.getByLabel('Name', { exact: true }).fill('Restart');
  await page.getByLabel('Description', { exact: true }).fill('Restarts the shop');
  await page.getByRole('button', { name: 'Create runbook', exact: true }).click();
  await page.getByRole('heading', { name: 'Runbook Restart', level: 1 }).waitFor();
  const runbook = (await ok('GET', `/api/projects/${ids.project}/runbooks`)).Items.find((r) => r.Name === 'Restart');
  assert.ok(page.url().endsWith(`/runbooks/${runbook.Id}`), page.url());
  const rbProcess = await ok('GET', `/api/runbookProcesses/${runbook.RunbookProcessId}`);
  rbProcess.Steps = [step('Restart', '', action('Restart', 'Octopus.Script', script('Bash', 'echo restarting', true)))];
  await ok('PUT', `/api/runbookProcesses/${runbook.RunbookProcessId}`, rbProcess);
  assert.equal(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled(), true, 'no run before a snapshot is published');
  await page.getByLabel('Snapshot notes', { exact: true }).fill('first');
  await page.getByRole('button', { name: 'Publish snapshot', exact: true }).click();
  await page.getByRole('status').filter({ hasText: /^Published / }).waitFor();
  // Settings: the runbook runs only in Dev; the run form then offers only Dev.
  await page.getByLabel('Only these environments', { exact: true }).check();
  await page.getByLabel('Runs in Dev', { exact: true }).check();
  await page.getByRole('button', { name: 'Save settings', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
  const scoped = await ok('GET', `/api/runbooks/${runbook.Id}`);
  assert.deepEqual([scoped.EnvironmentScope, scoped.Environments, scoped.Description], ['Specified', [ids.dev], 'Restarts the shop']);
  const environment = page.getByLabel('Environment', { exact: true });
  await eventually(async () => JSON.stringify(await environment.locator('option').allTextContents()) === '["Dev"]',
                   { what: 'only Dev offered to run in' });
  await environment.selectOption({ label: 'Dev' });
  await session.screenshot('runbook');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForURL(/\/app\/tasks\/ServerTasks-\d+$/);
  const runTask = page.url().split('/').pop();
  const runs = (await ok('GET', '/api/runbookRuns')).Items;
  assert.deepEqual(runs.map((r) => [r.RunbookId, r.EnvironmentId, r.TaskId]), [[runbook.Id, ids.dev, runTask]]);
  assert.equal((await waitTask(runTask)).State, 'Success');
  await session.screenshot('runbook-task');
  assert.deepEqual(session.consoleErrors.filter((e) => !/status of 4\d\d/.test(e)), []);
});
