#!/usr/bin/env bash
# Installs the Debian packages the C face needs (tests, firmware), skipping what is there.
#   scripts/c-deps.sh            everything
#   scripts/c-deps.sh host       C tests only (clang, cJSON, OpenSSL and its command, pkg-config)
#   scripts/c-deps.sh firmware   firmware only: Cortex-M (arm-none-eabi-gcc, newlib, qemu) and
#                                RISC-V (riscv64-unknown-elf-gcc, picolibc, qemu-system-misc)
set -euo pipefail
host="clang libclang-rt-dev libcjson-dev libssl-dev openssl pkg-config"
firmware="gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi qemu-system-arm
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc"
case "${1:-all}" in
  host) want=$host ;;
  firmware) want=$firmware ;;
  all) want="$host $firmware" ;;
  *) echo "usage: $0 [host|firmware|all]" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "c-deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Update the package lists once per machine (apt-cache knows nothing before that).
if [ ! -f /var/lib/apt/lists/.apisig-updated ] || ! apt-cache show $missing >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO touch /var/lib/apt/lists/.apisig-updated
fi
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
