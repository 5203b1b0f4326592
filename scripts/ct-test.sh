#!/usr/bin/env bash
# Constant-time check (make ct-test, issue 7): tests/ct/ct.c runs every path that compares
# secret material against the release static library under valgrind memcheck, with the
# secrets marked undefined; tests/ct/check.py fails on any secret-dependent branch or index
# outside the declassification points in tests/ct/declassify.txt. A control (a naive
# memcmp and an early-exit loop over a secret) must be flagged, or the check itself is broken.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f /usr/include/valgrind/memcheck.h ] || ! command -v valgrind > /dev/null; then
  echo "ct-test: needs valgrind and /usr/include/valgrind/memcheck.h (Debian: apt-get install valgrind)" >&2
  exit 1
fi
CARGO=${CARGO:-cargo}
OUT=target/ct
mkdir -p "$OUT"
echo "ct-test: building apisig-ffi (release, debug = 1 from the workspace profile)"
$CARGO build -q --release -p apisig-ffi
gcc -std=c99 -Wall -Wextra -Werror -O1 -g -Iinclude tests/ct/ct.c target/release/libapisig_ffi.a \
  -lpthread -ldl -lm -o "$OUT/ct"
VG="valgrind -q --error-limit=no --xml=yes"

echo "ct-test: results without valgrind"
"$OUT/ct"
echo "ct-test: under memcheck, secrets undefined"
$VG --xml-file="$OUT/ct.xml" "$OUT/ct" > "$OUT/ct.log"
tail -1 "$OUT/ct.log"
python3 tests/ct/check.py "$OUT/ct.xml" tests/ct/declassify.txt | sed "s|$PWD/||"

echo "ct-test: control (a naive memcmp and an early-exit loop) must be flagged"
$VG --xml-file="$OUT/control.xml" "$OUT/ct" control > "$OUT/control.log"
if python3 tests/ct/check.py "$OUT/control.xml" tests/ct/declassify.txt > "$OUT/control.check"; then
  cat "$OUT/control.check"
  echo "ct-test: FAIL: memcheck did not flag the control; the check proves nothing" >&2
  exit 1
fi
for fn in naive_memcmp naive_loop; do
  if ! grep -q "in $fn at" "$OUT/control.check"; then
    cat "$OUT/control.check"
    echo "ct-test: FAIL: the control's $fn was not flagged" >&2
    exit 1
  fi
done
sed "s|$PWD/||" "$OUT/control.check"
echo "ct-test: ok (control flagged as it must be)"
