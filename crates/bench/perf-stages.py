#!/usr/bin/env python3
"""Where an exporter's CPU time went, by pipeline stage, from `perf script` output on stdin.

Each sample (a call stack, leaf first) is charged to the innermost frame that belongs to a
kubestate crate, so that the allocator, memcpy or a system call is charged to the stage that
asked for it: decode (kubestate_objects), render (kubestate_families, kubestate_metric),
store, explorer, engine, watch, http. Samples with no kubestate frame are the HTTP client
(hyper), the async runtime (tokio) or other. Each stage is split into kernel time, time in
the allocator (malloc, free and their internals as the leaf) and the rest.
Used by crates/bench/churn-callgrind.sh with TOOL=perf.
"""
import collections
import sys

STAGES = [
    ("decode", ("kubestate_objects::", "kubestate_gotime::")),
    ("render", ("kubestate_families::", "kubestate_metric::")),
    ("store", ("kubestate_store::",)),
    ("explorer", ("kubestate_explorer::",)),
    ("engine", ("kubestate_engine::",)),
    ("watch", ("kubestate_watch::",)),
    ("http", ("kubestate_http::",)),
]
ALLOC = ("malloc", "free", "_int_", "tcache", "realloc", "consolidate", "unlink_chunk", "__rdl_", "__rust_alloc", "__rust_dealloc")


def samples(lines):
    cur = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if cur:
                yield cur
            cur = []
        else:
            cur.append(line)
    if cur:
        yield cur


def stage(frames):
    for f in frames:
        for name, pats in STAGES:
            if any(p in f for p in pats):
                return name
    joined = " ".join(frames)
    if "hyper" in joined or "h2::" in joined:
        return "http client (hyper)"
    if "tokio" in joined:
        return "runtime (tokio)"
    return "other"


def main():
    total = collections.Counter()
    split = collections.Counter()
    n = 0
    for s in samples(sys.stdin):
        frames = s[1:]
        st = stage(frames)
        leaf = frames[0] if frames else ""
        part = "kernel" if "[kernel" in leaf else "alloc" if any(a in leaf for a in ALLOC) else "user"
        total[st] += 1
        split[(st, part)] += 1
        n += 1
    if n == 0:
        print("no samples")
        return
    print(f"{n} samples")
    print(f"{'stage':22s} {'share':>6s} {'kernel':>7s} {'alloc':>6s} {'rest':>6s}")
    for st, k in total.most_common():
        print(f"{st:22s} {100 * k / n:5.1f}% {100 * split[(st, 'kernel')] / n:6.1f}% "
              f"{100 * split[(st, 'alloc')] / n:5.1f}% {100 * split[(st, 'user')] / n:5.1f}%")
    k = sum(v for (st, part), v in split.items() if part == "kernel")
    a = sum(v for (st, part), v in split.items() if part == "alloc")
    print(f"{'all stages':22s} {100.0:5.1f}% {100 * k / n:6.1f}% {100 * a / n:5.1f}% {100 * (n - k - a) / n:5.1f}%")


if __name__ == "__main__":
    main()
