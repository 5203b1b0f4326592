#!/usr/bin/env bash
# Installs Debian's PostgreSQL server where it is missing. The tests of the PostgreSQL key store
# (store/tests/postgres.rs) start their own servers (initdb + postgres in a temporary directory,
# on a free loopback port, as the unprivileged user `nobody` when run as root, which PostgreSQL
# refuses); the packaged cluster is not used (and is stopped where the package started it).
set -euo pipefail
ls /usr/lib/postgresql/*/bin/postgres > /dev/null 2>&1 && exit 0
if ! command -v apt-get > /dev/null 2>&1; then
  echo "postgres-server.sh: PostgreSQL is missing and apt-get is not available" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "postgres-server.sh: installing postgresql" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be empty on a fresh machine.
apt-cache show postgresql > /dev/null 2>&1 || $SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postgresql > /dev/null
if command -v systemctl > /dev/null 2>&1; then $SUDO systemctl stop postgresql > /dev/null 2>&1 || true; fi
$SUDO service postgresql stop > /dev/null 2>&1 || true
