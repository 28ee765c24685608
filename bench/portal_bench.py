#!/usr/bin/env python3
"""Issue 13 benchmark, "the portal at size": one node on PostgreSQL, headless Chromium.

Prints, each beside the issue's target:
  - the JS and CSS the portal sends on first load, gzipped (the .gz twins build-web.sh writes,
    which is what a node sends to a browser that accepts gzip; brotli, which Chromium prefers, is
    smaller still): target <= 350 KB;
  - time to an interactive dashboard with 1,000 projects x 10 environments (model_bench.py's bulk
    load: 10,000 releases, 100,000 deployments, every cell filled): target <= 1.5 s;
The 100,000-line task log is measured by bench/portal_log_bench.mjs.

Runs inside scripts/with-postgres.sh (CUTTLE_TEST_PG_ADMIN_URL names the server), after `make`
(web/dist must be built). Usage: bench/portal_bench.py BUILD_DIR [RUNS]
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time

from benchlib import start_node_on_new_database, stop
import model_bench

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
build = sys.argv[1] if len(sys.argv) > 1 else "build"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
server = os.path.join(build, "src/apps/cuttle-server")
web = os.path.join(root, "web", "dist")
KEY = "API-PORTALBENCHKEY000000000000001"
BUDGET_KB, DASHBOARD_S = 350, 1.5


def first_load_assets():
    """The scripts, module preloads and stylesheets index.html names: what the first load
    fetches before anything else (the app is one bundle; there are no lazy chunks)."""
    with open(os.path.join(web, "index.html")) as f:
        html = f.read()
    names = re.findall(r'(?:src|href)="/app/(assets/[^"]+\.(?:js|css))"', html)
    if not names:
        raise RuntimeError("web/dist/index.html names no assets: run `make` first")
    return sorted(set(names))


def main():
    assets = first_load_assets()
    total_gz = 0
    print("first load, gzipped:")
    for a in assets:
        gz = os.path.getsize(os.path.join(web, a + ".gz"))
        raw = os.path.getsize(os.path.join(web, a))
        total_gz += gz
        print(f"  {a:44} {raw / 1000:8.1f} KB raw {gz / 1000:8.1f} KB gzip")
    verdict = "met" if total_gz / 1000 <= BUDGET_KB else "MISSED"
    print(f"  total JS+CSS gzipped: {total_gz / 1000:.1f} KB (target <= {BUDGET_KB} KB: {verdict})")

    proc, port, data, url = start_node_on_new_database(
        server, "cuttle_portal_bench", KEY, extra=["--web-dir", web])
    try:
        started = time.time()
        model_bench.load(url)
        print(f"loaded {model_bench.PROJECTS} projects x {model_bench.ENVIRONMENTS} environments, "
              f"{model_bench.DEPLOYMENTS} deployments in {time.time() - started:.1f} s")
        print("  (the grid is windowed: the rows in view are rendered, a filter finds the rest)")
        out = subprocess.run(
            ["node", os.path.join(here, "portal_browser.mjs"), f"http://127.0.0.1:{port}", KEY,
             str(model_bench.PROJECTS), str(runs)],
            capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"the browser run failed: {out.stderr.strip()[-2000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        s = sorted(result["samples"])
        med, worst = statistics.median(s), s[-1]
        verdict = "met" if worst / 1000 <= DASHBOARD_S else "MISSED"
        print(f"dashboard, {model_bench.PROJECTS} x {model_bench.ENVIRONMENTS}, navigation start -> "
              f"grid painted and the page idle ({runs} cold loads): median {med:.0f} ms, "
              f"worst {worst:.0f} ms (target <= {DASHBOARD_S * 1000:.0f} ms: {verdict})")
        wire = [r for r in result["transfer"] if r["type"] in ("script", "link", "css")]
        sent = sum(r["transfer"] for r in wire)
        print(f"  JS+CSS as Chromium fetched it (brotli, with headers): {sent / 1000:.1f} KB")
        dash = [r for r in result["transfer"] if "/api/dashboard" in r["name"]]
        if dash:
            print(f"  /api/dashboard: {dash[0]['transfer'] / 1000:.1f} KB on the wire, "
                  f"{dash[0]['body'] / 1000:.1f} KB decoded")
    finally:
        stop(proc, data)


if __name__ == "__main__":
    main()
