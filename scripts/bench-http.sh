#!/usr/bin/env bash
# End-to-end throughput of authentication in a real Rust server: an axum hello-world behind the
# apisig tower layer verifying Aevo requests (200-byte body, signed ahead, distinct timestamps)
# against the same server with no authentication, both driven by wrk over loopback in one run,
# interleaved (plain, auth, plain, auth, ...). Reports requests per second, the ratio auth/plain
# (the median of the rounds'; the issue's target: at least 0.90) and p50/p99 latency
# (bench/http/wrk_report.py). The server runs one runtime thread pinned to one core, wrk one
# thread on the other.
#   scripts/bench-http.sh [OUT.json]   the measurement (make bench; release build)
#   scripts/bench-http.sh --smoke      one second of each on a debug build, no timing: checks
#                                      that every signed request was accepted (make test)
# Bounded: every server is started under `timeout` and stops when this script's end closes its
# standard input.
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
OUT=target/bench/http.json
if [ "${1:-}" = --smoke ]; then SMOKE=1; else OUT=${1:-$OUT}; fi

if ! command -v wrk > /dev/null 2>&1; then
    if ! command -v apt-get > /dev/null 2>&1; then
        echo "bench-http: wrk is missing and apt-get is not available" >&2
        exit 1
    fi
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "bench-http: installing wrk" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-cache show wrk > /dev/null 2>&1 || $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends wrk > /dev/null
fi

if [ "$SMOKE" = 1 ]; then
    PROFILE=dev DIR=debug ROUNDS=1 DURATION=1 CONNECTIONS=2 PRESIGN=50000
else
    PROFILE=release DIR=release ROUNDS=3 DURATION=5 CONNECTIONS=32 PRESIGN=1000000
fi
# Overrides, to try the script quickly: BENCH_HTTP_PROFILE=dev BENCH_HTTP_DURATION=1 ...
PROFILE=${BENCH_HTTP_PROFILE:-$PROFILE} ROUNDS=${BENCH_HTTP_ROUNDS:-$ROUNDS} DURATION=${BENCH_HTTP_DURATION:-$DURATION}
[ "$PROFILE" = dev ] && DIR=debug
cargo build -q --profile "$PROFILE" -p apisig-http --example e2e_bench
BIN=target/$DIR/examples/e2e_bench

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
    timeout 900 "${SERVER_CPU[@]}" "$BIN" serve "$mode" < "$WORK/$mode.stop" > "$WORK/$mode.port" &
    PIDS+=($!)
    exec {fd}> "$WORK/$mode.stop"
    FDS+=("$fd")
    for _ in $(seq 100); do
        [ -s "$WORK/$mode.port" ] && break
        sleep 0.1
    done
    PORT=$(head -1 "$WORK/$mode.port")
}
start plain
PLAIN_PORT=$PORT
start auth
AUTH_PORT=$PORT

run() { # run MODE PORT ROUND
    "$BIN" presign "$PRESIGN" "$WORK/signed.txt"
    "${CLIENT_CPU[@]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/http/aevo.lua \
        "http://127.0.0.1:$2/orders" -- "$WORK/signed.txt" > "$WORK/$1.$3.txt"
}
for round in $(seq "$ROUNDS"); do
    run plain "$PLAIN_PORT" "$round"
    run auth "$AUTH_PORT" "$round"
done

mkdir -p "$(dirname "$OUT")"
python3 bench/http/wrk_report.py bench-http "$WORK" "$ROUNDS" "$PRESIGN" "$SMOKE" "$OUT" 0.90 \
    "end to end: axum on one runtime thread, wrk -t1 over loopback, Aevo with a 200-byte body" \
    "apisig layer"
