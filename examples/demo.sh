#!/usr/bin/env bash
# The whole BizReach flow against the simulator, step by step, with curl.
#
#   cargo build --release -p hirelay -p bizreach-sim
#   examples/demo.sh
#
# Run it from the repository root. It starts bizreach-sim and hirelay on free ports with a
# temporary data directory, signs in to BizReach, links a group account (the activation link is
# read from the approval email in the outbox), polls, routes from the import inbox with a routing
# rule, posts a signed ATS rejection, shows the application's history and the decision record, and
# syncs the rejection back to BizReach.
# Everything it started is stopped and removed on exit.
#
# HIRELAY_BIN and SIM_BIN choose other binaries (e.g. target/debug/…); KEEP=1 keeps the data dir.
set -euo pipefail

HIRELAY_BIN=${HIRELAY_BIN:-target/release/hirelay}
SIM_BIN=${SIM_BIN:-target/release/bizreach-sim}
ATS_SECRET=whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=

for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "demo.sh needs $tool" >&2; exit 1; }
done
# hirelay refuses a bootstrap admin token shorter than 24 characters.
ADMIN_TOKEN=demo-admin-$(python3 -c 'import secrets; print(secrets.token_hex(16))')
for bin in "$HIRELAY_BIN" "$SIM_BIN"; do
  [[ -x $bin ]] || { echo "$bin not found: run 'cargo build --release -p hirelay -p bizreach-sim' first (or set HIRELAY_BIN / SIM_BIN)" >&2; exit 1; }
done
[[ -d rules && -d templates && -d examples/payloads ]] || { echo "run demo.sh from the repository root" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hirelay-demo.XXXXXX")
PIDS=()
cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ ${KEEP:-0} == 1 ]]; then
    echo "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  if [[ $status -ne 0 ]]; then
    echo "demo failed (exit $status); the last lines of hirelay's log were:" >&2
    tail -n 20 "$WORK/hirelay.log" 2>/dev/null >&2 || true
  fi
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }

# Pretty JSON (Japanese kept as is) from stdin; optional python expression over `d` to pick a part.
pp() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
if len(sys.argv) > 1:
    d = eval(sys.argv[1], {"d": d})
print(json.dumps(d, ensure_ascii=False, indent=2))' "$@"
}

# A JSON field of stdin: json_get 'd["items"][0]["id"]'
json_get() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1], {"d": d, "json": json}))' "$1"; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# api METHOD PATH [JSON]: calls hirelay as admin, prints "→ STATUS" on stderr, the body on stdout;
# stops the demo on an unexpected 4xx/5xx.
api() {
  local method=$1 path=$2 body=${3:-}
  local args=(-sS -X "$method" -H "authorization: Bearer $ADMIN_TOKEN" -o "$WORK/body" -w '%{http_code}')
  [[ -n $body ]] && args+=(-H 'content-type: application/json' -d "$body")
  local status
  status=$(curl "${args[@]}" "$HIRELAY$path")
  echo "   $method $path → $status" >&2
  if [[ $status -ge 400 ]]; then
    cat "$WORK/body" >&2; echo >&2
    return 1
  fi
  cat "$WORK/body"
}

wait_for() { # wait_for URL WHAT
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$2 did not come up; see $WORK" >&2
  return 1
}

SIM_PORT=$(free_port)
HIRELAY_PORT=$(free_port)
SIM=http://127.0.0.1:$SIM_PORT
HIRELAY=http://127.0.0.1:$HIRELAY_PORT

step "1. Start the BizReach simulator and hirelay"
"$SIM_BIN" --bind "127.0.0.1:$SIM_PORT" --seed 42 --groups 3 --applications-per-group 20 >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
wait_for "$SIM/_sim/stats" "bizreach-sim"
note "bizreach-sim on $SIM (sign in: admin@example.jp / correct horse battery staple)"

HIRELAY_BIND=127.0.0.1:$HIRELAY_PORT \
HIRELAY_DATA_DIR=$WORK/data \
HIRELAY_RULES_DIR=$PWD/rules \
HIRELAY_TEMPLATES_DIR=$PWD/templates \
HIRELAY_ADMIN_TOKEN=$ADMIN_TOKEN \
HIRELAY_WEBHOOK_SECRET_ATS=$ATS_SECRET \
HIRELAY_BIZREACH_URL=$SIM \
  "$HIRELAY_BIN" serve >"$WORK/hirelay.log" 2>&1 &
PIDS+=($!)
wait_for "$HIRELAY/readyz" "hirelay"
note "hirelay on $HIRELAY, data in $WORK/data (mail is written as .eml files under data/outbox/)"
curl -sS "$HIRELAY/readyz" | pp

step "2. Sign in to BizReach (L1–L2): hirelay keeps the password encrypted at rest"
api POST /v1/bizreach/session '{"email": "admin@example.jp", "password": "correct horse battery staple"}' | pp

step "3. The group accounts"
api GET /v1/group-accounts | pp '[{k: g[k] for k in ("id", "name", "admin_email", "status")} for g in d["items"]]'

step "4. Request a link for grp-001: an approval email goes to the group's administrator (L3)"
api POST /v1/group-accounts/grp-001/link '{}' | pp
OUTBOX=$WORK/data/outbox
for _ in $(seq 1 100); do
  compgen -G "$OUTBOX/*.eml" >/dev/null && break
  sleep 0.1
done
EML=$(ls -t "$OUTBOX"/*.eml | head -n 1)
note "approval email: $EML"
ACTIVATION_URL=$(python3 - "$EML" <<'PY'
import email, re, sys
from email import policy
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
print("   To:      " + msg["To"], file=sys.stderr)
print("   Subject: " + msg["Subject"], file=sys.stderr)
text = msg.get_body(preferencelist=("plain",)).get_content()
print(re.search(r"https?://\S+/v1/link-approvals/\S+", text).group(0))
PY
)
note "activation link: $ACTIVATION_URL"

step "5. The administrator opens the link and presses 有効にする (L4: single use, 72 h)"
curl -sS -o /dev/null -w '   GET  the approval page → %{http_code}\n' "$ACTIVATION_URL"
curl -sS -o /dev/null -w '   POST the approval page → %{http_code}\n' -X POST "$ACTIVATION_URL"
curl -sS -o /dev/null -w '   POST it again          → %{http_code} (single use)\n' -X POST "$ACTIVATION_URL"
api GET /v1/group-accounts | pp '[{g["id"]: g["status"]} for g in d["items"]]'

step "6. New applications arrive on BizReach (the poller imports from the link time on)"
curl -sS -X POST "$SIM/_sim/applications" -H 'content-type: application/json' -d '{
  "group_account_id": "grp-001",
  "applications": [
    {"channel": "direct", "status": "new", "position_name": "SRE", "candidate": {"name": "山田 太郎", "email": "Taro.Yamada.Demo@Example.jp"}},
    {"channel": "scout",  "status": "new", "position_name": "SRE", "candidate": {"name": "佐藤 花子", "email": "hanako.sato.demo@example.jp"}},
    {"channel": "direct", "status": "new", "position_name": "カスタマーサクセス", "candidate": {"name": "鈴木 次郎", "email": "jiro.suzuki.demo@example.jp"}}
  ]}' | pp '[(a["id"], a["channel"], a["position_name"], a["candidate"]["name"]) for a in d["applications"]]'

step "7. Run the BizReach poller now (it also runs every 6 minutes)"
api POST /v1/scheduler/bizreach-poll/run '{}' | pp
note "waiting for the imports to be processed by import.rhai…"
for _ in $(seq 1 100); do
  pending=$(api GET '/v1/events?status=pending' 2>/dev/null | json_get 'len(d["items"])')
  [[ $pending == 0 ]] && break
  sleep 0.1
done

step "8. The import inbox (I6): unrouted applications, labelled by import.rhai (I9)"
INBOX=$(api GET /v1/imports)
echo "$INBOX" | pp '[{"id": a["id"], "source": a["source_application_id"], "position": a["position_name"], "candidate": (a["candidate"] or {}).get("name"), "labels": a["labels"]} for a in d["items"]]'
SRE_IDS=$(echo "$INBOX" | json_get 'json.dumps([a["id"] for a in d["items"] if a["position_name"] == "SRE"])')
FIRST_SRE_SOURCE=$(echo "$INBOX" | json_get '[a["source_application_id"] for a in d["items"] if a["position_name"] == "SRE"][0]')

step "9. Create a job (求人) and route the SRE applications to it, registering a routing rule (I7, I8)"
JOB_ID=$(api POST /v1/jobs '{"title": "SRE", "ats_job_id": "job-12"}' | json_get 'd["id"]')
note "job: $JOB_ID"
api POST /v1/imports/route "{\"application_ids\": $SRE_IDS, \"job_id\": \"$JOB_ID\", \"register_rule\": true}" | pp
api GET /v1/routing-rules | pp
note "the inbox now holds only what no rule routes:"
api GET /v1/imports | pp '[(a["id"], a["position_name"]) for a in d["items"]]'

step "10. The ATS rejects one of them: a signed webhook (Standard Webhooks)"
BODY=$WORK/ats-rejected.json
python3 - examples/payloads/ats-status-rejected.json "$FIRST_SRE_SOURCE" "$BODY" <<'PY'
import json, sys
event = json.load(open(sys.argv[1], encoding="utf-8"))
event["source"]["application_id"] = sys.argv[2]   # the BizReach application imported above
json.dump(event, open(sys.argv[3], "w", encoding="utf-8"), ensure_ascii=False)
PY
note "examples/payloads/ats-status-rejected.json with source.application_id = $FIRST_SRE_SOURCE"
sign() { # sign SECRET WEBHOOK_ID FILE → three header lines
  python3 - "$@" <<'PY'
import base64, hashlib, hmac, sys, time
secret, msg_id, path = sys.argv[1:4]
key = base64.b64decode(secret.removeprefix("whsec_"))
body = open(path, "rb").read()
ts = int(time.time())
mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
print(f"webhook-id: {msg_id}")
print(f"webhook-timestamp: {ts}")
print("webhook-signature: v1," + base64.b64encode(mac).decode())
PY
}
post_ats() {
  local headers=()
  while IFS= read -r line; do headers+=(-H "$line"); done < <(sign "$ATS_SECRET" "$1" "$BODY")
  curl -sS -w '\n   → %{http_code}\n' "$HIRELAY/v1/webhooks/ats" -H 'content-type: application/json' "${headers[@]}" --data-binary "@$BODY"
}
WEBHOOK_ID=msg_demo_$RANDOM$RANDOM
RESPONSE=$(post_ats "$WEBHOOK_ID")
echo "$RESPONSE"
EVENT_ID=$(echo "$RESPONSE" | head -n 1 | json_get 'd["event_id"]')
note "the same delivery again is recognised:"
post_ats "$WEBHOOK_ID"

for _ in $(seq 1 100); do
  status=$(api GET "/v1/events/$EVENT_ID" 2>/dev/null | json_get 'd["status"]')
  [[ $status == done || $status == failed || $status == dead ]] && break
  sleep 0.1
done

step "11. The application, with its status history"
APP_ID=$(api GET '/v1/applications?ats_application_id=ats-789' | json_get 'd["items"][0]["id"]')
api GET "/v1/applications/$APP_ID" | pp

step "12. The event's decision record: which script version decided what, and its log"
api GET "/v1/events/$EVENT_ID" | pp

step "13. Progress sync (P1–P5): the ATS decision goes back to BizReach (ATS wins)"
api PUT /v1/group-accounts/grp-001/progress-sync '{"enabled": true}' | pp '{k: d[k] for k in ("id", "progress_sync")}'
note "what the next sync would push:"
api GET /v1/group-accounts/grp-001/progress-sync/preview | pp
api POST /v1/scheduler/progress-sync/run '{}' | pp
note "the simulator received:"
curl -sS "$SIM/_sim/status-log" | pp

step "14. The outbox"
ls -l "$OUTBOX"
note "the Career Relay invitation is queued for 09:00 JST on the next business day, then appears here"

step "15. Career Relay reporting (C1, C5): the slot ledger and this month's funnel"
api GET /v1/career-relay/ledger | pp
api GET "/v1/kpis/funnel?from=$(date +%Y-%m-01)&group_by=stage" | pp
note "the KPIs the scripts recorded:"
api GET /v1/kpis | pp

step "Done"
note "dashboard: $HIRELAY/console (paste an API token of role viewer or above)"
note "metrics: curl $HIRELAY/metrics   API: $HIRELAY/openapi.json"
