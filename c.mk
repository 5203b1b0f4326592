# c.mk: the C face (issue 3). Included by the Makefile.
#   make c-test          header checks + tests/c under valgrind and ASan/UBSan (needs py-env: the CLI)
#   make firmware-test   the firmware under QEMU: Cortex-M3, Cortex-M4F, RISC-V (no_std staticlib)
#   make size            the firmware size table: sign-only, verify-only, everything vs a bare HMAC
#   make install PREFIX=/usr/local [DESTDIR=]   libapisig.a, libapisig.so, apisig.h, apisig.pc
.PHONY: c-test firmware-test size install

PREFIX ?= /usr/local

# py-env: tests/c/store.c drives the `apisig keys` command line.
c-test: py-env
	scripts/c-test.sh

firmware-test:
	scripts/c-firmware.sh

size:
	scripts/c-firmware.sh --sizes

install:
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" scripts/c-install.sh
