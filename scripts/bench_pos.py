#!/usr/bin/env python3
"""Point-of-sale benchmark (docs/benchmarks.md). Needs a running release server with
YONGJUN_BENCH_ROUTES=1, YONGJUN_PUBLIC_NOTICE_DAYS=0 and YONGJUN_QR_TTL_SECS=300,
and wrk and pgbench on the PATH.

    python3 scripts/bench_pos.py http://127.0.0.1:18080 ADMIN_PASSWORD [SECONDS] [TOKENS]

Sets up, through the API, MERCHANTS merchants (default 4) with TERMINALS terminals each
(default 16: 64 tills) and, at each, an unlimited 10 %-off offer and the same offer with
a total quota; HOLDERS holders (default 256) with a card each. Then, ROUNDS times
(default 3), runs wrk (2 threads, 64 connections) against:

- the bare hello route (the framework's ceiling) and the reference route (one Ed25519
  check + one cache GET: what no verification can avoid);
- verify, warm cache: each request the token of another card at another till;
- verify, cold cache, with COLD_BASE=URL of a second process on the same database whose
  Redis keeps nothing;
- redemption of the unlimited offers and of the limited ones: every request its own
  pre-minted token (the cards in turn) and Idempotency-Key, at the 64 tills in turn;
- PostgreSQL's own write benchmark, `pgbench -c 64 -j 2 -T SECONDS -M prepared -N` on
  its own database (PGBENCH_DB, default yongjun_pgbench, initialised at scale 10 if
  missing), as the machine's floor for a write transaction in the same run.

With DATABASE_URL set to the server's database, runs VACUUM ANALYZE there (and on the
pgbench database) before each round: autovacuum is off on the benchmark machines.
Prints one Markdown table per round and the ratios the targets are stated in.
"""
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

BASE = sys.argv[1].rstrip("/")
ADMIN_PASSWORD = sys.argv[2]
SECONDS = int(sys.argv[3]) if len(sys.argv) > 3 else 10
TOKENS = int(sys.argv[4]) if len(sys.argv) > 4 else 60000
MERCHANTS = int(os.environ.get("MERCHANTS", "4"))
TERMINALS = int(os.environ.get("TERMINALS", "16"))
HOLDERS = int(os.environ.get("HOLDERS", "256"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
PGBENCH_DB = os.environ.get("PGBENCH_DB", "yongjun_pgbench")
# A quick look at one part: ONLY=redeem runs the floor and the redemptions alone.
ONLY = os.environ.get("ONLY", "")
PG = ["-h", "127.0.0.1", "-U", "postgres"]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
DEPARTMENTS = ["discipline_inspection", "civil_affairs", "human_resources", "emergency_management",
               "market_regulation", "military"]


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read() or b"null")


def credit_code(n):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    first = f"91440300MA5B{n:05d}"
    total = sum(alphabet.index(c) * w for c, w in zip(first, weights))
    return first + alphabet[(31 - total % 31) % 31]


def id_number(n):
    first = f"440303{1950 + n // 1000 % 50}01{1 + n // 50000 % 28:02d}{n % 1000:03d}"
    return first + "10X98765432"[sum(int(d) * w for d, w in zip(first, WEIGHTS)) % 11]


def merchant(admin, n):
    """An active merchant with its two offers and its terminals: (offer, quota offer, keys)."""
    mid = call("POST", "/api/v1/merchant-applications", {
        "name": f"基准商户POS{n}", "kind": "enterprise", "credit_code": credit_code(n), "legal_representative": "王",
        "contact_name": "李", "contact_phone": "13800000000", "address": "深圳", "region_code": "440303",
        "category": "dining", "latitude": 22.54, "longitude": 114.11, "services": "九折"})["id"]
    for d in DEPARTMENTS:
        call("POST", f"/api/v1/admin/merchants/{mid}/reviews", {"department": d, "verdict": "pass"}, admin)
    call("POST", f"/api/v1/admin/merchants/{mid}/approve", {}, admin)
    call("POST", f"/api/v1/admin/merchants/{mid}/activate",
         {"agreement_no": f"B{n}", "agreement_start": "2026-01-01", "agreement_end": "2099-12-31"}, admin)
    call("POST", f"/api/v1/admin/merchants/{mid}/staff", {"username": f"bench{n}", "password": "bench-password"}, admin)
    staff = call("POST", "/api/v1/auth/login", {"username": f"bench{n}", "password": "bench-password"})["access_token"]
    offer = call("POST", "/api/v1/merchant/offers", {"title": "九折", "kind": "percent_off", "percent_off": 10}, staff)["id"]
    call("POST", f"/api/v1/admin/offers/{offer}/approve", {}, admin)
    # The same discount with a total quota (八一专享, 限量) that the run never reaches:
    # every redemption of it counts against the one offer row.
    limited = call("POST", "/api/v1/merchant/offers", {"title": "限量九折", "kind": "percent_off", "percent_off": 10,
                   "total_quota": 100_000_000}, staff)["id"]
    call("POST", f"/api/v1/admin/offers/{limited}/approve", {}, admin)
    keys = [call("POST", "/api/v1/merchant/terminals", {"name": f"till {t}"}, staff)["api_key"] for t in range(TERMINALS)]
    return offer, limited, keys


def holder(admin, n):
    person = call("POST", "/api/v1/admin/beneficiaries", {"name": "张三明", "id_number": id_number(n),
                  "category": "veteran", "region_code": "440303"}, admin)["id"]
    card = call("POST", f"/api/v1/admin/beneficiaries/{person}/cards", {"product": "general"}, admin)
    return call("POST", "/api/v1/holder/activate",
                {"card_no": card["card_no"], "activation_code": card["activation_code"]})["access_token"]


def setup():
    admin = call("POST", "/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})["access_token"]
    base = int(subprocess.check_output(["date", "+%N"]).decode()) % 80000
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        shops = list(pool.map(lambda m: merchant(admin, base + m), range(MERCHANTS)))
        holders = list(pool.map(lambda h: holder(admin, base * 10 + h), range(HOLDERS)))
    return shops, holders


def mint(holders, count):
    """`count` fresh QR tokens, the holders' cards in turn."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda i: call("POST", "/api/v1/holder/card/qr", {}, holders[i % len(holders)])["token"],
                             range(count)))


def lua_file(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    f.write(text)
    f.close()
    return f.name


def lua_list(name, values):
    return f"local {name} = {{" + ",".join(f'"{v}"' for v in values) + "}\n"


# Each wrk thread takes its own half of the tokens, so no token is sent twice; request i
# goes to till i mod 64 (the offers are those of that till's merchant).
LUA_REQUEST = """
local counter = 0
local thread_id = 0
local threads = 0
function setup(thread) thread:set("id", threads) threads = threads + 1 end
function init(args) thread_id = id end
function request()
  counter = counter + 1
  local i = thread_id * HALF + counter
  -- Past the end the tokens come round again: a redemption then hears token_used (a
  -- non-2xx answer in the table), so mint enough.
  if i > #tokens then i = ((i - 1) % #tokens) + 1 end
  local till = (i % #tills) + 1
  return wrk.format("POST", PATH, {["content-type"]="application/json",
    ["authorization"]="Bearer " .. tills[till], ["idempotency-key"]=TAG .. thread_id .. "-" .. counter}, BODY)
end
"""


def script(path, tokens, tills, tag, body_lua, offers=None):
    text = lua_list("tokens", tokens) + lua_list("tills", tills)
    if offers:
        text += lua_list("offers", offers)
    return lua_file(text + LUA_REQUEST.replace("HALF", str(len(tokens) // 2)).replace("PATH", f'"{path}"')
                    .replace("TAG", f'"{tag}-"').replace("BODY", body_lua))


CPU_GROUPS = {"yongjun": "service", "redis-server": "Redis"}


def cpu_seconds():
    """CPU seconds used so far by each kind of process on the machine."""
    used = {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        group = next((g for prefix, g in CPU_GROUPS.items() if name.startswith(prefix)), None)
        if group:
            used[group] = used.get(group, 0) + (int(fields[11]) + int(fields[12])) / tick
    return used


def busy_seconds():
    """CPU seconds the whole machine has been busy (all cores)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def measured(run):
    """Runs `run` and adds the cores each kind of process used meanwhile (of the 2):
    the service and Redis from their own counters, the load generator (a child that
    exits) from this script's children, PostgreSQL as the rest of the machine's busy
    time (its backends for pgbench exit before they can be read)."""
    before, busy, children, start = cpu_seconds(), busy_seconds(), os.times(), os.times().elapsed
    result = run()
    after, wall = cpu_seconds(), os.times().elapsed - start
    load = sum(os.times()[2:4]) - sum(children[2:4])
    used = {g: after.get(g, 0) - before.get(g, 0) for g in ["service", "Redis"]}
    used["load"] = load
    used["PostgreSQL"] = max(busy_seconds() - busy - sum(used.values()), 0)
    result["cpu"] = ", ".join(f"{g} {used[g] / wall:.2f}" for g in ["PostgreSQL", "service", "Redis", "load"])
    return result


def wrk(url, lua=None):
    cmd = ["wrk", "-t2", "-c64", f"-d{SECONDS}s", "--latency", url]
    if lua:
        cmd[1:1] = ["-s", lua]

    def run():
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
                "p50": re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1),
                "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1),
                "errors": int(errors.group(1)) if errors else 0}
    return measured(run)


def ms(text):
    value = float(re.match(r"[\d.]+", text).group(0))
    return value / 1000 if text.endswith("us") else value * 1000 if text.endswith("s") and not text.endswith("ms") else value


def pgbench():
    if subprocess.run(["psql", *PG, "-d", PGBENCH_DB, "-Atc", "select 1 from pgbench_branches limit 1"],
                      capture_output=True).returncode != 0:
        subprocess.run(["createdb", *PG, PGBENCH_DB], capture_output=True)
        subprocess.run(["pgbench", *PG, "-i", "-q", "-s", "10", PGBENCH_DB], check=True, capture_output=True)
    def run():
        out = subprocess.run(["pgbench", *PG, "-c", "64", "-j", "2", "-T", str(SECONDS), "-M", "prepared", "-N",
                              PGBENCH_DB], capture_output=True, text=True).stdout
        tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
        latency = re.search(r"latency average = ([\d.]+) ms", out)
        return {"rps": tps, "p50": f"{latency.group(1)}ms (mean)" if latency else "—", "p99": "—", "errors": 0}
    return measured(run)


def write_xids():
    """Transaction ids assigned so far in the cluster (DATABASE_URL's server), if known.

    PostgreSQL gives an id only to a transaction that writes, so the difference over a
    run counts the write transactions (the redemptions' batches), not the reads; the
    call itself takes one id. Nothing else may write meanwhile (pgbench runs apart)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return None
    out = subprocess.run(["psql", url, "-Atc", "select pg_current_xact_id()::text::bigint"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


def vacuum():
    url = os.environ.get("DATABASE_URL")
    if url:
        subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True)
    subprocess.run(["psql", *PG, "-d", PGBENCH_DB, "-qc", "VACUUM ANALYZE"], capture_output=True)


def probe(url, till, body):
    """One request as wrk will send it; says what went wrong if it is refused."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("content-type", "application/json")
    req.add_header("authorization", "Bearer " + till)
    try:
        urllib.request.urlopen(req).read()
    except urllib.error.HTTPError as e:
        print(f"<!-- {url} answers {e.code}: {e.read()[:300]!r} -->", flush=True)


def row(name, r, extra=""):
    print(f"| {name} | {r['rps']:,.0f} | {r['p50']} | {r['p99']} | {r['errors']} | {extra} | {r['cpu']} |", flush=True)


def main():
    shops, holders = setup()
    tills = [key for _, _, keys in shops for key in keys]
    till_offers = [(offer, limited) for offer, limited, keys in shops for _ in keys]
    verify_body = "'{\"token\":\"' .. tokens[i] .. '\"}'"
    cold = os.environ.get("COLD_BASE")
    summary = []
    for round_no in range(1, ROUNDS + 1):
        vacuum()
        # Tokens live at most 300 s: each round mints its own.
        verify_tokens = mint(holders, len(holders))
        warm = script("/api/v1/pos/verify", verify_tokens, tills, "v", verify_body)
        reference = script("/bench/reference", verify_tokens, tills, "r", verify_body)
        print(f"\n### Round {round_no}\n\n| route | requests/s | p50 | p99 | non-2xx | ratio | cores used (of 2) |\n|---|---|---|---|---|---|---|",
              flush=True)
        floor = pgbench()
        row(f"PostgreSQL alone: `pgbench -c 64 -j 2 -T {SECONDS} -M prepared -N` (tps)", floor, "1.00 × pgbench")
        if ONLY != "redeem":
            hello = wrk(BASE + "/bench/hello")
            row("bare JSON hello (`GET /bench/hello`)", hello)
            ref = wrk(BASE + "/bench/reference", reference)
            row("reference: Ed25519 + one cache GET (`POST /bench/reference`)", ref, "1.00 × reference")
            verify = wrk(BASE + "/api/v1/pos/verify", warm)
            row("verify, warm cache (`POST /api/v1/pos/verify`)", verify,
                f"{verify['rps'] / ref['rps']:.1%} of reference; p99 {ms(verify['p99']) / ms(ref['p99']):.2f} × "
                "reference's")
        else:
            ref = verify = {"rps": 1, "p99": "1ms"}
        cold_verify = None
        if cold and ONLY != "redeem":
            probe(cold.rstrip("/") + "/api/v1/pos/verify", tills[0], {"token": verify_tokens[0]})
            cold_verify = wrk(cold.rstrip("/") + "/api/v1/pos/verify", warm)
            row("verify, cold cache (every snapshot from PostgreSQL)", cold_verify)
        results = {}
        for name, which in [("unlimited", 0), ("limited (total quota)", 1)]:
            tokens = mint(holders, TOKENS)
            offers = [pair[which] for pair in till_offers]
            body = ("'{\"token\":\"' .. tokens[i] .. '\",\"offer_id\":\"' .. offers[till] .. '\",\"bill_fen\":10000}'")
            lua = script("/api/v1/pos/redemptions", tokens, tills, f"b{round_no}{which}", body, offers)
            xids = write_xids()
            results[which] = wrk(BASE + "/api/v1/pos/redemptions", lua)
            extra = f"{results[which]['rps'] / floor['rps']:.2f} × pgbench"
            if xids is not None:
                # The write transactions: the batches (and any refusal's own key write).
                done = results[which]["rps"] * SECONDS
                batches = write_xids() - xids - 1
                extra += f"; {done / max(batches, 1):.1f} redemptions per write transaction"
            if which == 1:
                extra += f"; {results[1]['rps'] / results[0]['rps']:.2f} × unlimited"
            row(f"redemption, {name} offer, 64 tills, {HOLDERS} cards", results[which], extra)
        floor_after = pgbench()
        row("PostgreSQL alone again, after the routes (tps)", floor_after)
        summary.append((round_no, floor, ref, verify, cold_verify, results[0], results[1], floor_after))
    print("\n### Ratios\n\n| round | warm verify / reference | verify p99 / reference p99 | cold verify | "
          "unlimited / pgbench | limited / unlimited | limited / pgbench |\n|---|---|---|---|---|---|---|")
    for round_no, floor, ref, verify, cold_verify, unlimited, limited, floor_after in summary:
        pg = (floor["rps"] + floor_after["rps"]) / 2
        print(f"| {round_no} | {verify['rps'] / ref['rps']:.1%} | {ms(verify['p99']) / ms(ref['p99']):.2f} | "
              f"{cold_verify['rps'] if cold_verify else 0:,.0f}/s | {unlimited['rps'] / pg:.2f} | "
              f"{limited['rps'] / unlimited['rps']:.2f} | {limited['rps'] / pg:.2f} |")


if __name__ == "__main__":
    main()
