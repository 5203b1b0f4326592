#!/bin/sh
# Cache lines one verification misses at server scale, counted by callgrind's cache simulation
# (this VM exposes no hardware counters to perf): store/examples/store_misses.rs builds a
# MemoryStore of N clients (or the floor of store/benches/common/floor.rs), and callgrind collects only
# the verifications of K requests from clients spread over all of them (the bench's pattern).
# The simulated caches are one core's: L1d 48 KiB, and 2 MiB (its L2) as the last level, so an
# "LL miss" is a line fetched from beyond L2 (L3 or DRAM; at 10^6 clients, 700 MB, mostly DRAM).
# Prints, per request: data reads, L1d misses, LL misses; with -v, the LL misses by source.
#   scripts/store-misses.sh [-v] [N [K]]        defaults: N=1000000 K=2000
set -eu
cd "$(dirname "$0")/.."
verbose=0
[ "${1:-}" = -v ] && { verbose=1; shift; }
n=${1:-1000000}
k=${2:-2000}
cargo build -q --release -p apisig-store --example store_misses
bin=target/release/examples/store_misses
for what in aevo floor-id static floor-digest; do
    for clients in 64 "$n"; do
        out=$(mktemp)
        valgrind --tool=callgrind --cache-sim=yes --D1=49152,12,64 --I1=32768,8,64 --LL=2097152,16,64 \
            --toggle-collect='*measured*' --callgrind-out-file="$out" "$bin" "$what" "$clients" "$k" >/dev/null 2>&1
        callgrind_annotate --show=Dr,D1mr,DLmr --threshold=100 --auto=no "$out" 2>/dev/null | awk -v w="$what" -v c="$clients" -v k="$k" '
            /PROGRAM TOTALS/ { gsub(",", ""); printf "%-13s %8s clients: %7.1f reads, %5.2f L1d misses, %5.2f LL misses per request\n", w, c, $1 / k, $3 / k, $5 / k }'
        if [ "$verbose" = 1 ] && [ "$clients" = "$n" ]; then
            callgrind_annotate --show=DLmr --sort=DLmr --threshold=99 --auto=no "$out" 2>/dev/null |
                sed -n '/file:function/,$p' | awk -v k="$k" 'NR > 2 && NF { gsub(",", "", $1); if ($1 / k >= 0.05) { $2 = ""; printf "    %5.2f %s\n", $1 / k, $0 } }' |
                sed 's|/rustc/[0-9a-f]*/library/|std:|; s|/root/.cargo/registry/src/[^/]*/||; s|/work/[^ ]*wt-scale/||'
        fi
        rm -f "$out"
    done
done
