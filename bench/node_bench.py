#!/usr/bin/env python3
"""Issue 2 benchmark: one node on SQLite.

Prints, beside the targets: time from process start to the first successful ping, idle RSS after
10 s, and GET /api/octopusservernodes/ping requests/s with wrk at 50 connections next to the same
wrk run against nginx serving a static file of the same size (the ceiling on this machine).

Usage: bench/node_bench.py BUILD_DIR
"""
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from benchlib import free_port, status_kib

build = sys.argv[1] if len(sys.argv) > 1 else "build"
server = os.path.join(build, "src/apps/cuttle-server")


def ping(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/api/octopusservernodes/ping")
        r = c.getresponse()
        body = r.read()
        return r.status, body
    except OSError:
        return None, b""


def wrk(url, seconds=10):
    out = subprocess.run(["wrk", "-t2", "-c50", f"-d{seconds}s", url], capture_output=True,
                         text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, int(errors.group(1)) if errors else 0


def main():
    work = tempfile.mkdtemp(prefix="cuttle-bench-")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTTLE_")}
    t0 = time.perf_counter()
    proc = subprocess.Popen([server, "run", "--node-name", "bench", "--listen", f"127.0.0.1:{port}",
                             "--shared-dir", work], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    body = b""
    while True:
        status, body = ping(port)
        if status == 200:
            break
        if proc.poll() is not None or time.perf_counter() - t0 > 10:
            print("node did not start", file=sys.stderr)
            sys.exit(1)
        time.sleep(0.001)
    ready_ms = (time.perf_counter() - t0) * 1000
    # A second, warm start (the first pays for creating the database and the master key).
    time.sleep(10)
    idle_rss = status_kib(proc.pid) / 1024
    cuttle_rps, cuttle_errors = wrk(f"http://127.0.0.1:{port}/api/octopusservernodes/ping")
    proc.terminate()
    proc.wait()

    t0 = time.perf_counter()
    proc = subprocess.Popen([server, "run", "--node-name", "bench", "--listen", f"127.0.0.1:{port}",
                             "--shared-dir", work], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    while ping(port)[0] != 200:
        time.sleep(0.001)
    warm_ms = (time.perf_counter() - t0) * 1000
    proc.terminate()
    proc.wait()

    # nginx serving a static file as large as the ping body: the ceiling for one small response.
    nginx_dir = tempfile.mkdtemp(prefix="cuttle-bench-nginx-")
    with open(os.path.join(nginx_dir, "ping.json"), "wb") as f:
        f.write(body)
    nport = free_port()
    conf = os.path.join(nginx_dir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 2;
daemon off;
pid {nginx_dir}/nginx.pid;
error_log {nginx_dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {nginx_dir};
  proxy_temp_path {nginx_dir};
  fastcgi_temp_path {nginx_dir};
  uwsgi_temp_path {nginx_dir};
  scgi_temp_path {nginx_dir};
  server {{
    listen 127.0.0.1:{nport};
    root {nginx_dir};
    location / {{ default_type application/json; }}
  }}
}}
""")
    nginx = subprocess.Popen(["nginx", "-c", conf, "-p", nginx_dir], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    nginx_rps, _ = wrk(f"http://127.0.0.1:{nport}/ping.json")
    nginx.terminate()
    nginx.wait()
    shutil.rmtree(nginx_dir, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)

    ratio = cuttle_rps / nginx_rps * 100
    print("Cuttle node on SQLite (issue 2)                         measured      target")
    print(f"  start to first ping, new database                   {ready_ms:8.0f} ms   <= 200 ms")
    print(f"  start to first ping, existing database              {warm_ms:8.0f} ms   <= 200 ms")
    print(f"  idle RSS after 10 s                                 {idle_rss:8.1f} MB   <= 30 MB")
    print(f"  ping, wrk -t2 -c50 (non-2xx: {cuttle_errors})                  {cuttle_rps:8.0f} req/s")
    print(f"  nginx static file of the same size, same wrk        {nginx_rps:8.0f} req/s")
    print(f"  ping / nginx                                        {ratio:8.1f} %    >= 50 %")
    print(json.dumps({"ready_ms": round(ready_ms), "warm_ready_ms": round(warm_ms),
                      "idle_rss_mb": round(idle_rss, 1), "ping_rps": round(cuttle_rps),
                      "nginx_rps": round(nginx_rps), "ratio_pct": round(ratio, 1)}))


if __name__ == "__main__":
    main()
