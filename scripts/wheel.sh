#!/usr/bin/env bash
# The release wheel of the Python package, built as it is shipped and then installed into a
# fresh venv and smoke-tested there (scripts/wheel_smoke.py).
#   scripts/wheel.sh [OUT_DIR]    build into OUT_DIR (default target/wheels), check, smoke-test
#
# `maturin build --release --zig --compatibility manylinux_2_17`: zig (PyPI `ziglang`) links the
# extension against glibc 2.17's symbol versions, so one abi3 wheel installs on every glibc
# Linux of manylinux2014 and later; linked by the host's cc (glibc 2.36 here) it would need
# glibc 2.34 (pthread_key_create@GLIBC_2.34, stat64@GLIBC_2.33). The extension is stripped
# (`strip = true` in python/pyproject.toml). maturin and ziglang live in their own venv,
# target/wheel/build-venv, so the development .venv stays as scripts/py-env.sh makes it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$(realpath -m "${1:-target/wheels}")
PYTHON=${PYTHON:-python3}
BUILD_VENV=$ROOT/target/wheel/build-venv
SMOKE_VENV=$ROOT/target/wheel/smoke-venv
TAG=manylinux_2_17

REQUIREMENTS=("maturin>=1.9.4,<2" "ziglang>=0.13")
if [ ! -x "$BUILD_VENV/bin/python" ]; then
    "$PYTHON" -m venv "$BUILD_VENV"
fi
stamp=$BUILD_VENV/.apisig-requirements
wanted=$(printf '%s\n' "${REQUIREMENTS[@]}")
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    "$BUILD_VENV/bin/python" -m pip install -q --disable-pip-version-check "${REQUIREMENTS[@]}"
    printf '%s\n' "$wanted" > "$stamp"
fi

rm -rf "$OUT"
# maturin finds zig as `python3 -m ziglang` of the venv first on PATH.
VIRTUAL_ENV=$BUILD_VENV PATH=$BUILD_VENV/bin:$PATH \
    maturin build --release --locked --zig --compatibility "$TAG" -m python/Cargo.toml -o "$OUT" -q
wheels=("$OUT"/apisig-*.whl)
[ ${#wheels[@]} = 1 ] && [ -f "${wheels[0]}" ] || { echo "wheel.sh: expected one wheel in $OUT" >&2; exit 1; }
wheel=${wheels[0]}

# A fresh venv each time, with nothing but the wheel (the package has no dependencies).
rm -rf "$SMOKE_VENV"
"$PYTHON" -m venv --without-pip "$SMOKE_VENV"
"$BUILD_VENV/bin/python" -m pip --python "$SMOKE_VENV/bin/python" install -q --disable-pip-version-check \
    --no-deps --no-index "$wheel"
# -I: isolated, so the repository's python/ can never be what is imported.
(cd "$SMOKE_VENV" && bin/python -I "$ROOT/scripts/wheel_smoke.py" "$wheel" "$TAG" "$ROOT/tests/vectors")
