#!/usr/bin/env bash
# Fuzzes every cargo-fuzz target in core/fuzz for a bounded time (issue 7).
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default 30 s per target, every target
# Corpora live in core/fuzz/corpus/<target> (kept between runs, seeded from tests/vectors);
# crashes land in core/fuzz/artifacts/<target>. Prints executions per target; exits non-zero
# when any target crashes, leaks, times out or fails to build.
#
# The toolchain is stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass -Zsanitizer=address and
# the coverage flags. Builds are release + debug assertions (-O -a), cached in
# core/fuzz/target across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-30}
shift || true
export RUSTC_BOOTSTRAP=1
CARGO=${CARGO:-cargo}
if ! $CARGO fuzz --version > /dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  $CARGO install --locked cargo-fuzz
fi
cd core/fuzz
if [ $# -gt 0 ]; then targets="$*"; else targets=$($CARGO fuzz list); fi
start=$(date +%s)
mkdir -p target/fuzz-logs
echo "fuzz: building $(echo $targets | wc -w) targets"
build() { # cargo fuzz build builds every target, or one
  if ! $CARGO fuzz build -O -a "$@" > target/fuzz-logs/build.log 2>&1; then
    cat target/fuzz-logs/build.log >&2
    echo "fuzz: build failed" >&2
    exit 1
  fi
}
if [ $# -gt 0 ]; then for t in $targets; do build "$t"; done; else build; fi
built=$(date +%s)
python3 seeds.py ../../tests/vectors corpus
failed=""
printf 'fuzz: %ss per target (build %ss)\n' "$SECS" "$((built - start))"
printf '  %-18s %12s %8s %8s  %s\n' target execs exec/s corpus result
for t in $targets; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="target/fuzz-logs/$t.log"
  if $CARGO fuzz run -O -a "$t" "corpus/$t" -- -max_total_time="$SECS" -timeout=10 \
      -print_final_stats=1 > "$log" 2>&1; then
    result=ok
  else
    result=CRASH
    failed="$failed $t"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  files=$(find "corpus/$t" -type f | wc -l)
  printf '  %-18s %12s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$files" "$result"
  if [ "$result" != ok ]; then
    grep -E 'panicked|ERROR|SUMMARY|Test unit written|assert' "$log" | head -20 | sed 's/^/    /'
  fi
done
printf 'fuzz: done in %ss\n' "$(($(date +%s) - start))"
if [ -n "$failed" ]; then
  echo "fuzz: FAILED:$failed (inputs in core/fuzz/artifacts/<target>; logs in core/fuzz/target/fuzz-logs)" >&2
  exit 1
fi
