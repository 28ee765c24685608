#!/usr/bin/env python3
"""Issue 10 benchmark, "the deployment model at size": one node on PostgreSQL.

Loads 1,000 projects x 10 environments, 10,000 releases and 100,000 deployments (each with its
Success server task) with bulk SQL, as the API would have written them, then measures p50/p99 of
  GET /api/Spaces-1/dashboard, GET /api/Spaces-1/projects?take=30, GET /api/Spaces-1/releases/{id}
and beside each the time psql needs for the equivalent queries on the same data (the queries the
handler runs, timed by psql's \\timing, so the API's overhead shows as a ratio).
Targets: dashboard p99 <= 50 ms and <= 3x its psql queries; list and get p99 <= 10 ms.
The dashboard is measured after three kinds of change (the counter bumped by hand, one cell's task
changing state, a project renamed: see main()), polled unchanged, and polled with If-None-Match
(304).

Runs inside scripts/with-postgres.sh (CUTTLE_TEST_PG_ADMIN_URL names the server).
Usage: bench/model_bench.py BUILD_DIR [REQUESTS]
"""
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import start_node_on_new_database, stop

build = sys.argv[1] if len(sys.argv) > 1 else "build"
requests = int(sys.argv[2]) if len(sys.argv) > 2 else 200
server = os.path.join(build, "src/apps/cuttle-server")
KEY = "API-MODELBENCHKEY0000000000000001"
PROJECTS, ENVIRONMENTS, RELEASES_PER_PROJECT = 1000, 10, 10
# 100,000 deployments: every release of every project deployed once to every environment.
DEPLOYMENTS = PROJECTS * ENVIRONMENTS * RELEASES_PER_PROJECT
# A project's stored document as the API writes it (model/project.cc), about 1 KB with a
# description: what the dashboard would have to parse per project if IsDisabled had no column.
PROJECT_DOC = json.dumps({
    "Description": "Deploys the service's API tier and its database migrations. " * 8,
    "IsDisabled": False,
    "VersioningStrategy": {"Template": "#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}."
                           "#{Octopus.Version.NextPatch}", "DonorPackage": None, "DonorPackageStepId": None},
    "TenantedDeploymentMode": "Untenanted", "DefaultGuidedFailureMode": "EnvironmentDefault",
    "ReleaseCreationStrategy": {"ReleaseCreationPackage": None, "ChannelId": None,
                                "ReleaseCreationPackageStepId": None},
    "Templates": [], "AutoDeployReleaseOverrides": [], "AutoCreateRelease": False,
    "DiscreteChannelRelease": False, "DefaultToSkipIfAlreadyInstalled": False,
    "ProjectConnectivityPolicy": {"SkipMachineBehavior": "None", "TargetRoles": [],
                                  "AllowDeploymentsToNoTargets": False, "ExcludeUnhealthyTargets": False},
    "ReleaseNotesTemplate": None, "ClonedFromProjectId": None, "ExtensionSettings": [], "ProjectTags": []},
    separators=(",", ":")).replace("'", "''")


def psql(url, sql, *extra):
    r = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", *extra, "-c", sql],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"psql failed: {r.stderr.strip()}")
    return r.stdout


def load(url):
    """Bulk rows in the shape the API writes them (see src/db/migrations/0006-0008)."""
    e, p, r = ENVIRONMENTS, PROJECTS, RELEASES_PER_PROJECT
    psql(url, f"""
BEGIN;
INSERT INTO lifecycles (id, space_id, name, json) VALUES ('Lifecycles-1', 'Spaces-1', 'Default Lifecycle', '{{}}')
  ON CONFLICT (id) DO NOTHING;
INSERT INTO project_groups (id, space_id, name, json)
  VALUES ('ProjectGroups-1', 'Spaces-1', 'Default Project Group', '{{}}') ON CONFLICT (id) DO NOTHING;
INSERT INTO environments (id, space_id, name, sort_order)
  SELECT 'Environments-' || i, 'Spaces-1', 'Env ' || i, i FROM generate_series(1, {e}) i;
INSERT INTO projects (id, space_id, name, slug, project_group_id, lifecycle_id, json)
  SELECT 'Projects-' || i, 'Spaces-1', 'Project ' || i, 'project-' || i, 'ProjectGroups-1',
         'Lifecycles-1', '{PROJECT_DOC}' FROM generate_series(1, {p}) i;
INSERT INTO channels (id, space_id, project_id, name, is_default, json)
  SELECT 'Channels-' || i, 'Spaces-1', 'Projects-' || i, 'Default', TRUE, '{{}}'
  FROM generate_series(1, {p}) i;
INSERT INTO processes (id, space_id, owner_id, kind, version, json)
  SELECT 'deploymentprocess-Projects-' || i, 'Spaces-1', 'Projects-' || i, 'Deployment', 0, '{{}}'
  FROM generate_series(1, {p}) i;
INSERT INTO variable_sets (id, space_id, owner_id, version, json)
  SELECT 'variableset-Projects-' || i, 'Spaces-1', 'Projects-' || i, 0, '{{}}'
  FROM generate_series(1, {p}) i;
INSERT INTO releases (id, seq, space_id, project_id, channel_id, version, version_key, assembled, json)
  SELECT 'Releases-' || n, n, 'Spaces-1', 'Projects-' || pr, 'Channels-' || pr, '1.0.' || k, '1.0.' || k,
         (extract(epoch from now()) * 1000)::bigint - 86400000 + n,
         '{{"ReleaseNotes":null,"SelectedPackages":[],"ProjectDeploymentProcessSnapshotId":"deploymentprocess-Projects-' || pr || '-s-' || n || '","ProjectVariableSetSnapshotId":"variableset-Projects-' || pr || '-s-' || n || '","LibraryVariableSetSnapshotIds":[]}}'
  FROM (SELECT n, (n - 1) / {r} + 1 AS pr, (n - 1) % {r} + 1 AS k FROM generate_series(1, {p * r}) n) s;
INSERT INTO server_tasks (id, seq, space_id, name, description, arguments, state, queue_time,
                          start_time, completed_time, last_updated_time, server_node, concurrency_tag)
  SELECT 'ServerTasks-' || n, n, 'Spaces-1', 'Deploy', 'Deploy', '{{"DeploymentId":"Deployments-' || n || '"}}',
         'Success', t, t + 10, t + 1000, t + 1000, 'bench', 'x'
  FROM (SELECT n, (extract(epoch from now()) * 1000)::bigint - 86400000 + n * 10 AS t
        FROM generate_series(1, {DEPLOYMENTS}) n) s;
-- Deployment n: release (n-1)/e+1 (so its project), environment (n-1)%e+1.
INSERT INTO deployments (id, seq, space_id, project_id, environment_id, release_id, channel_id,
                         task_id, created, json)
  SELECT 'Deployments-' || n, n, 'Spaces-1', 'Projects-' || ((rel - 1) / {r} + 1), 'Environments-' || env,
         'Releases-' || rel, 'Channels-' || ((rel - 1) / {r} + 1), 'ServerTasks-' || n,
         (extract(epoch from now()) * 1000)::bigint - 86400000 + n * 10,
         '{{"Name":"Deploy","Comments":"","FormValues":{{}},"SkipActions":[]}}'
  FROM (SELECT n, (n - 1) / {e} + 1 AS rel, (n - 1) % {e} + 1 AS env
        FROM generate_series(1, {DEPLOYMENTS}) n) s;
INSERT INTO dashboard_latest (project_id, environment_id, space_id, deployment_seq, deployment_id,
    release_id, release_version, channel_id, task_id, created, queue_time, start_time,
    completed_time, state, error_message, has_warnings_or_errors)
  SELECT DISTINCT ON (d.project_id, d.environment_id) d.project_id, d.environment_id, d.space_id,
    d.seq, d.id, d.release_id, r.version, d.channel_id, d.task_id, d.created, t.queue_time,
    t.start_time, t.completed_time, t.state, t.error_message, t.has_warnings_or_errors
  FROM deployments d JOIN releases r ON r.id = d.release_id JOIN server_tasks t ON t.id = d.task_id
  ORDER BY d.project_id, d.environment_id, d.seq DESC;
INSERT INTO id_sequences (name, value) VALUES ('Environments', {e}), ('Projects', {p}),
  ('Channels', {p}), ('Releases', {p * r}), ('ServerTasks', {DEPLOYMENTS}), ('Deployments', {DEPLOYMENTS})
  ON CONFLICT (name) DO UPDATE SET value = excluded.value;
COMMIT;
""")
    psql(url, "VACUUM ANALYZE")


def get_ms(conn, path, headers=None, expect=200):
    start = time.perf_counter()
    conn.request("GET", path, headers={"X-Octopus-ApiKey": KEY, **(headers or {})})
    r = conn.getresponse()
    body = r.read()
    elapsed = (time.perf_counter() - start) * 1000
    expected = 304 if headers and "If-None-Match" in headers else expect
    if r.status != expected:
        raise RuntimeError(f"GET {path} answered {r.status}: {body[:300]!r}")
    return elapsed, body


def percentiles(samples):
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.99) - 1)]


def api(port, path, n, before_each=None, headers=None):
    """p50/p99 of n GETs of `path` on one connection; `before_each` (untimed) runs before each."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(min(20, n)):  # warm up
        get_ms(conn, path, headers)
    samples = []
    for _ in range(n):
        if before_each:
            before_each()
        samples.append(get_ms(conn, path, headers)[0])
    conn.close()
    return percentiles(samples)


def psql_ms(url, statements, n):
    """Runs `statements` (the handler's queries) n times in one psql session with \\timing; the
    time of one repetition is the sum of its statements' times."""
    script = "\\timing on\n" + "".join(s.strip().rstrip(";") + ";\n" for s in statements) * (n + 5)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
        name = f.name
    try:
        out = subprocess.run(["psql", url, "-qAtX", "-o", "/dev/null", "-f", name], check=True,
                             capture_output=True, text=True).stdout
    finally:
        os.unlink(name)
    times = [float(t) for t in re.findall(r"Time: ([0-9.]+) ms", out)]
    k = len(statements)
    reps = [sum(times[i:i + k]) for i in range(0, len(times), k)][5:]  # drop the warm-up
    return percentiles(reps)


DASHBOARD_SQL = [
    "SELECT id, name FROM environments WHERE space_id = 'Spaces-1' ORDER BY sort_order, LENGTH(id), id",
    "SELECT id, json FROM lifecycles WHERE space_id = 'Spaces-1'",
    "SELECT version FROM dashboard_changes WHERE space_id = 'Spaces-1'",
    "SELECT id, name, slug, project_group_id, lifecycle_id, is_disabled FROM projects WHERE space_id = 'Spaces-1' ORDER BY lower(name COLLATE \"binary\"), id",
    "SELECT id, name FROM project_groups WHERE space_id = 'Spaces-1' ORDER BY lower(name COLLATE \"binary\"), id",
    "SELECT project_id, environment_id, release_id, release_version, deployment_id, task_id, "
    "channel_id, created, queue_time, start_time, completed_time, state, error_message, "
    "has_warnings_or_errors FROM dashboard_latest WHERE space_id = 'Spaces-1'",
]
PROJECTS_SQL = [
    "SELECT COUNT(*) FROM projects WHERE space_id = 'Spaces-1'",
    "SELECT * FROM projects WHERE space_id = 'Spaces-1' ORDER BY lower(name) LIMIT 30 OFFSET 0",
]
RELEASE_SQL = [
    "SELECT id, seq, space_id, project_id, channel_id, version, assembled, json FROM releases "
    "WHERE seq = 5000 AND space_id = 'Spaces-1'",
]


def main():
    proc, port, data, url = start_node_on_new_database(server, "cuttle_model_bench", KEY)
    try:
        started = time.time()
        load(url)
        print(f"loaded {PROJECTS} projects x {ENVIRONMENTS} environments, "
              f"{PROJECTS * RELEASES_PER_PROJECT} releases, {DEPLOYMENTS} deployments "
              f"in {time.time() - started:.1f} s")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        _, body = get_ms(conn, "/api/Spaces-1/dashboard")
        conn.close()
        dash = json.loads(body)
        if len(dash["Items"]) != PROJECTS * ENVIRONMENTS or len(dash["Projects"]) != PROJECTS:
            raise RuntimeError(f"dashboard has {len(dash['Items'])} items, "
                               f"{len(dash['Projects'])} projects")
        # The "changed" rows change the data before every request (untimed, then 0.3 s for psql's
        # connection to wind down), so that the node cannot answer from its cache:
        #  - "counter bumped": the counter the triggers raise is raised by hand and nothing else
        #    changes (this row's measure before migration 0013; since then the node rereads the
        #    cells stamped after its build, none here, and splices the body again);
        #  - "a deployment's task": one cell's task changes state (the trigger on server_tasks
        #    updates the cell), the commonest change: the node rereads that cell only;
        #  - "a project renamed": the layout changes, so the node rebuilds the whole dashboard.
        # "unchanged" is a poll of unchanged data (served from the node's cache), "304" the same
        # poll with If-None-Match.
        bumped = lambda: (psql(url, "UPDATE dashboard_changes SET version = version + 1 "
                                    "WHERE space_id = 'Spaces-1'"), time.sleep(0.3))
        turn = [0]

        def task_changed():
            turn[0] += 1
            n = DEPLOYMENTS - (turn[0] * 7919) % (PROJECTS * ENVIRONMENTS)  # a cell's latest task
            psql(url, "UPDATE server_tasks SET state = CASE state WHEN 'Success' THEN 'Failed' ELSE "
                      f"'Success' END WHERE id = 'ServerTasks-{n}'")
            time.sleep(0.3)

        def project_renamed():
            turn[0] += 1
            psql(url, f"UPDATE projects SET name = 'Project 1 r{turn[0]}' WHERE id = 'Projects-1'")
            time.sleep(0.3)

        dashboard_sql = psql_ms(url, DASHBOARD_SQL, requests)
        bumped_figures = api(port, "/api/Spaces-1/dashboard", requests, before_each=bumped)
        task_figures = api(port, "/api/Spaces-1/dashboard", requests, before_each=task_changed)
        renamed_figures = api(port, "/api/Spaces-1/dashboard", requests, before_each=project_renamed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/api/Spaces-1/dashboard", headers={"X-Octopus-ApiKey": KEY})
        r = conn.getresponse()
        r.read()
        etag = r.getheader("ETag")
        conn.close()
        rows = [
            ("dashboard changed: counter bumped", bumped_figures, dashboard_sql, 50.0, 3.0),
            ("dashboard changed: a deployment's task", task_figures, dashboard_sql, 50.0, 3.0),
            ("dashboard changed: a project renamed", renamed_figures, dashboard_sql, 50.0, 3.0),
            ("GET /api/Spaces-1/dashboard (unchanged)", api(port, "/api/Spaces-1/dashboard", requests),
             dashboard_sql, 50.0, 3.0),
            ("GET /api/Spaces-1/dashboard (304)",
             api(port, "/api/Spaces-1/dashboard", requests, headers={"If-None-Match": etag}),
             dashboard_sql, 50.0, 3.0),
            ("GET /api/Spaces-1/projects?take=30",
             api(port, "/api/Spaces-1/projects?take=30", requests * 5),
             psql_ms(url, PROJECTS_SQL, requests * 5), 10.0, None),
            ("GET /api/Spaces-1/releases/Releases-5000",
             api(port, "/api/Spaces-1/releases/Releases-5000", requests * 5),
             psql_ms(url, RELEASE_SQL, requests * 5), 10.0, None),
        ]
        print(f"{'':42} {'p50 ms':>8} {'p99 ms':>8} {'psql p50':>9} {'psql p99':>9} "
              f"{'p99/psql':>9}   target")
        for name, (p50, p99), (q50, q99), target, ratio in rows:
            t = f"p99 <= {target:.0f} ms" + (f", <= {ratio:.0f}x psql" if ratio else "")
            print(f"{name:42} {p50:8.2f} {p99:8.2f} {q50:9.2f} {q99:9.2f} "
                  f"{p99 / max(q99, 0.001):9.2f}   {t}")
    finally:
        stop(proc, data)


if __name__ == "__main__":
    main()
