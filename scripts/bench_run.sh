#!/usr/bin/env bash
# The point-of-sale benchmark of docs/benchmarks.md, end to end: a fresh database, the
# release server, a second process on the same database whose Redis keeps nothing (for
# the cold-cache verify), then scripts/bench_pos.py (ROUNDS rounds, each with its own
# pgbench floor), then everything stopped.
#   cargo build --release && bash scripts/bench_run.sh [SECONDS] [TOKENS]
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/yongjun}
DB=${BENCH_DB:-yongjun_bench}
URL=postgres://postgres@127.0.0.1/$DB
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null
# One data directory for both processes: they share its generated secrets, as processes
# of one deployment do.
rm -rf /tmp/benchdata
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
# A Redis that refuses every write: the cold process never finds a snapshot cached.
redis-server --port 6391 --save '' --appendonly no --maxmemory 1 --maxmemory-policy noeviction \
  >/tmp/bench_cold_redis.log 2>&1 &
pids+=($!)
serve() { # port redis-url prefix
  DATABASE_URL=$URL REDIS_URL=$2 YONGJUN_CACHE_PREFIX=$3 YONGJUN_LOG=error YONGJUN_BIND=127.0.0.1:$1 \
  YONGJUN_REDEEM_BATCHES=${YONGJUN_REDEEM_BATCHES:-8} YONGJUN_REDEEM_BATCH_MAX=${YONGJUN_REDEEM_BATCH_MAX:-32} YONGJUN_BENCH_ROUTES=1 YONGJUN_PUBLIC_NOTICE_DAYS=0 YONGJUN_QR_TTL_SECS=300 \
  YONGJUN_DATA_DIR=/tmp/benchdata YONGJUN_BOOTSTRAP_ADMIN_PASSWORD=bench-admin-password \
  "$BIN" serve >/tmp/bench_$1.log 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$1/healthz >/dev/null && return; sleep 0.2; done
  echo "the server on port $1 did not start: see /tmp/bench_$1.log" >&2; exit 1
}
serve 18080 redis://127.0.0.1:6379 "bench:"
serve 18081 redis://127.0.0.1:6391 "benchcold:"
DATABASE_URL=$URL COLD_BASE=http://127.0.0.1:18081 \
  python3 scripts/bench_pos.py http://127.0.0.1:18080 bench-admin-password "${1:-10}" "${2:-60000}"
