#!/usr/bin/env bash
# Mail sending benchmark against the yardstick: alternates the reference server's signed load
# (bench/reference.sh) with `bench_mail` (5,000 invitations sent by hirelay's sender over its
# pooled connections to an SMTP server on loopback, until each is marked sent), and prints
# mails/s as a ratio to the reference's webhooks/s in the same run. The issue's target, 500
# mails/s where the reference takes 49,000/s, is 0.0102×.
#
#   bench/mail.sh                  # SQLite
#   bench/mail.sh postgres://…     # PostgreSQL
#
# env: BENCH_ROUNDS (3), BENCH_MAILS (5000), BENCH_SECONDS (10, the reference's load).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/reference.sh"
example_rounds bench_mail "${BENCH_MAILS:-5000}" 's/^mail: ([0-9]+) mails\/s/\1/p' \
  "mails sent over pooled SMTP connections" 500 "${1:-}"
