#!/usr/bin/env bash
# The C face's tests (make c-test): the generated header compiles cleanly with every
# compiler we support; tests/c/*.c link the static library (and smoke.c the shared one) and
# pass under valgrind (no errors, no leaks) and under AddressSanitizer + UBSan; so do the C
# examples of README.md and docs/*.md (scripts/md_blocks.py extracts them), as written.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/c-deps.sh host

CARGO=${CARGO:-cargo}
OUT=target/c
mkdir -p "$OUT"
echo "c-test: building apisig-ffi"
$CARGO build -q -p apisig-ffi
LIBDIR=target/debug
LIBS="$LIBDIR/libapisig_ffi.a -lpthread -ldl -lm"
WARN="-std=c99 -Wall -Wextra -Werror -pedantic"
CJSON=$(pkg-config --cflags --libs libcjson 2>/dev/null || echo -lcjson)
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok    $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL  $*"; }
run() { # run NAME CMD...: counts a pass or a failure, keeps the output on failure
  local name=$1; shift
  if "$@" > "$OUT/$name.log" 2>&1; then ok "$name $(tail -1 "$OUT/$name.log")"; else bad "$name"; cat "$OUT/$name.log"; fi
}

echo "c-test: header"
printf '#include "apisig.h"\nint main(void) { apisig_verifier v; (void)v; return (int)apisig_tag_bytes() - APISIG_TAG_BYTES; }\n' > "$OUT/header.c"
run header-gcc gcc $WARN -Iinclude -c "$OUT/header.c" -o "$OUT/header-gcc.o"
run header-clang clang $WARN -Iinclude -c "$OUT/header.c" -o "$OUT/header-clang.o"
command -v g++ > /dev/null && run header-g++ g++ -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude -x c++ -c "$OUT/header.c" -o "$OUT/header-gxx.o"
if command -v arm-none-eabi-gcc > /dev/null; then
  run header-arm arm-none-eabi-gcc $WARN -ffreestanding -mcpu=cortex-m3 -mthumb -Iinclude -c "$OUT/header.c" -o "$OUT/header-arm.o"
fi

echo "c-test: building tests/c"
for t in smoke bad_input vectors; do
  gcc $WARN -g -Iinclude "tests/c/$t.c" $LIBS $CJSON -o "$OUT/$t"
  clang $WARN -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -Iinclude \
    "tests/c/$t.c" $LIBS $CJSON -o "$OUT/$t-asan"
done
# ocsp.c parses the OCSP vectors with OpenSSL, as a C server would; lookup.c's server indexes
# its static keys by OpenSSL's SHA-256.
CRYPTO=$(pkg-config --cflags --libs libcrypto 2>/dev/null || echo -lcrypto)
for t in ocsp lookup; do
  gcc $WARN -g -Iinclude "tests/c/$t.c" $LIBS $CJSON $CRYPTO -o "$OUT/$t"
  clang $WARN -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -Iinclude \
    "tests/c/$t.c" $LIBS $CJSON $CRYPTO -o "$OUT/$t-asan"
done
# store.c: a C server over a key store that the `apisig keys` command line (the Python
# package's, .venv's as `make py-env` builds it, or $APISIG_CLI) manages from other processes.
gcc $WARN -g -Iinclude tests/c/store.c $LIBS -o "$OUT/store"
clang $WARN -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -Iinclude \
  tests/c/store.c $LIBS -o "$OUT/store-asan"
gcc $WARN -g -Iinclude tests/c/smoke.c -L"$LIBDIR" -lapisig_ffi -Wl,-rpath,"$PWD/$LIBDIR" -o "$OUT/smoke-shared"

echo "c-test: building the examples in README.md and docs/*.md, as written"
examples=$(python3 scripts/md_blocks.py c "$OUT/examples" README.md docs/*.md)
for src in $examples; do
  ex=$(basename "$src" .c)
  gcc $WARN -g -Iinclude "$src" $LIBS -o "$OUT/examples/$ex"
  clang $WARN -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -Iinclude \
    "$src" $LIBS -o "$OUT/examples/$ex-asan"
done

echo "c-test: running"
# The suppressions: what the Rust standard library allocates once per process and never frees
# (tests/c/valgrind.supp says which, and why).
VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --suppressions=tests/c/valgrind.supp"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run smoke "$OUT/smoke"
run smoke-shared "$OUT/smoke-shared"
run smoke-valgrind $VG "$OUT/smoke"
run smoke-asan "$OUT/smoke-asan"
run bad_input-valgrind $VG "$OUT/bad_input"
run bad_input-asan "$OUT/bad_input-asan"
run vectors-valgrind $VG "$OUT/vectors" tests/vectors
run vectors-asan "$OUT/vectors-asan" tests/vectors
for src in $examples; do
  ex=$(basename "$src" .c)
  run "example-$ex-valgrind" $VG "$OUT/examples/$ex"
  run "example-$ex-asan" "$OUT/examples/$ex-asan"
done
run ocsp-valgrind $VG "$OUT/ocsp" tests/vectors
run ocsp-asan "$OUT/ocsp-asan" tests/vectors
run lookup-valgrind $VG "$OUT/lookup"
run lookup-asan "$OUT/lookup-asan"
CLI=${APISIG_CLI:-$PWD/.venv/bin/apisig}
if [ -x "$CLI" ]; then
  tmp=$(mktemp -d)
  run store-sqlite-valgrind $VG "$OUT/store" "$CLI" "sqlite:$tmp/valgrind.db"
  run store-sqlite-asan "$OUT/store-asan" "$CLI" "sqlite:$tmp/asan.db"
  # PostgreSQL: a throwaway server on a free loopback port, stopped and started again by the
  # test (STORE_UNAVAILABLE while it is down, recovery after).
  scripts/postgres-server.sh
  pg=$(mktemp -d) # its own directory under /tmp: the server runs as nobody when we are root
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  scripts/postgres-server.sh start "$pg" "$port"
  run store-postgres-valgrind $VG "$OUT/store" "$CLI" "postgres://postgres@127.0.0.1:$port/postgres" \
    "scripts/postgres-server.sh stop $pg" "scripts/postgres-server.sh start $pg $port"
  scripts/postgres-server.sh stop "$pg" || true
  rm -rf "$tmp" "$pg"
else
  bad "store (no apisig command at $CLI: run make py-env, or set APISIG_CLI)"
fi

echo "c-test: make install into a scratch prefix, then build smoke.c the way users do"
PREFIX_DIR="$PWD/$OUT/prefix"
rm -rf "$PREFIX_DIR"
if PREFIX="$PREFIX_DIR" scripts/c-install.sh > "$OUT/install.log" 2>&1; then
  export PKG_CONFIG_PATH="$PREFIX_DIR/lib/pkgconfig"
  gcc $WARN tests/c/smoke.c $(pkg-config --cflags --libs apisig) -Wl,-rpath,"$PREFIX_DIR/lib" -o "$OUT/smoke-installed-shared"
  gcc $WARN tests/c/smoke.c $(pkg-config --cflags apisig) "$PREFIX_DIR/lib/libapisig.a" \
    $(pkg-config --static --libs-only-l apisig | sed 's/-lapisig//') -o "$OUT/smoke-installed-static"
  run installed-shared "$OUT/smoke-installed-shared"
  run installed-static "$OUT/smoke-installed-static"
else
  bad install; cat "$OUT/install.log"
fi

echo "c-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
