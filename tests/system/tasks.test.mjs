// Server tasks (issue 3): the task API on one node, then a three-node PostgreSQL cluster that
// loses nodes (kill -9, SIGSTOP) and its database (restart) while it runs 300 scripts.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Node, startCluster, tempDir, freePort, eventually, sleep } from './lib/cluster.mjs';

const FINAL = new Set(['Success', 'Failed', 'Canceled', 'TimedOut']);

async function waitFinal(node, id, timeoutMs = 20000) {
  return eventually(async () => {
    const r = await node.get(`/api/tasks/${id}`);
    return FINAL.has(r.json?.State) ? r.json : null;
  }, { timeoutMs, intervalMs: 25, what: `${id} to finish` });
}

function script(node, body, extra = {}) {
  return node.api('POST', '/api/tasks', { body: { Name: 'AdHocScript', Arguments: { ScriptBody: body, Syntax: 'Bash' }, ...extra } });
}

describe('tasks on one node', async () => {
  const dir = tempDir();
  const node = new Node({ name: 'solo', sharedDir: dir, port: await freePort() });
  await node.start();
  after(async () => { await node.kill(); rmSync(dir, { recursive: true, force: true }); });

  test('an ad-hoc bash script runs to Success with its output in the log', async () => {
    const created = await script(node, 'echo "hello from $OCTOPUS_TASK_ID"\nwrite_warning "mind the gap"');
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.State, 'Queued');
    assert.equal(created.json.IsCompleted, false);
    const done = await waitFinal(node, created.json.Id);
    assert.equal(done.State, 'Success');
    assert.equal(done.IsCompleted, true);
    assert.equal(done.FinishedSuccessfully, true);
    assert.equal(done.HasWarningsOrErrors, true);
    assert.equal(done.ServerNode, 'solo');
    for (const f of ['QueueTime', 'StartTime', 'CompletedTime', 'Duration']) assert.ok(done[f], f);
    const raw = await fetch(`${node.url}/api/tasks/${done.Id}/raw`, { headers: { 'X-Octopus-ApiKey': (await import('./lib/cluster.mjs')).ADMIN_KEY } });
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get('content-type'), /^text\/plain/);
    const text = await raw.text();
    assert.equal(Number(raw.headers.get('content-length')), Buffer.byteLength(text));
    assert.match(text, new RegExp(`Info\\s+\\| hello from ${done.Id}`));
    assert.match(text, /Warning\s+\| mind the gap/);
    const details = await node.get(`/api/Spaces-1/tasks/${done.Id}/details`);
    assert.equal(details.status, 200);
    const activity = details.json.ActivityLogs[0];
    assert.equal(activity.Status, 'SuccessWithWarning');
    assert.ok(activity.LogElements.some((e) => e.Category === 'Warning' && e.MessageText === 'mind the gap'));
    assert.ok(Array.isArray(activity.Children));
    assert.equal(details.json.Progress.ProgressPercentage, 100);
    const tail = await node.get(`/api/tasks/${done.Id}/raw?offset=${Buffer.byteLength(text) - 10}`);
    assert.equal(tail.text, text.slice(-10));
  });

  test('a failing script ends Failed with the exit code in ErrorMessage', async () => {
    const created = await script(node, 'echo broken >&2\nexit 42');
    const done = await waitFinal(node, created.json.Id);
    assert.equal(done.State, 'Failed');
    assert.equal(done.FinishedSuccessfully, false);
    assert.match(done.ErrorMessage, /exit code 42/);
  });

  test('artifacts are collected, listed, downloaded and deleted', async () => {
    const created = await script(node, 'printf "artifact-bytes" > out.txt\nnew_octopusartifact out.txt report.txt');
    const done = await waitFinal(node, created.json.Id);
    assert.equal(done.State, 'Success');
    const list = await node.get(`/api/Spaces-1/artifacts?regarding=${done.Id}`);
    assert.equal(list.json.TotalResults, 1);
    const a = list.json.Items[0];
    assert.equal(a.Filename, 'report.txt');
    assert.equal(a.ServerTaskId, done.Id);
    const content = await node.get(`/api/Spaces-1/artifacts/${a.Id}/content`);
    assert.equal(content.text, 'artifact-bytes');
    assert.equal(Number(content.headers.get('content-length')), 14);
    assert.equal((await node.api('DELETE', `/api/Spaces-1/artifacts/${a.Id}`)).status, 200);
    assert.equal((await node.get(`/api/Spaces-1/artifacts/${a.Id}`)).status, 404);
  });

  test('lists filter by ids, states, node, name and active/running', async () => {
    const noop = await node.api('POST', '/api/Spaces-1/tasks', { body: { Name: 'Noop' } });
    assert.equal(noop.status, 201);
    await waitFinal(node, noop.json.Id);
    const byIds = await node.get(`/api/Spaces-1/tasks?ids=${noop.json.Id},ServerTasks-1&skip=300&take=300`);
    assert.deepEqual(byIds.json.Items.map((t) => t.Id).sort(), ['ServerTasks-1', noop.json.Id].sort());
    const failed = await node.get('/api/tasks?states=Failed');
    assert.ok(failed.json.Items.length >= 1 && failed.json.Items.every((t) => t.State === 'Failed'));
    const byName = await node.get('/api/tasks?name=Noop');
    assert.ok(byName.json.Items.every((t) => t.Name === 'Noop'));
    const byNode = await node.get('/api/tasks?node=OctopusServerNodes-solo');
    assert.equal(byNode.json.TotalResults, (await node.get('/api/tasks')).json.TotalResults);
    assert.equal((await node.get('/api/tasks?active=true')).json.TotalResults, 0);
    assert.equal((await node.get('/api/tasks?states=Bogus')).status, 400);
  });

  test('cancel: queued at once, running within a second; rerun queues a copy', async () => {
    const running = await script(node, 'echo started\nsleep 600');
    await eventually(async () => (await node.get(`/api/tasks/${running.json.Id}/raw`)).text.includes('started'),
      { what: 'script to start' });
    const t0 = Date.now();
    const c = await node.api('POST', `/api/tasks/${running.json.Id}/cancel`, { body: {} });
    assert.equal(c.status, 200);
    const done = await waitFinal(node, running.json.Id);
    assert.equal(done.State, 'Canceled');
    assert.ok(Date.now() - t0 < 1000 + 100, `canceled after ${Date.now() - t0} ms`);
    const rerun = await node.api('POST', `/api/tasks/${done.Id}/rerun`, { body: {} });
    assert.equal(rerun.status, 201);
    assert.notEqual(rerun.json.Id, done.Id);
    await node.api('POST', `/api/tasks/${rerun.json.Id}/cancel`, { body: {} });
    assert.equal((await waitFinal(node, rerun.json.Id)).State, 'Canceled');
  });

  test('bad input is 400 and unknown ids are 404, never 5xx', async () => {
    for (const body of [{}, { Name: 'AdHocScript' }, { Name: 'AdHocScript', Arguments: { ScriptBody: '' } },
      { Name: 'AdHocScript', Arguments: { ScriptBody: 'x', Syntax: 'PowerShell' } }, { Name: 'Rm' },
      { Name: 'Noop', QueueTimeExpiry: 'soon' }]) {
      const r = await node.api('POST', '/api/tasks', { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(r.json.ErrorMessage);
    }
    const before = (await node.get('/api/tasks')).json.TotalResults;
    assert.equal((await node.api('POST', '/api/tasks', { body: '{' })).status, 400);
    assert.equal((await node.get('/api/tasks')).json.TotalResults, before, 'nothing stored');
    for (const p of ['/api/tasks/ServerTasks-999999', '/api/tasks/nonsense', '/api/tasks/ServerTasks-999999/raw',
      '/api/tasks/ServerTasks-999999/details', '/api/Spaces-77/tasks/ServerTasks-1', '/api/Spaces-1/artifacts/Artifacts-999']) {
      assert.equal((await node.get(p)).status, 404, p);
    }
    assert.equal((await node.api('POST', '/api/tasks/ServerTasks-999999/cancel', { body: {} })).status, 404);
  });

  test('an expired queued task ends TimedOut', async () => {
    await node.api('PUT', '/api/octopusservernodes/OctopusServerNodes-solo', { body: { IsInMaintenanceMode: true } });
    await eventually(async () => (await fetch(`${node.url}/api/octopusservernodes/ping`)).status === 418, { what: 'drain' });
    const expiry = new Date(Date.now() + 500).toISOString();
    const t = await node.api('POST', '/api/tasks', { body: { Name: 'Noop', QueueTimeExpiry: expiry } });
    const done = await waitFinal(node, t.json.Id);
    assert.equal(done.State, 'TimedOut');
    await node.api('PUT', '/api/octopusservernodes/OctopusServerNodes-solo', { body: { IsInMaintenanceMode: false } });
  });
});

describe('three nodes on PostgreSQL losing nodes and the database', async () => {
  const NODE_TIMEOUT = 2000;
  const cluster = await startCluster(3, { prefix: 'ha', heartbeatMs: 200, nodeTimeoutMs: NODE_TIMEOUT });
  const [a, b, c] = cluster.nodes;
  const idsFile = path.join(cluster.sharedDir, 'ids.txt');
  writeFileSync(idsFile, '');
  after(() => cluster.stop());

  test('300 scripts survive kill -9 and SIGSTOP: every task final, no id twice', async () => {
    const ids = [];
    // Every script first waits for the gate, opened once all 300 are queued: how fast the test
    // can send them (slow on a loaded machine) then cannot let the cluster run out of work before
    // the outages below.
    const gate = path.join(cluster.sharedDir, 'gate');
    for (let i = 0; i < 300; i++) {
      // Long enough (0.5-0.9 s each, ~15 s for the cluster) that both outages hit running scripts.
      const r = await script(cluster.nodes[i % 3],
        `while [ ! -e ${gate} ]; do sleep 0.05; done\nsleep 0.$((RANDOM % 5 + 5))\necho "$OCTOPUS_TASK_ID" >> ${idsFile}`);
      assert.equal(r.status, 201, r.text);
      ids.push(r.json.Id);
    }
    writeFileSync(gate, '');
    // Kill b while it runs scripts.
    await eventually(async () => (await a.get('/api/tasks?node=OctopusServerNodes-ha2&running=true')).json.TotalResults > 0,
      { what: 'ha2 to run tasks' });
    const killedAt = Date.now();
    await b.kill();
    const handled = await eventually(async () => {
      const r = await a.get('/api/tasks?node=OctopusServerNodes-ha2&running=true');
      return r.json.TotalResults === 0 ? Date.now() : null;
    }, { timeoutMs: NODE_TIMEOUT + 5000, intervalMs: 20, what: "ha2's tasks to be handled" });
    const handledMs = handled - killedAt;
    console.log(`# tasks of the killed node handled ${handledMs} ms after kill -9 (node timeout ${NODE_TIMEOUT} ms)`);
    assert.ok(handledMs <= NODE_TIMEOUT + 2000, `handled after ${handledMs} ms`);
    await b.start();

    // Stop c for longer than the node timeout while it runs scripts, then let it go on.
    await eventually(async () => (await a.get('/api/tasks?node=OctopusServerNodes-ha3&running=true')).json.TotalResults > 0,
      { what: 'ha3 to run tasks' });
    const stoppedTasks = (await a.get('/api/tasks?node=OctopusServerNodes-ha3&running=true')).json.Items.map((t) => t.Id);
    c.signal('SIGSTOP');
    await sleep(NODE_TIMEOUT + 1500); // a wall-clock outage of the node process is the point here
    await eventually(async () => (await a.get('/api/tasks?node=OctopusServerNodes-ha3&running=true')).json.TotalResults === 0,
      { timeoutMs: 5000, what: "ha3's tasks to be handled while it is stopped" });
    const reaped = {};
    for (const id of stoppedTasks) reaped[id] = (await a.get(`/api/tasks/${id}`)).json;
    c.signal('SIGCONT');

    const all = await eventually(async () => {
      const r = await a.get(`/api/tasks?ids=${ids.join(',')}`);
      return r.json.Items.every((t) => FINAL.has(t.State)) ? r.json.Items : null;
    }, { timeoutMs: 60000, intervalMs: 250, what: 'all 300 tasks to finish' });
    assert.equal(all.length, 300);

    // The resumed node's late writes were rejected: what the cluster recorded while it was stopped
    // still stands, and their logs end with the line the reaper wrote.
    await sleep(1000);
    for (const [id, before] of Object.entries(reaped)) {
      const now = (await a.get(`/api/tasks/${id}`)).json;
      if (before.State === 'Failed') {
        assert.equal(now.State, 'Failed', id);
        assert.equal(now.ErrorMessage, before.ErrorMessage, id);
        assert.match(now.ErrorMessage, /ha3 .*stopped responding/);
        const raw = (await a.get(`/api/tasks/${id}/raw`)).text.trim().split('\n');
        assert.match(raw[raw.length - 1], /stopped responding/, `${id} log ends with the reaper's line`);
      }
    }
    assert.match(c.output, /lost ownership|fenced|no longer/, 'the resumed node noticed it lost its tasks');
    assert.equal(c.exited, null, 'the resumed node keeps running');

    const lines = readFileSync(idsFile, 'utf8').trim().split('\n').filter(Boolean);
    const seen = new Set();
    for (const l of lines) {
      assert.ok(!seen.has(l), `${l} ran twice`);
      seen.add(l);
    }
    const succeeded = all.filter((t) => t.State === 'Success').map((t) => t.Id);
    for (const id of succeeded) assert.ok(seen.has(id), `${id} succeeded without writing`);
    console.log(`# 300 tasks: ${succeeded.length} Success, ${all.filter((t) => t.State === 'Failed').length} Failed (interrupted by node loss)`);
  });

  test('cancel on another node stops a sleep 600 script within a second', async () => {
    for (const n of cluster.nodes) if (n.exited) await n.start();
    const t = await script(a, 'echo started\nsleep 600');
    const owner = await eventually(async () => {
      const r = await b.get(`/api/tasks/${t.json.Id}`);
      return r.json.State === 'Executing' && (await b.get(`/api/tasks/${t.json.Id}/raw`)).text.includes('started') ? r.json.ServerNode : null;
    }, { what: 'script to start' });
    const other = cluster.nodes.find((n) => n.name !== owner);
    const t0 = Date.now();
    await other.api('POST', `/api/tasks/${t.json.Id}/cancel`, { body: {} });
    const done = await waitFinal(other, t.json.Id);
    const took = Date.now() - t0;
    assert.equal(done.State, 'Canceled');
    console.log(`# cancel from ${other.name} of a task on ${owner}: Canceled after ${took} ms`);
    assert.ok(took <= 1100, `took ${took} ms`);
  });

  test('PostgreSQL restarted mid-run: nodes keep running and resume claiming', async () => {
    const pgCtl = path.join(process.env.CUTTLE_TEST_PG_BIN, 'pg_ctl');
    const asPg = (args) => process.env.CUTTLE_TEST_PG_RUNAS
      ? execFileSync('runuser', ['-u', process.env.CUTTLE_TEST_PG_RUNAS, '--', pgCtl, ...args])
      : execFileSync(pgCtl, args);
    const before = await script(a, 'sleep 1; echo survived');
    asPg(['-D', process.env.CUTTLE_TEST_PG_DATA, '-m', 'fast', '-w', 'stop']);
    await sleep(1000);
    asPg(['-D', process.env.CUTTLE_TEST_PG_DATA, '-l', process.env.CUTTLE_TEST_PG_LOG, '-w', 'start']);
    const upAt = Date.now();
    const t = await eventually(async () => {
      const r = await a.api('POST', '/api/tasks', { body: { Name: 'Noop' } });
      return r.status === 201 ? r.json : null;
    }, { timeoutMs: 10000, intervalMs: 20, what: 'the API to accept tasks again' });
    const done = await waitFinal(a, t.Id, 10000);
    const resumed = Date.parse(done.StartTime) - upAt;
    console.log(`# after the PostgreSQL restart a new task started ${resumed} ms after the database accepted connections`);
    assert.equal(done.State, 'Success');
    assert.ok(resumed <= 2000, `resumed after ${resumed} ms`);
    const b4 = await waitFinal(a, before.json.Id, 20000);
    assert.ok(FINAL.has(b4.State));
    for (const n of cluster.nodes) assert.equal(n.exited, null, `${n.name} still runs`);
    // A task this short keeps its log in its row rather than a file of its own: every node serves
    // it, whole and from an offset.
    for (const n of cluster.nodes) {
      const raw = await n.get(`/api/tasks/${t.Id}/raw`);
      assert.match(raw.text, /Info\s+\| Noop task on node/, n.name);
      assert.equal(raw.headers.get('x-cuttle-log-size'), String(Buffer.byteLength(raw.text)));
      assert.equal((await n.get(`/api/tasks/${t.Id}/raw?offset=5`)).text, raw.text.slice(5));
    }
  });
});
