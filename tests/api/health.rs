use serde_json::json;

use crate::both_backends;

both_backends! {
    async fn healthz_answers(app) {
        assert_eq!(app.get("/healthz", None).await.expect(200), json!({"status": "ok"}));
    }

    async fn readyz_names_the_backends(app) {
        let body = app.get("/readyz", None).await.expect(200);
        assert_eq!(body["status"], "ready");
        assert_eq!(body["database"], "ok");
        assert_eq!(body["cache"], "ok");
        let expected = match app.backend {
            Backend::Postgres => ("postgresql", "redis"),
            Backend::Sqlite => ("sqlite", "in-process"),
        };
        assert_eq!((body["database_backend"].as_str().unwrap(), body["cache_backend"].as_str().unwrap()), expected);
    }

    async fn unknown_route_is_a_problem(app) {
        let body = app.get("/api/v1/no-such-thing", None).await.expect_problem(404, "not_found");
        assert_eq!(body["type"], "about:blank");
        assert_eq!(body["title"], "Not Found");
        assert_eq!(body["status"], 404);
    }

    async fn every_answer_carries_a_request_id(app) {
        let answer = app.get("/healthz", None).await;
        let generated = answer.headers.get("x-request-id").unwrap().to_str().unwrap();
        assert_eq!(generated.len(), 36, "a UUID: {generated}");

        let answer = app
            .send(app.client.get(app.url("/api/v1/no-such")).header("x-request-id", "pos-7f3a.42"))
            .await;
        assert_eq!(answer.headers.get("x-request-id").unwrap(), "pos-7f3a.42");

        // An unusable id (too long / odd characters) is replaced, not echoed.
        let answer = app
            .send(app.client.get(app.url("/healthz")).header("x-request-id", "a b<script>"))
            .await;
        assert_ne!(answer.headers.get("x-request-id").unwrap(), "a b<script>");
    }

    async fn metrics_count_requests_by_route_and_status(app) {
        app.get("/api/v1/regions/440303", None).await.expect(200);
        app.get("/api/v1/regions/999999", None).await.expect(404);
        let response = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let text = response.text().await.unwrap();
        assert!(
            text.contains(r#"yongjun_http_requests_total{method="GET",route="/api/v1/regions/{code}",status="200"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"route="/api/v1/regions/{code}",status="404"} 1"#), "{text}");
        assert!(text.contains("yongjun_http_request_duration_seconds_bucket"));
        assert!(text.contains(r#"yongjun_dependency_state{name="db_pool_size"}"#));
        assert!(text.contains(r#"yongjun_dependency_state{name="cache_up"} 1"#));
    }

    async fn malformed_json_is_400_and_wrong_shape_is_422(app) {
        let answer = app
            .send(
                app.client
                    .post(app.url("/api/v1/auth/login"))
                    .header("content-type", "application/json")
                    .body("{\"username\": \"admin\""),
            )
            .await;
        answer.expect_problem(400, "invalid_json");

        let body = app
            .post("/api/v1/auth/login", None, json!({"username": "admin"}))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(body["errors"], json!([{"field": "password", "message": "is required"}]));

        let body = app
            .post("/api/v1/auth/login", None, json!({"username": 12, "password": "x"}))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(body["errors"][0]["field"], "username");
    }

    async fn bad_query_and_bad_path_ids(app) {
        let token = app.admin_token().await;
        let body = app
            .get("/api/v1/admin/users?page=zero", Some(&token))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(body["errors"][0]["field"], "query");
        app.get("/api/v1/admin/users?per_page=1000", Some(&token))
            .await
            .expect_problem(422, "validation_failed");
        app.get("/api/v1/admin/users/not-a-uuid", Some(&token))
            .await
            .expect_problem(404, "not_found");
    }
}

/// Clients that hang up mid-request must not take a worker down with them (the SQLite
/// wrapper cannot be cancelled mid-query on actix's current-thread workers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_hanging_up_do_not_kill_the_worker() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let token = app.admin_token().await;
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_micros(300))
        .build()
        .unwrap();
    for _ in 0..50 {
        let _ = impatient
            .get(app.url("/api/v1/admin/users"))
            .bearer_auth(&token)
            .send()
            .await;
    }
    // The single worker still answers, from the database.
    app.get("/api/v1/admin/users", Some(&token))
        .await
        .expect(200);
    app.get("/readyz", None).await.expect(200);
}
