#!/usr/bin/env python3
"""The exporter's own CPU per plain `/metrics` scrape, kubestate against kube-state-metrics,
with a fast reader and with a slow one, and (optionally) the system calls per scrape.

    cargo build --release -p kubestate
    python3 crates/http/bench/scrape_cost.py --preset medium --scrapes 20 --strace

Runs `kubestate sim` with a synthesized world, then each exporter against it (kubestate, then
KSM from `~/go/bin/kube-state-metrics` unless `--no-ksm`; the order alternates over `--runs`).
Once an exporter's body has stopped growing it is scraped `--scrapes` times back to back by
each reader:

* fast: one raw socket per scrape, `recv_into` a 1 MiB buffer until the server closes
  (`Connection: close`), nothing else done with the bytes;
* slow: `http.client` on a kept-alive connection reading the body line by line with
  `readline()`, as a line-oriented Python consumer does (about a second per 80 MiB body).

Steady RSS (median of five readings) is printed before the scrapes and after them. The
figure is the exporter's CPU (utime + stime of `/proc/PID/stat`, all its threads) over the
scrapes, divided by their number; the exporter is otherwise idle. With `--strace`, a second
series of scrapes runs with `strace -f -c` attached to the exporter and its system calls per
scrape are printed (strace slows the exporter, so CPU is not taken from that series).
"""

import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

from benchproc import (cpu_split, free_port, minor_faults, simulator, steady_rss, stop,
                       wait_ok)


REQUEST = ("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n"
           "User-Agent: scrape-cost\r\n{}\r\n")


def fast_scrape(port):
    """One scrape read as fast as Python can: bytes received (headers and chunk framing
    included)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    s.sendall(REQUEST.format("Connection: close\r\n").encode())
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    total = 0
    while True:
        n = s.recv_into(view)
        if n == 0:
            break
        total += n
    s.close()
    return total


class SlowReader:
    """A kept-alive `http.client` connection reading bodies line by line."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def scrape(self):
        self.conn.request("GET", "/metrics", headers={"Accept": "text/plain"})
        r = self.conn.getresponse()
        total = 0
        while True:
            line = r.readline()
            if not line:
                break
            total += len(line)
        return total

    def close(self):
        self.conn.close()


def settle(port, timeout, reference):
    """Waits until three scrapes 1.5 s apart return bodies of the same size (the initial sync
    is over), within 2 % of `reference` (the size another exporter settled at) if given;
    returns that size."""
    end = time.time() + timeout
    last = []
    while time.time() < end:
        try:
            n = fast_scrape(port)
        except OSError:
            n = -1
        last = (last + [n])[-3:]
        if len(last) == 3 and len(set(last)) == 1 and n > 1000 and (
                not reference or abs(n - reference) < 0.02 * reference):
            return n
        time.sleep(1.5)
    raise SystemExit("the exporter's body did not settle")


def series(pid, port, reader, n):
    """`n` scrapes by `reader`: (CPU seconds per scrape, wall seconds per scrape, bytes, minor
    page faults per scrape, system CPU seconds per scrape)."""
    slow = SlowReader(port) if reader == "slow" else None
    one = slow.scrape if slow else (lambda: fast_scrape(port))
    one()  # warm-up (connection, first-use allocations)
    f0, (u0, s0), t0 = minor_faults(pid), cpu_split(pid), time.perf_counter()
    sizes = [one() for _ in range(n)]
    t1, (u1, s1), f1 = time.perf_counter(), cpu_split(pid), minor_faults(pid)
    if slow:
        slow.close()
    cpu = (u1 + s1 - u0 - s0) / n
    return cpu, (t1 - t0) / n, statistics.median(sizes), (f1 - f0) / n, (s1 - s0) / n


def straced(pid, port, reader, n):
    """System calls per scrape over `n` scrapes, from `strace -f -c -p PID`."""
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        st = subprocess.Popen(["strace", "-f", "-c", "-p", str(pid), "-o", out.name],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        slow = SlowReader(port) if reader == "slow" else None
        for _ in range(n):
            slow.scrape() if slow else fast_scrape(port)
        if slow:
            slow.close()
        time.sleep(0.5)
        st.send_signal(signal.SIGINT)
        st.wait(timeout=60)
        calls = {}
        for line in out.read().splitlines():
            parts = line.split()
            # % time, seconds, usecs/call, calls, [errors], syscall
            if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                try:
                    calls[parts[-1]] = int(parts[3])
                except ValueError:
                    pass
        return {k: v / n for k, v in sorted(calls.items(), key=lambda kv: -kv[1])}


def run_exporter(name, cmd, args, results, env=None):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    port = int(next(a for a in cmd if a.startswith("--port=")).split("=")[1])
    try:
        wait_ok(f"http://127.0.0.1:{port}/healthz", 600)
        size = settle(port, 900, results.get("size"))
        results.setdefault("size", size)
        time.sleep(args.idle)
        rss = steady_rss(proc.pid) / 1048576
        results.setdefault((name, "rss"), []).append(rss)
        print(f"  {name:9} steady RSS {rss:.1f} MiB", flush=True)
        for reader in args.readers:
            cpu, wall, got, faults, system = series(proc.pid, port, reader, args.scrapes)
            results.setdefault((name, reader), []).append((cpu, wall, got, os.getloadavg()[0]))
            print(f"  {name:9} {reader:4} reader: {cpu * 1000:8.1f} ms CPU ({system * 1000:.1f} ms "
                  f"in the kernel), {wall * 1000:8.1f} ms wall, "
                  f"{faults:.0f} minor faults per scrape, {got / 1048576:.1f} MiB received, "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
            if args.strace:
                calls = straced(proc.pid, port, reader, args.strace_scrapes)
                results.setdefault((name, reader, "strace"), []).append(calls)
                total = sum(calls.values())
                top = ", ".join(f"{k} {v:.0f}" for k, v in list(calls.items())[:8])
                print(f"  {name:9} {reader:4} reader: {total:.0f} system calls per scrape ({top})",
                      flush=True)
        if args.readers:
            print(f"  {name:9} RSS after the scrapes {steady_rss(proc.pid) / 1048576:.1f} MiB",
                  flush=True)
    finally:
        stop(proc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default="target/release/kubestate")
    ap.add_argument("--ksm", default=os.path.expanduser("~/go/bin/kube-state-metrics"))
    ap.add_argument("--no-ksm", action="store_true")
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--scrapes", type=int, default=20)
    ap.add_argument("--readers", default="fast,slow")
    ap.add_argument("--idle", type=float, default=3.0, help="idle seconds before the scrapes")
    ap.add_argument("--strace", action="store_true", help="also count system calls per scrape")
    ap.add_argument("--strace-scrapes", type=int, default=3)
    ap.add_argument("--kubestate-env", action="append", default=[],
                    help="KEY=VALUE in kubestate's environment (repeatable), e.g. LD_PRELOAD=...")
    ap.add_argument("--kubestate-arg", action="append", default=[],
                    help="extra flag for kubestate (repeatable), e.g. --kubestate-arg=--explorer=false")
    args = ap.parse_args()
    args.readers = [r for r in args.readers.split(",") if r]
    if args.strace and not shutil.which("strace"):
        raise SystemExit("--strace needs strace")
    exporters = ["kubestate"]
    if not args.no_ksm:
        if not os.path.exists(args.ksm):
            raise SystemExit(f"no kube-state-metrics at {args.ksm} (or pass --no-ksm)")
        exporters.append("ksm")
    results = {}
    with simulator(args.bin, args.preset) as sim:
        for run in range(args.runs):
            order = exporters if run % 2 == 0 else exporters[::-1]
            for name in order:
                port, tport = free_port(), free_port()
                common = [f"--kubeconfig={sim.kubeconfig}", "--host=127.0.0.1", f"--port={port}",
                          "--telemetry-host=127.0.0.1", f"--telemetry-port={tport}"]
                env = None
                if name == "kubestate":
                    cmd = [args.bin] + common + args.kubestate_arg
                    env = dict(os.environ)
                    env.update(kv.split("=", 1) for kv in args.kubestate_env)
                else:
                    cmd = [args.ksm] + common
                print(f"run {run + 1}, {name}, load {os.getloadavg()[0]:.2f}", flush=True)
                run_exporter(name, cmd, args, results, env)
    print(f"\npreset {args.preset}, {args.scrapes} scrapes per reader, {args.runs} run(s); "
          "medians over runs")
    ks_rss = statistics.median(results[("kubestate", "rss")])
    line = f"steady RSS: kubestate {ks_rss:.1f} MiB"
    if ("ksm", "rss") in results:
        ksm_rss = statistics.median(results[("ksm", "rss")])
        line += f", KSM {ksm_rss:.1f} MiB, kubestate/KSM {ks_rss / ksm_rss:.3f}"
    print(line)
    for reader in args.readers:
        ks = results.get(("kubestate", reader), [])
        kc = results.get(("ksm", reader), [])
        line = f"{reader:4} reader: kubestate {statistics.median(r[0] for r in ks) * 1000:.1f} ms"
        if kc:
            ksm_cpu = statistics.median(r[0] for r in kc)
            line += (f", KSM {ksm_cpu * 1000:.1f} ms, kubestate/KSM "
                     f"{statistics.median(r[0] for r in ks) / ksm_cpu:.3f}")
        print(line + " CPU per scrape")


if __name__ == "__main__":
    main()
