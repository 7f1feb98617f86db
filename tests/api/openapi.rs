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

/// Whether a media type's schema shows an example: on itself, or on what it refers to,
/// its array items, or every non-null alternative of an `allOf`/`oneOf`/`anyOf`.
fn schema_has_example(
    schema: &serde_json::Value,
    components: &serde_json::Value,
    depth: usize,
) -> bool {
    if depth > 8 || !schema.is_object() {
        return false;
    }
    if schema.get("example").is_some() || schema.get("examples").is_some() {
        return true;
    }
    if let Some(reference) = schema.get("$ref").and_then(|r| r.as_str()) {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return schema_has_example(&components[name], components, depth + 1);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(alternatives) = schema.get(key).and_then(|a| a.as_array()) {
            let non_null: Vec<_> = alternatives
                .iter()
                .filter(|a| a.get("type").and_then(|t| t.as_str()) != Some("null"))
                .collect();
            if !non_null.is_empty()
                && non_null
                    .iter()
                    .all(|a| schema_has_example(a, components, depth + 1))
            {
                return true;
            }
        }
    }
    if schema.get("type").and_then(|t| t.as_str()) == Some("array") {
        if let Some(items) = schema.get("items") {
            return schema_has_example(items, components, depth + 1);
        }
    }
    false
}

#[test]
fn every_request_body_and_success_response_has_an_example() {
    let spec = serde_json::to_value(yongjun::startup::openapi()).unwrap();
    let components = &spec["components"]["schemas"];
    let lacks_example = |media: &serde_json::Value| {
        media.get("example").is_none()
            && media.get("examples").is_none()
            && !media
                .get("schema")
                .is_some_and(|s| schema_has_example(s, components, 0))
    };
    let mut missing = Vec::new();
    for (path, operations) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(operation) = operation.as_object() else {
                continue;
            };
            let method = method.to_uppercase();
            if let Some(content) = operation
                .get("requestBody")
                .and_then(|b| b.get("content"))
                .and_then(|c| c.as_object())
            {
                for (content_type, media) in content {
                    if lacks_example(media) {
                        missing.push(format!("{method} {path}: request body ({content_type})"));
                    }
                }
            }
            let responses = operation.get("responses").and_then(|r| r.as_object());
            for (status, response) in responses.into_iter().flatten() {
                if !status.starts_with('2') {
                    continue;
                }
                let content = response.get("content").and_then(|c| c.as_object());
                for (content_type, media) in content.into_iter().flatten() {
                    if lacks_example(media) {
                        missing.push(format!("{method} {path}: {status} ({content_type})"));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} request bodies or success responses have no example (give the type a \
         #[schema(example = ...)], or the response an `example = ...`):\n    {}",
        missing.len(),
        missing.join("\n    ")
    );
}

#[test]
fn the_contract_documents_exactly_the_codes_of_the_code_table() {
    let table: std::collections::BTreeSet<String> = yongjun::error::Code::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(crate::helpers::documented_codes(), &table);
}

#[test]
#[should_panic(expected = "does not document")]
fn an_answer_with_an_undocumented_code_fails_the_suite() {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("content-type", "application/problem+json".parse().unwrap());
    crate::helpers::Answer {
        status: 409,
        body: serde_json::json!({"status": 409, "code": "no_such_code"}),
        headers,
    }
    .check_problem();
}

#[test]
fn every_error_answer_is_documented_as_problem_json() {
    let spec = serde_json::to_value(yongjun::startup::openapi()).unwrap();
    let mut wrong = Vec::new();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                let Some(content) = response["content"].as_object() else {
                    continue;
                };
                let problem = content
                    .values()
                    .any(|m| m["schema"]["$ref"] == "#/components/schemas/Problem");
                if problem && !content.contains_key("application/problem+json") {
                    wrong.push(format!("{method} {path} {status}"));
                }
            }
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            if secured && operation["responses"].get("401").is_none() {
                wrong.push(format!("{method} {path}: no 401"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:?}");
}

#[test]
fn every_operation_has_a_unique_id_and_declares_its_security() {
    let spec = serde_json::to_value(yongjun::startup::openapi()).unwrap();
    let title = spec["info"]["title"].as_str().unwrap();
    // Client generators name their package after the title.
    assert!(title.is_ascii(), "info.title {title:?} is not ASCII");
    let mut seen = std::collections::BTreeMap::new();
    let mut wrong = Vec::new();
    let mut public = Vec::new();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let at = format!("{method} {path}");
            match operation["operationId"].as_str() {
                Some(id) => {
                    if let Some(before) = seen.insert(id.to_owned(), at.clone()) {
                        wrong.push(format!("{at}: operationId {id} is also {before}'s"));
                    }
                }
                None => wrong.push(format!("{at}: no operationId")),
            }
            match operation["security"].as_array() {
                None => wrong.push(format!("{at}: no security declared")),
                Some(requirements) if requirements.is_empty() => public.push(at),
                Some(_) => {}
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // The public operations are the ones a caller without any token may use.
    for expected in [
        "post /api/v1/auth/login",
        "get /api/v1/offers",
        "get /healthz",
        "post /api/v1/holder/activate",
    ] {
        assert!(
            public.iter().any(|p| p == expected),
            "{expected} is not public: {public:?}"
        );
    }
    for secured in [
        "post /api/v1/pos/redemptions",
        "get /api/v1/holder/offers",
        "get /api/v1/admin/cards",
    ] {
        assert!(
            !public.iter().any(|p| p == secured),
            "{secured} declares no security"
        );
    }
}
