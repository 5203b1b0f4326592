# The Python face (python/): include from the Makefile.
#   make py-test   create .venv, build apisig._native, run pytest, mypy --strict, stubtest, ruff
#   make py-demo   sign and verify every dialect from Python
#   make wheel-smoke  build the release wheel (abi3, manylinux_2_17, stripped) into target/wheels,
#                     install it into a fresh venv and sign/verify there (scripts/wheel.sh)
.PHONY: py-env py-test py-demo wheel-smoke

PY_VENV := .venv
PY := $(PY_VENV)/bin/python

py-env:
	scripts/py-env.sh

py-test: py-env
	$(PY) -m pytest python/tests -q
	cd python && ../$(PY) -m mypy --strict --config-file pyproject.toml apisig examples/usage.py examples/demo.py
	cd python && ../$(PY) -m mypy.stubtest apisig._native
	$(PY) -m ruff check python
	$(PY) -m ruff format --check python

py-demo: py-env
	$(PY) python/examples/demo.py

wheel-smoke:
	scripts/wheel.sh
