#!/usr/bin/env bash
# BizReach benchmark against the yardstick: alternates the reference server's signed load
# (bench/reference.sh) with `bench_bizreach` (a backfill of 500 and a poll of 10 groups × 1,000
# new applications from the local simulator, imported and processed by import.rhai), and prints
# each as a rate and a ratio to the reference's webhooks/s in the same run.
#
#   bench/bizreach.sh        env: BENCH_ROUNDS (2), BENCH_SECONDS (10, the reference's load)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/reference.sh"
cargo build --release --quiet -p hirelay --example bench_bizreach --manifest-path "$root/Cargo.toml"
best_ref=0; best_poll=999999; best_backfill=999999
for _ in $(seq "${BENCH_ROUNDS:-2}"); do
  read -r ref ref_p99 < <(reference_run "${BENCH_SECONDS:-10}")
  echo "reference: ${ref} webhooks/s (p99 ${ref_p99} ms)"
  out=$(RUST_LOG=warn "$root/target/release/examples/bench_bizreach")
  grep -E '^(backfill|poll) of' <<<"$out"
  poll=$(sed -nE 's/^poll of .* processed in ([0-9]+) ms/\1/p' <<<"$out")
  backfill=$(sed -nE 's/^backfill of .* processed in ([0-9]+) ms/\1/p' <<<"$out")
  (( ref > best_ref )) && best_ref=$ref
  (( poll < best_poll )) && best_poll=$poll; (( backfill < best_backfill )) && best_backfill=$backfill
done
# Targets: 10,000 polled applications in 3 s, 500 backfilled in 1 s, when the reference took 49,000/s.
ratio_line "poll, 10,000 applications in ${best_poll} ms (best of ${BENCH_ROUNDS:-2})" \
  "$(( 10000 * 1000 / best_poll ))" "$best_ref" 3333
ratio_line "backfill, 500 applications in ${best_backfill} ms (best of ${BENCH_ROUNDS:-2})" \
  "$(( 500 * 1000 / best_backfill ))" "$best_ref" 500
