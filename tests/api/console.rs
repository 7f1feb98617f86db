//! The console as the server serves it: pages and assets compiled into the binary, with
//! an ETag and 304; page security headers on every answer; no caching of the API; CORS
//! only for the configured origins; the holder's QR code as SVG.

use serde_json::json;

use crate::both_backends;
use crate::helpers::*;

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the server answers")
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header on {}", response.url()))
        .to_str()
        .unwrap()
}

both_backends! {
    async fn every_page_is_served_with_its_security_headers(app) {
        for (path, script) in [("/", "/assets/index.js"), ("/till", "/assets/till.js"), ("/card", "/assets/card.js")] {
            let page = get(&app, path, &[]).await;
            assert_eq!(page.status(), 200, "{path}");
            assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8", "{path}");
            let csp = header(&page, "content-security-policy").to_owned();
            assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"), "{csp}");
            assert!(!csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"), "{csp}");
            assert_eq!(header(&page, "x-frame-options"), "DENY");
            assert_eq!(header(&page, "x-content-type-options"), "nosniff");
            let html = page.text().await.unwrap();
            assert!(html.contains(&format!("src=\"{script}\"")), "{path} loads {script}");
            assert!(html.contains("lang=\"zh-CN\""), "{path} is Chinese");
            assert!(!html.contains("<script>") && !html.contains(" style=\""), "{path}: nothing inline");
            for remote in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
                assert!(!html.contains(remote), "{path}: nothing off the origin ({remote})");
            }
            let asset = get(&app, script, &[]).await;
            assert_eq!(asset.status(), 200, "{script}");
            assert!(header(&asset, "content-type").contains("javascript"), "{script}");
        }
    }

    async fn assets_carry_an_etag_and_a_repeat_is_304(app) {
        let first = get(&app, "/assets/console.css", &[]).await;
        assert_eq!(first.status(), 200);
        let tag = header(&first, "etag").to_owned();
        assert!(tag.starts_with('"') && tag.len() > 10, "{tag}");
        let again = get(&app, "/assets/console.css", &[("if-none-match", &tag)]).await;
        assert_eq!(again.status(), 304);
        assert_eq!(header(&again, "etag"), tag);
        assert!(again.bytes().await.unwrap().is_empty());
        let other = get(&app, "/assets/console.css", &[("if-none-match", "\"something-else\"")]).await;
        assert_eq!(other.status(), 200);
        for missing in ["/assets/nothing.js", "/assets/../Cargo.toml", "/assets/.hidden", "/index.html"] {
            let answer = get(&app, missing, &[]).await;
            assert_eq!(answer.status(), 404, "{missing}");
        }
    }

    async fn api_answers_are_not_cached_but_the_keys_may_be(app) {
        // (The reads a phone repeats say how long they may be kept: tests/api/caching.rs.)
        let answer = get(&app, "/api/v1/public-notices", &[]).await;
        assert_eq!(answer.status(), 200);
        assert_eq!(header(&answer, "cache-control"), "no-store");
        assert_eq!(header(&answer, "x-content-type-options"), "nosniff");
        let keys = get(&app, "/.well-known/jwks.json", &[]).await;
        assert!(header(&keys, "cache-control").starts_with("public"));
    }

    async fn no_origin_is_allowed_by_default(app) {
        let answer = get(&app, "/api/v1/regions", &[("origin", "https://elsewhere.example")]).await;
        assert!(answer.headers().get("access-control-allow-origin").is_none());
    }

    async fn the_holders_qr_answer_carries_the_code_as_svg(app) {
        let root = app.admin_token().await;
        let (holder, _) = crate::pos::new_holder(&app, &root, 1, "140521").await;
        let qr = app.post("/api/v1/holder/card/qr", Some(&holder), json!({})).await.expect(200);
        let svg = qr["svg"].as_str().unwrap();
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{svg:.60}");
        assert!(svg.contains("</svg>") && svg.contains("<path"), "a drawn code");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_origins_and_only_they_may_call_from_a_browser() {
    let options = Options {
        cors_origins: vec!["https://app.example.gov.cn".into()],
        ..Default::default()
    };
    let app = spawn_app_with(Backend::Sqlite, options).await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/login"))
        .header("origin", "https://app.example.gov.cn")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        header(&preflight, "access-control-allow-origin"),
        "https://app.example.gov.cn"
    );
    let answer = get(
        &app,
        "/api/v1/regions",
        &[("origin", "https://app.example.gov.cn")],
    )
    .await;
    assert_eq!(
        header(&answer, "access-control-allow-origin"),
        "https://app.example.gov.cn"
    );
    // An app on that origin may read the ETag, and send it back in If-None-Match.
    assert!(header(&answer, "access-control-expose-headers")
        .split(',')
        .any(|h| h.trim().eq_ignore_ascii_case("etag")));
    assert!(!header(&answer, "vary").is_empty());
    let conditional = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/offers"))
        .header("origin", "https://app.example.gov.cn")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "if-none-match")
        .send()
        .await
        .unwrap();
    assert!(
        conditional.status().is_success(),
        "{}",
        conditional.status()
    );
    let stranger = get(
        &app,
        "/api/v1/regions",
        &[("origin", "https://elsewhere.example")],
    )
    .await;
    assert!(stranger
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}
