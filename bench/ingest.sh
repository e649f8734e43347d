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
echo "database: $([ -n "$db_url" ] && echo postgres || echo "sqlite (default)")"
echo "hirelay idle RSS: $((idle / 1024)) MB, peak RSS under load: $((peak / 1024)) MB"
echo "$out" | awk '/^hirelay RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^(rps|p99_ms)=/) printf "%s ", $i; print "" }' | sed 's/^/hirelay: /'
# The issue's targets as ratios to the reference in this run (it quotes the reference at 49,000/s
# with p99 near 6 ms): SQLite ≥ 0.7× and p99 < 10 ms; PostgreSQL 15,000/s.
source "$root/bench/reference.sh"
best() { sed -nE "s/^$1 RESULT rps=([0-9]+).*/\1/p" <<<"$out" | sort -n | tail -1; }
if [ -n "$db_url" ]; then
  ratio_line "ingestion (postgres)" "$(best hirelay)" "$(best reference)" 15000
else
  ratio_line "ingestion (sqlite)" "$(best hirelay)" "$(best reference)" $((49000 * 7 / 10))
fi
# p99 < 10 ms (the reference's ≈ 6 ms) is the SQLite target; on PostgreSQL it is printed only.
python3 - "$out" "${db_url:+postgres}" <<'PY'
import re, sys
p99 = {who: [float(v) for v in re.findall(rf"^{who} RESULT .*p99_ms=([0-9.]+)", sys.argv[1], re.M)]
       for who in ("reference", "hirelay")}
pairs = [h / r for h, r in zip(p99["hirelay"], p99["reference"])]
verdict = "no target on PostgreSQL" if sys.argv[2] else "met" if max(pairs) < 10 / 6 else "NOT met"
print(f"p99: hirelay {p99['hirelay']} ms, reference {p99['reference']} ms; worst ratio {max(pairs):.2f}x "
      f"(target 10 ms of 6 ms = 1.67x: {verdict})")
PY
