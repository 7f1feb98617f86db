//! Offline redemption (`verified_offline_at`) and the signed, paged revocation feed.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::instant_backends;
use crate::pos::{new_holder, offer, open_shop, qr, redeem, ten_percent, Shop};

/// An app with a zero-day public notice and QR tokens that live one second, so a test
/// can hold a token past its expiry.
async fn spawn_short_lived(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        Options {
            public_notice_days: Some(0),
            workers: Some(2),
            qr_ttl_secs: Some(1),
            ..Default::default()
        },
    )
    .await
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn now() -> String {
    rfc3339(chrono::Utc::now())
}

/// Waits until a token signed now is past its lifetime and the leeway.
async fn outlive_the_token() {
    tokio::time::sleep(std::time::Duration::from_millis(4_200)).await;
}

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn card_action(app: &TestApp, shop: &Shop, card: &Value, action: &str) {
    app.post(
        &format!(
            "/api/v1/admin/cards/{}/{action}",
            card["id"].as_str().unwrap()
        ),
        Some(&shop.root),
        json!({"reason": "挂失"}),
    )
    .await
    .expect(200);
}

crate::backends_with! { spawn_short_lived;
    async fn a_token_verified_offline_redeems_after_it_expired(app) {
        let shop = open_shop(&app).await;
        let offer = offer(&app, &shop, ten_percent()).await;
        let token = qr(&app, &shop.holder).await;
        let verified = now();
        outlive_the_token().await;
        let body = json!({"token": token, "offer_id": offer["id"], "bill_fen": 10000});
        // Online, the expired token is refused, as before.
        redeem(&app, &shop.terminal, &key(), body.clone()).await.expect_problem(422, "token_expired");

        let mut offline = body.clone();
        offline["verified_offline_at"] = json!(verified);
        let upload = key();
        let redeemed = redeem(&app, &shop.terminal, &upload, offline.clone()).await.expect(201);
        assert_eq!(redeemed["discount_fen"], 1000);
        assert_eq!(redeemed["offline"], true, "{redeemed}");
        assert!(redeemed["verified_offline_at"].is_string(), "{redeemed}");
        // The same upload again is the same answer; another upload of the token is a replay.
        let again = redeem(&app, &shop.terminal, &upload, offline.clone()).await.expect(201);
        assert_eq!(again["id"], redeemed["id"]);
        redeem(&app, &shop.terminal, &key(), offline).await.expect_problem(409, "token_used");

        let stats = app.get("/api/v1/admin/stats", Some(&shop.root)).await.expect(200);
        assert_eq!(stats["redemptions"]["offline"], 1, "{}", stats["redemptions"]);
        assert_eq!(stats["redemptions"]["count"], 1);
    }

    async fn an_offline_time_must_lie_in_the_token_lifetime_and_the_age_limit(app) {
        let shop = open_shop(&app).await;
        let offer = offer(&app, &shop, ten_percent()).await;
        let token = qr(&app, &shop.holder).await;
        let body = |at: String| json!({"token": token, "offer_id": offer["id"], "bill_fen": 100, "verified_offline_at": at});

        let future = rfc3339(chrono::Utc::now() + chrono::Duration::minutes(5));
        let problem = redeem(&app, &shop.terminal, &key(), body(future)).await.expect_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], "verified_offline_at");
        let old = rfc3339(chrono::Utc::now() - chrono::Duration::hours(73));
        let problem = redeem(&app, &shop.terminal, &key(), body(old)).await.expect_problem(422, "offline_too_old");
        assert_eq!(problem["max_age_hours"], 72);
        // A time before the token was signed: the terminal cannot have seen it then.
        let earlier = rfc3339(chrono::Utc::now() - chrono::Duration::minutes(10));
        redeem(&app, &shop.terminal, &key(), body(earlier)).await.expect_problem(422, "token_expired");
        redeem(&app, &shop.terminal, &key(), body("yesterday".into())).await.expect_problem(422, "validation_failed");
        // None of these used the token.
        let listed = app.get("/api/v1/merchant/redemptions", Some(&shop.staff)).await.expect(200);
        assert_eq!(listed["total"], 0);
    }

    async fn quotas_apply_when_the_upload_arrives(app) {
        let shop = open_shop(&app).await;
        let limited = offer(&app, &shop, json!({"title": "限量体检", "kind": "free", "total_quota": 1})).await;
        let (second_holder, _) = new_holder(&app, &shop.root, 2, "140521").await;
        let first = qr(&app, &shop.holder).await;
        let second = qr(&app, &second_holder).await;
        let verified = now();
        outlive_the_token().await;
        let body = |token: &str| json!({"token": token, "offer_id": limited["id"], "verified_offline_at": verified});
        redeem(&app, &shop.terminal, &key(), body(&first)).await.expect(201);
        // The second was accepted offline at the till; the quota is gone when it arrives.
        redeem(&app, &shop.terminal, &key(), body(&second)).await.expect_problem(409, "quota_exhausted");
    }
}

/// Every page of the feed from `since` (or the start), each page's signature checked
/// against the JWKS; the cards and the first page's `issued_at`.
async fn follow_feed(
    app: &TestApp,
    terminal: &str,
    since: Option<&str>,
    limit: u32,
) -> (Vec<Value>, String, usize) {
    let jwks = app.get("/.well-known/jwks.json", None).await.expect(200);
    let mut query = match since {
        Some(since) => format!("since={}&limit={limit}", urlencode(since)),
        None => format!("limit={limit}"),
    };
    let (mut cards, mut first_issued, mut pages) = (Vec::new(), None, 0);
    loop {
        let answer = app
            .client
            .get(app.url(&format!("/api/v1/pos/revocations?{query}")))
            .bearer_auth(terminal)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let signature = answer.headers()["yongjun-signature"]
            .to_str()
            .unwrap()
            .to_owned();
        let body = answer.bytes().await.unwrap();
        assert!(
            verify_detached(&jwks, &signature, &body),
            "the feed's signature checks"
        );
        let mut tampered = body.to_vec();
        tampered[body.len() / 2] ^= 1;
        assert!(
            !verify_detached(&jwks, &signature, &tampered),
            "a changed feed fails the check"
        );
        let page: Value = serde_json::from_slice(&body).unwrap();
        first_issued.get_or_insert_with(|| page["issued_at"].as_str().unwrap().to_owned());
        pages += 1;
        cards.extend(page["cards"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("cursor={cursor}&limit={limit}"),
            None => break,
        }
    }
    (cards, first_issued.unwrap(), pages)
}

/// RFC 7515 appendix F: the payload goes back between the two dots; EdDSA with the key
/// named by `kid`.
pub fn verify_detached(jwks: &Value, jws: &str, payload: &[u8]) -> bool {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (header, signature) = jws.split_once("..").expect("a detached JWS");
    let header: Value = serde_json::from_slice(&b64.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the feed is signed by a key of the JWKS");
    let decoding =
        jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let signing_input = format!(
        "{}.{}",
        jws.split_once("..").unwrap().0,
        b64.encode(payload)
    );
    jsonwebtoken::crypto::verify(
        signature,
        signing_input.as_bytes(),
        &decoding,
        jsonwebtoken::Algorithm::EdDSA,
    )
    .unwrap_or(false)
}

pub fn urlencode(raw: &str) -> String {
    raw.replace('+', "%2B").replace(':', "%3A")
}

instant_backends! {
    async fn the_feed_pages_with_a_cursor_and_is_signed(app) {
        let shop = open_shop(&app).await;
        let mut changed = vec![shop.card["id"].clone()];
        card_action(&app, &shop, &shop.card, "suspend").await;
        for n in 2..=5 {
            let (_, card) = new_holder(&app, &shop.root, n, "140521").await;
            card_action(&app, &shop, &card, "revoke").await;
            changed.push(card["id"].clone());
        }
        let (cards, issued_at, pages) = follow_feed(&app, &shop.terminal, None, 2).await;
        assert_eq!(pages, 3, "five cards in pages of two");
        let ids: Vec<Value> = cards.iter().map(|c| c["card_id"].clone()).collect();
        assert_eq!(ids, changed, "oldest change first, each card once");
        assert_eq!(cards[0]["status"], "suspended");
        assert_eq!(cards[1]["status"], "revoked");

        let first = app.get("/api/v1/pos/revocations?limit=2", Some(&shop.terminal)).await.expect(200);
        let issued = chrono::DateTime::parse_from_rfc3339(first["issued_at"].as_str().unwrap()).unwrap();
        let valid = chrono::DateTime::parse_from_rfc3339(first["valid_until"].as_str().unwrap()).unwrap();
        assert_eq!(valid - issued, chrono::Duration::hours(24));

        // From the first page's issued_at, only what changed since.
        let (none, _, _) = follow_feed(&app, &shop.terminal, Some(&issued_at), 2).await;
        assert_eq!(none, Vec::<Value>::new());
        // A reinstatement is not listed (its new tokens carry a newer version than the
        // entry a terminal holds); the next suspension is.
        card_action(&app, &shop, &shop.card, "reinstate").await;
        assert_eq!(follow_feed(&app, &shop.terminal, Some(&issued_at), 2).await.0, Vec::<Value>::new());
        card_action(&app, &shop, &shop.card, "suspend").await;
        let (later, _, _) = follow_feed(&app, &shop.terminal, Some(&issued_at), 2).await;
        assert_eq!(later.len(), 1);
        assert_eq!((later[0]["status"].as_str(), later[0]["version"].as_i64()), (Some("suspended"), Some(4)));

        let future = rfc3339(chrono::Utc::now() + chrono::Duration::hours(1));
        app.get(&format!("/api/v1/pos/revocations?since={}", urlencode(&future)), Some(&shop.terminal))
            .await
            .expect_problem(422, "validation_failed");
        app.get("/api/v1/pos/revocations?cursor=not-a-cursor", Some(&shop.terminal))
            .await
            .expect_problem(422, "validation_failed");
        app.get("/api/v1/pos/revocations?limit=10001", Some(&shop.terminal))
            .await
            .expect_problem(422, "validation_failed");
    }

    async fn a_card_past_its_expiry_is_swept_into_the_feed(app) {
        let shop = open_shop(&app).await;
        assert!(follow_feed(&app, &shop.terminal, None, 100).await.0.is_empty());
        let claims = claims_of(&qr(&app, &shop.holder).await);
        let card_expiry = claims["cexp"].as_i64().expect("the token carries the card's expiry");
        let card = app.get(&format!("/api/v1/admin/cards/{}", shop.card["id"].as_str().unwrap()), Some(&shop.root)).await.expect(200);
        let expires = chrono::DateTime::parse_from_rfc3339(card["expires_at"].as_str().unwrap()).unwrap();
        assert_eq!(card_expiry, expires.timestamp());

        set_card_expiry(&app, shop.card["id"].as_str().unwrap(), chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1)).await;
        let swept = app.sweep().await;
        assert_eq!((swept.cards, swept.merchants, swept.skipped), (1, 0, false));
        assert_eq!(app.sweep().await.cards, 0, "a second sweep finds nothing");
        let (cards, _, _) = follow_feed(&app, &shop.terminal, None, 100).await;
        assert_eq!(cards.len(), 1);
        assert_eq!((cards[0]["card_id"].clone(), cards[0]["status"].as_str()), (shop.card["id"].clone(), Some("expired")));
        let log = app
            .get(&format!("/api/v1/admin/audit-log?entity_type=card&entity_id={}", shop.card["id"].as_str().unwrap()), Some(&shop.root))
            .await
            .expect(200);
        assert_eq!(log["items"][0]["action"], "card.expire", "{log}");
        assert_eq!(log["items"][0]["actor"], "system", "{}", log["items"][0]);
        // The holder's card reads expired, and a QR token is no longer issued for it.
        let mine = app.get("/api/v1/holder/card", Some(&shop.holder)).await;
        assert!(mine.status == 401 || mine.body["status"] == "expired", "{:?}", mine.body);
    }
}

/// The claims of a QR token, read without checking it (the tests check it elsewhere).
pub fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

pub async fn set_card_expiry(app: &TestApp, id: &str, at: chrono::NaiveDateTime) {
    use diesel_async::RunQueryDsl;
    let mut pooled = app.state.db.get().await.unwrap();
    let mut conn = pooled.conn();
    let id: yongjun::db::CardId = id.parse().unwrap();
    yongjun::with_conn!(&mut conn, |c| {
        use diesel::{ExpressionMethods, QueryDsl};
        use yongjun::db::schema::cards::dsl;
        diesel::update(dsl::cards.filter(dsl::id.eq(id)))
            .set(dsl::expires_at.eq(at))
            .execute(c)
            .await
            .unwrap()
    });
}

/// What a terminal holds after following the feed: the cards listed, by id, with the
/// version each was at when it was listed.
type DenyList = std::collections::HashMap<String, i64>;

/// The offline check of the README, step by step, with nothing but the JWKS and the
/// feed: the signature under the key named by `kid`, `exp` with the 2 s leeway, the
/// card's expiry `cexp`, and the feed's entry for the card. `Ok` or the reason a till
/// shows.
fn check_offline(
    jwks: &Value,
    deny: &DenyList,
    token: &str,
    at: i64,
) -> Result<Value, &'static str> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| "token_invalid")?;
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .ok_or("token_invalid")?;
    let decoding =
        jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(token, &decoding, &validation)
        .map_err(|_| "token_invalid")?
        .claims;
    let leeway = 2;
    if at - leeway > claims["exp"].as_i64().unwrap()
        || at + leeway < claims["iat"].as_i64().unwrap()
    {
        return Err("token_expired");
    }
    if claims["cexp"].as_i64().is_some_and(|cexp| at > cexp) {
        return Err("card_expired");
    }
    if deny
        .get(claims["sub"].as_str().unwrap())
        .is_some_and(|&listed| listed >= claims["ver"].as_i64().unwrap())
    {
        return Err("card_listed");
    }
    Ok(claims)
}

instant_backends! {
    async fn the_readme_offline_procedure_works_step_by_step(app) {
        let shop = open_shop(&app).await;
        let offer = offer(&app, &shop, ten_percent()).await;
        let (lost_holder, lost_card) = new_holder(&app, &shop.root, 2, "140521").await;
        let lost_token = qr(&app, &lost_holder).await;
        card_action(&app, &shop, &lost_card, "suspend").await;

        // 1–3. While online: the JWKS, then every page of the feed, each signature checked.
        let jwks = app.get("/.well-known/jwks.json", None).await.expect(200);
        let (cards, issued_at, _) = follow_feed(&app, &shop.terminal, None, 1000).await;
        let deny: DenyList = cards.iter().map(|c| (c["card_id"].as_str().unwrap().to_owned(), c["version"].as_i64().unwrap())).collect();
        assert_eq!(deny.get(lost_card["id"].as_str().unwrap()), Some(&2));
        let first = app.get("/api/v1/pos/revocations", Some(&shop.terminal)).await.expect(200);
        let valid_until = chrono::DateTime::parse_from_rfc3339(first["valid_until"].as_str().unwrap()).unwrap();
        assert!(valid_until > chrono::Utc::now(), "the data is fresh");

        // 4. The network is down: the cashier scans two cards.
        let token = qr(&app, &shop.holder).await;
        let at = chrono::Utc::now();
        let claims = check_offline(&jwks, &deny, &token, at.timestamp()).expect("a good card passes offline");
        assert_eq!(claims["sub"], shop.card["id"]);
        assert_eq!(check_offline(&jwks, &deny, &lost_token, at.timestamp()).unwrap_err(), "card_listed");
        assert_eq!(check_offline(&jwks, &deny, &token, at.timestamp() + 600).unwrap_err(), "token_expired");

        // 5. Recorded with its time and a key; 6. uploaded when the network returns.
        let verified_offline_at = rfc3339(at);
        let idempotency_key = key();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let body = json!({"token": token, "offer_id": offer["id"], "bill_fen": 8800, "verified_offline_at": verified_offline_at});
        let redeemed = redeem(&app, &shop.terminal, &idempotency_key, body.clone()).await.expect(201);
        assert_eq!((redeemed["offline"].as_bool(), redeemed["discount_fen"].as_i64()), (Some(true), Some(880)));
        // A retry after a lost answer is the same redemption.
        let retried = redeem(&app, &shop.terminal, &idempotency_key, body).await.expect(201);
        assert_eq!(retried["id"], redeemed["id"]);

        // 7. Next time, the feed from the first page's issued_at: only what changed since.
        card_action(&app, &shop, &shop.card, "revoke").await;
        let (changed, _, _) = follow_feed(&app, &shop.terminal, Some(&issued_at), 1000).await;
        assert_eq!(changed.len(), 1);
        assert_eq!((changed[0]["card_id"].clone(), changed[0]["status"].as_str()), (shop.card["id"].clone(), Some("revoked")));
    }
}

// With tokens of the usual 60 s, so a slow machine cannot outlive them mid-test.
instant_backends! {
    async fn the_card_is_judged_at_the_time_it_was_verified(app) {
        let shop = open_shop(&app).await;
        let offer = offer(&app, &shop, ten_percent()).await;
        // Verified offline, then the card is suspended: the cashier could not know.
        let before = qr(&app, &shop.holder).await;
        let verified = now();
        card_action(&app, &shop, &shop.card, "suspend").await;
        let body = json!({"token": before, "offer_id": offer["id"], "bill_fen": 5000, "verified_offline_at": verified});
        let redeemed = redeem(&app, &shop.terminal, &key(), body).await.expect(201);
        assert_eq!(redeemed["offline"], true);

        // Another card's token, verified offline after the card's revocation: refused.
        let (holder, card) = new_holder(&app, &shop.root, 2, "140521").await;
        let token = qr(&app, &holder).await;
        card_action(&app, &shop, &card, "revoke").await;
        let body = json!({"token": token, "offer_id": offer["id"], "bill_fen": 5000, "verified_offline_at": now()});
        let refused = redeem(&app, &shop.terminal, &key(), body).await.expect_problem(409, "card_revoked");
        assert!(refused["detail"].as_str().unwrap().chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{refused}");
    }
}
