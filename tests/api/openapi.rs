//! openapi.yaml is the contract: it equals what the code generates, it is served, and
//! every operation it lists is routed.

use crate::both_backends;

fn committed() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .unwrap_or_default()
}

#[test]
fn committed_spec_matches_the_code() {
    let generated = yongjun::startup::openapi_yaml().unwrap();
    assert!(
        committed() == generated,
        "openapi.yaml differs from what the code generates; regenerate it with\n    cargo run -- openapi > openapi.yaml"
    );
}

both_backends! {
    async fn served_spec_is_the_committed_one(app) {
        let response = app.client.get(app.url("/openapi.yaml")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/yaml");
        assert_eq!(response.text().await.unwrap(), committed());
    }

    async fn every_documented_operation_is_routed(app) {
        let spec: serde_yaml::Value = serde_yaml::from_str(&committed()).unwrap();
        let paths = spec["paths"].as_mapping().expect("paths");
        for expected in ["/healthz", "/readyz", "/metrics", "/openapi.yaml", "/api/v1/auth/login", "/api/v1/regions/{code}", "/api/v1/admin/users"] {
            assert!(paths.contains_key(expected), "{expected} missing from openapi.yaml");
        }
        let mut checked = 0;
        for (path, operations) in paths {
            let path = path.as_str().unwrap();
            // Fill path parameters with well-formed values that name nothing.
            let concrete = path
                .split('/')
                .map(|segment| if segment.starts_with('{') { "00000000-0000-0000-0000-000000000000" } else { segment })
                .collect::<Vec<_>>()
                .join("/");
            for (method, _) in operations.as_mapping().unwrap() {
                let method = reqwest::Method::from_bytes(method.as_str().unwrap().to_uppercase().as_bytes()).unwrap();
                let answer = app
                    .send(app.client.request(method.clone(), app.url(&concrete)).json(&serde_json::json!({})))
                    .await;
                let unrouted = answer.status == 405
                    || (answer.status == 404 && answer.body["detail"] == "no such route");
                assert!(!unrouted, "{method} {path} is documented but not routed: {}", answer.body);
                checked += 1;
            }
        }
        assert!(checked >= paths.len());
    }
}
