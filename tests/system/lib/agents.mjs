// cuttle-agent for system tests and the benchmark (docs/agent.md): the real binary as a process
// (register through its CLI, run, kill -9, restart), and the protocol spoken from Node — Ed25519
// request signing with node:crypto, the agent's key read from its home, so a test can send what a
// tampered or replayed request would look like, and the benchmark can simulate thousands of agents.
import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runProcess, sleep } from './cluster.mjs';

export const AGENT_BIN = process.env.CUTTLE_AGENT_BIN;
export const API_PREFIX = '/api/agent/v1';

// ---- keys and signatures (agentwire::SigningString, AuthorizationHeader) ------------------------

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

// An Ed25519 identity: `seed` (32 bytes) and `publicKey` (32 bytes); `machineId` once registered.
export class Identity {
  constructor(seed, publicKey = null, machineId = null) {
    this.seed = Buffer.from(seed);
    this.privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, this.seed]), format: 'der', type: 'pkcs8' });
    const derived = createPublicKey(this.privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
    if (publicKey && !Buffer.from(publicKey).equals(derived)) throw new Error('the public key does not belong to the seed');
    this.publicKey = derived;
    this.machineId = machineId;
  }

  // A new key from 32 random bytes (an Ed25519 seed). Not generateKeyPairSync: thousands of those
  // in a loop deadlocked Node 20.20 (a KeyGenJob destructor run by GC inside a JWK export waits on
  // a mutex its own thread holds; the benchmark hung registering 2,000 agents).
  static generate() {
    return new Identity(randomBytes(32));
  }

  get publicKeyBase64() { return this.publicKey.toString('base64'); }

  // Upper-case hex of the first 20 bytes of SHA-256 of the public key (agentwire::Thumbprint).
  get thumbprint() { return createHash('sha256').update(this.publicKey).digest().subarray(0, 20).toString('hex').toUpperCase(); }

  // "CuttleAgent <machine id>:<unix ms>:<nonce>:<base64 signature>". Overrides for tests that
  // forge: machineId, unixMs, nonce.
  authorization(method, target, body = Buffer.alloc(0), { machineId = this.machineId, unixMs = Date.now(), nonce } = {}) {
    nonce ??= randomBytes(16).toString('hex');
    const sig = sign(null, Buffer.from(signingString(method, target, unixMs, nonce, body)), this.privateKey);
    return `CuttleAgent ${machineId}:${unixMs}:${nonce}:${sig.toString('base64')}`;
  }
}

export function signingString(method, target, unixMs, nonce, body) {
  const digest = createHash('sha256').update(body ?? Buffer.alloc(0)).digest('hex');
  return `cuttle-agent-v1\n${method}\n${target}\n${unixMs}\n${nonce}\n${digest}`;
}

export function verifySignature(publicKey, message, signature) {
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, publicKey]), format: 'der', type: 'spki' });
  return verify(null, Buffer.from(message), key, signature);
}

// The secret key in an agent's home (`agent.key`). libsodium's Ed25519 secret key is 64 bytes:
// the 32-byte seed, then the 32-byte public key. Accepted encodings: the raw bytes, base64 or hex
// text of them (or of the seed alone), or JSON with a SecretKey/PrivateKey/Seed field.
export function parseAgentKey(bytes) {
  const tryRaw = (b) => (b.length === 64 ? new Identity(b.subarray(0, 32), b.subarray(32)) : b.length === 32 ? new Identity(b) : null);
  const raw = tryRaw(bytes);
  if (raw) return raw;
  const text = bytes.toString('utf8').trim();
  if (text.startsWith('{')) {
    const j = JSON.parse(text);
    const v = j.SecretKey ?? j.PrivateKey ?? j.secret_key ?? j.private_key ?? j.Seed ?? j.seed;
    if (typeof v === 'string') return parseAgentKey(Buffer.from(v));
  }
  if (/^[0-9a-fA-F]+$/.test(text)) {
    const k = tryRaw(Buffer.from(text, 'hex'));
    if (k) return k;
  }
  const k = tryRaw(Buffer.from(text, 'base64'));
  if (k) return k;
  throw new Error(`agent.key: ${bytes.length} bytes in no format this test knows`);
}

// An agent's identity from its home: agent.key and the machine id in agent.json.
export function identityFromHome(home) {
  const id = parseAgentKey(readFileSync(path.join(home, 'agent.key')));
  const conf = JSON.parse(readFileSync(path.join(home, 'agent.json'), 'utf8'));
  id.machineId = conf.MachineId ?? conf.machineId ?? conf.machine_id ?? conf.Machine ?? null;
  id.config = conf;
  if (!id.machineId) throw new Error(`agent.json has no machine id: ${JSON.stringify(conf)}`);
  return id;
}

// ---- the protocol from Node -------------------------------------------------------------------

// One HTTP request (node:http, so thousands can be held open by the benchmark). Resolves
// { status, headers, text, json }; never rejects on an HTTP status, only on network errors.
export function httpRequest(baseUrl, method, target, { body, headers = {}, agent, timeoutMs = 60000 } = {}) {
  const u = new URL(baseUrl);
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname, port: u.port, method, path: target, agent,
      headers: { ...(payload ? { 'Content-Length': payload.length } : {}), ...headers },
    }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${target}`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

// What an agent says, signed with `identity`. `send(...)` returns the response and the exact
// request (so a test can replay it byte for byte).
export class AgentClient {
  constructor(baseUrl, identity, { agent } = {}) {
    Object.assign(this, { baseUrl, identity, agent });
  }

  request(method, target, { body, headers = {}, sign: signOpts = {}, timeoutMs } = {}) {
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const auth = this.identity.authorization(method, target, payload, signOpts);
    const h = { Authorization: auth, ...headers };
    if (body !== undefined && !h['Content-Type']) h['Content-Type'] = typeof body === 'string' || Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json';
    const sent = { method, target, body: body === undefined ? undefined : payload, headers: h };
    return httpRequest(this.baseUrl, method, target, { body: sent.body, headers: h, agent: this.agent, timeoutMs })
      .then((r) => Object.assign(r, { sent }));
  }

  replay(sent) {
    return httpRequest(this.baseUrl, sent.method, sent.target, { body: sent.body, headers: sent.headers, agent: this.agent });
  }

  poll(wait = 25, opts = {}) { return this.request('GET', `${API_PREFIX}/poll?wait=${wait}`, { timeoutMs: (wait + 35) * 1000, ...opts }); }
  claim(id) { return this.request('POST', `${API_PREFIX}/commands/${id}/claim`, { body: {} }); }
  putLog(id, seq, epoch, chunk, opts = {}) {
    return this.request('PUT', `${API_PREFIX}/commands/${id}/log/${seq}`, { body: Buffer.from(chunk), headers: { 'Cuttle-Epoch': String(epoch), 'Content-Type': 'application/x-ndjson' }, ...opts });
  }
  heartbeat(id, epoch) { return this.request('POST', `${API_PREFIX}/commands/${id}/heartbeat`, { body: {}, headers: { 'Cuttle-Epoch': String(epoch) } }); }
  putResult(id, epoch, result) { return this.request('PUT', `${API_PREFIX}/commands/${id}/result`, { body: result, headers: { 'Cuttle-Epoch': String(epoch) } }); }
  me() { return this.request('GET', `${API_PREFIX}/me`); }
}

// Registers `identity` with the registration (API) key; sets identity.machineId.
export async function registerIdentity(baseUrl, apiKey, identity, { name, environments, roles, spaceId, agent } = {}) {
  const body = { Name: name, Environments: environments, Roles: roles, PublicKey: identity.publicKeyBase64, Version: 'node-sim' };
  if (spaceId) body.SpaceId = spaceId;
  const r = await httpRequest(baseUrl, 'POST', `${API_PREFIX}/register`, {
    body, agent, headers: { 'X-Octopus-ApiKey': apiKey, 'Content-Type': 'application/json' },
  });
  if (r.status === 200 || r.status === 201) identity.machineId = r.json.MachineId;
  return r;
}

// A chunk of log lines: [{c, t, ts}] as JSON lines (agentwire::EncodeLine).
export const chunkOf = (lines) => lines.map((l) => JSON.stringify({ c: l.c ?? 'Info', t: l.t, ts: l.ts ?? Date.now() }) + '\n').join('');

export const okResult = (lastSeq, extra = {}) => ({
  State: 'succeeded', LastSeq: lastSeq, Message: '',
  Outcome: { ExitCode: 0, KilledReason: '', TimedOut: false, ResultMessage: '', WroteToStderr: false, OutputVariables: [], Artifacts: [] },
  ...extra,
});

// ---- the real agent as a process --------------------------------------------------------------

function requireBin() {
  if (!AGENT_BIN) throw new Error('CUTTLE_AGENT_BIN is not set: run system tests through `make test`');
  return AGENT_BIN;
}

// Runs a cuttle-agent command to completion: { code, signal, stdout, stderr }.
export function runAgentCli(args, { timeoutMs = 30000, env = {} } = {}) {
  return runProcess(requireBin(), args, { env: { ...process.env, ...env }, timeoutMs });
}

// One agent: its home folder, `register` through the CLI, `run` as a child process.
export class AgentProcess {
  // `runArgs`: more arguments of `run` (e.g. --artifact-piece-bytes).
  constructor({ name, home, server, apiKey, environments, roles, space, runArgs = [] }) {
    Object.assign(this, { name, home, server, apiKey, environments, roles, space, runArgs });
    this.output = '';
    this.exited = null;
  }

  async register() {
    const args = ['register', '--server', this.server, '--api-key', this.apiKey, '--name', this.name, '--home', this.home];
    for (const e of this.environments) args.push('--environment', e);
    for (const r of this.roles) args.push('--role', r);
    if (this.space) args.push('--space', this.space);
    const r = await runAgentCli(args);
    if (r.code !== 0) throw new Error(`cuttle-agent register ${this.name}: exit ${r.code} ${r.signal ?? ''}\n${r.stdout}${r.stderr}`);
    this.identity = identityFromHome(this.home);
    this.machineId = this.identity.machineId;
    return r;
  }

  start() {
    this.output = '';
    this.exited = null;
    this.child = spawn(requireBin(), ['run', '--home', this.home, ...this.runArgs], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    this.child.stdout.on('data', (d) => (this.output += d));
    this.child.stderr.on('data', (d) => (this.output += d));
    this.exitPromise = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      this.exited = { code, signal, at: Date.now() };
      resolve(this.exited);
    }));
    return this;
  }

  async kill() {
    if (!this.child || this.exited) return this.exited;
    this.child.kill('SIGKILL');
    return this.exitPromise;
  }

  async stop() {
    if (!this.child || this.exited) return this.exited;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    const r = await this.exitPromise;
    clearTimeout(t);
    return r;
  }

  // Local ports of this agent's established TCP connections to `port` (the balancer).
  connectionsTo(port) {
    const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`]).toString();
    return out.split('\n').filter((l) => l.includes(`pid=${this.pid},`))
      .map((l) => Number(/\S+:(\d+)\s+\S+:\d+\s+users/.exec(l)?.[1])).filter(Boolean);
  }
}

// ---- HAProxy's runtime API: which node holds a client's request ---------------------------------

export function haproxyCommand(socketPath, command) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socketPath);
    let out = '';
    s.on('connect', () => s.write(command + '\n'));
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

// The server (HAProxy's name for the node) serving a request from one of the client ports, or
// null: `show sess` lists every stream with src=<addr>:<port> and srv=<server>.
export async function serverForClientPorts(socketPath, ports) {
  const text = await haproxyCommand(socketPath, 'show sess');
  for (const line of text.split('\n')) {
    const src = /src=[^ ]*:(\d+)/.exec(line);
    const srv = /srv=(\S+)/.exec(line);
    if (src && srv && srv[1] !== '<none>' && ports.includes(Number(src[1]))) return srv[1];
  }
  return null;
}

// The node name holding `agent`'s long poll, found through the balancer's session table; waits
// until exactly one is found (the agent re-polls within a moment of its last poll ending).
export async function pollHolder(agent, lb, { timeoutMs = 10000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const srv = await serverForClientPorts(lb.socket, agent.connectionsTo(lb.port));
    if (srv) return srv;
    await sleep(50);
  }
  return null;
}

export const agentBinExists = () => Boolean(AGENT_BIN) && existsSync(AGENT_BIN);
