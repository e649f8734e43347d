# Sourced by the benchmarks: runs ../shared/bench's reference server (mode `durable`: signature
# check, SQLite WAL + synchronous=FULL, group commit before 202) under the same signed load as
# side-by-side.sh, alone, and prints "rps p99_ms" (on REFERENCE_PORT, 18099 by default: set
# another to run two benchmarks at once). Targets in the issues are ratios to it, measured in
# one run: the issues quote it at 49,000 webhooks/s on the machine they were written on
# (../shared/bench/README.md), so "10,000 events/s" means 10,000/49,000 = 0.204× its rate.
#
#   source bench/reference.sh; read -r ref_rps ref_p99 < <(reference_run 10)
REFERENCE_QUOTED_RPS=49000
bench_shared=${SHARED_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared}
bench_secret=${BENCH_SECRET:-whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}

reference_run() { # reference_run SECONDS -> "rps p99_ms"
  local secs=${1:-10} port=${REFERENCE_PORT:-18099} work pid out
  command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  CARGO_TARGET_DIR=${REFERENCE_TARGET:-/tmp/hirelay-reference-target} \
    cargo build --release --quiet --manifest-path "$bench_shared/bench/reference/Cargo.toml"
  work=$(mktemp -d)
  REFERENCE_SECRET=$bench_secret REFERENCE_DB=$work/ref.db \
    "${REFERENCE_TARGET:-/tmp/hirelay-reference-target}/release/hirelay-reference" durable "$port" &
  pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" -X POST -d '{}' && break; sleep 0.1; done
  python3 "$bench_shared/bench/make-requests.py" "$bench_secret" "$bench_shared/bench/ats-1k.json" 700000 "$work/requests.tsv"
  out=$(wrk -t2 -c"${BENCH_CONNS:-64}" -d"${secs}s" --latency -s "$bench_shared/bench/signed-load.lua" \
    "http://127.0.0.1:$port/hook" -- "$bench_shared/bench/ats-1k.json" "$work/requests.tsv" 2 | grep '^RESULT')
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"
  sed -E 's/.*rps=([0-9]+).*p99_ms=([0-9.]+).*/\1 \2/' <<<"$out"
}

# ratio_line WHAT VALUE_PER_S REFERENCE_RPS TARGET_PER_S_AS_QUOTED
# prints the figure, the reference's, their ratio and the issue's target as a ratio.
ratio_line() {
  python3 - "$@" <<'PY'
import sys
what, value, ref, target = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
ratio, wanted = value / ref, target / 49000
verdict = "met" if ratio >= wanted else "NOT met"
print(f"{what}: {value:,.0f}/s vs reference {ref:,.0f}/s in this run = {ratio:.3f}x "
      f"(target {target:,.0f}/s of 49,000/s = {wanted:.3f}x: {verdict})")
PY
}

# rounds_line WHAT TARGET_PER_S_AS_QUOTED VALUE_PER_S:REFERENCE_RPS ...
# One pair per round; a round loads the reference and then hirelay, one after the other, so
# each pair is a ratio "measured in one run". Prints each round's ratio and judges the median
# round against the target (this VM's speed changes from one minute to the next: a best
# figure of one round over the best reference of another mixes runs).
rounds_line() {
  python3 - "$@" <<'PY'
import statistics, sys
what, target, pairs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
wanted = target / 49000
ratios = []
for pair in pairs:
    value, ref = map(float, pair.split(":"))
    ratios.append(value / ref)
    print(f"  round: {value:,.0f}/s vs reference {ref:,.0f}/s = {value / ref:.3f}x")
median = statistics.median(ratios)
verdict = "met" if median >= wanted else "NOT met"
print(f"{what}: median round {median:.3f}x (of {len(ratios)}: {min(ratios):.3f}x to {max(ratios):.3f}x) "
      f"(target {target:,.0f}/s of 49,000/s = {wanted:.3f}x: {verdict})")
PY
}


# time_rounds_line WHAT TARGET_MS_AS_QUOTED VALUE_MS:REFERENCE_RPS ...
# The same for a time to stay under: a time target scales inversely with the machine's speed,
# so a round's time counts as VALUE_MS × REFERENCE_RPS / 49,000 (what it would take where the
# reference does 49,000/s); the median round is judged against the target.
time_rounds_line() {
  python3 - "$@" <<'PY'
import statistics, sys
what, target, pairs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
scaled = []
for pair in pairs:
    value, ref = map(float, pair.split(":"))
    scaled.append(value * ref / 49000)
    print(f"  round: {value:,.1f} ms with the reference at {ref:,.0f}/s = {scaled[-1]:,.1f} ms at 49,000/s")
median = statistics.median(scaled)
verdict = "met" if median < target else "NOT met"
print(f"{what}: median round {median:,.1f} ms at 49,000/s (of {len(scaled)}: {min(scaled):,.1f} to {max(scaled):,.1f} ms) "
      f"(target < {target:,.0f} ms at 49,000/s: {verdict})")
PY
}

# bench_example NAME: builds the release example NAME with the caller's CARGO_TARGET_DIR (default
# target/) and prints its path.
bench_example() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  cargo build --release --quiet -p hirelay --example "$1" --manifest-path "$root/Cargo.toml"
  echo "${CARGO_TARGET_DIR:-$root/target}/release/examples/$1"
}

# example_rounds EXAMPLE COUNT SED_SCRIPT WHAT TARGET_PER_S_AS_QUOTED [postgres://…]
# Alternates the reference's load with the release example `EXAMPLE COUNT [URL]` for
# BENCH_ROUNDS (3) rounds, reads each round's rate from its output with `sed -nE SED_SCRIPT`,
# and judges the median round against the target (rounds_line).
example_rounds() {
  local example=$1 count=$2 script=$3 what=$4 target=$5 url=${6:-} bin out ref ref_p99 database=sqlite
  local rounds=()
  bin=$(bench_example "$example")
  for _ in $(seq "${BENCH_ROUNDS:-3}"); do
    read -r ref ref_p99 < <(reference_run "${BENCH_SECONDS:-10}")
    echo "reference: ${ref} webhooks/s (p99 ${ref_p99} ms)"
    out=$(RUST_LOG=warn "$bin" "$count" ${url:+"$url"})
    echo "$out"
    rounds+=("$(sed -nE "$script" <<<"$out"):$ref")
  done
  [[ "$url" == postgres* ]] && database=postgres
  rounds_line "$what ($database)" "$target" "${rounds[@]}"
}
