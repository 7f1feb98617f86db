#!/usr/bin/env python3
"""Gives a fresh Yongjun server one of everything a caller can hold: an account of each
staff role, an active partner with its staff and a till terminal, an active offer, and a
holder with an activated card. Prints the credentials as shell assignments
(`SUPER=…`, `REGION=…`, `REVIEWER=…`, `AUDITOR=…`, `STAFF=…`, `TERMINAL=…`, `HOLDER=…`)
and the records' ids (`SEED_MERCHANT=…`, `SEED_OFFER=…`, `SEED_CARD=…`,
`SEED_BENEFICIARY=…`, `SEED_USER=…`) for scripts/contract.sh. Standard library only; stops at the first answer it did not
expect, naming the step.

    seed.py BASE_URL ADMIN_PASSWORD
"""

import json
import sys
import urllib.error
import urllib.request

PASSWORD = "a long pass phrase"
DEPARTMENTS = [
    "discipline_inspection",
    "civil_affairs",
    "human_resources",
    "emergency_management",
    "market_regulation",
    "military",
]


def call(base, method, path, body=None, token=None, expect=(200, 201)):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    if status not in expect:
        sys.exit(f"seed: {method} {path} answered {status}: {text}")
    return json.loads(text) if text else None


def login(base, username, password=PASSWORD):
    answer = call(base, "POST", "/api/v1/auth/login", {"username": username, "password": password})
    return answer["access_token"]


def main(base, admin_password):
    tokens = {"SUPER": login(base, "admin", admin_password)}
    su = tokens["SUPER"]
    for name, role, extra in [
        ("REGION", "region_admin", {}),
        ("REVIEWER", "reviewer", {"department": "civil_affairs"}),
        ("AUDITOR", "auditor", {}),
    ]:
        username = "contract." + role
        account = {"username": username, "password": PASSWORD, "role": role, "region_code": "440300"}
        user = call(base, "POST", "/api/v1/admin/users", {**account, **extra}, su)["id"]
        tokens[name] = login(base, username)

    merchant = call(base, "POST", "/api/v1/merchant-applications", {
        "name": "罗湖契约测试药房", "kind": "enterprise", "credit_code": "91350100M000100Y43",
        "legal_representative": "王建国", "contact_name": "李明", "contact_phone": "13812345678",
        "address": "深圳市罗湖区人民南路1号", "region_code": "440303", "category": "pharmacy",
        "latitude": 22.5431, "longitude": 114.1182, "services": "现役军人、退役军人购药九折",
    })["id"]
    for department in DEPARTMENTS:
        call(base, "POST", f"/api/v1/admin/merchants/{merchant}/reviews",
             {"department": department, "verdict": "pass", "comment": "符合条件"}, su)
    call(base, "POST", f"/api/v1/admin/merchants/{merchant}/approve", {"comment": "联审通过"}, su)
    call(base, "POST", f"/api/v1/admin/merchants/{merchant}/activate", {
        "agreement_no": "LH-2026-001", "agreement_start": "2026-01-01", "agreement_end": "2036-12-31",
    }, su)
    call(base, "POST", f"/api/v1/admin/merchants/{merchant}/staff",
         {"username": "contract.staff", "password": PASSWORD}, su)
    tokens["STAFF"] = login(base, "contract.staff")

    offer = call(base, "POST", "/api/v1/merchant/offers", {
        "title": "凭卡购药九折", "kind": "percent_off", "percent_off": 10, "total_quota": 500,
        "per_holder_limit": 1, "per_holder_period": "year",
    }, tokens["STAFF"])["id"]
    call(base, "POST", f"/api/v1/admin/offers/{offer}/approve", {}, su)
    tokens["TERMINAL"] = call(base, "POST", "/api/v1/merchant/terminals",
                              {"name": "一号收银台"}, tokens["STAFF"])["api_key"]

    person = call(base, "POST", "/api/v1/admin/beneficiaries", {
        "name": "张三明", "id_number": "11010519491231002X", "phone": "13812345678",
        "category": "veteran", "region_code": "440303",
    }, su)["id"]
    card = call(base, "POST", f"/api/v1/admin/beneficiaries/{person}/cards", {"product": "general"}, su)
    tokens["HOLDER"] = call(base, "POST", "/api/v1/holder/activate", {
        "card_no": card["card_no"], "activation_code": card["activation_code"],
    })["access_token"]

    tokens.update(SEED_MERCHANT=merchant, SEED_OFFER=offer, SEED_CARD=card["id"],
                  SEED_BENEFICIARY=person, SEED_USER=user)
    for name, value in tokens.items():
        print(f"{name}={value}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1].rstrip("/"), sys.argv[2])
