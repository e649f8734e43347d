#!/usr/bin/env bash
# Ingestion benchmark: the real release binary against ../shared/bench's reference server, same
# signed load, alternating (side-by-side.sh), plus idle and peak memory of hirelay.
#
#   bench/ingest.sh                  # SQLite (the default database)
#   bench/ingest.sh postgres://…     # PostgreSQL (prints absolute throughput as well)
#
# env: BENCH_SECONDS (10), BENCH_ROUNDS (2) and the knobs of side-by-side.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_DIR:-$root/../shared}
secret=${BENCH_SECRET:-whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}
db_url=${1:-}
port=${BENCH_PORT:-18080}

# HIRELAY_BIN: an already built binary (default: build the release one now).
bin=${HIRELAY_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet -p hirelay --manifest-path "$root/Cargo.toml"
  bin=$root/target/release/hirelay
fi
work=$(mktemp -d)
export HIRELAY_BIND=127.0.0.1:$port HIRELAY_DATA_DIR=$work/data HIRELAY_WEBHOOK_SECRET_ATS=$secret \
       HIRELAY_RULES_DIR=$root/rules HIRELAY_TEMPLATES_DIR=$root/templates RUST_LOG=warn
[ -n "$db_url" ] && export HIRELAY_DATABASE_URL=$db_url
"$bin" serve > "$work/hirelay.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
sleep 2
idle=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

out=$(BENCH_SECRET=$secret "$shared/bench/side-by-side.sh" "http://127.0.0.1:$port/v1/webhooks/ats" "${BENCH_SECONDS:-10}")
echo "$out"
peak=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "database: ${db_url:+postgres}${db_url:-sqlite (default)}"
echo "hirelay idle RSS: $((idle / 1024)) MB, peak RSS under load: $((peak / 1024)) MB"
echo "$out" | awk '/^hirelay RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^(rps|p99_ms)=/) printf "%s ", $i; print "" }' | sed 's/^/hirelay: /'
