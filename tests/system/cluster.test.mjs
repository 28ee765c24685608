// Issue 5: a cluster that fails over its database, restarts node by node without a failed
// request, and guards its schema. Real processes: PostgreSQL primary + hot standby, three nodes,
// HAProxy rendered from deploy/haproxy.cfg, deploy/rolling-restart.sh.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { rmSync, mkdtempSync, chmodSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ADMIN_KEY, SERVER_BIN, Node, createDatabase, eventually, freePort, psql, runServer, sleep, startCluster, tempDir,
} from './lib/cluster.mjs';
import { Haproxy, LoadDriver } from './lib/haproxy.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FINAL = new Set(['Success', 'Failed', 'Canceled', 'TimedOut']);

// Runs bash with scripts/pg-lib.sh loaded (pg_start, pg_stop, as_pg, $pg_bin).
function pgsh(script, env = {}) {
  return execFileSync('bash', ['-c', `set -e; . '${ROOT}/scripts/pg-lib.sh'; ${script}`],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function newTask(base, body = 'sleep 0.3; echo ok') {
  return fetch(`${base}/api/tasks`, {
    method: 'POST', signal: AbortSignal.timeout(20000),
    headers: { 'X-Octopus-ApiKey': ADMIN_KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify({ Name: 'AdHocScript', Arguments: { ScriptBody: body, Syntax: 'Bash' } }),
  });
}

async function taskStates(node, ids) {
  const states = {};
  for (const id of ids) {
    const r = await node.get(`/api/tasks/${id}`);
    states[id] = r.status === 200 ? r.json.State : `HTTP ${r.status}`;
  }
  return states;
}

// A node's warnings logged since `sinceMs` (its log lines start with an ISO timestamp): the
// database retries, reconnects and heartbeat attempts that explain a slow recovery.
function warningsSince(node, sinceMs, max = 60) {
  const since = new Date(sinceMs).toISOString();
  const lines = node.output.split('\n').filter((l) => l.slice(0, 24) >= since && / warning /.test(l));
  return lines.length <= max ? lines : [`... ${lines.length - max} earlier warnings`, ...lines.slice(-max)];
}

function countBy(values) {
  const c = {};
  for (const v of values) c[v] = (c[v] ?? 0) + 1;
  return c;
}

describe('database failover: primary stops, the hot standby is promoted', async () => {
  const pgDir = (name) => {
    const d = mkdtempSync(path.join('/tmp', `cuttle-${name}-`));
    chmodSync(d, 0o755);
    return d;
  };
  const primary = pgDir('primary'), standby = pgDir('standby');
  const [p1, p2] = [await freePort(), await freePort()];
  const env = { PRIMARY: primary, STANDBY: standby, P1: String(p1), P2: String(p2) };
  pgsh('pg_start "$PRIMARY" "$P1" >/dev/null', env);
  // A streaming-replication hot standby cloned from the primary (pg_basebackup -R writes
  // primary_conninfo and standby.signal).
  pgsh(`[ -n "$pg_runas" ] && chown "$pg_runas" "$STANDBY"
    as_pg "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$P1" -U cuttle -D "$STANDBY/data" -R -X stream -c fast
    printf "port = %s\\nunix_socket_directories = '%s'\\n" "$P2" "$STANDBY" | as_pg tee -a "$STANDBY/data/postgresql.conf" >/dev/null
    as_pg "$pg_bin/pg_ctl" -D "$STANDBY/data" -l "$STANDBY/server.log" -w -t 30 start >/dev/null`, env);
  // Synchronous replication: a commit is acknowledged only once the standby has it, so promoting
  // the standby cannot lose a committed task (ALTER SYSTEM after the clone: the standby, once
  // promoted, does not wait for a standby of its own).
  const primaryUrl = `postgresql://cuttle@127.0.0.1:${p1}/cuttle_test`;
  psql(primaryUrl, "ALTER SYSTEM SET synchronous_standby_names = '*'");
  psql(primaryUrl, "ALTER SYSTEM SET synchronous_commit = 'on'");
  psql(primaryUrl, 'SELECT pg_reload_conf()');
  await eventually(() => psql(primaryUrl, "SELECT sync_state FROM pg_stat_replication") === 'sync',
    { what: 'the standby to be synchronous' });

  const database = `postgresql://cuttle@127.0.0.1:${p1},127.0.0.1:${p2}/cuttle_test?target_session_attrs=read-write`;
  const sharedDir = tempDir();
  const masterKey = execFileSync(SERVER_BIN, ['master-key', 'generate']).toString().trim();
  const nodes = [];
  for (const name of ['fo1', 'fo2', 'fo3']) {
    nodes.push(new Node({ name, database, sharedDir, masterKey, port: await freePort(), heartbeatMs: 500, nodeTimeoutMs: 5000 }));
  }
  await nodes[0].start();
  await Promise.all(nodes.slice(1).map((n) => n.start()));

  after(async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    pgsh('pg_stop "$PRIMARY" immediate; pg_stop "$STANDBY" immediate', env);
    for (const d of [primary, standby, sharedDir]) rmSync(d, { recursive: true, force: true });
  });

  test('nodes reconnect on their own, no committed task is lost, service resumes within 10 s', async () => {
    const created = [];
    let createErrors = 0;
    let running = true;
    // A stream of short tasks and reads spread over the three nodes.
    const producer = (async () => {
      for (let i = 0; running && i < 2000; i++) {
        const node = nodes[i % 3];
        try {
          const r = await newTask(node.url);
          if (r.status === 201) created.push((await r.json()).Id); else { createErrors++; await r.text(); }
        } catch { createErrors++; }
        await sleep(100);
      }
    })();
    const reads = new LoadDriver(nodes[0].url, { concurrency: 1 });
    reads.paths = ['/api/tasks?take=5'];
    reads.start();
    await eventually(() => created.length >= 15, { timeoutMs: 20000, what: 'tasks before the failover' });

    const committedBefore = Number(psql(primaryUrl, 'SELECT count(*) FROM server_tasks'));
    const tStop = Date.now();
    pgsh('as_pg "$pg_bin/pg_ctl" -D "$PRIMARY/data" -m fast -w stop >/dev/null', env);
    const tStopped = Date.now();
    // The standby is promoted only after the nodes have been without a database for longer than
    // half their node timeout, so every run takes the path where they fence themselves and must
    // come back from it (a loaded machine took it now and then: the 20.9 s outlier), whatever the
    // machine's speed.
    await sleep(nodes[0].nodeTimeoutMs / 2 + 500);
    pgsh('as_pg "$pg_bin/pg_ctl" -D "$STANDBY/data" -w promote >/dev/null', env);
    const tPromoted = Date.now();

    // Service has resumed when every node, asked after the promotion, accepts a new task and one
    // of those tasks has run to Success. A task created after the promotion that ends otherwise
    // is a failure of its own (asserted below), not a reason to wait: the database was up.
    const resumedAt = {};
    const afterPromotion = [];
    await Promise.all(nodes.map(async (node) => {
      await eventually(async () => {
        const r = await newTask(node.url, 'echo after-failover');
        if (r.status !== 201) { await r.text(); return false; }
        const id = (await r.json()).Id;
        created.push(id);
        afterPromotion.push(id);
        await eventually(async () => {
          const task = (await node.get(`/api/tasks/${id}`)).json;
          if (task?.State !== 'Success' && FINAL.has(task?.State)) {
            throw new Error(`${id}, created on ${node.name} after the promotion, ended ${task.State}: ${task.ErrorMessage}`);
          }
          return task?.State === 'Success';
        }, { timeoutMs: 20000, intervalMs: 25, what: `${id} after the failover` });
        resumedAt[node.name] = Date.now();
        return true;
      }, { timeoutMs: 30000, intervalMs: 100, what: `${node.name} to serve after the promotion` });
    }));
    const resumed = Math.max(...Object.values(resumedAt));
    running = false;
    await producer;
    const load = await reads.stop();

    // Every task the API acknowledged exists on the new primary and finishes.
    await eventually(async () => {
      const states = await taskStates(nodes[1], created);
      return Object.values(states).every((s) => FINAL.has(s)) ? states : null;
    }, { timeoutMs: 60000, intervalMs: 500, what: 'every task to finish' });
    const states = await taskStates(nodes[1], created);
    const standbyUrl = `postgresql://cuttle@127.0.0.1:${p2}/cuttle_test`;
    const committedAfter = Number(psql(standbyUrl, 'SELECT count(*) FROM server_tasks'));
    console.log(`# failover: primary stop took ${tStopped - tStop} ms, promoted ${tPromoted - tStopped} ms later; ` +
      `service resumed ${resumed - tPromoted} ms after the promotion (${resumed - tStop} ms after the primary stopped)`);
    console.log(`# failover: ${created.length} tasks acknowledged, states ${JSON.stringify(countBy(Object.values(states)))}; ` +
      `task create errors during the outage ${createErrors}; reads ok ${load.ok} failed ${load.failed}`);

    assert.ok(committedAfter >= committedBefore, `tasks on the new primary ${committedAfter} < before ${committedBefore}`);
    for (const [id, s] of Object.entries(states)) assert.ok(FINAL.has(s), `${id}: ${s}`);
    const why = () => nodes.map((n) => `${n.name}:\n  ${warningsSince(n, tStop).join('\n  ')}`).join('\n');
    for (const id of afterPromotion) {
      assert.equal(states[id], 'Success', `${id} was created after the promotion; the nodes' warnings:\n${why()}`);
    }
    assert.ok(resumed - tPromoted < 10000,
      `service resumed ${resumed - tPromoted} ms after the promotion; the nodes' warnings:\n${why()}`);
    for (const n of nodes) assert.equal(n.exited, null, `${n.name} exited:\n${n.output}`);
    const list = await nodes[2].get('/api/octopusservernodes');
    assert.deepEqual(list.json.Items.filter((n) => !n.IsOffline).map((n) => n.Name).sort(), ['fo1', 'fo2', 'fo3']);
  });
});

// Lets deploy/rolling-restart.sh stop and start the test's own node processes:
// POST /stop/NAME (SIGTERM, resolves when the process has exited), POST /start/NAME.
async function controlServer(nodes) {
  const port = await freePort();
  const server = http.createServer(async (req, res) => {
    const [, action, name] = req.url.split('/');
    const node = nodes.find((n) => n.name === name);
    try {
      if (!node) throw new Error(`no node ${name}`);
      if (action === 'stop') await node.stop();
      else if (action === 'start') await node.start({ waitReady: false });
      else throw new Error(`no action ${action}`);
      res.end('ok\n');
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e));
    }
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { port, close: () => new Promise((r) => server.close(r)) };
}

function runScript(cmd, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('rolling restart behind HAProxy under load', async () => {
  const cluster = await startCluster(3, { prefix: 'rr', heartbeatMs: 200, nodeTimeoutMs: 2000 });
  const lb = new Haproxy({ port: await freePort(), servers: cluster.nodes.map((n) => ({ name: n.name, port: n.port })), interMs: 500 });
  await lb.start();
  const control = await controlServer(cluster.nodes);
  after(async () => {
    await control.close();
    await lb.stop();
    await cluster.stop();
  });

  test('deploy/rolling-restart.sh restarts all three nodes: 0 failed requests, 0 interrupted tasks', async () => {
    const load = new LoadDriver(lb.url, { concurrency: 4 }).start();
    const created = [];
    let taskRequestsFailed = 0;
    let running = true;
    const producer = (async () => {
      for (let i = 0; running && i < 1000; i++) {
        try {
          const r = await newTask(lb.url, 'sleep 1; echo ok');
          if (r.status === 201) created.push((await r.json()).Id); else { taskRequestsFailed++; await r.text(); }
        } catch { taskRequestsFailed++; }
        await sleep(250);
      }
    })();
    await sleep(2000);
    const pids = cluster.nodes.map((n) => n.pid);
    const t0 = Date.now();
    const ctl = `http://127.0.0.1:${control.port}`;
    const r = await runScript(path.join(ROOT, 'deploy/rolling-restart.sh'), [
      '--api', lb.url, '--lb-settle', '2', '--drain-timeout', '60',
      '--stop', `curl -fsS -X POST ${ctl}/stop/%n`, '--start', `curl -fsS -X POST ${ctl}/start/%n`,
      ...cluster.nodes.map((n) => `${n.name}=${n.url}`),
    ], { CUTTLE_API_KEY: ADMIN_KEY });
    const took = Date.now() - t0;
    await sleep(1000);
    running = false;
    await producer;
    const result = await load.stop();
    assert.equal(r.code, 0, r.out);
    cluster.nodes.forEach((n, i) => assert.notEqual(n.pid, pids[i], `${n.name} was restarted`));

    const states = await eventually(async () => {
      const s = await taskStates(cluster.nodes[0], created);
      return Object.values(s).every((v) => FINAL.has(v)) ? s : null;
    }, { timeoutMs: 30000, intervalMs: 250, what: 'every task to finish' });
    const counts = countBy(Object.values(states));
    console.log(`# rolling restart of 3 nodes took ${took} ms; API requests through HAProxy: ${result.ok} ok, ` +
      `${result.failed} failed; task creations failed ${taskRequestsFailed}; tasks ${JSON.stringify(counts)}; ` +
      `served by ${JSON.stringify(result.byNode)}`);
    assert.equal(result.failed, 0, JSON.stringify(result.failures.slice(0, 10)));
    assert.equal(taskRequestsFailed, 0);
    assert.ok(created.length > 20, `${created.length} tasks`);
    assert.deepEqual(counts, { Success: created.length }, 'no task interrupted');
  });
});

describe('schema guard', async () => {
  const sharedDir = tempDir();
  after(() => rmSync(sharedDir, { recursive: true, force: true }));
  const masterKey = execFileSync(SERVER_BIN, ['master-key', 'generate']).toString().trim();
  const common = (database) => ['--database', database, '--shared-dir', sharedDir, '--master-key', masterKey];

  test('a node refuses a database whose schema is newer than it knows', async () => {
    const database = createDatabase('guard');
    const m = await runServer(['migrate', ...common(database)]);
    assert.equal(m.code, 0, m.stderr);
    const latest = Number(psql(database, 'SELECT max(version) FROM schema_migrations'));
    psql(database, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (${latest + 1}, 'from_the_future', 0)`);
    const node = new Node({ name: 'old', database, sharedDir, masterKey, port: await freePort() });
    await node.start({ waitReady: false });
    const exit = await Promise.race([node.exitPromise, sleep(20000).then(() => null)]);
    await node.kill();
    assert.ok(exit && exit.code !== 0, `the node kept running: ${node.output}`);
    assert.match(node.output, new RegExp(`${latest + 1}`));
    const check = await runServer(['check', ...common(database)]);
    assert.notEqual(check.code, 0);
    assert.match(check.stderr, /newer than this build/);
  });

  test('migrate refuses while a node of another version is online, unless --force', async () => {
    const database = createDatabase('guard');
    const node = new Node({ name: 'current', database, sharedDir, masterKey, port: await freePort() });
    await node.start();
    try {
      // Same version online: migrate is a no-op that succeeds.
      const same = await runServer(['migrate', ...common(database)]);
      assert.equal(same.code, 0, same.stderr);
      // A node of the previous release, heartbeating on the database clock.
      psql(database, `INSERT INTO server_nodes (id, name, max_concurrent_tasks, last_seen, started_at, version, schema_version)
        VALUES ('OctopusServerNodes-older', 'older', 5, now_ms() + 60000, now_ms(), '0.0.1', 1)`);
      const refused = await runServer(['migrate', ...common(database)]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /older.*0\.0\.1.*--force/);
      const forced = await runServer(['migrate', '--force', ...common(database)]);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, /schema is at version \d+/);
      assert.equal(node.exited, null, 'the running node is unaffected');
    } finally {
      await node.kill();
    }
  });
});

describe('deploy/ files', async () => {
  test('cuttle.example.toml documents every setting and loads', async () => {
    const help = (await runServer(['--help'])).stdout;
    const flags = [...help.matchAll(/^\s+(--[a-z][a-z0-9-]*) TEXT/gm)].map((m) => m[1]).filter((f) => f !== '--config');
    assert.ok(flags.length >= 15, help);
    const example = readFileSync(path.join(ROOT, 'deploy/cuttle.example.toml'), 'utf8');
    for (const f of flags) assert.ok(example.includes(f), `deploy/cuttle.example.toml does not mention ${f}`);
    // The example, pointed at local paths and SQLite, is a configuration `check` accepts.
    const dir = tempDir();
    try {
      const keyFile = path.join(dir, 'master.key');
      writeFileSync(keyFile, execFileSync(SERVER_BIN, ['master-key', 'generate']));
      const local = example.replaceAll('/mnt/cuttle', dir).replace('/etc/cuttle/master.key', keyFile)
        .replace(/^url = ".*"$/m, `url = "sqlite://${dir}/cuttle.db"`);
      writeFileSync(path.join(dir, 'cuttle.toml'), local);
      const check = await runServer(['check', '--config', path.join(dir, 'cuttle.toml')]);
      assert.equal(check.code, 0, check.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('nginx.conf balances over the nodes and retries reads on a node that is killed', async () => {
    const cluster = await startCluster(2, { prefix: 'ngx', heartbeatMs: 200, nodeTimeoutMs: 2000 });
    const dir = tempDir('cuttle-nginx-');
    const port = await freePort();
    let conf = readFileSync(path.join(ROOT, 'deploy/nginx.conf'), 'utf8')
      .replace(/^\s+server 10\.0\.0\.\d+:8080 .*\n/gm, '')
      .replace('upstream cuttle_nodes {\n', `upstream cuttle_nodes {\n${cluster.nodes.map((n) => `    server 127.0.0.1:${n.port} max_fails=1 fail_timeout=5s;\n`).join('')}`)
      .replace('listen 80;', `listen 127.0.0.1:${port};`);
    writeFileSync(path.join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\ndaemon off;\nevents {}\n` +
      `http {\n access_log off;\n client_body_temp_path ${dir}/body;\n proxy_temp_path ${dir}/proxy;\n${conf}\n}\n`);
    const nginx = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
    const nginxExit = new Promise((r) => nginx.on('exit', r));
    try {
      const base = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${base}/api/octopusservernodes/ping`)).status === 200, { what: 'nginx' });
      const seen = new Set();
      for (let i = 0; i < 20; i++) {
        const r = await fetch(`${base}/api/users/me`, { headers: { 'X-Octopus-ApiKey': ADMIN_KEY } });
        assert.equal(r.status, 200);
        await r.text();
        seen.add(r.headers.get('octopus-node'));
      }
      assert.deepEqual([...seen].sort(), ['ngx1', 'ngx2']);
      await cluster.nodes[0].kill();
      for (let i = 0; i < 20; i++) {
        const r = await fetch(`${base}/api/users/me`, { headers: { 'X-Octopus-ApiKey': ADMIN_KEY } });
        assert.equal(r.status, 200, `request ${i} after the kill`);
        assert.equal(r.headers.get('octopus-node'), 'ngx2');
        await r.text();
      }
    } finally {
      nginx.kill('SIGTERM');
      await nginxExit;
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
