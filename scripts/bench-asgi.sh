#!/usr/bin/env bash
# End-to-end throughput of the Python ASGI middleware: a Starlette hello-world that reads the
# body, under uvicorn (one worker, pinned to one core), with ApisigASGIMiddleware verifying Aevo
# requests (200-byte body, signed ahead, distinct timestamps) against the same app with no
# authentication, both driven by wrk over loopback in one run, interleaved (plain, auth, plain,
# auth, ...). Reports requests per second, the ratio auth/plain (the median of the rounds'; the
# issue's target: at least 0.95) and p50/p99 latency; then the in-process profile of the same
# two apps (time and Python-level calls per request), steadier than wall time on a busy machine.
#   scripts/bench-asgi.sh [OUT.json]   the measurement (make bench)
#   scripts/bench-asgi.sh --smoke      one second of each, no timing: checks that every signed
#                                      request was accepted (make test)
# Bounded: every server is started under `timeout` and stops when this script's end closes its
# standard input.
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
OUT=target/bench/asgi.json
if [ "${1:-}" = --smoke ]; then SMOKE=1; else OUT=${1:-$OUT}; fi

scripts/py-env.sh >&2
PY=.venv/bin/python
APP=bench/http/asgi_app.py
if ! command -v wrk > /dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "bench-asgi: installing wrk" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-cache show wrk > /dev/null 2>&1 || $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends wrk > /dev/null
fi

if [ "$SMOKE" = 1 ]; then
    ROUNDS=1 DURATION=1 CONNECTIONS=2 PRESIGN=20000
else
    ROUNDS=5 DURATION=5 CONNECTIONS=32 PRESIGN=200000
fi
# Overrides, to try the script quickly: BENCH_ASGI_ROUNDS=1 BENCH_ASGI_DURATION=1 ...
ROUNDS=${BENCH_ASGI_ROUNDS:-$ROUNDS} DURATION=${BENCH_ASGI_DURATION:-$DURATION}

WORK=$(mktemp -d)
PIDS=()
FDS=()
cleanup() {
    for fd in "${FDS[@]}"; do eval "exec ${fd}>&-"; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Pin the server and wrk to different cores where taskset and two cores are there.
SERVER_CPU=() CLIENT_CPU=()
if command -v taskset > /dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    SERVER_CPU=(taskset -c 0) CLIENT_CPU=(taskset -c 1)
fi

# start MODE: a server in the background; sets PORT. It stops when its stdin (a fifo held
# open here) closes, or after 15 minutes whatever happens.
start() {
    local mode=$1 fd
    mkfifo "$WORK/$mode.stop"
    timeout 900 "${SERVER_CPU[@]}" "$PY" "$APP" serve "$mode" < "$WORK/$mode.stop" > "$WORK/$mode.port" &
    PIDS+=($!)
    exec {fd}> "$WORK/$mode.stop"
    FDS+=("$fd")
    for _ in $(seq 100); do
        [ -s "$WORK/$mode.port" ] && break
        sleep 0.1
    done
    PORT=$(head -1 "$WORK/$mode.port")
    PID=$(sed -n 2p "$WORK/$mode.port")
}
start plain
PLAIN_PORT=$PORT PLAIN_PID=$PID
start auth
AUTH_PORT=$PORT AUTH_PID=$PID

# The CPU time a process has used, in clock ticks (user + system; Linux): what a request costs
# the server, steadier than wall time when the machine is busy.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

run() { # run MODE PORT PID ROUND
    local before=""
    "$PY" "$APP" presign "$PRESIGN" "$WORK/signed.txt"
    [ -r "/proc/$3/stat" ] && before=$(cpu_ticks "$3")
    "${CLIENT_CPU[@]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/http/aevo.lua \
        "http://127.0.0.1:$2/orders" -- "$WORK/signed.txt" > "$WORK/$1.$4.txt"
    if [ -n "$before" ]; then
        echo "$(($(cpu_ticks "$3") - before)) $(getconf CLK_TCK)" > "$WORK/$1.$4.cpu"
    fi
}
for round in $(seq "$ROUNDS"); do
    run plain "$PLAIN_PORT" "$PLAIN_PID" "$round"
    run auth "$AUTH_PORT" "$AUTH_PID" "$round"
done

mkdir -p "$(dirname "$OUT")"
python3 bench/http/wrk_report.py bench-asgi "$WORK" "$ROUNDS" "$PRESIGN" "$SMOKE" "$OUT" 0.95 \
    "end to end: Starlette under uvicorn (one worker, one core), wrk -t1 over loopback, Aevo with a 200-byte body" \
    "ASGI middleware"
if [ "$SMOKE" = 0 ]; then
    "$PY" "$APP" profile
fi
