# sec.mk: security checks (issue 7). Included by the Makefile.
#   make ct-test     constant-time check: secrets undefined under valgrind memcheck (gating)
#   make ct-bench    dudect-style timing t-test per compare function (not gating)
#                    CT_BENCH_N=10000000 for the issue's 10 million measurements
#   make fuzz        every cargo-fuzz target in core/fuzz, FUZZ_SECONDS each (default 60)
#   make fuzz-ci     a short pass, FUZZ_CI_SECONDS each (default 17: 14 targets, ~4.5 min with a warm build)
.PHONY: ct-test ct-bench fuzz fuzz-ci

FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 17

ct-test:
	scripts/ct-test.sh

ct-bench:
	scripts/ct-bench.sh

fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-ci:
	scripts/fuzz.sh $(FUZZ_CI_SECONDS)
