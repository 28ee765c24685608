// The node foundation (issue 2): single-node SQLite start, authentication, the root document,
// spaces, cluster membership on PostgreSQL, drain/ping, node death, and start-up refusals.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  ADMIN_KEY, Node, runServer, startCluster, createDatabase, tempDir, freePort, eventually, sleep,
} from './lib/cluster.mjs';

describe('single node on SQLite', async () => {
  const dir = tempDir();
  const node = new Node({ name: 'solo', sharedDir: dir, port: await freePort() });
  // No --admin-api-key: the node must print a random one once.
  node.args = function () {
    return ['run', '--node-name', 'solo', '--listen', `127.0.0.1:${this.port}`, '--shared-dir', dir];
  };
  await node.start();
  const key = node.output.match(/API key \(shown once\): (API-[A-Z0-9]+)/)?.[1];
  after(async () => { await node.kill(); rmSync(dir, { recursive: true, force: true }); });

  test('prints the URL and the new admin API key, and creates the master key file', () => {
    assert.match(node.output, new RegExp(`listening on http://127.0.0.1:${node.port}`));
    assert.ok(key, node.output);
    assert.ok(existsSync(path.join(dir, 'master.key')));
    assert.ok(existsSync(path.join(dir, 'cuttle.db')));
  });

  test('root document speaks an Octopus API level clients accept', async () => {
    const r = await node.get('/api', { key: null });
    assert.equal(r.status, 200);
    assert.equal(r.json.Application, 'Cuttle');
    assert.match(r.json.Version, /^\d+\.\d+\.\d+$/);
    const [a, b, c] = r.json.Version.split('.').map(Number);
    assert.ok(a > 2022 || (a === 2022 && (b > 3 || (b === 3 && c >= 5512))), r.json.Version);
    assert.match(r.json.InstallationId, /^[0-9a-f-]{36}$/);
    assert.ok(r.json.CuttleVersion);
    assert.equal(r.headers.get('octopus-node'), 'solo');
  });

  test('protected routes need an API key, in the header or the apikey query parameter', async () => {
    const anon = await node.get('/api/users/me', { key: null });
    assert.equal(anon.status, 401);
    assert.match(anon.json.ErrorMessage, /API key/);
    assert.ok(Array.isArray(anon.json.Errors));
    assert.equal((await node.get('/api/users/me', { key: 'API-WRONGWRONGWRONGWRONGWRONGWRONG' })).status, 401);
    assert.equal((await node.get('/api/users/me', { key: 'not-a-key' })).status, 401);
    const me = await node.get('/api/users/me', { key });
    assert.equal(me.status, 200);
    assert.equal(me.json.Username, 'admin');
    assert.equal(me.json.Id, 'Users-1');
    const q = await node.get(`/api/users/me?apikey=${key}`, { key: null });
    assert.equal(q.status, 200);
  });

  test('the Default space exists and collections page like Octopus', async () => {
    const list = await node.get('/api/spaces?partialName=def&skip=0&take=2147483647', { key });
    assert.equal(list.status, 200);
    assert.equal(list.json.TotalResults, 1);
    assert.equal(list.json.Items[0].Id, 'Spaces-1');
    assert.equal(list.json.Items[0].Name, 'Default');
    assert.equal(list.json.Items[0].IsDefault, true);
    for (const f of ['ItemsPerPage', 'NumberOfPages', 'LastPageNumber', 'Links']) assert.ok(f in list.json, f);
    const empty = await node.get('/api/spaces?skip=1&take=30', { key });
    assert.equal(empty.json.Items.length, 0);
    assert.equal(empty.json.TotalResults, 1);
    const all = await node.get('/api/spaces/all', { key });
    assert.ok(Array.isArray(all.json));
    assert.equal((await node.get('/api/spaces/Spaces-1', { key })).json.Name, 'Default');
    const missing = await node.get('/api/spaces/Spaces-99', { key });
    assert.equal(missing.status, 404);
    assert.ok(missing.json.ErrorMessage);
    assert.equal((await node.get('/api/spaces?take=-1', { key })).status, 400);
  });

  test('admin create-api-key prints a key that works at once', async () => {
    const r = await runServer(['admin', 'create-api-key', '--user', 'admin', '--shared-dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    const newKey = r.stdout.trim();
    assert.match(newKey, /^API-[A-Z0-9]{26,}$/);
    assert.equal((await node.get('/api/users/me', { key: newKey })).status, 200);
    const unknown = await runServer(['admin', 'create-api-key', '--user', 'nobody', '--shared-dir', dir]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /nobody/);
  });

  test('a restart on the same database keeps the key and does not print a new one', async () => {
    await node.stop();
    await node.start();
    assert.doesNotMatch(node.output, /shown once/);
    assert.equal((await node.get('/api/users/me', { key })).status, 200);
  });

  test('unknown routes and methods answer Octopus-shaped errors with the node header', async () => {
    const r = await node.get('/api/nothing-here', { key });
    assert.equal(r.status, 404);
    assert.ok(r.json.ErrorMessage);
    assert.equal(r.headers.get('octopus-node'), 'solo');
    const m = await node.api('PATCH', '/api/spaces', { key });
    assert.equal(m.status, 405);
  });

  test('SIGTERM exits 0 and marks the node offline at once', async () => {
    const res = await node.stop();
    assert.equal(res.code, 0, node.output);
    const list = await runServer(['node', 'list', '--shared-dir', dir]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /solo\s+offline/);
  });
});

describe('two nodes on PostgreSQL', async () => {
  const cluster = await startCluster(2, { prefix: 'pg', heartbeatMs: 200, nodeTimeoutMs: 1500 });
  const [a, b] = cluster.nodes;
  after(() => cluster.stop());

  test('both nodes are listed by /all from either node with LastSeen advancing', async () => {
    for (const n of [a, b]) {
      const r = await n.get('/api/octopusservernodes/all');
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.map((x) => x.Name).sort(), ['pg1', 'pg2']);
      assert.ok(r.json.every((x) => x.IsOffline === false));
      assert.equal(r.json[0].Id, 'OctopusServerNodes-pg1');
    }
    const before = (await a.get('/api/octopusservernodes/OctopusServerNodes-pg2')).json.LastSeen;
    await eventually(async () => {
      const now = (await a.get('/api/octopusservernodes/OctopusServerNodes-pg2')).json.LastSeen;
      return Date.parse(now) > Date.parse(before);
    }, { what: 'LastSeen to advance' });
  });

  test('the Octopus-Node header names the node that answered', async () => {
    assert.equal((await a.get('/api')).headers.get('octopus-node'), 'pg1');
    assert.equal((await b.get('/api')).headers.get('octopus-node'), 'pg2');
  });

  test('paged list and summary', async () => {
    const page = await b.get('/api/octopusservernodes?take=1');
    assert.equal(page.json.TotalResults, 2);
    assert.equal(page.json.Items.length, 1);
    assert.equal(page.json.NumberOfPages, 2);
    const summary = await b.get('/api/octopusservernodes/summary');
    assert.equal(summary.json.Nodes.length, 2);
    for (const n of summary.json.Nodes) {
      for (const f of ['LastSeen', 'IsOffline', 'RunningTaskCount', 'Version', 'MaxConcurrentTasks']) assert.ok(f in n, f);
    }
  });

  test('a drained node pings 418 while the other pings 200; undrain restores it', async () => {
    const put = await a.api('PUT', '/api/octopusservernodes/OctopusServerNodes-pg2',
      { body: { Id: 'OctopusServerNodes-pg2', IsInMaintenanceMode: true, Name: 'ignored', MaxConcurrentTasks: 7 } });
    assert.equal(put.status, 200);
    assert.equal(put.json.IsInMaintenanceMode, true);
    assert.equal(put.json.MaxConcurrentTasks, 7);
    assert.equal(put.json.Name, 'pg2');
    await eventually(async () => (await fetch(`${b.url}/api/octopusservernodes/ping`)).status === 418, { what: 'pg2 ping 418' });
    const ping = await fetch(`${b.url}/api/octopusservernodes/ping`);
    const body = await ping.json();
    assert.equal(body.IsInMaintenanceMode, true);
    assert.equal(body.Name, 'pg2');
    assert.equal((await fetch(`${a.url}/api/octopusservernodes/ping`)).status, 200);
    await a.api('PUT', '/api/octopusservernodes/OctopusServerNodes-pg2', { body: { IsInMaintenanceMode: false } });
    await eventually(async () => (await fetch(`${b.url}/api/octopusservernodes/ping`)).status === 200, { what: 'pg2 ping 200' });
  });

  test('bad node updates are 400 and change nothing', async () => {
    for (const body of [{ MaxConcurrentTasks: 1001 }, { MaxConcurrentTasks: -1 }, { MaxConcurrentTasks: 'x' },
      { IsInMaintenanceMode: 'yes' }]) {
      const r = await a.api('PUT', '/api/octopusservernodes/OctopusServerNodes-pg1', { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(r.json.Errors.length > 0);
    }
    const notJson = await fetch(`${a.url}/api/octopusservernodes/OctopusServerNodes-pg1`, {
      method: 'PUT', headers: { 'X-Octopus-ApiKey': ADMIN_KEY }, body: '{nope' });
    assert.equal(notJson.status, 400);
    const node = (await a.get('/api/octopusservernodes/OctopusServerNodes-pg1')).json;
    assert.equal(node.MaxConcurrentTasks, 5);
    assert.equal(node.IsInMaintenanceMode, false);
    assert.equal((await a.api('PUT', '/api/octopusservernodes/OctopusServerNodes-nope', { body: {} })).status, 404);
  });

  test('the node command works against the database with no node involved', async () => {
    const env = { CUTTLE_DATABASE: cluster.database };
    const cap = await runServer(['node', 'cap', 'pg1', '12'], { env });
    assert.equal(cap.code, 0, cap.stderr);
    assert.equal((await b.get('/api/octopusservernodes/OctopusServerNodes-pg1')).json.MaxConcurrentTasks, 12);
    const bad = await runServer(['node', 'cap', 'pg1', '5000'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /5000/);
    assert.equal((await runServer(['node', 'drain', 'pg1'], { env })).code, 0);
    await eventually(async () => (await fetch(`${a.url}/api/octopusservernodes/ping`)).status === 418, { what: 'drain via CLI' });
    assert.equal((await runServer(['node', 'undrain', 'pg1'], { env })).code, 0);
    const list = await runServer(['node', 'list'], { env });
    assert.match(list.stdout, /pg1\s+online/);
    assert.match(list.stdout, /pg2\s+online/);
    const missing = await runServer(['node', 'drain', 'ghost'], { env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ghost/);
  });

  test('a deleted live node re-inserts itself at its next heartbeat', async () => {
    const del = await a.api('DELETE', '/api/octopusservernodes/OctopusServerNodes-pg2');
    assert.equal(del.status, 200);
    await eventually(async () => (await a.get('/api/octopusservernodes/OctopusServerNodes-pg2')).status === 200,
      { what: 'pg2 to come back' });
  });

  test('kill -9 makes a node IsOffline within node_timeout_ms + 1 s', async () => {
    const killedAt = Date.now();
    await b.kill();
    await eventually(async () => {
      const r = await a.get('/api/octopusservernodes/OctopusServerNodes-pg2');
      return r.json.IsOffline === true;
    }, { timeoutMs: 1500 + 1000, intervalMs: 20, what: 'pg2 offline' });
    const took = Date.now() - killedAt;
    assert.ok(took <= 2500, `offline after ${took} ms`);
    console.log(`# node detected offline ${took} ms after kill -9 (timeout 1500 ms)`);
  });
});

describe('start-up refusals', async () => {
  test('a node with another master key refuses to start and says so', async () => {
    const cluster = await startCluster(1, { prefix: 'mk' });
    try {
      const other = (await runServer(['master-key', 'generate'])).stdout.trim();
      const r = await runServer(['run', '--node-name', 'intruder', '--listen', `127.0.0.1:${await freePort()}`,
        '--database', cluster.database, '--shared-dir', cluster.sharedDir, '--master-key', other]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /master key does not match this database/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    } finally { await cluster.stop(); }
  });

  test('a node on PostgreSQL without a master key says how to get the cluster key', async () => {
    const r = await runServer(['run', '--database', createDatabase('nokey'), '--shared-dir', tempDir(),
      '--listen', `127.0.0.1:${await freePort()}`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /master-key show/);
  });

  test('an unwritable storage directory names the path and the OS error', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'afile'), 'x');
    const bad = path.join(dir, 'afile', 'artifacts');
    const r = await runServer(['run', '--shared-dir', dir, '--artifacts-dir', bad, '--listen', `127.0.0.1:${await freePort()}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(bad.replace(/[/.]/g, '\\$&')));
    assert.match(r.stderr, /Not a directory/);
  });

  test('invalid configuration exits 2 with one line naming key, value and expectation', async () => {
    const cases = [
      [['--listen', 'nowhere'], /server\.listen: 'nowhere' is not valid \(expected HOST:PORT/],
      [['--task-cap', '1001'], /node\.task_cap: '1001' is not valid \(expected an integer from 0 to 1000\)/],
      [['--database', 'mysql://x'], /database\.url: 'mysql:\/\/x'/],
      [['--config', '/nonexistent.toml'], /cannot read '\/nonexistent.toml'/],
    ];
    for (const [args, re] of cases) {
      const r = await runServer(['run', ...args]);
      assert.equal(r.code, 2, `${args}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const dir = tempDir();
    const toml = path.join(dir, 'c.toml');
    writeFileSync(toml, '[server]\nlisten = "127.0.0.1:1"\nbogus = 1\n');
    const r = await runServer(['run', '--config', toml]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown configuration key 'server\.bogus'/);
  });

  test('a port in use exits 2 naming server.listen', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.on('listening', r));
    const port = blocker.address().port;
    try {
      const r = await runServer(['run', '--shared-dir', tempDir(), '--listen', `127.0.0.1:${port}`]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /server\.listen: '127\.0\.0\.1:\d+'.*in use/);
    } finally { blocker.close(); }
  });

  test('check and migrate report on a healthy database', async () => {
    const dir = tempDir();
    const m = await runServer(['migrate', '--shared-dir', dir]);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /schema is at version \d+/);
    const node = new Node({ name: 'chk', sharedDir: dir, port: await freePort() });
    await node.start();
    await node.stop();
    const c = await runServer(['check', '--shared-dir', dir]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /master key: ok/);
    const shown = await runServer(['master-key', 'show', '--shared-dir', dir]);
    assert.equal(shown.code, 0);
    const wrong = await runServer(['check', '--shared-dir', dir, '--master-key', (await runServer(['master-key', 'generate'])).stdout.trim()]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /does not match/);
  });
});
