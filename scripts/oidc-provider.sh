#!/usr/bin/env bash
# Installs node-oidc-provider (the certified OpenID provider by panva, from the npm registry)
# into .oidc-provider/ at the repository root, for the tests that run a real provider on
# 127.0.0.1 (python/tests/test_oidc_provider.py starts python/tests/oidc_provider.mjs).
# Idempotent: nothing is fetched when the pinned version is already there. Needs Node >= 20.19.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=9.13.3
DIR=.oidc-provider
# Tests running in parallel (nextest runs each in its own process) may all call this on a fresh
# clone: one installs while the others wait, instead of finding a half-written node_modules.
mkdir -p "$DIR"
exec 9>"$DIR/.install.lock"
flock 9
if [ -f "$DIR/node_modules/oidc-provider/package.json" ] &&
   grep -q "\"version\": \"$VERSION\"" "$DIR/node_modules/oidc-provider/package.json"; then
  exit 0
fi
command -v npm >/dev/null || { echo "oidc-provider.sh: npm (Node 20) is needed" >&2; exit 1; }
[ -f "$DIR/package.json" ] || echo '{"private": true, "type": "module"}' > "$DIR/package.json"
npm install --prefix "$DIR" --no-audit --no-fund --save-exact "oidc-provider@$VERSION" >/dev/null
echo "oidc-provider.sh: oidc-provider $VERSION in $DIR"
