#!/usr/bin/env bash
# The contract check: schemathesis against the spec the server itself serves
# (/openapi.yaml), on the embedded SQLite default and on PostgreSQL + Redis, once per
# caller (anonymous, each staff role, a terminal, a holder). It fails on any 5xx and on
# any answer whose status code, content type or body the spec does not describe.
#
#   ./scripts/contract.sh                 # both backends (needs PostgreSQL and Redis: scripts/services.sh)
#   CONTRACT_BACKENDS=sqlite ./scripts/contract.sh
#   CONTRACT_EXAMPLES=50 ./scripts/contract.sh   # more cases per operation (default 12)
#   CONTRACT_BACKENDS=sqlite CONTRACT_SCHEMATHESIS=0 ./scripts/contract.sh   # the linters and the typed client only
#
# Before schemathesis, on the first backend: the linters app developers run and the
# typed TypeScript client's test of the holder's flow (scripts/contract/clients.sh).
#
# schemathesis is installed, pinned, into target/contract-venv on first use (PyPI).
# Each run starts its own server on its own port from target/debug/yongjun and stops it;
# the reports land in target/contract/<backend>-<caller>/.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
EXAMPLES=${CONTRACT_EXAMPLES:-12}
BACKENDS=${CONTRACT_BACKENDS:-sqlite postgres}
PORT=${CONTRACT_PORT:-18590}
PG=${YJ_TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432}
REDIS=${YJ_TEST_REDIS_URL:-redis://127.0.0.1:6379}
BASE=http://127.0.0.1:$PORT
ADMIN_PASSWORD='contract check password'
OUT=target/contract
VENV=target/contract-venv

# CPython 3.11 can fail an AST walk of hypothesis's with "AST constructor recursion depth
# mismatch" (python/cpython#106905); a newer interpreter is taken where pyenv has one.
PYTHON=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[3-9]*/bin/python3 2>/dev/null | tail -1)
PYTHON=${PYTHON:-python3}
if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $VENV ($("$PYTHON" --version))"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
# shellcheck source=scripts/contract/clients.sh
source scripts/contract/clients.sh
install_client_tools
cargo build -q --bin yongjun
mkdir -p "$OUT"

SERVER=
stop_server() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  SERVER=
}
trap stop_server EXIT

start_server() { # backend
  local backend=$1 data
  data=$(mktemp -d)
  local -a env=("YONGJUN_BIND=127.0.0.1:$PORT" "YONGJUN_DATA_DIR=$data"
    "YONGJUN_BOOTSTRAP_ADMIN_PASSWORD=$ADMIN_PASSWORD" YONGJUN_PUBLIC_NOTICE_DAYS=0
    YONGJUN_QR_TTL_SECS=300 "YONGJUN_CACHE_PREFIX=contract-$$:")
  if [ "$backend" = postgres ]; then
    local db=yongjun_contract_$$
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    env+=("DATABASE_URL=$PG/$db" "REDIS_URL=$REDIS")
  fi
  env "${env[@]}" RUST_LOG=warn target/debug/yongjun >"$OUT/$backend-server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 120); do
    curl -sf "$BASE/readyz" >/dev/null && return 0
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.5
  done
  echo "the $backend server did not become ready; its log: $OUT/$backend-server.log" >&2
  tail -20 "$OUT/$backend-server.log" >&2
  exit 1
}

# backend, caller, path filter, token (empty: anonymous)
schemathesis() {
  local backend=$1 caller=$2 filter=$3 token=$4
  local -a auth=()
  [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  "$VENV/bin/st" --config-file scripts/contract/schemathesis.toml run "$BASE/openapi.yaml" "${auth[@]}" \
    --include-path-regex "$filter" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing --max-examples "$EXAMPLES" --seed 1 \
    --workers 2 --request-timeout 30 --suppress-health-check all --no-color \
    --report junit --report-junit-path "$OUT/$backend-$caller.xml"
}

run_schemathesis() {
  echo "== schemathesis: $1, $2 ($3)"
  if schemathesis "$@"; then PASSED=$((PASSED + 1)); return 0; fi
  # A run whose only problems are schemathesis's own errors (no check failed) gets one
  # more try; a failed check never does.
  if grep -q 'failures="0"' "$OUT/$1-$2.xml" 2>/dev/null && ! grep -q 'errors="0"' "$OUT/$1-$2.xml"; then
    echo "== schemathesis erred without a failed check; once more: $1, $2"
    if schemathesis "$@"; then PASSED=$((PASSED + 1)); return 0; fi
  fi
  FAILED+=("$1/$2")
}

FAILED=()
PASSED=0
for backend in $BACKENDS; do
  start_server "$backend"
  creds=$(python3 scripts/contract/seed.py "$BASE" "$ADMIN_PASSWORD")
  eval "$creds"
  export SEED_MERCHANT SEED_OFFER SEED_CARD SEED_BENEFICIARY SEED_USER
  # The app developers' tools, once, on the first backend (scripts/contract/clients.sh).
  if [ -z "${CLIENTS_CHECKED:-}" ]; then
    CLIENTS_CHECKED=1
    if check_clients "$BASE"; then PASSED=$((PASSED + 1)); else FAILED+=("$backend/clients"); fi
  fi
  if [ "${CONTRACT_SCHEMATHESIS:-1}" = 0 ]; then stop_server; continue; fi
  # The till and the holder first: the office's cases may suspend the card or the partner.
  run_schemathesis "$backend" terminal '^/api/v1/pos/' "$TERMINAL"
  run_schemathesis "$backend" holder '^/api/v1/holder/' "$HOLDER"
  for caller in STAFF AUDITOR REVIEWER REGION SUPER; do
    run_schemathesis "$backend" "${caller,,}" '^/api/v1/(admin|merchant)/' "${!caller}"
  done
  run_schemathesis "$backend" anonymous '.' ''
  if grep -E ' (ERROR|panicked)' "$OUT/$backend-server.log" >/dev/null; then
    echo "the $backend server logged errors:" >&2
    grep -E ' (ERROR|panicked)' "$OUT/$backend-server.log" | head -20 >&2
    FAILED+=("$backend/server-log")
  fi
  stop_server
done

if [ ${#FAILED[@]} -gt 0 ]; then
  echo "contract check FAILED: ${FAILED[*]} (reports under $OUT/)" >&2
fi
# One line per run of schemathesis (a backend and a caller), in the form CI reads:
echo "contract: $PASSED passed, ${#FAILED[@]} failed"
[ ${#FAILED[@]} -eq 0 ]
