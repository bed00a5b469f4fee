#!/usr/bin/env python3
"""Two kubestate builds side by side on one simulated world: steady RSS and the exporter's
CPU per plain `/metrics` scrape (fast reader), alternating the builds run after run.

    python3 crates/store/benches/ab_scrape.py --preset large --runs 4 --scrapes 5 \\
        /tmp/kubestate-before target/release/kubestate

For judging a change to the store on a shared, noisy machine: both builds read the same
simulator (started once, from the first build), so only the exporter differs; run `i` starts
with build `i % 2`. Each exporter gets the bench's flags (`kubestate-bench`'s: loopback ports,
`--enable-gzip-encoding`) plus `--arg`s, waits until its body has settled, idles `--idle`
seconds, then is measured as `crates/http/bench/scrape_cost.py` measures it (its `series`,
`settle` and `steady_rss`). The 1-minute load average is printed next to every figure.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "http",
                                "bench"))
from benchproc import free_port, simulator, steady_rss, stop, wait_ok  # noqa: E402
from scrape_cost import series, settle  # noqa: E402

import subprocess  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("builds", nargs=2, help="two kubestate binaries: before, after")
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--scrapes", type=int, default=10)
    ap.add_argument("--idle", type=float, default=3.0)
    ap.add_argument("--arg", action="append", default=[], help="extra exporter flag")
    args = ap.parse_args()
    results = {b: {"rss": [], "cpu": []} for b in args.builds}
    with simulator(args.builds[0], args.preset) as sim:
        size = None
        for run in range(args.runs):
            order = args.builds if run % 2 == 0 else args.builds[::-1]
            for build in order:
                port, tport = free_port(), free_port()
                cmd = [build, f"--kubeconfig={sim.kubeconfig}", "--host=127.0.0.1",
                       f"--port={port}", "--telemetry-host=127.0.0.1",
                       f"--telemetry-port={tport}", "--enable-gzip-encoding"] + args.arg
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
                try:
                    wait_ok(f"http://127.0.0.1:{port}/healthz", 600)
                    size = size or settle(port, 900, None)
                    settle(port, 900, size)
                    time.sleep(args.idle)
                    rss = steady_rss(proc.pid) / 1048576
                    cpu, wall, got, faults, system = series(proc.pid, port, "fast",
                                                            args.scrapes)
                    results[build]["rss"].append(rss)
                    results[build]["cpu"].append(cpu)
                    print(f"run {run + 1} {build}: steady RSS {rss:.1f} MiB, CPU per scrape "
                          f"{cpu * 1000:.1f} ms ({system * 1000:.1f} ms in the kernel), wall "
                          f"{wall * 1000:.1f} ms, {got / 1048576:.1f} MiB, load "
                          f"{os.getloadavg()[0]:.2f}", flush=True)
                finally:
                    stop(proc)
    a, b = args.builds
    print(f"\npreset {args.preset}, {args.runs} runs, {args.scrapes} scrapes each; medians")
    for what, unit, scale in [("rss", "MiB", 1), ("cpu", "ms", 1000)]:
        ma = statistics.median(results[a][what]) * scale
        mb = statistics.median(results[b][what]) * scale
        print(f"{what}: {a} {ma:.1f} {unit}, {b} {mb:.1f} {unit}, after/before {mb / ma:.3f}")


if __name__ == "__main__":
    main()
