#!/usr/bin/env python3
"""Issue 4 benchmark: a 1 GiB package through one node (SQLite, storage on local disk).

Prints, beside their peers on the same disk and the targets:
  - upload MB/s (curl -F of a file in /dev/shm, multipart, streamed to a temp file, hashed,
    fsynced, renamed) beside
    `dd if=/dev/zero bs=1M count=1024 conv=fsync` writing the same size (target >= 60 %);
  - download MB/s (curl of /raw) beside `cat` reading the stored file (target >= 70 %);
  - the node's peak RSS growth during the upload, sampling /proc/PID/status every 5 ms
    (target <= 32 MiB), and VmHWM's growth as a cross-check.
As root the page cache is dropped before dd, the upload, cat and the download, so all four
measure the disk as the issue asks ("on the same disk"); otherwise reads come from a warm cache.

Usage: bench/package_bench.py BUILD_DIR [SIZE_MIB]   (BENCH_ROUNDS, default 5)
"""
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import free_port, status_kib, stop

build = sys.argv[1] if len(sys.argv) > 1 else "build"
size_mib = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
server = os.path.join(build, "src/apps/cuttle-server")
KEY = "API-PACKAGEBENCHMARKKEY000000001"


def cpu_seconds(pid):
    """User + system CPU time of a process so far (clock ticks in /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(port, proc):
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"cuttle-server exited: {proc.stdout.read()}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/api/octopusservernodes/ping")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit("cuttle-server did not become ready")


def timed(cmd):
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {out.stderr}")
    return elapsed, out.stdout


def drop_caches():
    """Empties the page cache so that reads come from the disk (root only); False if it cannot."""
    subprocess.run(["sync"], check=True)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def main():
    size = size_mib * 1024 * 1024
    # Beside the build directory: the same disk the developer's checkout is on.
    work = tempfile.mkdtemp(prefix="cuttle-pkg-bench-", dir=os.path.abspath(build))
    shared = os.path.join(work, "shared")
    os.makedirs(shared)
    # The client's copy of the package lives in memory (/dev/shm), as it would on the build server
    # that pushes it: with it on the disk under test, and the cache dropped, each upload would make
    # that disk read 1 GiB while writing 1 GiB, where dd only writes. BENCH_CLIENT_FILE_ON_DISK=1
    # keeps it beside the storage instead (the method before session 3).
    client_dir = work
    on_disk = os.environ.get("BENCH_CLIENT_FILE_ON_DISK") == "1"
    if not on_disk and os.path.isdir("/dev/shm") and shutil.disk_usage("/dev/shm").free > 2 * size:
        client_dir = tempfile.mkdtemp(prefix="cuttle-pkg-bench-client-", dir="/dev/shm")
    pkg = os.path.join(client_dir, "Bench.Package.1.0.0.tar")
    # A tar whose first block is an empty header, then random bytes: readable by the archive check,
    # incompressible like a real package.
    with open(pkg, "wb") as f:
        f.write(b"\0" * 512)
        left = size - 512
        while left > 0:
            n = min(left, 8 << 20)
            f.write(os.urandom(n))
            left -= n

    port = free_port()
    proc = subprocess.Popen([server, "run", "--node-name", "bench", "--listen", f"127.0.0.1:{port}",
                             "--shared-dir", shared, "--admin-api-key", KEY,
                             "--max-package-size", "4GiB"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_ready(port, proc)
        mb = size / 1e6

        rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
        dd_runs, up_runs, cat_runs, down_runs = [], [], [], []
        rss_growth = hwm_growth = up_cpu = down_cpu = 0.0
        cold = False
        # The peers and Cuttle alternate, so that both see the same background load; the median
        # of the rounds is reported.
        for _ in range(rounds):
            # Peer: dd writing the same size with an fsync at the end, as the upload does.
            dd_file = os.path.join(work, "dd.bin")
            drop_caches()
            t, _ = timed(["dd", "if=/dev/zero", f"of={dd_file}", "bs=1M", f"count={size_mib}",
                          "conv=fsync", "status=none"])
            dd_runs.append(mb / t)
            os.unlink(dd_file)
            subprocess.run(["sync"], check=True)

            # Upload, sampling the node's RSS meanwhile.
            base_rss = status_kib(proc.pid, "VmRSS")
            base_hwm = status_kib(proc.pid, "VmHWM")
            peak = [base_rss]
            done = threading.Event()

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], status_kib(proc.pid, "VmRSS"))
                    time.sleep(0.005)

            sampler = threading.Thread(target=sample)
            sampler.start()
            drop_caches()
            cpu_before = cpu_seconds(proc.pid)
            t, out = timed(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                            f"X-Octopus-ApiKey: {KEY}", "-F", f"fileToUpload=@{pkg}",
                            f"http://127.0.0.1:{port}/api/Spaces-1/packages/raw"
                            "?overwriteMode=OverwriteExisting"])
            done.set()
            sampler.join()
            if out.strip() != "201":
                sys.exit(f"upload answered {out}")
            up_runs.append(mb / t)
            up_cpu = max(up_cpu, cpu_seconds(proc.pid) - cpu_before)
            rss_growth = max(rss_growth, (peak[0] - base_rss) / 1024)
            hwm_growth = max(hwm_growth, (status_kib(proc.pid, "VmHWM") - base_hwm) / 1024)

            stored_dir = os.path.join(shared, "packages", "spaces-1")
            stored = os.path.join(stored_dir, [f for f in os.listdir(stored_dir)
                                               if f.startswith("Bench.Package")][0])
            # Peer: cat reading the stored file from the disk; then the download of it, also from
            # the disk (with a warm cache both would only measure memory copies).
            cold = drop_caches()
            t, _ = timed(["sh", "-c", f"cat '{stored}' > /dev/null"])
            cat_runs.append(mb / t)
            drop_caches()
            cpu_before = cpu_seconds(proc.pid)
            t, out = timed(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                            "-H", f"X-Octopus-ApiKey: {KEY}",
                            f"http://127.0.0.1:{port}/api/Spaces-1/packages/"
                            "packages-Bench.Package.1.0.0/raw"])
            code, got = out.split()
            if code != "200" or int(got) != size:
                sys.exit(f"download answered {out}")
            down_runs.append(mb / t)
            down_cpu = max(down_cpu, cpu_seconds(proc.pid) - cpu_before)

        median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        dd_mbs, up_mbs = median(dd_runs), median(up_runs)
        cat_mbs, down_mbs = median(cat_runs), median(down_runs)

        def row(name, ours, peer_name, peer, target):
            pct = 100 * ours / peer
            verdict = "ok" if pct >= target else "BELOW TARGET"
            print(f"  {name:<9} {ours:8.0f} MB/s   {peer_name:<4} {peer:8.0f} MB/s   "
                  f"{pct:5.1f} %  (target >= {target} %) {verdict}")

        print(f"package of {size_mib} MiB, one node, median of {rounds} alternating rounds, storage "
              f"{shared}; reads "
              f"{'from the disk (page cache dropped)' if cold else 'from a warm page cache (not root)'}; "
              f"the client's file in {'memory (/dev/shm)' if client_dir != work else 'the same directory'}")
        row("upload", up_mbs, "dd", dd_mbs, 60)
        row("download", down_mbs, "cat", cat_mbs, 70)
        runs = lambda xs: " ".join(f"{x:.0f}" for x in xs)  # noqa: E731
        print(f"  rounds (MB/s): dd {runs(dd_runs)} | upload {runs(up_runs)} | cat {runs(cat_runs)} | "
              f"download {runs(down_runs)}")
        print(f"  node CPU time: upload {up_cpu:.2f} s, download {down_cpu:.2f} s; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other load skews MB/s)")
        verdict = "ok" if rss_growth <= 32 else "ABOVE TARGET"
        print(f"  peak RSS growth during upload: {rss_growth:.1f} MiB sampled, "
              f"{hwm_growth:.1f} MiB VmHWM (target <= 32 MiB) {verdict}")
    finally:
        stop(proc, work, client_dir, timeout=15)


if __name__ == "__main__":
    main()
