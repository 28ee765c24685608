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
