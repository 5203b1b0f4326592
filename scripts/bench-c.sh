#!/bin/sh
# The C harness (bench/c/bench.c) through include/apisig.h, against the release static library,
# with OpenSSL as the SHA-256/HMAC baseline (libssl-dev is installed when missing, Debian).
#   scripts/bench-c.sh [OUT.jsonl]     full run (make bench), results as JSON lines
#   scripts/bench-c.sh --smoke         build and run a few iterations (make test)
set -eu
cd "$(dirname "$0")/.."
if [ ! -f /usr/include/openssl/sha.h ]; then
    if command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && apt-get install -y -qq libssl-dev pkg-config) >/dev/null
    else
        echo "bench-c: OpenSSL headers missing and apt-get is not available" >&2
        exit 1
    fi
fi
cargo build -q --release -p apisig-ffi
mkdir -p target/bench
cc -std=c11 -O2 -Wall -Wextra -Werror -Wno-deprecated-declarations -Iinclude bench/c/bench.c \
    target/release/libapisig_ffi.a -lcrypto -lpthread -ldl -lm -o target/bench/bench-c
if [ "${1:-}" = --smoke ]; then
    target/bench/bench-c 0 >/dev/null
else
    target/bench/bench-c 1 | tee "${1:-target/bench/c.jsonl}"
fi
