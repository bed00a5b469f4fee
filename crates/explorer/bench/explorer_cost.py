#!/usr/bin/env python3
"""What the live explorer costs the exporter: steady RSS, /metrics latency, CPU idle and
under churn, the delay of watch events reaching /metrics, with the explorer off and on; the
sampler's own CPU and pass time; and the latency of explorer queries over all pods.

    cargo build --release -p kubestate
    python3 crates/explorer/bench/explorer_cost.py --bin target/release/kubestate --preset medium

Runs `kubestate sim` with a synthesized world and the exporter against it, once with
`--explorer=false` and once with the explorer on (the default), one after the other, and
prints one line per figure. Every figure is a median over repeated readings.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../http/bench"))
from benchproc import cpu_seconds, free_port, load, simulator, steady_rss, stop, wait_ok  # noqa: E402


def get(url, timeout=120):
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = r.read()
    return time.perf_counter() - t, body


def post(url, obj):
    req = urllib.request.Request(url, json.dumps(obj).encode(), {"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()


def sampler_thread(pid):
    """The thread id of the explorer's sampler (its name is truncated to 15 bytes)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip().startswith("explorer-sampl"):
                    return tid
        except OSError:
            pass
    return None


def cpu_window(pid, tid, secs):
    """CPU seconds of the process and of thread `tid` (if any) over `secs` of wall time."""
    c0 = cpu_seconds(pid)
    t0 = cpu_seconds(pid, tid) if tid else 0.0
    time.sleep(secs)
    c1 = cpu_seconds(pid)
    t1 = cpu_seconds(pid, tid) if tid else 0.0
    return c1 - c0, t1 - t0


def watch_delays(base, sim_url, tag, n):
    """Seconds from a ConfigMap applied in the simulator to its line in /metrics, n times."""
    delays = []
    for i in range(n):
        name = f"explorer-cost-probe-{tag}-{i}"
        post(sim_url + "/_sim/apply", {"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": name, "namespace": "default"}})
        t = time.perf_counter()
        needle = f'configmap="{name}"'.encode()
        while time.perf_counter() - t < 30:
            if needle in get(base + "/metrics?resources=configmaps")[1]:
                delays.append(time.perf_counter() - t)
                break
            time.sleep(0.002)
        else:
            raise SystemExit(f"{name} did not reach /metrics in 30 s")
    return delays


def mib(b):
    return f"{b / 1048576:.1f} MiB"


def scrape_p50(base, n):
    times = [get(base + "/metrics")[0] for _ in range(n)]
    return statistics.median(times) * 1000


def run(args, sim_url, explorer):
    port, tport = free_port(), free_port()
    cmd = [args.bin, f"--apiserver={sim_url}", "--host=127.0.0.1", f"--port={port}",
           "--telemetry-host=127.0.0.1", f"--telemetry-port={tport}", f"--explorer={str(explorer).lower()}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    out = {}
    try:
        wait_ok(f"http://127.0.0.1:{tport}/readyz", 600)
        time.sleep(args.settle)
        out["rss"] = steady_rss(proc.pid, 5, 1.0)
        out["scrape_ms"] = scrape_p50(base, args.scrapes)
        tid = sampler_thread(proc.pid)
        if explorer and tid is None:
            raise SystemExit("no explorer-sampler thread in the exporter")
        out["idle_cpu"] = cpu_window(proc.pid, tid, args.idle_secs)
        if explorer:
            ov = json.loads(get(base + "/api/v1/explorer/overview")[1])
            out["idle_pass"] = (ov["sample_ms"], ov.get("sample_read"))
            out["history_bytes"] = ov["memory"]["history_bytes"]
            for name, q in [("all pods", "kube_pod_info"),
                            ("group pods by namespace", "count by (namespace) (kube_pod_status_phase == 1)"),
                            ("every pod series", '{__name__=~"kube_pod_.*"}')]:
                walls, evals, body = [], [], None
                try:
                    for _ in range(args.queries):
                        wall, raw = get(base + "/api/v1/explorer/query?limit=100&q=" + urllib.parse.quote(q))
                        body = json.loads(raw)
                        walls.append(wall * 1000)
                        evals.append(body["elapsed_ms"])
                except urllib.error.HTTPError as e:
                    # The explorer gives up on a query after 10 s (504): a figure too.
                    out[f"query {name}"] = (q, None, None, e.code, json.loads(e.read()).get("error"), None)
                    continue
                out[f"query {name}"] = (q, statistics.median(walls), statistics.median(evals),
                                        body["scanned"], body["matched"], body["truncated"])
            # Scrapes while the heaviest query runs back to back.
            done = threading.Event()

            def hammer():
                q = urllib.parse.quote('{__name__=~"kube_pod_.*"}')
                while not done.is_set():
                    try:
                        get(base + "/api/v1/explorer/query?limit=100&q=" + q)
                    except urllib.error.HTTPError:
                        pass
            t = threading.Thread(target=hammer)
            t.start()
            out["scrape_ms_during_queries"] = scrape_p50(base, args.scrapes)
            done.set()
            t.join()
        # CPU under churn: the same rate of changes with the explorer off and on.
        post(sim_url + "/_sim/churn", {"rate": args.churn})
        time.sleep(2)
        out["churn_cpu"] = cpu_window(proc.pid, tid, args.churn_secs)
        if explorer:
            ov = json.loads(get(base + "/api/v1/explorer/overview")[1])
            out["churn_pass"] = (ov["sample_ms"], ov.get("sample_read"))
        # Watch events reaching /metrics while the churn goes on.
        out["watch_delay"] = watch_delays(base, sim_url, "on" if explorer else "off", args.probes)
        post(sim_url + "/_sim/churn", {"rate": 0})
        time.sleep(2)
    finally:
        stop(proc)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/kubestate")
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--settle", type=float, default=30.0, help="idle seconds after sync before RSS")
    ap.add_argument("--scrapes", type=int, default=10)
    ap.add_argument("--queries", type=int, default=5)
    ap.add_argument("--churn", type=float, default=50.0)
    ap.add_argument("--churn-secs", type=float, default=20.0)
    ap.add_argument("--idle-secs", type=float, default=20.0)
    ap.add_argument("--probes", type=int, default=20, help="watch-delay probes per run")
    args = ap.parse_args()
    loads = [load()]
    with simulator(args.bin, args.preset) as sim:
        off = run(args, sim.url, False)
        loads.append(load())
        on = run(args, sim.url, True)
        loads.append(load())
    print(f"preset {args.preset}; load average (1, 5, 15 min) at start, between runs, at end: "
          + " | ".join(loads))
    print(f"steady RSS           explorer off {mib(off['rss'])}, on {mib(on['rss'])}, "
          f"added {mib(on['rss'] - off['rss'])} ({100 * (on['rss'] - off['rss']) / off['rss']:+.1f} %)")
    print(f"graph ring buffer    {mib(on['history_bytes'])} (after the settle window)")
    print(f"/metrics p50         off {off['scrape_ms']:.1f} ms, on {on['scrape_ms']:.1f} ms, "
          f"on while queries run {on['scrape_ms_during_queries']:.1f} ms")
    print(f"exporter CPU, {args.idle_secs:.0f} s idle   off {off['idle_cpu'][0]:.2f} s, on {on['idle_cpu'][0]:.2f} s "
          f"(sampler thread {on['idle_cpu'][1]:.2f} s)")
    print(f"exporter CPU, {args.churn_secs:.0f} s of churn at {args.churn:.0f}/s   off {off['churn_cpu'][0]:.2f} s, "
          f"on {on['churn_cpu'][0]:.2f} s (sampler thread {on['churn_cpu'][1]:.2f} s)")
    for name in ("idle_pass", "churn_pass"):
        ms, read = on[name]
        print(f"sampler pass, {name[:-5]:5}   {ms:.1f} ms wall, {read} objects read (last pass)")

    def pct(xs, q):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000
    print(f"watch event → /metrics under churn ({args.probes} ConfigMaps)   "
          f"off p50 {pct(off['watch_delay'], 0.5):.0f} ms p90 {pct(off['watch_delay'], 0.9):.0f} ms, "
          f"on p50 {pct(on['watch_delay'], 0.5):.0f} ms p90 {pct(on['watch_delay'], 0.9):.0f} ms")
    for k, v in on.items():
        if k.startswith("query "):
            q, wall, ev, scanned, matched, trunc = v
            if wall is None:
                print(f"{k:21}{q!r}: HTTP {scanned}: {matched}")
                continue
            print(f"{k:21}{q!r}: {wall:.0f} ms over HTTP, {ev:.0f} ms evaluating, "
                  f"{scanned} series read, {matched} matched{', rows capped' if trunc else ''}")


if __name__ == "__main__":
    main()
