use serde_json::json;

use crate::both_backends;

both_backends! {
    async fn admin_signs_in_and_the_token_works(app) {
        let body = app
            .post("/api/v1/auth/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .await
            .expect(200);
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["role"], "super_admin");
        let token = body["access_token"].as_str().unwrap();
        app.get("/api/v1/admin/users", Some(token)).await.expect(200);
        // User names are case-insensitive.
        app.post("/api/v1/auth/login", None, json!({"username": " ADMIN ", "password": ADMIN_PASSWORD}))
            .await
            .expect(200);
    }

    async fn wrong_password_and_unknown_user_look_the_same(app) {
        let wrong = app
            .post("/api/v1/auth/login", None, json!({"username": "admin", "password": "not-the-password"}))
            .await
            .expect_problem(401, "invalid_credentials");
        let unknown = app
            .post("/api/v1/auth/login", None, json!({"username": "nobody", "password": "not-the-password"}))
            .await
            .expect_problem(401, "invalid_credentials");
        assert_eq!(wrong, unknown);
    }

    async fn eleventh_failure_in_the_window_is_throttled(app) {
        for _ in 0..10 {
            app.post("/api/v1/auth/login", None, json!({"username": "admin", "password": "guess-guess"}))
                .await
                .expect_problem(401, "invalid_credentials");
        }
        // Even the right password is refused now: the guesser must not learn it worked.
        let answer = app
            .post("/api/v1/auth/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .await;
        assert_eq!(answer.headers.get("retry-after").unwrap(), "900");
        let body = answer.expect_problem(429, "too_many_attempts");
        assert_eq!(body["retry_after"], 900);
        // Another account is not affected.
        let token = {
            // Throttling is per user name: create a second admin directly.
            let account = yongjun::app::staff::NewStaffAccount::parse(
                &yongjun::app::staff::CreateStaffRequest {
                    username: "second".into(),
                    password: "second-password".into(),
                    role: "super_admin".into(),
                    region_code: None,
                    department: None,
                },
                &[],
            )
            .unwrap();
            yongjun::app::staff::create_account(
                &app.state.db,
                &yongjun::db::audit::Actor::system(),
                account,
            )
            .await
            .unwrap();
            app.login("second", "second-password").await
        };
        assert!(!token.is_empty());
    }

    async fn requests_without_a_valid_token_are_refused(app) {
        app.get("/api/v1/admin/users", None)
            .await
            .expect_problem(401, "unauthenticated");
        app.get("/api/v1/admin/users", Some("not.a.token"))
            .await
            .expect_problem(401, "unauthenticated");
        // A token signed with another secret.
        let forged = yongjun::auth::tokens::StaffTokens::new(b"another-secret-another-secret-000000", 3600)
            .issue(yongjun::db::StaffUserId::new(), yongjun::domain::Role::SuperAdmin)
            .unwrap();
        app.get("/api/v1/admin/users", Some(&forged))
            .await
            .expect_problem(401, "unauthenticated");
    }
}
