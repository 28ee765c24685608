// Hostile start-up (issue 9, items 9d and 11): the master key is checked before any migration, a
// database the node may not write stops it with one line naming database.url, and the admin API
// key can be given as a file or on standard input so it never shows in `ps`.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync,
  unlinkSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';
import {
  ADMIN_KEY, Node, SERVER_BIN, runServer, startCluster, createDatabase, psql, tempDir, freePort,
} from './lib/cluster.mjs';

const NOBODY = 65534;  // uid nobody, gid nogroup on Debian

// What a refused start must leave as it was: the applied migrations, every column of every table,
// the cluster settings and the node rows.
function pgSnapshot(url) {
  return {
    migrations: psql(url, 'SELECT version, name, applied_at FROM schema_migrations ORDER BY version'),
    columns: psql(url, "SELECT table_name || '.' || column_name FROM information_schema.columns " +
      "WHERE table_schema = 'public' ORDER BY 1"),
    settings: psql(url, 'SELECT key, value FROM cluster_settings ORDER BY key'),
    nodes: psql(url, 'SELECT name, is_offline_marked FROM server_nodes ORDER BY name'),
  };
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function oneLine(stderr) {
  assert.equal(stderr.trim().split('\n').length, 1, `expected one line, got:\n${stderr}`);
}

async function generateKey() {
  return (await runServer(['master-key', 'generate'])).stdout.trim();
}

// Runs cuttle-server as `nobody` (setpriv, util-linux): the tests run as root, and root's
// CAP_DAC_OVERRIDE ignores file permissions, so only another user meets a read-only database as
// an operator's service user would. The binary is copied where nobody may execute it.
function runAsNobody(bin, args) {
  return new Promise((resolve) => {
    const child = spawn('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups',
      bin, ...args], { env: { PATH: process.env.PATH } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

describe('the master key is checked before migrating', async () => {
  // Bug: the database was migrated before the key was checked, so a node started with another
  // cluster's key changed the schema before it refused to start.
  test('PostgreSQL: a node with another key refuses and leaves a pending migration pending', async () => {
    const cluster = await startCluster(1, { prefix: 'hskey' });
    try {
      await cluster.nodes[0].stop();
      const db = cluster.database;
      // A pending migration: the newest one is forgotten, as if this build were one release ahead.
      const newest = psql(db, 'SELECT max(version) FROM schema_migrations');
      psql(db, `DELETE FROM schema_migrations WHERE version = ${newest}`);
      const before = pgSnapshot(db);
      const other = await generateKey();

      const run = await runServer(['run', '--node-name', 'intruder', '--listen', `127.0.0.1:${await freePort()}`,
        '--database', db, '--shared-dir', cluster.sharedDir, '--master-key', other]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /security\.master_key: the master key does not match this database/);
      oneLine(run.stderr);
      assert.deepEqual(pgSnapshot(db), before, 'the refused node changed the database');
      assert.ok(!before.migrations.split('\n').some((row) => row.startsWith(`${newest}|`)));

      // `migrate` and the administration commands check a configured key first too.
      for (const args of [['migrate'], ['node', 'list'], ['admin', 'create-api-key', '--user', 'admin']]) {
        const r = await runServer([...args, '--database', db, '--shared-dir', cluster.sharedDir, '--master-key', other]);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /master key does not match this database/, args.join(' '));
        assert.deepEqual(pgSnapshot(db), before, `${args.join(' ')} changed the database`);
      }
      // `check` changes nothing anyway, and says the same.
      const check = await runServer(['check', '--database', db, '--shared-dir', cluster.sharedDir,
        '--master-key', other]);
      assert.equal(check.code, 2);
      assert.match(check.stderr, /master key does not match this database/);
    } finally { await cluster.stop(); }
  });

  // Bug (same cause): with SQLite the node generated a new key file when the old one was missing,
  // migrated, and only then found that the database belonged to the lost key.
  test('SQLite: a missing key file is not replaced by a new key on an existing database', async () => {
    const dir = tempDir();
    try {
      const node = new Node({ name: 'hssolo', sharedDir: dir, port: await freePort() });
      await node.start();
      await node.stop();
      const keyFile = path.join(dir, 'master.key');
      unlinkSync(keyFile);
      const dbFile = path.join(dir, 'cuttle.db');
      const before = sha256(dbFile);

      node.port = await freePort();
      node.url = `http://127.0.0.1:${node.port}`;
      await node.start({ waitReady: false });
      const exited = await node.exitPromise;
      assert.equal(exited.code, 2, node.output);
      assert.match(node.output, /security\.master_key_file: '.*master\.key' does not exist/);
      assert.ok(!existsSync(keyFile), 'a new master key file was written');
      assert.equal(sha256(dbFile), before, 'the database file changed');
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('a database the node may not write', async () => {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const bin = path.join(dir, 'cuttle-server');
  copyFileSync(SERVER_BIN, bin);
  chmodSync(bin, 0o755);
  const key = await generateKey();
  // Storage nobody may write, so the database is the only thing it cannot.
  const shared = path.join(dir, 'shared');
  mkdirSync(shared);
  chownSync(shared, NOBODY, NOBODY);
  // Root's database: the file 0644 and its directory 0755, both owned by root.
  const dbDir = path.join(dir, 'db');
  mkdirSync(dbDir, { mode: 0o755 });
  const dbFile = path.join(dbDir, 'cuttle.db');
  after(() => rmSync(dir, { recursive: true, force: true }));

  const args = (url) => ['run', '--node-name', 'hsro', '--listen', '127.0.0.1:0', '--database', url,
    '--shared-dir', shared, '--master-key', key, '--admin-api-key', ADMIN_KEY];

  // Bug: a read-only database failed half-way through start-up with SQLite's own message, exit 1,
  // and no mention of the setting to fix.
  test('an existing SQLite file without write permission: exit 2, one line naming database.url and the path', async () => {
    const node = new Node({ name: 'hsowner', sharedDir: path.join(dir, 'root-shared'), port: await freePort(),
      database: `sqlite://${dbFile}`, masterKey: key });
    await node.start();
    await node.stop();
    const before = sha256(dbFile);
    const files = readdirSync(dbDir).sort();

    const r = await runAsNobody(bin, args(`sqlite://${dbFile}`));
    assert.equal(r.code, 2, r.stderr);
    oneLine(r.stderr);
    assert.match(r.stderr, /^cuttle-server: database\.url: /);
    assert.ok(r.stderr.includes(`'${dbFile}'`), r.stderr);
    assert.match(r.stderr, /read-only|Permission denied/);
    assert.equal(sha256(dbFile), before, 'the database file changed');
    assert.deepEqual(readdirSync(dbDir).sort(), files, 'files appeared next to the database');
    // Storage is prepared (and probed) before the database is opened: only the empty roots remain.
    for (const root of readdirSync(shared)) {
      assert.deepEqual(readdirSync(path.join(shared, root)), [], `a file was left in ${root}`);
    }
  });

  test('a new SQLite file in a directory without write permission: the same line', async () => {
    const fresh = path.join(dbDir, 'new.db');
    const r = await runAsNobody(bin, args(`sqlite://${fresh}`));
    assert.equal(r.code, 2, r.stderr);
    oneLine(r.stderr);
    assert.match(r.stderr, /^cuttle-server: database\.url: /);
    assert.ok(r.stderr.includes(`'${fresh}'`), r.stderr);
    assert.ok(!existsSync(fresh));
  });

  // Bug: a database role that may only read got SQL errors (or 30 s of retries) instead of a line
  // naming database.url; its database must be left exactly as it was.
  test('PostgreSQL: a role that may only read gets one line naming database.url, and nothing is written', async () => {
    const cluster = await startCluster(1, { prefix: 'hsrole' });
    const role = `hs_reader_${process.pid}_${Date.now()}`;
    try {
      await cluster.nodes[0].stop();
      psql(cluster.database, `CREATE ROLE ${role} LOGIN; GRANT USAGE ON SCHEMA public TO ${role}; ` +
        `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
      const url = new URL(cluster.database);
      url.username = role;
      const before = pgSnapshot(cluster.database);
      const r = await runServer(['run', '--node-name', 'hsreader', '--listen', `127.0.0.1:${await freePort()}`,
        '--database', url.toString(), '--shared-dir', cluster.sharedDir, '--master-key', cluster.masterKey]);
      assert.equal(r.code, 2, r.stderr);
      oneLine(r.stderr);
      assert.match(r.stderr, /^cuttle-server: database\.url: /);
      assert.ok(r.stderr.includes(`${role}@127.0.0.1:${url.port}${url.pathname}`), r.stderr);
      assert.match(r.stderr, /permission denied/);
      assert.deepEqual(pgSnapshot(cluster.database), before);
    } finally {
      await cluster.stop();
      psql(cluster.database, `DROP OWNED BY ${role}; DROP ROLE ${role}`);
    }
  });
});

describe('secrets given as files or on standard input', async () => {
  function cmdline(pid) { return readFileSync(`/proc/${pid}/cmdline`).toString(); }
  function environ(pid) { return readFileSync(`/proc/${pid}/environ`).toString(); }

  // A node started with `args` instead of the harness's --admin-api-key.
  function nodeWith(name, dir, port, args) {
    const node = new Node({ name, sharedDir: dir, port });
    node.args = () => ['run', '--node-name', name, '--listen', `127.0.0.1:${port}`, '--shared-dir', dir, ...args];
    return node;
  }

  async function assertAdminKeyWorks(node, key) {
    const me = await node.get('/api/users/me', { key });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.Username, 'admin');
    assert.equal((await node.get('/api/users/me', { key: 'API-WRONGKEY000000000000000000001' })).status, 401);
    assert.equal((await node.get('/api/octopusservernodes/ping', { key: null })).status, 200);
  }

  // Bug: the only way to give the admin key was --admin-api-key, which every local user can read
  // in `ps` (/proc/PID/cmdline) for as long as the node runs.
  test('--admin-api-key-file: the key works and is not on the command line', async () => {
    const dir = tempDir();
    const key = 'API-HOSTILESTARTUPFILEKEY00000001';
    const file = path.join(dir, 'admin.key');
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
    const node = nodeWith('hsfile', dir, await freePort(), ['--admin-api-key-file', file]);
    try {
      await node.start();
      assert.ok(!cmdline(node.pid).includes(key));
      assert.ok(!environ(node.pid).includes(key));
      assert.match(node.output, /with the API key from bootstrap\.admin_api_key_file/);
      await assertAdminKeyWorks(node, key);
    } finally { await node.kill(); rmSync(dir, { recursive: true, force: true }); }
  });

  test('--admin-api-key-file - reads one line from standard input', async () => {
    const dir = tempDir();
    const key = 'API-HOSTILESTARTUPSTDINKEY0000001';
    const node = nodeWith('hsstdin', dir, await freePort(), ['--admin-api-key-file', '-']);
    try {
      await node.start({ waitReady: false });
      node.child.stdin.end(`${key}\n`);
      await node.waitReady();
      assert.ok(!cmdline(node.pid).includes(key));
      assert.ok(!environ(node.pid).includes(key));
      await assertAdminKeyWorks(node, key);
    } finally { await node.kill(); rmSync(dir, { recursive: true, force: true }); }
  });

  test('CUTTLE_ADMIN_API_KEY_FILE with a file that holds no key: exit 2, one line, contents not echoed', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'shadow');
      writeFileSync(file, 'root:$6$notakey$hash:19000:0:99999:7:::\n');
      const r = await runServer(['run', '--shared-dir', dir, '--listen', `127.0.0.1:${await freePort()}`],
        { env: { CUTTLE_ADMIN_API_KEY_FILE: file } });
      assert.equal(r.code, 2, r.stderr);
      oneLine(r.stderr);
      assert.match(r.stderr, /bootstrap\.admin_api_key_file: '.*shadow' does not hold a valid key/);
      assert.ok(!r.stderr.includes('notakey'));
      assert.ok(!existsSync(path.join(dir, 'cuttle.db')), 'a database was created for a refused start');
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('--master-key-file - reads the cluster key from standard input on PostgreSQL', async () => {
    const cluster = await startCluster(1, { prefix: 'hsmk' });
    const node = new Node({ name: 'hsmk-stdin', database: cluster.database, sharedDir: cluster.sharedDir,
      port: await freePort(), extraArgs: ['--master-key-file', '-'] });
    try {
      await node.start({ waitReady: false });
      node.child.stdin.end(`${cluster.masterKey}\n`);
      await node.waitReady();
      assert.ok(!cmdline(node.pid).includes(cluster.masterKey));
      assert.equal((await node.get('/api/octopusservernodes/ping', { key: null })).status, 200);
      assert.equal((await node.get('/api/users/me')).status, 200);
    } finally { await node.kill(); await cluster.stop(); }
  });
});
