# apisig — the two commands a newcomer needs:
#   make demo   runs the demo (every dialect: sign, curl, verify, tamper, replay; Rust, then Python)
#   make test   runs every test, exactly as CI does
.PHONY: demo test lint vectors rust-test package-check bare-metal bench bench-smoke soak

include py.mk
include c.mk
include sec.mk

CARGO ?= cargo

demo:
	$(CARGO) run -q --release -p apisig --example demo
	@echo
	@echo "== The same from Python (python/examples/demo.py)"
	@$(MAKE) -s py-demo

test: lint vectors rust-test package-check bare-metal c-test firmware-test py-test wheel-smoke bench-smoke ct-test fuzz-ci
	@echo "make test: all green"

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy -q --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc -q -p apisig --no-deps

vectors:
	python3 tests/vectors/generate.py --check
	python3 tests/vectors/ocsp/gen.py --check

rust-test:
	scripts/redis-server.sh
	scripts/postgres-server.sh # apisig-store's tests start their own PostgreSQL servers
	scripts/c-deps.sh host # the openssl command: apisig-http's OCSP tests read requests with it
	scripts/oidc-provider.sh # node-oidc-provider, for apisig-http's OpenID tests
	$(CARGO) nextest run --workspace --no-fail-fast
# The same core tests on the RustCrypto JWS arithmetic, firmware's: the workspace run above
# has the core's `ring` feature on (the Python, C and HTTP crates ask for it).
	$(CARGO) nextest run -p apisig --features rsa --no-fail-fast
	$(CARGO) test -q --workspace --doc

# The crates meant for others (apisig, apisig-ffi, apisig-redis, apisig-store, apisig-http) packaged as they
# would be published, without the from-scratch build of `cargo package`'s verification (run that
# by hand before a release: `cargo package -p apisig -p apisig-ffi -p apisig-redis -p apisig-store -p apisig-http`).
package-check:
	python3 scripts/package-check.py

bare-metal:
	scripts/bare-metal.sh

# A bounded soak of the replay record in Redis (not part of `make test`, about two minutes):
# ASGI, WSGI and Rust workers on one Redis under load while Redis is killed and restarted with
# and without persistence (scripts/soak.py; the counts are in docs/redis.md). Then a million
# clients in one SQLite file, verified and revoked (store/tests/soak.rs; figures in docs/stores.md).
soak: py-env
	$(PY) scripts/soak.py 20
	$(CARGO) test -q --release -p apisig-store --test soak -- --ignored --nocapture

# Benchmarks (not part of `make test`): Rust (criterion: the core, and the C ABI called in the same
# process), C (bench/c/bench.c through the header) and Python (pyperf), then one table of ratios,
# each against a baseline measured in the same run (the access-token ratios also measured in
# alternation, target/bench/*-interleaved.txt: steadier on a shared machine); then end to end
# over HTTP under wrk (an axum server with and without the apisig layer; a Starlette app under
# uvicorn with and without the ASGI middleware).
bench:
	$(CARGO) bench -q -p apisig --bench sign_verify
	$(CARGO) bench -q -p apisig --features rsa,ring,precomputed-tables --bench jws
	$(CARGO) bench -q -p apisig --features rsa,precomputed-tables --bench jws -- apisig-rustcrypto
	mkdir -p target/bench
	$(CARGO) bench -q -p apisig --features rsa,ring,precomputed-tables --bench jws_interleaved > target/bench/jws-interleaved.txt
	cat target/bench/jws-interleaved.txt
	$(CARGO) bench -q -p apisig-ffi --bench ffi_sign
	scripts/postgres-server.sh
	$(CARGO) bench -q -p apisig-store --bench stores
	scripts/bench-c.sh target/bench/c.jsonl
	scripts/bench-py.sh target/bench/python.json
	$(PY) python/bench/bench.py --interleaved jws- 10 > target/bench/python-jws-interleaved.txt
	cat target/bench/python-jws-interleaved.txt
	python3 scripts/bench-table.py target
	scripts/bench-http.sh target/bench/http.json
	scripts/bench-asgi.sh target/bench/asgi.json

# What `make test` runs of the harnesses, so they cannot rot: the C one built and run for a
# few iterations, the Python one importing and calling each benchmarked function once (both
# check their results against OpenSSL / the Aevo reference code), the HTTP ones (axum, and
# Starlette under uvicorn) for a second each (every signed request accepted). No timing.
bench-smoke:
	scripts/bench-c.sh --smoke
	scripts/bench-py.sh --smoke
	scripts/bench-http.sh --smoke
	scripts/bench-asgi.sh --smoke
