#!/usr/bin/env bash
# Processing benchmark against the yardstick: alternates the reference server's signed load
# (bench/reference.sh) with `bench_processing` (N events, half BizReach imports, half ATS
# rejections with a Career Relay invitation, through the shipped scripts to committed actions),
# and prints events/s as a ratio to the reference's webhooks/s in the same run.
#
#   bench/processing.sh                  # SQLite
#   bench/processing.sh postgres://…     # PostgreSQL (one database serves every round)
#
# env: BENCH_ROUNDS (3), BENCH_EVENTS (10000), BENCH_SECONDS (10, the reference's load).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/reference.sh"
bin=$(bench_example bench_processing)
rounds=()
for _ in $(seq "${BENCH_ROUNDS:-3}"); do
  read -r ref ref_p99 < <(reference_run "${BENCH_SECONDS:-10}")
  echo "reference: ${ref} webhooks/s (p99 ${ref_p99} ms)"
  rate=$(RUST_LOG=warn "$bin" "${BENCH_EVENTS:-10000}" ${1:+"$1"} \
    | sed -nE 's/^processing: ([0-9]+) events\/s/\1/p')
  echo "processing: ${rate} events/s"
  rounds+=("$rate:$ref")
done
database=sqlite; [ -n "${1:-}" ] && database=postgres
rounds_line "processing ($database)" 10000 "${rounds[@]}"
