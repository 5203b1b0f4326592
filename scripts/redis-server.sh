#!/usr/bin/env bash
# Installs Debian's redis-server where it is missing. The tests of the shared replay record
# (redis/tests, python/tests/test_redis.py) start their own servers on free loopback ports;
# the packaged service is not used (and is stopped where the package started it).
set -euo pipefail
command -v redis-server > /dev/null 2>&1 && exit 0
if ! command -v apt-get > /dev/null 2>&1; then
  echo "redis-server.sh: redis-server is missing and apt-get is not available" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "redis-server.sh: installing redis-server" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be empty on a fresh machine.
apt-cache show redis-server > /dev/null 2>&1 || $SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-server > /dev/null
if command -v systemctl > /dev/null 2>&1; then $SUDO systemctl stop redis-server > /dev/null 2>&1 || true; fi
