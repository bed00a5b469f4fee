#!/bin/bash
# Memory of the exporter and the check run separately vs. one process
# (`kubestate check --serve-metrics`), over the same simulated cluster, every label exposed
# (`--metric-labels-allowlist=*=[*]`) in all three. Peak (VmHWM) and current RSS after the
# check made 3 runs (datadog preset, file output) and /metrics was scraped once.
# Usage: docs/one-process-memory.sh path/to/kubestate [small|medium|large]
# Scratch files go to /tmp/wtc-mem.
set -u
BIN=$1; PRESET=${2:-medium}
D=/tmp/wtc-mem; rm -rf $D/out-*; mkdir -p $D
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
SIM=$(port)
$BIN sim --synthesize --preset $PRESET --port $SIM > $D/sim.log 2>&1 &
SIMPID=$!
for i in $(seq 1 600); do curl -sf http://127.0.0.1:$SIM/version >/dev/null && break; sleep 1; done
cat > $D/check.yaml <<Y
preset: datadog
interval: 10s
sinks:
  - {type: file, directory: $D/out-DIR, keep: 1}
Y
ALLOW='--metric-labels-allowlist=*=[*]'
rss() { grep -E 'VmRSS|VmHWM' /proc/$1/status | awk '{printf "%s %d MiB  ", $1, $2/1024}'; echo; }
ready() { for i in $(seq 1 900); do curl -sf "$1" >/dev/null && return 0; sleep 1; done; return 1; }
runs() { for i in $(seq 1 900); do n=$(curl -s "$1" | awk '/^kubestate_check_runs_total/{print $2}'); [ "${n:-0}" -ge "$2" ] && return 0; sleep 1; done; return 1; }

# 1. exporter alone
P1=$(port); T1=$(port)
$BIN --apiserver http://127.0.0.1:$SIM --host 127.0.0.1 --port $P1 --telemetry-host 127.0.0.1 --telemetry-port $T1 "$ALLOW" > $D/exp.log 2>&1 &
E=$!; ready http://127.0.0.1:$T1/readyz; curl -s http://127.0.0.1:$P1/metrics | wc -c > $D/exp.bytes; sleep 2
echo -n "exporter alone:        "; rss $E; kill $E; wait $E 2>/dev/null

# 2. check alone
C2=$(port); sed "s/DIR/check/" $D/check.yaml > $D/c2.yaml
$BIN check --config $D/c2.yaml --telemetry-listen 127.0.0.1:$C2 -- --apiserver http://127.0.0.1:$SIM "$ALLOW" > $D/check.log 2>&1 &
C=$!; runs http://127.0.0.1:$C2/metrics 3
echo -n "check alone:           "; rss $C; kill $C; wait $C 2>/dev/null

# 3. one process
P3=$(port); T3=$(port); C3=$(port); sed "s/DIR/one/" $D/check.yaml > $D/c3.yaml
$BIN check --serve-metrics --config $D/c3.yaml --telemetry-listen 127.0.0.1:$C3 -- --apiserver http://127.0.0.1:$SIM --host 127.0.0.1 --port $P3 --telemetry-host 127.0.0.1 --telemetry-port $T3 "$ALLOW" > $D/one.log 2>&1 &
O=$!; runs http://127.0.0.1:$C3/metrics 3; curl -s http://127.0.0.1:$P3/metrics | wc -c > $D/one.bytes; sleep 2
echo -n "one process:           "; rss $O; kill $O; wait $O 2>/dev/null
echo "metrics bytes: exporter $(cat $D/exp.bytes), one process $(cat $D/one.bytes)"
grep -h "check run complete" $D/check.log | tail -1
grep -h "check run complete" $D/one.log | tail -1
kill $SIMPID; wait $SIMPID 2>/dev/null
