#!/bin/sh
# Instructions per call of the core's hot paths, counted by callgrind (repeatable on a noisy
# machine, unlike wall time): runs core/benches/profile.rs at two iteration counts and divides
# the difference. Also prints the instructions outside SHA-256's compression function: under
# valgrind sha2 takes its software path (no SHA extensions), which dominates the total, while
# on hardware with SHA-NI the compressions are cheap and what is left is the code's own cost.
# Usage: scripts/bench-profile.sh [hmac mac floor sign verify verify-const verify-dyn verify-static ...]
set -eu
cd "$(dirname "$0")/.."
bin=$(cargo bench -q -p apisig --bench profile --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "profile" and m.get("executable"):
        print(m["executable"])')
# Prints "total outside-compress" instructions for one run.
count() {
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" >/dev/null 2>&1
    callgrind_annotate --auto=no --threshold=100 "$out" 2>/dev/null | awk '
        /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
        /:sha2::(sha256|block_api)::compress256/ { gsub(",", "", $1); sha += $1 }
        END { print total, total - sha }'
    rm -f "$out"
}
for what in "${@:-hmac mac floor sign verify verify-const verify-dyn}"; do
    for w in $what; do
        a=$(count "$w" 200); b=$(count "$w" 1200)
        echo "$a $b" | awk -v w="$w" '{ printf "%s: %d instructions per call, %d outside SHA-256 compression\n", w, ($3 - $1) / 1000, ($4 - $2) / 1000 }'
    done
done
