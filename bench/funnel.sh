#!/usr/bin/env bash
# Funnel benchmark against the yardstick: loads a year of 1,000,000 rejections and 5,000,000
# KPI points once (bench_funnel generates them in SQL), then alternates the reference server's
# signed load (bench/reference.sh) with `bench_funnel`'s timing of GET /v1/kpis/funnel (plain,
# by month, by stage, and up to now), and judges the slowest query's median. The issue's target,
# under 200 ms where the reference takes 49,000/s, scales inversely: T ms here counts as
# T × reference/s ÷ 49,000.
#
#   bench/funnel.sh                  # SQLite (a file in a temporary directory, loaded once)
#   bench/funnel.sh postgres://…     # PostgreSQL (loaded on the first run, kept after)
#   bench/funnel.sh 'sqlite:///tmp/funnel.db?mode=rwc'   # an SQLite file, kept after
#
# env: BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_REJECTIONS, BENCH_KPIS, BENCH_QUERIES.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/reference.sh"
bin=$(bench_example bench_funnel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url=${1:-sqlite://$work/funnel.db?mode=rwc}
rounds=()
for _ in $(seq "${BENCH_ROUNDS:-3}"); do
  read -r ref ref_p99 < <(reference_run "${BENCH_SECONDS:-10}")
  echo "reference: ${ref} webhooks/s (p99 ${ref_p99} ms)"
  out=$(RUST_LOG=warn "$bin" "$url")
  echo "$out"
  rounds+=("$(sed -nE 's/^funnel: ([0-9.]+) ms/\1/p' <<<"$out"):$ref")
done
database=sqlite; [[ "${1:-}" == postgres* ]] && database=postgres
time_rounds_line "funnel over 1M rejections and 5M KPI points ($database)" 200 "${rounds[@]}"
