// The interruptions API and the task side of parking (issue 11), through the API only, on one
// node: the routes, their errors and the task filters and shapes; then a deployment whose manual
// step and guided failure (raised by the orchestrator) are answered through /interruptions, while
// the task, the dashboard and /details show it waiting, and its /details tree once it succeeds.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_KEY, Node, startCluster, tempDir, freePort, eventually } from './lib/cluster.mjs';
import { action, step } from './lib/octopus.mjs';

const require = createRequire(import.meta.url);
const {
  Client, EnvironmentRepository, LifecycleRepository, ProjectGroupRepository, ProjectRepository,
  NewProject, DeploymentProcessRepository, ReleaseRepository, DeploymentRepository, ServerTaskWaiter,
} = require('@octopusdeploy/api-client');

const FINAL = new Set(['Success', 'Failed', 'Canceled', 'TimedOut']);

function octopusError(r, status) {
  assert.equal(r.status, status, r.text);
  assert.equal(typeof r.json?.ErrorMessage, 'string', r.text);
  assert.ok(Array.isArray(r.json.Errors), r.text);
}

describe('interruptions on one node', async () => {
  const dir = tempDir();
  const node = new Node({ name: 'solo', sharedDir: dir, port: await freePort() });
  await node.start();
  after(async () => { await node.kill(); rmSync(dir, { recursive: true, force: true }); });

  test('the list is an Octopus collection, scoped and in the default space, with its filters', async () => {
    for (const p of ['/api/Spaces-1/interruptions', '/api/interruptions',
      '/api/Spaces-1/interruptions?regarding=ServerTasks-1&pendingOnly=true&skip=0&take=10',
      '/api/Spaces-1/interruptions?regarding=Deployments-99', '/api/interruptions?ids=Interruptions-1']) {
      const r = await node.get(p);
      assert.equal(r.status, 200, `${p}: ${r.text}`);
      assert.equal(r.json.ItemType, 'Interruption');
      assert.deepEqual(r.json.Items, []);
      assert.equal(r.json.TotalResults, 0);
    }
    octopusError(await node.get('/api/Spaces-1/interruptions?pendingOnly=maybe'), 400);
    octopusError(await node.get('/api/Spaces-1/interruptions?take=-1'), 400);
    octopusError(await node.get('/api/Spaces-99/interruptions'), 404);
    const anonymous = await node.get('/api/Spaces-1/interruptions', { key: null });
    assert.equal(anonymous.status, 401);
  });

  test('an unknown interruption is a 404 on every route, and nothing is created', async () => {
    for (const id of ['Interruptions-1', 'Interruptions-x', 'ServerTasks-1']) {
      octopusError(await node.get(`/api/Spaces-1/interruptions/${id}`), 404);
      octopusError(await node.get(`/api/interruptions/${id}/responsible`), 404);
      octopusError(await node.api('PUT', `/api/Spaces-1/interruptions/${id}/responsible`), 404);
      octopusError(await node.api('POST', `/api/Spaces-1/interruptions/${id}/submit`,
        { body: { Result: 'Proceed' } }), 404);
    }
    const r = await node.get('/api/Spaces-1/interruptions');
    assert.equal(r.json.TotalResults, 0);
  });

  test('tasks carry the interruption fields and filter by hasPendingInterruptions', async () => {
    const created = await node.api('POST', '/api/tasks',
      { body: { Name: 'AdHocScript', Arguments: { ScriptBody: 'echo one\necho two\necho three', Syntax: 'Bash' } } });
    assert.equal(created.status, 201, created.text);
    const done = await eventually(async () => {
      const r = await node.get(`/api/tasks/${created.json.Id}`);
      return FINAL.has(r.json?.State) ? r.json : null;
    }, { timeoutMs: 20000, what: 'the script to finish' });
    assert.equal(done.State, 'Success');
    assert.equal(done.HasPendingInterruptions, false);
    assert.deepEqual(done.PendingInterruptionTypes, []);
    const waiting = await node.get('/api/tasks?hasPendingInterruptions=true');
    assert.equal(waiting.status, 200, waiting.text);
    assert.equal(waiting.json.TotalResults, 0);
    const free = await node.get('/api/Spaces-1/tasks?hasPendingInterruptions=false');
    assert.ok(free.json.Items.some((t) => t.Id === done.Id));
    octopusError(await node.get('/api/tasks?hasPendingInterruptions=perhaps'), 400);

    // A task without deployment units keeps the flat details shape; tail keeps the last lines.
    const details = await node.get(`/api/tasks/${done.Id}/details`);
    assert.equal(details.status, 200, details.text);
    assert.equal(details.json.ActivityLogs.length, 1);
    assert.deepEqual(details.json.ActivityLogs[0].Children, []);
    const messages = details.json.ActivityLogs[0].LogElements.map((e) => e.MessageText);
    assert.ok(messages.includes('three'), messages.join('|'));
    const tailed = await node.get(`/api/tasks/${done.Id}/details?tail=1`);
    assert.deepEqual(tailed.json.ActivityLogs[0].LogElements.map((e) => e.MessageText),
      messages.slice(-1));
    octopusError(await node.get(`/api/tasks/${done.Id}/details?tail=-1`), 400);
  });
});

// A one-action step on the targets in `roles` ('' for the server).
const oneActionStep = (name, actionType, properties, roles = '') =>
  step(name, roles, action(name, actionType, properties));

describe('a deployment answered through /interruptions', async () => {
  const dir = tempDir();
  const node = new Node({ name: 'solo', sharedDir: dir, port: await freePort() });
  await node.start();
  after(async () => { await node.kill(); rmSync(dir, { recursive: true, force: true }); });

  async function waitingFor(taskId, type) {
    return eventually(async () => {
      const r = await node.get(`/api/Spaces-1/interruptions?regarding=${taskId}&pendingOnly=true`);
      return r.json?.Items?.length === 1 && r.json.Items[0].Type === type ? r.json.Items[0] : null;
    }, { timeoutMs: 30000, intervalMs: 50, what: `a pending ${type} on ${taskId}` });
  }

  test('a manual step and a guided failure are answered and the deployment succeeds', async () => {
    const client = await Client.create({ instanceURL: node.url, apiKey: ADMIN_KEY, userAgentApp: 'cuttle-test' });
    const env = await new EnvironmentRepository(client, 'Default').create({ Name: 'Dev' });
    const lifecycle = (await new LifecycleRepository(client, 'Default').list({ take: 100 })).Items[0];
    const target = await node.api('POST', '/api/Spaces-1/machines', {
      body: { Name: 'cloud-1', Roles: ['web'], EnvironmentIds: [env.Id], Endpoint: { CommunicationStyle: 'None' } },
    });
    assert.equal(target.status, 201, target.text);
    const group = (await new ProjectGroupRepository(client, 'Default').list({ take: 1 })).Items[0];
    const project = await new ProjectRepository(client, 'Default').create(NewProject('Gated', group, lifecycle));
    const processes = new DeploymentProcessRepository(client, 'Default');
    const proc = await processes.get(project);
    const mark = path.join(dir, 'flaky-ran-once');
    proc.Steps = [
      oneActionStep('Approve', 'Octopus.Manual', { 'Octopus.Action.Manual.Instructions': 'Check the release notes.', 'Octopus.Action.RunOnServer': 'true' }),
      oneActionStep('Flaky', 'Octopus.Script', {
        'Octopus.Action.Script.ScriptSource': 'Inline', 'Octopus.Action.Script.Syntax': 'Bash',
        'Octopus.Action.Script.ScriptBody': `if [ -f '${mark}' ]; then echo "second time lucky"; else touch '${mark}'; echo "first try fails"; exit 3; fi`,
      }, 'web'),
    ];
    await processes.update(project, proc);
    await new ReleaseRepository(client, 'Default').create({ spaceName: 'Default', ProjectName: 'Gated', ReleaseVersion: '1.0.0' });
    const created = await new DeploymentRepository(client, 'Default').create({
      spaceName: 'Default', ProjectName: 'Gated', ReleaseVersion: '1.0.0', EnvironmentNames: ['Dev'], UseGuidedFailure: true,
    });
    const { ServerTaskId: taskId, DeploymentId: deploymentId } = created.DeploymentServerTasks[0];

    // Parked on the manual step: Executing, waiting, found by every view of it.
    const manual = await waitingFor(taskId, 'ManualIntervention');
    assert.equal(manual.TaskId, taskId);
    assert.equal(manual.IsPending, true);
    assert.ok(manual.RelatedDocumentIds.includes(deploymentId), JSON.stringify(manual.RelatedDocumentIds));
    const elements = manual.Form.Elements;
    assert.deepEqual(elements.map((e) => e.Name), ['Instructions', 'Notes', 'Result']);
    assert.equal(elements[0].Control.Text, 'Check the release notes.');
    const byDeployment = await node.get(`/api/Spaces-1/interruptions?regarding=${deploymentId}`);
    assert.deepEqual(byDeployment.json.Items.map((i) => i.Id), [manual.Id]);
    const task = await eventually(async () => {
      const r = await node.get(`/api/tasks/${taskId}`);
      return r.json?.State === 'Executing' && r.json.HasPendingInterruptions ? r.json : null;
    }, { what: 'the task to show its pending interruption' });
    assert.equal(task.IsCompleted, false);
    assert.deepEqual(task.PendingInterruptionTypes, ['ManualIntervention']);
    const waiting = await node.get('/api/tasks?hasPendingInterruptions=true');
    assert.deepEqual(waiting.json.Items.map((t) => t.Id), [taskId]);
    const dashboard = await node.get('/api/Spaces-1/dashboard');
    const cell = dashboard.json.Items.find((i) => i.DeploymentId === deploymentId);
    assert.equal(cell.State, 'Executing');
    assert.equal(cell.HasPendingInterruptions, true);
    const parkedDetails = await node.get(`/api/tasks/${taskId}/details`);
    const approveStep = parkedDetails.json.ActivityLogs[0].Children[0];
    assert.equal(approveStep.Name, 'Step 1: Approve');
    assert.equal(approveStep.Status, 'Running');
    // The manual step began when it started waiting, and has not ended.
    const approveUnit = approveStep.Children[0];
    assert.ok(approveUnit.Started, JSON.stringify(approveUnit));
    assert.equal(approveUnit.Ended, null, JSON.stringify(approveUnit));
    assert.equal(approveStep.Started, approveUnit.Started);

    // Answered: a bad answer is a 400, the answer un-parks the task, a second one is a 409.
    const one = `/api/Spaces-1/interruptions/${manual.Id}`;
    const taken = await node.api('PUT', `${one}/responsible`);
    assert.equal(taken.status, 200, taken.text);
    assert.equal((await node.get(one)).json.HasResponsibility, true);
    assert.equal((await node.api('POST', `${one}/submit`, { body: { Result: 'Later' } })).status, 400);
    const proceed = await node.api('POST', `${one}/submit`, { body: { Notes: 'release notes read', Result: 'Proceed' } });
    assert.equal(proceed.status, 200, proceed.text);
    assert.equal(proceed.json.IsPending, false);
    assert.equal((await node.api('POST', `${one}/submit`, { body: { Result: 'Abort' } })).status, 409);

    // The flaky step fails once: guided failure asks, Retry runs it again.
    const guided = await waitingFor(taskId, 'GuidedFailure');
    assert.deepEqual(guided.Form.Elements.map((e) => e.Name), ['Notes', 'Guidance']);
    assert.deepEqual(guided.Form.Elements[1].Control.Buttons.map((b) => b.Value), ['Fail', 'Retry', 'Ignore', 'Exclude']);
    const retry = await node.api('POST', `/api/Spaces-1/interruptions/${guided.Id}/submit`, { body: { Guidance: 'Retry' } });
    assert.equal(retry.status, 200, retry.text);

    const done = await new ServerTaskWaiter(client, 'Default').waitForServerTaskToComplete(taskId, 100, 60000);
    assert.equal(done.State, 'Success', done.ErrorMessage);
    assert.equal(done.HasPendingInterruptions, false);
    const all = await node.get(`/api/Spaces-1/interruptions?regarding=${deploymentId}`);
    assert.equal(all.json.TotalResults, 2);
    assert.ok(all.json.Items.every((i) => !i.IsPending));
    const events = await node.get(`/api/events?regarding=${taskId}&eventCategories=InterruptionSubmitted`);
    assert.equal(events.json.TotalResults, 2, events.text);

    // The tree: a root for the task, a step per step, a unit per target.
    const details = await node.get(`/api/tasks/${taskId}/details`);
    assert.equal(details.status, 200, details.text);
    const root = details.json.ActivityLogs[0];
    if (process.env.SHOW_DETAILS) console.log(JSON.stringify(details.json.ActivityLogs, null, 1));
    // The first attempt's error stays in its unit's log: the unit, its step and the task show
    // SuccessWithWarning, and the task's HasWarningsOrErrors says so (the claim that logged the
    // error recorded it as it parked).
    assert.equal(root.Status, 'SuccessWithWarning');
    assert.equal(done.HasWarningsOrErrors, true);
    assert.deepEqual(root.Children.map((s) => s.Name), ['Step 1: Approve', 'Step 2: Flaky']);
    assert.equal(root.Children[0].Status, 'Success');
    // The answered manual step keeps the start it got when it began waiting.
    assert.equal(root.Children[0].Children[0].Started, approveUnit.Started);
    assert.ok(root.Children[0].Children[0].Ended);
    assert.match(root.Children[1].Status, /^Success/);
    const flaky = root.Children[1].Children;
    assert.deepEqual(flaky.map((u) => u.Name), ['cloud-1']);
    const lines = flaky[0].LogElements.map((e) => e.MessageText);
    assert.ok(lines.includes('first try fails') && lines.includes('second time lucky'), lines.join('|'));
    const rootLines = root.LogElements.map((e) => e.MessageText);
    assert.ok(!rootLines.includes('second time lucky'), 'a unit line is not repeated in the root');
    assert.equal(details.json.Progress.ProgressPercentage, 100);
  });
});

// Two nodes on PostgreSQL: the node that parked the deployment is not the one answering. The
// answer through the other node un-parks the task, a node claims it under a new epoch, and the
// deployment completes; meanwhile neither node runs it.
describe('an answer through the other node', async () => {
  const cluster = await startCluster(2, { prefix: 'int' });
  const [a, b] = cluster.nodes;
  after(async () => { await cluster.stop(); });

  test('a manual step raised on one node is approved through the other', async () => {
    const client = await Client.create({ instanceURL: a.url, apiKey: ADMIN_KEY, userAgentApp: 'cuttle-test' });
    await new EnvironmentRepository(client, 'Default').create({ Name: 'Dev' });
    const lifecycle = (await new LifecycleRepository(client, 'Default').list({ take: 100 })).Items[0];
    const group = (await new ProjectGroupRepository(client, 'Default').list({ take: 1 })).Items[0];
    const project = await new ProjectRepository(client, 'Default').create(NewProject('Approved', group, lifecycle));
    const processes = new DeploymentProcessRepository(client, 'Default');
    const proc = await processes.get(project);
    proc.Steps = [oneActionStep('Approve', 'Octopus.Manual', { 'Octopus.Action.Manual.Instructions': 'Go?', 'Octopus.Action.RunOnServer': 'true' })];
    await processes.update(project, proc);
    await new ReleaseRepository(client, 'Default').create({ spaceName: 'Default', ProjectName: 'Approved', ReleaseVersion: '1.0.0' });
    const created = await new DeploymentRepository(client, 'Default').create({
      spaceName: 'Default', ProjectName: 'Approved', ReleaseVersion: '1.0.0', EnvironmentNames: ['Dev'],
    });
    const { ServerTaskId: taskId, DeploymentId: deploymentId } = created.DeploymentServerTasks[0];
    const pending = await eventually(async () => {
      const r = await b.get(`/api/Spaces-1/interruptions?regarding=${deploymentId}&pendingOnly=true`);
      return r.json?.Items?.[0];
    }, { timeoutMs: 30000, what: 'the manual step to wait' });
    const parked = await b.get(`/api/tasks/${taskId}`);
    assert.equal(parked.json.State, 'Executing');
    assert.equal(parked.json.HasPendingInterruptions, true);
    assert.equal(parked.json.ServerNode, null, 'a parked task holds no node');
    for (const n of [a, b]) {
      const running = await n.get(`/api/tasks?running=true&node=${n.name}`);
      assert.equal(running.json.TotalResults, 0, `${n.name} runs nothing while the deployment waits`);
    }
    const answered = await b.api('POST', `/api/Spaces-1/interruptions/${pending.Id}/submit`,
      { body: { Result: 'Proceed', Notes: 'from the other node' } });
    assert.equal(answered.status, 200, answered.text);
    const done = await new ServerTaskWaiter(client, 'Default').waitForServerTaskToComplete(taskId, 100, 60000);
    assert.equal(done.State, 'Success', done.ErrorMessage);
    const seen = await a.get(`/api/Spaces-1/interruptions/${pending.Id}`);
    assert.equal(seen.json.IsPending, false);
    assert.equal(seen.json.Form.Values.Notes, 'from the other node');
  });
});
