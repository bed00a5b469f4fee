#!/usr/bin/env bash
# CPU of one exporter per plain /metrics scrape with curl as the reader (docs/benchmarks.md,
# "Latest: round 5"): starts `kubestate sim --synthesize --preset medium` (SIM_FLAGS for more),
# the exporter (EXBIN, default target/release/kubestate; e.g. EXBIN=~/go/bin/kube-state-metrics
# SETTLE=10 for KSM, which takes the same flags) against it, waits for /readyz and SETTLE
# seconds, scrapes once to warm up, prints the CPU ticks of 5 idle seconds, then those of 10
# sequential `curl -s -o /dev/null` scrapes and the milliseconds of CPU per scrape (100 ticks/s).
# Extra arguments go to the exporter (e.g. --explorer=false).
#
#   crates/bench/scrape-cpu.sh [EXPORTER FLAGS...]
set -u
BIN=${BIN:-target/release/kubestate}
DIR=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SP=$(free_port); P=$(free_port); TP=$(free_port)
$BIN sim --synthesize --preset medium --port $SP --write-kubeconfig $DIR/kc ${SIM_FLAGS:-} > $DIR/sim.log 2>&1 & SIM=$!
for _ in $(seq 300); do [ -s $DIR/kc ] && curl -sf http://127.0.0.1:$SP/version >/dev/null && break; sleep 0.3; done
${EXBIN:-$BIN} --kubeconfig=$DIR/kc --host=127.0.0.1 --port=$P --telemetry-host=127.0.0.1 --telemetry-port=$TP "$@" > $DIR/ex.log 2>&1 & EX=$!
for _ in $(seq 300); do [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$TP/readyz)" = 200 ] && break; sleep 0.3; done
sleep ${SETTLE:-3}
curl -s -o /dev/null http://127.0.0.1:$P/metrics
st() { awk '{print $14, $15}' /proc/$EX/stat; }
read u0 s0 < <(st); sleep 5; read u1 s1 < <(st); echo "idle 5 s: user $((u1-u0)) sys $((s1-s0)) ticks"
read u0 s0 < <(st)
for i in $(seq 10); do curl -s -o /dev/null http://127.0.0.1:$P/metrics; done
read u1 s1 < <(st); echo "10 scrapes ($*): user $((u1-u0)) sys $((s1-s0)) ticks => $(( (u1-u0+s1-s0) )) ms per scrape"
kill $EX $SIM; rm -rf $DIR
