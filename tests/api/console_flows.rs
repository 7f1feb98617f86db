//! What the people who use Yongjun do in its console, in a real browser (issue 14): an
//! office admits an applicant; a partner publishes an offer the office approves; a
//! holder shows a card the till scans and redeems; a till through a network cut. The
//! data a flow starts from is made through the API; everything the flow is about is
//! done in the pages.

use serde_json::{json, Value};

use crate::beneficiaries::{issue, person, register};
use crate::browser::Browser;
use crate::helpers::*;
use crate::merchants::{application, apply};
use crate::partition::{Fault, Proxy};
use crate::pos::{new_holder, offer, open_shop, qr, ten_percent, Shop};

/// Signs in on the console's login form.
pub(crate) async fn sign_in(b: &Browser, base: &str, username: &str, password: &str) {
    b.goto(&format!("{base}/")).await;
    b.fill("#login-username", username).await;
    b.fill("#login-password", password).await;
    b.click("#login-submit").await;
    b.find("#logout").await;
}

pub(crate) async fn sign_out(b: &Browser) {
    b.click("#logout").await;
    b.find("#login-form").await;
}

/// Sets a `<select>` (or any field) by value, as a person picking it would.
pub(crate) async fn choose(b: &Browser, css: &str, value: &str) {
    b.find(css).await;
    b.client
        .execute(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1];
             e.dispatchEvent(new Event('input', {bubbles: true}));
             e.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(css), json!(value)],
        )
        .await
        .unwrap();
}

async fn message_ok(b: &Browser) {
    b.wait_for("#message", "@data-kind", |k| k == "ok").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_admits_an_applicant_in_the_console() {
    let app = spawn_instant_app(Backend::Sqlite).await;
    let id = apply(&app, application(1, "440303")).await;
    let base = app.address.clone();
    let b = &Browser::start(false).await;
    b.check("admission", async {
        sign_in(b, &base, "admin", ADMIN_PASSWORD).await;
        b.click("a[data-nav=\"applications\"]").await;
        b.click(&format!("tr[data-id=\"{id}\"]")).await;
        for department in yongjun::settings::DEFAULT_DEPARTMENTS {
            choose(b, "#review-department", department).await;
            choose(b, "#review-verdict", "pass").await;
            b.fill("#review-comment", "符合条件").await;
            b.click("button[data-action=\"review\"]").await;
            message_ok(b).await;
        }
        b.picture("office-merchant").await;
        b.click("button[data-action=\"approve\"]").await;
        message_ok(b).await;
        let year = chrono::Utc::now().format("%Y").to_string();
        b.fill("#agreement-no", &format!("LH-{year}-001")).await;
        choose(b, "#agreement-start", &format!("{year}-01-01")).await;
        choose(
            b,
            "#agreement-end",
            &format!("{}-12-31", year.parse::<i32>().unwrap() + 3),
        )
        .await;
        b.click("button[data-action=\"activate\"]").await;
        message_ok(b).await;
        // The new partner counts on the dashboard.
        b.click("a[data-nav=\"dashboard\"]").await;
        b.find("svg.chart").await;
        b.picture("office-dashboard").await;
    })
    .await;
    let directory = app
        .get("/api/v1/merchants?region=440303", None)
        .await
        .expect(200);
    let ids: Vec<&str> = directory["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![id.as_str()],
        "the partner is in the public directory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_publishes_an_offer_the_office_approves() {
    let app = spawn_instant_app(Backend::Sqlite).await;
    let _shop = open_shop(&app).await;
    let base = app.address.clone();
    let b = &Browser::start(false).await;
    b.check("offer", async {
        sign_in(b, &base, "shop.staff", "shop-staff-password").await;
        b.click("a[data-nav=\"my-offers\"]").await;
        b.fill("#offer-title", "凭卡购药九折").await;
        choose(b, "#offer-kind", "percent_off").await;
        b.fill("#offer-percent-off", "10").await;
        b.fill("#offer-total-quota", "500").await;
        b.click("#offer-submit").await;
        message_ok(b).await;
        b.wait_for("[data-status]", "@data-status", |s| s == "pending_review")
            .await;
        b.picture("partner-offers").await;
        sign_out(b).await;

        sign_in(b, &base, "admin", ADMIN_PASSWORD).await;
        b.click("a[data-nav=\"offers\"]").await;
        b.click("button[data-action=\"approve-offer\"]").await;
        message_ok(b).await;
        sign_out(b).await;

        sign_in(b, &base, "shop.staff", "shop-staff-password").await;
        b.click("a[data-nav=\"my-offers\"]").await;
        b.wait_for("[data-status]", "@data-status", |s| s == "active")
            .await;
    })
    .await;
    let listed = app.get("/api/v1/offers", None).await.expect(200);
    assert_eq!(listed["total"], 1, "{listed}");
}

/// An open shop with one approved 10 % offer, and that offer's id.
async fn shop_with_an_offer(app: &TestApp) -> (Shop, String) {
    let shop = open_shop(app).await;
    let offer: Value = offer(app, &shop, ten_percent()).await;
    (shop, offer["id"].as_str().unwrap().to_owned())
}

/// Sets the till up with the terminal's key.
async fn set_up_till(b: &Browser, base: &str, key: &str) {
    b.goto(&format!("{base}/till")).await;
    b.fill("#till-key", key).await;
    b.click("#till-save").await;
    b.find("#scan").await;
}

/// Scans `token` as a USB scanner does (the text, then Enter), picks `offer`, enters
/// the bill and redeems.
async fn scan_and_redeem(b: &Browser, token: &str, offer: &str, bill_yuan: &str) {
    b.fill("#scan", &format!("{token}\n")).await;
    b.wait_for("#verdict", "@data-valid", |v| v == "true").await;
    b.click(&format!("li[data-offer-id=\"{offer}\"]")).await;
    b.fill("#bill", bill_yuan).await;
    b.click("#redeem").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_shows_a_card_the_till_scans_and_redeems() {
    let app = spawn_instant_app(Backend::Sqlite).await;
    let (shop, offer_id) = shop_with_an_offer(&app).await;
    let beneficiary = register(&app, &shop.root, person(7, "440303")).await;
    let card = issue(
        &app,
        &shop.root,
        beneficiary["id"].as_str().unwrap(),
        "general",
    )
    .await;
    let base = app.address.clone();
    let b = &Browser::start(true).await;
    b.check("redeem", async {
        b.goto(&format!("{base}/card")).await;
        b.fill("#card-no", card["card_no"].as_str().unwrap()).await;
        b.fill(
            "#activation-code",
            card["activation_code"].as_str().unwrap(),
        )
        .await;
        b.click("#activate-submit").await;
        let token = b.wait_for("#qr", "@data-token", |t| t.len() > 20).await;
        b.picture("card").await;

        set_up_till(b, &base, &shop.terminal).await;
        scan_and_redeem(b, &token, &offer_id, "128.00").await;
        b.wait_for("#receipt .discount", "", |t| t.contains("12.80"))
            .await;
        b.picture("till").await;

        b.goto(&format!("{base}/card")).await;
        b.wait_for("#redemptions", "", |t| t.contains("12.80"))
            .await;
    })
    .await;
    let sales = app
        .get("/api/v1/merchant/redemptions", Some(&shop.staff))
        .await
        .expect(200);
    assert_eq!(sales["total"], 1, "{sales}");
    assert_eq!(sales["items"][0]["discount_fen"], 1280, "{sales}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_till_verifies_offline_queues_and_uploads_on_return() {
    let app = spawn_instant_app(Backend::Sqlite).await;
    let (shop, offer_id) = shop_with_an_offer(&app).await;
    let (holder, _) = new_holder(&app, &shop.root, 8, "440303").await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    // The till reaches the server only through this proxy: cutting it cuts the network.
    let proxy = Proxy::start(port).await;
    let base = format!("http://127.0.0.1:{}", proxy.port);
    let token = qr(&app, &holder).await;
    let b = &Browser::start(false).await;
    b.check("offline", async {
        set_up_till(b, &base, &shop.terminal).await;
        // Online first: the till has fetched the keys, the feed and its shop's offer.
        b.wait_for("#offline-data", "@data-offers", |n| n == "1")
            .await;
        b.wait_for("#offline-data", "@data-ready", |v| v == "true")
            .await;
        proxy.set(Fault::Refuse);
        scan_and_redeem(b, &token, &offer_id, "50.00").await;
        b.wait_for("#queue", "@data-count", |n| n == "1").await;
        b.picture("till-offline").await;
        proxy.set(Fault::Pass);
        b.wait_for("#queue", "@data-count", |n| n == "0").await;
    })
    .await;
    let sales = app
        .get("/api/v1/merchant/redemptions", Some(&shop.staff))
        .await
        .expect(200);
    assert_eq!(sales["total"], 1, "{sales}");
    assert!(
        sales["items"][0]["verified_offline_at"].is_string(),
        "{sales}"
    );
}
