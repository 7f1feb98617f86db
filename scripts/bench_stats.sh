#!/usr/bin/env bash
# Figures benchmark (docs/benchmarks.md): times GET /api/v1/admin/stats for the whole
# country and for a city, a district and a county, three times each, on a running
# server whose database was seeded with scripts/seed_redemptions.sql.
#   bash scripts/bench_stats.sh http://127.0.0.1:18082 ADMIN_PASSWORD [QUERY]
set -euo pipefail
base=${1%/}
password=$2
extra=${3:-}
token=$(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$password\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
echo "| scope | 1st | 2nd | 3rd | answer bytes |"
echo "|---|---|---|---|---|"
for region in "" 440300 440303 140521; do
  query=$extra
  [ -n "$region" ] && query="region=$region${extra:+&$extra}"
  row="| ${region:-national} |"
  for _ in 1 2 3; do
    out=$(curl -s -o /tmp/yj-stats.json -w '%{http_code} %{time_total} %{size_download}' \
      -H "authorization: Bearer $token" "$base/api/v1/admin/stats?$query")
    read -r code secs bytes <<<"$out"
    [ "$code" = 200 ] || { echo "HTTP $code: $(cat /tmp/yj-stats.json)" >&2; exit 1; }
    row="$row $(python3 -c "print(f'{$secs*1000:.0f} ms')") |"
  done
  echo "$row $bytes |"
done
