// HAProxy for system tests: renders deploy/haproxy.cfg for loopback (our own global section, the
// given bind port and nodes, a faster check interval), runs it in the foreground and stops it.
// Also a bounded HTTP load driver that counts what clients of the load balancer would see.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_KEY, sleep, tempDir } from './cluster.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const HAPROXY_TEMPLATE = path.join(ROOT, 'deploy/haproxy.cfg');

// servers: [{ name, port }] on 127.0.0.1. interMs: health-check interval. socket: a path for
// HAProxy's runtime API (`show sess` tells which node holds a client's request).
export function renderHaproxyConfig({ port, servers, interMs = 1000, statsPort = null, socket = null }) {
  let text = readFileSync(HAPROXY_TEMPLATE, 'utf8');
  const global = 'global\n    maxconn 5000\n    log stdout format raw local0\n' +
    (socket ? `    stats socket ${socket} mode 600 level admin\n` : '') + '\n';
  text = text.replace(/^global\n(?:[ \t]+.*\n)*\n/m, global);
  text = text.replace(/^(\s+)bind 127\.0\.0\.1:8080$/m, `$1bind 127.0.0.1:${port}`);
  const lines = text.split('\n');
  const firstServer = lines.findIndex((l) => /^\s+server\s/.test(l));
  if (firstServer < 0) throw new Error('deploy/haproxy.cfg has no server lines');
  const out = lines.filter((l, i) => i < firstServer || !/^\s+server\s/.test(l));
  out.splice(firstServer, 0, ...servers.map((s) => `    server ${s.name} 127.0.0.1:${s.port} check`));
  text = out.join('\n')
    .replace(/\binter \S+ fastinter \S+ downinter \S+/, `inter ${interMs}ms fastinter ${interMs}ms downinter ${interMs}ms`);
  // Statistics page: on a free loopback port, or dropped.
  text = statsPort ? text.replace(/bind 127\.0\.0\.1:8404/, `bind 127.0.0.1:${statsPort}`)
    : text.replace(/\n# Statistics page[\s\S]*$/, '\n');
  if (!/bind 127\.0\.0\.1:\d+/.test(text) || /10\.0\.0\./.test(text)) throw new Error('rendering deploy/haproxy.cfg failed');
  return text;
}

export class Haproxy {
  constructor({ port, servers, interMs = 500 }) {
    Object.assign(this, { port, servers, interMs });
    this.url = `http://127.0.0.1:${port}`;
    this.dir = tempDir('cuttle-haproxy-');
    this.cfg = path.join(this.dir, 'haproxy.cfg');
    this.socket = path.join(this.dir, 'admin.sock');
    this.output = '';
  }

  async start() {
    this.exited = null;
    writeFileSync(this.cfg, renderHaproxyConfig({ port: this.port, servers: this.servers, interMs: this.interMs, socket: this.socket }));
    this.child = spawn('haproxy', ['-db', '-f', this.cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => (this.output += d));
    this.child.stderr.on('data', (d) => (this.output += d));
    this.exitPromise = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      resolve(this.exited);
    }));
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`haproxy exited ${JSON.stringify(this.exited)}:\n${this.output}`);
      try {
        const r = await fetch(`${this.url}/api/octopusservernodes/ping`);
        if (r.status === 200) return this;
      } catch { /* not yet */ }
      await sleep(50);
    }
    throw new Error(`haproxy not serving after 10 s:\n${this.output}`);
  }

  // Stops the process (SIGKILL: every connection through it drops at once) and keeps its folder,
  // so start() brings it back on the same port.
  async halt() {
    if (this.child && !this.exited) {
      this.child.kill('SIGKILL');
      await this.exitPromise;
    }
  }

  async stop() {
    if (this.child && !this.exited) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exitPromise;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  // Which server handled each logged request, with status (from HAProxy's httplog lines).
  logLines() { return this.output.split('\n').filter((l) => l.includes('cuttle_nodes/')); }
}

// Bounded API load through the balancer: `concurrency` loops, each issuing requests until
// stop() (or `maxRequests` in total). A mix of reads and writes (task creation is done separately).
// Every request gets a 20 s timeout; a failure is a network error or a 5xx.
export class LoadDriver {
  constructor(baseUrl, { concurrency = 4, maxRequests = 200000, paths } = {}) {
    Object.assign(this, { baseUrl, concurrency, maxRequests });
    this.paths = paths ?? ['/api/octopusservernodes/ping', '/api/tasks?take=5', '/api/octopusservernodes',
      '/api/users/me', '/api/tasks?states=Executing'];
    this.ok = 0;
    this.failed = 0;
    this.failures = [];
    this.byNode = {};
    this.running = false;
  }

  start() {
    this.running = true;
    this.loops = Array.from({ length: this.concurrency }, (_, i) => this.loop(i));
    return this;
  }

  async loop(i) {
    let n = i;
    while (this.running && this.ok + this.failed < this.maxRequests) {
      const p = this.paths[n++ % this.paths.length];
      const started = Date.now();
      try {
        const r = await fetch(this.baseUrl + p, { headers: { 'X-Octopus-ApiKey': ADMIN_KEY }, signal: AbortSignal.timeout(20000) });
        await r.arrayBuffer();
        const node = r.headers.get('octopus-node') ?? '-';
        if (r.status >= 500 || (r.status !== 200 && r.status !== 418)) {
          this.fail({ at: started, ms: Date.now() - started, path: p, status: r.status, node });
        } else {
          this.ok++;
          this.byNode[node] = (this.byNode[node] ?? 0) + 1;
        }
      } catch (e) {
        this.fail({ at: started, ms: Date.now() - started, path: p, error: String(e.cause?.code ?? e.message) });
      }
    }
  }

  fail(f) {
    this.failed++;
    if (this.failures.length < 200) this.failures.push(f);
  }

  async stop() {
    this.running = false;
    await Promise.all(this.loops ?? []);
    return { ok: this.ok, failed: this.failed, failures: this.failures, byNode: this.byNode };
  }
}
