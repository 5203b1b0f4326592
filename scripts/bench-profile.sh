#!/bin/sh
# Instructions per call of the core's hot paths, counted by callgrind (repeatable on a noisy
# machine, unlike wall time): runs core/benches/profile.rs at two iteration counts and divides
# the difference. Usage: scripts/bench-profile.sh [hmac sign verify ...]
set -eu
cd "$(dirname "$0")/.."
bin=$(cargo bench -q -p apisig --bench profile --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "profile" and m.get("executable"):
        print(m["executable"])')
count() {
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" >/dev/null 2>&1
    callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
    rm -f "$out"
}
for what in "${@:-hmac sign verify}"; do
    for w in $what; do
        a=$(count "$w" 200); b=$(count "$w" 1200)
        echo "$w: $(( (b - a) / 1000 )) instructions per call"
    done
done
