//! `yongjun demo`: the world its build function makes on the SQLite default (with the
//! default seven-day public notice), seen through the API, and the refusal of a second
//! run on the same database.

use serde_json::json;
use yongjun::app::demo;

use crate::helpers::{spawn_app, Backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_builds_a_living_world_and_refuses_a_second_run() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_eq!(app.state.policy.public_notice_days, 7);
    let state = &app.state;
    let world = demo::build(&state.demo()).await.expect("the demo builds");

    // About thirty merchants, in every state of admission and exit.
    assert_eq!(world.merchants, 30, "{:?}", world.merchants_by_status);
    let status = |s: &str| {
        world
            .merchants_by_status
            .iter()
            .find(|(k, _)| k == s)
            .map_or(0, |(_, n)| *n)
    };
    for s in [
        "pending",
        "under_review",
        "public_notice",
        "active",
        "suspended",
        "revoked",
        "rejected",
        "expired",
    ] {
        assert!(
            status(s) > 0,
            "no {s} merchant: {:?}",
            world.merchants_by_status
        );
    }
    assert!(status("active") >= 15, "{:?}", world.merchants_by_status);

    // Beneficiaries, and cards of every product.
    assert_eq!(world.beneficiaries, 300);
    for product in ["general", "medical", "grain", "book"] {
        let cards = world
            .cards_by_product
            .iter()
            .find(|(k, _)| k == product)
            .map_or(0, |(_, n)| *n);
        assert!(cards > 0, "no {product} card: {:?}", world.cards_by_product);
    }

    // Months of redemptions.
    assert!(world.redemptions >= 300, "{}", world.redemptions);
    assert!(world.months.len() >= 5, "{:?}", world.months);

    // The office admin of 深圳市 signs in with the printed password and sees it all:
    // active offers, figures by month, a complaint, the flagged partner, a spot check.
    let office = world
        .accounts
        .iter()
        .find(|a| a.username == "sz.admin")
        .expect("the 深圳市 office account");
    let sz = app.login(&office.username, &office.password).await;
    let offers = app
        .get("/api/v1/admin/offers?status=active", Some(&sz))
        .await
        .expect(200);
    assert!(offers["total"].as_i64().unwrap() >= 15, "{offers}");
    let figures = app
        .get("/api/v1/admin/stats?region=440300", Some(&sz))
        .await
        .expect(200);
    assert!(figures["redemptions"]["count"].as_i64().unwrap() > 100);
    assert!(figures["redemptions"]["by_month"].as_array().unwrap().len() >= 5);
    assert!(
        figures["redemptions"]["cross_region"]["count"]
            .as_i64()
            .unwrap()
            > 0
    );
    let complaints = app
        .get("/api/v1/admin/complaints", Some(&sz))
        .await
        .expect(200);
    assert!(complaints["total"].as_i64().unwrap() >= 1);
    let flagged = app
        .get("/api/v1/admin/merchants?flagged=true", Some(&sz))
        .await
        .expect(200);
    assert!(flagged["total"].as_i64().unwrap() >= 1, "{flagged}");
    let checks = app
        .get("/api/v1/admin/inspections", Some(&sz))
        .await
        .expect(200);
    assert_eq!(checks["total"], 1);

    // The printed partner account, till key and card work as printed.
    let partner = world
        .accounts
        .iter()
        .find(|a| a.username == "luohu.pharmacy")
        .expect("the partner account");
    let staff = app.login(&partner.username, &partner.password).await;
    let profile = app
        .get("/api/v1/merchant/profile", Some(&staff))
        .await
        .expect(200);
    assert_eq!(profile["name"], world.partner.as_str());
    let tokens = app
        .post(
            "/api/v1/holder/activate",
            None,
            json!({"card_no": world.card_no, "activation_code": world.activation_code}),
        )
        .await
        .expect(200);
    let holder = tokens["access_token"].as_str().unwrap();
    let qr = app
        .post("/api/v1/holder/card/qr", Some(holder), json!({}))
        .await
        .expect(200);
    let verified = app
        .post(
            "/api/v1/pos/verify",
            Some(&world.terminal_key),
            json!({"token": qr["token"]}),
        )
        .await
        .expect(200);
    assert_eq!(verified["valid"], true, "{verified}");
    assert!(!verified["offers"].as_array().unwrap().is_empty());

    // The partner's admission is in the audit log, the notice ended early saying so.
    let root = app.admin_token().await;
    let path = format!(
        "/api/v1/admin/audit-log?entity_id={}&per_page=100",
        profile["id"].as_str().unwrap()
    );
    let history = app.get(&path, Some(&root)).await.expect(200).to_string();
    for action in [
        "merchant.apply",
        "merchant.record_review",
        "merchant.approve",
        "merchant.end_notice",
        "merchant.activate",
    ] {
        assert!(history.contains(action), "no {action}: {history}");
    }

    // A second run refuses the database, which has merchants now.
    let refused = demo::build(&state.demo()).await.unwrap_err().to_string();
    assert!(refused.contains("already has 30 merchant"), "{refused}");
}
