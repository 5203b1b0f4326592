# c.mk: the C face (issue 3). Included by the Makefile.
#   make c-test          header checks + tests/c under valgrind and ASan/UBSan
#   make firmware-test   Cortex-M3 firmware under qemu-system-arm (no_std staticlib)
#   make install PREFIX=/usr/local [DESTDIR=]   libapisig.a, libapisig.so, apisig.h, apisig.pc
.PHONY: c-test firmware-test install

PREFIX ?= /usr/local

c-test:
	scripts/c-test.sh

firmware-test:
	scripts/c-firmware.sh

install:
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" scripts/c-install.sh
