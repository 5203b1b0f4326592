#!/usr/bin/env bash
# End-to-end throughput of authentication in a real Rust server: an axum hello-world behind the
# apisig tower layer verifying Aevo requests (200-byte body, signed ahead, distinct timestamps)
# against the same server with no authentication, both driven by wrk over loopback in one run,
# interleaved (plain, auth, plain, auth, ...). Reports requests per second, the ratio auth/plain
# (the median of the rounds'; the issue's target: at least 0.90), p50/p99 latency and the
# server's CPU time a request (bench/http/wrk_report.py). The server runs one runtime thread
# pinned to one core, wrk one thread on the other.
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

NAME=bench-http SERVE=("$BIN" serve)
# shellcheck source=scripts/wrk-common.sh
. scripts/wrk-common.sh

start plain
PLAIN_PORT=$PORT PLAIN_PID=$PID
start auth
AUTH_PORT=$PORT AUTH_PID=$PID

run() { # run MODE PORT PID ROUND
    "$BIN" presign "$PRESIGN" "$WORK/signed.txt"
    wrk_round "$@"
}
for round in $(seq "$ROUNDS"); do
    run plain "$PLAIN_PORT" "$PLAIN_PID" "$round"
    run auth "$AUTH_PORT" "$AUTH_PID" "$round"
done

mkdir -p "$(dirname "$OUT")"
python3 bench/http/wrk_report.py bench-http "$WORK" "$ROUNDS" "$PRESIGN" "$SMOKE" "$OUT" 0.90 \
    "end to end: axum on one runtime thread, wrk -t1 over loopback, Aevo with a 200-byte body" \
    "apisig layer"
