#!/usr/bin/env python3
"""Point-of-sale benchmark (docs/benchmarks.md). Needs a running release server with
YONGJUN_BENCH_ROUTES=1, YONGJUN_PUBLIC_NOTICE_DAYS=0 and a long YONGJUN_QR_TTL_SECS,
and wrk on the PATH.

    python3 scripts/bench_pos.py http://127.0.0.1:18080 ADMIN_PASSWORD [SECONDS]

Sets up a merchant, an offer, a terminal and a holder through the API, then runs wrk
(2 threads, 64 connections) against: the bare hello route, the reference route (one
Ed25519 check + one cache round trip), verify, and redemption (each request with its own
pre-minted token and Idempotency-Key), once for an unlimited offer and once for an offer
with a total quota. With COLD_BASE=URL of a second process on the same database whose
Redis refuses writes, also verify with a cold cache. Prints one Markdown row per run.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

BASE = sys.argv[1].rstrip("/")
ADMIN_PASSWORD = sys.argv[2]
SECONDS = int(sys.argv[3]) if len(sys.argv) > 3 else 15
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


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
    first = f"44030319800101{n:03d}"
    return first + "10X98765432"[sum(int(d) * w for d, w in zip(first, WEIGHTS)) % 11]


def setup():
    admin = call("POST", "/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})["access_token"]
    n = int(subprocess.check_output(["date", "+%N"]).decode()) % 90000
    merchant = call("POST", "/api/v1/merchant-applications", {
        "name": f"基准商户POS{n}", "kind": "enterprise", "credit_code": credit_code(n), "legal_representative": "王",
        "contact_name": "李", "contact_phone": "13800000000", "address": "深圳", "region_code": "440303",
        "category": "dining", "latitude": 22.54, "longitude": 114.11, "services": "九折"})["id"]
    for d in ["discipline_inspection", "civil_affairs", "human_resources", "emergency_management", "market_regulation", "military"]:
        call("POST", f"/api/v1/admin/merchants/{merchant}/reviews", {"department": d, "verdict": "pass"}, admin)
    call("POST", f"/api/v1/admin/merchants/{merchant}/approve", {}, admin)
    call("POST", f"/api/v1/admin/merchants/{merchant}/activate",
         {"agreement_no": "B", "agreement_start": "2026-01-01", "agreement_end": "2099-12-31"}, admin)
    call("POST", f"/api/v1/admin/merchants/{merchant}/staff", {"username": f"bench{n}", "password": "bench-password"}, admin)
    staff = call("POST", "/api/v1/auth/login", {"username": f"bench{n}", "password": "bench-password"})["access_token"]
    offer = call("POST", "/api/v1/merchant/offers", {"title": "九折", "kind": "percent_off", "percent_off": 10}, staff)["id"]
    call("POST", f"/api/v1/admin/offers/{offer}/approve", {}, admin)
    # The same discount with a (never reached) total quota: every redemption of it takes
    # the offer row's lock, so they queue one behind the other.
    quota_offer = call("POST", "/api/v1/merchant/offers", {"title": "限量九折", "kind": "percent_off", "percent_off": 10,
                       "total_quota": 10_000_000}, staff)["id"]
    call("POST", f"/api/v1/admin/offers/{quota_offer}/approve", {}, admin)
    terminal = call("POST", "/api/v1/merchant/terminals", {"name": "bench"}, staff)["api_key"]
    person = call("POST", "/api/v1/admin/beneficiaries", {"name": "张三明", "id_number": id_number(n % 1000),
                  "category": "veteran", "region_code": "440303"}, admin)["id"]
    card = call("POST", f"/api/v1/admin/beneficiaries/{person}/cards", {"product": "general"}, admin)
    holder = call("POST", "/api/v1/holder/activate", {"card_no": card["card_no"], "activation_code": card["activation_code"]})["access_token"]
    return terminal, holder, offer, quota_offer


def wrk(name, url, lua=None, connections=64):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{SECONDS}s", "--latency", url]
    if lua:
        cmd[1:1] = ["-s", lua]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(f"| {name} | {float(rps):,.0f} | {p50} | {p99} | {errors.group(1) if errors else 0} |", flush=True)


def lua_file(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    f.write(text)
    f.close()
    return f.name


def main():
    terminal, holder, offer, quota_offer = setup()
    token = call("POST", "/api/v1/holder/card/qr", {}, holder)["token"]
    post = lambda auth: lua_file(
        'wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\n'
        + (f'wrk.headers["authorization"] = "Bearer {auth}"\n' if auth else "")
        + f'wrk.body = \'{json.dumps({"token": token})}\'\n')
    print("| route | requests/s | p50 | p99 | non-2xx |\n|---|---|---|---|---|", flush=True)
    wrk("bare JSON hello (`GET /bench/hello`)", BASE + "/bench/hello")
    wrk("reference: Ed25519 + one cache GET (`POST /bench/reference`)", BASE + "/bench/reference", post(None))
    wrk("verify, warm cache (`POST /api/v1/pos/verify`)", BASE + "/api/v1/pos/verify", post(terminal))
    cold = os.environ.get("COLD_BASE")
    if cold:
        # A second process on the same database whose Redis refuses every write.
        wrk("verify, cold cache (every snapshot from PostgreSQL)", cold.rstrip("/") + "/api/v1/pos/verify", post(terminal))
    # Redemption: every request its own token and key, minted beforehand.
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 40000
    for name, offer_id, tag in [("redemption, unlimited offer (`POST /api/v1/pos/redemptions`)", offer, "u"),
                                ("redemption, offer with a total quota", quota_offer, "q")]:
        tokens = [call("POST", "/api/v1/holder/card/qr", {}, holder)["token"] for _ in range(count)]
        lua = lua_file(
            "local tokens = {" + ",".join(f'"{t}"' for t in tokens) + "}\n"
            + 'local counter = 0\nlocal thread_id = 0\nlocal threads = 0\n'
            + 'function setup(thread) thread:set("id", threads) threads = threads + 1 end\n'
            + 'function init(args) thread_id = id end\n'
            + 'function request()\n'
            + '  counter = counter + 1\n'
            + '  local i = thread_id * ' + str(count // 2) + ' + counter\n'
            + '  if i > #tokens then i = #tokens end\n'
            + '  local body = \'{"token":"\' .. tokens[i] .. \'","offer_id":"' + offer_id + '","bill_fen":10000}\'\n'
            + '  return wrk.format("POST", "/api/v1/pos/redemptions", {["content-type"]="application/json",'
            + f'["authorization"]="Bearer {terminal}", ["idempotency-key"]="b-{tag}-" .. thread_id .. "-" .. counter}}, body)\n'
            + "end\n")
        wrk(name, BASE + "/api/v1/pos/redemptions", lua)


if __name__ == "__main__":
    main()
