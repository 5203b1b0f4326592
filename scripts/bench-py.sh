#!/bin/sh
# The Python harness (python/bench/bench.py, pyperf) in the project's .venv.
#   scripts/bench-py.sh [OUT.json [--only PREFIX]]   full run (make bench): pyperf JSON; with
#                                                    --only, the benchmarks named PREFIX...
#   scripts/bench-py.sh --smoke      each benchmarked function once, results checked (make test)
set -eu
cd "$(dirname "$0")/.."
scripts/py-env.sh >&2
PY=.venv/bin/python
if [ "${1:-}" = --smoke ]; then
    exec "$PY" python/bench/bench.py --smoke
fi
"$PY" -c 'import pyperf' 2>/dev/null || "$PY" -m pip install -q --disable-pip-version-check "pyperf>=2.6"
out=${1:-target/bench/python.json}
shift || true
mkdir -p "$(dirname "$out")"
rm -f "$out"
# --fast: 6 worker processes instead of 20 (the spread is reported beside each mean).
"$PY" python/bench/bench.py --fast --quiet -o "$out" "$@"
