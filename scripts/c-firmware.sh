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

# use_core m3|m4f|rv32: what the functions below build for, link with and run on. The ARM
# cores use newlib-nano with rdimon (semihosting) and tests/c/firmware's startup and linker
# script; the RISC-V core picolibc's crt0 and linker script with semihosting (QEMU virt runs
# from RAM at 0x80000000: 1 MiB for the image, 1 MiB for data, heap and a 32 KiB stack), and
# libgcc's 64-bit division linked before the library, so the C side's printf keeps it rather
# than being served (and the table charging apisig) by the staticlib's compiler_builtins copy.
use_core() {
  case $1 in
    m3 | m4f)
      CC=arm-none-eabi-gcc
      SYS=(--specs=nano.specs --specs=rdimon.specs -nostartfiles -T tests/c/firmware/lm3s6965.ld
        tests/c/firmware/startup.c -Wl,--no-warn-execstack)
      QEMU=qemu-system-arm
      if [ "$1" = m3 ]; then
        TARGET=thumbv7m-none-eabi CORE=Cortex-M3 CPU=(-mcpu=cortex-m3 -mthumb)
        MACHINE=(-cpu cortex-m3 -machine lm3s6965evb)
      else
        TARGET=thumbv7em-none-eabihf CORE=Cortex-M4F CPU=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
        MACHINE=(-cpu cortex-m4 -machine mps2-an386)
      fi
      ;;
    rv32)
      TARGET=riscv32imac-unknown-none-elf CORE="RISC-V rv32imac" CC=riscv64-unknown-elf-gcc
      CPU=(-march=rv32imac -mabi=ilp32)
      SYS=(--specs=picolibc.specs --oslib=semihost --crt0=semihost
        -Wl,--defsym=__flash=0x80000000 -Wl,--defsym=__flash_size=0x100000 -Wl,--defsym=__ram=0x80100000
        -Wl,--defsym=__ram_size=0x100000 -Wl,--defsym=__stack_size=0x8000
        -Wl,-u,__udivdi3 -Wl,-u,__umoddi3 -lgcc)
      QEMU=qemu-system-riscv32 MACHINE=(-machine virt -cpu rv32 -bios none)
      ;;
  esac
  KEY=$1
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

python3 tests/c/firmware/gen_vectors.py "$OUT/vectors.h" "$OUT/size_cases.h"
echo "firmware: include/apisig.h with arm-none-eabi-gcc -ffreestanding"
printf '#include "apisig.h"\nstatic apisig_verifier v;\nsize_t f(void) { return sizeof v + apisig_tag_bytes(); }\n' > "$OUT/header.c"
arm-none-eabi-gcc -std=c99 -Wall -Wextra -Werror -pedantic -ffreestanding "${CPU[@]}" -Iinclude \
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

# link NAME SOURCE LIB [CFLAGS...]: the firmware $OUT/fw-NAME.elf and its map.
link() {
  local name=$1 src=$2 lib=$3
  shift 3
  $CC -std=gnu99 -Wall -Wextra -Werror "${CPU[@]}" -DFW_CORE="\"$CORE\"" -Os -g "$@" \
    -ffunction-sections -fdata-sections -Iinclude -Itests/c/firmware -I"$OUT" \
    "tests/c/firmware/$src" "${SYS[@]}" "$lib" \
    -Wl,--gc-sections -Wl,-Map="$OUT/fw-$name.map" -o "$OUT/fw-$name.elf"
}

# run ELF: runs it under QEMU with semihosting; the exit code is the firmware's (picolibc's
# semihosting console writes to QEMU's stderr).
run() {
  timeout 300 $QEMU "${MACHINE[@]}" -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$1"
}

for core in m3 m4f rv32; do
  use_core $core
  echo "firmware: building apisig-ffi (no_std, $TARGET, opt-level s)"
  lib=$(build s s "")
  link "$KEY-s" main.c "$lib"
  if [ $core = m4f ]; then
    # Hard float for real: the image passes floats in VFP registers (the EABI attribute).
    arm-none-eabi-readelf -A "$OUT/fw-$KEY-s.elf" | grep -q 'Tag_ABI_VFP_args: VFP registers' ||
      { echo "firmware: $OUT/fw-$KEY-s.elf is not a hard-float image" >&2; exit 1; }
  fi
  echo "firmware: running on $QEMU (${MACHINE[*]}, $CORE)"
  run "$OUT/fw-$KEY-s.elf" 2>&1 | tee "$OUT/fw-$KEY-s.log"
done

[ "${1:-}" = "--sizes" ] || exit 0

# ---- the size table (make size) --------------------------------------------------------
# Each row is a firmware (tests/c/firmware/size.c, or main.c for "everything") linked with
# only what that device calls, on each core, built like a firmware author would: gcc -Os,
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

# row NAME ARCHIVE STACK: one line of the table (NAME without the "$P-" prefix); the floor's
# figures are in f_flash, f_stack.
row() {
  local name=$1 archive=$2 stack=$3 text rodata data bss flash worst
  eval "$(python3 tests/c/firmware/mapsize.py "$OUT/fw-$name.map" "$archive")"
  flash=$((text + rodata))
  worst=$(echo "$stack" | tr ' ' '\n' | sort -n | tail -1)
  if [ -z "${f_flash:-}" ]; then
    f_flash=$flash f_stack=$worst
  fi
  printf '%-14s %7d %5d %7s  %-16s %+7d %6s %+6d\n' "${name#"$P"-}" "$flash" $((data + bss)) "$worst" "($stack)" \
    $((flash - f_flash)) "$(python3 -c "print('%.2fx' % ($flash / $f_flash))")" $((worst - f_stack))
}

# stack_of ELF: the painted depths a size firmware prints ("size: stack A B").
stack_of() {
  local log
  log=$(run "$1" 2>&1) || { echo "$log" >&2; echo "size firmware $1 failed" >&2; exit 1; }
  echo "$log" | sed -n 's/^size: stack \([0-9]*\) \([0-9]*\).*/\1 \2/p'
}

echo
echo "firmware sizes, in bytes: stack = the worst of (init sign) or (init verify); Δ and ratio"
echo "against the floor (bare HMAC-SHA256 + hex of the same message, same sha2 backend)."
for core in m3 m4f rv32; do
  use_core $core
  for backend in default compact; do
    extra=""
    [ $backend = compact ] && extra='--cfg sha2_backend_soft="compact"'
    lib=$(build "z-$backend" z "$extra")
    flib=$(floor "$KEY-$backend" "$extra")
    P="$KEY-$backend"
    echo
    echo "$CORE ($TARGET), sha2 backend: $backend"
    printf '%-14s %7s %5s %7s  %-16s %7s %6s %6s\n' device flash ram stack "" Δflash ratio Δstack
    unset f_flash f_stack
    link "$P-floor" size.c "$flib" -DSIZE_FLOOR
    row "$P-floor" libapisig_floor.a "$(stack_of "$OUT/fw-$P-floor.elf")"
    for c in aevo apex; do
      link "$P-typed-$c" size.c "$lib" -DSIZE_SIGN -DSIZE_TYPED $([ $c = apex ] && echo -DCASE_APEX)
      row "$P-typed-$c" libapisig_ffi.a "$(stack_of "$OUT/fw-$P-typed-$c.elf")"
    done
    for c in aevo apex; do
      link "$P-sign-$c" size.c "$lib" -DSIZE_SIGN $([ $c = apex ] && echo -DCASE_APEX)
      row "$P-sign-$c" libapisig_ffi.a "$(stack_of "$OUT/fw-$P-sign-$c.elf")"
    done
    link "$P-sign-any" size.c "$lib" -DSIZE_SIGN -DSIZE_GENERIC
    row "$P-sign-any" libapisig_ffi.a "$(stack_of "$OUT/fw-$P-sign-any.elf")"
    for c in aevo apex; do
      link "$P-verify-$c" size.c "$lib" -DSIZE_VERIFY $([ $c = apex ] && echo -DCASE_APEX)
      row "$P-verify-$c" libapisig_ffi.a "$(stack_of "$OUT/fw-$P-verify-$c.elf")"
    done
    link "$P-everything" main.c "$lib"
    all=$(run "$OUT/fw-$P-everything.elf" 2>&1 | sed -n 's/^stack: worst case over the vectors: signing \([0-9]*\) bytes, verifying \([0-9]*\) bytes, verifier_init \([0-9]*\) bytes.*/\1 \2 \3/p')
    row "$P-everything" libapisig_ffi.a "$all"
  done
done
