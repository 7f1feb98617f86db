//! Lockouts (issue 13): failed sign-ins, activations and refreshes are counted per
//! account and client address, and per address across accounts, so that nobody can
//! lock someone else out from elsewhere. The apps here trust `127.0.0.1` as a reverse
//! proxy, so each request plays the client its `X-Forwarded-For` names.

use std::process::Command;

use serde_json::{json, Value};

use crate::beneficiaries::{issue, person, register};
use crate::helpers::*;

const ATTACKER: &str = "203.0.113.7";
const OWNER: &str = "198.51.100.20";

/// An app that trusts `127.0.0.1` as a proxy, so a test can play several client addresses.
async fn spawn_proxied(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        Options {
            trusted_proxies: Some("127.0.0.1"),
            ..Default::default()
        },
    )
    .await
}

/// `POST path` as the client `from` (through the trusted proxy, when the app trusts it).
async fn post_from(app: &TestApp, from: &str, path: &str, body: Value) -> Answer {
    app.send(
        app.client
            .post(app.url(path))
            .header("X-Forwarded-For", from)
            .json(&body),
    )
    .await
}

async fn login_from(app: &TestApp, from: &str, username: &str, password: &str) -> Answer {
    post_from(
        app,
        from,
        "/api/v1/auth/login",
        json!({"username": username, "password": password}),
    )
    .await
}

/// A 429 with `Retry-After` and the rate-limit fields of `policy`.
#[track_caller]
fn assert_limited(answer: Answer, policy: &str, quota: u32) {
    let header = |name: &str| {
        answer
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("retry-after").as_deref(), Some("900"), "{answer:?}");
    assert_eq!(
        header("ratelimit-policy"),
        Some(format!("\"{policy}\";q={quota};w=900")),
        "{answer:?}"
    );
    assert_eq!(
        header("ratelimit"),
        Some(format!("\"{policy}\";r=0;t=900")),
        "{answer:?}"
    );
    let body = answer.expect_problem(429, "too_many_attempts");
    assert_eq!(body["retry_after"], 900);
}

crate::backends_with! { spawn_proxied;
    async fn someone_elses_wrong_passwords_do_not_lock_the_user_out(app) {
        for _ in 0..10 {
            login_from(&app, ATTACKER, "admin", "guess-guess").await.expect_problem(401, "invalid_credentials");
        }
        // The attacker's address is refused, even with the right password.
        assert_limited(login_from(&app, ATTACKER, "admin", ADMIN_PASSWORD).await, "login", 10);
        // The admin, elsewhere, signs in.
        login_from(&app, OWNER, "admin", ADMIN_PASSWORD).await.expect(200);
        // And may still mistype from there without being locked by the attacker's count.
        login_from(&app, OWNER, "admin", "typo-typo").await.expect_problem(401, "invalid_credentials");
        login_from(&app, OWNER, "admin", ADMIN_PASSWORD).await.expect(200);
        // The admin signing in does not give the attacker new guesses.
        assert_limited(login_from(&app, ATTACKER, "admin", ADMIN_PASSWORD).await, "login", 10);
    }

    async fn a_spray_across_names_from_one_address_is_refused(app) {
        let mut refused = 0;
        for n in 0..30 {
            let answer = login_from(&app, ATTACKER, &format!("user{n}"), "Password1!").await;
            if n < 20 {
                answer.expect_problem(401, "invalid_credentials");
            } else {
                assert_limited(answer, "login-address", 20);
                refused += 1;
            }
        }
        assert_eq!(refused, 10);
        // The whole address is refused, for every name…
        assert_limited(login_from(&app, ATTACKER, "admin", ADMIN_PASSWORD).await, "login-address", 20);
        // …and nobody else.
        login_from(&app, OWNER, "admin", ADMIN_PASSWORD).await.expect(200);
    }

    async fn an_ipv6_client_is_counted_by_its_64(app) {
        for n in 0..10 {
            login_from(&app, &format!("2001:db8:1:2::{n:x}"), "admin", "guess-guess").await.expect_problem(401, "invalid_credentials");
        }
        assert_limited(login_from(&app, "2001:db8:1:2:ffff::1", "admin", ADMIN_PASSWORD).await, "login", 10);
        login_from(&app, "2001:db8:1:3::1", "admin", ADMIN_PASSWORD).await.expect(200);
    }

    async fn activation_codes_are_locked_per_card_and_address(app) {
        let root = app.admin_token().await;
        let holder = register(&app, &root, person(1, "440303")).await;
        let card = issue(&app, &root, holder["id"].as_str().unwrap(), "general").await;
        let wrong = json!({"card_no": card["card_no"], "activation_code": "WRONGCODE1"});
        let right = json!({"card_no": card["card_no"], "activation_code": card["activation_code"]});
        for _ in 0..5 {
            post_from(&app, ATTACKER, "/api/v1/holder/activate", wrong.clone()).await.expect_problem(401, "invalid_activation");
        }
        assert_limited(post_from(&app, ATTACKER, "/api/v1/holder/activate", right.clone()).await, "activation", 5);
        // The holder, on their own phone, activates the card.
        post_from(&app, OWNER, "/api/v1/holder/activate", right).await.expect(200);

        // Guessing across card numbers from one address meets the address limit.
        let other = "192.0.2.44";
        for n in 0..20 {
            let guess = json!({"card_no": format!("88600000000{n:05}"), "activation_code": "WRONGCODE1"});
            post_from(&app, other, "/api/v1/holder/activate", guess).await.expect_problem(401, "invalid_activation");
        }
        let guess = json!({"card_no": "8860000000099999", "activation_code": "WRONGCODE1"});
        assert_limited(post_from(&app, other, "/api/v1/holder/activate", guess).await, "activation-address", 20);
    }

    async fn refresh_token_guessing_is_limited_per_address(app) {
        let root = app.admin_token().await;
        let holder = register(&app, &root, person(2, "440303")).await;
        let card = issue(&app, &root, holder["id"].as_str().unwrap(), "general").await;
        let tokens = post_from(&app, OWNER, "/api/v1/holder/activate",
            json!({"card_no": card["card_no"], "activation_code": card["activation_code"]})).await.expect(200);
        let valid = json!({"refresh_token": tokens["refresh_token"]});
        for n in 0..20 {
            post_from(&app, ATTACKER, "/api/v1/holder/token/refresh", json!({"refresh_token": format!("eyJguess.{n}.x")}))
                .await
                .expect_problem(401, "invalid_refresh_token");
        }
        // Refused now, even a token that works: the guesser must not learn which one did.
        assert_limited(post_from(&app, ATTACKER, "/api/v1/holder/token/refresh", valid.clone()).await, "token-refresh", 20);
        post_from(&app, OWNER, "/api/v1/holder/token/refresh", valid).await.expect(200);
    }
}

crate::both_backends! {
    async fn forwarded_for_from_an_untrusted_peer_is_ignored(app) {
        // Each guess claims another address; the peer (127.0.0.1) is no trusted proxy
        // here, so every guess counts against the peer.
        for n in 0..10 {
            login_from(&app, &format!("203.0.113.{n}"), "admin", "guess-guess").await.expect_problem(401, "invalid_credentials");
        }
        assert_limited(login_from(&app, OWNER, "admin", ADMIN_PASSWORD).await, "login", 10);
        let answer = app
            .post("/api/v1/auth/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .await;
        assert_limited(answer, "login", 10);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_unlock_clears_a_lock_and_is_audited() {
    let app = spawn_proxied(Backend::Sqlite).await;
    for _ in 0..10 {
        login_from(&app, ATTACKER, "admin", "guess-guess")
            .await
            .expect_problem(401, "invalid_credentials");
    }
    login_from(&app, OWNER, "admin", "typo-typo")
        .await
        .expect_problem(401, "invalid_credentials");
    assert_limited(
        login_from(&app, ATTACKER, "admin", ADMIN_PASSWORD).await,
        "login",
        10,
    );

    let yongjun::db::DatabaseTarget::Sqlite(file) = &app.database else {
        unreachable!("a SQLite app")
    };
    let output = Command::new(env!("CARGO_BIN_EXE_yongjun"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("USER", "opsuser")
        .env("YONGJUN_DATA_DIR", file.parent().unwrap())
        .env("YONGJUN_LOG", "warn")
        .args(["admin", "unlock", " Admin "])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("11 failed sign-ins"), "{stdout}");
    assert!(stdout.contains("203.0.113.7: 10 (locked)"), "{stdout}");
    assert!(stdout.contains("198.51.100.20: 1"), "{stdout}");

    login_from(&app, ATTACKER, "admin", ADMIN_PASSWORD)
        .await
        .expect(200);
    let mut pooled = app.state.db.get().await.unwrap();
    let admin = yongjun::db::staff::find_by_username(&mut pooled.conn(), "admin")
        .await
        .unwrap()
        .unwrap();
    let trail =
        yongjun::db::audit::for_entity(&mut pooled.conn(), "staff_user", &admin.id.to_string())
            .await
            .unwrap();
    let entry = trail
        .iter()
        .find(|e| e.action == "staff.unlock")
        .expect("an audit entry staff.unlock");
    assert_eq!(entry.actor_label, "cli:opsuser");
    let details: Value = serde_json::from_str(entry.details.as_deref().unwrap()).unwrap();
    assert_eq!(details["failures"], 11);
    // Addresses are not kept in the audit log.
    assert!(!entry.details.as_deref().unwrap().contains(ATTACKER));

    // An unknown name is an error, with a non-zero exit.
    let output = Command::new(env!("CARGO_BIN_EXE_yongjun"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("YONGJUN_DATA_DIR", file.parent().unwrap())
        .env("YONGJUN_LOG", "warn")
        .args(["admin", "unlock", "nobody"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("staff_user_not_found"));
}
