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
# With TOOL=perf the exporter runs natively instead, and `perf record -e cpu-clock` (a software
# clock: no hardware counters needed) samples it with DWARF call stacks during the churn only;
# the script prints the exporter's user and system CPU per event, its context switches, and
# where the time went by pipeline stage (crates/bench/perf-stages.py). Use BATCH=1 PAUSE=0.02
# for changes arriving one at a time, as kubestate-bench drives them (50 changes/s); the default
# batches of 5 arrive together. OUT is then the perf.data file.
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

TOOL=${TOOL:-callgrind}
INSTR=no
[ "${SYNC:-0}" = 1 ] && INSTR=yes
WRAP=(valgrind --tool=callgrind --instr-atstart=$INSTR --callgrind-out-file="$OUT")
[ "$TOOL" = perf ] && WRAP=()
# shellcheck disable=SC2086
"${WRAP[@]}" "$BIN" --kubeconfig="$DIR/kubeconfig" --host=127.0.0.1 --port="$PORT" \
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
if [ "$TOOL" = perf ]; then
    # utime and stime in clock ticks, and voluntary + involuntary context switches, of all threads
    ticks_us() { awk '{print $14, $15}' "/proc/$EXP_PID/stat"; }
    switches() { cat /proc/"$EXP_PID"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
    perf record -q -e cpu-clock -F 1999 --call-graph dwarf,16384 -p "$EXP_PID" -o "$OUT" 2>/dev/null &
    PERF_PID=$!
    sleep 1
    read -r U0 S0 < <(ticks_us)
    C0=$(switches)
else
    callgrind_control -i on "$EXP_PID" >/dev/null 2>&1
fi
done_steps=0
while [ "$done_steps" -lt "$STEPS" ]; do
    curl -s -X POST -d "{\"steps\":$BATCH}" "http://127.0.0.1:$SIM_PORT/_sim/churn" >/dev/null
    done_steps=$((done_steps + BATCH))
    sleep "$PAUSE"
done
RV1=$(rv)
if [ "$TOOL" = perf ]; then
    sleep 2
    read -r U1 S1 < <(ticks_us)
    C1=$(switches)
    kill -INT "$PERF_PID"
    wait "$PERF_PID" || true
    EVENTS=$((RV1 - RV0))
    HZ=$(getconf CLK_TCK)
    echo "preset $PRESET: $STEPS changes, $EVENTS watch events; user $(((U1 - U0) * 1000000 / HZ / EVENTS)) us, system $(((S1 - S0) * 1000000 / HZ / EVENTS)) us per event; $(((C1 - C0) * 100 / EVENTS)) context switches per 100 events; profile $OUT"
    perf script -i "$OUT" 2>/dev/null | python3 "$(dirname "$0")/perf-stages.py"
    exit 0
fi
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
