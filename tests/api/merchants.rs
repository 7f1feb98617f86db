//! Admission and exit: apply, joint review, public notice, objections, agreement and
//! badge, suspend, reinstate, revoke; the directory; region scoping.

use chrono::Datelike;
use serde_json::{json, Value};

use crate::helpers::*;

/// A valid 统一社会信用代码 numbered `n`.
pub fn credit_code(n: u32) -> String {
    let first17 = format!("91440300MA5F{n:05}");
    let check = yongjun::domain::credit_code::check_character(&first17).unwrap();
    format!("{first17}{check}")
}

pub fn application(n: u32, region: &str) -> Value {
    json!({
        "name": format!("拥军商户{n}号"), "kind": "enterprise", "credit_code": credit_code(n),
        "legal_representative": "王建国", "contact_name": "李明", "contact_phone": "13812345678",
        "address": format!("深圳市罗湖区人民南路{n}号"), "region_code": region, "category": "pharmacy",
        "latitude": 22.5431, "longitude": 114.1182,
        "services": "现役军人、退役军人购药九折", "measures": "设拥军优先窗口", "commitments": "明码标价",
        "emergency_capabilities": ["medical", "supplies"]
    })
}

pub async fn apply(app: &TestApp, body: Value) -> String {
    let created = app
        .post("/api/v1/merchant-applications", None, body)
        .await
        .expect(201);
    assert_eq!(created["status"], "pending");
    created["id"].as_str().unwrap().to_owned()
}

pub async fn review_all(app: &TestApp, token: &str, id: &str) {
    for department in yongjun::settings::DEFAULT_DEPARTMENTS {
        app.post(
            &format!("/api/v1/admin/merchants/{id}/reviews"),
            Some(token),
            json!({"department": department, "verdict": "pass", "comment": "符合条件"}),
        )
        .await
        .expect(201);
    }
}

fn agreement() -> Value {
    let today = chrono::Utc::now().date_naive();
    json!({"agreement_no": "SZ-YJ-001", "agreement_start": today.to_string(),
           "agreement_end": (today + chrono::Duration::days(3 * 365)).to_string()})
}

/// Takes an application all the way to `active` (needs public_notice_days = 0).
pub async fn activate_merchant(app: &TestApp, token: &str, body: Value) -> Value {
    let id = apply(app, body).await;
    review_all(app, token, &id).await;
    app.post(
        &format!("/api/v1/admin/merchants/{id}/approve"),
        Some(token),
        json!({"comment": "同意"}),
    )
    .await
    .expect(200);
    let active = app
        .post(
            &format!("/api/v1/admin/merchants/{id}/activate"),
            Some(token),
            agreement(),
        )
        .await
        .expect(200);
    assert_eq!(active["status"], "active");
    active
}

async fn spawn_instant_notice(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        Options {
            public_notice_days: Some(0),
            ..Default::default()
        },
    )
    .await
}

/// Ends a merchant's public notice now, as if its days had passed.
async fn end_notice(app: &TestApp, id: &str) {
    use diesel_async::RunQueryDsl;
    let mut pooled = app.state.db.get().await.unwrap();
    let mut conn = pooled.conn();
    let id: yongjun::db::MerchantId = id.parse().unwrap();
    let past = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
    yongjun::with_conn!(&mut conn, |c| {
        use diesel::{ExpressionMethods, QueryDsl};
        use yongjun::db::schema::merchants::dsl;
        diesel::update(dsl::merchants.filter(dsl::id.eq(id)))
            .set(dsl::notice_ends_at.eq(past))
            .execute(c)
            .await
            .unwrap()
    });
}

crate::both_backends! {
    async fn the_whole_admission_and_exit_lifecycle(app) {
        let root = app.admin_token().await;
        let id = apply(&app, application(1, "440303")).await;
        let path = |action: &str| format!("/api/v1/admin/merchants/{id}/{action}");

        let pending = app.get("/api/v1/admin/merchants?status=pending", Some(&root)).await.expect(200);
        assert_eq!(pending["total"], 1);
        assert_eq!(pending["items"][0]["contact_phone_masked"], "138****5678");

        // No review yet: approval names all six departments.
        let body = app.post(&path("approve"), Some(&root), json!({})).await.expect_problem(409, "invalid_transition");
        assert_eq!(body["current_status"], "pending");
        for department in &yongjun::settings::DEFAULT_DEPARTMENTS[..5] {
            app.post(&path("reviews"), Some(&root), json!({"department": department, "verdict": "pass"})).await.expect(201);
        }
        let detail = app
            .post(&path("reviews"), Some(&root), json!({"department": "military", "verdict": "fail", "comment": "待补材料"}))
            .await
            .expect(201);
        assert_eq!(detail["status"], "under_review");
        assert_eq!(detail["review_progress"], json!({"missing": [], "failed": ["military"], "complete": false}));
        let body = app.post(&path("approve"), Some(&root), json!({})).await.expect_problem(409, "reviews_incomplete");
        assert_eq!(body["failed_departments"], json!(["military"]));
        assert_eq!(body["missing_departments"], json!([]));

        // A later review by the same department replaces the earlier one; both stay.
        let detail = app
            .post(&path("reviews"), Some(&root), json!({"department": "military", "verdict": "pass", "comment": "材料已补"}))
            .await
            .expect(201);
        assert_eq!(detail["review_progress"]["complete"], true);
        let military: Vec<&Value> = detail["reviews"].as_array().unwrap().iter().filter(|r| r["department"] == "military").collect();
        assert_eq!(military.len(), 2);
        assert_eq!((military[0]["current"].as_bool(), military[1]["current"].as_bool()), (Some(false), Some(true)));

        let noticed = app.post(&path("approve"), Some(&root), json!({"comment": "同意公示"})).await.expect(200);
        assert_eq!(noticed["status"], "public_notice");
        assert!(noticed["notice_ends_at"].is_string());

        // The public sees the notice, without personal data.
        let notices = app.get("/api/v1/public-notices", None).await.expect(200);
        assert_eq!(notices["total"], 1);
        let notice = &notices["items"][0];
        assert_eq!(notice["name"], "拥军商户1号");
        assert!(notice.get("contact_phone").is_none() && notice.get("legal_representative").is_none() && notice.get("contact_name").is_none());

        // An objection filed during the notice holds activation until it is resolved.
        let objection = app
            .post(&format!("/api/v1/merchants/{id}/objections"), None, json!({"content": "该商户承诺的优惠并未兑现。", "contact_phone": "13912345678"}))
            .await
            .expect(201);
        assert_eq!(objection["status"], "open");
        let body = app.post(&path("activate"), Some(&root), agreement()).await.expect_problem(409, "notice_period_running");
        assert_eq!(body["notice_ends_at"].as_str().map(|t| t.len() > 10), Some(true));
        end_notice(&app, &id).await;
        app.post(&format!("/api/v1/merchants/{id}/objections"), None, json!({"content": "公示期后的异议"}))
            .await
            .expect_problem(409, "not_in_public_notice");
        let body = app.post(&path("activate"), Some(&root), agreement()).await.expect_problem(409, "objections_open");
        assert_eq!(body["open_objections"], 1);
        let objection_id = objection["id"].as_str().unwrap();
        let detail = app
            .post(&path(&format!("objections/{objection_id}/resolve")), Some(&root), json!({"outcome": "dismissed", "comment": "经核实不属实"}))
            .await
            .expect(200);
        assert_eq!(detail["status"], "public_notice");
        assert_eq!(detail["objections"][0]["status"], "dismissed");
        assert_eq!(detail["objections"][0]["contact_phone_masked"], "139****5678");
        app.post(&path(&format!("objections/{objection_id}/resolve")), Some(&root), json!({"outcome": "upheld", "comment": "again"}))
            .await
            .expect_problem(409, "objection_resolved");

        let active = app.post(&path("activate"), Some(&root), agreement()).await.expect(200);
        assert_eq!(active["status"], "active");
        let year = (chrono::Utc::now() + chrono::Duration::hours(8)).year();
        assert_eq!(active["badge_no"], format!("YJ-440303-{year}-00001"));
        assert_eq!(active["agreement_no"], "SZ-YJ-001");

        // In the directory, and cached.
        let public = app.get(&format!("/api/v1/merchants/{id}"), None).await.expect(200);
        assert_eq!(public["badge_no"], active["badge_no"]);
        assert!(public.get("contact_phone").is_none() && public.get("legal_representative").is_none());
        assert_eq!(app.get("/api/v1/merchants", None).await.expect(200)["total"], 1);

        // Suspension needs a reason, and takes the merchant out at once (cache included).
        app.post(&path("suspend"), Some(&root), json!({})).await.expect_problem(422, "validation_failed");
        let suspended = app.post(&path("suspend"), Some(&root), json!({"reason": "群众投诉核实"})).await.expect(200);
        assert_eq!(suspended["status"], "suspended");
        assert_eq!(suspended["status_reason"], "群众投诉核实");
        app.get(&format!("/api/v1/merchants/{id}"), None).await.expect_problem(404, "merchant_not_found");
        assert_eq!(app.get("/api/v1/merchants", None).await.expect(200)["total"], 0);
        let body = app.post(&path("suspend"), Some(&root), json!({"reason": "again"})).await.expect_problem(409, "invalid_transition");
        assert_eq!(body["current_status"], "suspended");

        app.post(&path("reinstate"), Some(&root), json!({"reason": "整改完成"})).await.expect(200);
        app.get(&format!("/api/v1/merchants/{id}"), None).await.expect(200);
        let revoked = app.post(&path("revoke"), Some(&root), json!({"reason": "严重违反服务承诺"})).await.expect(200);
        assert_eq!(revoked["status"], "revoked");
        app.post(&path("reinstate"), Some(&root), json!({"reason": "x"})).await.expect_problem(409, "invalid_transition");
        app.get(&format!("/api/v1/merchants/{id}"), None).await.expect_problem(404, "merchant_not_found");

        // Every step is in the history, with who, before and after, and why.
        let actions: Vec<&str> = revoked["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
        let mut expected = vec!["merchant.apply"];
        expected.extend(std::iter::repeat_n("merchant.record_review", 7));
        expected.extend([
            "merchant.approve", "merchant.objection_filed", "merchant.dismiss_objection", "merchant.activate",
            "merchant.suspend", "merchant.reinstate", "merchant.revoke",
        ]);
        assert_eq!(actions, expected);
        let last = revoked["history"].as_array().unwrap().last().unwrap();
        assert_eq!((last["actor"].as_str(), last["before_status"].as_str(), last["after_status"].as_str()), (Some("admin"), Some("active"), Some("revoked")));
        assert_eq!(last["reason"], "严重违反服务承诺");
        let history = revoked["history"].to_string();
        assert!(!history.contains("13812345678") && !history.contains("13912345678"), "no phone in the audit log");

        let log = app
            .get(&format!("/api/v1/admin/audit-log?entity_type=merchant&entity_id={id}&per_page=100"), Some(&root))
            .await
            .expect(200);
        assert_eq!(log["total"], expected.len());
        assert_eq!(log["items"][0]["action"], "merchant.revoke", "newest first");
        let by_admin = app.get("/api/v1/admin/audit-log?actor=public", Some(&root)).await.expect(200);
        assert_eq!(by_admin["total"], 2, "the application and the objection");

        // A revoked merchant's credit code may apply again.
        apply(&app, application(1, "440303")).await;
    }
}

crate::backends_with! { spawn_instant_notice;

    async fn badge_numbers_run_per_region_and_year(app) {
        let root = app.admin_token().await;
        let year = (chrono::Utc::now() + chrono::Duration::hours(8)).year();
        let a = activate_merchant(&app, &root, application(1, "440303")).await;
        let b = activate_merchant(&app, &root, application(2, "440303")).await;
        let c = activate_merchant(&app, &root, application(3, "440304")).await;
        assert_eq!(a["badge_no"], format!("YJ-440303-{year}-00001"));
        assert_eq!(b["badge_no"], format!("YJ-440303-{year}-00002"));
        assert_eq!(c["badge_no"], format!("YJ-440304-{year}-00001"));
    }
}

crate::both_backends! {
    async fn an_upheld_objection_rejects_the_applicant(app) {
        let root = app.admin_token().await;
        let id = apply(&app, application(7, "440303")).await;
        review_all(&app, &root, &id).await;
        app.post(&format!("/api/v1/admin/merchants/{id}/approve"), Some(&root), json!({})).await.expect(200);
        let objection = app
            .post(&format!("/api/v1/merchants/{id}/objections"), None, json!({"content": "存在拖欠军属工资问题"}))
            .await
            .expect(201);
        let detail = app
            .post(
                &format!("/api/v1/admin/merchants/{id}/objections/{}/resolve", objection["id"].as_str().unwrap()),
                Some(&root),
                json!({"outcome": "upheld", "comment": "经核实属实"}),
            )
            .await
            .expect(200);
        assert_eq!(detail["status"], "rejected");
        app.post(&format!("/api/v1/merchants/{id}/objections"), None, json!({"content": "再次反映情况"}))
            .await
            .expect_problem(409, "not_in_public_notice");
        // Rejected: the credit code is free again.
        apply(&app, application(7, "440303")).await;
    }
}

crate::backends_with! { spawn_instant_notice;

    async fn applications_are_checked_field_by_field(app) {
        let body = app
            .post(
                "/api/v1/merchant-applications",
                None,
                json!({"name": " ", "kind": "corporation", "credit_code": "91440300MA5F000010",
                       "contact_phone": "12345", "region_code": "4400", "category": "spaceships",
                       "latitude": 95.0, "longitude": 114.0, "emergency_capabilities": ["medical", "teleportation"]}),
            )
            .await
            .expect_problem(422, "validation_failed");
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(
            fields,
            vec!["name", "kind", "credit_code", "legal_representative", "contact_name", "contact_phone", "address",
                 "region_code", "category", "latitude", "services", "emergency_capabilities[1]"]
        );
        let mut bad_check = application(1, "440303");
        let code = credit_code(1);
        let wrong = if code.ends_with('0') { "1" } else { "0" };
        bad_check["credit_code"] = json!(format!("{}{wrong}", &code[..17]));
        let body = app.post("/api/v1/merchant-applications", None, bad_check).await.expect_problem(422, "validation_failed");
        assert_eq!(body["errors"][0]["field"], "credit_code");
        let mut unknown_region = application(1, "440303");
        unknown_region["region_code"] = json!("449999");
        app.post("/api/v1/merchant-applications", None, unknown_region).await.expect_problem(422, "validation_failed");

        // Volunteer teams may omit the credit code and the legal representative.
        let mut team = application(2, "140521");
        team["kind"] = json!("volunteer_team");
        team.as_object_mut().unwrap().remove("credit_code");
        team.as_object_mut().unwrap().remove("legal_representative");
        apply(&app, team).await;

        // Lower-case credit codes are the same code.
        apply(&app, application(3, "440303")).await;
        let mut again = application(3, "440303");
        again["credit_code"] = json!(credit_code(3).to_lowercase());
        app.post("/api/v1/merchant-applications", None, again).await.expect_problem(409, "duplicate_credit_code");

        let root = app.admin_token().await;
        assert_eq!(app.get("/api/v1/admin/merchants", Some(&root)).await.expect(200)["total"], 2, "nothing else stored");
    }

    async fn other_regions_cannot_see_or_touch_a_merchant(app) {
        let root = app.admin_token().await;
        let id = apply(&app, application(1, "440303")).await;
        let qinshui = app.staff(&root, "qs.admin", "region_admin", Some("140521"), None).await;
        let shenzhen = app.staff(&root, "sz.admin", "region_admin", Some("440300"), None).await;
        let qs_auditor = app.staff(&root, "qs.auditor", "auditor", Some("140521"), None).await;

        app.get(&format!("/api/v1/admin/merchants/{id}"), Some(&qinshui)).await.expect_problem(404, "merchant_not_found");
        for action in ["approve", "reject", "suspend", "revoke", "activate"] {
            app.post(&format!("/api/v1/admin/merchants/{id}/{action}"), Some(&qinshui), json!({"reason": "x", "agreement_no": "1",
                "agreement_start": "2026-01-01", "agreement_end": "2099-01-01"}))
                .await
                .expect_problem(404, "merchant_not_found");
        }
        app.post(&format!("/api/v1/admin/merchants/{id}/reviews"), Some(&qinshui), json!({"department": "military", "verdict": "pass"}))
            .await
            .expect_problem(404, "merchant_not_found");
        assert_eq!(app.get("/api/v1/admin/merchants", Some(&qinshui)).await.expect(200)["total"], 0);
        assert_eq!(app.get("/api/v1/admin/merchants?region=440303", Some(&qinshui)).await.expect(200)["total"], 0);
        let log = app.get(&format!("/api/v1/admin/audit-log?entity_id={id}"), Some(&qs_auditor)).await.expect(200);
        assert_eq!(log["total"], 0);

        app.get(&format!("/api/v1/admin/merchants/{id}"), Some(&shenzhen)).await.expect(200);
        assert_eq!(app.get("/api/v1/admin/merchants?region=440000", Some(&shenzhen)).await.expect(200)["total"], 1);
        let log = app.get(&format!("/api/v1/admin/audit-log?entity_id={id}"), Some(&shenzhen)).await.expect(200);
        assert_eq!(log["total"], 1);

        // Nothing changed.
        let detail = app.get(&format!("/api/v1/admin/merchants/{id}"), Some(&root)).await.expect(200);
        assert_eq!(detail["status"], "pending");
    }

    async fn reviewers_review_only_for_their_department(app) {
        let root = app.admin_token().await;
        let id = apply(&app, application(1, "440303")).await;
        let reviewer = app.staff(&root, "lh.civil", "reviewer", Some("440303"), Some("civil_affairs")).await;
        let auditor = app.staff(&root, "lh.auditor", "auditor", Some("440303"), None).await;
        let path = format!("/api/v1/admin/merchants/{id}/reviews");
        app.post(&path, Some(&reviewer), json!({"department": "military", "verdict": "pass"}))
            .await
            .expect_problem(403, "wrong_department");
        let detail = app.post(&path, Some(&reviewer), json!({"department": "civil_affairs", "verdict": "pass"})).await.expect(201);
        assert_eq!(detail["reviews"][0]["reviewer"], "lh.civil");
        app.post(&path, Some(&auditor), json!({"department": "civil_affairs", "verdict": "pass"}))
            .await
            .expect_problem(403, "read_only_role");
        // Reviewers do not decide.
        review_all(&app, &root, &id).await;
        app.post(&format!("/api/v1/admin/merchants/{id}/approve"), Some(&reviewer), json!({}))
            .await
            .expect_problem(403, "forbidden");
        let body = app.post(&path, Some(&root), json!({"department": "sanitation", "verdict": "maybe"})).await.expect_problem(422, "validation_failed");
        assert_eq!(body["errors"].as_array().unwrap().len(), 2);
    }

    async fn the_directory_searches_by_text_category_region_distance_and_capability(app) {
        let root = app.admin_token().await;
        // 罗湖 pharmacy, 福田 dining (3.4 km west), 沁水 pharmacy (far away).
        let luohu = activate_merchant(&app, &root, application(1, "440303")).await;
        let mut futian = application(2, "440304");
        futian["category"] = json!("dining");
        futian["name"] = json!("福田拥军餐厅");
        futian["latitude"] = json!(22.5431);
        futian["longitude"] = json!(114.0852);
        futian["emergency_capabilities"] = json!(["logistics"]);
        futian["services"] = json!("军人就餐八折");
        let futian = activate_merchant(&app, &root, futian).await;
        let mut qinshui = application(3, "140521");
        qinshui["latitude"] = json!(35.69);
        qinshui["longitude"] = json!(112.19);
        qinshui["emergency_capabilities"] = json!([]);
        let qinshui = activate_merchant(&app, &root, qinshui).await;
        apply(&app, application(4, "440303")).await; // pending: never listed

        let names = |page: &Value| page["items"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(app.get("/api/v1/merchants", None).await.expect(200)["total"], 3);
        assert_eq!(names(&app.get("/api/v1/merchants?region=440000", None).await.expect(200)).len(), 2);
        assert_eq!(names(&app.get("/api/v1/merchants?region=140000", None).await.expect(200)), vec![qinshui["name"].as_str().unwrap()]);
        assert_eq!(names(&app.get("/api/v1/merchants?category=dining", None).await.expect(200)), vec!["福田拥军餐厅"]);
        assert_eq!(app.get(&format!("/api/v1/merchants?q={}", "福田"), None).await.expect(200)["total"], 1);
        assert_eq!(app.get(&format!("/api/v1/merchants?q={}", "购药"), None).await.expect(200)["total"], 2, "services match");
        assert_eq!(app.get("/api/v1/merchants?q=%25", None).await.expect(200)["total"], 0, "% is a character, not a wildcard");
        assert_eq!(names(&app.get("/api/v1/merchants?emergency_capability=logistics", None).await.expect(200)), vec!["福田拥军餐厅"]);

        // Near 罗湖: both Shenzhen merchants within 5 km, nearest first, with distances.
        let near = app.get("/api/v1/merchants?near=22.5431,114.1182&radius_km=5", None).await.expect(200);
        assert_eq!(near["total"], 2);
        assert_eq!(near["items"][0]["id"], luohu["id"]);
        assert_eq!(near["items"][0]["distance_km"], 0.0);
        assert_eq!(near["items"][1]["id"], futian["id"]);
        let d = near["items"][1]["distance_km"].as_f64().unwrap();
        assert!((3.3..3.5).contains(&d), "{d}");
        assert_eq!(app.get("/api/v1/merchants?near=22.5431,114.1182&radius_km=1", None).await.expect(200)["total"], 1);
        let paged = app.get("/api/v1/merchants?near=22.5431,114.1182&radius_km=5&per_page=1&page=2", None).await.expect(200);
        assert_eq!((paged["total"].as_i64(), paged["items"][0]["id"].clone()), (Some(2), futian["id"].clone()));
        let combined = app.get("/api/v1/merchants?near=22.5431,114.1182&radius_km=5&category=pharmacy", None).await.expect(200);
        assert_eq!(combined["total"], 1);

        let body = app
            .get("/api/v1/merchants?near=north&radius_km=900&category=x&region=44", None)
            .await
            .expect_problem(422, "validation_failed");
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, vec!["category", "region", "radius_km", "near"]);

        // Public answers carry no person's phone and no legal representative.
        let text = app.get("/api/v1/merchants", None).await.expect(200).to_string();
        assert!(!text.contains("13812345678") && !text.contains("王建国") && !text.contains("contact"));

        // The agreement ends: the merchant drops out without anyone acting.
        {
            use diesel_async::RunQueryDsl;
            let mut pooled = app.state.db.get().await.unwrap();
            let mut conn = pooled.conn();
            let yesterday = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive() - chrono::Duration::days(1);
            let futian_id: yongjun::db::MerchantId = futian["id"].as_str().unwrap().parse().unwrap();
            yongjun::with_conn!(&mut conn, |c| {
                use diesel::{ExpressionMethods, QueryDsl};
                use yongjun::db::schema::merchants::dsl;
                diesel::update(dsl::merchants.filter(dsl::id.eq(futian_id)))
                    .set(dsl::agreement_end.eq(yesterday))
                    .execute(c)
                    .await
                    .unwrap()
            });
        }
        yongjun::cache::Cache::invalidate(&app.state.cache, vec![format!("merchant:{}", futian["id"].as_str().unwrap())]).await.unwrap();
        assert_eq!(app.get("/api/v1/merchants", None).await.expect(200)["total"], 2);
        app.get(&format!("/api/v1/merchants/{}", futian["id"].as_str().unwrap()), None).await.expect_problem(404, "merchant_not_found");
        let expired = app.get("/api/v1/admin/merchants?status=expired", Some(&root)).await.expect(200);
        assert_eq!((expired["total"].as_i64(), expired["items"][0]["status"].as_str()), (Some(1), Some("expired")));
        assert_eq!(app.get("/api/v1/admin/merchants?status=active", Some(&root)).await.expect(200)["total"], 2);
        app.post(&format!("/api/v1/admin/merchants/{}/suspend", futian["id"].as_str().unwrap()), Some(&root), json!({"reason": "x"}))
            .await
            .expect_problem(409, "invalid_transition");
        // Renewal with a new agreement brings it back, keeping its badge.
        let renewed = app
            .post(&format!("/api/v1/admin/merchants/{}/activate", futian["id"].as_str().unwrap()), Some(&root), agreement())
            .await
            .expect(200);
        assert_eq!((renewed["status"].as_str(), renewed["badge_no"].clone()), (Some("active"), futian["badge_no"].clone()));
    }

    async fn the_emergency_roster_lists_capable_partners_with_contacts(app) {
        let root = app.admin_token().await;
        activate_merchant(&app, &root, application(1, "440303")).await;
        let mut none = application(2, "440303");
        none["emergency_capabilities"] = json!([]);
        activate_merchant(&app, &root, none).await;
        let roster = app.get("/api/v1/admin/emergency-roster?capability=medical", Some(&root)).await.expect(200);
        assert_eq!(roster["total"], 1);
        assert_eq!(roster["items"][0]["contact_phone"], "13812345678");
        assert_eq!(roster["items"][0]["emergency_capabilities"], json!(["medical", "supplies"]));
        assert_eq!(app.get("/api/v1/admin/emergency-roster", Some(&root)).await.expect(200)["total"], 1, "any capability");
        assert_eq!(app.get("/api/v1/admin/emergency-roster?capability=telecom", Some(&root)).await.expect(200)["total"], 0);
        app.get("/api/v1/admin/emergency-roster?capability=magic", Some(&root)).await.expect_problem(422, "validation_failed");
        let qinshui = app.staff(&root, "qs.admin", "region_admin", Some("140521"), None).await;
        assert_eq!(app.get("/api/v1/admin/emergency-roster", Some(&qinshui)).await.expect(200)["total"], 0);
    }

    async fn merchant_staff_accounts_are_bound_to_their_merchant(app) {
        let root = app.admin_token().await;
        let merchant = activate_merchant(&app, &root, application(1, "440303")).await;
        let id = merchant["id"].as_str().unwrap();
        let staff = app
            .post(&format!("/api/v1/admin/merchants/{id}/staff"), Some(&root), json!({"username": "lh.pharmacy", "password": "pharmacy-password"}))
            .await
            .expect(201);
        assert_eq!((staff["role"].as_str(), staff["merchant_id"].as_str(), staff["region_code"].as_str()), (Some("merchant_staff"), Some(id), Some("440303")));
        let token = app.login("lh.pharmacy", "pharmacy-password").await;
        // Merchant staff are not office staff.
        app.get("/api/v1/admin/merchants", Some(&token)).await.expect_problem(403, "forbidden");
        app.post(&format!("/api/v1/admin/merchants/{id}/staff"), Some(&root), json!({"username": "lh.pharmacy", "password": "pharmacy-password"}))
            .await
            .expect_problem(409, "username_taken");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_waits_for_the_notice_period() {
    let app = spawn_app(Backend::Sqlite).await; // 7 days of notice
    let root = app.admin_token().await;
    let id = apply(&app, application(1, "440303")).await;
    review_all(&app, &root, &id).await;
    let noticed = app
        .post(
            &format!("/api/v1/admin/merchants/{id}/approve"),
            Some(&root),
            json!({}),
        )
        .await
        .expect(200);
    let ends =
        chrono::DateTime::parse_from_rfc3339(noticed["notice_ends_at"].as_str().unwrap()).unwrap();
    let days = (ends.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "{days} hours");
    let body = app
        .post(
            &format!("/api/v1/admin/merchants/{id}/activate"),
            Some(&root),
            agreement(),
        )
        .await
        .expect_problem(409, "notice_period_running");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(body["notice_ends_at"].as_str().unwrap()).unwrap(),
        ends
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_in_one_process_is_seen_at_once_by_another() {
    let first = spawn_instant_notice(Backend::Postgres).await;
    let second = spawn_second_process(&first).await;
    let root = first.admin_token().await;
    let merchant = activate_merchant(&first, &root, application(1, "440303")).await;
    let path = format!("/api/v1/merchants/{}", merchant["id"].as_str().unwrap());
    // The second process reads, and so caches, the merchant.
    second.get(&path, None).await.expect(200);
    second.get(&path, None).await.expect(200);
    first
        .post(
            &format!(
                "/api/v1/admin/merchants/{}/suspend",
                merchant["id"].as_str().unwrap()
            ),
            Some(&root),
            json!({"reason": "停业整顿"}),
        )
        .await
        .expect(200);
    second
        .get(&path, None)
        .await
        .expect_problem(404, "merchant_not_found");
}

/// Activations racing in one region still get distinct, gap-free badge numbers.
async fn concurrent_activations(app: TestApp) {
    let root = app.admin_token().await;
    let mut ids = Vec::new();
    for n in 1..=6 {
        let id = apply(&app, application(n, "440303")).await;
        review_all(&app, &root, &id).await;
        app.post(
            &format!("/api/v1/admin/merchants/{id}/approve"),
            Some(&root),
            json!({}),
        )
        .await
        .expect(200);
        ids.push(id);
    }
    let activations = ids.iter().map(|id| {
        let app = &app;
        let root = &root;
        async move {
            app.post(
                &format!("/api/v1/admin/merchants/{id}/activate"),
                Some(root),
                agreement(),
            )
            .await
            .expect(200)["badge_no"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    });
    let mut badges = futures_util::future::join_all(activations).await;
    badges.sort();
    let year = (chrono::Utc::now() + chrono::Duration::hours(8)).year();
    let expected: Vec<String> = (1..=6)
        .map(|n| format!("YJ-440303-{year}-{n:05}"))
        .collect();
    assert_eq!(badges, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_activations_get_distinct_badges_postgres() {
    concurrent_activations(
        spawn_app_with(
            Backend::Postgres,
            Options {
                public_notice_days: Some(0),
                workers: Some(2),
                ..Default::default()
            },
        )
        .await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_activations_get_distinct_badges_sqlite() {
    concurrent_activations(
        spawn_app_with(
            Backend::Sqlite,
            Options {
                public_notice_days: Some(0),
                workers: Some(2),
                ..Default::default()
            },
        )
        .await,
    )
    .await;
}
