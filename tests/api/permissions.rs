//! The permission matrix, cell by cell: `docs/permissions.md` agrees with the table in
//! code (`app::permissions::access`) and with `openapi.yaml`, and the server answers
//! every route, as every kind of caller, the way the document says.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use yongjun::app::permissions::{access, Access, Operation, Scope};
use yongjun::domain::Role;

use crate::beneficiaries::{issue, person, register};
use crate::helpers::*;
use crate::merchants::{activate_merchant, application, apply, credit_code};
use crate::pos::{qr, ten_percent};

/// The columns of the matrix, in order.
const CALLERS: [&str; 9] = [
    "super_admin",
    "region_admin",
    "reviewer",
    "auditor",
    "merchant_staff",
    "military_liaison",
    "holder",
    "terminal",
    "anonymous",
];
const STAFF_ROLES: [Role; 6] = [
    Role::SuperAdmin,
    Role::RegionAdmin,
    Role::Reviewer,
    Role::Auditor,
    Role::MerchantStaff,
    Role::MilitaryLiaison,
];
/// The callers who read one account only, their own (`account.read` is `own`).
const REVIEWER: usize = 2;
const LIAISON: usize = 5;

/// One row of `docs/permissions.md`.
#[derive(Debug, Clone)]
struct Row {
    method: String,
    path: String,
    operation: String,
    cells: Vec<String>,
}

fn matrix() -> Vec<Row> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/permissions.md"))
        .expect("docs/permissions.md");
    let (_, table) = doc
        .split_once("## The matrix")
        .expect("docs/permissions.md has a section `## The matrix`");
    table
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cols: Vec<String> = line
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect();
            assert_eq!(
                cols.len(),
                2 + CALLERS.len(),
                "a row of {} columns: {line}",
                2 + CALLERS.len()
            );
            let (method, path) = cols[0].split_once(' ').expect("METHOD /path");
            Row {
                method: method.to_owned(),
                path: path.to_owned(),
                operation: cols[1].clone(),
                cells: cols[2..].to_vec(),
            }
        })
        .collect()
}

fn cell_of(access: Access) -> &'static str {
    match access {
        Access::Allowed(Scope::All) => "all",
        Access::Allowed(Scope::Region) => "region",
        Access::Allowed(Scope::Own) => "own",
        Access::Denied(_) => "403",
    }
}

/// What a row says callers of a credential kind that does not fit get.
fn expected_row(operation: &str) -> Vec<String> {
    let fixed = |own: usize| -> Vec<String> {
        (0..CALLERS.len())
            .map(|i| if i == own { "own" } else { "401" }.to_owned())
            .collect()
    };
    match operation {
        "public" => vec!["public".to_owned(); CALLERS.len()],
        "holder" => fixed(6),
        "terminal" => fixed(7),
        name => {
            let op = Operation::parse(name)
                .unwrap_or_else(|| panic!("`{name}` is no app::permissions::Operation"));
            let mut cells: Vec<String> = STAFF_ROLES
                .iter()
                .map(|role| cell_of(access(*role, op)).to_owned())
                .collect();
            cells.extend(["401", "401", "401"].map(String::from));
            cells
        }
    }
}

#[test]
fn the_permissions_document_agrees_with_the_code_and_the_contract() {
    let rows = matrix();
    let mut used = BTreeSet::new();
    for row in &rows {
        assert_eq!(
            row.cells,
            expected_row(&row.operation),
            "docs/permissions.md, {} {} ({}): the cells differ from app::permissions::access",
            row.method,
            row.path,
            row.operation
        );
        used.insert(row.operation.clone());
    }
    for op in Operation::ALL {
        assert!(
            used.contains(op.as_str()),
            "operation {} has no row in docs/permissions.md",
            op.as_str()
        );
    }

    let spec: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap(),
    )
    .unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        for (method, _) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if ["get", "post", "put", "patch", "delete"].contains(&method) {
                routes.insert(format!(
                    "{} {}",
                    method.to_uppercase(),
                    path.as_str().unwrap()
                ));
            }
        }
    }
    let documented: BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(documented.len(), rows.len(), "a route has two rows");
    let missing: Vec<_> = routes.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes of openapi.yaml without a row in docs/permissions.md: {missing:?}"
    );
    let stale: Vec<_> = documented.difference(&routes).collect();
    assert!(
        stale.is_empty(),
        "rows of docs/permissions.md for no route of openapi.yaml: {stale:?}"
    );
}

/// What the calls need: one caller of each kind and something to act on for every
/// route, in region 440303 (the office accounts are Shenzhen's, 440300).
struct World {
    tokens: Vec<Option<String>>,
    reviewer_id: String,
    liaison_id: String,
    shop: String,
    target: String,
    applicant: String,
    beneficiary: String,
    card: String,
    complaint: String,
    inspection: String,
    pending_offer: String,
    own_offer: String,
    offer: String,
    spare_terminal: String,
    qr: String,
    refresh_token: String,
    /// One fresh card to activate per caller: `(card_no, activation_code)`.
    activations: Vec<(Value, Value)>,
}

async fn world(app: &TestApp) -> World {
    let root = app.admin_token().await;
    let region = app
        .staff(&root, "p.region", "region_admin", Some("440300"), None)
        .await;
    let reviewer = app
        .staff(
            &root,
            "p.reviewer",
            "reviewer",
            Some("440300"),
            Some("civil_affairs"),
        )
        .await;
    let auditor = app
        .staff(&root, "p.auditor", "auditor", Some("440300"), None)
        .await;
    let liaison = app
        .staff(&root, "p.liaison", "military_liaison", Some("440300"), None)
        .await;
    let users = app
        .get("/api/v1/admin/users?per_page=100", Some(&root))
        .await
        .expect(200);
    let user_id = |name: &str| {
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (reviewer_id, liaison_id) = (user_id("p.reviewer"), user_id("p.liaison"));

    let shop = activate_merchant(app, &root, application(1, "440303")).await;
    let shop = shop["id"].as_str().unwrap().to_owned();
    let target = activate_merchant(app, &root, application(2, "440303")).await;
    let target = target["id"].as_str().unwrap().to_owned();
    let applicant = apply(app, application(3, "440303")).await;
    app.post(
        &format!("/api/v1/admin/merchants/{shop}/staff"),
        Some(&root),
        json!({"username": "p.shop", "password": "p-shop-password"}),
    )
    .await
    .expect(201);
    let merchant = app.login("p.shop", "p-shop-password").await;
    let terminal = app
        .post(
            "/api/v1/merchant/terminals",
            Some(&merchant),
            json!({"name": "一号收银台"}),
        )
        .await
        .expect(201)["api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let spare_terminal = app
        .post(
            "/api/v1/merchant/terminals",
            Some(&merchant),
            json!({"name": "二号收银台"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = |body: Value| {
        let merchant = merchant.clone();
        async move {
            app.post("/api/v1/merchant/offers", Some(&merchant), body)
                .await
                .expect(201)["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let offer = created(ten_percent()).await;
    app.post(
        &format!("/api/v1/admin/offers/{offer}/approve"),
        Some(&root),
        json!({}),
    )
    .await
    .expect(200);
    let pending_offer = created(ten_percent()).await;
    let own_offer = created(ten_percent()).await;

    // The holder, and a card for the office to act on.
    let mut cards = Vec::new();
    for n in 1..=11 {
        let beneficiary = register(app, &root, person(n, "440303")).await;
        let card = issue(app, &root, beneficiary["id"].as_str().unwrap(), "general").await;
        cards.push((beneficiary, card));
    }
    let (_, holder_card) = &cards[0];
    let tokens = app
        .post(
            "/api/v1/holder/activate",
            None,
            json!({"card_no": holder_card["card_no"], "activation_code": holder_card["activation_code"]}),
        )
        .await
        .expect(200);
    let holder = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (beneficiary, card) = &cards[1];
    let activations = cards[2..]
        .iter()
        .map(|(_, c)| (c["card_no"].clone(), c["activation_code"].clone()))
        .collect();

    // A complaint needs a redemption at the merchant.
    let ticket = qr(app, &holder).await;
    app.send(
        app.client
            .post(app.url("/api/v1/pos/redemptions"))
            .bearer_auth(&terminal)
            .header("Idempotency-Key", "permissions-setup")
            .json(&json!({"token": ticket, "offer_id": offer, "bill_fen": 12800})),
    )
    .await
    .expect(201);
    let complaint = app
        .post(
            "/api/v1/holder/complaints",
            Some(&holder),
            json!({"merchant_id": shop, "rating": 2, "content": "店员拒绝给予优惠"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let inspection = app
        .post(
            "/api/v1/admin/inspections",
            Some(&root),
            json!({"region": "440303", "sample_size": 2}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let qr = qr(app, &holder).await;

    World {
        tokens: vec![
            Some(root),
            Some(region),
            Some(reviewer),
            Some(auditor),
            Some(merchant),
            Some(liaison),
            Some(holder),
            Some(terminal),
            None,
        ],
        reviewer_id,
        liaison_id,
        shop,
        target,
        applicant,
        beneficiary: beneficiary["id"].as_str().unwrap().to_owned(),
        card: card["id"].as_str().unwrap().to_owned(),
        complaint,
        inspection,
        pending_offer,
        own_offer,
        offer,
        spare_terminal,
        qr,
        refresh_token,
        activations,
    }
}

const NOBODY: &str = "00000000-0000-7000-8000-000000000000";

impl World {
    /// The route's path with its parameters filled in, for `caller`: an account route
    /// names the reviewer's account, or the liaison's own for the liaison.
    fn path(&self, route: &str, caller: usize) -> String {
        let id = if route.starts_with("/api/v1/admin/beneficiaries/") {
            &self.beneficiary
        } else if route.starts_with("/api/v1/admin/cards/") {
            &self.card
        } else if route.starts_with("/api/v1/admin/complaints/") {
            &self.complaint
        } else if route.starts_with("/api/v1/admin/inspections/") {
            &self.inspection
        } else if route.ends_with("/reviews") {
            &self.applicant
        } else if route.starts_with("/api/v1/admin/merchants/") {
            &self.target
        } else if route.starts_with("/api/v1/admin/offers/") {
            &self.pending_offer
        } else if route.starts_with("/api/v1/admin/users/") {
            match caller {
                LIAISON => &self.liaison_id,
                _ => &self.reviewer_id,
            }
        } else if route.starts_with("/api/v1/merchant/offers/") {
            &self.own_offer
        } else if route.starts_with("/api/v1/merchant/terminals/") {
            &self.spare_terminal
        } else if route.starts_with("/api/v1/merchants/") {
            &self.shop
        } else {
            NOBODY
        };
        route
            .replace("{id}", id)
            .replace("{objection_id}", NOBODY)
            .replace("{kind}", "merchants")
            .replace("{region}", "440303")
            .replace("{code}", "440303")
    }

    /// A plausible body for `method route`, unique by `n` where it must be.
    fn body(&self, method: &str, route: &str, caller: usize, n: u32) -> Value {
        let today = chrono::Utc::now().date_naive();
        let agreement = json!({"agreement_no": "SZ-YJ-002", "agreement_start": today.to_string(),
            "agreement_end": (today + chrono::Duration::days(3 * 365)).to_string()});
        let reason = json!({"reason": "核查", "comment": "同意"});
        match (method, route.trim_start_matches("/api/v1")) {
            ("POST", "/admin/beneficiaries") => person(100 + n, "440303"),
            ("PATCH", "/admin/beneficiaries/{id}") => json!({"phone": "13987654321"}),
            ("POST", "/admin/beneficiaries/{id}/cards") => json!({"product": "general"}),
            ("POST", "/admin/card-products") => json!({"code": format!("product{n}"),
                "name": "交通优待卡", "description": "公共交通优待", "default_valid_years": 3}),
            ("POST", "/admin/complaints/{id}/resolve") => {
                json!({"outcome": "upheld", "comment": "已责令整改"})
            }
            ("POST", "/admin/inspections") => json!({"region": "440303", "sample_size": 1}),
            ("POST", "/admin/inspections/{id}/results") => json!({"results": [
                {"merchant_id": self.shop, "outcome": "compliant", "notes": "落实到位"}]}),
            ("PATCH", "/admin/merchants/{id}") => {
                json!({"name": format!("拥军商户{n}号"), "reason": "营业执照名称变更"})
            }
            ("POST", "/admin/merchants/{id}/activate" | "/admin/merchants/{id}/renew") => agreement,
            ("POST", "/admin/merchants/{id}/exit-review") => {
                json!({"decision": "retain", "reason": "已整改"})
            }
            ("POST", "/admin/merchants/{id}/objections/{objection_id}/resolve") => {
                json!({"outcome": "dismissed", "comment": "不属实"})
            }
            ("POST", "/admin/merchants/{id}/reviews") => {
                json!({"department": "civil_affairs", "verdict": "pass", "comment": "符合条件"})
            }
            ("POST", "/admin/merchants/{id}/staff") => {
                json!({"username": format!("p.staff{n}"), "password": "a long pass phrase"})
            }
            ("PUT", "/admin/targets/{region}") => json!({"year": today.format("%Y").to_string()
                .parse::<i32>().unwrap(), "new_partners": 120, "people_served": 1500,
                "activities": 12, "insurance_gifts": 20000}),
            ("POST", "/admin/users") => json!({"username": format!("p.user{n}"),
                "password": "a long pass phrase", "role": "auditor", "region_code": "440303"}),
            ("POST", "/auth/login") => {
                json!({"username": "admin", "password": ADMIN_PASSWORD})
            }
            ("POST", "/holder/activate") => {
                let (card_no, code) = &self.activations[caller];
                json!({"card_no": card_no, "activation_code": code})
            }
            ("POST", "/holder/complaints") => {
                json!({"merchant_id": self.shop, "rating": 3, "content": "服务一般"})
            }
            ("POST", "/holder/token/refresh") => json!({"refresh_token": self.refresh_token}),
            ("POST", "/merchant-applications") => {
                let mut body = application(200 + n, "440303");
                body["credit_code"] = json!(credit_code(200 + n));
                body
            }
            ("POST", "/merchant/offers") | ("PATCH", "/merchant/offers/{id}") => ten_percent(),
            ("PATCH", "/merchant/profile") => json!({"contact_name": "李明"}),
            ("POST", "/merchant/terminals") => json!({"name": format!("{n}号收银台")}),
            ("POST", "/merchants/{id}/objections") => {
                json!({"contact_phone": "13912345678", "content": "曾拒绝提供承诺的优惠。"})
            }
            ("POST", "/pos/verify") => json!({"token": self.qr}),
            ("POST", "/pos/redemptions") => {
                json!({"token": self.qr, "offer_id": self.offer, "bill_fen": 12800})
            }
            _ => reason,
        }
    }
}

async fn call(app: &TestApp, world: &World, row: &Row, caller: usize, n: u32) -> u16 {
    let url = app.url(&world.path(&row.path, caller));
    let method = reqwest::Method::from_bytes(row.method.as_bytes()).unwrap();
    let mut request = app.client.request(method, url);
    if let Some(token) = &world.tokens[caller] {
        request = request.bearer_auth(token);
    }
    if row.path.ends_with("/beneficiaries/import") {
        let csv = "姓名,身份证号,手机号,类别,荣誉,行政区划\n"
            .as_bytes()
            .to_vec();
        let part = reqwest::multipart::Part::bytes(csv).file_name("名录.csv");
        request = request.multipart(reqwest::multipart::Form::new().part("file", part));
    } else if row.method != "GET" && row.method != "DELETE" {
        request = request.json(&world.body(&row.method, &row.path, caller, n));
    }
    if row.path.ends_with("/pos/redemptions") {
        request = request.header("Idempotency-Key", format!("permissions-{n}"));
    }
    app.send(request).await.status
}

crate::instant_backends! {
    async fn every_route_answers_every_caller_as_the_matrix_says(app) {
        let world = world(&app).await;
        let mut wrong = Vec::new();
        let mut n = 0;
        for row in matrix() {
            // The forbidden callers first, so that an allowed change cannot hide a
            // refusal behind a conflict.
            let mut order: Vec<usize> = (0..CALLERS.len()).collect();
            order.sort_by_key(|&i| matches!(row.cells[i].as_str(), "all" | "region" | "own" | "public"));
            for caller in order {
                n += 1;
                let status = call(&app, &world, &row, caller, n).await;
                let cell = row.cells[caller].as_str();
                let fine = match cell {
                    "401" => status == 401,
                    "403" => status == 403,
                    _ => status != 401 && status != 403,
                };
                if !fine {
                    wrong.push(format!(
                        "{} {} as {}: the matrix says {cell}, the server answered {status}",
                        row.method, row.path, CALLERS[caller]
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{} cells differ:\n{}", wrong.len(), wrong.join("\n"));

        // A reviewer and a liaison read their own accounts, not somebody else's.
        let others = app.get("/api/v1/admin/users?per_page=100", world.tokens[0].as_deref()).await.expect(200);
        let auditor_id = others["items"].as_array().unwrap().iter()
            .find(|u| u["username"] == "p.auditor").unwrap()["id"].as_str().unwrap().to_owned();
        for caller in [REVIEWER, LIAISON] {
            app.get(&format!("/api/v1/admin/users/{auditor_id}"), world.tokens[caller].as_deref())
                .await
                .expect_problem(403, "forbidden");
        }
        // Auditors see card numbers masked; the deciders whole.
        let path = format!("/api/v1/admin/cards/{}", world.card);
        let masked = app.get(&path, world.tokens[3].as_deref()).await.expect(200);
        assert!(masked["card_no"].as_str().unwrap().contains("****"), "{masked}");
        let whole = app.get(&path, world.tokens[1].as_deref()).await.expect(200);
        assert!(!whole["card_no"].as_str().unwrap().contains('*'), "{whole}");
        let listed = app.get("/api/v1/admin/cards", world.tokens[3].as_deref()).await.expect(200);
        assert!(listed["items"].as_array().unwrap().iter()
            .all(|c| c["card_no"].as_str().unwrap().contains("****")), "{listed}");
    }
}
