#!/usr/bin/env bash
# Erasure benchmark against the yardstick: loads 1,000,000 rejected applications with their
# candidates, invitations, mails, stored ATS webhooks and decision records (bench_erasure
# generates them in SQL), then alternates the reference server's signed load
# (bench/reference.sh) with `bench_erasure`'s timing of DELETE /v1/candidates/{id} (one person
# among them, median of 6), and judges the median round. The issue's target, under 100 ms where
# the reference takes 49,000/s, scales inversely: T ms here counts as T × reference/s ÷ 49,000.
#
#   bench/erasure.sh                  # SQLite (a fresh file each round)
#   bench/erasure.sh postgres://…     # PostgreSQL (loaded on the first run, kept after)
#
# env: BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_REJECTIONS (1000000), BENCH_ERASURES (7).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/reference.sh"
bin=$(bench_example bench_erasure)
rounds=()
for _ in $(seq "${BENCH_ROUNDS:-3}"); do
  read -r ref ref_p99 < <(reference_run "${BENCH_SECONDS:-10}")
  echo "reference: ${ref} webhooks/s (p99 ${ref_p99} ms)"
  out=$(RUST_LOG=warn "$bin" ${1:+"$1"})
  echo "$out"
  rounds+=("$(sed -nE 's/^erasure: ([0-9.]+) ms/\1/p' <<<"$out"):$ref")
done
database=sqlite; [[ "${1:-}" == postgres* ]] && database=postgres
time_rounds_line "erasing one person among 1M applications ($database)" 100 "${rounds[@]}"
