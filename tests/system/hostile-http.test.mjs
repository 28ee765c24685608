// Issue 9, the HTTP layer: one client must not take a node down. Each test attacks a real node over
// raw sockets, as an attacker would, and then checks that the node still answers its load
// balancer's ping, that its resident memory stayed within a stated bound, and that nothing was
// written for the refused requests.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ADMIN_KEY, SERVER_BIN, Node, createDatabase, freePort, psql, sleep, tempDir, eventually } from './lib/cluster.mjs';

const MiB = 1024 * 1024;
const PING = '/api/octopusservernodes/ping';

function rssKiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]);
}

async function startNode(name, extraArgs = []) {
  const database = createDatabase('hostile');
  const masterKey = execFileSync(SERVER_BIN, ['master-key', 'generate']).toString().trim();
  const node = new Node({ name, database, masterKey, sharedDir: tempDir(), port: await freePort(), extraArgs });
  await node.start();
  after(async () => {
    await node.kill();
    rmSync(node.sharedDir, { recursive: true, force: true });
  });
  return node;
}

// The node answers its ping with 200 (on a fresh connection, within a generous 10 s).
async function assertPingAnswers(node) {
  const r = await fetch(node.url + PING, { signal: AbortSignal.timeout(10000) });
  assert.equal(r.status, 200);
  await r.arrayBuffer();
}

// A raw connection that collects what the server sends and notes when it closes.
function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const conn = { socket, received: '', closed: false };
    socket.on('data', (d) => { conn.received += d.toString('latin1'); });
    socket.on('close', () => { conn.closed = true; });
    socket.on('error', () => { /* resets are part of the attack */ });
    socket.once('connect', () => resolve(conn));
    socket.once('error', reject);
  });
}

// Parses the first response in `text`: status, lower-case headers and body (by Content-Length).
function parseResponse(text) {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = text.slice(end + 4, end + 4 + length);
  if (body.length < length) return null;
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

const responseOf = (conn, what) =>
  eventually(() => parseResponse(conn.received), { what: what ?? 'a response', timeoutMs: 15000 });

function closeAll(conns) {
  for (const c of conns) c.socket.destroy();
}

const taskRows = (node) => Number(psql(node.database, 'SELECT count(*) FROM server_tasks'));

describe('memory before authentication', async () => {
  const node = await startNode('hostile-mem', ['--max-buffered-bytes', '32MiB']);

  test('60 keyless connections each sending a 10 MiB body one byte short get 401 before the body is read', async () => {
    // Bug: bodies were buffered before the key was checked: 60 such connections took a node from
    // 82 MB to 687 MB resident.
    const before = rssKiB(node.pid);
    const rowsBefore = taskRows(node);
    const chunk = Buffer.alloc(MiB, 'x');
    const conns = await Promise.all(Array.from({ length: 60 }, () => connect(node.port)));
    for (const c of conns) {
      c.socket.write(`POST /api/tasks HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${10 * MiB}\r\n\r\n`);
      c.socket.write(chunk);
    }
    for (const c of conns) {
      const r = await responseOf(c, 'the 401');
      assert.equal(r.status, 401);
      assert.match(JSON.parse(r.body).ErrorMessage, /API key/);
    }
    // The rest of each body (the node stops reading and closes, so most of it fails to send).
    for (const c of conns) {
      for (let i = 0; i < 8; i++) c.socket.write(chunk);
      c.socket.write(chunk.subarray(0, MiB - 1));
    }
    await sleep(1500);
    const growthMiB = (rssKiB(node.pid) - before) / 1024;
    closeAll(conns);
    // Stated bound: 32 MiB (each connection's kernel buffers and one 4 KiB drain, no bodies).
    assert.ok(growthMiB < 32, `RSS grew by ${growthMiB.toFixed(1)} MiB`);
    assert.equal(taskRows(node), rowsBefore);
    await assertPingAnswers(node);
  });

  test('keyless headers on a buffered, an upload and a NuGet push route are refused before any body byte', async () => {
    const cases = [
      ['POST /api/tasks', {}, 401],
      ['PUT /api/octopusservernodes/OctopusServerNodes-hostile-mem', {}, 401],
      ['POST /api/Spaces-1/packages/raw', { 'Content-Type': 'multipart/form-data; boundary=x' }, 401],
      ['PUT /nuget/packages', { 'Content-Type': 'multipart/form-data; boundary=x' }, 403],
      ['PUT /api/v2/package', { 'X-NuGet-ApiKey': 'API-NOTAVALIDKEY0000000000000' }, 403],
    ];
    for (const [line, headers, status] of cases) {
      const c = await connect(node.port);
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      // The header announces 10 MiB and no body byte follows: only an answer from the header can come.
      c.socket.write(`${line} HTTP/1.1\r\nHost: t\r\n${extra}Content-Length: ${10 * MiB}\r\n\r\n`);
      const r = await responseOf(c, `the answer to ${line}`);
      assert.equal(r.status, status, line);
      c.socket.destroy();
    }
    await assertPingAnswers(node);
  });

  test('authenticated bodies past max_buffered_bytes get 503 with Retry-After, and the bytes held stay bounded', async () => {
    const before = rssKiB(node.pid);
    const conns = await Promise.all(Array.from({ length: 12 }, () => connect(node.port)));
    const chunk = Buffer.alloc(MiB, 'x');
    for (const c of conns) {
      c.socket.write(`POST /api/tasks HTTP/1.1\r\nHost: t\r\nX-Octopus-ApiKey: ${ADMIN_KEY}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${10 * MiB}\r\n\r\n`);
      for (let i = 0; i < 9; i++) c.socket.write(chunk);
      c.socket.write(chunk.subarray(0, MiB - 1));
    }
    // 32 MiB hold three 10 MiB bodies; the other nine are told to come back.
    const refused = await eventually(() => {
      const n = conns.filter((c) => parseResponse(c.received)?.status === 503).length;
      return n >= 9 && n;
    }, { what: 'nine 503s' });
    assert.equal(refused, 9);
    for (const c of conns.filter((x) => parseResponse(x.received))) {
      const r = parseResponse(c.received);
      assert.equal(r.headers['retry-after'], '1');
      assert.ok(JSON.parse(r.body).ErrorMessage);
      assert.ok(Array.isArray(JSON.parse(r.body).Errors));
    }
    await assertPingAnswers(node);
    const growthMiB = (rssKiB(node.pid) - before) / 1024;
    closeAll(conns);
    // Stated bound: the 32 MiB budget plus 16 MiB of slack.
    assert.ok(growthMiB < 48, `RSS grew by ${growthMiB.toFixed(1)} MiB`);
    // Once the held bodies are given up, the budget is free again.
    await eventually(async () => (await node.api('POST', '/api/tasks', { body: { Name: 'Noop' } })).status === 201,
      { what: 'a task to be accepted again' });
  });
});

describe('connection flood', async () => {
  const node = await startNode('hostile-conn', ['--max-connections', '16']);

  test('past max_connections, idle connections are shed, then busy ones get 503 + Retry-After, and ping answers', async () => {
    // Bug: connections were not limited at all.
    const before = rssKiB(node.pid);
    // 300 connections that send nothing: each new one sheds the longest-waiting, so they churn.
    const idle = await Promise.all(Array.from({ length: 300 }, () => connect(node.port)));
    await eventually(() => idle.filter((c) => c.closed).length >= 300 - 16, { what: 'idle connections to be shed' });
    await assertPingAnswers(node);

    // 16 connections busy with a request (a body that never completes) fill the node.
    const busy = await Promise.all(Array.from({ length: 16 }, () => connect(node.port)));
    for (const c of busy) {
      c.socket.write(`POST /api/tasks HTTP/1.1\r\nHost: t\r\nX-Octopus-ApiKey: ${ADMIN_KEY}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"Name":');
    }
    await sleep(300);  // let the node take them in (nothing asserted on time)
    const late = await connect(node.port);
    late.socket.write(`GET /api/spaces HTTP/1.1\r\nHost: t\r\nX-Octopus-ApiKey: ${ADMIN_KEY}\r\n\r\n`);
    const r = await responseOf(late, 'the 503');
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
    assert.match(JSON.parse(r.body).ErrorMessage, /too many open connections/);
    // The load balancer's ping is still answered on a full node.
    const probe = await connect(node.port);
    probe.socket.write(`GET ${PING} HTTP/1.1\r\nHost: t\r\n\r\n`);
    assert.equal((await responseOf(probe, 'the ping')).status, 200);
    closeAll([...idle, ...busy, late, probe]);

    const growthMiB = (rssKiB(node.pid) - before) / 1024;
    assert.ok(growthMiB < 32, `RSS grew by ${growthMiB.toFixed(1)} MiB`);
    await assertPingAnswers(node);
  });
});

describe('slow uploads', async () => {
  const node = await startNode('hostile-up', ['--max-uploads', '64']);
  const packagesDir = path.join(node.sharedDir, 'packages');

  test('64 slow uploads in flight do not stop ping or light API calls; the 65th gets 503', async () => {
    // Bug: each streamed upload held one of the 8 I/O threads, so 8 slow clients stopped ping.
    const before = rssKiB(node.pid);
    const boundary = 'hostileboundary';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="Slow.1.0.0.zip"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n';
    const uploads = await Promise.all(Array.from({ length: 64 }, () => connect(node.port)));
    for (const c of uploads) {
      c.socket.write(`POST /api/Spaces-1/packages/raw HTTP/1.1\r\nHost: t\r\nX-Octopus-ApiKey: ${ADMIN_KEY}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${100 * MiB}\r\n\r\n${head}`);
    }
    // Each sends 10 KB every 100 ms (100 KB/s) for as long as the test runs.
    const piece = Buffer.alloc(10 * 1024, 'z');
    const timer = setInterval(() => { for (const c of uploads) if (!c.closed) c.socket.write(piece); }, 100);
    const leftovers = () => (existsSync(packagesDir) ? readdirSync(packagesDir, { recursive: true }) : [])
      .filter((f) => path.basename(String(f)).startsWith('.tmp'));
    try {
      // Every upload holds its slot once its handler has opened a temporary file; until all 64 have,
      // a 65th could still be admitted (a fixed sleep here was too short on a loaded CI machine).
      await eventually(() => leftovers().length === 64 || uploads.some((c) => c.received !== ''),
        { what: '64 uploads to be receiving', timeoutMs: 30000 });
      assert.deepEqual(uploads.filter((c) => c.received !== '').map((c) => c.received.split('\r\n')[0]), []);
      for (let i = 0; i < 10; i++) await assertPingAnswers(node);
      const spaces = await node.api('GET', '/api/spaces');
      assert.equal(spaces.status, 200);
      const extra = await connect(node.port);
      extra.socket.write(`POST /api/Spaces-1/packages/raw HTTP/1.1\r\nHost: t\r\nX-Octopus-ApiKey: ${ADMIN_KEY}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${MiB}\r\n\r\n`);
      const r = await responseOf(extra, 'the 65th upload to be refused');
      assert.equal(r.status, 503);
      assert.equal(r.headers['retry-after'], '1');
      extra.socket.destroy();
      const growthMiB = (rssKiB(node.pid) - before) / 1024;
      // Stated bound: 64 MiB (64 threads' stacks in use and one socket buffer per upload).
      assert.ok(growthMiB < 64, `RSS grew by ${growthMiB.toFixed(1)} MiB`);
    } finally {
      clearInterval(timer);
      closeAll(uploads);
    }
    // The aborted uploads leave no temporary file and no package row.
    await eventually(() => leftovers().length === 0, { what: 'temporary upload files to go' });
    assert.equal(Number(psql(node.database, 'SELECT count(*) FROM packages')), 0);
    await assertPingAnswers(node);
  });
});

describe('hostile JSON and query strings', async () => {
  const node = await startNode('hostile-json');
  const deep = (n) => `{"Name":"Noop","Arguments":{"a":${'['.repeat(n)}${']'.repeat(n)}}}`;

  test('a body nested 100,000 deep is refused with 400 on POST /api/tasks and PUT /api/octopusservernodes/{id}', async () => {
    // Bug: re-serialising the body overflowed the stack and killed the process.
    const before = rssKiB(node.pid);
    const rowsBefore = taskRows(node);
    const nodeRow = () => psql(node.database, "SELECT max_concurrent_tasks, is_in_maintenance_mode FROM server_nodes WHERE name = 'hostile-json'");
    const rowBefore = nodeRow();
    for (const [method, p] of [['POST', '/api/tasks'], ['POST', '/api/Spaces-1/tasks'],
      ['PUT', '/api/octopusservernodes/OctopusServerNodes-hostile-json']]) {
      const body = method === 'PUT' ? `{"IsInMaintenanceMode":true,"x":${'['.repeat(100000)}${']'.repeat(100000)}}` : deep(100000);
      const r = await fetch(node.url + p, {
        method, body, headers: { 'X-Octopus-ApiKey': ADMIN_KEY, 'Content-Type': 'application/json' },
      });
      assert.equal(r.status, 400, `${method} ${p}`);
      assert.match((await r.json()).ErrorMessage, /nested more than 64 levels/);
      await assertPingAnswers(node);
    }
    // 64 levels in all is accepted; 65 is not.
    const ok = await node.api('POST', '/api/tasks', { body: JSON.parse(deep(62)) });
    assert.equal(ok.status, 201);
    const tooDeep = await fetch(node.url + '/api/tasks', {
      method: 'POST', body: deep(63), headers: { 'X-Octopus-ApiKey': ADMIN_KEY },
    });
    assert.equal(tooDeep.status, 400);
    assert.equal(taskRows(node), rowsBefore + 1);
    assert.equal(nodeRow(), rowBefore);
    const growthMiB = (rssKiB(node.pid) - before) / 1024;
    assert.ok(growthMiB < 32, `RSS grew by ${growthMiB.toFixed(1)} MiB`);
  });

  test('a huge take gives sane paging', async () => {
    // Bug: take=9223372036854775800 gave NumberOfPages -1 (the page arithmetic overflowed).
    const take = '9223372036854775800';
    for (const p of ['/api/tasks', '/api/octopusservernodes', '/api/Spaces-1/packages', '/api/Spaces-1/feeds']) {
      const r = await node.get(`${p}?take=${take}`);
      assert.equal(r.status, 200, p);
      assert.ok(r.json.NumberOfPages >= 0 && r.json.NumberOfPages <= 1, `${p}: ${r.text}`);
      assert.ok(r.json.LastPageNumber >= 0, p);
      assert.equal(r.json.NumberOfPages, r.json.TotalResults > 0 ? 1 : 0, p);
    }
    await assertPingAnswers(node);
  });

  test('an apikey query parameter is never reflected in a response', async () => {
    // Bug: ?apikey= was echoed back in Links.Self of /api/tasks.
    for (const p of ['/api/tasks', '/api/Spaces-1/tasks', '/api/octopusservernodes', '/api/spaces',
      '/api/Spaces-1/packages', '/api/Spaces-1/feeds', '/api/users/me', '/api']) {
      const r = await node.api('GET', `${p}?skip=0&apikey=${ADMIN_KEY}&take=5`, { key: null });
      assert.equal(r.status, 200, p);
      assert.ok(!r.text.includes(ADMIN_KEY), `${p} reflected the key: ${r.text.slice(0, 300)}`);
      assert.ok(!r.text.toLowerCase().includes('apikey='), p);
      for (const [name, value] of r.headers) assert.ok(!value.includes(ADMIN_KEY), `${p} header ${name}`);
    }
    const tasks = await node.api('GET', `/api/tasks?skip=0&apikey=${ADMIN_KEY}&take=5`, { key: null });
    assert.equal(tasks.json.Links.Self, '/api/tasks?skip=0&take=5');
    await assertPingAnswers(node);
  });
});

