//! Hostile input: control characters (a NUL above all, which PostgreSQL cannot store in
//! text) in bodies, query strings and paths are 422 `validation_failed` naming the
//! field, on both backends; a body trickled in slowly is cut off with 408.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both_backends;
use crate::helpers::*;
use crate::merchants::application;

/// The fields a 422 names.
fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

#[track_caller]
fn refused(answer: Answer, field: &str) {
    let body = answer.expect_problem(422, "validation_failed");
    assert_eq!(fields(&body), vec![field.to_owned()], "{body}");
}

async fn merchants_stored(app: &TestApp, token: &str) -> i64 {
    app.get("/api/v1/admin/merchants", Some(token))
        .await
        .expect(200)["total"]
        .as_i64()
        .unwrap()
}

both_backends! {
    async fn a_nul_in_a_login_is_refused_naming_the_field(app) {
        for (username, password, field) in [
            ("a\u{0}b", "whatever-password", "username"),
            ("admin", "bootstrap\u{0}", "password"),
            ("ad\u{1b}min", "whatever-password", "username"),
            ("admin", "pass\u{85}word", "password"),
        ] {
            let answer = app
                .post("/api/v1/auth/login", None, json!({"username": username, "password": password}))
                .await;
            refused(answer, field);
        }
        // None of them counted as a failed attempt, and the real sign-in still works.
        app.admin_token().await;
    }

    async fn a_nul_in_a_query_parameter_is_refused_naming_it(app) {
        refused(app.get("/api/v1/merchants?q=%00", None).await, "q");
        refused(app.get("/api/v1/merchants?q=%E6%8B%A5%00%E5%86%9B&page=1", None).await, "q");
        refused(app.get("/api/v1/offers?region=44%1F03", None).await, "region");
        refused(app.get("/api/v1/regions?parent=44%00", None).await, "parent");
        let token = app.admin_token().await;
        refused(app.get("/api/v1/admin/merchants?q=x%00y", Some(&token)).await, "q");
        refused(app.get("/api/v1/admin/merchants?status=active%0A", Some(&token)).await, "status");
        refused(app.get("/api/v1/admin/audit-log?actor=%C2%85", Some(&token)).await, "actor");
        // Encoded text that is not a control character is fine.
        app.get("/api/v1/merchants?q=%E6%8B%A5%E5%86%9B+%25", None).await.expect(200);
        app.get("/api/v1/admin/merchants?q=%5C0", Some(&token)).await.expect(200);
    }

    async fn a_nul_in_a_path_parameter_is_refused_naming_it(app) {
        refused(app.get("/api/v1/regions/44%000303", None).await, "code");
        let token = app.admin_token().await;
        refused(app.get("/api/v1/admin/exports/merchants%00", Some(&token)).await, "kind");
        // A route that does not exist is still 404.
        app.get("/api/v1/no-such-thing/%00", None).await.expect_problem(404, "not_found");
        app.get("/api/v1/regions/440303", None).await.expect(200);
    }

    async fn a_nul_in_an_application_is_refused_and_nothing_is_stored(app) {
        let token = app.admin_token().await;
        let mut bad = application(1, "440303");
        bad["address"] = json!("深圳市罗湖区\u{0}人民南路1号");
        refused(app.post("/api/v1/merchant-applications", None, bad).await, "address");
        let mut bad = application(1, "440303");
        bad["services"] = json!("购药\u{0}九折");
        refused(app.post("/api/v1/merchant-applications", None, bad).await, "services");
        let mut bad = application(1, "440303");
        bad["emergency_capabilities"] = json!(["medical", "supplies\u{0}"]);
        refused(app.post("/api/v1/merchant-applications", None, bad).await, "emergency_capabilities[1]");
        assert_eq!(merchants_stored(&app, &token).await, 0);
    }

    async fn newlines_are_free_text_only(app) {
        let token = app.admin_token().await;
        for field in ["name", "address", "contact_name", "legal_representative"] {
            let mut bad = application(1, "440303");
            bad[field] = json!("第一行\n第二行");
            refused(app.post("/api/v1/merchant-applications", None, bad).await, field);
        }
        let mut tab = application(1, "440303");
        tab["name"] = json!("拥军\t大药房");
        refused(app.post("/api/v1/merchant-applications", None, tab).await, "name");
        assert_eq!(merchants_stored(&app, &token).await, 0);

        let mut good = application(1, "440303");
        good["services"] = json!("现役军人购药九折\r\n退役军人\t购药九五折");
        good["measures"] = json!("设拥军优先窗口\n优先配送");
        let created = app.post("/api/v1/merchant-applications", None, good).await.expect(201);
        let id = created["id"].as_str().unwrap();
        let stored = app
            .get(&format!("/api/v1/admin/merchants/{id}"), Some(&token))
            .await
            .expect(200);
        assert_eq!(stored["services"], "现役军人购药九折\r\n退役军人\t购药九五折", "{stored}");
        assert_eq!(stored["measures"], "设拥军优先窗口\n优先配送", "{stored}");
    }
}

/// Sends `head` (request line and headers, announcing 1000 bytes of body), then one
/// body byte a second; returns what the server answered and when, or panics when it
/// has said nothing within `wait`.
async fn trickle(app: &TestApp, head: String, first: &[u8], wait: Duration) -> (String, Duration) {
    let address = app.address.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    writer.write_all(head.as_bytes()).await.unwrap();
    writer.write_all(first).await.unwrap();
    let dripping = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    // The whole answer: its headers and its (short) problem body.
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    let elapsed = started.elapsed();
    assert!(
        read.is_ok(),
        "the server said nothing about a trickled body within {wait:?}: {:?}",
        String::from_utf8_lossy(&answer)
    );
    // And it hangs up: the connection is not held for the rest of the body.
    let mut rest = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(3), reader.read(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "the connection stays open after the answer: {closed:?}"
    );
    dripping.abort();
    (String::from_utf8_lossy(&answer).into_owned(), elapsed)
}

#[track_caller]
fn timed_out(answer: &str, elapsed: Duration) {
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("application/problem+json"),
        "{answer:?}"
    );
    assert!(
        answer.contains("\"code\":\"request_timeout\""),
        "{answer:?}"
    );
    // Bound of 2 s, with room for a slow machine.
    assert!(
        elapsed >= Duration::from_millis(1500),
        "cut off too early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(6),
        "cut off too late: {elapsed:?}"
    );
}

async fn spawn_impatient(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        Options {
            body_timeout_secs: Some(2),
            ..Default::default()
        },
    )
    .await
}

async fn slow_bodies_are_cut_off(app: TestApp) {
    let wait = Duration::from_secs(12);
    let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\n\
        Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        .to_owned();
    let (answer, elapsed) = trickle(&app, head, b"{\"username\": \"", wait).await;
    timed_out(&answer, elapsed);

    // The file upload of the import, as slow.
    let token = app.admin_token().await;
    let head = format!(
        "POST /api/v1/admin/beneficiaries/import HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 1000\r\n\r\n"
    );
    let first = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\
        Content-Type: text/csv\r\n\r\nname,id_number\r\n";
    let (answer, elapsed) = trickle(&app, head, first, wait).await;
    timed_out(&answer, elapsed);

    // A body that arrives in time is served as ever.
    app.admin_token().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_are_cut_off_postgres() {
    slow_bodies_are_cut_off(spawn_impatient(Backend::Postgres).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_are_cut_off_sqlite() {
    slow_bodies_are_cut_off(spawn_impatient(Backend::Sqlite).await).await
}

crate::instant_backends! {
    // Years chrono parses but PostgreSQL cannot hold (before 4713 BC) were a 500 there:
    // in a body they are refused naming the field, and a feed `since` that far back
    // simply asks for everything.
    async fn years_no_backend_can_hold_are_refused_or_read_as_the_beginning(app) {
        let shop = crate::pos::open_shop(&app).await;
        let ancient = "-5000-01-01T00:00:00Z";
        let path = format!("/api/v1/pos/revocations?since={ancient}");
        let feed = app.get(&path, Some(&shop.terminal)).await.expect(200);
        assert!(feed["cards"].is_array(), "{feed}");

        for (field, body) in [
            ("valid_from", json!({"title": "远古", "kind": "priority_service", "valid_from": ancient})),
            ("valid_until", json!({"title": "远古", "kind": "priority_service", "valid_until": "+200000-01-01T00:00:00Z"})),
        ] {
            refused(app.post("/api/v1/merchant/offers", Some(&shop.staff), body).await, field);
        }
        let offers = app.get("/api/v1/merchant/offers", Some(&shop.staff)).await.expect(200);
        assert_eq!(offers["total"], 0, "{offers}");

        let renew = format!("/api/v1/admin/merchants/{}/renew", shop.merchant_id);
        let body = json!({"agreement_no": "LH-1", "agreement_start": "-5000-01-01", "agreement_end": "2040-12-31"});
        refused(app.post(&renew, Some(&shop.root), body).await, "agreement_start");
        let path = format!("/api/v1/admin/merchants/{}", shop.merchant_id);
        let merchant = app.get(&path, Some(&shop.root)).await.expect(200);
        assert_ne!(merchant["agreement_no"], "LH-1", "{merchant}");
    }
}
