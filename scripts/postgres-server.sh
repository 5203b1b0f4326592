#!/usr/bin/env bash
# Installs Debian's PostgreSQL server where it is missing. The tests of the PostgreSQL key store
# (store/tests/postgres.rs) start their own servers (initdb + postgres in a temporary directory,
# on a free loopback port, as the unprivileged user `nobody` when run as root, which PostgreSQL
# refuses); the packaged cluster is not used (and is stopped where the package started it).
#   scripts/postgres-server.sh                  install where missing
#   scripts/postgres-server.sh start DIR PORT   such a throwaway server for other tests (Python's):
#                                               initdb in DIR the first time, postgres on
#                                               127.0.0.1:PORT; returns once it accepts connections
#   scripts/postgres-server.sh stop DIR         fast shutdown; the data stays (start DIR again)
# The server's URL: postgres://postgres@127.0.0.1:PORT/postgres (trust authentication).
set -euo pipefail

if [ "${1:-}" = start ] || [ "${1:-}" = stop ]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  dir=$(realpath "$2")
  as=()
  if [ "$(id -u)" = 0 ]; then
    chown nobody: "$dir"
    as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  fi
  if [ "$1" = stop ]; then
    exec "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null
  fi
  if [ ! -d "$dir/data" ]; then
    "${as[@]}" "$bin/initdb" -A trust -U postgres --no-sync -E UTF8 --locale=C -D "$dir/data" > /dev/null
  fi
  exec "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 start \
    -o "-p $3 -c listen_addresses=127.0.0.1 -c fsync=off -c unix_socket_directories=$dir" > /dev/null
fi

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
