#!/usr/bin/env bash
# Runs scripts/bench_pos.py against two release binaries (OLD, NEW: a baseline and a
# change), alternately, two rounds, in one session, each on a fresh database of its own.
#   OLD=/tmp/baseline/target/release/yongjun NEW=target/release/yongjun bash scripts/bench_pair.sh
set -u
cd "$(dirname "$0")/.."
OLD_BIN=${OLD:?set OLD to the baseline binary}
NEW_BIN=${NEW:?set NEW to the changed binary}
for db in yongjun_bench_old yongjun_bench_new; do
  psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS $db" >/dev/null
  psql -h 127.0.0.1 -U postgres -q -c "CREATE DATABASE $db" >/dev/null
done
start() { # name binary port db
  DATABASE_URL=postgres://postgres@127.0.0.1/$4 REDIS_URL=redis://127.0.0.1:6379 \
  YONGJUN_CACHE_PREFIX="bench$1:" YONGJUN_LOG=error YONGJUN_BIND=127.0.0.1:$3 YONGJUN_BENCH_ROUTES=1 \
  YONGJUN_PUBLIC_NOTICE_DAYS=0 YONGJUN_QR_TTL_SECS=300 YONGJUN_DATA_DIR=/tmp/benchdata_$1 \
  YONGJUN_BOOTSTRAP_ADMIN_PASSWORD=bench-admin-password $2 serve > /tmp/bench_$1.log 2>&1 &
  echo $!
}
OLD_PID=$(start old "$OLD_BIN" 18090 yongjun_bench_old)
NEW_PID=$(start new "$NEW_BIN" 18091 yongjun_bench_new)
for p in 18090 18091; do for _ in $(seq 1 60); do curl -sf http://127.0.0.1:$p/healthz >/dev/null && break; sleep 0.5; done; done
for round in 1 2; do
  for which in old new; do
    port=$([ $which = old ] && echo 18090 || echo 18091)
    echo "## round $round: $which"
    python3 scripts/bench_pos.py http://127.0.0.1:$port bench-admin-password 10 12000
  done
done
kill "$OLD_PID" "$NEW_PID"
