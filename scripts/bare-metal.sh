#!/usr/bin/env bash
# Builds the apisig core for bare-metal Cortex-M targets, proving it is no_std and no-alloc.
# With a normal rustup, `rustup target add thumbv7m-none-eabi thumbv7em-none-eabihf` is all
# you need. Where rustup cannot download (this project's CI machines), the workplace's
# ../shared/tools/bare-metal-sysroot.sh builds a sysroot from the toolchain's own sources.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=${TARGETS:-"thumbv7m-none-eabi thumbv7em-none-eabihf"}
flags=""
missing=""
for t in $TARGETS; do
  rustup target list --installed 2>/dev/null | grep -qx "$t" || missing="$missing $t"
done
if [ -n "$missing" ]; then
  tool=../shared/tools/bare-metal-sysroot.sh
  [ -x "$tool" ] || [ -f "$tool" ] || { echo "targets$missing not installed and $tool not found" >&2; exit 1; }
  sysroot=$(TARGETS="$TARGETS" bash "$tool" | tail -1)
  flags="--sysroot=$sysroot"
fi
for t in $TARGETS; do
  echo "bare-metal: building apisig for $t"
  RUSTFLAGS="$flags" cargo build -q -p apisig --release --target "$t"
done
echo "bare-metal: ok ($TARGETS)"
