"""What the Python benchmarks share: free loopback ports, waiting for a server, a `kubestate
sim` process, a stopped exporter, and a process's CPU, memory and page faults read from
`/proc` (Linux only).

Used by `scrape_cost.py` here and by `crates/explorer/bench/*.py` (which put this directory
on `sys.path`). Python's standard library only.
"""

import collections
import contextlib
import os
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_ok(url, timeout):
    """Polls `url` every 0.2 s until it answers 200; exits the script after `timeout` s."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {url}")


Simulator = collections.namedtuple("Simulator", "url kubeconfig")


@contextlib.contextmanager
def simulator(binary, preset, timeout=900):
    """`kubestate sim --synthesize --preset PRESET` on a free port, serving: yields its URL and
    the path of a kubeconfig for it, and stops it on leaving."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="benchproc-") as tmp:
        kubeconfig = os.path.join(tmp, "kubeconfig")
        sim = subprocess.Popen([binary, "sim", "--synthesize", "--preset", preset, f"--port={port}",
                                "--write-kubeconfig", kubeconfig],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ok(url + "/version", timeout)
            end = time.time() + 30
            while not os.path.exists(kubeconfig) and time.time() < end:
                time.sleep(0.1)
            yield Simulator(url, kubeconfig)
        finally:
            sim.terminate()
            sim.wait()


def stop(proc, timeout=30):
    """Terminates `proc`, killing it if it has not exited after `timeout` s."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _stat_fields(pid, tid=None):
    """The fields of `/proc/PID/stat` (or of thread `tid`) after the command name."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    with open(path) as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_split(pid, tid=None):
    """(user, system) CPU seconds of the process (all its threads), or of one thread."""
    fields = _stat_fields(pid, tid)
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid, tid=None):
    """User plus system CPU seconds of the process, or of one thread."""
    return sum(cpu_split(pid, tid))


def minor_faults(pid):
    """Minor page faults of the process so far."""
    return int(_stat_fields(pid)[7])


def rss_bytes(pid):
    """Resident set size (`VmRSS`) in bytes; 0 when the kernel does not say."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def steady_rss(pid, readings=5, every=0.5):
    """Median of `readings` RSS readings `every` seconds apart, in bytes."""
    values = []
    for _ in range(readings):
        values.append(rss_bytes(pid))
        time.sleep(every)
    return statistics.median(values)


def load():
    """The 1, 5 and 15 minute load averages, as `/proc/loadavg` writes them."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


if __name__ == "__main__":
    # A self-check against this very process: the readings are plausible.
    me = os.getpid()
    busy_until = time.process_time() + 0.2
    while time.process_time() < busy_until:
        pass
    assert cpu_seconds(me) >= 0.1, cpu_split(me)
    assert rss_bytes(me) > 1 << 20 and steady_rss(me, 2, 0.01) > 1 << 20
    assert minor_faults(me) > 0
    assert len(load().split()) == 3
    port = free_port()
    assert 0 < port < 65536
    print("benchproc: ok")
