use serde_json::json;

use crate::both_backends;

both_backends! {
    async fn region_admin_acts_only_inside_its_region(app) {
        let root = app.admin_token().await;
        let shenzhen = app.staff(&root, "sz.admin", "region_admin", Some("440300"), None).await;

        // Inside its subtree: 440303 罗湖区.
        let created = app
            .post(
                "/api/v1/admin/users",
                Some(&shenzhen),
                json!({"username": "luohu.reviewer", "password": "luohu-password", "role": "reviewer",
                       "region_code": "440303", "department": "civil_affairs"}),
            )
            .await
            .expect(201);
        assert_eq!(created["role"], "reviewer");
        assert_eq!(created["region_code"], "440303");
        assert_eq!(created["department"], "civil_affairs");
        assert_eq!(created["disabled"], false);
        assert!(created.get("password_hash").is_none() && created.get("password").is_none());

        // Outside: 140521 沁水县.
        app.post(
            "/api/v1/admin/users",
            Some(&shenzhen),
            json!({"username": "qinshui.admin", "password": "qinshui-password", "role": "region_admin",
                   "region_code": "140521"}),
        )
        .await
        .expect_problem(403, "region_out_of_scope");

        // Never a super admin.
        app.post(
            "/api/v1/admin/users",
            Some(&shenzhen),
            json!({"username": "sz.root", "password": "sz-root-password", "role": "super_admin"}),
        )
        .await
        .expect_problem(403, "forbidden");

        // The root admin creates one in Qinshui; Shenzhen cannot see it.
        let qinshui = app
            .post(
                "/api/v1/admin/users",
                Some(&root),
                json!({"username": "qinshui.admin", "password": "qinshui-password", "role": "region_admin",
                       "region_code": "140521"}),
            )
            .await
            .expect(201);
        let listed = app.get("/api/v1/admin/users?per_page=100", Some(&shenzhen)).await.expect(200);
        let names: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["luohu.reviewer", "sz.admin"]);
        assert_eq!(listed["total"], 2);
        assert_eq!((listed["page"].as_u64(), listed["per_page"].as_u64()), (Some(1), Some(100)));
        let path = format!("/api/v1/admin/users/{}", qinshui["id"].as_str().unwrap());
        app.get(&path, Some(&shenzhen)).await.expect_problem(404, "staff_user_not_found");
        app.get(&path, Some(&root)).await.expect(200);

        // The root admin sees everyone, paged.
        let page = app.get("/api/v1/admin/users?per_page=2&page=2", Some(&root)).await.expect(200);
        assert_eq!(page["total"], 4);
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
    }

    async fn every_bad_field_is_listed(app) {
        let root = app.admin_token().await;
        let body = app
            .post(
                "/api/v1/admin/users",
                Some(&root),
                json!({"username": "x", "password": "short", "role": "reviewer", "region_code": "44030"}),
            )
            .await
            .expect_problem(422, "validation_failed");
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, vec!["username", "password", "region_code", "department"]);

        let body = app
            .post(
                "/api/v1/admin/users",
                Some(&root),
                json!({"username": "someone", "password": "long-enough-pw", "role": "emperor"}),
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(body["errors"][0]["field"], "role");

        // A well-formed code that names no region.
        let body = app
            .post(
                "/api/v1/admin/users",
                Some(&root),
                json!({"username": "someone", "password": "long-enough-pw", "role": "auditor", "region_code": "449999"}),
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(body["errors"][0]["field"], "region_code");

        // Nothing was stored by the refused requests.
        let listed = app.get("/api/v1/admin/users", Some(&root)).await.expect(200);
        assert_eq!(listed["total"], 1);
    }

    async fn duplicate_user_names_conflict(app) {
        let root = app.admin_token().await;
        let request = json!({"username": "Auditor.One", "password": "auditor-password", "role": "auditor", "region_code": "440000"});
        let created = app.post("/api/v1/admin/users", Some(&root), request.clone()).await.expect(201);
        assert_eq!(created["username"], "auditor.one");
        app.post("/api/v1/admin/users", Some(&root), request)
            .await
            .expect_problem(409, "username_taken");
    }

    async fn auditors_and_reviewers_cannot_create_accounts(app) {
        let root = app.admin_token().await;
        let auditor = app.staff(&root, "gd.auditor", "auditor", Some("440000"), None).await;
        let reviewer = app.staff(&root, "gd.reviewer", "reviewer", Some("440000"), Some("military")).await;
        let request = json!({"username": "newbie", "password": "newbie-password", "role": "auditor", "region_code": "440300"});
        for (token, code) in [(&auditor, "read_only_role"), (&reviewer, "forbidden")] {
            app.post("/api/v1/admin/users", Some(token), request.clone())
                .await
                .expect_problem(403, code);
        }
        // The auditor reads its region's accounts; the reviewer may not list accounts.
        let listed = app.get("/api/v1/admin/users", Some(&auditor)).await.expect(200);
        assert_eq!(listed["total"], 2);
        app.get("/api/v1/admin/users", Some(&reviewer)).await.expect_problem(403, "forbidden");
    }

    async fn account_creation_is_audited(app) {
        let root = app.admin_token().await;
        let created = app
            .post(
                "/api/v1/admin/users",
                Some(&root),
                json!({"username": "sz.admin", "password": "sz-admin-password", "role": "region_admin", "region_code": "440300"}),
            )
            .await
            .expect(201);
        let id = created["id"].as_str().unwrap();
        let mut pooled = app.state.db.get().await.unwrap();
        let trail = yongjun::db::audit::for_entity(&mut pooled.conn(), "staff_user", id).await.unwrap();
        assert_eq!(trail.len(), 1);
        let entry = &trail[0];
        assert_eq!(entry.action, "staff_user.create");
        assert_eq!(entry.actor_label, "admin");
        assert!(entry.actor_id.is_some());
        assert_eq!(entry.region_code.as_deref(), Some("440300"));
        assert_eq!(entry.after_status.as_deref(), Some("active"));
        let details: serde_json::Value = serde_json::from_str(entry.details.as_deref().unwrap()).unwrap();
        assert_eq!(details["role"], "region_admin");
        assert!(!entry.details.as_deref().unwrap().contains("password"));
    }
}
