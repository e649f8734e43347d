#!/usr/bin/env bash
# Installs (if needed) and starts a throwaway PostgreSQL server on 127.0.0.1:55432 with a
# superuser `hirelay`/`hirelay`, for the PostgreSQL run of the test suite:
#   scripts/start-test-postgres.sh
#   HIRELAY_TEST_DATABASE_URL=postgres://hirelay:hirelay@127.0.0.1:55432/hirelay cargo test --workspace
set -euo pipefail
port=${PGPORT_TEST:-55432}
dir=${PGDATA_TEST:-/tmp/hirelay-pg}

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

if run "$bin/pg_ctl -D $dir status" >/dev/null 2>&1; then
  echo "postgres already running on $port"
  exit 0
fi
rm -rf "$dir"; mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
run "$bin/initdb -D $dir -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
run "$bin/pg_ctl -D $dir -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=1000' -l $dir/log -w start" >/dev/null
run "$bin/psql -h 127.0.0.1 -p $port -U postgres -c \"CREATE ROLE hirelay LOGIN SUPERUSER PASSWORD 'hirelay'\"" >/dev/null
run "$bin/psql -h 127.0.0.1 -p $port -U postgres -c 'CREATE DATABASE hirelay OWNER hirelay'" >/dev/null
echo "postgres running on 127.0.0.1:$port"
