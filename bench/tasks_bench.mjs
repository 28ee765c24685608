// Issue 3 benchmark: the task queue, beside graphile-worker 0.17.3 on the same PostgreSQL.
//
// Usage (under scripts/with-postgres.sh, which bench/run.sh arranges):
//   CUTTLE_SERVER_BIN=build/src/apps/cuttle-server node bench/tasks_bench.mjs
// Knobs (environment): BENCH_SAMPLES (1000), BENCH_NOOP_TASKS (10000), BENCH_SCRIPT_TASKS (600),
// BENCH_NODES ("1,2,3"; "none" for latency only), BENCH_REPEAT (3), BENCH_ONLY ("cuttle-noop,cuttle-script,graphile" to pick),
// BENCH_TASK_CAP (each Cuttle node's task cap; default 5, Cuttle's default: to tell node count from concurrency).
//
// Method, the same for both systems:
// - Latency: one task in flight. The client enqueues (Cuttle: POST /api/tasks; graphile:
//   addJob), then polls the database every ~1 ms until the task is finished (Cuttle: its
//   completed_time is set; graphile: its job row is gone), then enqueues the next. Latency is
//   enqueue-to-start from timestamps taken on this machine's clock at millisecond resolution:
//   Cuttle queue_time -> start_time (both now_ms() in the INSERT and in the claim UPDATE);
//   graphile created_at (set by the INSERT in add_job) -> Date.now() when the task function starts.
//   The first 20 samples are warm-up and not counted. Every system is up during the latency
//   run and their samples are interleaved (one of each in turn), so that load from other work
//   on the machine falls on all of them alike; idle, they cost little (heartbeats, polls).
// - Throughput: a fresh database; N tasks are queued while nothing can run them (Cuttle: every
//   node drained; graphile: no worker process yet), then every node is undrained / every worker
//   process started at once. Per task we have start and finish times (Cuttle: start_time and
//   completed_time; graphile: the task function's start and return). The figure is the tasks
//   finished per second in the window where every node/worker is busy (from the latest first
//   start of any node to the earliest last finish), so staggered start-up does not count against
//   either. Each throughput figure is the best of BENCH_REPEAT rounds, the systems taking turns
//   (the median is printed beside it): the machine is shared, and the best round is the one
//   least disturbed by other work.
// - Each system gets a fresh database for each measurement. Cuttle nodes run with default
//   settings (task cap 5, heartbeat 1 s); graphile workers with default settings (concurrency 1,
//   unbatched addJob). The client, the servers and PostgreSQL share this machine's CPUs.
import { createRequire } from 'node:module';
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, createDatabase, sleep } from '../tests/system/lib/cluster.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'graphile', 'package.json'));
const pg = require('pg');
const { makeWorkerUtils, runMigrations } = require('graphile-worker');

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 1000);
const WARMUP = 20;
// At 5,000+ tasks/s, 3,000 tasks made a window of half a second: too short against nodes that
// notice their undrain up to a heartbeat (1 s) apart. 10,000 gives both systems a window of seconds.
const NOOP_TASKS = Number(process.env.BENCH_NOOP_TASKS ?? 10000);
const SCRIPT_TASKS = Number(process.env.BENCH_SCRIPT_TASKS ?? 600);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const NODE_COUNTS = (process.env.BENCH_NODES ?? '1,2,3').split(',').map(Number).filter((k) => k > 0);
const ONLY = (process.env.BENCH_ONLY ?? 'cuttle-noop,cuttle-script,graphile').split(',');
const NODE_OPTS = { prefix: 'bench', heartbeatMs: 1000, nodeTimeoutMs: 5000, extraArgs: process.env.BENCH_TASK_CAP ? ['--task-cap', process.env.BENCH_TASK_CAP] : [] };

const log = (...a) => console.error('  ..', ...a);

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
function summarize(lat) {
  const s = [...lat].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length, max: s.at(-1) };
}

// records: [{ node, start, end }] -> tasks/s while every node is busy, and over the whole run.
function throughput(records) {
  const byNode = new Map();
  for (const r of records) {
    const n = byNode.get(r.node) ?? { first: Infinity, last: -Infinity };
    n.first = Math.min(n.first, r.start);
    n.last = Math.max(n.last, r.end);
    byNode.set(r.node, n);
  }
  const w0 = Math.max(...[...byNode.values()].map((n) => n.first));
  const w1 = Math.min(...[...byNode.values()].map((n) => n.last));
  const t0 = Math.min(...records.map((r) => r.start));
  const t1 = Math.max(...records.map((r) => r.end));
  const overall = (records.length / Math.max(1, t1 - t0)) * 1000;
  const inWindow = records.filter((r) => r.end > w0 && r.end <= w1).length;
  const window = w1 - w0 >= 200 ? (inWindow / (w1 - w0)) * 1000 : NaN;
  return { window, overall, nodesUsed: byNode.size, windowMs: w1 - w0, totalMs: t1 - t0 };
}

async function pgClient(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

async function pool(items, concurrency, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (i < items.length) {
      const k = i++;
      await fn(items[k], k);
    }
  }));
}

// Latency at microsecond resolution, the same way for both systems: triggers in the benchmark's
// own database record clock_timestamp() when the task row is inserted and when it is claimed
// (Cuttle: state Queued -> Executing; graphile: locked_at set by get_job). Each adds one insert
// into an unlogged table to the enqueue and to the claim, equally for both; they are installed
// only for the latency runs.
async function installTimers(db, table, claimed) {
  await db.query(`
    CREATE UNLOGGED TABLE bench_times (id text, ev text, ts timestamptz);
    CREATE FUNCTION bench_queued() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO bench_times VALUES (NEW.id::text, 'q', clock_timestamp()); RETURN NULL; END $$;
    CREATE FUNCTION bench_claimed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO bench_times VALUES (NEW.id::text, 's', clock_timestamp()); RETURN NULL; END $$;
    CREATE TRIGGER bench_queued AFTER INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION bench_queued();
    CREATE TRIGGER bench_claimed AFTER UPDATE ON ${table} FOR EACH ROW WHEN (${claimed})
      EXECUTE FUNCTION bench_claimed();`);
}
async function timerLatencies(db, ids) {
  const rows = (await db.query(`SELECT q.id, extract(epoch FROM s.ts - q.ts) * 1000 AS ms
      FROM bench_times q JOIN bench_times s ON s.id = q.id AND s.ev = 's' WHERE q.ev = 'q'`)).rows;
  const by = new Map(rows.map((r) => [r.id, Number(r.ms)]));
  return ids.map((id) => by.get(String(id)));
}

// ---- Cuttle ----

function taskBody(kind) {
  return kind === 'script'
    ? { Name: 'AdHocScript', Arguments: { ScriptBody: 'true' } }
    : { Name: 'Noop' };
}

async function enqueue(node, kind) {
  const r = await node.api('POST', '/api/tasks', { body: taskBody(kind) });
  if (r.status !== 201) throw new Error(`POST /api/tasks: ${r.status} ${r.text}`);
  return r.json.Id;
}

// Latency rigs: set up, then sample(counted) runs one enqueue-and-wait, finish() tears down and
// returns the figures. main() interleaves the rigs' samples so that load from other processes on
// this shared machine falls on every system alike.
async function cuttleLatencyRig(kind) {
  const cluster = await startCluster(1, NODE_OPTS);
  const db = await pgClient(cluster.database);
  await installTimers(db, 'server_tasks', "OLD.state = 'Queued' AND NEW.state = 'Executing'");
  const node = cluster.nodes[0];
  const lat = [];
  const ids = [];
  return {
    async sample(counted) {
      const id = await enqueue(node, kind);
      let row;
      for (;;) {
        row = (await db.query('SELECT state, queue_time, start_time, completed_time FROM server_tasks WHERE id = $1', [id])).rows[0];
        if (row.completed_time !== null) break;
        await sleep(1);
      }
      if (row.state !== 'Success') throw new Error(`${id} ended ${row.state}`);
      if (counted) {
        lat.push(Number(row.start_time) - Number(row.queue_time));
        ids.push(id);
      }
    },
    async finish() {
      try {
        return { ms: summarize(lat), us: summarize(await timerLatencies(db, ids)) };
      } finally {
        await db.end();
        await cluster.stop();
      }
    },
  };
}

async function cuttleThroughput(kind, nodes, n) {
  const cluster = await startCluster(nodes, NODE_OPTS);
  const db = await pgClient(cluster.database);
  try {
    const first = cluster.nodes[0];
    const ids = (await first.get('/api/octopusservernodes?take=100')).json.Items.map((x) => x.Id);
    const drain = (on) => Promise.all(ids.map(async (id) => {
      const r = await first.api('PUT', `/api/octopusservernodes/${id}`, { body: { IsInMaintenanceMode: on } });
      if (r.status !== 200) throw new Error(`drain ${id}: ${r.status} ${r.text}`);
    }));
    await drain(true);
    await sleep(1500);  // every node's registry has seen the drain (heartbeat 1 s)
    await pool(Array.from({ length: n }), 8, () => enqueue(first, kind));
    const started = (await db.query("SELECT COUNT(*)::int AS c FROM server_tasks WHERE state <> 'Queued'")).rows[0].c;
    if (started) throw new Error(`${started} tasks started while every node was drained`);
    await drain(false);
    const deadline = Date.now() + 300_000;
    for (;;) {
      const left = (await db.query('SELECT COUNT(*)::int AS c FROM server_tasks WHERE completed_time IS NULL')).rows[0].c;
      if (!left) break;
      if (Date.now() > deadline) throw new Error(`${left} tasks unfinished after 300 s`);
      await sleep(100);
    }
    const rows = (await db.query('SELECT server_node, state, start_time, completed_time FROM server_tasks')).rows;
    const bad = rows.filter((r) => r.state !== 'Success');
    if (bad.length) throw new Error(`${bad.length} tasks did not succeed (${bad[0].state})`);
    return throughput(rows.map((r) => ({ node: r.server_node, start: Number(r.start_time), end: Number(r.completed_time) })));
  } finally {
    await db.end();
    await cluster.stop();
  }
}

// ---- graphile-worker ----

async function graphileDb() {
  const url = createDatabase('graphile');
  await runMigrations({ connectionString: url, logger: quietLogger() });
  return url;
}

function quietLogger() {
  const { Logger } = require('graphile-worker');
  return new Logger(() => () => {});
}

function startWorkers(url, count) {
  return Promise.all(Array.from({ length: count }, () => new Promise((resolve, reject) => {
    const child = fork(path.join(here, 'graphile', 'worker.mjs'), [], {
      env: { ...process.env, DATABASE_URL: url },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],  // its default logger prints a line per job
    });
    child.once('message', (m) => (m.ready ? resolve(child) : reject(new Error('worker not ready'))));
    child.once('exit', (code) => reject(new Error(`graphile worker exited ${code}`)));
  })));
}

async function stopWorkers(workers) {
  const all = [];
  for (const [i, w] of workers.entries()) {
    const recs = await new Promise((resolve) => {
      w.once('message', (m) => resolve(m.records));
      w.send('report');
    });
    all.push(...recs.map(([id, created, start, end]) => ({ id, created, start, end, node: i })));
    w.removeAllListeners('exit');
    w.send('stop');
    await new Promise((r) => w.once('exit', r));
  }
  return all;
}

async function graphileLatencyRig() {
  const url = await graphileDb();
  const utils = await makeWorkerUtils({ connectionString: url, logger: quietLogger() });
  const db = await pgClient(url);
  await installTimers(db, 'graphile_worker._private_jobs', 'OLD.locked_at IS NULL AND NEW.locked_at IS NOT NULL');
  const workers = await startWorkers(url, 1);
  const ids = [];
  return {
    async sample(counted) {
      const job = await utils.addJob('noop', {});
      while ((await db.query('SELECT 1 FROM graphile_worker._private_jobs WHERE id = $1', [job.id])).rowCount) {
        await sleep(1);
      }
      if (counted) ids.push(String(job.id));
    },
    async finish() {
      try {
        const recs = new Map((await stopWorkers(workers)).map((r) => [r.id, r]));
        return {
          ms: summarize(ids.map((id) => recs.get(id).start - recs.get(id).created)),
          us: summarize(await timerLatencies(db, ids)),
        };
      } finally {
        await db.end();
        await utils.release();
      }
    },
  };
}

async function graphileThroughput(count, n) {
  const url = await graphileDb();
  const utils = await makeWorkerUtils({ connectionString: url, logger: quietLogger() });
  const db = await pgClient(url);
  try {
    await pool(Array.from({ length: n }), 8, () => utils.addJob('noop', {}));
    const workers = await startWorkers(url, count);
    const deadline = Date.now() + 300_000;
    for (;;) {
      const left = (await db.query('SELECT COUNT(*)::int AS c FROM graphile_worker._private_jobs')).rows[0].c;
      if (!left) break;
      if (Date.now() > deadline) throw new Error(`${left} jobs unfinished after 300 s`);
      await sleep(100);
    }
    const recs = await stopWorkers(workers);
    if (recs.length !== n) throw new Error(`graphile ran ${recs.length} jobs, expected ${n}`);
    return throughput(recs);
  } finally {
    await db.end();
    await utils.release();
  }
}

// ---- report ----

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

async function main() {
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`task queue benchmark: ${os.cpus().length} CPUs, load average at start ${load}`);
  console.log(`latency: ${SAMPLES} samples, one task in flight, enqueue -> start from ms timestamps on one clock`);
  console.log('  (Cuttle queue_time -> start_time; graphile created_at -> task function start)');
  console.log(`throughput: ${NOOP_TASKS} Noop / ${SCRIPT_TASKS} AdHocScript tasks queued ahead, then all nodes released;`);
  console.log(`  tasks/s while every node is busy, best of ${REPEAT} alternating rounds (median in brackets)\n`);

  const results = {};
  const systems = [
    ['cuttle-script', 'Cuttle AdHocScript `true`', () => cuttleLatencyRig('script'), (k) => cuttleThroughput('script', k, SCRIPT_TASKS)],
    ['cuttle-noop', 'Cuttle Noop', () => cuttleLatencyRig('noop'), (k) => cuttleThroughput('noop', k, NOOP_TASKS)],
    ['graphile', 'graphile-worker 0.17.3', () => graphileLatencyRig(), (k) => graphileThroughput(k, NOOP_TASKS)],
  ].filter(([key]) => ONLY.includes(key));

  log('latency: every system up at once, samples interleaved');
  const rigs = [];
  for (const [key, label, rig] of systems) rigs.push([key, label, await rig()]);
  for (let i = 0; i < SAMPLES + WARMUP; i++) {
    for (let j = 0; j < rigs.length; j++) await rigs[(i + j) % rigs.length][2].sample(i >= WARMUP);
  }
  for (const [key, label, rig] of rigs) {
    const r = { label, lat: await rig.finish(), tput: {} };
    log(`${label}: trigger p50 ${fmt(r.lat.us.p50, 3)} p99 ${fmt(r.lat.us.p99, 3)} max ${fmt(r.lat.us.max, 3)}; ms stamps p50 ${r.lat.ms.p50} p99 ${r.lat.ms.p99} mean ${fmt(r.lat.ms.mean, 2)}`);
    results[key] = r;
  }
  // Throughput: for each node count, REPEAT rounds of every system in turn (order rotated), so
  // each comparison is made minutes apart at most; the best round of each is reported (the one
  // least disturbed by other work on the machine), with the median beside it.
  for (const k of NODE_COUNTS) {
    const runs = new Map(systems.map(([key]) => [key, []]));
    for (let rep = 0; rep < REPEAT; rep++) {
      for (let j = 0; j < systems.length; j++) {
        const [key, label, , tput] = systems[(rep + j) % systems.length];
        const t = await tput(k);
        runs.get(key).push(t);
        log(`${label}: ${k} -> ${fmt(t.window)} (${fmt(t.overall)}) tasks/s, ${t.nodesUsed} used`);
      }
    }
    for (const [key, list] of runs) {
      const w = list.map((t) => (Number.isFinite(t.window) ? t.window : t.overall)).sort((a, b) => a - b);
      results[key].tput[k] = { window: w.at(-1), median: w[Math.floor((w.length - 1) / 2)] };
    }
  }

  const pad = (s, n) => String(s).padEnd(n);
  console.log([pad('', 27), pad('p50 ms', 8), pad('p99 ms', 8), pad('(stamps p50/p99/mean)', 23),
    ...NODE_COUNTS.map((k) => pad(`${k} node${k > 1 ? 's' : ''} tasks/s`, 18))].join(''));
  for (const r of Object.values(results)) {
    console.log([pad(r.label, 27), pad(fmt(r.lat.us.p50, 3), 8), pad(fmt(r.lat.us.p99, 3), 8),
      pad(`(${r.lat.ms.p50} / ${r.lat.ms.p99} / ${fmt(r.lat.ms.mean, 2)})`, 23),
      ...NODE_COUNTS.map((k) => pad(`${fmt(r.tput[k].window)} (${fmt(r.tput[k].median)})`, 18))].join(''));
  }
  console.log('p50/p99: enqueue -> claim by database triggers (microseconds); stamps: the systems\' own');
  console.log('ms timestamps (Cuttle queue_time -> start_time; graphile created_at -> task function start)');
  const c = results['cuttle-noop'];
  const g = results['graphile'];
  if (c && g) {
    console.log('\nCuttle Noop vs graphile-worker (targets: p50 <= 2 ms, p99 <= 10 ms, p50 <= 0.5x graphile\'s;');
    console.log('tasks/s >= 1.5x graphile\'s and not falling as nodes are added)');
    const ok = (b) => (b ? 'ok' : 'MISSED');
    const cl = c.lat.us, gl = g.lat.us;
    console.log(`  latency: p50 ${fmt(cl.p50, 3)} ms (${ok(cl.p50 <= 2)}), p99 ${fmt(cl.p99, 3)} ms (${ok(cl.p99 <= 10)}), ` +
      `p50 = ${fmt(cl.p50 / gl.p50, 2)}x graphile's ${fmt(gl.p50, 3)} ms (${ok(cl.p50 <= gl.p50 / 2)}), p99 = ${fmt(cl.p99 / gl.p99, 2)}x graphile's`);
    let prev = 0;
    for (const k of NODE_COUNTS) {
      const ratio = c.tput[k].window / g.tput[k].window;
      const rising = c.tput[k].window >= prev;
      prev = c.tput[k].window;
      console.log(`  ${k} node(s): ${fmt(c.tput[k].window)} vs ${fmt(g.tput[k].window)} tasks/s = ${fmt(ratio, 2)}x (${ok(ratio >= 1.5)}${rising ? '' : ', FALLING'})`);
    }
  }
  console.log(`\nload average at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

await main();
process.exit(0);
