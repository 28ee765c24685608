#!/usr/bin/env python3
"""Issue 11 benchmark, "the engine's overhead per step": one node on PostgreSQL.

1. A deployment of 10 script steps (`true`) to one None target, from POST /deployments to the
   task's Success (polled every 2 ms), p50/p99 over RUNS runs, printed beside the same 10 scripts
   run bare with `bash -c true` in a loop. (deployment - bare) / 10 is the engine's overhead per
   step; the issue's target is <= 15 ms.
2. One `true` step fanned out to 100 None targets with Octopus.Action.MaxParallelism 10, its wall
   time (median of 5) beside 100 bare `bash -c true` runs, 10 at a time.
The load average is printed with the figures (the machine is shared).

Runs inside scripts/with-postgres.sh (CUTTLE_TEST_PG_ADMIN_URL names the server).
Usage: bench/deploy_bench.py BUILD_DIR [RUNS]
"""
import concurrent.futures
import http.client
import json
import os
import statistics
import subprocess
import sys
import time

from benchlib import start_node_on_new_database, stop

build = sys.argv[1] if len(sys.argv) > 1 else "build"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 50
server = os.path.join(build, "src/apps/cuttle-server")
KEY = "API-DEPLOYBENCHKEY00000000000001"
STEPS = 10


def call(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"X-Octopus-ApiKey": KEY}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse()
    text = r.read()
    c.close()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: {r.status} {text[:300]!r}")
    return json.loads(text) if text else None


def step(i, roles="web", extra=None):
    return {"Name": f"Step {i}", "Condition": "Success", "StartTrigger": "StartAfterPrevious",
            "PackageRequirement": "LetOctopusDecide",
            "Properties": {"Octopus.Action.TargetRoles": roles, **(extra or {})},
            "Actions": [{"Name": f"Step {i}", "ActionType": "Octopus.Script",
                         "Properties": {"Octopus.Action.Script.ScriptSource": "Inline",
                                        "Octopus.Action.Script.Syntax": "Bash",
                                        "Octopus.Action.Script.ScriptBody": "true"}}]}


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    proc, port, data, url = start_node_on_new_database(server, "cuttle_deploy_bench", KEY)
    try:
        env = call(port, "POST", "/api/Spaces-1/environments", {"Name": "Dev"})
        call(port, "POST", "/api/Spaces-1/machines",
             {"Name": "cloud-1", "Roles": ["web"], "EnvironmentIds": [env["Id"]],
              "Endpoint": {"CommunicationStyle": "None"}})
        lifecycle = call(port, "GET", "/api/Spaces-1/lifecycles")["Items"][0]["Id"]
        group = call(port, "GET", "/api/Spaces-1/projectgroups")["Items"][0]["Id"]
        project = call(port, "POST", "/api/Spaces-1/projects",
                       {"Name": "Bench", "LifecycleId": lifecycle, "ProjectGroupId": group})
        process = call(port, "GET", f"/api/Spaces-1/projects/{project['Id']}/deploymentprocesses")
        process["Steps"] = [step(i) for i in range(1, STEPS + 1)]
        call(port, "PUT", f"/api/Spaces-1/projects/{project['Id']}/deploymentprocesses", process)
        release = call(port, "POST", "/api/Spaces-1/releases",
                       {"ProjectId": project["Id"], "Version": "1.0.0"})

        def deploy_once(release_id):
            t0 = time.perf_counter()
            d = call(port, "POST", "/api/Spaces-1/deployments",
                     {"ReleaseId": release_id, "EnvironmentId": env["Id"]})
            while True:
                t = call(port, "GET", f"/api/tasks/{d['TaskId']}")
                if t["IsCompleted"]:
                    break
                time.sleep(0.002)
            if t["State"] != "Success":
                raise RuntimeError(f"deployment {t['Id']} ended {t['State']}: {t['ErrorMessage']}")
            return (time.perf_counter() - t0) * 1000

        times = [deploy_once(release["Id"]) for _ in range(runs + 2)][2:]  # two warm-ups

        bare = []
        for _ in range(runs):
            t0 = time.perf_counter()
            for _ in range(STEPS):
                subprocess.run(["bash", "-c", "true"], check=True)
            bare.append((time.perf_counter() - t0) * 1000)

        # Fan-out: one step to 100 None targets, 10 at a time.
        for i in range(1, 101):
            call(port, "POST", "/api/Spaces-1/machines",
                 {"Name": f"fan-{i:03}", "Roles": ["fan"], "EnvironmentIds": [env["Id"]],
                  "Endpoint": {"CommunicationStyle": "None"}})
        fan = call(port, "POST", "/api/Spaces-1/projects",
                   {"Name": "Fan", "LifecycleId": lifecycle, "ProjectGroupId": group})
        process = call(port, "GET", f"/api/Spaces-1/projects/{fan['Id']}/deploymentprocesses")
        process["Steps"] = [step(1, "fan", {"Octopus.Action.MaxParallelism": "10"})]
        call(port, "PUT", f"/api/Spaces-1/projects/{fan['Id']}/deploymentprocesses", process)
        fan_release = call(port, "POST", "/api/Spaces-1/releases",
                           {"ProjectId": fan["Id"], "Version": "1.0.0"})
        fan_times = [deploy_once(fan_release["Id"]) for _ in range(5)]
        fan_bare = []
        for _ in range(5):
            t0 = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(10) as pool:
                list(pool.map(lambda _: subprocess.run(["bash", "-c", "true"], check=True),
                              range(100)))
            fan_bare.append((time.perf_counter() - t0) * 1000)

        load = open("/proc/loadavg").read().split()[:3]
        d50, d99 = statistics.median(times), percentile(times, 99)
        b50, b99 = statistics.median(bare), percentile(bare, 99)
        print(f"deployment of {STEPS} `true` steps to one None target, create -> Success, {runs} runs:"
              f" p50 {d50:.1f} ms, p99 {d99:.1f} ms")
        print(f"{STEPS} x `bash -c true` in a loop, {runs} runs: p50 {b50:.1f} ms, p99 {b99:.1f} ms")
        print(f"engine overhead per step: p50 {(d50 - b50) / STEPS:.1f} ms, p99 {(d99 - b99) / STEPS:.1f} ms"
              f" (target <= 15 ms)")
        print(f"one `true` step to 100 None targets, MaxParallelism 10, create -> Success: median"
              f" {statistics.median(fan_times):.0f} ms; 100 x `bash -c true`, 10 at a time: median"
              f" {statistics.median(fan_bare):.0f} ms")
        print(f"load average {' '.join(load)}")
    finally:
        stop(proc, data)


if __name__ == "__main__":
    main()
