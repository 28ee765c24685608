#!/usr/bin/env python3
"""Issue 9 benchmark, "hostile neighbours": one node on SQLite.

Measures GET /api/octopusservernodes/ping latency (a fresh connection per probe, as a load
balancer sends it) three ways and prints them side by side with the node's RSS growth:
  alone; with 64 slow package uploads in flight (100 KB/s each); with 1,000 idle keyless
  connections open. Target: p99 with neighbours <= 3x p99 alone, RSS growth <= 64 MiB.

Usage: bench/hostile_bench.py BUILD_DIR [PROBES]
"""
import http.client
import multiprocessing
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import free_port, status_kib, stop

build = sys.argv[1] if len(sys.argv) > 1 else "build"
probes = int(sys.argv[2]) if len(sys.argv) > 2 else 500
server = os.path.join(build, "src/apps/cuttle-server")
KEY = "API-HOSTILEBENCHKEY00000000000001"
UPLOADS = 64
IDLE = 1000


def ping_ms(port):
    start = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/api/octopusservernodes/ping")
    r = c.getresponse()
    r.read()
    c.close()
    if r.status != 200:
        raise RuntimeError(f"ping answered {r.status}")
    return (time.perf_counter() - start) * 1000


def measure(port, pid, peak):
    samples = []
    for _ in range(probes):
        samples.append(ping_ms(port))
        peak[0] = max(peak[0], status_kib(pid))
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def send_slow_uploads(port, ready, stop):
    """UPLOADS connections, each sending a multipart package body at 100 KB/s (10 KB / 100 ms).
    Runs in its own process so that the probe's latency does not include the bench's GIL."""
    boundary = "benchboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"Slow.1.0.0.zip\"\r\nContent-Type: application/octet-stream\r\n\r\n")
    request = (f"POST /api/Spaces-1/packages/raw HTTP/1.1\r\nHost: bench\r\n"
               f"X-Octopus-ApiKey: {KEY}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
               f"Content-Length: {1 << 30}\r\n\r\n{head}").encode()
    socks = []
    for _ in range(UPLOADS):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(request)
        socks.append(s)
    ready.set()
    piece = b"z" * 10 * 1024
    while not stop.wait(0.1):
        for s in socks:
            try:
                s.send(piece, socket.MSG_DONTWAIT)
            except OSError:
                pass
    for s in socks:
        s.close()


class SlowUploads:
    def __init__(self, port):
        self.ready = multiprocessing.Event()
        self.stop = multiprocessing.Event()
        self.proc = multiprocessing.Process(target=send_slow_uploads,
                                            args=(port, self.ready, self.stop))
        self.proc.start()
        self.ready.wait(30)

    def close(self):
        self.stop.set()
        self.proc.join()


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < IDLE + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, IDLE + 1024), hard))
    data = tempfile.mkdtemp(prefix="cuttle-hostile-bench-")
    port = free_port()
    proc = subprocess.Popen(
        [server, "run", "--node-name", "bench", "--listen", f"127.0.0.1:{port}", "--shared-dir",
         data, "--admin-api-key", KEY],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while True:
            try:
                ping_ms(port)
                break
            except (OSError, RuntimeError):
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        for _ in range(200):  # warm up
            ping_ms(port)
        time.sleep(1)
        base = status_kib(proc.pid)
        peak = [base]
        rows = []
        rows.append(("alone", *measure(port, proc.pid, peak)))

        uploads = SlowUploads(port)
        time.sleep(1.0)  # every upload reaches its handler
        rows.append((f"{UPLOADS} slow uploads (100 KB/s each)", *measure(port, proc.pid, peak)))
        uploads.close()
        time.sleep(1.0)

        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(IDLE)]
        time.sleep(0.5)
        rows.append((f"{IDLE} idle keyless connections", *measure(port, proc.pid, peak)))
        for s in idle:
            s.close()

        alone_p99 = rows[0][2]
        print(f"ping latency, {probes} probes per column, a fresh connection per probe")
        print(f"{'':40} {'p50 ms':>8} {'p99 ms':>8} {'p99/alone':>10}   target p99/alone")
        for name, p50, p99 in rows:
            print(f"{name:40} {p50:8.2f} {p99:8.2f} {p99 / alone_p99:10.2f}   <= 3.00")
        growth = (peak[0] - base) / 1024
        print(f"{'node RSS growth (peak - idle)':40} {growth:8.1f} MiB{'':13} <= 64 MiB"
              f"   (idle {base / 1024:.1f} MiB)")
    finally:
        stop(proc, data)


if __name__ == "__main__":
    main()
