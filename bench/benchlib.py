"""Helpers the Python benchmarks share: a free loopback port, a process's memory, stopping a node."""
import shutil
import socket
import subprocess


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status_kib(pid, field="VmRSS"):
    """A /proc/PID/status field in KiB (VmRSS, VmHWM...), 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def stop(proc, *dirs, timeout=20):
    """SIGTERM, then SIGKILL after `timeout` seconds; removes `dirs`."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


def start_node_on_new_database(server, database, key, extra=()):
    """One node on a new PostgreSQL database `database` (under with-postgres.sh's server), with
    its own shared directory; waits until it answers. Returns (proc, port, shared dir, db url)."""
    import base64
    import http.client
    import os
    import tempfile
    import time

    admin = os.environ["CUTTLE_TEST_PG_ADMIN_URL"]
    for sql in (f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}"):
        subprocess.run(["psql", admin, "-qAtX", "-c", sql], check=True, capture_output=True)
    url = admin.rsplit("/", 1)[0] + "/" + database
    data = tempfile.mkdtemp(prefix=f"{database}-")
    port = free_port()
    proc = subprocess.Popen(
        [server, "run", "--node-name", "bench", "--listen", f"127.0.0.1:{port}", "--shared-dir",
         data, "--database", url, "--master-key", base64.b64encode(os.urandom(32)).decode(),
         "--admin-api-key", key, *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/api/octopusservernodes/ping")
            if c.getresponse().status == 200:
                return proc, port, data, url
        except OSError:
            pass
        if time.time() > deadline or proc.poll() is not None:
            stop(proc, data)
            raise RuntimeError("the node did not start")
        time.sleep(0.1)
