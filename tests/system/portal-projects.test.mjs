// The portal's Projects pages (issue 13) in a real browser, signed in as admin with the session
// cookie (so every save also passes the CSRF check): create a project (and see the API's message
// for a taken name), build its deployment process with a script, a manual and a package step,
// reorder them by keyboard, save, reload, and compare with what the API itself returns; a save the
// API refuses (a duplicate step name, then a stale Version) shows the API's own message. The
// overview lists a release with its deployment's state, linked to the task.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, ADMIN_KEY } from './lib/cluster.mjs';
import { openBrowser } from './lib/browser.mjs';
import { adminPassword, signIn, startPortalNode } from './lib/portal.mjs';
import { multipart, zip } from './lib/archives.mjs';

let node;
let session;
let page;
let projectId;
let production;
let staging;

const ok = (method, p, body) => node.ok(method, p, body);

before(async () => {
  node = await startPortalNode('projects1');
  staging = (await ok('POST', '/api/environments', { Name: 'Staging' })).Id;
  production = (await ok('POST', '/api/environments', { Name: 'Production' })).Id;
  // A package in the built-in feed, for the package step's list.
  const { body, contentType } = multipart('Acme.Web.1.0.0.zip', zip([['index.html', 'hello']]));
  const r = await fetch(`${node.url}/api/packages/raw`, {
    method: 'POST', body, headers: { 'X-Octopus-ApiKey': ADMIN_KEY, 'Content-Type': contentType },
  });
  assert.equal(r.status, 201, await r.text());
});

after(async () => {
  await session?.close();
  await node?.kill();
});

test('sign in and create a project; a taken name shows the API\'s message', async (t) => {
  session = await openBrowser('portal-projects', { baseURL: node.url, log: (m) => t.diagnostic(m) });
  page = session.page;
  await signIn(page, 'admin', adminPassword(node), { returnUrl: '/projects', landing: 'Projects' });
  await page.getByText('No projects yet').waitFor();
  await session.screenshot('projects-empty');

  await page.getByLabel('Name', { exact: true }).fill('Web shop');
  assert.equal(await page.getByLabel('Project group', { exact: true }).inputValue(),
    (await ok('GET', '/api/projectgroups/all'))[0].Id);
  assert.equal(await page.getByLabel('Lifecycle', { exact: true }).inputValue(),
    (await ok('GET', '/api/lifecycles/all'))[0].Id);
  await page.getByLabel('Description', { exact: true }).fill('The shop front');
  await page.getByRole('button', { name: 'Create project', exact: true }).click();
  await page.waitForURL(/\/app\/projects\/Projects-\d+$/);
  projectId = page.url().match(/(Projects-\d+)$/)[1];
  const created = await ok('GET', `/api/projects/${projectId}`);
  assert.equal(created.Name, 'Web shop');
  assert.equal(created.Description, 'The shop front');
  const tabs = page.getByRole('navigation', { name: 'Project Web shop' });
  for (const tab of ['Overview', 'Process', 'Variables', 'Channels', 'Runbooks']) {
    await tabs.getByRole('link', { name: tab, exact: true }).waitFor();
  }
  assert.equal(await tabs.getByRole('link', { name: 'Overview', exact: true }).getAttribute('aria-current'), 'page');
  await page.getByRole('link', { name: 'Create release', exact: true }).waitFor();
  await page.getByText('No releases yet').waitFor();
  await session.screenshot('project-overview-empty');

  // The same name again: the page shows what the API answers.
  const again = await node.api('POST', '/api/projects', {
    body: { Name: 'Web shop', ProjectGroupId: created.ProjectGroupId, LifecycleId: created.LifecycleId, Description: '' },
  });
  assert.equal(again.status, 400);
  await page.getByRole('link', { name: 'Projects', exact: true }).first().click();
  await page.getByRole('link', { name: 'Web shop', exact: true }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('Web shop');
  await page.getByRole('button', { name: 'Create project', exact: true }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  const text = await alert.textContent();
  assert.ok(text.includes(again.json.ErrorMessage), `${text} shows ${again.json.ErrorMessage}`);
  for (const detail of again.json.Errors ?? []) assert.ok(text.includes(detail), `${text} lists ${detail}`);
  await session.screenshot('projects-duplicate-name');
});

test('the process editor: add script, manual and package steps, reorder by keyboard, save, reload', async () => {
  await page.goto(`/app/projects/${projectId}`);
  await page.getByRole('navigation', { name: 'Project Web shop' }).getByRole('link', { name: 'Process', exact: true }).click();
  await page.getByRole('heading', { name: 'Process', level: 1 }).waitFor();
  await page.getByText('No steps yet').waitFor();
  const save = page.getByRole('button', { name: 'Save', exact: true });
  assert.equal(await save.isDisabled(), true, 'nothing to save yet');

  // A script step, its body typed with the editor's keys (Tab indents, Shift+Tab unindents).
  await page.getByRole('button', { name: 'Add script step', exact: true }).click();
  const stepName = page.getByLabel('Step name', { exact: true });
  await eventually(() => stepName.evaluate((el) => el === document.activeElement), { what: 'the new step\'s name focused' });
  await stepName.fill('Say hello');
  await page.getByText('Unsaved changes').waitFor();
  const scriptField = page.getByLabel('Script', { exact: true });
  assert.equal(await page.getByLabel('Syntax', { exact: true }).inputValue(), 'Bash');
  await scriptField.focus();
  await page.keyboard.type('for i in 1 2; do');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await page.keyboard.type('echo "hi $i"');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await page.keyboard.type('done');
  await page.keyboard.press('Shift+Tab');
  const body = 'for i in 1 2; do\n  echo "hi $i"\ndone';
  assert.equal(await scriptField.inputValue(), body);
  assert.ok(await scriptField.evaluate((el) => el === document.activeElement), 'Tab stays in the editor');
  assert.equal((await page.locator('.code-gutter').textContent()).trim(), '1\n2\n3');
  // Esc then Tab leaves the editor (no keyboard trap).
  await page.keyboard.press('Escape');
  await page.keyboard.press('Tab');
  assert.ok(!(await scriptField.evaluate((el) => el === document.activeElement)), 'Esc, Tab leaves the editor');
  assert.equal(await scriptField.inputValue(), body);
  await page.getByLabel('Target roles', { exact: true }).fill('web, api');
  await page.getByLabel('Variable: only when an expression is true', { exact: true }).check();
  await page.getByLabel('Condition expression', { exact: true }).fill('#{RunIt}');
  await session.screenshot('process-script-step');

  // A manual intervention.
  await page.getByRole('button', { name: 'Add manual intervention step', exact: true }).click();
  await eventually(() => stepName.evaluate((el) => el === document.activeElement), { what: 'the new step\'s name focused' });
  await stepName.fill('Approve');
  await page.getByLabel('Instructions', { exact: true }).fill('Check the staging site.');
  await page.getByLabel('Always run', { exact: true }).check();

  // A package step, the package offered from the built-in feed.
  await page.getByRole('button', { name: 'Add package step', exact: true }).click();
  await stepName.fill('Deploy web');
  assert.equal(await page.getByLabel('Package feed', { exact: true }).inputValue(), 'feeds-builtin');
  await page.getByText('1 package in the built-in feed').waitFor();
  assert.deepEqual(await page.locator('datalist option').evaluateAll((os) => os.map((o) => o.value)), ['Acme.Web']);
  await page.getByLabel('Package ID', { exact: true }).fill('Acme.Web');
  await page.getByLabel('Target roles', { exact: true }).fill('web');
  await page.getByRole('group', { name: 'Environments' }).getByLabel('Production', { exact: true }).check();
  await session.screenshot('process-package-step');

  // Reorder by keyboard: "Deploy web" up twice; focus follows the step.
  const names = () => page.locator('.step-list .step-select').allTextContents();
  assert.deepEqual(await names(), ['Say hello', 'Approve', 'Deploy web']);
  await page.getByRole('button', { name: 'Move up Deploy web', exact: true }).focus();
  await page.keyboard.press('Enter');
  assert.deepEqual(await names(), ['Say hello', 'Deploy web', 'Approve']);
  await page.keyboard.press('Enter');
  assert.deepEqual(await names(), ['Deploy web', 'Say hello', 'Approve']);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Move down Deploy web',
    'at the top, focus moves to the step\'s Move down');
  assert.equal(await page.getByRole('button', { name: 'Move up Deploy web', exact: true }).isDisabled(), true);

  // A step added by mistake is deleted; focus goes back to the list.
  await page.getByRole('button', { name: 'Add script step', exact: true }).click();
  assert.deepEqual(await names(), ['Deploy web', 'Say hello', 'Approve', 'Run a script']);
  await page.getByRole('button', { name: 'Delete step', exact: true }).click();
  assert.deepEqual(await names(), ['Deploy web', 'Say hello', 'Approve']);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Approve');

  // Leaving through a link with unsaved changes asks; dismissed, the page stays.
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); void d.dismiss(); });
  await page.getByRole('navigation', { name: 'Project Web shop' }).getByRole('link', { name: 'Overview', exact: true }).click();
  assert.match(asked, /unsaved changes/);
  assert.match(page.url(), /\/process$/);
  await page.getByText('Unsaved changes').waitFor();

  await save.click();
  await page.getByText(/^Saved \(version \d+\)\.$/).waitFor();
  assert.equal(await save.isDisabled(), true);
  await session.screenshot('process-saved');

  // The API holds what the page showed.
  const check = async () => {
    const p = await ok('GET', `/api/projects/${projectId}/deploymentprocesses`);
    assert.deepEqual(p.Steps.map((s) => s.Name), ['Deploy web', 'Say hello', 'Approve']);
    const [pkg, script, manual] = p.Steps;
    assert.equal(pkg.Actions[0].ActionType, 'Octopus.TentaclePackage');
    assert.equal(pkg.Properties['Octopus.Action.TargetRoles'], 'web');
    assert.equal(pkg.Actions[0].Packages[0].PackageId, 'Acme.Web');
    assert.equal(pkg.Actions[0].Packages[0].FeedId, 'feeds-builtin');
    assert.equal(pkg.Actions[0].Properties['Octopus.Action.Package.PackageId'], 'Acme.Web');
    assert.deepEqual(pkg.Actions[0].Environments, [production]);
    assert.equal(script.Actions[0].ActionType, 'Octopus.Script');
    assert.equal(script.Actions[0].Name, 'Say hello');
    assert.equal(script.Actions[0].Properties['Octopus.Action.Script.ScriptBody'], body);
    assert.equal(script.Actions[0].Properties['Octopus.Action.Script.Syntax'], 'Bash');
    assert.equal(script.Properties['Octopus.Action.TargetRoles'], 'web,api');
    assert.equal(script.Condition, 'Variable');
    assert.equal(script.Properties['Octopus.Step.ConditionVariableExpression'], '#{RunIt}');
    assert.equal(manual.Actions[0].ActionType, 'Octopus.Manual');
    assert.equal(manual.Actions[0].Properties['Octopus.Action.Manual.Instructions'], 'Check the staging site.');
    assert.equal(manual.Condition, 'Always');
    return p;
  };
  await check();

  // A reload shows the saved process.
  await page.reload();
  await page.getByRole('heading', { name: 'Process', level: 1 }).waitFor();
  await eventually(async () => JSON.stringify(await names()) === JSON.stringify(['Deploy web', 'Say hello', 'Approve']),
    { what: 'the saved order after a reload' });
  await page.getByRole('button', { name: 'Say hello', exact: true }).click();
  assert.equal(await page.getByLabel('Script', { exact: true }).inputValue(), body);
  assert.equal(await page.getByLabel('Target roles', { exact: true }).inputValue(), 'web, api');
  assert.equal(await page.getByLabel('Condition expression', { exact: true }).inputValue(), '#{RunIt}');
  await session.screenshot('process-reloaded');
});

test('a save the API refuses shows its message: a duplicate step name, then a stale version', async () => {
  const before = await ok('GET', `/api/projects/${projectId}/deploymentprocesses`);
  const save = page.getByRole('button', { name: 'Save', exact: true });

  // Rename "Approve" to "Say hello": the API's answer to the same body is what the page shows.
  await page.getByRole('button', { name: 'Approve', exact: true }).click();
  await page.getByLabel('Step name', { exact: true }).fill('Say hello');
  const dup = structuredClone(before);
  dup.Steps[2].Name = 'Say hello';
  dup.Steps[2].Actions[0].Name = 'Say hello';
  const refused = await node.api('PUT', `/api/projects/${projectId}/deploymentprocesses`, { body: dup });
  assert.equal(refused.status, 400);
  await save.click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  let text = await alert.textContent();
  assert.ok(text.includes(refused.json.ErrorMessage), `${text} shows ${refused.json.ErrorMessage}`);
  await page.getByText('Unsaved changes').waitFor();
  await session.screenshot('process-duplicate-name');

  // Someone else saves meanwhile: our save (with the old Version) gets the API's conflict.
  await page.getByRole('button', { name: 'Discard changes', exact: true }).click();
  await alert.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Approve', exact: true }).click();
  await page.getByLabel('Instructions', { exact: true }).fill('Check the staging site twice.');
  const theirs = structuredClone(before);
  theirs.Steps[2].Actions[0].Properties['Octopus.Action.Manual.Instructions'] = 'Changed through the API.';
  await ok('PUT', `/api/projects/${projectId}/deploymentprocesses`, theirs);
  const stale = await node.api('PUT', `/api/projects/${projectId}/deploymentprocesses`, { body: before });
  assert.equal(stale.status, 409);
  await save.click();
  await alert.waitFor();
  text = await alert.textContent();
  assert.ok(text.includes(stale.json.ErrorMessage), `${text} shows ${stale.json.ErrorMessage}`);
  await session.screenshot('process-conflict');
  await page.getByRole('button', { name: 'Reload the process', exact: true }).click();
  await alert.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Approve', exact: true }).click();
  assert.equal(await page.getByLabel('Instructions', { exact: true }).inputValue(), 'Changed through the API.');
  assert.equal(await page.getByText('Unsaved changes').count(), 0);
});

test('the overview lists releases with each deployment\'s state, linked to its task (live)', async () => {
  // A release of a process that runs on the server at once (the steps above need targets).
  const p = await ok('GET', `/api/projects/${projectId}/deploymentprocesses`);
  await ok('PUT', `/api/projects/${projectId}/deploymentprocesses`, {
    ...p,
    Steps: [{
      Name: 'Hello', Condition: 'Success', Properties: {},
      Actions: [{ Name: 'Hello', ActionType: 'Octopus.Script', Properties: {
        'Octopus.Action.Script.ScriptSource': 'Inline', 'Octopus.Action.Script.Syntax': 'Bash',
        'Octopus.Action.Script.ScriptBody': 'echo hello' } }],
    }],
  });
  await page.getByRole('navigation', { name: 'Project Web shop' }).getByRole('link', { name: 'Overview', exact: true }).click();
  await page.getByText('No releases yet').waitFor();
  const release = await ok('POST', '/api/releases', { ProjectId: projectId, Version: '1.0.1' });
  const deployment = await ok('POST', '/api/deployments', { ReleaseId: release.Id, EnvironmentId: staging });
  // Live: the release and its deployment appear without a reload, and the state follows the task.
  const version = page.getByRole('link', { name: '1.0.1', exact: true });
  await version.waitFor({ timeout: 10000 });
  assert.equal(await version.getAttribute('href'), `/app/projects/${projectId}/releases/1.0.1`);
  await page.getByRole('columnheader', { name: 'Staging', exact: true }).waitFor();
  await page.getByRole('columnheader', { name: 'Production', exact: true }).waitFor();
  const row = page.getByRole('row').filter({ has: version });
  const state = row.getByRole('link', { name: 'Success', exact: true });
  await state.waitFor({ timeout: 20000 });
  assert.equal(await state.getAttribute('href'), `/app/tasks/${deployment.TaskId}`);
  await session.screenshot('project-overview');
  // Nothing failed but the refused saves above (400, 409) and the session check before sign-in.
  const expected = /^(400 .*\/api\/projects|4(00|09) .*\/deploymentprocesses|401 .*\/api\/users\/me)$/;
  assert.deepEqual(session.failedResponses.filter((r) => !expected.test(r)), []);
  assert.deepEqual(session.consoleErrors.filter((e) => !/status of 40[019]/.test(e)), []);
});
