#!/usr/bin/env bash
# Invitations benchmark against the yardstick: alternates the reference server's signed load
# (bench/reference.sh) with `bench_invitations` (10,000 Career Relay invitations rendered with
# the active template and queued in the outbox by the code event processing runs), and prints
# invitations/s as a ratio to the reference's webhooks/s in the same run. The issue's target,
# 10,000 in under 2 s where the reference takes 49,000/s, is 5,000/s = 0.102×.
#
#   bench/invitations.sh                  # SQLite
#   bench/invitations.sh postgres://…     # PostgreSQL (one database serves every round)
#
# env: BENCH_ROUNDS (3), BENCH_INVITATIONS (10000), BENCH_SECONDS (10, the reference's load).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/reference.sh"
example_rounds bench_invitations "${BENCH_INVITATIONS:-10000}" 's/^invitations: ([0-9]+)\/s/\1/p' \
  "invitations rendered and queued" 5000 "${1:-}"
