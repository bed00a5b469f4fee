#!/usr/bin/env bash
# Instruction profile of kubestate's watch path under churn (docs/benchmarks.md, "Round 3").
#
# Starts the simulator (not profiled) and the exporter under callgrind with instrumentation off (the sync runs at near native speed),
# waits for the initial sync, turns instrumentation on, drives STEPS churn changes in batches of
# BATCH every PAUSE seconds (about 50 changes/s, as kubestate-bench does), waits for the
# exporter to go idle, and dumps the profile. Prints the instructions per watch event.
#
#   crates/bench/churn-callgrind.sh [BIN] [PRESET] [STEPS] [OUT]
#   callgrind_annotate --inclusive=yes OUT | head -60
#
# BIN defaults to target/release/kubestate; SIM_BIN (default BIN) serves the world, so that two
# exporter builds can be profiled on the same simulator; extra exporter flags go in KUBESTATE_FLAGS
# (e.g. KUBESTATE_FLAGS=--explorer=false to leave the explorer's sampler out). With SYNC=1 the
# profile is of the start-up and initial sync instead (instrumented from the start, dumped
# once /readyz answers 200), and no churn is driven.
set -euo pipefail
BIN=${1:-target/release/kubestate}
PRESET=${2:-medium}
STEPS=${3:-500}
OUT=${4:-/tmp/churn.callgrind}
BATCH=${BATCH:-5}
PAUSE=${PAUSE:-0.1}
DIR=$(mktemp -d)
trap 'kill $SIM_PID $EXP_PID 2>/dev/null || true; rm -rf "$DIR"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SIM_PORT=$(free_port)
PORT=$(free_port)
TPORT=$(free_port)

"${SIM_BIN:-$BIN}" sim --synthesize --preset "$PRESET" --port "$SIM_PORT" \
    --write-kubeconfig "$DIR/kubeconfig" >"$DIR/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 600); do [ -s "$DIR/kubeconfig" ] && curl -sf "http://127.0.0.1:$SIM_PORT/version" >/dev/null && break; sleep 0.5; done

# shellcheck disable=SC2086
INSTR=no
[ "${SYNC:-0}" = 1 ] && INSTR=yes
valgrind --tool=callgrind --instr-atstart=$INSTR --callgrind-out-file="$OUT" \
    "$BIN" --kubeconfig="$DIR/kubeconfig" --host=127.0.0.1 --port="$PORT" \
    --telemetry-host=127.0.0.1 --telemetry-port="$TPORT" ${KUBESTATE_FLAGS:-} \
    >"$DIR/exporter.log" 2>&1 &
EXP_PID=$!
for _ in $(seq 1200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TPORT/readyz")" = 200 ] && break
    sleep 0.5
done
if [ "${SYNC:-0}" = 1 ]; then
    callgrind_control -d "$EXP_PID" >/dev/null 2>&1
    sleep 1
    FILE=$(ls -t "$OUT".[0-9]* | head -1)
    IR=$(awk '/^summary:|^totals:/ {print $2; exit}' "$FILE")
    echo "preset $PRESET: initial sync $IR instructions; profile $FILE"
    exit 0
fi
sleep 5
rv() { curl -s -X POST -d '{"steps":0}' "http://127.0.0.1:$SIM_PORT/_sim/churn" | python3 -c 'import json,sys; print(json.load(sys.stdin)["resourceVersion"])'; }
RV0=$(rv)
callgrind_control -i on "$EXP_PID" >/dev/null 2>&1
done_steps=0
while [ "$done_steps" -lt "$STEPS" ]; do
    curl -s -X POST -d "{\"steps\":$BATCH}" "http://127.0.0.1:$SIM_PORT/_sim/churn" >/dev/null
    done_steps=$((done_steps + BATCH))
    sleep "$PAUSE"
done
RV1=$(rv)
# Idle: less than 1 % of a core over 2 s (valgrind runs the exporter ~50x slower).
ticks() { awk '{print $14 + $15}' "/proc/$EXP_PID/stat"; }
prev=$(ticks)
for _ in $(seq 120); do
    sleep 2
    now=$(ticks)
    [ $((now - prev)) -le 2 ] && break
    prev=$now
done
callgrind_control -d "$EXP_PID" >/dev/null 2>&1
callgrind_control -i off "$EXP_PID" >/dev/null 2>&1
EVENTS=$((RV1 - RV0))
sleep 1
# The dump lands in OUT.<n>.
FILE=$(ls -t "$OUT".[0-9]* | head -1)
IR=$(awk '/^summary:|^totals:/ {print $2; exit}' "$FILE")
echo "preset $PRESET: $STEPS changes, $EVENTS watch events, $IR instructions, $((IR / EVENTS)) per event; profile $FILE"
