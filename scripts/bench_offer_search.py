"""EXPLAIN (ANALYZE, BUFFERS) of the offer listings' own statements
(docs/offer-search-bench.md).

Calls the API once per case, so that the service writes its statement; takes that
statement and its parameters from the PostgreSQL log (the database needs
`ALTER DATABASE … SET log_min_duration_statement = 0`); runs EXPLAIN (ANALYZE, BUFFERS)
EXECUTE on it five times in one psql session with custom plans (as the service's,
which are planned per call); prints every run's planning and execution times and the
last (warm) plan.

    YJ_API=http://127.0.0.1:18731/api/v1 YJ_DB=yj_search_bench YJ_HOLDER_TOKEN=… \
      python3 scripts/bench_offer_search.py 'name|p|/offers?q=加油站&cursor=' \
      'mine|h|/holder/offers?near=22.5431,114.0579&radius_km=10&cursor='

Each case is `name|p|path` (public) or `name|h|path` (with the holder's token).
"""
import json, os, re, subprocess, sys, time, urllib.parse, urllib.request

LOG = os.environ.get("YJ_PG_LOG", "/var/log/postgresql/postgresql-15-main.log")
B = os.environ.get("YJ_API", "http://127.0.0.1:18731/api/v1")
DB = os.environ.get("YJ_DB", "yj_search_bench")
token = os.environ.get("YJ_HOLDER_TOKEN", "")
def fetch(path, holder):
    path = urllib.parse.quote(path, safe="/?&=,%")
    req = urllib.request.Request(B + path, headers={"Authorization": "Bearer " + token} if holder else {})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())
def last_statement():
    text = open(LOG, encoding="utf-8", errors="replace").read()
    hits = [m for m in re.finditer(r"execute [^:]*: (SELECT offers\.id AS o_id.*?)\n.*?DETAIL:  parameters: (.*?)\n", text, re.S)]
    sql, params = hits[-1].group(1), hits[-1].group(2)
    values = dict(re.findall(r"\$(\d+) = '((?:[^']|'')*)'", params))
    return sql, values
def run(name, path, holder=False):
    answer = fetch(path, holder)
    time.sleep(0.3)
    sql, values = last_statement()
    n = len(values)
    args = ", ".join("'" + values[str(i)] + "'" for i in range(1, n + 1))
    script = "SET plan_cache_mode = force_custom_plan;\nPREPARE q AS " + sql + ";\n" + \
        "".join("EXPLAIN (ANALYZE, BUFFERS) EXECUTE q(%s);\n" % args for _ in range(5))
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB, "-X", "-q"],
                         input=script, capture_output=True, text=True).stdout
    plans = out.split("QUERY PLAN")
    times = re.findall(r"Planning Time: ([\d.]+) ms.*?Execution Time: ([\d.]+) ms", out, re.S)
    print("=" * 100)
    print("CASE", name, "GET", urllib.parse.unquote(path), "(holder)" if holder else "")
    print("items", len(answer["items"]), "has_more", answer["has_more"], "total", answer["total"])
    print("planning/execution ms per run:", times)
    print("QUERY PLAN" + plans[-1])
for case in sys.argv[1:]:
    name, holder, path = case.split("|")
    run(name, path, holder == "h")
