// Helpers for system tests: start cuttle-server nodes as real processes, create throwaway
// PostgreSQL databases on the server `make test` started, and call the API like a client would.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';

export const SERVER_BIN = process.env.CUTTLE_SERVER_BIN;
if (!SERVER_BIN) throw new Error('CUTTLE_SERVER_BIN is not set: run system tests through `make test`');

export const ADMIN_KEY = 'API-SYSTEMTESTADMINKEY0000000001';

export function pgAdminUrl() {
  const url = process.env.CUTTLE_TEST_PG_ADMIN_URL;
  if (!url) throw new Error('CUTTLE_TEST_PG_ADMIN_URL is not set: PostgreSQL tests run through `make test`');
  return url;
}

let dbCounter = 0;
// A new empty PostgreSQL database; returns its URL.
export function createDatabase(prefix = 'sys') {
  const name = `${prefix}_${process.pid}_${Date.now()}_${dbCounter++}`;
  execFileSync('psql', [pgAdminUrl(), '-qAtc', `CREATE DATABASE ${name}`]);
  const u = new URL(pgAdminUrl());
  u.pathname = '/' + name;
  return u.toString();
}

export function psql(url, sql) {
  return execFileSync('psql', [url, '-qAtc', sql]).toString().trim();
}

export function tempDir(prefix = 'cuttle-sys-') {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs a program to completion: { code, signal, stdout, stderr }; killed after timeoutMs.
// Asynchronously, unlike spawnSync: a test's event loop blocked for a minute keeps its pooled
// keep-alive connections past the server's idle timeout, and its next fetch fails on a socket the
// server has closed ("other side closed"), which is what a slow nuget.exe run did in CI.
export function runProcess(bin, args, { env = process.env, cwd = undefined, timeoutMs = 20000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env, cwd });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// Runs cuttle-server to completion (administration commands, or a node expected to exit).
export function runServer(args, { env = {}, timeoutMs = 20000 } = {}) {
  return runProcess(SERVER_BIN, args, { env: { ...cleanEnv(), ...env }, timeoutMs });
}

function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('CUTTLE_') && !k.startsWith('CUTTLE_TEST_')) delete env[k];
  return env;
}

// A running node. start() resolves once its ping answers.
export class Node {
  constructor({ name, database, sharedDir, masterKey, port, extraArgs = [], env = {},
                heartbeatMs = 200, nodeTimeoutMs = 1500 }) {
    Object.assign(this, { name, database, sharedDir, masterKey, port, extraArgs, env, heartbeatMs, nodeTimeoutMs });
    this.url = `http://127.0.0.1:${port}`;
    this.output = '';
    this.exited = null;
  }

  args() {
    const a = ['run', '--node-name', this.name, '--listen', `127.0.0.1:${this.port}`,
      '--shared-dir', this.sharedDir, '--admin-api-key', ADMIN_KEY,
      '--heartbeat-ms', String(this.heartbeatMs), '--node-timeout-ms', String(this.nodeTimeoutMs)];
    if (this.database) a.push('--database', this.database);
    if (this.masterKey) a.push('--master-key', this.masterKey);
    return a.concat(this.extraArgs);
  }

  async start({ waitReady = true, timeoutMs = 15000 } = {}) {
    this.output = '';
    this.exited = null;
    this.child = spawn(SERVER_BIN, this.args(), { env: { ...cleanEnv(), ...this.env } });
    this.pid = this.child.pid;
    this.child.stdout.on('data', (d) => (this.output += d));
    this.child.stderr.on('data', (d) => (this.output += d));
    this.stopping = false;
    this.exitPromise = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      // A node that dies on its own leaves its last words in the test's output, since CI keeps
      // nothing else of a failed run.
      if (!this.stopping) {
        process.stderr.write(`# node ${this.name} exited on its own ${JSON.stringify(this.exited)}; ` +
          `its last output:\n${this.output.slice(-4000).replace(/^/gm, '#   ')}\n`);
      }
      resolve(this.exited);
    }));
    if (waitReady) await this.waitReady(timeoutMs);
    return this;
  }

  async waitReady(timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`node ${this.name} exited ${JSON.stringify(this.exited)}:\n${this.output}`);
      try {
        const r = await fetch(`${this.url}/api/octopusservernodes/ping`);
        // The ping answers once the listener is up, a moment before the node prints its URL, key
        // and password on stdout: tests read those from the output.
        if ((r.status === 200 || r.status === 418) && this.output.includes('Cuttle is listening on')) return;
      } catch { /* not up yet */ }
      await sleep(25);
    }
    throw new Error(`node ${this.name} not ready after ${timeoutMs} ms:\n${this.output}`);
  }

  signal(sig) {
    if (this.exited) return;
    if (sig !== 'SIGSTOP' && sig !== 'SIGCONT') this.stopping = true;
    this.child.kill(sig);
  }

  async kill() {
    if (this.exited) return this.exited;
    this.stopping = true;
    this.child.kill('SIGKILL');
    return this.exitPromise;
  }

  async stop() {
    if (this.exited) return this.exited;
    this.stopping = true;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 15000);
    const r = await this.exitPromise;
    clearTimeout(t);
    return r;
  }

  async api(method, pathname, { body, key = ADMIN_KEY, headers = {} } = {}) {
    const h = { ...headers };
    if (key) h['X-Octopus-ApiKey'] = key;
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const r = await fetch(this.url + pathname, {
      method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, headers: r.headers, text, json };
  }

  get(p, opts) { return this.api('GET', p, opts); }

  // An API call that must succeed (2xx): its JSON, or an error naming the call and the answer.
  async ok(method, pathname, body) {
    const r = await this.api(method, pathname, { body });
    if (r.status >= 300) throw new Error(`${method} ${pathname}: ${r.status} ${r.text}`);
    return r.json;
  }
}

// Starts `count` nodes on one new PostgreSQL database and one shared directory.
// `database`: an existing database URL to use instead of a new one.
export async function startCluster(count, { prefix = 'n', masterKey, database: existing, ...opts } = {}) {
  const database = existing ?? createDatabase('cluster');
  const sharedDir = tempDir();
  const key = masterKey ?? execFileSync(SERVER_BIN, ['master-key', 'generate']).toString().trim();
  const nodes = [];
  for (let i = 0; i < count; i++) {
    nodes.push(new Node({ name: `${prefix}${i + 1}`, database, sharedDir, masterKey: key, port: await freePort(), ...opts }));
  }
  // The first node creates the schema; the others join it concurrently afterwards.
  await nodes[0].start();
  await Promise.all(nodes.slice(1).map((n) => n.start()));
  return {
    nodes, database, sharedDir, masterKey: key,
    async stop() {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(sharedDir, { recursive: true, force: true });
    },
  };
}

// Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns the value or throws.
export async function eventually(fn, { timeoutMs = 10000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.stack : JSON.stringify(last)}`);
}
