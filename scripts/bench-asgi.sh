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
if [ "$SMOKE" = 1 ]; then
    ROUNDS=1 DURATION=1 CONNECTIONS=2 PRESIGN=20000
else
    ROUNDS=5 DURATION=5 CONNECTIONS=32 PRESIGN=200000
fi
# Overrides, to try the script quickly: BENCH_ASGI_ROUNDS=1 BENCH_ASGI_DURATION=1 ...
ROUNDS=${BENCH_ASGI_ROUNDS:-$ROUNDS} DURATION=${BENCH_ASGI_DURATION:-$DURATION}

NAME=bench-asgi SERVE=("$PY" "$APP" serve)
# shellcheck source=scripts/wrk-common.sh
. scripts/wrk-common.sh

start plain
PLAIN_PORT=$PORT PLAIN_PID=$PID
start auth
AUTH_PORT=$PORT AUTH_PID=$PID

run() { # run MODE PORT PID ROUND
    "$PY" "$APP" presign "$PRESIGN" "$WORK/signed.txt"
    wrk_round "$@"
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
