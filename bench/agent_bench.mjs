// Issue 12 benchmark: cuttle-agent's channel, with a light agent simulator (many agents in this one
// process, each registered with its own Ed25519 key, long-polling one node with signed requests,
// exactly as docs/agent.md has the real agent do).
//
// Usage (under scripts/with-postgres.sh, which bench/run.sh arranges):
//   CUTTLE_SERVER_BIN=build/src/apps/cuttle-server node bench/agent_bench.mjs
// Knobs (environment): BENCH_AGENTS (2000), BENCH_IDLE_SECONDS (30), BENCH_PICKUPS (200),
// BENCH_LOG_SECONDS (10), BENCH_LOG_AGENTS (8), BENCH_CHUNK_KIB (1024).
//
// Method:
// 1. Idle cost: one node on a fresh PostgreSQL database. Its CPU (utime + stime from
//    /proc/<pid>/stat) and RSS (VmRSS) over BENCH_IDLE_SECONDS with no agent, then again with
//    BENCH_AGENTS agents long-polling it (each poll held up to 25 s, re-polled at once), measured
//    after they have all connected and one full poll cycle has passed. Per 1,000 agents =
//    (with - without) / (agents / 1000). PostgreSQL's CPU (every backend of its cluster) is
//    printed beside it: the node's 1 s sweep queries on behalf of its held polls.
// 2. Pick-up: one more agent (role `pickup`) is the only target of a one-step project. BENCH_PICKUPS deployments one after another, each created through the API;
//    the time from just before POST /deployments to the simulated agent holding the offer in its
//    poll's answer, and from the command's row (created_at, the node's clock, same machine) to
//    the offer. The agent claims, sends one chunk and its result, and the next deployment starts
//    when the task is finished. Measured twice: with no other agent polling (a quarter as many
//    deployments), and while the BENCH_AGENTS agents poll. Octopus's polling Tentacles pick work up on the server's queue
//    scan (every 20 s, docs: how-high-availability-works).
// 3. Log throughput: one deployment to BENCH_LOG_AGENTS simulated agents; each claims its command
//    and PUTs BENCH_CHUNK_KIB chunks of JSON log lines back to back (one request in flight per
//    agent) for BENCH_LOG_SECONDS; MB/s of chunks the node accepted (201). Then the results, and
//    the time until the task log holds every line. Beside it: `dd` of the same bytes, to a file
//    next to the PostgreSQL data folder (same disk), with and without conv=fdatasync (the bench's
//    PostgreSQL runs fsync=off, scripts/pg-lib.sh: the plain dd is the fair comparison).
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster, sleep, psql } from '../tests/system/lib/cluster.mjs';
import { AgentClient, Identity, registerIdentity, chunkOf, okResult } from '../tests/system/lib/agents.mjs';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 2000);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const PICKUPS = Number(process.env.BENCH_PICKUPS ?? 200);
const LOG_SECONDS = Number(process.env.BENCH_LOG_SECONDS ?? 10);
const LOG_AGENTS = Number(process.env.BENCH_LOG_AGENTS ?? 8);
const CHUNK_KIB = Number(process.env.BENCH_CHUNK_KIB ?? 1024);
const KEY = 'API-SYSTEMTESTADMINKEY0000000001';
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

const log = (...a) => console.error('  ..', ...a);
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
}
function summarize(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) };
}

// CPU seconds (user + system) of a process, and its RSS in MB.
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;  // utime, stime (fields 14, 15)
}
function rssMb(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
}
// Every process of the PostgreSQL cluster the bench runs on (the postmaster and its children).
function postgresPids() {
  const data = process.env.CUTTLE_TEST_PG_DATA;
  if (!data) return [];
  let master;
  try { master = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]); } catch { return []; }
  const pids = [master];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === master) pids.push(Number(d));
    } catch { /* gone */ }
  }
  return pids;
}
function pgCpuSeconds(pids) {
  let sum = 0;
  for (const p of pids) { try { sum += cpuSeconds(p); } catch { /* a backend that ended */ } }
  return sum;
}

async function measureIdle(pid, seconds) {
  const pg0 = postgresPids();
  const c0 = cpuSeconds(pid), p0 = pgCpuSeconds(pg0), t0 = Date.now();
  await sleep(seconds * 1000);
  const elapsed = (Date.now() - t0) / 1000;
  const pg1 = postgresPids();
  return {
    cpuPct: ((cpuSeconds(pid) - c0) / elapsed) * 100,
    pgCpuPct: ((pgCpuSeconds(pg1) - p0) / elapsed) * 100,
    rss: rssMb(pid),
  };
}

async function api(node, method, p, body) {
  const r = await node.api(method, p, { body, key: KEY });
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
  return r.json;
}

async function pool(items, concurrency, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (i < items.length) { const k = i++; await fn(items[k], k); }
  }));
}

// A simulated agent: polls until stopped; hands every offer to `onOffer`.
class SimAgent {
  constructor(url, identity) {
    this.client = new AgentClient(url, identity, { agent: keepAlive });
    this.polls = 0;
    this.errors = 0;
    this.running = false;
  }

  start(onOffer = null) {
    this.running = true;
    this.onOffer = onOffer;
    this.loop = (async () => {
      while (this.running) {
        try {
          const r = await this.client.poll(25);
          this.polls++;
          if (r.status === 200) {
            const at = performance.timeOrigin + performance.now();
            for (const o of r.json.Offers ?? []) this.onOffer?.(o, at);
          } else if (r.status !== 204) {
            this.errors++;
            this.lastError = `${r.status} ${r.text.slice(0, 200)}`;
            await sleep(1000);
          }
        } catch (e) {
          this.errors++;
          this.lastError = String(e.message);
          await sleep(1000);
        }
      }
    })();
    return this;
  }
}

function step(name, role) {
  return {
    Name: name, Condition: 'Success', StartTrigger: 'StartAfterPrevious', PackageRequirement: 'LetOctopusDecide',
    Properties: { 'Octopus.Action.TargetRoles': role },
    Actions: [{ Name: name, ActionType: 'Octopus.Script', Properties: {
      'Octopus.Action.Script.ScriptSource': 'Inline', 'Octopus.Action.Script.Syntax': 'Bash', 'Octopus.Action.Script.ScriptBody': 'true' } }],
  };
}

async function makeProject(node, name, role, lifecycleId, groupId) {
  const p = await api(node, 'POST', '/api/Spaces-1/projects', { Name: name, ProjectGroupId: groupId, LifecycleId: lifecycleId });
  const proc = await api(node, 'GET', `/api/Spaces-1/projects/${p.Id}/deploymentprocesses`);
  proc.Steps = [step(name, role)];
  await api(node, 'PUT', `/api/Spaces-1/projects/${p.Id}/deploymentprocesses`, proc);
  const rel = await api(node, 'POST', '/api/Spaces-1/releases', { ProjectId: p.Id, Version: '1.0.0' });
  return { project: p, release: rel };
}

async function waitTask(node, id, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await api(node, 'GET', `/api/tasks/${id}`);
    if (t.IsCompleted) return t;
    if (Date.now() > deadline) throw new Error(`task ${id} unfinished after ${timeoutMs} ms`);
    await sleep(5);
  }
}

async function main() {
  const cluster = await startCluster(1, { prefix: 'agbench', heartbeatMs: 1000, nodeTimeoutMs: 5000, extraArgs: ['--max-connections', String(AGENTS + 1000)] });
  const node = cluster.nodes[0];
  const url = node.url;
  const out = [];
  try {
    const env = await api(node, 'POST', '/api/Spaces-1/environments', { Name: 'Bench' });
    const lifecycleId = (await api(node, 'GET', '/api/Spaces-1/lifecycles?take=1')).Items[0].Id;
    const groupId = (await api(node, 'GET', '/api/Spaces-1/projectgroups?take=1')).Items[0].Id;

    // ---- 1. idle cost ----
    await sleep(3000);
    log(`idle node, no agents, ${IDLE_SECONDS} s`);
    const none = await measureIdle(node.pid, IDLE_SECONDS);
    // ---- pick-up's agent and project (measured alone here, and again with the polling agents) ----
    const hot = Identity.generate();
    const reg = await registerIdentity(url, KEY, hot, { name: 'sim-pickup', environments: [env.Id], roles: ['pickup'], agent: keepAlive });
    if (reg.status !== 201) throw new Error(`register pickup: ${reg.status} ${reg.text}`);
    const waiting = new Map();  // task id -> resolve(offer, at)
    const pickup = new SimAgent(url, hot).start(async (offer, at) => {
      const w = waiting.get(offer.Envelope.TaskId);
      w?.resolve({ offer, at });
      const c = pickup.client;
      const claim = await c.claim(offer.CommandId);
      if (claim.status !== 200) return;
      await c.putLog(offer.CommandId, 0, claim.json.Epoch, chunkOf([{ t: 'picked up' }]));
      await c.putResult(offer.CommandId, claim.json.Epoch, okResult(0));
    });
    const { project, release } = await makeProject(node, 'Pickup', 'pickup', lifecycleId, groupId);
    // n deployments one after another (5 more first, not counted): [created -> offer, row -> offer].
    async function runPickups(n) {
      const fromCreate = [], fromRow = [];
      for (let i = 0; i < n + 5; i++) {
        let resolve;
        const got = new Promise((r) => (resolve = r));
        const created = performance.timeOrigin + performance.now();
        const d = await api(node, 'POST', '/api/Spaces-1/deployments', { ReleaseId: release.Id, EnvironmentId: env.Id, ProjectId: project.Id });
        waiting.set(d.TaskId, { resolve });
        const { offer, at } = await Promise.race([got, sleep(30000).then(() => { throw new Error(`no offer for ${d.TaskId} in 30 s`); })]);
        const row = Number(psql(cluster.database, `SELECT created_at FROM agent_commands WHERE id = '${offer.CommandId}'`));
        const t = await waitTask(node, d.TaskId);
        if (t.State !== 'Success') throw new Error(`${d.TaskId} ended ${t.State}: ${t.ErrorMessage}`);
        if (i >= 5) {
          fromCreate.push(at - created);
          fromRow.push(at - row);
        }
      }
      return [summarize(fromCreate), summarize(fromRow)];
    }
    const ALONE = Math.max(20, Math.round(PICKUPS / 4));
    log(`${ALONE} deployments to one agent, no other agent polling`);
    const alone = await runPickups(ALONE);

    log(`registering ${AGENTS} agents`);
    const ids = Array.from({ length: AGENTS }, () => Identity.generate());
    const t0 = Date.now();
    await pool(ids, 16, async (id, i) => {
      const r = await registerIdentity(url, KEY, id, { name: `sim-${i}`, environments: [env.Id], roles: ['idle'], agent: keepAlive });
      if (r.status !== 201) throw new Error(`register sim-${i}: ${r.status} ${r.text}`);
    });
    log(`registered in ${Date.now() - t0} ms; starting their polls`);
    const sims = ids.map((id) => new SimAgent(url, id).start());
    await sleep(30000);  // everyone connected and one full 25 s cycle behind us
    const errorsBefore = sims.reduce((a, s) => a + s.errors, 0);
    log(`idle node, ${AGENTS} agents polling, ${IDLE_SECONDS} s (errors so far ${errorsBefore})`);
    const pollsBefore = sims.reduce((a, s) => a + s.polls, 0);
    const busy = await measureIdle(node.pid, IDLE_SECONDS);
    const polls = sims.reduce((a, s) => a + s.polls, 0) - pollsBefore;
    const errors = sims.reduce((a, s) => a + s.errors, 0);
    const k = AGENTS / 1000;
    const cpuPer1k = (busy.cpuPct - none.cpuPct) / k;
    const rssPer1k = (busy.rss - none.rss) / k;
    out.push(`idle: ${AGENTS} agents long-polling one node: node CPU ${busy.cpuPct.toFixed(2)} % of a core (${none.cpuPct.toFixed(2)} % with none), RSS ${busy.rss.toFixed(1)} MB (${none.rss.toFixed(1)} MB with none); PostgreSQL ${busy.pgCpuPct.toFixed(2)} % (${none.pgCpuPct.toFixed(2)} %); ${(polls / IDLE_SECONDS).toFixed(1)} polls/s answered, ${errors} failed polls`);
    out.push(`  per 1,000 agents: CPU ${cpuPer1k.toFixed(2)} % of a core (target <= 5 %), RSS ${rssPer1k.toFixed(1)} MB (target <= 50 MB)  ${cpuPer1k <= 5 && rssPer1k <= 50 ? 'MET' : 'MISSED'}`);
    if (errors) log(`last poll error: ${sims.find((s) => s.lastError)?.lastError}`);

    // ---- 2. pick-up, with the polling agents ----
    log(`${PICKUPS} deployments to one agent while ${AGENTS} others poll`);
    const [a, b] = await runPickups(PICKUPS);
    out.push(`pick-up over ${a.n} deployments (${AGENTS} other agents polling): deployment created -> offer in the agent's poll p50 ${a.p50.toFixed(1)} ms, p99 ${a.p99.toFixed(1)} ms, max ${a.max.toFixed(1)} ms (target p50 <= 100 ms, p99 <= 1 s; Octopus: the 20 s queue scan)  ${a.p50 <= 100 && a.p99 <= 1000 ? 'MET' : 'MISSED'}`);
    out.push(`  command row -> offer p50 ${b.p50.toFixed(1)} ms, p99 ${b.p99.toFixed(1)} ms (the rest of the above is the task queue and the engine)`);
    out.push(`  the same with no other agent polling (${alone[0].n} deployments): created -> offer p50 ${alone[0].p50.toFixed(1)} ms, p99 ${alone[0].p99.toFixed(1)} ms; row -> offer p50 ${alone[1].p50.toFixed(1)} ms, p99 ${alone[1].p99.toFixed(1)} ms`);

    // ---- 3. log throughput ----
    const line = 'x'.repeat(180);
    const lines = Math.floor((CHUNK_KIB * 1024) / (JSON.stringify({ c: 'Info', t: line, ts: Date.now() }).length + 1));
    const logIds = Array.from({ length: LOG_AGENTS }, () => Identity.generate());
    for (const [i, id] of logIds.entries()) {
      const r = await registerIdentity(url, KEY, id, { name: `sim-log-${i}`, environments: [env.Id], roles: ['log'], agent: keepAlive });
      if (r.status !== 201) throw new Error(`register log agent: ${r.status} ${r.text}`);
    }
    const claimed = [];
    const logSims = logIds.map((id) => new SimAgent(url, id).start(async (offer) => {
      const claim = await new AgentClient(url, id, { agent: keepAlive }).claim(offer.CommandId);
      if (claim.status === 200) claimed.push({ id, cmd: offer.CommandId, epoch: claim.json.Epoch });
    }));
    const logs = await makeProject(node, 'Logs', 'log', lifecycleId, groupId);
    const d = await api(node, 'POST', '/api/Spaces-1/deployments', { ReleaseId: logs.release.Id, EnvironmentId: env.Id, ProjectId: logs.project.Id });
    const deadline = Date.now() + 30000;
    while (claimed.length < LOG_AGENTS && Date.now() < deadline) await sleep(20);
    if (claimed.length < LOG_AGENTS) throw new Error(`only ${claimed.length} of ${LOG_AGENTS} log commands claimed`);
    let bytes = 0, chunks = 0, refused = 0;
    const sample = [];
    const started = Date.now();
    await Promise.all(claimed.map(async (c) => {
      const client = new AgentClient(url, c.id, { agent: keepAlive });
      c.seq = 0;
      while (Date.now() - started < LOG_SECONDS * 1000) {
        const body = chunkOf(Array.from({ length: lines }, () => ({ t: line })));
        if (sample.length < 1) sample.push(body);
        const r = await client.putLog(c.cmd, c.seq, c.epoch, body);
        if (r.status === 201) { bytes += Buffer.byteLength(body); chunks++; c.seq++; } else { refused++; log(`chunk refused: ${r.status} ${r.text}`); }
      }
    }));
    const secs = (Date.now() - started) / 1000;
    const resultsAt = Date.now();
    await Promise.all(claimed.map((c) => new AgentClient(url, c.id, { agent: keepAlive }).putResult(c.cmd, c.epoch, okResult(c.seq - 1))));
    const t = await waitTask(node, d.TaskId, 300000);
    const intoLogMs = Date.now() - resultsAt;
    const mbps = bytes / secs / 1e6;

    // dd of the same bytes, next to the PostgreSQL data folder.
    const disk = process.env.CUTTLE_TEST_PG_DATA ? path.dirname(process.env.CUTTLE_TEST_PG_DATA) : cluster.sharedDir;
    const src = path.join(disk, 'bench-chunks.in'), dst = path.join(disk, 'bench-chunks.out');
    const one = Buffer.from(sample[0]);
    writeFileSync(src, Buffer.concat(Array.from({ length: Math.max(1, chunks) }, () => one)));
    // dd reports on stderr: "N bytes (...) copied, T s, R MB/s".
    const ddRate = (extra) => {
      const text = execFileSync('bash', ['-c', `dd if='${src}' of='${dst}' bs=1M ${extra} 2>&1 >/dev/null`]).toString();
      const m = /(\d+) bytes .* copied, ([\d.]+) s/.exec(text);
      return m ? Number(m[1]) / Number(m[2]) / 1e6 : NaN;
    };
    // Best of three each, taking turns, a fresh target file every time (the machine is shared).
    let ddPlain = 0, ddSync = 0;
    for (let i = 0; i < 3; i++) {
      rmSync(dst, { force: true });
      ddPlain = Math.max(ddPlain, ddRate(''));
      rmSync(dst, { force: true });
      ddSync = Math.max(ddSync, ddRate('conv=fdatasync'));
    }
    rmSync(src, { force: true });
    rmSync(dst, { force: true });
    out.push(`log throughput, one node, ${LOG_AGENTS} agents, ${CHUNK_KIB} KiB chunks: ${mbps.toFixed(1)} MB/s of chunks accepted (${chunks} chunks, ${(bytes / 1e6).toFixed(0)} MB in ${secs.toFixed(1)} s, ${refused} refused); task ${t.State} ${intoLogMs} ms after the results (every line in the task log)`);
    out.push(`  dd of the same bytes to the same disk: ${ddPlain.toFixed(0)} MB/s (page cache, as PostgreSQL's fsync=off here), ${ddSync.toFixed(0)} MB/s with conv=fdatasync`);

    for (const s of [...sims, pickup, ...logSims]) s.running = false;
  } finally {
    await cluster.stop();
    keepAlive.destroy();
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`cuttle-agent channel (load average ${load}, ${execFileSync('nproc').toString().trim()} CPUs shared):`);
  for (const l of out) console.log(`  ${l}`);
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
