#!/usr/bin/env bash
# Firmware test (make firmware-test): apisig-ffi built with --no-default-features as a no_std
# staticlib for thumbv7m-none-eabi, linked into tests/c/firmware (arm-none-eabi-gcc + newlib),
# run on a Cortex-M3 (LM3S6965) under qemu-system-arm with semihosting; the firmware runs
# the shared vectors and exits non-zero on any mismatch.
#
#   scripts/c-firmware.sh           build and run (opt-level "s", LTO)
#   scripts/c-firmware.sh --sizes   also measure apisig's flash/RAM at opt-level s and z,
#                                   with and without sha2's compact backend
#
# With a normal rustup, `rustup target add thumbv7m-none-eabi` is all the Rust side needs.
# Where rustup cannot download, ../shared/tools/bare-metal-sysroot.sh builds a sysroot.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/c-deps.sh firmware

TARGET=thumbv7m-none-eabi
OUT=target/firmware
mkdir -p "$OUT"
rustflags=""
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  tool=../shared/tools/bare-metal-sysroot.sh
  [ -f "$tool" ] || { echo "$TARGET not installed and $tool not found" >&2; exit 1; }
  # Same TARGETS as scripts/bare-metal.sh, so both share one cached sysroot.
  sysroot=$(TARGETS="thumbv7m-none-eabi thumbv7em-none-eabihf" bash "$tool" | tail -1)
  rustflags="--sysroot=$sysroot"
fi

python3 tests/c/firmware/gen_vectors.py "$OUT/vectors.h"
echo "firmware: include/apisig.h with arm-none-eabi-gcc -ffreestanding"
printf '#include "apisig.h"\nstatic apisig_verifier v;\nsize_t f(void) { return sizeof v + apisig_tag_bytes(); }\n' > "$OUT/header.c"
arm-none-eabi-gcc -std=c99 -Wall -Wextra -Werror -pedantic -ffreestanding -mcpu=cortex-m3 -mthumb -Iinclude \
  -c "$OUT/header.c" -o "$OUT/header.o"

# build VARIANT OPT EXTRA_RUSTFLAGS: the no_std staticlib, in its own target dir.
build() {
  local variant=$1 opt=$2 extra=$3
  RUSTFLAGS="$rustflags $extra" CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt CARGO_PROFILE_RELEASE_LTO=true \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_PANIC=abort \
    cargo rustc -q -p apisig-ffi --lib --crate-type staticlib --no-default-features --release \
    --target $TARGET --target-dir "$OUT/$variant"
  echo "$OUT/$variant/$TARGET/release/libapisig_ffi.a"
}

# link VARIANT LIB: the firmware ELF and its map.
link() {
  local variant=$1 lib=$2
  arm-none-eabi-gcc -std=gnu99 -Wall -Wextra -Werror -mcpu=cortex-m3 -mthumb -Os -g \
    -ffunction-sections -fdata-sections -Iinclude -Itests/c/firmware -I"$OUT" \
    --specs=nano.specs --specs=rdimon.specs -nostartfiles -T tests/c/firmware/lm3s6965.ld \
    tests/c/firmware/main.c tests/c/firmware/startup.c "$lib" \
    -Wl,--gc-sections -Wl,--no-warn-execstack -Wl,-Map="$OUT/fw-$variant.map" -o "$OUT/fw-$variant.elf"
}

run() {
  timeout 300 qemu-system-arm -cpu cortex-m3 -machine lm3s6965evb -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$1"
}

echo "firmware: building apisig-ffi (no_std, $TARGET, opt-level s)"
lib=$(build s s "")
link s "$lib"
echo "firmware: running on qemu-system-arm (lm3s6965evb, Cortex-M3)"
run "$OUT/fw-s.elf" | tee "$OUT/fw-s.log"

if [ "${1:-}" = "--sizes" ]; then
  echo "firmware sizes: apisig's share of the firmware (from the linker map; includes the"
  echo "compiler_builtins routines it pulls in). RAM is its own .data+.bss; objects live in"
  echo "caller storage (APISIG_VERIFIER_SIZE = $(grep -m1 'define APISIG_VERIFIER_SIZE' include/apisig.h | awk '{print $3}') bytes)."
  printf '%-22s %8s %8s %8s %8s  %s\n' variant text rodata flash ram "stack (worst case over the vectors)"
  for v in s z s-compact z-compact; do
    opt=${v%%-*}
    extra=""
    [ "$v" != "${v%-compact}" ] && extra='--cfg sha2_backend_soft="compact"'
    lib=$(build "$v" "$opt" "$extra")
    link "$v" "$lib"
    stack=$(run "$OUT/fw-$v.elf" 2>/dev/null | grep '^stack: worst' | sed 's/^stack: worst case over the vectors: //')
    eval "$(python3 tests/c/firmware/mapsize.py "$OUT/fw-$v.map" libapisig_ffi.a)"
    printf '%-22s %8d %8d %8d %8d  %s\n' "opt-level=$v" "$text" "$rodata" $((text + rodata)) $((data + bss)) "$stack"
  done
fi
