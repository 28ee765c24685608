// Issue 10: releases, deployments, runbooks and the dashboard, through HAProxy in front of two
// nodes on PostgreSQL, driven by the real clients: @octopusdeploy/api-client 3.11.0 and
// octopus-deploy 6.3.1. A release's snapshot survives a later process edit; lifecycle promotion
// is refused, then allowed once the earlier phase succeeded; a runbook run is queued in its
// environment scope; events are written; the dashboard shows the deployments; bad input is
// refused (404 / 400 / another space) and changes nothing.
//
// Most deployments here use projects whose process has no step to run in the environment (such a
// Deploy task succeeds at once, as Octopus does); the engine itself is tested in deploy.test.mjs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { ADMIN_KEY, startCluster, freePort, eventually } from './lib/cluster.mjs';
import { Haproxy } from './lib/haproxy.mjs';
import { apiCall, action, step, script } from './lib/octopus.mjs';

const require = createRequire(import.meta.url);
const {
  Client, EnvironmentRepository, LifecycleRepository, ProjectGroupRepository, ProjectRepository,
  NewProject, DeploymentProcessRepository, ReleaseRepository, DeploymentRepository, ServerTaskWaiter,
  RunbookRepository, RunbookSnapshotRepository, RunbookRunRepository,
} = require('@octopusdeploy/api-client');
const octopusDeploy = require('octopus-deploy');
const createReleaseCommands = require('octopus-deploy/lib/commands/create-release');

const SPACE = 'Default';

describe('releases, deployments, runbooks and the dashboard through HAProxy and two nodes', async () => {
  let cluster, lb, client, base;
  const ids = {};

  const api = (method, path, body) => apiCall(base, method, path, body);

  async function waitTask(id) {
    const task = await new ServerTaskWaiter(client, SPACE).waitForServerTaskToComplete(id, 200, 30000);
    assert.ok(task, `task ${id} did not finish`);
    return task;
  }

  const scriptStep = (body) =>
    step('Say hello', '', action('Say hello', 'Octopus.Script', script('Bash', body, true)));

  before(async () => {
    cluster = await startCluster(2, { prefix: 'rel' });
    lb = await new Haproxy({
      port: await freePort(), servers: cluster.nodes.map((n) => ({ name: n.name, port: n.port })),
    }).start();
    base = lb.url;
    client = await Client.create({ instanceURL: lb.url, apiKey: ADMIN_KEY, userAgentApp: 'cuttle-test' });
    const envs = new EnvironmentRepository(client, SPACE);
    for (const name of ['Dev', 'Test', 'Prod']) ids[name] = (await envs.create({ Name: name })).Id;
    const lifecycles = new LifecycleRepository(client, SPACE);
    const phase = (name, env) => ({
      Name: name, AutomaticDeploymentTargets: [], OptionalDeploymentTargets: [env],
      MinimumEnvironmentsBeforePromotion: 0, IsOptionalPhase: false,
    });
    const promo = await lifecycles.create({
      Name: 'Promotion', Phases: [phase('Development', ids.Dev), phase('Testing', ids.Test), phase('Production', ids.Prod)],
      ReleaseRetentionPolicy: { QuantityToKeep: 0, ShouldKeepForever: true, Unit: 'Days' },
      TentacleRetentionPolicy: { QuantityToKeep: 0, ShouldKeepForever: true, Unit: 'Days' },
    });
    const group = (await new ProjectGroupRepository(client, SPACE).list({ take: 1 })).Items[0];
    const projects = new ProjectRepository(client, SPACE);
    ids.promo = await projects.create(NewProject('Promo App', group, promo));
    const defaultLifecycle = (await lifecycles.list({ take: 100 })).Items.find((l) => l.Name !== 'Promotion');
    ids.snap = await projects.create(NewProject('Snap App', group, defaultLifecycle));
  });

  after(async () => {
    await lb?.stop();
    await cluster?.stop();
  });

  test('a release freezes the process: a later edit changes neither it nor what it deploys', async () => {
    const dp = new DeploymentProcessRepository(client, SPACE);
    const proc = await dp.get(ids.snap);
    proc.Steps = [scriptStep('echo first')];
    await dp.update(ids.snap, proc);

    // octopus-deploy 6.3.1: POST /releases with camelCase selectedPackages (one per action).
    octopusDeploy.initializeApi({ host: lb.url, apiKey: ADMIN_KEY });
    const created = await createReleaseCommands.createRelease({
      projectSlugOrId: ids.snap.Slug, version: '2.0.0', releaseNotes: 'from octopus-deploy',
    });
    assert.ok(created.hasValue, 'octopus-deploy could not create the release');
    const release = (await api('GET', `/api/Spaces-1/releases/${created.value.id}`)).json;
    assert.equal(release.Version, '2.0.0');
    assert.equal(release.ReleaseNotes, 'from octopus-deploy');

    const live = await dp.get(ids.snap);
    live.Steps[0].Actions[0].Properties['Octopus.Action.Script.ScriptBody'] = 'echo second';
    await dp.update(ids.snap, live);

    const frozen = await api('GET', `/api/Spaces-1/deploymentprocesses/${release.ProjectDeploymentProcessSnapshotId}`);
    assert.equal(frozen.status, 200, frozen.text);
    assert.equal(frozen.json.Steps[0].Actions[0].Properties['Octopus.Action.Script.ScriptBody'], 'echo first');
    assert.equal((await dp.get(ids.snap)).Steps[0].Actions[0].Properties['Octopus.Action.Script.ScriptBody'], 'echo second');
    const variables = await api('GET', `/api/Spaces-1/variables/${release.ProjectVariableSetSnapshotId}`);
    assert.equal(variables.status, 200, variables.text);

    // The api-client's command: no version given, so the template gives 2.0.1, from the new process.
    const next = await new ReleaseRepository(client, SPACE).create({ spaceName: SPACE, ProjectName: 'Snap App' });
    assert.equal(next.ReleaseVersion, '2.0.1');
    const nextRelease = (await api('GET', `/api/Spaces-1/releases/${next.ReleaseId}`)).json;
    const nextFrozen = (await api('GET', `/api/Spaces-1/deploymentprocesses/${nextRelease.ProjectDeploymentProcessSnapshotId}`)).json;
    assert.equal(nextFrozen.Steps[0].Actions[0].Properties['Octopus.Action.Script.ScriptBody'], 'echo second');
    const listed = await new ReleaseRepository(client, SPACE).listForProject(ids.snap.Id, { take: 10 });
    assert.deepEqual(listed.Items.map((r) => r.Version), ['2.0.1', '2.0.0']);

    // The deployment runs the frozen process (echo first), not the edited one.
    const deployed = await new DeploymentRepository(client, SPACE).create({
      spaceName: SPACE, ProjectName: 'Snap App', ReleaseVersion: '2.0.0', EnvironmentNames: ['Dev'],
    });
    const task = await waitTask(deployed.DeploymentServerTasks[0].ServerTaskId);
    assert.equal(task.State, 'Success', task.ErrorMessage);
    const raw = await api('GET', `/api/tasks/${task.Id}/raw`);
    assert.match(raw.text, /\| first/);
    assert.doesNotMatch(raw.text, /\| second/);
  });

  test('promotion: a later phase is refused, naming the phase, until the earlier one succeeded', async () => {
    const releases = new ReleaseRepository(client, SPACE);
    const deployments = new DeploymentRepository(client, SPACE);
    const release = await releases.create({ spaceName: SPACE, ProjectName: 'Promo App', ReleaseVersion: '1.0.0' });
    const count = async () => (await api('GET', `/api/Spaces-1/deployments?projects=${ids.promo.Id}&take=100`)).json.TotalResults;
    const before = await count();

    await assert.rejects(
      deployments.create({ spaceName: SPACE, ProjectName: 'Promo App', ReleaseVersion: '1.0.0', EnvironmentNames: ['Test'] }),
      (e) => e.StatusCode === 400 && /the phase 'Development' must be complete first/.test(e.message));
    // octopus-deploy's legacy POST /deployments is refused the same way.
    const legacy = await api('POST', '/api/Spaces-1/deployments', { releaseId: release.ReleaseId, environmentId: ids.Prod });
    assert.equal(legacy.status, 400);
    assert.match(legacy.json.ErrorMessage, /Release 1\.0\.0 cannot be deployed to Prod: the phase 'Development'/);
    assert.equal(await count(), before, 'a refused deployment wrote nothing');
    let progression = (await api('GET', `/api/Spaces-1/releases/${release.ReleaseId}/progression`)).json;
    assert.deepEqual(progression.NextDeployments, [ids.Dev]);
    assert.deepEqual(progression.Phases.map((p) => p.Progress), ['Current', 'Pending', 'Pending']);

    const dev = await deployments.create({ spaceName: SPACE, ProjectName: 'Promo App', ReleaseVersion: '1.0.0', EnvironmentNames: ['Dev'] });
    const [{ DeploymentId, ServerTaskId }] = dev.DeploymentServerTasks;
    assert.equal((await deployments.list({ ids: [DeploymentId] })).Items.length, 1);
    const task = await waitTask(ServerTaskId);
    assert.equal(task.State, 'Success', task.ErrorMessage);
    const taskJson = (await api('GET', `/api/tasks/${ServerTaskId}`)).json;
    assert.equal(taskJson.Name, 'Deploy');
    assert.equal(taskJson.Arguments.DeploymentId, DeploymentId);
    assert.equal(taskJson.Description, 'Deploy Promo App release 1.0.0 to Dev');

    progression = (await api('GET', `/api/Spaces-1/releases/${release.ReleaseId}/progression`)).json;
    assert.deepEqual(progression.Phases.map((p) => p.Progress), ['Complete', 'Current', 'Pending']);
    await assert.rejects(
      deployments.create({ spaceName: SPACE, ProjectName: 'Promo App', ReleaseVersion: '1.0.0', EnvironmentNames: ['Prod'] }),
      (e) => e.StatusCode === 400 && /the phase 'Testing' must be complete first/.test(e.message));
    const test = await deployments.create({ spaceName: SPACE, ProjectName: 'Promo App', ReleaseVersion: '1.0.0', EnvironmentNames: ['Test'] });
    assert.equal((await waitTask(test.DeploymentServerTasks[0].ServerTaskId)).State, 'Success');
    const prod = await deployments.create({ spaceName: SPACE, ProjectName: 'Promo App', ReleaseVersion: '1.0.0', EnvironmentNames: ['Prod'] });
    assert.equal((await waitTask(prod.DeploymentServerTasks[0].ServerTaskId)).State, 'Success');
    // A redeploy to an environment it already reached is allowed.
    const again = await deployments.create({ spaceName: SPACE, ProjectName: 'Promo App', ReleaseVersion: '1.0.0', EnvironmentNames: ['Dev'] });
    assert.equal((await waitTask(again.DeploymentServerTasks[0].ServerTaskId)).State, 'Success');
    ids.devDeployment = again.DeploymentServerTasks[0].DeploymentId;

    // Events: the queueing of each deployment, relating the deployment, release and environment.
    const events = await api('GET', `/api/events?regarding=${DeploymentId}`);
    assert.equal(events.status, 200, events.text);
    const queued = events.json.Items.find((e) => e.Category === 'DeploymentQueued');
    assert.ok(queued, JSON.stringify(events.json.Items));
    for (const id of [DeploymentId, release.ReleaseId, ids.Dev, ServerTaskId]) {
      assert.ok(queued.RelatedDocumentIds.includes(id), `${id} in ${queued.RelatedDocumentIds}`);
    }
    const created = await api('GET', `/api/events?regarding=${release.ReleaseId}&eventCategories=Created`);
    assert.ok(created.json.Items.length >= 1);
  });

  test('the dashboard shows the newest deployment of each project in each environment', async () => {
    const dash = await api('GET', '/api/Spaces-1/dashboard');
    assert.equal(dash.status, 200, dash.text);
    const promo = dash.json.Projects.find((p) => p.Id === ids.promo.Id);
    assert.deepEqual(promo.EnvironmentIds, [ids.Dev, ids.Test, ids.Prod]);
    const item = (env) => dash.json.Items.find((i) => i.ProjectId === ids.promo.Id && i.EnvironmentId === env);
    for (const env of [ids.Dev, ids.Test, ids.Prod]) {
      assert.equal(item(env).State, 'Success');
      assert.equal(item(env).ReleaseVersion, '1.0.0');
      assert.equal(item(env).IsCompleted, true);
      assert.equal(item(env).IsCurrent, true);
    }
    assert.equal(item(ids.Dev).DeploymentId, ids.devDeployment, 'the redeploy replaced the first one');
    const snapDev = dash.json.Items.find((i) => i.ProjectId === ids.snap.Id && i.EnvironmentId === ids.Dev);
    assert.equal(snapDev.State, 'Success');
    assert.deepEqual(dash.json.Environments.map((e) => e.Name).slice(0, 3), ['Dev', 'Test', 'Prod']);
    const withPrevious = (await api('GET', `/api/Spaces-1/dashboard?projectId=${ids.promo.Id}&includePrevious=true`)).json;
    assert.equal(withPrevious.IsFiltered, true);
    assert.ok(withPrevious.Items.every((i) => i.ProjectId === ids.promo.Id));
    assert.equal(withPrevious.PreviousItems.length, 1, 'only Dev has an earlier success');
  });

  test('the dashboard answers 304 while unchanged on any node, and every change shows on every node', async () => {
    // Each node caches the dashboard under the space's change counter (migration 0010).
    const get = async (node, etag) => {
      const r = await fetch(`${node.url}/api/Spaces-1/dashboard`, {
        headers: { 'X-Octopus-ApiKey': ADMIN_KEY, ...(etag ? { 'If-None-Match': etag } : {}) },
      });
      const text = await r.text();
      return { status: r.status, etag: r.headers.get('etag'), json: r.status === 200 ? JSON.parse(text) : null };
    };
    const [a, b] = cluster.nodes;
    const first = await get(a);
    assert.equal(first.status, 200);
    assert.match(first.etag, /^"[^"]+"$/);
    assert.equal((await get(b)).etag, first.etag, 'both nodes name the same version');
    const unchanged = await get(b, first.etag);
    assert.equal(unchanged.status, 304);
    assert.equal(unchanged.etag, first.etag);

    // A deployment: both nodes, which each hold the old body, show its cell once it has run.
    const deployments = new DeploymentRepository(client, SPACE);
    const dev = await deployments.create({ spaceName: SPACE, ProjectName: 'Promo App', ReleaseVersion: '1.0.0', EnvironmentNames: ['Dev'] });
    const [{ DeploymentId, ServerTaskId }] = dev.DeploymentServerTasks;
    assert.equal((await waitTask(ServerTaskId)).State, 'Success');
    ids.devDeployment = DeploymentId;
    for (const node of [a, b]) {
      const r = await get(node, first.etag);
      assert.equal(r.status, 200, `${node.name} saw the change`);
      const cell = r.json.Items.find((i) => i.ProjectId === ids.promo.Id && i.EnvironmentId === ids.Dev);
      assert.equal(cell.DeploymentId, DeploymentId);
      assert.equal(cell.State, 'Success');
      assert.notEqual(r.etag, first.etag);
      // Only cells changed, so the node spliced the rereads into the body it had (migration 0013):
      // what it shows must equal a dashboard built from scratch (the includePrevious variant is).
      const fresh = await fetch(`${node.url}/api/Spaces-1/dashboard?includePrevious=true`, {
        headers: { 'X-Octopus-ApiKey': ADMIN_KEY },
      }).then((x) => x.json());
      const byCell = (items) => [...items].sort((x, y) =>
        `${x.ProjectId}/${x.EnvironmentId}`.localeCompare(`${y.ProjectId}/${y.EnvironmentId}`));
      assert.deepEqual(byCell(r.json.Items), byCell(fresh.Items), `${node.name}'s spliced items`);
      for (const part of ['Projects', 'ProjectGroups', 'Environments', 'Tenants', 'IsFiltered', 'Links']) {
        assert.deepEqual(r.json[part], fresh[part], `${node.name}'s ${part}`);
      }
    }

    // Disabling a project and renaming an environment change it too.
    const afterDeploy = (await get(a)).etag;
    const project = (await api('GET', `/api/Spaces-1/projects/${ids.promo.Id}`)).json;
    assert.equal((await api('PUT', `/api/Spaces-1/projects/${ids.promo.Id}`, { ...project, IsDisabled: true })).status, 200);
    let r = await get(b, afterDeploy);
    assert.equal(r.status, 200);
    assert.equal(r.json.Projects.find((p) => p.Id === ids.promo.Id).IsDisabled, true);
    assert.equal((await api('PUT', `/api/Spaces-1/projects/${ids.promo.Id}`, { ...project, IsDisabled: false })).status, 200);
    const env = (await api('GET', `/api/Spaces-1/environments/${ids.Prod}`)).json;
    const beforeRename = (await get(a)).etag;
    assert.equal((await api('PUT', `/api/Spaces-1/environments/${ids.Prod}`, { ...env, Name: 'Production' })).status, 200);
    r = await get(a, beforeRename);
    assert.equal(r.status, 200);
    assert.equal(r.json.Environments.find((e) => e.Id === ids.Prod).Name, 'Production');
    assert.equal(r.json.Projects.find((p) => p.Id === ids.promo.Id).IsDisabled, false);
    assert.equal((await api('PUT', `/api/Spaces-1/environments/${ids.Prod}`, env)).status, 200);
  });

  test('every collection also answers /all with a bare array of every item', async () => {
    for (const collection of ['releases', 'deployments', 'runbooks', 'projects', 'environments', 'feeds']) {
      const paged = await api('GET', `/api/Spaces-1/${collection}?take=1`);
      const all = await api('GET', `/api/Spaces-1/${collection}/all`);
      assert.equal(all.status, 200, all.text);
      assert.ok(Array.isArray(all.json), `${collection}/all is an array`);
      assert.equal(all.json.length, paged.json.TotalResults, `${collection}/all holds every item`);
    }
  });

  test('a runbook run is queued in its environment scope, from the published snapshot', async () => {
    const runbooks = new RunbookRepository(client, SPACE, ids.promo);
    const runbook = await runbooks.create({
      Name: 'Restart', ProjectId: ids.promo.Id, Description: 'restart the app', MultiTenancyMode: 'Untenanted',
      EnvironmentScope: 'All', DefaultGuidedFailureMode: 'EnvironmentDefault',
      RunRetentionPolicy: { QuantityToKeep: 100, ShouldKeepForever: false },
    });
    assert.ok(runbook.RunbookProcessId);
    const runs = new RunbookRunRepository(client, SPACE);
    await assert.rejects(
      runs.create({ spaceName: SPACE, ProjectName: 'Promo App', RunbookName: 'Restart', EnvironmentNames: ['Dev'] }),
      (e) => e.StatusCode === 400 && /no published snapshot/.test(e.message));
    const snapshot = await new RunbookSnapshotRepository(client, SPACE, ids.promo).create(runbook, 'Snapshot A', true);
    assert.ok(snapshot.FrozenRunbookProcessId);
    const fetched = await runbooks.get(runbook.Id);
    assert.equal(fetched.PublishedRunbookSnapshotId, snapshot.Id);
    await runbooks.modify({ ...fetched, EnvironmentScope: 'Specified', Environments: [ids.Dev] });

    const run = await runs.create({ spaceName: SPACE, ProjectName: 'Promo App', RunbookName: 'Restart', EnvironmentNames: ['Dev'] });
    const [{ RunbookRunId, ServerTaskId }] = run.RunbookRunServerTasks;
    const task = await waitTask(ServerTaskId);
    assert.equal(task.State, 'Success', task.ErrorMessage);
    assert.equal((await api('GET', `/api/tasks/${ServerTaskId}`)).json.Name, 'RunbookRun');
    assert.equal((await runs.get(RunbookRunId)).RunbookSnapshotId, snapshot.Id);
    await assert.rejects(
      runs.create({ spaceName: SPACE, ProjectName: 'Promo App', RunbookName: 'Restart', EnvironmentNames: ['Prod'] }),
      (e) => e.StatusCode === 400 && /outside its scope/.test(e.message));
    const events = await api('GET', `/api/events?regarding=${RunbookRunId}`);
    assert.ok(events.json.Items.some((e) => e.Category === 'RunbookRunQueued'));
  });

  test('bad input: unknown ids 404, missing fields one 400, other spaces invisible, nothing changed', async () => {
    assert.equal((await api('GET', '/api/Spaces-1/releases/Releases-99999')).status, 404);
    assert.equal((await api('GET', '/api/Spaces-1/deployments/Deployments-99999')).status, 404);
    assert.equal((await api('GET', '/api/Spaces-1/runbooks/Runbooks-99999')).status, 404);
    const missing = await api('POST', '/api/Spaces-1/deployments', {});
    assert.equal(missing.status, 400);
    assert.equal(missing.json.Errors.length, 2, missing.text);
    const dup = await api('POST', '/api/Spaces-1/releases/create/v1', { ProjectName: 'Promo App', ReleaseVersion: '1.0.0' });
    assert.equal(dup.status, 400);
    assert.match(dup.json.ErrorMessage, /already exists/);
    const dupLegacy = await api('POST', '/api/Spaces-1/releases', { ProjectId: ids.promo.Id, Version: '1.0.0' });
    assert.equal(dupLegacy.status, 409);
    assert.equal((await api('POST', '/api/Spaces-1/releases/create/v1', { ProjectName: 'No Such Project' })).status, 400);

    // A second space sees none of the first one's releases, and cannot deploy to them.
    const space = await api('POST', '/api/spaces', { Name: 'Second', SpaceManagersTeamMembers: [], SpaceManagersTeams: [] });
    assert.equal(space.status, 201, space.text);
    const other = space.json.Id;
    const releases = (await api('GET', `/api/Spaces-1/projects/${ids.promo.Id}/releases`)).json.Items;
    assert.equal((await api('GET', `/api/${other}/releases/${releases[0].Id}`)).status, 404);
    assert.equal((await api('GET', `/api/${other}/releases`)).json.TotalResults, 0);
    assert.equal((await api('GET', `/api/${other}/dashboard`)).json.Items.length, 0);
    const env = await api('POST', `/api/${other}/environments`, { Name: 'Elsewhere' });
    assert.equal(env.status, 201, env.text);
    const before = (await api('GET', '/api/Spaces-1/deployments?take=1')).json.TotalResults;
    const cross = await api('POST', '/api/Spaces-1/deployments', { ReleaseId: releases[0].Id, EnvironmentId: env.json.Id });
    assert.equal(cross.status, 400, cross.text);
    assert.equal((await api('GET', '/api/Spaces-1/deployments?take=1')).json.TotalResults, before);

    // Deleting a project takes its releases and deployments with it.
    const snapReleases = (await api('GET', `/api/Spaces-1/projects/${ids.snap.Id}/releases`)).json.Items;
    assert.ok(snapReleases.length > 0);
    const deleted = await api('DELETE', `/api/Spaces-1/projects/${ids.snap.Id}`);
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal((await api('GET', `/api/Spaces-1/releases/${snapReleases[0].Id}`)).status, 404);
    assert.equal((await api('GET', `/api/Spaces-1/deployments?projects=${ids.snap.Id}`)).json.TotalResults, 0);
    assert.ok(!(await api('GET', '/api/Spaces-1/dashboard')).json.Items.some((i) => i.ProjectId === ids.snap.Id));
  });
});
