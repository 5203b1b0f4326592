#!/usr/bin/env bash
# Firmware test (make firmware-test): apisig-ffi built with --no-default-features as a no_std
# staticlib, linked into tests/c/firmware (arm-none-eabi-gcc + newlib) and run under
# qemu-system-arm with semihosting on two cores: a Cortex-M3 (thumbv7m-none-eabi, LM3S6965)
# and a Cortex-M4F with hard float (thumbv7em-none-eabihf, MPS2 AN386); and on a RISC-V
# (riscv32imac-unknown-none-elf, riscv64-unknown-elf-gcc + picolibc, qemu-system-riscv32
# virt). The firmware runs the shared vectors and exits non-zero on any mismatch.
#
#   scripts/c-firmware.sh           build and run (opt-level "s", LTO)
#   scripts/c-firmware.sh --sizes   also the size table (make size): flash, RAM and stack of
#                                   sign-only, verify-only and everything against a bare HMAC
#
# With a normal rustup, `rustup target add thumbv7m-none-eabi` is all the Rust side needs.
# Where rustup cannot download, ../shared/tools/bare-metal-sysroot.sh builds a sysroot.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/c-deps.sh firmware

# use_core m3|m4f: what the functions below build for and run on.
use_core() {
  case $1 in
    m3) TARGET=thumbv7m-none-eabi CPU="-mcpu=cortex-m3 -mthumb" MACHINE=lm3s6965evb QCPU=cortex-m3 CORE=Cortex-M3 ;;
    m4f)
      TARGET=thumbv7em-none-eabihf CPU="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
      MACHINE=mps2-an386 QCPU=cortex-m4 CORE=Cortex-M4F
      ;;
  esac
}
use_core m3
OUT=target/firmware
mkdir -p "$OUT"
rustflags=""
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  tool=../shared/tools/bare-metal-sysroot.sh
  [ -f "$tool" ] || { echo "$TARGET not installed and $tool not found" >&2; exit 1; }
  # Same TARGETS as scripts/bare-metal.sh, so both share one cached sysroot.
  sysroot=$(TARGETS="thumbv7m-none-eabi thumbv7em-none-eabihf riscv32imac-unknown-none-elf" bash "$tool" | tail -1)
  rustflags="--sysroot=$sysroot"
fi

python3 tests/c/firmware/gen_vectors.py "$OUT/vectors.h"
echo "firmware: include/apisig.h with arm-none-eabi-gcc -ffreestanding"
printf '#include "apisig.h"\nstatic apisig_verifier v;\nsize_t f(void) { return sizeof v + apisig_tag_bytes(); }\n' > "$OUT/header.c"
arm-none-eabi-gcc -std=c99 -Wall -Wextra -Werror -pedantic -ffreestanding $CPU -Iinclude \
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
  arm-none-eabi-gcc -std=gnu99 -Wall -Wextra -Werror $CPU -DFW_CORE="\"$CORE\"" -Os -g \
    -ffunction-sections -fdata-sections -Iinclude -Itests/c/firmware -I"$OUT" \
    --specs=nano.specs --specs=rdimon.specs -nostartfiles -T tests/c/firmware/lm3s6965.ld \
    tests/c/firmware/main.c tests/c/firmware/startup.c "$lib" \
    -Wl,--gc-sections -Wl,--no-warn-execstack -Wl,-Map="$OUT/fw-$variant.map" -o "$OUT/fw-$variant.elf"
}

run() {
  timeout 300 qemu-system-arm -cpu $QCPU -machine $MACHINE -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$1"
}

echo "firmware: building apisig-ffi (no_std, $TARGET, opt-level s)"
lib=$(build s s "")
link s "$lib"
echo "firmware: running on qemu-system-arm (lm3s6965evb, Cortex-M3)"
run "$OUT/fw-s.elf" | tee "$OUT/fw-s.log"

use_core m4f
echo "firmware: building apisig-ffi (no_std, $TARGET, opt-level s)"
lib=$(build s s "")
link m4f-s "$lib"
# Hard float for real: the image passes floats in VFP registers (the EABI attribute).
arm-none-eabi-readelf -A "$OUT/fw-m4f-s.elf" | grep -q 'Tag_ABI_VFP_args: VFP registers' ||
  { echo "firmware: $OUT/fw-m4f-s.elf is not a hard-float image" >&2; exit 1; }
echo "firmware: running on qemu-system-arm ($MACHINE, $CORE)"
run "$OUT/fw-m4f-s.elf" | tee "$OUT/fw-m4f-s.log"
use_core m3

TARGET=riscv32imac-unknown-none-elf
echo "firmware: building apisig-ffi (no_std, $TARGET, opt-level s)"
lib=$(build s s "")
# picolibc's crt0 and linker script (semihosting for I/O and the exit code); QEMU virt runs
# from RAM at 0x80000000: 1 MiB for the image, 1 MiB for data, heap and a 32 KiB stack.
riscv64-unknown-elf-gcc -std=gnu99 -Wall -Wextra -Werror -march=rv32imac -mabi=ilp32 -DFW_CORE='"RISC-V rv32imac"' \
  -Os -g -ffunction-sections -fdata-sections -Iinclude -Itests/c/firmware -I"$OUT" \
  --specs=picolibc.specs --oslib=semihost --crt0=semihost tests/c/firmware/main.c "$lib" \
  -Wl,--defsym=__flash=0x80000000 -Wl,--defsym=__flash_size=0x100000 -Wl,--defsym=__ram=0x80100000 \
  -Wl,--defsym=__ram_size=0x100000 -Wl,--defsym=__stack_size=0x8000 \
  -Wl,--gc-sections -Wl,-Map="$OUT/fw-rv32-s.map" -o "$OUT/fw-rv32-s.elf"
echo "firmware: running on qemu-system-riscv32 (virt, rv32imac)"
timeout 300 qemu-system-riscv32 -machine virt -cpu rv32 -bios none -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native -kernel "$OUT/fw-rv32-s.elf" | tee "$OUT/fw-rv32-s.log"
TARGET=thumbv7m-none-eabi

[ "${1:-}" = "--sizes" ] || exit 0

# ---- the size table (make size) --------------------------------------------------------
# Each row is a firmware (tests/c/firmware/size.c, or main.c for "everything") linked with
# only what that device calls, built like a firmware author would: arm-none-eabi-gcc -Os,
# --gc-sections, the staticlib at opt-level "z" with LTO and panic abort. "flash" and "ram" are
# the staticlib's share of the firmware (from the linker map: its text+rodata, its data+bss,
# including the compiler_builtins routines it pulls in); "stack" is painted. The floor is
# HMAC-SHA256 + hex of the same message with RustCrypto hmac + sha2 (tests/c/firmware/floor),
# built the same way, with the same sha2 backend.

# floor VARIANT EXTRA_RUSTFLAGS: the bare-HMAC staticlib.
floor() {
  (cd tests/c/firmware/floor && RUSTFLAGS="$rustflags $2" CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
    CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_PANIC=abort \
    cargo build -q --release --target $TARGET --target-dir "../../../../$OUT/floor-$1")
  echo "$OUT/floor-$1/$TARGET/release/libapisig_floor.a"
}

# size_fw NAME LIB DEFINES...: links size.c as firmware NAME.
size_fw() {
  local name=$1 lib=$2
  shift 2
  arm-none-eabi-gcc -std=gnu99 -Wall -Wextra -Werror -mcpu=cortex-m3 -mthumb -Os -g "$@" \
    -ffunction-sections -fdata-sections -Iinclude -Itests/c/firmware -I"$OUT" \
    --specs=nano.specs --specs=rdimon.specs -nostartfiles -T tests/c/firmware/lm3s6965.ld \
    tests/c/firmware/size.c tests/c/firmware/startup.c "$lib" \
    -Wl,--gc-sections -Wl,--no-warn-execstack -Wl,-Map="$OUT/fw-$name.map" -o "$OUT/fw-$name.elf"
}

# row NAME ARCHIVE STACK: one line of the table; the floor's figures are in f_flash, f_stack.
row() {
  local name=$1 archive=$2 stack=$3 text rodata data bss flash worst
  eval "$(python3 tests/c/firmware/mapsize.py "$OUT/fw-$name.map" "$archive")"
  flash=$((text + rodata))
  worst=$(echo "$stack" | tr ' ' '\n' | sort -n | tail -1)
  if [ -z "${f_flash:-}" ]; then
    f_flash=$flash f_stack=$worst
  fi
  printf '%-14s %7d %5d %7s  %-16s %+7d %6s %+6d\n' "${name%-*}" "$flash" $((data + bss)) "$worst" "($stack)" \
    $((flash - f_flash)) "$(python3 -c "print('%.2fx' % ($flash / $f_flash))")" $((worst - f_stack))
}

# stack_of ELF: the painted depths a size firmware prints ("size: stack A B").
stack_of() {
  local log
  log=$(run "$1" 2>&1) || { echo "$log" >&2; echo "size firmware $1 failed" >&2; exit 1; }
  echo "$log" | sed -n 's/^size: stack \([0-9]*\) \([0-9]*\).*/\1 \2/p'
}

python3 tests/c/firmware/gen_vectors.py "$OUT/vectors.h" "$OUT/size_cases.h"
echo
echo "firmware sizes (Cortex-M3, thumbv7m-none-eabi): bytes; stack = worst of (init sign) or"
echo "(init verify); Δ and ratio against the floor (bare HMAC-SHA256 + hex, same sha2 backend)."
for backend in default compact; do
  extra=""
  [ $backend = compact ] && extra='--cfg sha2_backend_soft="compact"'
  lib=$(build "z-$backend" z "$extra")
  flib=$(floor "$backend" "$extra")
  echo
  echo "sha2 backend: $backend"
  printf '%-14s %7s %5s %7s  %-16s %7s %6s %6s\n' device flash ram stack "" Δflash ratio Δstack
  unset f_flash f_stack
  size_fw "floor-$backend" "$flib" -DSIZE_FLOOR
  row "floor-$backend" libapisig_floor.a "$(stack_of "$OUT/fw-floor-$backend.elf")"
  for c in aevo apex; do
    size_fw "sign-$c-$backend" "$lib" -DSIZE_SIGN $([ $c = apex ] && echo -DCASE_APEX)
    row "sign-$c-$backend" libapisig_ffi.a "$(stack_of "$OUT/fw-sign-$c-$backend.elf")"
  done
  size_fw "sign-any-$backend" "$lib" -DSIZE_SIGN -DSIZE_GENERIC
  row "sign-any-$backend" libapisig_ffi.a "$(stack_of "$OUT/fw-sign-any-$backend.elf")"
  size_fw "verify-aevo-$backend" "$lib" -DSIZE_VERIFY
  row "verify-aevo-$backend" libapisig_ffi.a "$(stack_of "$OUT/fw-verify-aevo-$backend.elf")"
  link "everything-$backend" "$lib"
  all=$(run "$OUT/fw-everything-$backend.elf" 2>/dev/null | sed -n 's/^stack: worst case over the vectors: signing \([0-9]*\) bytes, verifying \([0-9]*\) bytes, verifier_init \([0-9]*\) bytes.*/\1 \2 \3/p')
  row "everything-$backend" libapisig_ffi.a "$all"
done
