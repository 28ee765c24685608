// Issue 10, the infrastructure part of the model: spaces, environments, lifecycles, project
// groups, machine policies, deployment targets and the audit events, through HAProxy in front of
// two nodes on PostgreSQL. @octopusdeploy/api-client 3.11.0 drives what it has repositories for
// (spaces, environments, lifecycles, project groups); plain fetch the rest. Every refused request
// is checked to have changed nothing, in the database itself.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { ADMIN_KEY, freePort, psql, startCluster } from './lib/cluster.mjs';
import { Haproxy } from './lib/haproxy.mjs';

const require = createRequire(import.meta.url);
const {
  Client, EnvironmentRepository, LifecycleRepository, ProjectGroupRepository, SpaceRepository,
} = require('@octopusdeploy/api-client');

describe('infrastructure model: two nodes on PostgreSQL behind HAProxy', async () => {
  const cluster = await startCluster(2, { prefix: 'inf' });
  const lb = new Haproxy({ port: await freePort(), servers: cluster.nodes.map((n) => ({ name: n.name, port: n.port })), interMs: 500 });
  await lb.start();
  after(async () => {
    await lb.stop();
    await cluster.stop();
  });

  // A request through the balancer (or to `base`): status and parsed body.
  async function call(method, path, body, base = lb.url) {
    const headers = { 'X-Octopus-ApiKey': ADMIN_KEY };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(20000),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json, text };
  }
  const get = (path, base) => call('GET', path, undefined, base);
  const sql = (q) => psql(cluster.database, q);
  // Everything a refused request could have touched.
  const snapshot = () => sql(`SELECT
      (SELECT COUNT(*) FROM spaces) || '/' || (SELECT COUNT(*) FROM environments) || '/' ||
      (SELECT COUNT(*) FROM lifecycles) || '/' || (SELECT COUNT(*) FROM lifecycle_environments) || '/' ||
      (SELECT COUNT(*) FROM project_groups) || '/' || (SELECT COUNT(*) FROM machines) || '/' ||
      (SELECT COUNT(*) FROM machine_environments) || '/' || (SELECT COUNT(*) FROM events) || '/' ||
      (SELECT string_agg(id || ':' || name || ':' || sort_order || ':' || json, ',' ORDER BY id) FROM environments) || '/' ||
      (SELECT string_agg(id || ':' || name || ':' || json, ',' ORDER BY id) FROM lifecycles)`);
  async function refused(status, method, path, body) {
    const before = snapshot();
    const r = await call(method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    assert.equal(snapshot(), before, `${method} ${path} changed something`);
    return r.json;
  }

  const client = await Client.create({ instanceURL: lb.url, apiKey: ADMIN_KEY, userAgentApp: 'cuttle-test' });
  const spaces = new SpaceRepository(client);
  const state = {};

  test('the Default space has its lifecycle, project group and machine policy; a new space gets its own', async () => {
    for (const [path, name] of [['lifecycles', 'Default Lifecycle'], ['projectgroups', 'Default Project Group'], ['machinepolicies', 'Default Machine Policy']]) {
      const r = await get(`/api/Spaces-1/${path}?take=1`);
      assert.equal(r.status, 200);
      assert.equal(r.json.Items[0].Name, name);
      assert.equal(r.json.Items[0].SpaceId, 'Spaces-1');
    }
    assert.equal((await new LifecycleRepository(client, 'Default').list({ take: 1 })).Items[0].Id, 'Lifecycles-1');
    assert.deepEqual((await get('/api/Spaces-1/lifecycles/Lifecycles-1')).json.Phases, []);

    const me = (await get('/api/users/me')).json;
    const second = await spaces.create({ Name: 'Infra Second', IsDefault: false, SpaceManagersTeams: [], SpaceManagersTeamMembers: [me.Id] });
    assert.match(second.Id, /^Spaces-\d+$/);
    assert.equal(second.Slug, 'infra-second');
    assert.equal(second.TaskQueueStopped, false);
    state.second = second;
    // Seen by both nodes.
    for (const node of cluster.nodes) {
      const r = await get(`/api/spaces/${second.Id}`, node.url);
      assert.equal(r.json.Name, 'Infra Second');
    }
    const lifecycles = await new LifecycleRepository(client, 'Infra Second').list({ take: 1 });
    assert.equal(lifecycles.Items[0].Name, 'Default Lifecycle');
    assert.equal(lifecycles.Items[0].SpaceId, second.Id);
    const groups = await new ProjectGroupRepository(client, 'Infra Second').list({ take: 1 });
    assert.equal(groups.Items[0].Name, 'Default Project Group');
    assert.equal((await get(`/api/${second.Id}/machinepolicies/all`)).json[0].IsDefault, true);

    const renamed = await spaces.modify({ ...second, Description: 'for the infra test' });
    assert.equal(renamed.Description, 'for the infra test');
    // A duplicate name (any case) and a missing one are refused.
    await refused(409, 'POST', '/api/spaces', { Name: 'infra second' });
    const missing = await refused(400, 'POST', '/api/spaces', { Description: 'no name' });
    assert.deepEqual(missing.Errors, ['The Name field is required.']);
  });

  test('environments with EnvironmentRepository: create, list, filter, modify, sort', async () => {
    const envs = new EnvironmentRepository(client, 'Default');
    const dev = await envs.create({ Name: 'Dev' });
    const test_ = await envs.create({ Name: 'Test', UseGuidedFailure: true, ExtensionSettings: [{ ExtensionId: 'x', Values: {} }] });
    const prod = await envs.create({ Name: 'Prod', Description: 'live', AllowDynamicInfrastructure: true });
    assert.deepEqual([dev.SortOrder, test_.SortOrder, prod.SortOrder], [0, 1, 2]);
    assert.equal(dev.SpaceId, 'Spaces-1');
    assert.equal(dev.UseGuidedFailure, false);
    assert.equal(test_.UseGuidedFailure, true);
    assert.deepEqual(test_.ExtensionSettings, [{ ExtensionId: 'x', Values: {} }]);
    assert.equal(prod.Links.Self, `/api/Spaces-1/environments/${prod.Id}`);
    Object.assign(state, { dev, test: test_, prod });

    const listed = await envs.list({ partialName: 'e', take: 1 });
    assert.equal(listed.TotalResults, 2);  // Dev and Test
    assert.equal(listed.Items[0].Name, 'Dev');
    assert.equal((await get('/api/environments?name=PROD')).json.Items[0].Id, prod.Id);
    assert.equal((await get(`/api/environments?ids=${dev.Id},${prod.Id}`)).json.TotalResults, 2);

    const modified = await envs.modify({ ...prod, Description: 'production' });
    assert.equal(modified.Description, 'production');
    assert.equal(modified.AllowDynamicInfrastructure, true);
    // Through the other node.
    assert.equal((await get(`/api/Spaces-1/environments/${prod.Id}`, cluster.nodes[1].url)).json.Description, 'production');

    await envs.sort([prod.Id, dev.Id, test_.Id]);
    assert.deepEqual((await get('/api/environments/all')).json.map((e) => e.Name), ['Prod', 'Dev', 'Test']);
    assert.deepEqual((await get('/api/environments/sortorder')).json, [prod.Id, dev.Id, test_.Id]);
    await envs.sort([dev.Id, test_.Id, prod.Id]);
    await refused(400, 'PUT', '/api/environments/sortorder', [dev.Id, 'Environments-999']);
    await refused(409, 'POST', '/api/environments', { Name: 'dev' });

    // The second space has its own environments, and the Default space's are invisible there.
    const other = await new EnvironmentRepository(client, 'Infra Second').create({ Name: 'Dev' });
    state.otherDev = other;
    assert.equal(other.SpaceId, state.second.Id);
    assert.equal((await get(`/api/${state.second.Id}/environments/${dev.Id}`)).status, 404);
    assert.equal((await get(`/api/${state.second.Id}/environments`)).json.TotalResults, 1);
  });

  test('lifecycles: phases name environments of their own space, the server assigns phase ids', async () => {
    const lifecycles = new LifecycleRepository(client, 'Default');
    const { dev, test: test_, prod } = state;
    const lc = await lifecycles.create({
      Name: 'Main',
      Phases: [
        { Id: 'client-chosen', Name: 'Development', AutomaticDeploymentTargets: [dev.Id], OptionalDeploymentTargets: [], MinimumEnvironmentsBeforePromotion: 0, IsOptionalPhase: false },
        { Name: 'Testing', OptionalDeploymentTargets: [test_.Id], IsOptionalPhase: true, ReleaseRetentionPolicy: { QuantityToKeep: 3, ShouldKeepForever: false, Unit: 'Items' } },
        { Name: 'Production', OptionalDeploymentTargets: [prod.Id], MinimumEnvironmentsBeforePromotion: 1 },
      ],
      ReleaseRetentionPolicy: { QuantityToKeep: 30, ShouldKeepForever: false, Unit: 'Days' },
      TentacleRetentionPolicy: { QuantityToKeep: 0, ShouldKeepForever: true, Unit: 'Items' },
    });
    assert.equal(lc.Slug, 'main');
    assert.equal(lc.Phases.length, 3);
    assert.ok(lc.Phases.every((p) => /^Phases-\d+$/.test(p.Id)), JSON.stringify(lc.Phases));
    assert.deepEqual(lc.Phases[0].AutomaticDeploymentTargets, [dev.Id]);
    assert.equal(lc.Phases[1].IsOptionalPhase, true);
    assert.deepEqual(lc.Phases[1].ReleaseRetentionPolicy, { QuantityToKeep: 3, ShouldKeepForever: false, Unit: 'Items' });
    assert.equal(lc.Phases[2].ReleaseRetentionPolicy, null);
    assert.equal(lc.ReleaseRetentionPolicy.QuantityToKeep, 30);
    state.lifecycle = lc;

    // A modify keeps the phase ids it echoes and gives a new phase a new one.
    const modified = await lifecycles.modify({ ...lc, Phases: [...lc.Phases, { Name: 'After', OptionalDeploymentTargets: [] }] });
    assert.deepEqual(modified.Phases.slice(0, 3).map((p) => p.Id), lc.Phases.map((p) => p.Id));
    assert.ok(!lc.Phases.some((p) => p.Id === modified.Phases[3].Id));
    state.lifecycle = modified;

    // An environment of another space, or none at all: 400, and nothing saved.
    const cross = await refused(400, 'POST', '/api/Spaces-1/lifecycles', { Name: 'Cross', Phases: [{ Name: 'P', OptionalDeploymentTargets: [state.otherDev.Id] }] });
    assert.match(cross.Errors[0], new RegExp(state.otherDev.Id));
    await refused(400, 'PUT', `/api/Spaces-1/lifecycles/${lc.Id}`, { ...modified, Phases: [{ Name: 'P', AutomaticDeploymentTargets: ['Environments-4040'] }] });
    // Every problem of a body in one 400.
    const bad = await refused(400, 'POST', '/api/lifecycles', { Phases: [{ MinimumEnvironmentsBeforePromotion: -1 }], ReleaseRetentionPolicy: { Unit: 'Weeks' } });
    assert.deepEqual(bad.Errors, [
      'The Name field is required.',
      'The Phases[0].Name field is required.',
      'The Phases[0].MinimumEnvironmentsBeforePromotion field must not be negative.',
      'The ReleaseRetentionPolicy.Unit field must be one of Days, Items.',
    ]);
    // An environment a lifecycle uses cannot be deleted; the message names the lifecycle.
    const inUse = await refused(409, 'DELETE', `/api/environments/${state.test.Id}`);
    assert.match(inUse.ErrorMessage, /lifecycle 'Main'/);
  });

  test('project groups with ProjectGroupRepository', async () => {
    const groups = new ProjectGroupRepository(client, 'Default');
    const g = await groups.create({ Name: 'Web apps', Description: 'front ends', EnvironmentIds: [state.dev.Id] });
    assert.equal(g.SpaceId, 'Spaces-1');
    assert.deepEqual(g.EnvironmentIds, [state.dev.Id]);
    assert.equal(g.Links.Projects, `/api/Spaces-1/projectgroups/${g.Id}/projects{?skip,take}`);
    const m = await groups.modify({ ...g, Name: 'Web applications' });
    assert.equal(m.Name, 'Web applications');
    assert.equal((await groups.get(g.Id)).Description, 'front ends');
    await refused(400, 'POST', '/api/projectgroups', { Name: 'Cross', EnvironmentIds: [state.otherDev.Id] });
    await refused(409, 'POST', '/api/projectgroups', { Name: 'default project group' });
    assert.equal((await get(`/api/${state.second.Id}/projectgroups/${g.Id}`)).status, 404);
    await groups.del(m);
    assert.equal((await get(`/api/projectgroups/${g.Id}`)).status, 404);
  });

  test('deployment targets: cloud regions and agents, filtered by environment, role and status', async () => {
    const { dev, test: test_, prod } = state;
    const created = [];
    for (const body of [
      { Name: 'web-dev', Roles: ['web'], EnvironmentIds: [dev.Id], Endpoint: { CommunicationStyle: 'None' } },
      { Name: 'web-prod', Roles: ['web', 'api'], EnvironmentIds: [prod.Id], Endpoint: { CommunicationStyle: 'None' }, TenantedDeploymentParticipation: 'Untenanted' },
      { Name: 'agent-1', Roles: ['db'], EnvironmentIds: [dev.Id, test_.Id], IsDisabled: true, Endpoint: { CommunicationStyle: 'TentacleActive', Thumbprint: 'A1B2C3', Uri: 'poll://agent1/' } },
    ]) {
      const r = await call('POST', '/api/Spaces-1/machines', body);
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.HealthStatus, 'Unknown');
      assert.equal(r.json.MachinePolicyId, 'MachinePolicies-1');
      created.push(r.json);
    }
    assert.equal(created[2].Endpoint.Thumbprint, 'A1B2C3');
    assert.equal(created[2].Endpoint.Uri, 'poll://agent1/');
    assert.equal(created[2].Status, 'Disabled');
    state.machines = created;
    const names = async (query) => (await get(`/api/machines?${query}`)).json.Items.map((m) => m.Name);
    assert.deepEqual(await names(''), ['agent-1', 'web-dev', 'web-prod']);
    assert.deepEqual(await names(`environmentIds=${dev.Id}`), ['agent-1', 'web-dev']);
    assert.deepEqual(await names('roles=API,db'), ['agent-1', 'web-prod']);
    assert.deepEqual(await names('isDisabled=false&roles=web'), ['web-dev', 'web-prod']);
    assert.deepEqual(await names('healthStatuses=Healthy'), []);
    assert.deepEqual(await names('healthStatuses=Unknown&partialName=web&skip=1&take=1'), ['web-prod']);
    assert.deepEqual(await names('name=WEB-DEV'), ['web-dev']);
    assert.deepEqual(await names('commStyles=TentacleActive'), ['agent-1']);
    const envMachines = await new EnvironmentRepository(client, 'Default').machines(test_);
    assert.deepEqual(envMachines.Items.map((m) => m.Name), ['agent-1']);
    assert.equal((await get('/api/environments/Environments-4040/machines')).status, 404);
    // The infrastructure overview counts targets per environment by health and endpoint kind.
    const summary = (await get(`/api/environments/summary?ids=${dev.Id},${prod.Id}`)).json;
    assert.deepEqual(summary.EnvironmentSummaries.map((e) => [e.Environment.Name, e.TotalMachines, e.TotalDisabledMachines]),
      [['Dev', 2, 1], ['Prod', 1, 0]]);
    assert.equal(summary.TotalMachines, 3);
    assert.equal(summary.MachineHealthStatusSummaries.Unknown, 3);
    assert.equal(summary.MachineHealthStatusSummaries.Healthy, 0);
    assert.deepEqual(summary.MachineEndpointSummaries, { None: 2, TentacleActive: 1 });
    const agentsOnly = (await get('/api/environments/summary?commStyles=TentacleActive')).json;
    assert.equal(agentsOnly.TotalMachines, 1);
    assert.equal(agentsOnly.EnvironmentSummaries.find((e) => e.Environment.Name === 'Test').TotalMachines, 1);

    const modified = await call('PUT', `/api/machines/${created[0].Id}`, { ...created[0], Roles: ['web', 'cache'], IsDisabled: true });
    assert.equal(modified.status, 200, modified.text);
    assert.deepEqual(modified.json.Roles, ['cache', 'web']);
    assert.equal(modified.json.Endpoint.Id, created[0].Endpoint.Id);

    // Bad input: every missing field at once; other spaces' environments; unknown endpoint kinds.
    const missing = await refused(400, 'POST', '/api/machines', {});
    assert.deepEqual(missing.Errors, [
      'The Name field is required.',
      'The EnvironmentIds field needs at least one environment.',
      'The Roles field needs at least one role.',
      'The Endpoint field is required.',
    ]);
    await refused(400, 'POST', '/api/machines', { Name: 'x', Roles: ['r'], EnvironmentIds: [state.otherDev.Id], Endpoint: { CommunicationStyle: 'None' } });
    await refused(400, 'POST', '/api/machines', { Name: 'x', Roles: ['r'], EnvironmentIds: [dev.Id], MachinePolicyId: 'MachinePolicies-4040', Endpoint: { CommunicationStyle: 'None' } });
    await refused(400, 'POST', '/api/machines', { Name: 'x', Roles: ['r'], EnvironmentIds: [dev.Id], Endpoint: { CommunicationStyle: 'Ssh' } });
    await refused(400, 'POST', '/api/machines', { Name: 'x', Roles: ['r'], EnvironmentIds: [dev.Id], Endpoint: { CommunicationStyle: 'TentacleActive' } });
    await refused(409, 'POST', '/api/machines', { Name: 'Web-Dev', Roles: ['r'], EnvironmentIds: [dev.Id], Endpoint: { CommunicationStyle: 'None' } });
    await refused(400, 'GET', '/api/machines?isDisabled=maybe');
    // An environment with a target in it cannot be deleted either (Edge is in no lifecycle).
    const edge = await new EnvironmentRepository(client, 'Default').create({ Name: 'Edge' });
    const edgeMachine = await call('POST', '/api/machines', { Name: 'edge-1', Roles: ['web'], EnvironmentIds: [edge.Id], Endpoint: { CommunicationStyle: 'None' } });
    assert.equal(edgeMachine.status, 201, edgeMachine.text);
    created.push(edgeMachine.json);
    const inUse = await refused(409, 'DELETE', `/api/environments/${edge.Id}`);
    assert.match(inUse.ErrorMessage, /deployment target 'edge-1'/);
    assert.equal((await get(`/api/${state.second.Id}/machines/${created[0].Id}`)).status, 404);
  });

  test('unknown ids are 404 and change nothing', async () => {
    for (const path of ['environments', 'lifecycles', 'projectgroups', 'machines', 'machinepolicies']) {
      await refused(404, 'GET', `/api/Spaces-1/${path}/Nope-1`);
      if (path !== 'machinepolicies') {
        await refused(404, 'PUT', `/api/Spaces-1/${path}/Nope-1`, { Name: 'x' });
        await refused(404, 'DELETE', `/api/${path}/Nope-1`);
      }
    }
    await refused(404, 'GET', '/api/Spaces-4040/environments');
    await refused(404, 'POST', '/api/Spaces-4040/environments', { Name: 'x' });
    await refused(404, 'PUT', '/api/spaces/Spaces-4040', { Name: 'x' });
    await refused(404, 'DELETE', '/api/spaces/Spaces-4040');
    await refused(404, 'GET', '/api/events/Events-404040');
  });

  test('deleting: a target, an environment once free, a lifecycle, and a space only once its task queue is stopped', async () => {
    for (const m of state.machines) assert.equal((await call('DELETE', `/api/machines/${m.Id}`)).status, 200);
    await new LifecycleRepository(client, 'Default').del(state.lifecycle);
    await new EnvironmentRepository(client, 'Default').del(state.prod);
    assert.equal((await get(`/api/environments/${state.prod.Id}`)).status, 404);

    const second = await spaces.get(state.second.Id);
    await refused(409, 'DELETE', '/api/spaces/Spaces-1');
    const running = await refused(409, 'DELETE', `/api/spaces/${second.Id}`);
    assert.match(running.ErrorMessage, /task queue/);
    await spaces.modify({ ...second, TaskQueueStopped: true });
    await spaces.del(second);
    assert.equal((await get(`/api/spaces/${second.Id}`)).status, 404);
    assert.equal((await get(`/api/${second.Id}/environments`)).status, 404);
    assert.equal(sql(`SELECT COUNT(*) FROM environments WHERE space_id = '${second.Id}'`), '0');
    assert.equal(sql(`SELECT COUNT(*) FROM lifecycles WHERE space_id = '${second.Id}'`), '0');
  });

  test('every change wrote one event, readable with the filters', async () => {
    const { dev, prod, second } = state;
    // Newest first: deleted, the two reorders, the description, created.
    const about = (await get(`/api/events?regarding=${prod.Id}&take=100`)).json;
    assert.deepEqual(about.Items.map((e) => e.Category), ['Deleted', 'Modified', 'Modified', 'Modified', 'Created']);
    const created = about.Items[4];
    assert.equal(created.Message, 'Environment Prod was created.');
    assert.equal(created.SpaceId, 'Spaces-1');
    assert.equal(created.UserId, 'Users-1');
    assert.equal(created.Username, 'admin');
    assert.deepEqual(created.RelatedDocumentIds, [prod.Id]);
    assert.match(created.Occurred, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
    assert.equal(created.Links.Self, `/api/events/${created.Id}`);
    assert.equal((await get(`/api/events/${created.Id}`)).json.Message, created.Message);

    const spaceEvents = (await get(`/api/events?regarding=${second.Id}`)).json.Items;
    assert.deepEqual(spaceEvents.map((e) => e.Category), ['Deleted', 'Modified', 'Modified', 'Created']);
    assert.equal(spaceEvents[0].SpaceId, null);

    // Filters: categories, regardingAny, a space's own route, time.
    const deleted = (await get('/api/events?eventCategories=Deleted&take=100')).json;
    assert.ok(deleted.Items.every((e) => e.Category === 'Deleted'));
    assert.equal(deleted.TotalResults, Number(sql("SELECT COUNT(*) FROM events WHERE category = 'Deleted'")));
    const any = (await get(`/api/events?regardingAny=${dev.Id},${prod.Id}&take=100`)).json;
    assert.equal(any.TotalResults, Number(sql(`SELECT COUNT(DISTINCT event_seq) FROM event_documents WHERE document_id IN ('${dev.Id}', '${prod.Id}')`)));
    const both = (await get(`/api/events?regarding=${dev.Id},${prod.Id}`)).json;
    assert.equal(both.TotalResults, 2);  // the two sort orders named every environment
    const inDefault = (await get('/api/Spaces-1/events?take=1000')).json;
    assert.ok(inDefault.Items.every((e) => e.SpaceId === 'Spaces-1'));
    assert.equal((await get(`/api/events?to=2000-01-01T00:00:00Z`)).json.TotalResults, 0);
    assert.equal((await get(`/api/events?from=${encodeURIComponent(created.Occurred)}&regarding=${prod.Id}`)).json.TotalResults, 5);
    assert.equal((await get('/api/events?from=yesterday')).status, 400);
    assert.equal((await get('/api/events?users=Users-1&take=1')).json.TotalResults, Number(sql('SELECT COUNT(*) FROM events')));
    assert.ok((await get('/api/events/categories')).json.some((c) => c.Id === 'Created'));
    // Each write wrote exactly one event: none for a refused request (checked by refused()).
    assert.equal(sql(`SELECT COUNT(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM event_documents d WHERE d.event_seq = e.seq)`), '0');
  });
});
