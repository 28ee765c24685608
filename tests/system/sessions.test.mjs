// Issue 13, sessions: real nodes on PostgreSQL behind HAProxy. A sign-in on node A is valid on
// node B with A stopped (the cookie is sealed under a key derived from the master key, the session
// is a database row); a state-changing call with the cookie but without its CSRF header is refused;
// the tenth wrong password locks the user on every node; a sign-out on one node ends the session
// on the others; and neither the passwords nor the cookies' key material appear in a pg_dump of
// the database or in any node's or the balancer's output.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { SERVER_BIN, freePort, startCluster } from './lib/cluster.mjs';
import { Haproxy } from './lib/haproxy.mjs';

const ALICE_PASSWORD = 'alice-Pa55word-9f1c2e';
const BOB_PASSWORD = 'bob-Pa55word-77ad03';
const SET_PASSWORD = 'set-by-cli-Pa55word-41b7';

// `cuttle-server admin set-password` with `input` on its standard input.
function setPassword(database, user, input) {
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('CUTTLE_') && !k.startsWith('CUTTLE_TEST_')) delete env[k];
    const child = spawn(SERVER_BIN, ['admin', 'set-password', '--user', user, '--database', database], { env });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

// A browser of sorts: keeps the cookies a node sets and sends them back.
class Browser {
  constructor() { this.cookies = new Map(); }

  cookieHeader() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }

  csrf() {
    for (const [k, v] of this.cookies) if (k.startsWith('Octopus-Csrf-Token_')) return v;
    return undefined;
  }

  session() {
    for (const [k, v] of this.cookies) if (k.startsWith('OctopusIdentificationToken_')) return v;
    return undefined;
  }

  async call(base, method, path, { body, csrf = true } = {}) {
    const headers = { Cookie: this.cookieHeader() };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (csrf && this.csrf()) headers['X-Octopus-Csrf-Token'] = this.csrf();
    const r = await fetch(base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20000),
    });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq), value = pair.slice(eq + 1);
      if (value === '' || /Max-Age=0/.test(c)) this.cookies.delete(name); else this.cookies.set(name, value);
    }
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json, text, setCookies: r.headers.getSetCookie() };
  }

  signIn(base, username, password) {
    return this.call(base, 'POST', '/api/users/login', { body: { Username: username, Password: password }, csrf: false });
  }
}

describe('sessions across a cluster', { timeout: 240000 }, () => {
  let cluster, a, b, lb;
  const earlierLogs = [];
  const secrets = new Set([ALICE_PASSWORD, BOB_PASSWORD, SET_PASSWORD]);

  before(async () => {
    cluster = await startCluster(2, { prefix: 'sess' });
    [a, b] = cluster.nodes;
    lb = new Haproxy({ port: await freePort(), servers: cluster.nodes.map((n) => ({ name: n.name, port: n.port })) });
    await lb.start();
    for (const [name, password] of [['alice', ALICE_PASSWORD], ['bob', BOB_PASSWORD]]) {
      const r = await a.api('POST', '/api/users', { body: { Username: name, DisplayName: name, Password: password } });
      assert.equal(r.status, 201, r.text);
    }
    secrets.add(cluster.masterKey);
    secrets.add(Buffer.from(cluster.masterKey, 'base64').toString('hex'));
    secrets.add(Buffer.from(cluster.masterKey, 'base64').toString('base64url'));
  });

  after(async () => {
    await lb?.stop();
    await cluster?.stop();
  });

  test('run printed the admin password on its own line, and it signs in', async () => {
    const password = a.output.match(/^Password: (\S+)$/m)?.[1];
    assert.ok(password, a.output);
    assert.match(a.output, /^Created user 'admin'/m);
    const admin = new Browser();
    const r = await admin.signIn(b.url, 'admin', password);
    assert.equal(r.status, 200, r.text);
  });

  test('a sign-in on node A is valid on node B with A stopped; CSRF guards its writes', async () => {
    const alice = new Browser();
    const r = await alice.signIn(a.url, 'alice', ALICE_PASSWORD);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.Username, 'alice');
    assert.ok(alice.session() && alice.csrf(), JSON.stringify(r.setCookies));
    assert.match(r.setCookies.find((c) => c.startsWith('OctopusIdentificationToken_')), /HttpOnly/);
    secrets.add(alice.session());
    secrets.add(alice.csrf());

    await a.stop();
    for (const base of [b.url, lb.url]) {
      const me = await alice.call(base, 'GET', '/api/users/me');
      assert.equal(me.status, 200, me.text);
      assert.equal(me.json.Username, 'alice');
    }
    const refused = await alice.call(lb.url, 'POST', '/api/environments', { body: { Name: 'NoCsrf' }, csrf: false });
    assert.equal(refused.status, 403, refused.text);
    assert.match(refused.json.ErrorMessage, /anti-forgery/);
    assert.doesNotMatch(refused.json.ErrorMessage, /\n/);
    const made = await alice.call(lb.url, 'POST', '/api/environments', { body: { Name: 'WithCsrf' } });
    assert.equal(made.status, 201, made.text);
    // API keys keep working beside cookies, without CSRF.
    const keyed = await b.api('POST', '/api/environments', { body: { Name: 'ByKey' } });
    assert.equal(keyed.status, 201, keyed.text);

    earlierLogs.push(a.output);  // start() begins a new output
    await a.start();
    const onA = await alice.call(a.url, 'GET', '/api/users/me');
    assert.equal(onA.status, 200, onA.text);
    // Signing out through B ends the session on A too.
    const out = await alice.call(b.url, 'POST', '/api/users/logout');
    assert.equal(out.status, 200, out.text);
    const after = await fetch(`${a.url}/api/users/me`, {
      headers: { Cookie: r.setCookies.map((c) => c.split(';')[0]).join('; ') },
    });
    assert.equal(after.status, 401);
  });

  test('the tenth wrong password locks the user on every node', async () => {
    const bob = new Browser();
    const nodes = [a.url, b.url, lb.url];
    for (let i = 1; i <= 9; i++) {
      const r = await bob.signIn(nodes[i % nodes.length], 'bob', `wrong-${i}`);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.ErrorMessage, 'Invalid username or password.');
    }
    const tenth = await bob.signIn(b.url, 'bob', 'wrong-10');
    assert.equal(tenth.status, 400, tenth.text);
    assert.match(tenth.json.ErrorMessage, /locked .* 15 minutes/);
    for (const base of [a.url, b.url, lb.url]) {
      const r = await bob.signIn(base, 'bob', BOB_PASSWORD);
      assert.equal(r.status, 400, `${base}: ${r.text}`);
      assert.match(r.json.ErrorMessage, /locked/);
      assert.equal(bob.session(), undefined);
    }
    // An administrator lifts the lock with a new password, from the command line.
    const set = await setPassword(cluster.database, 'bob', `${SET_PASSWORD}\n`);
    assert.equal(set.code, 0, set.stderr);
    const again = await bob.signIn(a.url, 'bob', SET_PASSWORD);
    assert.equal(again.status, 200, again.text);
    secrets.add(bob.session());
    secrets.add(bob.csrf());
  });

  test('admin set-password refuses more than one line with exit code 2', async () => {
    const r = await setPassword(cluster.database, 'bob', 'first-line-password\nsecond-line\n');
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /first-line-password/);
  });

  test('neither passwords nor session key material appear in the database or any log', async () => {
    const dump = execFileSync('pg_dump', [cluster.database]).toString();
    assert.match(dump, /\$argon2id\$/);
    const logs = [...earlierLogs, ...cluster.nodes.map((n) => n.output), lb.output].join('\n');
    for (const s of secrets) {
      assert.ok(s && s.length >= 8);
      assert.equal(dump.includes(s), false, `the database holds ${s.slice(0, 6)}…`);
      assert.equal(logs.includes(s), false, `a log holds ${s.slice(0, 6)}…`);
    }
  });
});
