#!/usr/bin/env bash
# Every benchmark, one after the other, on SQLite and, given a PostgreSQL URL, on it too.
#
#   bench/all.sh [postgres://…]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for bench in ingest processing bizreach invitations mail funnel erasure retention; do
  echo "== $bench (sqlite)"; "$here/$bench.sh"
  if [ -n "${1:-}" ] && [ "$bench" != bizreach ]; then
    echo "== $bench (postgres)"; "$here/$bench.sh" "$1"
  fi
done
