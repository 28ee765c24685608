// Issue 11: the deployment engine end to end, through HAProxy in front of three nodes on
// PostgreSQL, driven by @octopusdeploy/api-client 3.11.0 where it has the call (and by its REST
// shapes where it has none: interruptions). Three environments in a two-phase lifecycle, `None`
// targets in two roles, and a process of
//   1. a bash step on the web targets that sets an output variable (and echoes a secret),
//   2. a python step on the server that reads it,
//   3. a package step whose PreDeploy/Deploy/PostDeploy scripts and substituted JSON file prove
//      Calamari's order and the variables,
//   4. a step that fails once and is retried through guided failure,
//   5. a manual intervention approved through a node other than the one that ran the steps.
// Then the release is promoted to the second phase. The log and /details are read, and no
// sensitive value appears in either.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_KEY, startCluster, freePort, eventually, tempDir } from './lib/cluster.mjs';
import { Haproxy } from './lib/haproxy.mjs';
import { zip, multipart } from './lib/archives.mjs';
import { apiCall, action, step, script } from './lib/octopus.mjs';

const require = createRequire(import.meta.url);
const {
  Client, EnvironmentRepository, LifecycleRepository, ProjectGroupRepository, ProjectRepository,
  NewProject, DeploymentProcessRepository, ReleaseRepository, DeploymentRepository, ServerTaskWaiter,
} = require('@octopusdeploy/api-client');

const SPACE = 'Default';
const SECRET = 'hunter2-cuttle-engine-secret';

describe('the deployment engine through HAProxy and three nodes', { timeout: 240000 }, () => {
  let cluster, lb, client;
  const ids = {};
  const work = tempDir('cuttle-engine-');
  const marker = join(work, 'conventions.txt');
  const flaky = join(work, 'flaky-ran-once');

  const call = apiCall;
  const api = (method, path, body) => call(lb.url, method, path, body);

  async function pendingInterruption(taskId, type) {
    let found;
    await eventually(async () => {
      const r = await api('GET', `/api/Spaces-1/interruptions?regarding=${taskId}&pendingOnly=true`);
      assert.equal(r.status, 200, r.text);
      found = r.json.Items.find((i) => i.Type === type);
      return Boolean(found);
    }, { timeoutMs: 60000, what: `a pending ${type} interruption on ${taskId}` });
    return found;
  }

  // Answers through a node other than the one that last executed the task.
  async function answer(interruption, values) {
    const task = (await api('GET', `/api/tasks/${interruption.TaskId}`)).json;
    const node = cluster.nodes.find((n) => n.name !== task.ServerNode && !n.exited);
    const took = await call(node.url, 'PUT', `/api/Spaces-1/interruptions/${interruption.Id}/responsible`);
    assert.equal(took.status, 200, took.text);
    const submitted = await call(node.url, 'POST', `/api/Spaces-1/interruptions/${interruption.Id}/submit`, values);
    assert.equal(submitted.status, 200, submitted.text);
    assert.equal(submitted.json.IsPending, false);
    return node.name;
  }

  before(async () => {
    cluster = await startCluster(3, { prefix: 'eng' });
    lb = await new Haproxy({
      port: await freePort(), servers: cluster.nodes.map((n) => ({ name: n.name, port: n.port })),
    }).start();
    client = await Client.create({ instanceURL: lb.url, apiKey: ADMIN_KEY, userAgentApp: 'cuttle-test' });

    const envs = new EnvironmentRepository(client, SPACE);
    for (const name of ['Dev', 'Test', 'Prod']) ids[name] = (await envs.create({ Name: name })).Id;
    const lifecycle = await new LifecycleRepository(client, SPACE).create({
      Name: 'Two phases',
      Phases: [
        { Name: 'Development', AutomaticDeploymentTargets: [], OptionalDeploymentTargets: [ids.Dev], MinimumEnvironmentsBeforePromotion: 0, IsOptionalPhase: false },
        { Name: 'Release', AutomaticDeploymentTargets: [], OptionalDeploymentTargets: [ids.Test, ids.Prod], MinimumEnvironmentsBeforePromotion: 0, IsOptionalPhase: false },
      ],
      ReleaseRetentionPolicy: { QuantityToKeep: 0, ShouldKeepForever: true, Unit: 'Days' },
      TentacleRetentionPolicy: { QuantityToKeep: 0, ShouldKeepForever: true, Unit: 'Days' },
    });
    const all = [ids.Dev, ids.Test, ids.Prod];
    for (const [name, role] of [['web-1', 'web'], ['web-2', 'web'], ['db-1', 'db']]) {
      const r = await api('POST', '/api/Spaces-1/machines', { Name: name, Roles: [role], EnvironmentIds: all, Endpoint: { CommunicationStyle: 'None' } });
      assert.equal(r.status, 201, r.text);
    }

    // The package: its scripts record the convention order; Deploy.sh shows the substituted file.
    const record = (stage) => `#!/bin/bash\necho "${stage} $(get_octopusvariable Octopus.Machine.Name)" >> "$(get_octopusvariable MarkerFile)"\n`;
    const pkg = zip([
      ['PreDeploy.sh', record('PreDeploy')],
      ['Deploy.sh', `${record('Deploy')}echo "settings: $(tr -d '\\n ' < appsettings.json)"\n`],
      ['PostDeploy.sh', record('PostDeploy')],
      ['appsettings.json', JSON.stringify({ Greeting: 'unset', Db: { Name: 'unset' } }, null, 2)],
    ]);
    const { body, contentType } = multipart('Cuttle.Web.1.0.0.zip', pkg);
    const up = await fetch(`${lb.url}/api/Spaces-1/packages/raw`, { method: 'POST', body, headers: { 'X-Octopus-ApiKey': ADMIN_KEY, 'Content-Type': contentType } });
    assert.equal(up.status, 201, await up.text());

    const group = (await new ProjectGroupRepository(client, SPACE).list({ take: 1 })).Items[0];
    const project = await new ProjectRepository(client, SPACE).create(NewProject('Engine App', group, lifecycle));
    ids.project = project;
    const vars = await api('GET', `/api/variables/${project.VariableSetId}`);
    const put = await api('PUT', `/api/variables/${project.VariableSetId}`, {
      ...vars.json,
      Variables: [
        { Name: 'MarkerFile', Value: marker },
        { Name: 'FlakyFile', Value: flaky },
        { Name: 'Secret', Value: SECRET, Type: 'Sensitive', IsSensitive: true },
        { Name: 'Greeting', Value: 'hello from Dev', Scope: { Environment: [ids.Dev] } },
        { Name: 'Greeting', Value: 'hello from elsewhere' },
        { Name: 'Db:Name', Value: 'orders-#{Octopus.Environment.Name}' },
      ],
    });
    assert.equal(put.status, 200, put.text);

    const dp = new DeploymentProcessRepository(client, SPACE);
    const proc = await dp.get(project);
    proc.Steps = [
      step('Set colour', 'web', action('Set colour', 'Octopus.Script', script('Bash',
        'set_octopusvariable "Colour" "blue-$(get_octopusvariable Octopus.Machine.Name)"\necho "the secret is #{Secret}"\necho "greeting: #{Greeting}"'))),
      step('Read colour', '', action('Read colour', 'Octopus.Script', script('Python',
        'print("colour=" + get_octopusvariable("Octopus.Action[Set colour].Output[web-1].Colour"))', true))),
      step('Deploy web', 'web', action('Deploy web', 'Octopus.TentaclePackage', {
        'Octopus.Action.Package.PackageId': 'Cuttle.Web', 'Octopus.Action.Package.FeedId': 'feeds-builtin',
        'Octopus.Action.EnabledFeatures': 'Octopus.Features.JsonConfigurationVariables',
        'Octopus.Action.Package.JsonConfigurationVariablesTargets': 'appsettings.json',
      }, { Packages: [{ Name: '', PackageId: 'Cuttle.Web', FeedId: 'feeds-builtin', AcquisitionLocation: 'Server', Properties: {} }] })),
      step('Flaky', '', action('Flaky', 'Octopus.Script', script('Bash',
        'f="$(get_octopusvariable FlakyFile)"\nif [ -f "$f" ]; then echo "second time lucky"; exit 0; fi\ntouch "$f"\necho "failing the first time" >&2\nexit 3', true))),
      step('Approve', '', action('Approve', 'Octopus.Manual', { 'Octopus.Action.Manual.Instructions': 'Check the web servers, then proceed.' })),
    ];
    await dp.update(project, proc);
  });

  after(async () => {
    await lb?.stop();
    await cluster?.stop();
  });

  test('a release deploys step by step: outputs, packages, guided failure, a manual step, promotion', async () => {
    const release = await new ReleaseRepository(client, SPACE).create({ spaceName: SPACE, ProjectName: 'Engine App', ReleaseVersion: '1.0.0' });
    const deployments = new DeploymentRepository(client, SPACE);
    await assert.rejects(
      deployments.create({ spaceName: SPACE, ProjectName: 'Engine App', ReleaseVersion: '1.0.0', EnvironmentNames: ['Test'] }),
      (e) => e.StatusCode === 400 && /the phase 'Development' must be complete first/.test(e.message));

    const dev = await deployments.create({ spaceName: SPACE, ProjectName: 'Engine App', ReleaseVersion: '1.0.0', EnvironmentNames: ['Dev'], UseGuidedFailure: true });
    const taskId = dev.DeploymentServerTasks[0].ServerTaskId;

    const guidance = await pendingInterruption(taskId, 'GuidedFailure');
    assert.match(guidance.Title, /Flaky/);
    const parked = (await api('GET', `/api/tasks/${taskId}`)).json;
    assert.equal(parked.State, 'Executing');
    assert.equal(parked.HasPendingInterruptions, true);
    await answer(guidance, { Guidance: 'Retry', Notes: 'try again' });

    const manual = await pendingInterruption(taskId, 'ManualIntervention');
    assert.match(JSON.stringify(manual.Form), /Check the web servers/);
    await answer(manual, { Result: 'Proceed', Notes: 'looks fine' });

    const task = await new ServerTaskWaiter(client, SPACE).waitForServerTaskToComplete(taskId, 200, 60000);
    assert.equal(task.State, 'Success', task.ErrorMessage);

    const raw = (await api('GET', `/api/tasks/${taskId}/raw`)).text;
    assert.ok(!raw.includes(SECRET), 'the secret is in the raw log');
    assert.match(raw, /the secret is \*\*\*\*\*\*\*\*/);
    assert.match(raw, /greeting: hello from Dev/);
    assert.match(raw, /colour=blue-web-1/);
    assert.match(raw, /settings: \{"Greeting":"hellofromDev","Db":\{"Name":"orders-Dev"\}\}/);
    assert.match(raw, /second time lucky/);

    // Calamari's order on each web target, and nothing on the db target.
    const lines = readFileSync(marker, 'utf8').trim().split('\n');
    for (const machine of ['web-1', 'web-2']) {
      assert.deepEqual(lines.filter((l) => l.endsWith(machine)).map((l) => l.split(' ')[0]), ['PreDeploy', 'Deploy', 'PostDeploy']);
    }
    assert.ok(!lines.some((l) => l.endsWith('db-1')));
    assert.ok(existsSync(flaky));

    const details = await api('GET', `/api/tasks/${taskId}/details?verbose=true`);
    assert.equal(details.status, 200, details.text);
    assert.ok(!details.text.includes(SECRET), 'the secret is in /details');
    const steps = details.json.ActivityLogs[0].Children;
    // The flaky step's first attempt wrote an error line: Octopus shows such a step SuccessWithWarning.
    assert.deepEqual(steps.map((s) => s.Status), ['Success', 'Success', 'Success', 'SuccessWithWarning', 'Success']);
    assert.match(steps[0].Name, /Set colour/);
    assert.deepEqual(steps[0].Children.map((c) => c.Name).sort(), ['web-1', 'web-2']);
    assert.ok(steps[0].Children.every((c) => c.Started && c.Ended && c.LogElements.length > 0));

    // Promotion: the second phase is open now.
    const prod = await deployments.create({ spaceName: SPACE, ProjectName: 'Engine App', ReleaseVersion: '1.0.0', EnvironmentNames: ['Prod'] });
    const prodTask = prod.DeploymentServerTasks[0].ServerTaskId;
    await answer(await pendingInterruption(prodTask, 'ManualIntervention'), { Result: 'Proceed' });
    const done = await new ServerTaskWaiter(client, SPACE).waitForServerTaskToComplete(prodTask, 200, 60000);
    assert.equal(done.State, 'Success', done.ErrorMessage);
    const prodRaw = (await api('GET', `/api/tasks/${prodTask}/raw`)).text;
    assert.match(prodRaw, /greeting: hello from elsewhere/);
    assert.match(prodRaw, /settings: \{"Greeting":"hellofromelsewhere","Db":\{"Name":"orders-Prod"\}\}/);
    const release2 = (await api('GET', `/api/Spaces-1/releases/${release.ReleaseId}/progression`)).json;
    // Prod alone does not complete the second phase: it waits for Test too (no minimum given).
    assert.deepEqual(release2.Phases.map((p) => p.Progress), ['Complete', 'Current']);
  });

  test('a manual step aborted fails the deployment, and a wrong answer is refused', async () => {
    const deployments = new DeploymentRepository(client, SPACE);
    const d = await deployments.create({ spaceName: SPACE, ProjectName: 'Engine App', ReleaseVersion: '1.0.0', EnvironmentNames: ['Test'] });
    const taskId = d.DeploymentServerTasks[0].ServerTaskId;
    const manual = await pendingInterruption(taskId, 'ManualIntervention');
    const wrong = await api('POST', `/api/Spaces-1/interruptions/${manual.Id}/submit`, { Result: 'Maybe' });
    assert.equal(wrong.status, 400, wrong.text);
    assert.equal((await api('GET', `/api/Spaces-1/interruptions/${manual.Id}`)).json.IsPending, true);
    await answer(manual, { Result: 'Abort', Notes: 'not today' });
    const task = await new ServerTaskWaiter(client, SPACE).waitForServerTaskToComplete(taskId, 200, 60000);
    assert.equal(task.State, 'Failed');
    const again = await api('POST', `/api/Spaces-1/interruptions/${manual.Id}/submit`, { Result: 'Proceed' });
    assert.equal(again.status, 409, again.text);
  });
  test('UpdateVariableSnapshot deploys the project\'s current variables; without it the release keeps its own', async () => {
    const group = (await new ProjectGroupRepository(client, SPACE).list({ take: 1 })).Items[0];
    const lifecycle = (await new LifecycleRepository(client, SPACE).list({ take: 100 })).Items.find((l) => l.Name === 'Two phases');
    const project = await new ProjectRepository(client, SPACE).create(NewProject('Snapshot App', group, lifecycle));
    const setColour = async (colour) => {
      const vars = (await api('GET', `/api/variables/${project.VariableSetId}`)).json;
      const put = await api('PUT', `/api/variables/${project.VariableSetId}`, { ...vars, Variables: [{ Name: 'Colour', Value: colour }] });
      assert.equal(put.status, 200, put.text);
    };
    await setColour('red');
    const dp = new DeploymentProcessRepository(client, SPACE);
    const proc = await dp.get(project);
    proc.Steps = [step('Show', '', action('Show', 'Octopus.Script', script('Bash', 'echo "colour: #{Colour}"', true)))];
    await dp.update(project, proc);
    await new ReleaseRepository(client, SPACE).create({ spaceName: SPACE, ProjectName: 'Snapshot App', ReleaseVersion: '1.0.0' });
    await setColour('green');
    const deployments = new DeploymentRepository(client, SPACE);
    const colourOf = async (command) => {
      const d = await deployments.create({ spaceName: SPACE, ProjectName: 'Snapshot App', ReleaseVersion: '1.0.0', EnvironmentNames: ['Dev'], ...command });
      const taskId = d.DeploymentServerTasks[0].ServerTaskId;
      const task = await new ServerTaskWaiter(client, SPACE).waitForServerTaskToComplete(taskId, 200, 60000);
      assert.equal(task.State, 'Success', task.ErrorMessage);
      return /colour: (\w+)/.exec((await api('GET', `/api/tasks/${taskId}/raw`)).text)?.[1];
    };
    assert.equal(await colourOf({}), 'red');
    assert.equal(await colourOf({ UpdateVariableSnapshot: true }), 'green');
    assert.equal(await colourOf({}), 'green', 'the re-snapshot is the release\'s from then on');
  });

  // Node loss (docs/engine.md, "Adoption"): kill -9 the node running a five-step deployment while
  // step 3 runs. Steps 1-2 each append to a ledger and must not run again; step 3 fails naming the
  // node, and Retry through guided failure, answered through another node, finishes the deployment
  // on a node that is not the dead one. (deploy.test.mjs has the idempotent case, which needs no
  // answer, and the non-idempotent one without guided failure.)
  for (const idempotent of [false]) {
    test(`node loss during ${idempotent ? 'an idempotent' : 'a non-idempotent'} step: finished steps stay finished`, async () => {
      const name = idempotent ? 'Survivor Idempotent' : 'Survivor';
      const dir = tempDir('cuttle-survivor-');
      const ledger = join(dir, 'ledger.txt');
      const started = join(dir, 'step3-started');
      const gate = join(dir, 'gate');
      const group = (await new ProjectGroupRepository(client, SPACE).list({ take: 1 })).Items[0];
      const lifecycle = (await new LifecycleRepository(client, SPACE).list({ take: 100 })).Items.find((l) => l.Name === 'Two phases');
      const project = await new ProjectRepository(client, SPACE).create(NewProject(name, group, lifecycle));
      const serverStep = (n, body, props = {}) => step(`Step ${n}`, '', action(`Step ${n}`, 'Octopus.Script', { ...script('Bash', body, true), ...props }));
      const dp = new DeploymentProcessRepository(client, SPACE);
      const proc = await dp.get(project);
      proc.Steps = [
        serverStep(1, `echo step1 >> ${ledger}`),
        serverStep(2, `echo step2 >> ${ledger}`),
        serverStep(3, `echo step3 >> ${ledger}; touch ${started}; while [ ! -f ${gate} ]; do sleep 0.05; done; echo step3-done >> ${ledger}`,
          idempotent ? { 'Cuttle.Action.Idempotent': 'True' } : {}),
        serverStep(4, `echo step4 >> ${ledger}`),
        serverStep(5, `echo step5 >> ${ledger}`),
      ];
      await dp.update(project, proc);
      await new ReleaseRepository(client, SPACE).create({ spaceName: SPACE, ProjectName: name, ReleaseVersion: '1.0.0' });
      const d = await new DeploymentRepository(client, SPACE).create({ spaceName: SPACE, ProjectName: name, ReleaseVersion: '1.0.0', EnvironmentNames: ['Dev'], UseGuidedFailure: true });
      const taskId = d.DeploymentServerTasks[0].ServerTaskId;

      await eventually(() => existsSync(started), { timeoutMs: 60000, what: 'step 3 to start' });
      const owner = (await api('GET', `/api/tasks/${taskId}`)).json.ServerNode;
      const victim = cluster.nodes.find((n) => n.name === owner);
      assert.ok(victim, `task owner ${owner}`);
      await victim.kill();
      const killedAt = Date.now();
      writeFileSync(gate, '');

      let adoptedAt;
      if (!idempotent) {
        const guidance = await pendingInterruption(taskId, 'GuidedFailure');
        adoptedAt = Date.now();
        const raw = (await api('GET', `/api/tasks/${taskId}/raw`)).text;
        assert.match(raw, new RegExp(`The node ${owner} running this step was lost`));
        await answer(guidance, { Guidance: 'Retry' });
      } else {
        await eventually(async () => {
          const t = (await api('GET', `/api/tasks/${taskId}`)).json;
          return t.ServerNode && t.ServerNode !== owner;
        }, { timeoutMs: 60000, what: 'another node to adopt the task' });
        adoptedAt = Date.now();
      }
      console.log(`# node loss (${idempotent ? 'idempotent' : 'non-idempotent'} step 3): adopted ${((adoptedAt - killedAt) / 1000).toFixed(2)} s after kill -9 (node timeout ${victim.nodeTimeoutMs} ms)`);

      const task = await new ServerTaskWaiter(client, SPACE).waitForServerTaskToComplete(taskId, 200, 60000);
      assert.equal(task.State, 'Success', task.ErrorMessage);
      assert.notEqual(task.ServerNode, owner);
      const entries = readFileSync(ledger, 'utf8').trim().split('\n');
      const count = (e) => entries.filter((x) => x === e).length;
      assert.equal(count('step1'), 1, entries.join(','));
      assert.equal(count('step2'), 1, entries.join(','));
      assert.equal(count('step3'), 2, entries.join(','));
      assert.equal(count('step4'), 1, entries.join(','));
      assert.equal(count('step5'), 1, entries.join(','));
      await victim.start();
    });
  }
});
