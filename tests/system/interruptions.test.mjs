// The interruptions API and the task side of parking (issue 11), through the API only, on one
// node. Interruptions themselves are raised by the orchestrator (a manual step, guided failure);
// until a deployment raises one, this checks the routes, their errors and the task filters and
// shapes that do not need one. The flow with real prompts is in the deployment system tests.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Node, tempDir, freePort, eventually } from './lib/cluster.mjs';

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
