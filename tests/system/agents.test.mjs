// Issue 12: cuttle-agent end to end. Three nodes on PostgreSQL behind HAProxy; agents on loopback,
// each with its own home folder, registered through the CLI with an API key and polling the
// balancer only. Deployments are created through @octopusdeploy/api-client.
//   1. Three agents deploy a package step and a script step; a Health task shows HealthStatus on
//      /machines; the CLI refuses bad arguments with exit 2.
//   2. The failure matrix (docs/high-availability.md, "Agents"), each case asserting the
//      deployment's final state, how often the script ran (each run appends a line to a file) and
//      the task log's lines against what the script printed:
//        kill -9 the node that owns the deployment while a 30 s script runs; kill -9 the agent and
//        restart it while its script runs; kill -9 the agent and leave it dead; a command delivered
//        twice; an agent revoked while it polls; a package whose hash does not match; tampered,
//        misdirected and replayed requests (signed here with node:crypto); HAProxy stopped for 20 s
//        mid-script; cancel through a node that is not the owner; kill -9 the node holding an
//        agent's long poll.
// Independent cases run concurrently (phase 1); the balancer outage runs alone (phase 2), and the
// cases that measure latency run last on a quiet cluster (phase 3).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_KEY, startCluster, freePort, eventually, tempDir, psql, sleep } from './lib/cluster.mjs';
import { Haproxy } from './lib/haproxy.mjs';
import { zip, multipart } from './lib/archives.mjs';
import { apiCall, action, step, script } from './lib/octopus.mjs';
import {
  AgentProcess, AgentClient, Identity, registerIdentity, runAgentCli, identityFromHome, chunkOf, okResult,
  pollHolder, httpRequest, API_PREFIX,
} from './lib/agents.mjs';

const require = createRequire(import.meta.url);
const {
  Client, EnvironmentRepository, LifecycleRepository, ProjectGroupRepository, ProjectRepository,
  NewProject, DeploymentProcessRepository, ReleaseRepository, DeploymentRepository,
} = require('@octopusdeploy/api-client');

const SPACE = 'Default';
const figures = [];
const report = (line) => { figures.push(line); console.log(`# ${line}`); };

describe('cuttle-agent: three nodes behind HAProxy, agents on loopback', { timeout: 330000 }, () => {
  let cluster, lb, client, work, devId, lifecycle;
  const agents = [];
  const stopFiles = [];
  let deadCase = null;  // phase 1's dead agent, which comes back after phase 1
  let version = 0;

  // Calls that must work while the balancer is down or a node is dead go to a live node directly.
  const live = () => cluster.nodes.find((n) => !n.exited);
  // A node killed by a concurrent case may refuse a call before it shows as exited: try another.
  async function api(method, p, body) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await apiCall(live().url, method, p, body);
      } catch (e) {
        if (attempt >= 5) throw e;
        await sleep(200);
      }
    }
  }
  const db = (sql) => psql(cluster.database, sql);
  const node = (name) => cluster.nodes.find((n) => n.name === name);

  async function newAgent(name, roles = [name], runArgs = []) {
    const a = new AgentProcess({
      name, home: path.join(work, 'homes', name), server: lb.url, apiKey: ADMIN_KEY,
      environments: ['Dev'], roles, runArgs,
    });
    agents.push(a);
    await a.register();
    a.start();
    return a;
  }

  // Until the agent's first authenticated request is on record (it polls).
  async function polling(a) {
    await eventually(() => db(`SELECT last_seen_at IS NOT NULL FROM agents WHERE machine_id = '${a.machineId}'`) === 't',
      { timeoutMs: 20000, what: `${a.name} to poll` });
  }

  async function project(name, steps) {
    const group = (await new ProjectGroupRepository(client, SPACE).list({ take: 1 })).Items[0];
    const p = await new ProjectRepository(client, SPACE).create(NewProject(name, group, lifecycle));
    const dp = new DeploymentProcessRepository(client, SPACE);
    const proc = await dp.get(p);
    proc.Steps = steps;
    await dp.update(p, proc);
    return p;
  }

  // A release and its deployment to Dev, through the balancer and api-client; the task id.
  async function deploy(projectName) {
    const v = `1.0.${++version}`;
    await new ReleaseRepository(client, SPACE).create({ spaceName: SPACE, ProjectName: projectName, ReleaseVersion: v });
    const d = await new DeploymentRepository(client, SPACE).create({
      spaceName: SPACE, ProjectName: projectName, ReleaseVersion: v, EnvironmentNames: ['Dev'],
    });
    return d.DeploymentServerTasks[0].ServerTaskId;
  }

  const task = async (id) => (await api('GET', `/api/tasks/${id}`)).json;
  const rawLog = async (id) => (await api('GET', `/api/tasks/${id}/raw`)).text;
  async function waitTask(id, timeoutMs = 90000) {
    return eventually(async () => {
      const t = await task(id);
      return t?.IsCompleted ? t : null;
    }, { timeoutMs, intervalMs: 200, what: `task ${id} to finish` });
  }

  // A case's files: runs (one line per run), started (touched when the script starts), stop.
  function files(tag) {
    const dir = path.join(work, 'cases', tag);
    mkdirSync(dir, { recursive: true });
    const f = { dir, runs: path.join(dir, 'runs'), started: path.join(dir, 'started'), stop: path.join(dir, 'stop'), alive: path.join(dir, 'alive') };
    stopFiles.push(f.stop);
    return f;
  }
  const runCount = (f) => (existsSync(f.runs) ? readFileSync(f.runs, 'utf8').trim().split('\n').filter(Boolean).length : 0);

  // A script that records its run, then prints `n` numbered lines `ms` apart.
  const countedScript = (tag, f, n, ms) =>
    `echo run >> ${f.runs}\ntouch ${f.started}\nfor i in $(seq 1 ${n}); do echo "${tag} line $i of ${n}"; sleep ${ms / 1000}; done`;

  // The log holds each of the script's lines exactly once: none missing, none twice.
  function assertLogComplete(raw, tag, n) {
    const re = new RegExp(`${tag} line (\\d+) of ${n}(?!\\d)`);
    const seen = raw.split('\n').map((l) => re.exec(l)?.[1]).filter(Boolean).map(Number);
    const missing = [];
    for (let i = 1; i <= n; i++) if (!seen.includes(i)) missing.push(i);
    const twice = seen.filter((x, i) => seen.indexOf(x) !== i);
    assert.deepEqual({ lines: seen.length, missing, twice }, { lines: n, missing: [], twice: [] }, `${tag}: the log's lines`);
  }

  const scriptProject = (tag, body) => project(`Agent ${tag}`, [step(tag, tag, action(tag, 'Octopus.Script', script('Bash', body)))]);

  async function uploadPackage(id, ver, entries) {
    const bytes = zip(entries);
    const { body, contentType } = multipart(`${id}.${ver}.zip`, bytes);
    const up = await fetch(`${lb.url}/api/Spaces-1/packages/raw`, { method: 'POST', body, headers: { 'X-Octopus-ApiKey': ADMIN_KEY, 'Content-Type': contentType } });
    assert.equal(up.status, 201, await up.text());
    return createHash('sha256').update(bytes).digest('hex');
  }

  const packageStep = (name, roles, packageId) => step(name, roles, action(name, 'Octopus.TentaclePackage', {
    'Octopus.Action.Package.PackageId': packageId, 'Octopus.Action.Package.FeedId': 'feeds-builtin',
  }, { Packages: [{ Name: '', PackageId: packageId, FeedId: 'feeds-builtin', AcquisitionLocation: 'Server', Properties: {} }] }));

  before(async () => {
    work = tempDir('cuttle-agents-');
    cluster = await startCluster(3, { prefix: 'ag' });
    lb = await new Haproxy({ port: await freePort(), servers: cluster.nodes.map((n) => ({ name: n.name, port: n.port })) }).start();
    client = await Client.create({ instanceURL: lb.url, apiKey: ADMIN_KEY, userAgentApp: 'cuttle-test' });
    devId = (await new EnvironmentRepository(client, SPACE).create({ Name: 'Dev' })).Id;
    lifecycle = (await new LifecycleRepository(client, SPACE).list({ take: 100 })).Items[0];
  });

  after(async () => {
    for (const f of stopFiles) { try { writeFileSync(f, ''); } catch { /* gone */ } }
    await Promise.all(agents.map((a) => a.kill()));
    await lb?.stop();
    await cluster?.stop();
    await sleep(500);  // scripts left running by a killed agent see their stop file and exit
    if (work) rmSync(work, { recursive: true, force: true });
    if (figures.length) console.log(figures.map((l) => `# ${l}`).join('\n'));
  });

  test('three agents register through the CLI and deploy a package step and a script step', async () => {
    const trio = [];
    // agent-1 sends artifacts in pieces of 1 MiB (the default is 4 MiB), so its 20 MiB one is 20
    // requests, which the balancer spreads over the nodes.
    for (const name of ['agent-1', 'agent-2', 'agent-3']) {
      trio.push(await newAgent(name, ['web'], name === 'agent-1' ? ['--artifact-piece-bytes', '1M'] : []));
    }

    // Registered as polling targets with their environments, roles and thumbprints.
    const machines = (await api('GET', '/api/Spaces-1/machines?take=100')).json.Items;
    for (const a of trio) {
      const m = machines.find((x) => x.Id === a.machineId);
      assert.ok(m, `${a.name} (${a.machineId}) is not under /machines`);
      assert.equal(m.Name, a.name);
      assert.deepEqual(m.Roles, ['web']);
      assert.deepEqual(m.EnvironmentIds, [devId]);
      assert.equal(m.Endpoint.CommunicationStyle, 'TentacleActive');
      assert.equal(m.Endpoint.Thumbprint, a.identity.thumbprint);
      const mode = statSync(path.join(a.home, 'agent.key')).mode & 0o777;
      assert.equal(mode, 0o600, `agent.key mode ${mode.toString(8)}`);
    }
    // Registering again with the same key is the same machine.
    const again = await runAgentCli(['register', '--server', lb.url, '--api-key', ADMIN_KEY, '--name', 'agent-1',
      '--environment', 'Dev', '--role', 'web', '--home', trio[0].home]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(identityFromHome(trio[0].home).machineId, trio[0].machineId);
    const show = await runAgentCli(['show', '--home', trio[0].home]);
    assert.equal(show.code, 0, show.stdout + show.stderr);
    assert.match(show.stdout, new RegExp(trio[0].machineId));

    const f = files('basic');
    const sha = await uploadPackage('Cuttle.Agent.Web', '1.0.0', [
      ['Deploy.sh', `#!/bin/bash\necho "Deploy $(get_octopusvariable Octopus.Machine.Name)" >> ${f.dir}/deployed\necho "deployed from $(cat version.txt)"\n`],
      ['version.txt', 'web 1.0.0'],
    ]);
    await project('Agents Web', [
      packageStep('Deploy web', 'web', 'Cuttle.Agent.Web'),
      step('Say hello', 'web', action('Say hello', 'Octopus.Script', script('Bash',
        `echo "run #{Octopus.Machine.Name}" >> ${f.runs}\necho "hello from #{Octopus.Machine.Name}"\n` +
        `printf 'artifact from %s\\001\\377\\n' "#{Octopus.Machine.Name}" > report.bin\n` +
        `new_octopusartifact report.bin "report-#{Octopus.Machine.Name}.bin"\n` +
        // Larger than one request's 16 MiB: uploaded in pieces (docs/agent.md, "Uploads in pieces").
        `head -c 20971520 /dev/urandom > big.bin\n` +
        `echo "big sha256 #{Octopus.Machine.Name} $(sha256sum big.bin | cut -d' ' -f1)"\n` +
        `new_octopusartifact big.bin "big-#{Octopus.Machine.Name}.bin"`))),
    ]);
    const created = Date.now();
    const id = await deploy('Agents Web');
    const t = await waitTask(id, 60000);
    assert.equal(t.State, 'Success', t.ErrorMessage);
    report(`three agents, package step + script step: deployment Success in ${Date.now() - created} ms`);
    const raw = await rawLog(id);
    const deployed = readFileSync(path.join(f.dir, 'deployed'), 'utf8').trim().split('\n').sort();
    assert.deepEqual(deployed, trio.map((a) => `Deploy ${a.name}`));
    assert.deepEqual(readFileSync(f.runs, 'utf8').trim().split('\n').sort(), trio.map((a) => `run ${a.name}`));
    for (const a of trio) {
      assert.match(raw, new RegExp(`hello from ${a.name}`));
      // The package is verified into the agent's cache under its SHA-256.
      assert.ok(existsSync(path.join(a.home, 'packages', sha)), `${a.name} has no cached ${sha}`);
    }
    assert.equal((raw.match(/deployed from web 1\.0\.0/g) ?? []).length, 3, raw);
    // Each agent's artifact is the task's, and downloads with the bytes the script wrote.
    const arts = (await api('GET', `/api/artifacts?regarding=${id}`)).json.Items;
    assert.deepEqual(arts.map((x) => x.Filename).sort(),
      [...trio.map((a) => `big-${a.name}.bin`), ...trio.map((a) => `report-${a.name}.bin`)], JSON.stringify(arts));
    for (const a of trio) {
      const art = arts.find((x) => x.Filename === `report-${a.name}.bin`);
      const got = await fetch(`${lb.url}/api/artifacts/${art.Id}/content`, { headers: { 'X-Octopus-ApiKey': ADMIN_KEY } });
      assert.equal(got.status, 200);
      const want = Buffer.concat([Buffer.from(`artifact from ${a.name}`), Buffer.from([1, 0xff, 0x0a])]);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), want, a.name);
      assert.match(raw, new RegExp(`Collected artifact report-${a.name}\\.bin \\(${want.length} bytes\\)`));
      // The 20 MiB one, byte-identical: its SHA-256 is the one the script printed.
      const big = arts.find((x) => x.Filename === `big-${a.name}.bin`);
      const bigGot = await fetch(`${lb.url}/api/artifacts/${big.Id}/content`, { headers: { 'X-Octopus-ApiKey': ADMIN_KEY } });
      assert.equal(bigGot.status, 200);
      const bigBytes = Buffer.from(await bigGot.arrayBuffer());
      assert.equal(bigBytes.length, 20971520, a.name);
      const printed = new RegExp(`big sha256 ${a.name} ([0-9a-f]{64})`).exec(raw)?.[1];
      assert.ok(printed, `${a.name} printed no SHA-256`);
      assert.equal(createHash('sha256').update(bigBytes).digest('hex'), printed, a.name);
      assert.match(raw, new RegExp(`Collected artifact big-${a.name}\\.bin \\(20971520 bytes\\)`));
    }

    // A Health task through the API: HealthStatus on /machines.
    const h = await api('POST', '/api/tasks', {
      Name: 'Health', Description: 'Check the agents', SpaceId: 'Spaces-1',
      Arguments: { EnvironmentId: devId, MachineIds: trio.map((a) => a.machineId) },
    });
    assert.equal(h.status, 201, h.text);
    const ht = await waitTask(h.json.Id, 60000);
    assert.equal(ht.State, 'Success', ht.ErrorMessage);
    const checked = (await api('GET', '/api/Spaces-1/machines?take=100')).json.Items;
    for (const a of trio) assert.equal(checked.find((x) => x.Id === a.machineId).HealthStatus, 'Healthy', a.name);
  });

  test('the CLI refuses bad arguments with one line and exit 2', async () => {
    const home = path.join(work, 'homes', 'cli');
    const cases = [
      [],
      ['bogus'],
      ['register', '--api-key', ADMIN_KEY, '--name', 'x', '--environment', 'Dev', '--role', 'r', '--home', home],  // no --server
      ['register', '--server', 'http://127.0.0.1:1', '--name', 'x', '--environment', 'Dev', '--role', 'r', '--home', home],  // no key
      ['register', '--server', lb.url, '--api-key', ADMIN_KEY, '--name', 'x', '--role', 'r', '--home', home],  // no environment
      ['register', '--server', lb.url, '--api-key', ADMIN_KEY, '--name', 'x', '--environment', 'Dev', '--home', home],  // no role
      ['register', '--server', lb.url, '--api-key', ADMIN_KEY, '--name', 'x', '--environment', 'Dev', '--role'],  // a flag without its value
      ['register', '--server', lb.url, '--api-key', ADMIN_KEY, '--name', 'x', '--environment', 'Dev', '--role', 'r', '--home', home, '--colour', 'red'],
      ['run'],
      ['run', '--home'],
      ['show', '--home', home, 'extra'],
      ['deregister', '--nonsense'],
    ];
    for (const args of cases) {
      const r = await runAgentCli(args);
      assert.equal(r.code, 2, `cuttle-agent ${args.join(' ')}: exit ${r.code}\n${r.stdout}${r.stderr}`);
      const lines = r.stderr.trim().split('\n').filter(Boolean);
      assert.equal(lines.length, 1, `cuttle-agent ${args.join(' ')}: ${JSON.stringify(r.stderr)}`);
    }
    assert.ok(!existsSync(path.join(home, 'agent.json')), 'a refused register wrote agent.json');
  });

  // ---- phase 1: independent failures, concurrently ------------------------------------------------

  describe('phase 1', { concurrency: true }, () => {
    test('kill -9 the node that owns the deployment while a 30 s script runs: Success, log complete, run once', async () => {
      const tag = 'ownerkill';
      const f = files(tag);
      await newAgent(tag);
      await scriptProject(tag, countedScript(tag, f, 60, 500));
      const id = await deploy(`Agent ${tag}`);
      await eventually(() => existsSync(f.started), { timeoutMs: 30000, what: 'the script to start' });
      await sleep(5000);
      const owner = (await task(id)).ServerNode;
      const victim = node(owner);
      assert.ok(victim, `owner ${owner}`);
      await victim.kill();
      const killedAt = Date.now();
      const adoptedAt = await eventually(async () => {
        const t = await task(id);
        return t.ServerNode && t.ServerNode !== owner ? Date.now() : null;
      }, { timeoutMs: 60000, intervalMs: 100, what: 'another node to adopt the deployment' });
      const t = await waitTask(id, 90000);
      assert.equal(t.State, 'Success', t.ErrorMessage);
      assert.equal(runCount(f), 1);
      assertLogComplete(await rawLog(id), tag, 60);
      report(`owner node kill -9 mid-script: adopted by ${t.ServerNode} ${adoptedAt - killedAt} ms after the kill; Success, 60/60 lines, 1 run`);
      await victim.start();
    });

    test('kill -9 the agent and restart it while its script runs: it re-attaches, the script runs once', async () => {
      const tag = 'agentrestart';
      const f = files(tag);
      const a = await newAgent(tag);
      await scriptProject(tag, countedScript(tag, f, 24, 500));
      const id = await deploy(`Agent ${tag}`);
      await eventually(() => existsSync(f.started), { timeoutMs: 30000, what: 'the script to start' });
      await sleep(2000);
      await a.kill();
      await sleep(2000);
      a.start();
      const t = await waitTask(id, 60000);
      assert.equal(t.State, 'Success', `${t.ErrorMessage}\n${a.output}`);
      assert.equal(runCount(f), 1);
      assertLogComplete(await rawLog(id), tag, 24);
      assert.equal(a.exited, null, 'the restarted agent exited');
    });

    test('kill -9 the agent and leave it dead: the step fails within the lease, saying the agent stopped answering; the target turns Unavailable', async () => {
      const tag = 'agentdead';
      const f = files(tag);
      const a = await newAgent(tag);
      // Runs until told to stop (at most 3 min), so the agent can come back to a still-running script.
      await scriptProject(tag, `echo run >> ${f.runs}\ntouch ${f.started}\nfor i in $(seq 1 1800); do [ -f ${f.stop} ] && break; echo "${tag} tick $i"; sleep 0.1; done\necho "${tag} finished"`);
      const id = await deploy(`Agent ${tag}`);
      await eventually(() => existsSync(f.started), { timeoutMs: 30000, what: 'the script to start' });
      await sleep(1000);
      await a.kill();
      const killedAt = Date.now();
      let unavailableAt = null;
      const watch = (async () => {
        while (!unavailableAt && Date.now() - killedAt < 120000) {
          const m = (await api('GET', `/api/Spaces-1/machines/${a.machineId}`)).json;
          if (m?.HealthStatus === 'Unavailable') unavailableAt = Date.now();
          await sleep(500);
        }
      })();
      const t = await waitTask(id, 100000);
      const failedMs = Date.now() - killedAt;
      assert.equal(t.State, 'Failed');
      assert.ok(failedMs <= 65000, `failed ${failedMs} ms after the kill (lease 45 s)`);
      const raw = await rawLog(id);
      assert.match(`${t.ErrorMessage}\n${raw}`, /stopped answering/i);
      assert.equal(runCount(f), 1);
      report(`agent kill -9, left dead: step Failed ${failedMs} ms after the kill (lease 45 s)`);
      // Unavailable on /machines before the agent comes back (its next poll makes it live again).
      await watch;
      report(`agent stopped polling -> HealthStatus Unavailable: ${unavailableAt ? `${unavailableAt - killedAt} ms` : 'not within 120 s'}`);
      assert.ok(unavailableAt, 'the dead agent never showed Unavailable on /machines');
      deadCase = { a, id, f };
    });

    test('a command delivered twice (its first claim lost) runs once', async () => {
      const tag = 'twice';
      const f = files(tag);
      const a = await newAgent(tag);
      await polling(a);
      // Every claim of this agent's commands fails (a 500 from the node) until the trigger goes:
      // the offer expires (15 s) and is delivered again, to an agent that holds the first one.
      const fn = `test_lose_claims_${a.machineId.replace(/\W/g, '_')}`;
      db(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
            IF NEW.machine_id = '${a.machineId}' AND NEW.state = 'running' AND OLD.state <> 'running' THEN
              RAISE EXCEPTION 'system test: this claim is lost'; END IF; RETURN NEW; END $$;
          CREATE TRIGGER ${fn} BEFORE UPDATE ON agent_commands FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
      await scriptProject(tag, countedScript(tag, f, 20, 200));
      const id = await deploy(`Agent ${tag}`);
      const count = () => Number(db(`SELECT coalesce(max(delivery_count), 0) FROM agent_commands WHERE machine_id = '${a.machineId}'`));
      await eventually(() => count() >= 1, { timeoutMs: 30000, what: 'the first delivery' });
      // The agent also restarts in between: the second delivery meets its journal, not its memory.
      await a.kill();
      a.start();
      await eventually(() => count() >= 2, { timeoutMs: 40000, what: 'the second delivery' }).catch((e) => {
        throw new Error(`${e.message}\ncommand: ${db(`SELECT state, epoch, delivery_count FROM agent_commands WHERE machine_id = '${a.machineId}'`)}\nagent:\n${a.output}`);
      });
      assert.equal(runCount(f), 0, 'the script ran before its claim was accepted');
      db(`DROP TRIGGER ${fn} ON agent_commands; DROP FUNCTION ${fn}()`);
      const t = await waitTask(id, 60000);
      assert.equal(t.State, 'Success', `${t.ErrorMessage}\n${a.output}`);
      assert.equal(runCount(f), 1, 'the script ran twice');
      assertLogComplete(await rawLog(id), tag, 20);
      report(`a command delivered ${count()} times: ran once`);
    });

    test('an agent revoked (its machine deleted) while it polls exits 3 and is refused from then on', async () => {
      const tag = 'revoked';
      const a = await newAgent(tag);
      await polling(a);
      await sleep(1000);
      const del = await api('DELETE', `/api/Spaces-1/machines/${a.machineId}`);
      assert.ok([200, 204].includes(del.status), del.text);
      const at = Date.now();
      const exited = await Promise.race([a.exitPromise, sleep(15000).then(() => null)]);
      assert.ok(exited, 'the revoked agent is still running 15 s later');
      assert.equal(exited.code, 3, `exit ${JSON.stringify(exited)}\n${a.output}`);
      report(`agent revoked while polling: exit 3 after ${exited.at - at} ms`);
      const me = await new AgentClient(lb.url, a.identity).me();
      assert.equal(me.status, 401, me.text);
    });

    test('a package whose hash does not match is refused by the agent', async () => {
      const tag = 'badpkg';
      const f = files(tag);
      const a = await newAgent(tag);
      const sha = await uploadPackage('Cuttle.Agent.Bad', '1.0.0', [['Deploy.sh', `#!/bin/bash\necho ran >> ${f.runs}\n`], ['pad.txt', 'x'.repeat(4096)]]);
      // Corrupt the stored file in place (same size): the server still announces the upload's hash.
      // The stored file: whatever its name, the one in the shared folder with the upload's bytes.
      const find = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return find(p);
        return e.isFile() && createHash('sha256').update(readFileSync(p)).digest('hex') === sha ? [p] : [];
      });
      const stored = find(cluster.sharedDir);
      assert.equal(stored.length, 1, JSON.stringify(stored));
      const bytes = readFileSync(stored[0]);
      bytes.write('y'.repeat(64), bytes.indexOf('xxxx'), 'latin1');
      writeFileSync(stored[0], bytes);
      await project(`Agent ${tag}`, [packageStep(tag, tag, 'Cuttle.Agent.Bad')]);
      const id = await deploy(`Agent ${tag}`);
      const t = await waitTask(id, 60000);
      assert.equal(t.State, 'Failed');
      assert.match(`${t.ErrorMessage}\n${await rawLog(id)}`, /failed verification/i);
      assert.equal(runCount(f), 0, 'the tampered package was deployed');
      const cache = path.join(a.home, 'packages');
      assert.ok(!existsSync(path.join(cache, sha)), 'the tampered package is in the cache');
    });

    test('tampered, misdirected and replayed requests are refused and change nothing', async () => {
      const tag = 'forged';
      const fake = Identity.generate();
      const reg = await registerIdentity(lb.url, ADMIN_KEY, fake, { name: tag, environments: ['Dev'], roles: [tag] });
      assert.equal(reg.status, 201, reg.text);
      const again = await registerIdentity(lb.url, ADMIN_KEY, new Identity(fake.seed), { name: tag, environments: ['Dev'], roles: [tag] });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.json.MachineId, fake.machineId);
      const noKey = await httpRequest(lb.url, 'POST', `${API_PREFIX}/register`, { body: { Name: 'x', Environments: ['Dev'], Roles: ['x'], PublicKey: Identity.generate().publicKeyBase64 }, headers: { 'Content-Type': 'application/json' } });
      assert.equal(noKey.status, 401, noKey.text);

      const me = new AgentClient(lb.url, fake);
      await scriptProject(tag, 'echo "the fake agent does not run this"');
      const id = await deploy(`Agent ${tag}`);
      let offer;
      await eventually(async () => {
        const p = await me.poll(2);
        assert.ok([200, 204].includes(p.status), p.text);
        offer = p.json?.Offers?.[0];
        return offer;
      }, { timeoutMs: 30000, intervalMs: 0, what: 'an offer for the fake agent' });
      assert.equal(offer.Envelope.TaskId, id);
      assert.equal(offer.Envelope.Kind, 'script');
      const cmd = offer.CommandId;
      const claim = await me.claim(cmd);
      assert.equal(claim.status, 200, claim.text);
      const epoch = claim.json.Epoch;
      const state = () => db(`SELECT state, epoch FROM agent_commands WHERE id = '${cmd}'`);
      const chunks = () => db(`SELECT string_agg(seq::text, ',' ORDER BY seq) FROM agent_command_output WHERE command_id = '${cmd}'`);

      const c0 = chunkOf([{ t: `${tag} line 1 of 6` }, { t: `${tag} line 2 of 6` }, { t: `${tag} line 3 of 6` }]);
      assert.equal((await me.putLog(cmd, 0, epoch, c0)).status, 201);
      assert.equal((await me.putLog(cmd, 0, epoch, c0)).status, 200, 'a chunk sent twice is one chunk');
      assert.equal((await me.putLog(cmd, 0, epoch, chunkOf([{ t: 'something else' }]))).status, 409);
      const before = { state: state(), chunks: chunks() };
      assert.equal(before.chunks, '0');

      const c1 = chunkOf([{ t: `${tag} line 4 of 6` }, { t: `${tag} line 5 of 6` }]);
      const refusals = {
        'wrong epoch (newer)': await me.putLog(cmd, 1, epoch + 1, c1),
        'wrong epoch (older)': await me.putLog(cmd, 1, epoch - 1, c1),
        'result with a wrong epoch': await me.putResult(cmd, epoch + 1, okResult(0)),
        'heartbeat with a wrong epoch': await me.heartbeat(cmd, epoch + 7),
      };
      for (const [what, r] of Object.entries(refusals)) assert.equal(r.status, 410, `${what}: ${r.status} ${r.text}`);

      // Another agent: the real agent-1, signing with the key in its home.
      const other = new AgentClient(lb.url, identityFromHome(agents.find((a) => a.name === 'agent-1').home));
      const misdirected = {
        'another agent\'s log chunk': await other.putLog(cmd, 1, epoch, c1),
        'another agent\'s result': await other.putResult(cmd, epoch, okResult(0)),
        'another agent\'s claim': await other.claim(cmd),
      };
      for (const [what, r] of Object.entries(misdirected)) assert.ok([403, 404].includes(r.status), `${what}: ${r.status} ${r.text}`);
      // Its key under our machine id, a stale time, a body that is not the one signed, no signature.
      const forged = {
        'signed by another key': await other.putLog(cmd, 1, epoch, c1, { sign: { machineId: fake.machineId } }),
        'ten minutes old': await me.putLog(cmd, 1, epoch, c1, { sign: { unixMs: Date.now() - 600000 } }),
        'not signed at all': await httpRequest(lb.url, 'PUT', `${API_PREFIX}/commands/${cmd}/log/1`, { body: Buffer.from(c1), headers: { 'Cuttle-Epoch': String(epoch) } }),
      };
      const signedOther = me.identity.authorization('PUT', `${API_PREFIX}/commands/${cmd}/log/1`, Buffer.from(c0));
      forged['a body other than the one signed'] = await httpRequest(lb.url, 'PUT', `${API_PREFIX}/commands/${cmd}/log/1`,
        { body: Buffer.from(c1), headers: { Authorization: signedOther, 'Cuttle-Epoch': String(epoch) } });
      for (const [what, r] of Object.entries(forged)) assert.equal(r.status, 401, `${what}: ${r.status} ${r.text}`);
      assert.deepEqual({ state: state(), chunks: chunks() }, before, 'a refused request changed the command');

      // Replays: the same bytes again, whichever node the balancer picks, are refused.
      const hb = await me.heartbeat(cmd, epoch);
      assert.equal(hb.status, 200, hb.text);
      assert.equal((await me.replay(hb.sent)).status, 401, 'a replayed heartbeat');
      const put1 = await me.putLog(cmd, 1, epoch, c1);
      assert.equal(put1.status, 201, put1.text);
      const replayed = await Promise.all(cluster.nodes.filter((n) => !n.exited).map((n) => httpRequest(n.url, put1.sent.method, put1.sent.target, { body: put1.sent.body, headers: put1.sent.headers })));
      for (const r of replayed) assert.equal(r.status, 401, `a replayed chunk: ${r.status} ${r.text}`);
      assert.equal(chunks(), '0,1');

      // The result names its last chunk: a gap is listed, then filled.
      const gap = await me.putResult(cmd, epoch, okResult(2));
      assert.equal(gap.status, 412, gap.text);
      assert.deepEqual(gap.json.MissingSeqs, [2]);
      assert.equal((await me.putLog(cmd, 2, epoch, chunkOf([{ t: `${tag} line 6 of 6` }]))).status, 201);
      const done = await me.putResult(cmd, epoch, okResult(2));
      assert.equal(done.status, 200, done.text);
      assert.equal((await me.putResult(cmd, epoch, okResult(2))).status, 200, 'the same result again');
      assert.equal((await me.putResult(cmd, epoch, okResult(2, { State: 'failed' }))).status, 409, 'a different result');
      const t = await waitTask(id, 30000);
      assert.equal(t.State, 'Success', t.ErrorMessage);
      assertLogComplete(await rawLog(id), tag, 6);
      assert.ok(!(await rawLog(id)).includes('something else'));
    });
  });

  // docs/agent.md: a result for a `lost` command is kept in late_result ("Late": true) and changes
  // nothing else. (Until 634c626 the agent dropped such a command without sending its result.)
  test('the dead agent comes back: its script was not re-run and its late result is kept for audit only', async () => {
    assert.ok(deadCase, 'the dead-agent case did not get this far');
    const { a, id, f } = deadCase;
    writeFileSync(f.stop, '');
    a.start();
    const cmd = db(`SELECT id FROM agent_commands WHERE machine_id = '${a.machineId}' AND task_id = '${id}'`);
    await eventually(() => db(`SELECT late_result IS NOT NULL FROM agent_commands WHERE id = '${cmd}'`) === 't',
      { timeoutMs: 30000, what: 'the late result on record' }).catch((e) => {
      throw new Error(`${e.message}\ncommand: ${db(`SELECT state, epoch, delivery_count, last_seq, late_result IS NOT NULL FROM agent_commands WHERE id = '${cmd}'`)}\nagent:\n${a.output}`);
    });
    assert.equal(db(`SELECT state FROM agent_commands WHERE id = '${cmd}'`), 'lost');
    assert.equal((await task(id)).State, 'Failed');
    assert.equal(runCount(f), 1);
  });

  // ---- phase 2: the balancer goes away ----------------------------------------------------------

  test('HAProxy stopped for 20 s mid-script: the agent spools and resends; Success, log complete, run once', async () => {
    const tag = 'lbdown';
    const f = files(tag);
    const a = await newAgent(tag);
    await scriptProject(tag, countedScript(tag, f, 60, 500));
    const id = await deploy(`Agent ${tag}`);
    await eventually(() => existsSync(f.started), { timeoutMs: 30000, what: 'the script to start' });
    await sleep(3000);
    await lb.halt();
    await sleep(20000);
    await lb.start();
    const back = Date.now();
    const t = await waitTask(id, 60000);
    assert.equal(t.State, 'Success', `${t.ErrorMessage}\n${a.output}`);
    assert.equal(runCount(f), 1);
    assertLogComplete(await rawLog(id), tag, 60);
    report(`HAProxy down 20 s mid-script: Success ${Date.now() - back} ms after it returned, 60/60 lines, 1 run`);
  });

  // ---- phase 3: latency on a quiet cluster --------------------------------------------------------

  test('cancel through a node that is not the owner reaches the agent within about a second', async () => {
    const tag = 'cancel';
    const f = files(tag);
    const a = await newAgent(tag);
    await scriptProject(tag, `echo run >> ${f.runs}\ntouch ${f.started}\nfor i in $(seq 1 1200); do date +%s%3N > ${f.alive}.tmp && mv ${f.alive}.tmp ${f.alive}; sleep 0.05; done`);
    const id = await deploy(`Agent ${tag}`);
    await eventually(() => existsSync(f.started), { timeoutMs: 30000, what: 'the script to start' });
    await sleep(1000);
    assert.ok(await pollHolder(a, lb), 'the agent holds no poll');
    const owner = (await task(id)).ServerNode;
    const other = cluster.nodes.find((n) => n.name !== owner && !n.exited);
    const asked = Date.now();
    const r = await other.api('POST', `/api/tasks/${id}/cancel`);
    assert.equal(r.status, 200, r.text);
    const t = await waitTask(id, 30000);
    assert.equal(t.State, 'Canceled', t.ErrorMessage);
    await sleep(500);
    const lastAlive = Number(readFileSync(f.alive, 'utf8'));
    const reachMs = lastAlive - asked;
    report(`cancel through ${other.name} (owner ${owner}): the script stopped ${reachMs} ms after the request; Canceled`);
    assert.ok(reachMs <= 1500, `the script ran on ${reachMs} ms after the cancel`);
    assert.equal(runCount(f), 1);
  });

  test('kill -9 the node holding an agent\'s long poll: the agent polls elsewhere and picks up work at once', async () => {
    const tag = 'pollkill';
    const f = files(tag);
    const a = await newAgent(tag);
    await scriptProject(tag, countedScript(tag, f, 5, 100));
    await polling(a);
    const holder = await pollHolder(a, lb);
    assert.ok(holder, 'no node holds the agent\'s poll');
    const victim = node(holder);
    await victim.kill();
    const killedAt = Date.now();
    const id = await deploy(`Agent ${tag}`);
    await eventually(() => existsSync(f.started), { timeoutMs: 30000, what: 'the script to start' });
    const pickedMs = Date.now() - killedAt;
    const t = await waitTask(id, 30000);
    assert.equal(t.State, 'Success', t.ErrorMessage);
    assert.equal(runCount(f), 1);
    assertLogComplete(await rawLog(id), tag, 5);
    assert.equal(a.exited, null);
    report(`kill -9 of the node holding the poll (${holder}): the agent started new work ${pickedMs} ms after the kill`);
    assert.ok(pickedMs < 10000, `picked up ${pickedMs} ms after the kill`);
    await victim.start();
  });
});
