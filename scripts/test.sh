#!/usr/bin/env bash
# The test command: brings up PostgreSQL and Redis if needed, then runs the whole suite
# (unit tests, and the integration suite on PostgreSQL + Redis and on SQLite + the
# in-process cache).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
# With trust auth (the usual local setup) the password is ignored.
export YJ_TEST_DATABASE_URL="${YJ_TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432}"
export YJ_TEST_REDIS_URL="${YJ_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
exec cargo test "$@"
