#!/usr/bin/env bash
# The test command: brings up PostgreSQL and Redis if needed, then runs the whole suite
# (unit tests, and the integration suite on PostgreSQL + Redis and on SQLite + the
# in-process cache), then the contract check (scripts/contract.sh: schemathesis against
# the served spec, both backends, every caller). Arguments go to cargo test and skip the
# contract check, as does YONGJUN_SKIP_CONTRACT=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
# With trust auth (the usual local setup) the password is ignored.
export YJ_TEST_DATABASE_URL="${YJ_TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432}"
export YJ_TEST_REDIS_URL="${YJ_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
cargo test "$@"
if [ $# -eq 0 ] && [ "${YONGJUN_SKIP_CONTRACT:-0}" != 1 ]; then
  ./scripts/contract.sh
fi
