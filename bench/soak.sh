#!/usr/bin/env bash
# Soak (issue 15, item 5): hirelay's capacity for signed ATS webhooks, then 10 minutes at half of
# it, reporting per minute the p50/p99 latency, errors, RSS and queue depth, and at the end
# whether RSS stayed within 10 % and the queue drained. Exits non-zero otherwise.
#
#   bench/soak.sh                  # SQLite (the default database), release build
#   bench/soak.sh postgres://…     # PostgreSQL
#
# env: SOAK_SECONDS (600), SOAK_CAPACITY_SECONDS (20), SOAK_WINDOW_SECONDS (60), SOAK_LANES (32),
#      HIRELAY_BIN and SOAK_BIN (already built binaries; default: build release ones now),
#      BENCH_PORT (18090).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secret=${BENCH_SECRET:-whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}
db_url=${1:-}
port=${BENCH_PORT:-18090}
target=${CARGO_TARGET_DIR:-$root/target}

bin=${HIRELAY_BIN:-}
soak=${SOAK_BIN:-}
if [ -z "$bin" ] || [ -z "$soak" ]; then
  cargo build --release --quiet -p hirelay --bin hirelay --example soak --manifest-path "$root/Cargo.toml"
  bin=${bin:-$target/release/hirelay}
  soak=${soak:-$target/release/examples/soak}
fi
work=$(mktemp -d)
export HIRELAY_BIND=127.0.0.1:$port HIRELAY_DATA_DIR=$work/data HIRELAY_WEBHOOK_SECRET_ATS=$secret \
       HIRELAY_RULES_DIR=$root/rules HIRELAY_TEMPLATES_DIR=$root/templates RUST_LOG=warn
[ -n "$db_url" ] && export HIRELAY_DATABASE_URL=$db_url
"$bin" serve > "$work/hirelay.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
echo "database: $([ -n "$db_url" ] && echo postgres || echo "sqlite (default)"); binary: $bin"
BENCH_SECRET=$secret "$soak" "http://127.0.0.1:$port" "$pid"
