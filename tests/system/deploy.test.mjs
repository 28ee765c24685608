// Issue 11: the deployment engine end to end, through HAProxy in front of two nodes on PostgreSQL,
// driven by @octopusdeploy/api-client 3.11.0. A release of a bash step (output variable) and a
// python step (reads it) deploys to a None target; the log shows both, and a sensitive variable
// never appears in it; a package step from the built-in feed runs its conventions in order; a
// runbook run executes; a cancel through the other node stops a step. Then the node running a
// five-step deployment is killed with SIGKILL during step 3: the other node adopts the task,
// steps 1-2 do not run again, and step 3 fails naming the lost node (non-idempotent) or runs
// again and the deployment succeeds (idempotent).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_KEY, startCluster, freePort, eventually, tempDir } from './lib/cluster.mjs';
import { Haproxy } from './lib/haproxy.mjs';
import { apiCall, scriptStep } from './lib/octopus.mjs';
import { zip, multipart } from './lib/archives.mjs';

const require = createRequire(import.meta.url);
const {
  Client, EnvironmentRepository, LifecycleRepository, ProjectGroupRepository, ProjectRepository,
  NewProject, DeploymentProcessRepository, ReleaseRepository, DeploymentRepository, ServerTaskWaiter,
  RunbookRepository,
  RunbookSnapshotRepository, RunbookRunRepository,
} = require('@octopusdeploy/api-client');

const SPACE = 'Default';


describe('the deployment engine through HAProxy and two nodes', async () => {
  let cluster, lb, client, base, work;
  const ids = {};

  const api = (method, p, body) => apiCall(base, method, p, body);

  async function waitTask(id, timeoutMs = 60000) {
    const task = await new ServerTaskWaiter(client, SPACE).waitForServerTaskToComplete(id, 200, timeoutMs);
    assert.ok(task, `task ${id} did not finish`);
    return task;
  }

  async function project(name, steps) {
    const group = (await new ProjectGroupRepository(client, SPACE).list({ take: 1 })).Items[0];
    const p = await new ProjectRepository(client, SPACE).create(NewProject(name, group, ids.lifecycle));
    const dp = new DeploymentProcessRepository(client, SPACE);
    const proc = await dp.get(p);
    proc.Steps = steps;
    await dp.update(p, proc);
    return p;
  }

  async function deploy(projectName, version) {
    await new ReleaseRepository(client, SPACE).create({ spaceName: SPACE, ProjectName: projectName, ReleaseVersion: version });
    const d = await new DeploymentRepository(client, SPACE).create({
      spaceName: SPACE, ProjectName: projectName, ReleaseVersion: version, EnvironmentNames: ['Dev'],
    });
    return d.DeploymentServerTasks[0].ServerTaskId;
  }

  before(async () => {
    cluster = await startCluster(2, { prefix: 'dep' });
    lb = await new Haproxy({
      port: await freePort(), servers: cluster.nodes.map((n) => ({ name: n.name, port: n.port })),
    }).start();
    base = lb.url;
    work = tempDir('cuttle-deploy-');
    client = await Client.create({ instanceURL: lb.url, apiKey: ADMIN_KEY, userAgentApp: 'cuttle-test' });
    ids.Dev = (await new EnvironmentRepository(client, SPACE).create({ Name: 'Dev' })).Id;
    const lifecycles = new LifecycleRepository(client, SPACE);
    ids.lifecycle = (await lifecycles.list({ take: 100 })).Items[0];
    const target = await api('POST', '/api/Spaces-1/machines', {
      Name: 'cloud-1', Roles: ['web'], EnvironmentIds: [ids.Dev], Endpoint: { CommunicationStyle: 'None' },
    });
    assert.equal(target.status, 201, target.text);
  });

  after(async () => {
    await lb?.stop();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('bash sets an output variable that python reads; secrets stay masked', async () => {
    const p = await project('Engine App', [
      scriptStep('Make Color', 'echo "secret is #{Secret}"\nset_octopusvariable "Color" "teal"\necho "deploying #{Octopus.Release.Number} to #{Octopus.Environment.Name}"'),
      scriptStep('Read Color', 'print("python read " + get_octopusvariable("Octopus.Action[Make Color].Output.Color") + " on " + get_octopusvariable("Octopus.Machine.Name"))', { syntax: 'Python' }),
    ]);
    const vars = await api('GET', `/api/Spaces-1/variables/variableset-${p.Id}`);
    assert.equal(vars.status, 200, vars.text);
    vars.json.Variables = [{ Name: 'Secret', Value: 'hunter2-very-secret', IsSensitive: true, Type: 'Sensitive', Scope: {} }];
    const put = await api('PUT', `/api/Spaces-1/variables/variableset-${p.Id}`, vars.json);
    assert.equal(put.status, 200, put.text);

    const started = Date.now();
    const taskId = await deploy('Engine App', '1.0.0');
    const task = await waitTask(taskId);
    assert.equal(task.State, 'Success', task.ErrorMessage);
    console.log(`# two-step deployment: create to Success in ${Date.now() - started} ms`);
    const raw = (await api('GET', `/api/tasks/${taskId}/raw`)).text;
    assert.match(raw, /Step 1: Make Color/);
    assert.match(raw, /Executing Make Color on cloud-1/);
    assert.match(raw, /deploying 1\.0\.0 to Dev/);
    assert.match(raw, /python read teal on cloud-1/);
    assert.match(raw, /secret is \*\*\*\*\*\*\*\*/);
    assert.doesNotMatch(raw, /hunter2/);
  });

  test('a package step from the built-in feed runs Calamari\'s conventions in order', async () => {
    const order = path.join(work, 'package.order');
    const pkg = zip([
      ['PreDeploy.sh', `echo "PreDeploy $(get_octopusvariable Octopus.Action.Package.PackageVersion)" >> '${order}'\n`],
      ['Deploy.sh', `echo Deploy >> '${order}'\n`],
      ['PostDeploy.sh', `echo PostDeploy >> '${order}'\n`],
      ['appsettings.json', '{"Greeting": "hello"}'],
    ]);
    const { body, contentType } = multipart('Acme.Web.1.2.3.zip', pkg);
    const up = await fetch(`${base}/api/Spaces-1/packages/raw`, {
      method: 'POST', body, headers: { 'X-Octopus-ApiKey': ADMIN_KEY, 'Content-Type': contentType },
    });
    assert.equal(up.status, 201, await up.text());
    const step = scriptStep('Web', '');
    step.Actions[0].ActionType = 'Octopus.TentaclePackage';
    step.Actions[0].Properties = {
      'Octopus.Action.Package.PackageId': 'Acme.Web', 'Octopus.Action.Package.FeedId': 'feeds-builtin',
      'Octopus.Action.EnabledFeatures': 'Octopus.Features.JsonConfigurationVariables',
      'Octopus.Action.Package.JsonConfigurationVariablesTargets': 'appsettings.json',
    };
    step.Actions[0].Packages = [{ Name: '', PackageId: 'Acme.Web', FeedId: 'feeds-builtin', AcquisitionLocation: 'Server', Properties: {} }];
    const p = await project('Package App', [step,
      scriptStep('Where', 'cat "#{Octopus.Action[Web].Output.Package.InstallationDirectoryPath}/appsettings.json"; echo')]);
    const vars = await api('GET', `/api/Spaces-1/variables/variableset-${p.Id}`);
    vars.json.Variables = [{ Name: 'Greeting', Value: 'from Cuttle', Type: 'String', Scope: {} }];
    assert.equal((await api('PUT', `/api/Spaces-1/variables/variableset-${p.Id}`, vars.json)).status, 200);
    const release = await api('POST', '/api/Spaces-1/releases', {
      ProjectId: p.Id, Version: '1.0.0',
      SelectedPackages: [{ ActionName: 'Web', PackageReferenceName: '', Version: '1.2.3' }],
    });
    assert.equal(release.status, 201, release.text);
    const d = await api('POST', '/api/Spaces-1/deployments', { ReleaseId: release.json.Id, EnvironmentId: ids.Dev });
    assert.equal(d.status, 201, d.text);
    const task = await waitTask(d.json.TaskId);
    assert.equal(task.State, 'Success', task.ErrorMessage);
    assert.equal(readFileSync(order, 'utf8'), 'PreDeploy 1.2.3\nDeploy\nPostDeploy\n');
    const raw = (await api('GET', `/api/tasks/${d.json.TaskId}/raw`)).text;
    assert.match(raw, /Deploying package Acme\.Web version 1\.2\.3/);
    assert.match(raw, /"Greeting": ?"from Cuttle"/);
  });

  test('a failing step fails the deployment with its error', async () => {
    await project('Failing App', [scriptStep('Breaks', 'echo about to break; exit 4')]);
    const task = await waitTask(await deploy('Failing App', '1.0.0'));
    assert.equal(task.State, 'Failed');
    assert.equal(task.ErrorMessage, 'The script returned exit code 4');
  });

  test('a runbook run executes its published snapshot', async () => {
    const p = await project('Runbook App', []);
    const runbooks = new RunbookRepository(client, SPACE, p);
    const runbook = await runbooks.create({
      Name: 'Restart', ProjectId: p.Id, Description: '', MultiTenancyMode: 'Untenanted',
      EnvironmentScope: 'All', DefaultGuidedFailureMode: 'EnvironmentDefault',
      RunRetentionPolicy: { QuantityToKeep: 100, ShouldKeepForever: false },
    });
    const proc = await api('GET', `/api/Spaces-1/runbookProcesses/${runbook.RunbookProcessId}`);
    assert.equal(proc.status, 200, proc.text);
    proc.json.Steps = [scriptStep('Restart', 'echo "restarting in #{Octopus.Environment.Name}"')];
    const put = await api('PUT', `/api/Spaces-1/runbookProcesses/${runbook.RunbookProcessId}`, proc.json);
    assert.equal(put.status, 200, put.text);
    await new RunbookSnapshotRepository(client, SPACE, p).create(runbook, 'Snapshot 1', true);
    const run = await new RunbookRunRepository(client, SPACE).create({
      spaceName: SPACE, ProjectName: 'Runbook App', RunbookName: 'Restart', EnvironmentNames: ['Dev'],
    });
    const taskId = run.RunbookRunServerTasks[0].ServerTaskId;
    const task = await waitTask(taskId);
    assert.equal(task.State, 'Success', task.ErrorMessage);
    assert.match((await api('GET', `/api/tasks/${taskId}/raw`)).text, /restarting in Dev/);
  });

  test('cancelling a running deployment through the other node stops its step', async () => {
    const marker = path.join(work, 'cancel.started');
    await project('Cancel App', [
      scriptStep('Slow', `touch '${marker}'; sleep 60`), scriptStep('Never', 'echo never ran'),
    ]);
    const taskId = await deploy('Cancel App', '1.0.0');
    await eventually(() => existsSync(marker), { timeoutMs: 30000, what: 'the step to start' });
    const owner = (await api('GET', `/api/tasks/${taskId}`)).json.ServerNode;
    const other = cluster.nodes.find((n) => n.name !== owner);
    const asked = Date.now();
    const r = await other.api('POST', `/api/tasks/${taskId}/cancel`);
    assert.equal(r.status, 200, r.text);
    const task = await waitTask(taskId);
    console.log(`# cancel through ${other.name} to Canceled: ${Date.now() - asked} ms`);
    assert.equal(task.State, 'Canceled');
    assert.doesNotMatch((await api('GET', `/api/tasks/${taskId}/raw`)).text, /never ran/);
  });

  // Five steps on the built-in worker; each appends its number to `trace`. Step 3 marks that it
  // started, then sleeps unless it ran before (so an idempotent re-run ends at once).
  async function nodeLoss(name, idempotent) {
    const trace = path.join(work, `${name}.trace`);
    const marker = path.join(work, `${name}.started3`);
    const steps = [1, 2, 3, 4, 5].map((i) => scriptStep(`S${i}`,
      i === 3
        ? `echo 3 >> '${trace}'\nif [ -f '${marker}' ]; then echo again; else echo $$ > '${marker}.pid'; touch '${marker}'; sleep 60; fi`
        : `echo ${i} >> '${trace}'`,
      { roles: '', extra: i === 3 && idempotent ? { 'Cuttle.Action.Idempotent': 'True' } : {} }));
    await project(name, steps);
    const taskId = await deploy(name, '1.0.0');
    await eventually(() => existsSync(marker), { timeoutMs: 30000, what: 'step 3 to start' });
    const owner = (await api('GET', `/api/tasks/${taskId}`)).json.ServerNode;
    const node = cluster.nodes.find((n) => n.name === owner);
    assert.ok(node, `the task runs on ${owner}`);
    const killed = Date.now();
    await node.kill();
    // The killed node's script keeps sleeping in its own process group: end it (not the test's to
    // leave behind).
    try { process.kill(-Number(readFileSync(`${marker}.pid`, 'utf8')), 'SIGKILL'); } catch { /* gone */ }
    const survivor = cluster.nodes.find((n) => n !== node);
    let adopted = null;
    await eventually(async () => {
      const t = (await survivor.get(`/api/tasks/${taskId}`)).json;
      if (t.ServerNode === survivor.name && adopted === null) adopted = Date.now();
      return adopted !== null || t.IsCompleted;
    }, { timeoutMs: 30000, intervalMs: 25, what: 'adoption' });
    const task = await waitTask(taskId);
    console.log(`# ${name}: ${((adopted - killed) / 1000).toFixed(2)} s from kill -9 to adoption by ${survivor.name}`);
    await node.start();
    return { task, trace: readFileSync(trace, 'utf8'), owner, taskId };
  }

  test('node loss during a non-idempotent step: it fails naming the node; finished steps do not run again', async () => {
    const { task, trace, owner, taskId } = await nodeLoss('Loss App', false);
    assert.equal(task.State, 'Failed');
    assert.equal(task.ErrorMessage, `The node ${owner} running this step was lost.`);
    assert.equal(trace, '1\n2\n3\n');
    const raw = (await api('GET', `/api/tasks/${taskId}/raw`)).text;
    assert.match(raw, /resumes the deployment/);
  });

  test('node loss during an idempotent step: it runs again and the deployment succeeds', async () => {
    const { task, trace } = await nodeLoss('Rerun App', true);
    assert.equal(task.State, 'Success', task.ErrorMessage);
    assert.equal(trace, '1\n2\n3\n3\n4\n5\n');
  });
});
