#!/usr/bin/env bash
# Creates .venv at the repository root with what the Python face needs, and builds the
# extension (apisig._native) into it with maturin. Idempotent: packages are installed only when
# the requirement list changed, and the extension is rebuilt only when its sources did.
#   scripts/py-env.sh          set up / bring up to date
#   PY_ENV_FORCE=1 ...         rebuild the extension even when nothing changed
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
PYTHON=${PYTHON:-python3}

# curl is driven by the CLI tests; install it where it is missing (Debian). redis-server is
# for the shared replay store tests, which start their own servers.
if ! command -v curl >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && apt-get install -y -qq curl) >/dev/null
    else
        echo "py-env: curl is missing and apt-get is not available" >&2
        exit 1
    fi
fi
scripts/redis-server.sh

REQUIREMENTS=(
    "maturin>=1.9.4,<2"
    "pytest>=8"
    "httpx>=0.27"
    "requests>=2.31"
    "starlette>=0.37"
    "uvicorn>=0.29"
    "flask>=3.0"
    "werkzeug>=3.0"
    "mypy>=1.11"
    "ruff>=0.6"
    "ccxt>=4.3"
    "PyJWT>=2.8"
    "authlib>=1.3"
    "cryptography>=42"
    "redis>=5"
)

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
stamp_reqs=$VENV/.apisig-requirements
wanted=$(printf '%s\n' "${REQUIREMENTS[@]}")
if [ ! -f "$stamp_reqs" ] || [ "$(cat "$stamp_reqs")" != "$wanted" ]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${REQUIREMENTS[@]}"
    printf '%s\n' "$wanted" > "$stamp_reqs"
    rm -f "$VENV/.apisig-build"
fi

# Rebuild when any input of the extension changed (or it is not importable).
stamp_build=$VENV/.apisig-build
sources=$(cd "$ROOT" && find core/src core/Cargo.toml store/src store/Cargo.toml python/src python/Cargo.toml python/pyproject.toml \
    Cargo.toml Cargo.lock -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ "${PY_ENV_FORCE:-0}" = 1 ] || [ ! -f "$stamp_build" ] || [ "$(cat "$stamp_build")" != "$sources" ] \
    || ! "$VENV/bin/python" -c 'import apisig._native' >/dev/null 2>&1; then
    VIRTUAL_ENV=$VENV PATH=$VENV/bin:$PATH "$VENV/bin/maturin" develop --release -q -m python/Cargo.toml
    echo "$sources" > "$stamp_build"
fi
"$VENV/bin/python" -c 'import apisig; print("py-env: apisig", apisig.__version__, "in", "'"$VENV"'")'
