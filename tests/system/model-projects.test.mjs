// Projects, channels, deployment processes and variables (issue 10, project-model) on two nodes
// sharing PostgreSQL behind HAProxy, driven by @octopusdeploy/api-client 3.11.0 and fetch:
// concurrent process edits through two nodes, a secret that never leaks, bad input refused with
// nothing changed, and the audit events of every change. Also the secret on a single SQLite node.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  Client, DeploymentProcessRepository, LifecycleRepository, NewProject, ProjectGroupRepository,
  ProjectRepository,
} from '@octopusdeploy/api-client';
import { ADMIN_KEY, Node, freePort, psql, startCluster, tempDir } from './lib/cluster.mjs';
import { Haproxy } from './lib/haproxy.mjs';

// Every response body this file received, to search for the secret afterwards.
const received = [];
const record = (value) => {
  received.push(typeof value === 'string' ? value : JSON.stringify(value));
  return value;
};

async function call(baseUrl, method, pathname, body) {
  const headers = { 'X-Octopus-ApiKey': ADMIN_KEY };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(baseUrl + pathname, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = record(await r.text());
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

async function ok(baseUrl, method, pathname, body) {
  const r = await call(baseUrl, method, pathname, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${pathname} -> ${r.status} ${r.text}`);
  return r.json;
}

// Files under `dir` whose bytes contain `needle` (grep -r -a -l; exit 1 means none).
function filesContaining(dir, needle) {
  try {
    return execFileSync('grep', ['-r', '-a', '-l', '-F', needle, dir]).toString().trim().split('\n');
  } catch (e) {
    if (e.status === 1) return [];
    throw e;
  }
}

function scriptStep(name) {
  return {
    Id: '', Name: name, Properties: { 'Octopus.Action.TargetRoles': 'web' },
    Condition: 'Success', StartTrigger: 'StartAfterPrevious', PackageRequirement: 'LetOctopusDecide',
    Actions: [{
      Id: '', Name: name, ActionType: 'Octopus.Script', Notes: null, IsDisabled: false, IsRequired: false,
      CanBeUsedForProjectVersioning: true, WorkerPoolId: null, WorkerPoolVariable: null,
      Container: { Image: null, FeedId: null }, Environments: [], ExcludedEnvironments: [], Channels: [],
      TenantTags: [], Condition: 'Success', Packages: [],
      Properties: {
        'Octopus.Action.RunOnServer': 'true', 'Octopus.Action.Script.ScriptSource': 'Inline',
        'Octopus.Action.Script.Syntax': 'Bash', 'Octopus.Action.Script.ScriptBody': `echo ${name}`,
      },
    }],
  };
}

describe('projects, processes and variables on two nodes behind HAProxy', { timeout: 240000 }, () => {
  let cluster, haproxy, lb, nodeA, nodeB, client, space2;
  const secret = `cuttle-secret-${randomBytes(12).toString('hex')}`;

  before(async () => {
    cluster = await startCluster(2, { prefix: 'pm' });
    [nodeA, nodeB] = cluster.nodes;
    haproxy = await new Haproxy({
      port: await freePort(), servers: cluster.nodes.map((n) => ({ name: n.name, port: n.port })),
    }).start();
    lb = haproxy.url;
    client = await Client.create({ instanceURL: lb, apiKey: ADMIN_KEY, userAgentApp: 'model-projects' });
    space2 = await ok(lb, 'POST', '/api/spaces', {
      Name: 'Second', IsDefault: false, SpaceManagersTeams: [], SpaceManagersTeamMembers: ['Users-1'],
    });
  });

  after(async () => {
    await haproxy?.stop();
    await cluster?.stop();
  });

  it('creates a project with the api-client: process, variable set and default channel come with it', async () => {
    const group = record((await new ProjectGroupRepository(client, 'Default').list({ take: 1 })).Items[0]);
    const lifecycle = record((await new LifecycleRepository(client, 'Default').list({ take: 1 })).Items[0]);
    const projects = new ProjectRepository(client, 'Default');
    const project = record(await projects.create(NewProject('Hello World', group, lifecycle)));
    assert.match(project.Id, /^Projects-\d+$/);
    assert.equal(project.Slug, 'hello-world');
    assert.equal(project.DeploymentProcessId, `deploymentprocess-${project.Id}`);
    assert.equal(project.VariableSetId, `variableset-${project.Id}`);
    assert.equal(project.VersioningStrategy.Template,
      '#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}');
    assert.equal(project.SpaceId, 'Spaces-1');
    for (const link of ['Self', 'Releases', 'Channels', 'DeploymentProcess', 'Variables', 'Progression',
      'Runbooks', 'DeploymentSettings', 'Web']) assert.ok(project.Links[link], link);

    // By id and by slug, on either node.
    assert.equal((await ok(nodeA.url, 'GET', `/api/Spaces-1/projects/${project.Id}`)).Name, 'Hello World');
    assert.equal((await ok(nodeB.url, 'GET', '/api/projects/hello-world')).Id, project.Id);
    assert.equal((await ok(lb, 'GET', `/api/projectgroups/${group.Id}/projects`)).TotalResults, 1);
    assert.equal((await ok(lb, 'GET', '/api/projects/all')).length, 1);

    const channels = await ok(lb, 'GET', `/api/projects/${project.Id}/channels`);
    assert.equal(channels.Items.length, 1);
    assert.equal(channels.Items[0].Name, 'Default');
    assert.equal(channels.Items[0].IsDefault, true);

    const dp = new DeploymentProcessRepository(client, 'Default');
    const proc = record(await dp.get(project));
    assert.equal(proc.Id, project.DeploymentProcessId);
    assert.equal(proc.Version, 0);
    assert.deepEqual(proc.Steps, []);
    proc.Steps = [scriptStep('Say hello')];
    const saved = record(await dp.update(project, proc));
    assert.equal(saved.Version, 1);
    assert.match(saved.Steps[0].Id, /^[0-9a-f-]{36}$/);
    assert.match(saved.Steps[0].Actions[0].Id, /^[0-9a-f-]{36}$/);
    const byId = await ok(nodeB.url, 'GET', `/api/Spaces-1/deploymentprocesses/${proc.Id}`);
    assert.equal(byId.Steps[0].Id, saved.Steps[0].Id, 'given ids are kept');

    // Modify the project through PUT (full object echoed back).
    project.Description = 'edited';
    const modified = record(await projects.modify(project));
    assert.equal(modified.Description, 'edited');
  });

  it('concurrent edits: of two saves through two nodes exactly one wins, 50 times, and no step is lost', async () => {
    const project = await ok(lb, 'POST', '/api/projects', {
      Name: 'Race', ProjectGroupId: (await ok(lb, 'GET', '/api/projectgroups')).Items[0].Id,
      LifecycleId: (await ok(lb, 'GET', '/api/lifecycles')).Items[0].Id,
    });
    const clients = await Promise.all([nodeA, nodeB].map((n) =>
      Client.create({ instanceURL: n.url, apiKey: ADMIN_KEY, userAgentApp: 'race' })));
    const repos = clients.map((c) => new DeploymentProcessRepository(c, 'Default'));
    const winners = [];
    let conflicts = 0;
    for (let round = 0; round < 50; round++) {
      const read = (await Promise.all(repos.map((r) => r.get(project)))).map(record);
      assert.equal(read[0].Version, read[1].Version);
      const results = await Promise.allSettled(repos.map((r, i) => {
        const proc = structuredClone(read[i]);
        proc.Steps.push(scriptStep(`round ${round} writer ${i}`));
        return r.update(project, proc);
      }));
      for (const r of results) record(r.status === 'fulfilled' ? r.value : r.reason.message);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      assert.equal(won.length, 1, `round ${round}: ${JSON.stringify(results.map((r) => r.reason?.message ?? 'ok'))}`);
      assert.equal(lost[0].reason.StatusCode, 409, `round ${round}: ${lost[0].reason.message}`);
      conflicts++;
      winners.push(won[0].value.Steps.at(-1).Name);
    }
    assert.equal(conflicts, 50);
    const final = await ok(lb, 'GET', `/api/projects/${project.Id}/deploymentprocesses`);
    assert.equal(final.Version, 50);
    assert.deepEqual(final.Steps.map((s) => s.Name), winners, 'every winning save is there, in order');
    // A stale save afterwards still changes nothing.
    const stale = await call(lb, 'PUT', `/api/deploymentprocesses/${final.Id}`, { ...final, Version: 3, Steps: [] });
    assert.equal(stale.status, 409);
    assert.equal((await ok(lb, 'GET', `/api/deploymentprocesses/${final.Id}`)).Steps.length, 50);
  });

  it('a sensitive variable is stored sealed, never returned, and kept when echoed back', async () => {
    const project = (await ok(lb, 'GET', '/api/projects?partialName=Hello')).Items[0];
    const env = await ok(lb, 'POST', '/api/environments', { Name: 'Secret Env' });
    const setUrl = `/api/variables/${project.VariableSetId}`;
    const before = await ok(lb, 'GET', setUrl);
    assert.ok(before.ScopeValues.Environments.some((e) => e.Id === env.Id));
    const saved = await ok(nodeA.url, 'PUT', setUrl, {
      ...before,
      Variables: [
        { Name: 'DbPassword', Value: secret, Type: 'Sensitive', IsSensitive: true, Scope: { Environment: [env.Id] } },
        { Name: 'Greeting', Value: 'hello', Type: 'String', Scope: {} },
      ],
    });
    assert.equal(saved.Version, before.Version + 1);
    const pw = saved.Variables.find((v) => v.Name === 'DbPassword');
    assert.equal(pw.Value, null);
    assert.equal(pw.IsSensitive, true);
    assert.match(pw.Id, /^[0-9a-f-]{36}$/);
    // Read on the other node and echo it back with Value null (as clients do): the secret stays.
    const read = await ok(nodeB.url, 'GET', setUrl);
    read.Variables.find((v) => v.Name === 'Greeting').Value = 'hi';
    const echoed = await ok(nodeB.url, 'PUT', setUrl, read);
    assert.equal(echoed.Variables.find((v) => v.Name === 'DbPassword').Value, null);
    const stored = psql(cluster.database, `SELECT json FROM variable_sets WHERE id = '${project.VariableSetId}'`);
    assert.match(stored, /"SealedValue":"cv1:/);
    assert.ok(!stored.includes(secret));
    // The sealed value is the same one: an echo kept it rather than dropping or re-sealing a null.
    const sealed = (s) => JSON.parse(s).find((v) => v.Name === 'DbPassword').SealedValue;
    assert.equal(sealed(stored), sealed(psql(cluster.database,
      `SELECT json FROM variable_sets WHERE id = '${project.VariableSetId}'`)));
    assert.deepEqual(await ok(lb, 'GET', `/api/variables/names?project=${project.Id}`), ['DbPassword', 'Greeting']);
    // Stale version: 409, nothing changed.
    const stale = await call(lb, 'PUT', setUrl, { ...read, Variables: [] });
    assert.equal(stale.status, 409);
    assert.equal((await ok(lb, 'GET', setUrl)).Variables.length, 2);
  });

  it('library variable sets: created with their variable set, included by projects, deleted cleanly', async () => {
    const lib = await ok(lb, 'POST', '/api/libraryvariablesets', { Name: 'Shared', ContentType: 'Variables' });
    assert.equal(lib.VariableSetId, `variableset-${lib.Id}`);
    const set = await ok(lb, 'GET', `/api/variables/${lib.VariableSetId}`);
    assert.equal(set.OwnerId, lib.Id);
    const put = await ok(lb, 'PUT', `/api/variables/${lib.VariableSetId}`, {
      ...set, Variables: [{ Name: 'Shared.Token', Value: `${secret}-lib`, IsSensitive: true }],
    });
    assert.equal(put.Variables[0].Value, null);
    const project = (await ok(lb, 'GET', '/api/projects?partialName=Hello')).Items[0];
    const included = await ok(lb, 'PUT', `/api/projects/${project.Id}`, {
      ...project, IncludedLibraryVariableSetIds: [lib.Id],
    });
    assert.deepEqual(included.IncludedLibraryVariableSetIds, [lib.Id]);
    const missing = await call(lb, 'PUT', `/api/projects/${project.Id}`, {
      ...included, IncludedLibraryVariableSetIds: [lib.Id, 'LibraryVariableSets-999'],
    });
    assert.equal(missing.status, 400);
    assert.deepEqual((await ok(lb, 'GET', `/api/projects/${project.Id}`)).IncludedLibraryVariableSetIds, [lib.Id]);
    assert.equal((await ok(lb, 'GET', '/api/libraryvariablesets/all')).length, 1);
    await ok(lb, 'DELETE', `/api/libraryvariablesets/${lib.Id}`);
    assert.equal((await call(lb, 'GET', `/api/variables/${lib.VariableSetId}`)).status, 404);
    assert.deepEqual((await ok(lb, 'GET', `/api/projects/${project.Id}`)).IncludedLibraryVariableSetIds, []);
  });

  it('channels: version rules are checked at save, one default per project', async () => {
    const project = (await ok(lb, 'GET', '/api/projects?partialName=Hello')).Items[0];
    const bad = await call(lb, 'POST', '/api/channels', {
      Name: 'Bad', ProjectId: project.Id, Rules: [{ VersionRange: '[1.0,', Tag: '' }, { VersionRange: '', Tag: '(' }],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.Errors.length, 2, bad.text);
    const beta = await ok(lb, 'POST', '/api/channels', {
      Name: 'Beta', ProjectId: project.Id, LifecycleId: null,
      Rules: [{ VersionRange: '[1.0,2.0)', Tag: '^beta', ActionPackages: [{ DeploymentAction: 'Say hello' }] }],
    });
    assert.equal(beta.IsDefault, false);
    assert.match(beta.Rules[0].Id, /^[0-9a-f-]{36}$/);
    const promoted = await ok(lb, 'PUT', `/api/channels/${beta.Id}`, { ...beta, IsDefault: true });
    assert.equal(promoted.IsDefault, true);
    const all = (await ok(lb, 'GET', `/api/projects/${project.Id}/channels`)).Items;
    assert.deepEqual(all.filter((c) => c.IsDefault).map((c) => c.Id), [beta.Id]);
    assert.equal((await call(lb, 'DELETE', `/api/channels/${beta.Id}`)).status, 400, 'the default stays');
    // Action scoped to the channel: accepted; to another project's or unknown channel: 400.
    const proc = await ok(lb, 'GET', `/api/projects/${project.Id}/deploymentprocesses`);
    proc.Steps[0].Actions[0].Channels = [beta.Id];
    assert.equal((await ok(lb, 'PUT', `/api/deploymentprocesses/${proc.Id}`, proc)).Steps[0].Actions[0].Channels[0], beta.Id);
  });

  it('bad input: 404 for unknown ids, one 400 listing missing fields, cross-space references refused, nothing changed', async () => {
    for (const p of ['/api/projects/Projects-999', '/api/channels/Channels-999',
      '/api/deploymentprocesses/deploymentprocess-Projects-999', '/api/variables/variableset-Projects-999',
      '/api/libraryvariablesets/LibraryVariableSets-999', '/api/projects/Projects-999/deploymentprocesses',
      '/api/projects/Projects-999/channels', '/api/projectgroups/ProjectGroups-999/projects']) {
      assert.equal((await call(lb, 'GET', p)).status, 404, p);
    }
    assert.equal((await call(lb, 'PUT', '/api/projects/Projects-999', { Name: 'x' })).status, 404);
    assert.equal((await call(lb, 'DELETE', '/api/projects/Projects-999')).status, 404);

    const env2 = await ok(lb, 'POST', `/api/${space2.Id}/environments`, { Name: 'Elsewhere' });
    const eventsBefore = psql(cluster.database, 'SELECT count(*) FROM events');
    const projectsBefore = psql(cluster.database, 'SELECT count(*) FROM projects');
    const missing = await call(lb, 'POST', '/api/projects', {});
    assert.equal(missing.status, 400);
    for (const field of ['Name', 'ProjectGroupId', 'LifecycleId']) {
      assert.ok(missing.json.Errors.some((e) => e.includes(field)), `${field} in ${missing.text}`);
    }

    // A project in the second space naming the default space's lifecycle and group.
    const lc1 = (await ok(lb, 'GET', '/api/Spaces-1/lifecycles')).Items[0];
    const pg1 = (await ok(lb, 'GET', '/api/Spaces-1/projectgroups')).Items[0];
    const pg2 = (await ok(lb, 'GET', `/api/${space2.Id}/projectgroups`)).Items[0];
    const lc2 = (await ok(lb, 'GET', `/api/${space2.Id}/lifecycles`)).Items[0];
    const cross = await call(lb, 'POST', `/api/${space2.Id}/projects`, { Name: 'Cross', ProjectGroupId: pg2.Id, LifecycleId: lc1.Id });
    assert.equal(cross.status, 400, cross.text);
    assert.match(cross.text, new RegExp(lc1.Id));
    const cross2 = await call(lb, 'POST', `/api/${space2.Id}/projects`, { Name: 'Cross', ProjectGroupId: pg1.Id, LifecycleId: lc2.Id });
    assert.equal(cross2.status, 400, cross2.text);
    // A duplicate name; a bad action type; a process scoped to another space's environment.
    const dup = await call(lb, 'POST', '/api/projects', { Name: 'hello world', ProjectGroupId: pg1.Id, LifecycleId: lc1.Id });
    assert.equal(dup.status, 400, dup.text);
    const project = (await ok(lb, 'GET', '/api/projects?partialName=Hello')).Items[0];
    const proc = await ok(lb, 'GET', `/api/projects/${project.Id}/deploymentprocesses`);
    const badType = structuredClone(proc);
    badType.Steps[0].Actions[0].ActionType = 'Octopus.AzurePowerShell';
    assert.equal((await call(lb, 'PUT', `/api/deploymentprocesses/${proc.Id}`, badType)).status, 400);
    const badScope = structuredClone(proc);
    badScope.Steps[0].Actions[0].Environments = [env2.Id];
    const refused = await call(lb, 'PUT', `/api/deploymentprocesses/${proc.Id}`, badScope);
    assert.equal(refused.status, 400);
    assert.match(refused.text, new RegExp(env2.Id));
    const varSet = await ok(lb, 'GET', `/api/variables/${project.VariableSetId}`);
    const badVar = await call(lb, 'PUT', `/api/variables/${project.VariableSetId}`, {
      ...varSet, Variables: [...varSet.Variables, { Name: 'X', Value: '1', Scope: { Environment: [env2.Id] } }, { Value: 'no name' }],
    });
    assert.equal(badVar.status, 400);
    assert.equal(badVar.json.Errors.length, 2, badVar.text);

    // What projects use cannot be deleted under them.
    const lcDelete = await call(lb, 'DELETE', `/api/lifecycles/${lc1.Id}`);
    assert.equal(lcDelete.status, 409, lcDelete.text);
    assert.match(lcDelete.text, /Hello World/);
    assert.equal((await call(lb, 'DELETE', `/api/projectgroups/${pg1.Id}`)).status, 409);
    assert.equal((await call(lb, 'GET', `/api/lifecycles/${lc1.Id}`)).status, 200);
    assert.equal((await call(lb, 'GET', `/api/projectgroups/${pg1.Id}`)).status, 200);

    // Nothing changed by any refused request.
    assert.equal(psql(cluster.database, 'SELECT count(*) FROM projects'), projectsBefore);
    assert.equal((await ok(lb, 'GET', `/api/deploymentprocesses/${proc.Id}`)).Version, proc.Version);
    assert.equal((await ok(lb, 'GET', `/api/variables/${project.VariableSetId}`)).Version, varSet.Version);
    assert.equal(psql(cluster.database, 'SELECT count(*) FROM events'), eventsBefore, 'no event either');
    assert.equal((await ok(lb, 'GET', `/api/${space2.Id}/projects`)).TotalResults, 0);
  });

  it('a project in the second space is invisible from the default space', async () => {
    const pg2 = (await ok(lb, 'GET', `/api/${space2.Id}/projectgroups`)).Items[0];
    const lc2 = (await ok(lb, 'GET', `/api/${space2.Id}/lifecycles`)).Items[0];
    const projects2 = new ProjectRepository(client, 'Second');
    const p = record(await projects2.create(NewProject('Hello World', pg2, lc2)));  // same name, other space
    assert.equal(p.SpaceId, space2.Id);
    assert.equal((await call(lb, 'GET', `/api/Spaces-1/projects/${p.Id}`)).status, 404);
    const proc = record(await new DeploymentProcessRepository(client, 'Second').get(p));
    assert.equal(proc.SpaceId, space2.Id);
    assert.equal((await call(lb, 'GET', `/api/Spaces-1/deploymentprocesses/${proc.Id}`)).status, 404);
    // A space that holds a project cannot be deleted; once the project is gone it can.
    const stopped = await ok(lb, 'PUT', `/api/spaces/${space2.Id}`, { ...space2, TaskQueueStopped: true });
    assert.equal(stopped.TaskQueueStopped, true);
    const refusedSpace = await call(lb, 'DELETE', `/api/spaces/${space2.Id}`);
    assert.equal(refusedSpace.status, 409, refusedSpace.text);
    assert.match(refusedSpace.text, /Hello World/);
    await projects2.del(p);
    assert.equal((await call(lb, 'GET', `/api/${space2.Id}/projects/${p.Id}`)).status, 404);
    for (const table of ['processes', 'variable_sets', 'channels']) {
      assert.equal(psql(cluster.database, `SELECT count(*) FROM ${table} WHERE space_id = '${space2.Id}'`), '0', table);
    }
    await ok(lb, 'DELETE', `/api/spaces/${space2.Id}`);
  });

  it('writes an event for every create, modify and delete (read through /api/events)', async () => {
    const events = (await ok(lb, 'GET', '/api/events?take=100000')).Items;
    const rows = events.map((e) => `${e.Category} ${e.Message}`);
    const has = (re) => rows.some((r) => re.test(r));
    assert.ok(has(/^Created Project Hello World was created\.$/), rows.join('\n'));
    assert.ok(has(/^Modified Project Hello World was modified\.$/));
    assert.ok(has(/^Deleted Project Hello World was deleted\.$/));
    assert.ok(has(/^Modified The deployment process deploymentprocess-Projects-\d+ was modified\.$/));
    assert.ok(has(/^Modified The variable set variableset-Projects-\d+ was modified\.$/));
    assert.ok(has(/^Created Channel Beta was created\.$/));
    assert.ok(has(/^Modified Channel Beta was modified\.$/));
    assert.ok(has(/^Created Library variable set Shared was created\.$/));
    assert.ok(has(/^Deleted Library variable set Shared was deleted\.$/));
    // The race project's process: created with the project, then 50 saves; no refused save wrote one.
    const race = (await ok(lb, 'GET', '/api/projects?name=Race')).Items[0];
    const processEvents = await ok(lb, 'GET', `/api/events?regarding=${race.DeploymentProcessId}&take=1000`);
    assert.equal(processEvents.TotalResults, 51);
    // The table says the same as the API.
    assert.equal(psql(cluster.database, 'SELECT count(*) FROM events e JOIN event_documents d ON ' +
      `d.event_seq = e.seq WHERE d.document_id = '${race.DeploymentProcessId}'`), '51');
  });

  it('the secret is nowhere: PostgreSQL data directory, shared storage, node logs, responses', async () => {
    psql(cluster.database, 'CHECKPOINT');
    const dataDir = process.env.CUTTLE_TEST_PG_DATA ?? psql(cluster.database, 'SHOW data_directory');
    // The probe itself works: the sealed column is in the data directory.
    assert.ok(filesContaining(dataDir, 'SealedValue').length > 0, 'the data directory holds the variable sets');
    assert.deepEqual(filesContaining(dataDir, secret), []);
    assert.deepEqual(filesContaining(cluster.sharedDir, secret), []);
    for (const n of cluster.nodes) assert.ok(!n.output.includes(secret), `log of ${n.name}`);
    assert.ok(!haproxy.output.includes(secret));
    assert.ok(received.length > 100);
    assert.equal(received.filter((body) => body.includes(secret)).length, 0);
  });
});

describe('a secret on a single SQLite node', { timeout: 60000 }, () => {
  let node, dir;
  after(async () => {
    await node?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is sealed in the SQLite file and never answered', async () => {
    dir = tempDir();
    node = await new Node({ name: 'solo', sharedDir: dir, port: await freePort() }).start();
    const secret = `cuttle-sqlite-secret-${randomBytes(12).toString('hex')}`;
    const group = (await ok(node.url, 'GET', '/api/projectgroups')).Items[0];
    const lifecycle = (await ok(node.url, 'GET', '/api/lifecycles')).Items[0];
    const project = await ok(node.url, 'POST', '/api/projects', { Name: 'Solo', ProjectGroupId: group.Id, LifecycleId: lifecycle.Id });
    const set = await ok(node.url, 'GET', `/api/variables/${project.VariableSetId}`);
    const saved = await ok(node.url, 'PUT', `/api/variables/${project.VariableSetId}`, {
      ...set, Variables: [{ Name: 'Token', Value: secret, Type: 'Sensitive' }],
    });
    assert.equal(saved.Variables[0].Value, null);
    await ok(node.url, 'GET', `/api/variables/${project.VariableSetId}`);
    await node.stop();  // a clean stop checkpoints the WAL into the file
    assert.ok(filesContaining(dir, 'SealedValue').length > 0, 'the probe finds the stored set');
    assert.deepEqual(filesContaining(dir, secret), []);
    assert.ok(!node.output.includes(secret));
    assert.equal(received.filter((body) => body.includes(secret)).length, 0);
  });
});
