#!/usr/bin/env bash
# dudect-style timing measurement (make ct-bench; not gating): tests/ct/bench.c against the
# release static library. CT_BENCH_N measurements per function (default 300000; the issue's
# target is 10 million: CT_BENCH_N=10000000, several minutes per function).
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
mkdir -p target/ct
$CARGO build -q --release -p apisig-ffi
gcc -std=c99 -Wall -Wextra -Werror -O2 -g -Iinclude tests/ct/bench.c target/release/libapisig_ffi.a \
  -lpthread -ldl -lm -o target/ct/bench
target/ct/bench "${CT_BENCH_N:-300000}"
