#!/usr/bin/env python3
"""Instructions of one explorer sampling pass, counted by callgrind: a figure that does not
depend on the machine's load, to compare two builds of the sampler.

    cargo build --release -p kubestate
    python3 crates/explorer/bench/sampler_callgrind.py --bin target/release/kubestate --preset medium

Runs `kubestate sim` with a synthesized world natively and the exporter under callgrind with
instrumentation off until its initial sync is over (`--instr-atstart=no`), then turns it on.
Callgrind dumps its counters right after every pass (`--dump-after` on the sampler's `tick`,
which is never inlined), one file per thread (`--separate-threads=yes`), so the sampler thread's
file of each dump holds exactly one pass. The script prints the instructions of the passes
idle, then with the simulator's churn on, and their medians.
"""

import argparse
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../http/bench"))
from benchproc import free_port, simulator, stop, wait_ok  # noqa: E402
from explorer_cost import post  # noqa: E402


def passes(out):
    """Instructions of the sampler thread per dump, by dump number."""
    found = {}
    for path in glob.glob(out + ".*"):
        m = re.search(r"\.(\d+)-(\d+)$", path)
        if not m:
            continue
        with open(path, errors="replace") as f:
            text = f.read()
        if "Sampler::tick" not in text:
            continue
        total = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
        if total:
            n = int(m.group(1))
            found[n] = max(found.get(n, 0), int(total.group(1)))
    return found


def collect(out, after, count, timeout):
    """Waits for `count` dumps numbered above `after`; returns {dump: instructions}."""
    end = time.time() + timeout
    while time.time() < end:
        got = {n: ir for n, ir in passes(out).items() if n > after}
        if len(got) >= count:
            return dict(sorted(got.items())[:count])
        time.sleep(2)
    raise SystemExit(f"only {len(got)} sampler passes in {timeout} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/kubestate")
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--passes", type=int, default=5, help="passes counted idle and under churn")
    ap.add_argument("--churn", type=float, default=50.0)
    ap.add_argument("--timeout", type=float, default=3600.0)
    args = ap.parse_args()
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        raise SystemExit("needs valgrind (apt-get install valgrind)")
    tmp = tempfile.mkdtemp(prefix="sampler-callgrind-")
    out = os.path.join(tmp, "cg.out")
    port, tport = free_port(), free_port()
    with simulator(args.bin, args.preset) as sim:
        vg = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes",
             "--dump-after=*Sampler::tick", f"--callgrind-out-file={out}",
             args.bin, f"--apiserver={sim.url}", "--host=127.0.0.1", f"--port={port}",
             "--telemetry-host=127.0.0.1", f"--telemetry-port={tport}"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "valgrind.log"), "w"))
        try:
            wait_ok(f"http://127.0.0.1:{tport}/readyz", args.timeout)
            subprocess.run(["callgrind_control", "-i", "on", str(vg.pid)], check=True,
                           stdout=subprocess.DEVNULL)
            # The first pass after instrumentation starts may be partial: skip it.
            first = collect(out, 0, 1, args.timeout)
            idle = collect(out, max(first), args.passes, args.timeout)
            post(sim.url + "/_sim/churn", {"rate": args.churn})
            skip = collect(out, max(idle), 1, args.timeout)
            churn = collect(out, max(skip), args.passes, args.timeout)
            post(sim.url + "/_sim/churn", {"rate": 0})
        finally:
            stop(vg)
    print(f"preset {args.preset}, {args.bin}")
    for name, got in (("idle", idle), (f"churn {args.churn:.0f}/s", churn)):
        irs = list(got.values())
        print(f"sampler pass, {name:12} median {statistics.median(irs):,.0f} instructions "
              f"(passes: {', '.join(f'{i:,}' for i in irs)})")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
