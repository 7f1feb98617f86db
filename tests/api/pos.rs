//! The point of sale: offers, terminals, QR tokens, verification, redemption, voids,
//! offline support.

use serde_json::{json, Value};

use crate::beneficiaries::{issue, person, register};
use crate::helpers::*;
use crate::merchants::{activate_merchant, application};

/// An active merchant with staff, a terminal, and one holder with an activated card.
pub struct Shop {
    pub root: String,
    pub merchant_id: String,
    pub staff: String,
    pub terminal: String,
    pub holder: String,
    pub card: Value,
}

pub async fn open_shop(app: &TestApp) -> Shop {
    let root = app.admin_token().await;
    let merchant = activate_merchant(app, &root, application(1, "440303")).await;
    let merchant_id = merchant["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/admin/merchants/{merchant_id}/staff"),
        Some(&root),
        json!({"username": "shop.staff", "password": "shop-staff-password"}),
    )
    .await
    .expect(201);
    let staff = app.login("shop.staff", "shop-staff-password").await;
    let terminal = app
        .post(
            "/api/v1/merchant/terminals",
            Some(&staff),
            json!({"name": "一号收银台"}),
        )
        .await
        .expect(201);
    let terminal = terminal["api_key"].as_str().unwrap().to_owned();
    let (holder, card) = new_holder(app, &root, 1, "140521").await;
    Shop {
        root,
        merchant_id,
        staff,
        terminal,
        holder,
        card,
    }
}

/// Registers a veteran with a third-class merit, issues a general card, activates it.
pub async fn new_holder(app: &TestApp, root: &str, n: u32, region: &str) -> (String, Value) {
    let beneficiary = register(app, root, person(n, region)).await;
    let card = issue(app, root, beneficiary["id"].as_str().unwrap(), "general").await;
    let tokens = app
        .post(
            "/api/v1/holder/activate",
            None,
            json!({"card_no": card["card_no"], "activation_code": card["activation_code"]}),
        )
        .await
        .expect(200);
    (tokens["access_token"].as_str().unwrap().to_owned(), card)
}

/// Creates an offer as the shop's staff and has the office approve it.
pub async fn offer(app: &TestApp, shop: &Shop, body: Value) -> Value {
    let created = app
        .post("/api/v1/merchant/offers", Some(&shop.staff), body)
        .await
        .expect(201);
    assert_eq!(created["status"], "pending_review");
    app.post(
        &format!(
            "/api/v1/admin/offers/{}/approve",
            created["id"].as_str().unwrap()
        ),
        Some(&shop.root),
        json!({}),
    )
    .await
    .expect(200)
}

pub async fn qr(app: &TestApp, holder: &str) -> String {
    app.post("/api/v1/holder/card/qr", Some(holder), json!({}))
        .await
        .expect(200)["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn verify(app: &TestApp, terminal: &str, token: &str) -> Value {
    app.post(
        "/api/v1/pos/verify",
        Some(terminal),
        json!({"token": token}),
    )
    .await
    .expect(200)
}

pub async fn redeem(app: &TestApp, terminal: &str, key: &str, body: Value) -> Answer {
    app.send(
        app.client
            .post(app.url("/api/v1/pos/redemptions"))
            .bearer_auth(terminal)
            .header("Idempotency-Key", key)
            .json(&body),
    )
    .await
}

/// A 10 %-off offer (凭卡九折) for anyone entitled, with up to two companions.
pub fn ten_percent() -> Value {
    json!({"title": "凭卡九折", "kind": "percent_off", "percent_off": 10, "companions_allowed": 2})
}

/// Redeems `offer` once at the shop's till for `holder` with `bill_fen` (a fresh QR
/// token and Idempotency-Key); the redemption's body.
pub async fn visit(
    app: &TestApp,
    shop: &Shop,
    offer: &Value,
    holder: &str,
    bill_fen: i64,
) -> Value {
    let token = qr(app, holder).await;
    let key = uuid::Uuid::new_v4().to_string();
    redeem(
        app,
        &shop.terminal,
        &key,
        json!({"token": token, "offer_id": offer["id"], "bill_fen": bill_fen}),
    )
    .await
    .expect(201)
}

crate::instant_backends! {
    async fn the_directory_view_does_not_hide_offers_from_the_till(app) {
        // The directory caches its own merchant entry (without offers); the till must
        // still list the offers after somebody looked the merchant up.
        let shop = open_shop(&app).await;
        let deal = offer(&app, &shop, ten_percent()).await;
        app.get(&format!("/api/v1/merchants/{}", shop.merchant_id), None).await.expect(200);
        let token = qr(&app, &shop.holder).await;
        let answer = verify(&app, &shop.terminal, &token).await;
        assert_eq!(answer["offers"][0]["id"], deal["id"], "{answer}");
        // Warm now; an offer change is seen by the next scan.
        let id = deal["id"].as_str().unwrap();
        app.post(&format!("/api/v1/merchant/offers/{id}/pause"), Some(&shop.staff), json!({})).await.expect(200);
        let answer = verify(&app, &shop.terminal, &qr(&app, &shop.holder).await).await;
        assert_eq!(answer["offers"], json!([]), "{answer}");
    }

    async fn a_quota_given_later_counts_what_was_redeemed(app) {
        // Unlimited offers do not count on their row; a quota set later starts from the
        // redemptions already made.
        let shop = open_shop(&app).await;
        let deal = offer(&app, &shop, ten_percent()).await;
        let id = deal["id"].as_str().unwrap();
        assert_eq!((deal["used_total"].clone(), deal["remaining_total"].clone()), (Value::Null, Value::Null));
        for n in 0..2 {
            let token = qr(&app, &shop.holder).await;
            redeem(&app, &shop.terminal, &format!("later-{n}"), json!({"token": token, "offer_id": id, "bill_fen": 1000}))
                .await
                .expect(201);
        }
        let path = format!("/api/v1/merchant/offers/{id}");
        let too_small = app.send(app.client.patch(app.url(&path)).bearer_auth(&shop.staff).json(&json!({"total_quota": 1}))).await;
        too_small.expect_problem(422, "validation_failed");
        let limited = app.send(app.client.patch(app.url(&path)).bearer_auth(&shop.staff).json(&json!({"total_quota": 3}))).await.expect(200);
        assert_eq!((limited["used_total"].as_i64(), limited["remaining_total"].as_i64()), (Some(2), Some(1)));
        app.post(&format!("/api/v1/admin/offers/{id}/approve"), Some(&shop.root), json!({})).await.expect(200);
        let token = qr(&app, &shop.holder).await;
        redeem(&app, &shop.terminal, "later-2", json!({"token": token, "offer_id": id, "bill_fen": 1000})).await.expect(201);
        let token = qr(&app, &shop.holder).await;
        redeem(&app, &shop.terminal, "later-3", json!({"token": token, "offer_id": id, "bill_fen": 1000}))
            .await
            .expect_problem(409, "quota_exhausted");
    }
}

crate::instant_backends! {
    async fn offers_need_approval_and_material_changes_go_back_to_review(app) {
        let shop = open_shop(&app).await;
        let created = app.post("/api/v1/merchant/offers", Some(&shop.staff), ten_percent()).await.expect(201);
        let id = created["id"].as_str().unwrap();
        assert_eq!(app.get("/api/v1/offers", None).await.expect(200)["total"], 0, "not before approval");
        app.post(&format!("/api/v1/merchant/offers/{id}/pause"), Some(&shop.staff), json!({})).await.expect_problem(409, "invalid_transition");
        let approved = app.post(&format!("/api/v1/admin/offers/{id}/approve"), Some(&shop.root), json!({})).await.expect(200);
        assert_eq!(approved["status"], "active");
        let listed = app.get("/api/v1/offers", None).await.expect(200);
        assert_eq!((listed["total"].as_i64(), listed["items"][0]["merchant_name"].as_str()), (Some(1), Some("拥军商户1号")));

        let path = format!("/api/v1/merchant/offers/{id}");
        let renamed = app.send(app.client.patch(app.url(&path)).bearer_auth(&shop.staff).json(&json!({"title": "凭卡九折优惠"}))).await.expect(200);
        assert_eq!(renamed["status"], "active", "a title is not material");
        let changed = app.send(app.client.patch(app.url(&path)).bearer_auth(&shop.staff).json(&json!({"percent_off": 15}))).await.expect(200);
        assert_eq!((changed["status"].as_str(), changed["percent_off"].as_i64()), (Some("pending_review"), Some(15)));
        assert_eq!(app.get("/api/v1/offers", None).await.expect(200)["total"], 0);

        let bad = app
            .post("/api/v1/merchant/offers", Some(&shop.staff), json!({"title": "x", "kind": "percent_off", "percent_off": 120,
                "per_holder_limit": 2, "recurring_dates": ["13-01"], "eligible_categories": ["pirates"]}))
            .await
            .expect_problem(422, "validation_failed");
        let fields: Vec<&str> = bad["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        for field in ["percent_off", "eligible_categories[0]", "recurring_dates[0]", "per_holder_period"] {
            assert!(fields.contains(&field), "{field} in {fields:?}");
        }
        // Office staff of another region cannot approve it.
        let qinshui = app.staff(&shop.root, "qs.admin", "region_admin", Some("140521"), None).await;
        app.post(&format!("/api/v1/admin/offers/{id}/approve"), Some(&qinshui), json!({})).await.expect_problem(404, "offer_not_found");
    }

    async fn verify_tells_the_cashier_what_they_need(app) {
        let shop = open_shop(&app).await;
        let plain_offer = offer(&app, &shop, ten_percent()).await;
        let mut limited = ten_percent();
        limited["title"] = json!("三等功以上专享");
        limited["min_honor"] = json!("third_class_merit");
        limited["per_holder_limit"] = json!(2);
        limited["per_holder_period"] = json!("month");
        limited["total_quota"] = json!(100);
        let limited = offer(&app, &shop, limited).await;
        let mut others = ten_percent();
        others["eligible_categories"] = json!(["active_duty"]);
        offer(&app, &shop, others).await; // a veteran may not use it

        let token = qr(&app, &shop.holder).await;
        let answer = verify(&app, &shop.terminal, &token).await;
        assert_eq!(answer["valid"], true);
        assert_eq!(answer["holder"], json!({"name_masked": "张*明", "category": "veteran", "honors": ["third_class_merit"]}));
        let card_no = shop.card["card_no"].as_str().unwrap();
        assert_eq!(answer["card"]["card_no_masked"], format!("{}********{}", &card_no[..4], &card_no[12..]));
        let offers = answer["offers"].as_array().unwrap();
        assert_eq!(offers.len(), 2);
        let usable = offers.iter().find(|o| o["id"] == limited["id"]).unwrap();
        assert_eq!((usable["remaining_total"].as_i64(), usable["remaining_for_holder"].as_i64()), (Some(100), Some(2)));
        let plain = offers.iter().find(|o| o["id"] == plain_offer["id"]).unwrap();
        assert!(plain["remaining_for_holder"].is_null() && plain["remaining_total"].is_null());
        assert!(!answer.to_string().contains(card_no), "no full card number");
        assert!(!answer.to_string().contains("张三明"), "no full name");

        // Verify spends nothing: the same token verifies again and then redeems.
        verify(&app, &shop.terminal, &token).await;
        redeem(&app, &shop.terminal, "k1", json!({"token": token, "offer_id": limited["id"], "bill_fen": 10000})).await.expect(201);
        let after = verify(&app, &shop.terminal, &token).await;
        assert_eq!((after["valid"].as_bool(), after["reason"].as_str()), (Some(false), Some("token_used")));
        assert!(after["message"].as_str().unwrap().contains("已使用"));
        let fresh = verify(&app, &shop.terminal, &qr(&app, &shop.holder).await).await;
        let usable = fresh["offers"].as_array().unwrap().iter().find(|o| o["id"] == limited["id"]).unwrap().clone();
        assert_eq!((usable["remaining_total"].as_i64(), usable["remaining_for_holder"].as_i64()), (Some(99), Some(1)));

        for (token, reason) in [("garbage", "token_invalid"), ("a.b.c", "token_invalid")] {
            let answer = verify(&app, &shop.terminal, token).await;
            assert_eq!((answer["valid"].as_bool(), answer["reason"].as_str()), (Some(false), Some(reason)));
        }
        app.post("/api/v1/pos/verify", Some("yjt_wrong"), json!({"token": token})).await.expect_problem(401, "unauthenticated");
    }

    async fn card_and_merchant_changes_are_refused_at_once(app) {
        let shop = open_shop(&app).await;
        offer(&app, &shop, ten_percent()).await;
        let token = qr(&app, &shop.holder).await;
        assert_eq!(verify(&app, &shop.terminal, &token).await["valid"], true); // warms the cache
        let card = format!("/api/v1/admin/cards/{}", shop.card["id"].as_str().unwrap());

        app.post(&format!("{card}/suspend"), Some(&shop.root), json!({"reason": "核查"})).await.expect(200);
        let answer = verify(&app, &shop.terminal, &token).await;
        assert_eq!(answer["reason"], "card_suspended");
        assert_eq!(answer["message"], "该优待卡已暂停使用，请持卡人联系发卡单位");
        app.post("/api/v1/holder/card/qr", Some(&shop.holder), json!({})).await.expect_problem(401, "token_revoked");
        app.post(&format!("{card}/reinstate"), Some(&shop.root), json!({"reason": "无误"})).await.expect(200);
        // A token minted for an older version of the card is refused.
        assert_eq!(verify(&app, &shop.terminal, &token).await["reason"], "token_invalid");

        app.post(&format!("{card}/revoke"), Some(&shop.root), json!({"reason": "注销"})).await.expect(200);
        assert_eq!(verify(&app, &shop.terminal, &token).await["reason"], "card_revoked");
        let body = redeem(&app, &shop.terminal, "k", json!({"token": token, "offer_id": uuid::Uuid::new_v4()})).await.expect_problem(409, "card_revoked");
        assert!(body["detail"].as_str().unwrap().contains("注销"));

        let (holder, _) = new_holder(&app, &shop.root, 2, "440303").await;
        let token = qr(&app, &holder).await;
        assert_eq!(verify(&app, &shop.terminal, &token).await["valid"], true);
        app.post(&format!("/api/v1/admin/merchants/{}/suspend", shop.merchant_id), Some(&shop.root), json!({"reason": "整顿"})).await.expect(200);
        assert_eq!(verify(&app, &shop.terminal, &token).await["reason"], "merchant_inactive");
    }

    async fn redemption_is_idempotent_and_spends_the_token(app) {
        let shop = open_shop(&app).await;
        let offer = offer(&app, &shop, ten_percent()).await;
        let token = qr(&app, &shop.holder).await;
        let body = json!({"token": token, "offer_id": offer["id"], "bill_fen": 12345, "companions": 1});
        app.send(app.client.post(app.url("/api/v1/pos/redemptions")).bearer_auth(&shop.terminal).json(&body))
            .await
            .expect_problem(400, "idempotency_key_required");
        let first = redeem(&app, &shop.terminal, "sale-001", body.clone()).await;
        let first_body = first.expect(201);
        assert_eq!(first_body["discount_fen"], 1235, "10 % of 123.45 yuan, rounded half up");
        assert_eq!((first_body["merchant_region_code"].as_str(), first_body["holder_region_code"].as_str()), (Some("440303"), Some("140521")));
        assert_eq!(first_body["companions"], 1);

        let again = redeem(&app, &shop.terminal, "sale-001", body.clone()).await;
        assert_eq!(again.status, 201);
        assert_eq!(again.body, first_body, "the same answer, byte for byte");
        let mut other = body.clone();
        other["bill_fen"] = json!(99);
        redeem(&app, &shop.terminal, "sale-001", other).await.expect_problem(422, "idempotency_key_reused");
        redeem(&app, &shop.terminal, "sale-002", body.clone()).await.expect_problem(409, "token_used");
        // A refusal is remembered with its key too.
        let refused = redeem(&app, &shop.terminal, "sale-002", body).await;
        assert_eq!((refused.status, refused.code()), (409, "token_used"));

        let listed = app.get("/api/v1/merchant/redemptions", Some(&shop.staff)).await.expect(200);
        assert_eq!(listed["total"], 1);
        let mine = app.get("/api/v1/holder/redemptions", Some(&shop.holder)).await.expect(200);
        assert_eq!((mine["total"].as_i64(), mine["items"][0]["id"].clone()), (Some(1), first_body["id"].clone()));

        let token = qr(&app, &shop.holder).await;
        redeem(&app, &shop.terminal, "sale-003", json!({"token": token, "offer_id": offer["id"], "bill_fen": 100, "companions": 3}))
            .await
            .expect_problem(422, "companions_exceeded");
        redeem(&app, &shop.terminal, "sale-004", json!({"token": token, "offer_id": offer["id"]}))
            .await
            .expect_problem(422, "validation_failed");
        redeem(&app, &shop.terminal, "sale-005", json!({"token": token, "offer_id": uuid::Uuid::new_v4(), "bill_fen": 1}))
            .await
            .expect_problem(422, "offer_not_active");
    }

    async fn eligibility_and_windows_are_enforced_at_redemption(app) {
        let shop = open_shop(&app).await;
        let mut heroes = ten_percent();
        heroes["min_honor"] = json!("first_class_merit");
        let heroes = offer(&app, &shop, heroes).await;
        let mut later = ten_percent();
        later["valid_from"] = json!((chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339());
        let later = offer(&app, &shop, later).await;
        let token = qr(&app, &shop.holder).await;
        redeem(&app, &shop.terminal, "a", json!({"token": token, "offer_id": heroes["id"], "bill_fen": 100}))
            .await
            .expect_problem(422, "not_eligible");
        redeem(&app, &shop.terminal, "b", json!({"token": token, "offer_id": later["id"], "bill_fen": 100}))
            .await
            .expect_problem(422, "offer_not_active");
        app.post(&format!("/api/v1/merchant/offers/{}/pause", heroes["id"].as_str().unwrap()), Some(&shop.staff), json!({})).await.expect(200);
        let mut free = json!({"title": "绿色通道", "kind": "priority_service"});
        free["companions_allowed"] = json!(0);
        let priority = offer(&app, &shop, free).await;
        let done = redeem(&app, &shop.terminal, "c", json!({"token": token, "offer_id": priority["id"]})).await.expect(201);
        assert_eq!(done["discount_fen"], 0);
    }

    async fn a_void_gives_the_quota_back(app) {
        let shop = open_shop(&app).await;
        let mut one = ten_percent();
        one["total_quota"] = json!(1);
        let one = offer(&app, &shop, one).await;
        let token = qr(&app, &shop.holder).await;
        let done = redeem(&app, &shop.terminal, "a", json!({"token": token, "offer_id": one["id"], "bill_fen": 100})).await.expect(201);
        let (holder, _) = new_holder(&app, &shop.root, 2, "440303").await;
        let token2 = qr(&app, &holder).await;
        redeem(&app, &shop.terminal, "b", json!({"token": token2, "offer_id": one["id"], "bill_fen": 100})).await.expect_problem(409, "quota_exhausted");
        let path = format!("/api/v1/merchant/redemptions/{}/void", done["id"].as_str().unwrap());
        app.post(&path, Some(&shop.staff), json!({})).await.expect_problem(422, "validation_failed");
        let voided = app.post(&path, Some(&shop.staff), json!({"reason": "顾客退货"})).await.expect(200);
        assert_eq!(voided["status"], "voided");
        app.post(&path, Some(&shop.staff), json!({"reason": "again"})).await.expect_problem(409, "already_voided");
        // The refusal is kept with its key: a retry of "b" hears it again although the
        // quota is free now; a new key redeems.
        redeem(&app, &shop.terminal, "b", json!({"token": token2, "offer_id": one["id"], "bill_fen": 100})).await.expect_problem(409, "quota_exhausted");
        redeem(&app, &shop.terminal, "c", json!({"token": token2, "offer_id": one["id"], "bill_fen": 100})).await.expect(201);
        let log = app.get(&format!("/api/v1/admin/audit-log?entity_type=redemption&entity_id={}", done["id"].as_str().unwrap()), Some(&shop.root)).await.expect(200);
        assert_eq!((log["total"].as_i64(), log["items"][0]["actor"].as_str()), (Some(1), Some("shop.staff")));
    }

    async fn quotas_hold_under_concurrency(app) {
        let shop = open_shop(&app).await;
        let mut limited = ten_percent();
        limited["total_quota"] = json!(50);
        let limited = offer(&app, &shop, limited).await;
        let mut tokens = Vec::new();
        for _ in 0..200 {
            tokens.push(qr(&app, &shop.holder).await);
        }
        let attempts = tokens.iter().enumerate().map(|(i, token)| {
            let app = &app;
            let shop = &shop;
            let offer_id = limited["id"].clone();
            async move {
                redeem(app, &shop.terminal, &format!("q-{i}"), json!({"token": token, "offer_id": offer_id, "bill_fen": 1000})).await
            }
        });
        let answers = futures_util::future::join_all(attempts).await;
        let ok = answers.iter().filter(|a| a.status == 201).count();
        let exhausted = answers.iter().filter(|a| a.status == 409 && a.code() == "quota_exhausted").count();
        assert_eq!((ok, exhausted), (50, 150), "{:?}", answers.iter().find(|a| a.status != 201 && a.code() != "quota_exhausted"));
        let listed = app.get("/api/v1/merchant/redemptions?per_page=100", Some(&shop.staff)).await.expect(200);
        assert_eq!(listed["total"], 50);
    }

    async fn per_holder_limits_hold_under_concurrency(app) {
        let shop = open_shop(&app).await;
        let mut limited = ten_percent();
        limited["per_holder_limit"] = json!(3);
        limited["per_holder_period"] = json!("day");
        let limited = offer(&app, &shop, limited).await;
        let mut tokens = Vec::new();
        for _ in 0..20 {
            tokens.push(qr(&app, &shop.holder).await);
        }
        let attempts = tokens.iter().enumerate().map(|(i, token)| {
            let app = &app;
            let shop = &shop;
            let offer_id = limited["id"].clone();
            async move {
                redeem(app, &shop.terminal, &format!("h-{i}"), json!({"token": token, "offer_id": offer_id, "bill_fen": 1000})).await
            }
        });
        let answers = futures_util::future::join_all(attempts).await;
        let ok = answers.iter().filter(|a| a.status == 201).count();
        let limited_out = answers.iter().filter(|a| a.code() == "holder_limit_reached").count();
        assert_eq!((ok, limited_out), (3, 17));
    }

    async fn one_key_sent_fifty_times_at_once_redeems_once(app) {
        let shop = open_shop(&app).await;
        let offer = offer(&app, &shop, ten_percent()).await;
        let token = qr(&app, &shop.holder).await;
        let body = json!({"token": token, "offer_id": offer["id"], "bill_fen": 5000});
        let attempts = (0..50).map(|_| redeem(&app, &shop.terminal, "same-key", body.clone()));
        let answers = futures_util::future::join_all(attempts).await;
        // The others wait for the first claim to commit, then replay its answer.
        assert!(answers.iter().all(|a| a.status == 201), "{:?}", answers.iter().find(|a| a.status != 201));
        assert!(answers.iter().all(|a| a.body == answers[0].body), "every answer is the first answer");
        let listed = app.get("/api/v1/merchant/redemptions", Some(&shop.staff)).await.expect(200);
        assert_eq!(listed["total"], 1);
    }

    async fn terminals_are_managed_by_their_merchant(app) {
        let shop = open_shop(&app).await;
        let listed = app.get("/api/v1/merchant/terminals", Some(&shop.staff)).await.expect(200);
        assert_eq!((listed["total"].as_i64(), listed["page"].as_i64()), (Some(1), Some(1)));
        let listed = &listed["items"];
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert!(listed[0].get("api_key").is_none());
        let token = qr(&app, &shop.holder).await;
        assert_eq!(verify(&app, &shop.terminal, &token).await["valid"], true);
        let id = listed[0]["id"].as_str().unwrap();
        app.send(app.client.delete(app.url(&format!("/api/v1/merchant/terminals/{id}"))).bearer_auth(&shop.staff)).await.expect(204);
        app.post("/api/v1/pos/verify", Some(&shop.terminal), json!({"token": token})).await.expect_problem(401, "unauthenticated");
        app.send(app.client.delete(app.url(&format!("/api/v1/merchant/terminals/{id}"))).bearer_auth(&shop.staff))
            .await
            .expect_problem(404, "terminal_not_found");
    }

    async fn a_terminal_can_verify_offline_with_the_jwks_and_the_revocation_feed(app) {
        let shop = open_shop(&app).await;
        let token = qr(&app, &shop.holder).await;
        let jwks = app.get("/.well-known/jwks.json", None).await.expect(200);
        let key = &jwks["keys"][0];
        assert_eq!((key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()), (Some("OKP"), Some("Ed25519"), Some("EdDSA")));
        // Offline: the signature checks with the published key alone.
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), key["kid"].as_str());
        let decoding = jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
        let claims = jsonwebtoken::decode::<Value>(&token, &decoding, &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA))
            .unwrap()
            .claims;
        assert_eq!(claims["sub"], shop.card["id"]);
        assert_eq!(claims["ver"], 1);
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 60);
        assert!(claims["jti"].is_string());

        let feed = app.get("/api/v1/pos/revocations", Some(&shop.terminal)).await.expect(200);
        assert_eq!(feed["cards"], json!([]));
        let since = feed["now"].as_str().unwrap().to_owned();
        app.post(&format!("/api/v1/admin/cards/{}/suspend", shop.card["id"].as_str().unwrap()), Some(&shop.root), json!({"reason": "挂失"}))
            .await
            .expect(200);
        let feed = app
            .get(&format!("/api/v1/pos/revocations?since={}", urlencode(&since)), Some(&shop.terminal))
            .await
            .expect(200);
        assert_eq!(feed["cards"].as_array().unwrap().len(), 1);
        assert_eq!((feed["cards"][0]["card_id"].clone(), feed["cards"][0]["status"].as_str(), feed["cards"][0]["version"].as_i64()),
            (shop.card["id"].clone(), Some("suspended"), Some(2)));
        let later = app
            .get(&format!("/api/v1/pos/revocations?since={}", urlencode(feed["now"].as_str().unwrap())), Some(&shop.terminal))
            .await
            .expect(200);
        assert_eq!(later["cards"], json!([]));
    }
}

fn urlencode(raw: &str) -> String {
    raw.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_reaches_another_process_at_once() {
    let first = spawn_instant_app(Backend::Postgres).await;
    let second = spawn_second_process(&first).await;
    let shop = open_shop(&first).await;
    offer(&first, &shop, ten_percent()).await;
    let token = qr(&first, &shop.holder).await;
    // Both processes have the card warm in the shared cache.
    assert_eq!(verify(&second, &shop.terminal, &token).await["valid"], true);
    assert_eq!(verify(&first, &shop.terminal, &token).await["valid"], true);
    first
        .post(
            &format!(
                "/api/v1/admin/cards/{}/revoke",
                shop.card["id"].as_str().unwrap()
            ),
            Some(&shop.root),
            json!({"reason": "注销"}),
        )
        .await
        .expect(200);
    assert_eq!(
        verify(&second, &shop.terminal, &token).await["reason"],
        "card_revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_redeem_survive_a_redis_outage() {
    use crate::outages::{free_port, OwnRedis};
    let mut redis = OwnRedis::start(free_port());
    redis.wait_until_up().await;
    let app = spawn_app_with(
        Backend::Postgres,
        Options {
            redis_url: Some(redis.url()),
            public_notice_days: Some(0),
            workers: Some(2),
            ..Default::default()
        },
    )
    .await;
    let shop = open_shop(&app).await;
    let offer = offer(&app, &shop, ten_percent()).await;
    let token = qr(&app, &shop.holder).await;
    assert_eq!(verify(&app, &shop.terminal, &token).await["valid"], true);
    assert_eq!(
        redis
            .keys(&format!("{}card:*", app.cache_prefix))
            .await
            .len(),
        1,
        "the card was cached"
    );

    redis.stop();
    assert_eq!(
        verify(&app, &shop.terminal, &token).await["valid"],
        true,
        "answered from the database"
    );
    redeem(
        &app,
        &shop.terminal,
        "r1",
        json!({"token": token, "offer_id": offer["id"], "bill_fen": 100}),
    )
    .await
    .expect(201);
    assert_eq!(
        verify(&app, &shop.terminal, &token).await["reason"],
        "token_used",
        "the ledger knows the token is spent"
    );
    let token = qr(&app, &shop.holder).await;
    app.post(
        &format!(
            "/api/v1/admin/cards/{}/suspend",
            shop.card["id"].as_str().unwrap()
        ),
        Some(&shop.root),
        json!({"reason": "x"}),
    )
    .await
    .expect(200);
    assert_eq!(
        verify(&app, &shop.terminal, &token).await["reason"],
        "card_suspended"
    );

    // Redis returns (empty): the cache is used again without a restart.
    let redis = OwnRedis::start(redis.port);
    redis.wait_until_up().await;
    let mut cached = false;
    for _ in 0..100 {
        assert_eq!(
            verify(&app, &shop.terminal, &token).await["reason"],
            "card_suspended"
        );
        if !redis
            .keys(&format!("{}card:*", app.cache_prefix))
            .await
            .is_empty()
        {
            cached = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(cached, "the card snapshot is cached again");
}

crate::instant_backends! {
    async fn a_till_learns_its_merchant_before_any_scan(app) {
        let shop = open_shop(&app).await;
        let me = app.get("/api/v1/pos/terminal", Some(&shop.terminal)).await.expect(200);
        assert_eq!(me["merchant_id"], shop.merchant_id.as_str(), "{me}");
        assert_eq!(me["merchant_status"], "active", "{me}");
        assert!(me["merchant_name"].as_str().is_some_and(|n| !n.is_empty()), "{me}");
        let path = format!("/api/v1/admin/merchants/{}/suspend", shop.merchant_id);
        app.post(&path, Some(&shop.root), serde_json::json!({"reason": "核查"})).await.expect(200);
        let me = app.get("/api/v1/pos/terminal", Some(&shop.terminal)).await.expect(200);
        assert_eq!(me["merchant_status"], "suspended", "{me}");
        app.get("/api/v1/pos/terminal", Some("yjt_not-a-key")).await.expect_problem(401, "unauthenticated");
    }
}
