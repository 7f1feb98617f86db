//! Oversight: complaints and ratings, the exit-review flag and its decision, spot checks,
//! and the merchant evaluation.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::merchants::{activate_merchant, application};
use crate::pos::{new_holder, offer, open_shop, qr, ten_percent, visit};

async fn complain(app: &TestApp, holder: &str, merchant_id: &str, rating: i64) -> Answer {
    app.post(
        "/api/v1/holder/complaints",
        Some(holder),
        json!({"merchant_id": merchant_id, "rating": rating, "content": "出示优待卡后店员拒绝给予优惠"}),
    )
    .await
}

async fn merchant(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/admin/merchants/{id}"), Some(token))
        .await
        .expect(200)
}

/// Actions of the audit entries of one entity, oldest first.
async fn audit_actions(app: &TestApp, token: &str, entity_type: &str, id: &str) -> Vec<String> {
    let page = app
        .get(
            &format!(
                "/api/v1/admin/audit-log?entity_type={entity_type}&entity_id={id}&per_page=100"
            ),
            Some(token),
        )
        .await
        .expect(200);
    let mut actions: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    actions.reverse();
    actions
}

fn ids_of(inspection: &Value) -> Vec<String> {
    inspection["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["merchant_id"].as_str().unwrap().to_owned())
        .collect()
}

crate::instant_backends! {
    async fn complaints_need_a_recent_redemption_and_are_scoped(app) {
        let shop = open_shop(&app).await;
        let offer = offer(&app, &shop, ten_percent()).await;
        let id = shop.merchant_id.as_str();

        complain(&app, &shop.holder, id, 2).await.expect_problem(403, "no_recent_redemption");
        let bad = app
            .post("/api/v1/holder/complaints", Some(&shop.holder), json!({"merchant_id": "nope", "rating": 7}))
            .await
            .expect_problem(422, "validation_failed");
        let fields: Vec<&str> = bad["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["merchant_id", "rating", "content"]);
        app.post("/api/v1/holder/complaints", None, json!({})).await.expect_problem(401, "unauthenticated");

        let redemption = visit(&app, &shop, &offer, &shop.holder, 10_000).await;
        let redemption_id = redemption["id"].as_str().unwrap();
        // Someone else's redemption is not theirs to cite.
        let (other, _) = new_holder(&app, &shop.root, 2, "440303").await;
        app.post("/api/v1/holder/complaints", Some(&other),
            json!({"merchant_id": id, "redemption_id": redemption_id, "rating": 1, "content": "差"}))
            .await
            .expect_problem(404, "redemption_not_found");
        complain(&app, &other, id, 1).await.expect_problem(403, "no_recent_redemption");
        // A redemption at another merchant does not fit.
        let elsewhere = activate_merchant(&app, &shop.root, application(2, "440303")).await;
        let bad = app.post("/api/v1/holder/complaints", Some(&shop.holder),
            json!({"merchant_id": elsewhere["id"], "redemption_id": redemption_id, "rating": 1, "content": "差"}))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(bad["errors"][0]["field"], "redemption_id");
        complain(&app, &shop.holder, elsewhere["id"].as_str().unwrap(), 1).await.expect_problem(403, "no_recent_redemption");

        let filed = app.post("/api/v1/holder/complaints", Some(&shop.holder),
            json!({"merchant_id": id, "redemption_id": redemption_id, "rating": 2, "content": "店员拒绝给予九折优惠"}))
            .await
            .expect(201);
        assert_eq!((filed["status"].as_str(), filed["rating"].as_i64(), filed["redemption_id"].as_str()),
            (Some("open"), Some(2), Some(redemption_id)));
        let complaint_id = filed["id"].as_str().unwrap().to_owned();

        // Scoped by the merchant's region; holders appear masked.
        let luohu = app.staff(&shop.root, "lh.admin", "region_admin", Some("440303"), None).await;
        let qinshui = app.staff(&shop.root, "qs.admin", "region_admin", Some("140521"), None).await;
        let auditor = app.staff(&shop.root, "lh.auditor", "auditor", Some("440303"), None).await;
        let listed = app.get("/api/v1/admin/complaints?status=open", Some(&luohu)).await.expect(200);
        assert_eq!(listed["total"], 1);
        let item = &listed["items"][0];
        assert_eq!((item["id"].as_str(), item["merchant_name"].as_str()), (Some(complaint_id.as_str()), Some("拥军商户1号")));
        assert_eq!(item["holder"], json!({"name_masked": "张*明", "category": "veteran"}));
        let text = listed.to_string();
        assert!(!text.contains("张三明") && !text.contains("13812340001") && !text.contains("id_number"), "{text}");
        assert_eq!(app.get(&format!("/api/v1/admin/complaints?merchant_id={id}"), Some(&shop.root)).await.expect(200)["total"], 1);
        assert_eq!(app.get(&format!("/api/v1/admin/complaints?merchant_id={}", elsewhere["id"].as_str().unwrap()), Some(&shop.root)).await.expect(200)["total"], 0);
        assert_eq!(app.get("/api/v1/admin/complaints", Some(&qinshui)).await.expect(200)["total"], 0);
        app.get("/api/v1/admin/complaints?status=closed", Some(&luohu)).await.expect_problem(422, "validation_failed");

        let resolve = format!("/api/v1/admin/complaints/{complaint_id}/resolve");
        let body = json!({"outcome": "upheld", "comment": "经核实属实，已责令整改"});
        app.post(&resolve, Some(&qinshui), body.clone()).await.expect_problem(404, "complaint_not_found");
        app.post(&resolve, Some(&auditor), body.clone()).await.expect_problem(403, "read_only_role");
        app.post(&resolve, Some(&luohu), json!({"outcome": "maybe"})).await.expect_problem(422, "validation_failed");
        let resolved = app.post(&resolve, Some(&luohu), body.clone()).await.expect(200);
        assert_eq!((resolved["status"].as_str(), resolved["outcome"].as_str()), (Some("resolved"), Some("upheld")));
        let again = app.post(&resolve, Some(&luohu), body).await.expect_problem(409, "complaint_resolved");
        assert_eq!(again["outcome"], "upheld");
        assert_eq!(app.get("/api/v1/admin/complaints?status=resolved", Some(&luohu)).await.expect(200)["total"], 1);

        assert_eq!(audit_actions(&app, &shop.root, "complaint", &complaint_id).await, ["complaint.file", "complaint.resolve"]);
    }

    async fn low_ratings_flag_for_exit_review_and_a_decision_clears_it(app) {
        let shop = open_shop(&app).await;
        let offer = offer(&app, &shop, ten_percent()).await;
        let id = shop.merchant_id.as_str();
        let (h2, _) = new_holder(&app, &shop.root, 2, "440303").await;
        let (h3, _) = new_holder(&app, &shop.root, 3, "440303").await;
        for holder in [&shop.holder, &h2, &h3] {
            visit(&app, &shop, &offer, holder, 10_000).await;
        }
        let flagged = "/api/v1/admin/merchants?flagged=true";

        // Two holders, and one of them twice: still fewer than three complainants.
        complain(&app, &shop.holder, id, 1).await.expect(201);
        complain(&app, &h2, id, 1).await.expect(201);
        complain(&app, &shop.holder, id, 1).await.expect(201);
        assert!(merchant(&app, &shop.root, id).await["exit_review"].is_null());
        assert_eq!(app.get(flagged, Some(&shop.root)).await.expect(200)["total"], 0);

        complain(&app, &h3, id, 2).await.expect(201);
        let detail = merchant(&app, &shop.root, id).await;
        assert_eq!(detail["status"], "active", "flagging never suspends");
        let reason = detail["exit_review"]["reason"].as_str().unwrap();
        assert!(reason.contains("average rating 1.25 below 3.00"), "{reason}");
        assert!(reason.contains("complaint rate 133.3% above 5.0%"), "{reason}");
        assert!(detail["exit_review"]["flagged_at"].is_string());
        let listed = app.get(flagged, Some(&shop.root)).await.expect(200);
        assert_eq!((listed["total"].as_i64(), listed["items"][0]["id"].as_str()), (Some(1), Some(id)));
        assert_eq!(listed["items"][0]["exit_review"]["reason"].as_str(), Some(reason));
        assert_eq!(app.get("/api/v1/admin/merchants?flagged=false", Some(&shop.root)).await.expect(200)["total"], 0);
        let flag_entry = detail["history"].as_array().unwrap().iter().find(|e| e["action"] == "merchant.flag_exit_review").unwrap();
        assert_eq!((flag_entry["actor"].as_str(), flag_entry["reason"].as_str()), (Some("system"), Some(reason)));

        // Retain: the flag clears and the same old complaints do not raise it again.
        let review = format!("/api/v1/admin/merchants/{id}/exit-review");
        app.post(&review, Some(&shop.root), json!({"decision": "forgive"})).await.expect_problem(422, "validation_failed");
        let auditor = app.staff(&shop.root, "lh.auditor", "auditor", Some("440303"), None).await;
        app.post(&review, Some(&auditor), json!({"decision": "retain", "reason": "x"})).await.expect_problem(403, "read_only_role");
        let retained = app.post(&review, Some(&shop.root), json!({"decision": "retain", "reason": "已调解，商户已整改"})).await.expect(200);
        assert!(retained["exit_review"].is_null());
        assert_eq!(retained["status"], "active");
        let decision = retained["history"].as_array().unwrap().iter().find(|e| e["action"] == "merchant.exit_review").unwrap();
        assert_eq!((decision["reason"].as_str(), decision["details"]["decision"].as_str()), (Some("已调解，商户已整改"), Some("retain")));
        let not_flagged = app.post(&review, Some(&shop.root), json!({"decision": "retain", "reason": "再次"})).await.expect_problem(409, "not_flagged");
        assert!(not_flagged["exit_review_cleared_at"].is_string());
        complain(&app, &h2, id, 1).await.expect(201);
        complain(&app, &h3, id, 1).await.expect(201);
        assert!(merchant(&app, &shop.root, id).await["exit_review"].is_null(), "two new complainants only");
        assert_eq!(app.get(flagged, Some(&shop.root)).await.expect(200)["total"], 0);

        // A third new complainant flags it again; suspend decides and clears.
        complain(&app, &shop.holder, id, 1).await.expect(201);
        assert!(merchant(&app, &shop.root, id).await["exit_review"].is_object());
        let suspended = app.post(&review, Some(&shop.root), json!({"decision": "suspend", "reason": "多次投诉属实，暂停合作"})).await.expect(200);
        assert_eq!(suspended["status"], "suspended");
        assert!(suspended["exit_review"].is_null());
        assert_eq!(app.get(flagged, Some(&shop.root)).await.expect(200)["total"], 0);
        let actions = audit_actions(&app, &shop.root, "merchant", id).await;
        let tail: Vec<&str> = actions.iter().rev().take(2).rev().map(String::as_str).collect();
        assert_eq!(tail, ["merchant.suspend", "merchant.exit_review"]);
        assert_eq!(actions.iter().filter(|a| *a == "merchant.flag_exit_review").count(), 2);
        // The point of sale refuses it at once (the cache was invalidated).
        let token = qr(&app, &h2).await;
        let verdict = app.post("/api/v1/pos/verify", Some(&shop.terminal), json!({"token": token})).await.expect(200);
        assert_eq!(verdict["reason"], "merchant_inactive");
    }

    async fn spot_check_samples_are_reproducible_and_results_flag(app) {
        let root = app.admin_token().await;
        let mut active = Vec::new();
        for n in 1..=6 {
            let m = activate_merchant(&app, &root, application(n, "440303")).await;
            active.push(m["id"].as_str().unwrap().to_owned());
        }
        let outside = activate_merchant(&app, &root, application(7, "140521")).await;
        app.post("/api/v1/merchant-applications", None, application(8, "440303")).await.expect(201); // pending

        let draw = |seed: i64, size: i64| {
            let app = &app;
            let root = &root;
            async move {
                app.post("/api/v1/admin/inspections", Some(root), json!({"region": "440303", "sample_size": size, "seed": seed}))
                    .await
                    .expect(201)
            }
        };
        let first = draw(42, 3).await;
        assert_eq!((first["population"].as_i64(), first["seed"].as_i64(), first["sample_size"].as_i64()), (Some(6), Some(42), Some(3)));
        let sample = ids_of(&first);
        assert_eq!(sample.len(), 3);
        assert!(sample.iter().all(|id| active.contains(id)), "only active merchants of the subtree");
        let positions: Vec<i64> = first["items"].as_array().unwrap().iter().map(|i| i["position"].as_i64().unwrap()).collect();
        assert_eq!(positions, [1, 2, 3]);
        assert_eq!(first["items"][0]["address"].as_str().map(|a| a.starts_with("深圳市罗湖区")), Some(true));
        assert_eq!(ids_of(&draw(42, 3).await), sample, "the same seed draws the same sample");
        let mut differs = false;
        for seed in 1..=4 {
            differs |= ids_of(&draw(seed, 3).await) != sample;
        }
        assert!(differs, "other seeds draw other samples");
        let all = draw(7, 50).await;
        assert_eq!((all["population"].as_i64(), all["items"].as_array().unwrap().len()), (Some(6), 6));
        let random = app.post("/api/v1/admin/inspections", Some(&root), json!({"region": "440303", "sample_size": 2})).await.expect(201);
        let seed = random["seed"].as_i64().unwrap();
        assert!((0..1i64 << 53).contains(&seed));
        let fetched = app.get(&format!("/api/v1/admin/inspections/{}", random["id"].as_str().unwrap()), Some(&root)).await.expect(200);
        assert_eq!(ids_of(&fetched), ids_of(&random));

        let bad = app.post("/api/v1/admin/inspections", Some(&root), json!({"region": "44030", "sample_size": 0})).await.expect_problem(422, "validation_failed");
        assert_eq!(bad["errors"].as_array().unwrap().len(), 2);
        let luohu = app.staff(&root, "lh.admin", "region_admin", Some("440303"), None).await;
        let auditor = app.staff(&root, "lh.auditor", "auditor", Some("440303"), None).await;
        app.post("/api/v1/admin/inspections", Some(&luohu), json!({"region": "140521", "sample_size": 1})).await.expect_problem(403, "region_out_of_scope");
        app.post("/api/v1/admin/inspections", Some(&auditor), json!({"region": "440303", "sample_size": 1})).await.expect_problem(403, "read_only_role");
        let qinshui = app.staff(&root, "qs.admin", "region_admin", Some("140521"), None).await;
        assert_eq!(app.get("/api/v1/admin/inspections", Some(&qinshui)).await.expect(200)["total"], 0);
        app.get(&format!("/api/v1/admin/inspections/{}", first["id"].as_str().unwrap()), Some(&qinshui)).await.expect_problem(404, "inspection_not_found");
        assert_eq!(app.get("/api/v1/admin/inspections", Some(&luohu)).await.expect(200)["total"], 8);

        // Results: all or nothing.
        let inspection = first["id"].as_str().unwrap();
        let results = format!("/api/v1/admin/inspections/{inspection}/results");
        let not_sampled = active.iter().find(|id| !sample.contains(id)).unwrap().clone();
        let refused = app.post(&results, Some(&luohu), json!({"results": [
            {"merchant_id": sample[0], "outcome": "non_compliant", "notes": "未设置拥军优先窗口"},
            {"merchant_id": not_sampled, "outcome": "compliant"},
            {"merchant_id": outside["id"], "outcome": "compliant"}]}))
            .await
            .expect_problem(422, "not_in_sample");
        assert_eq!(refused["merchant_ids"], json!([not_sampled, outside["id"]]));
        let unchanged = app.get(&format!("/api/v1/admin/inspections/{inspection}"), Some(&luohu)).await.expect(200);
        assert!(unchanged["items"].as_array().unwrap().iter().all(|i| i["outcome"].is_null()), "nothing stored");
        assert!(merchant(&app, &root, &sample[0]).await["exit_review"].is_null());
        let bad = app.post(&results, Some(&luohu), json!({"results": [{"merchant_id": sample[0], "outcome": "fine"}, {"merchant_id": sample[0], "outcome": "compliant"}]}))
            .await
            .expect_problem(422, "validation_failed");
        let fields: Vec<&str> = bad["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["results[0].outcome", "results[1].merchant_id"]);

        let recorded = app.post(&results, Some(&luohu), json!({"results": [
            {"merchant_id": sample[0], "outcome": "non_compliant", "notes": "未设置拥军优先窗口"},
            {"merchant_id": sample[1], "outcome": "compliant", "notes": "优待措施落实到位"}]}))
            .await
            .expect(200);
        let outcomes: Vec<Value> = recorded["items"].as_array().unwrap().iter().map(|i| i["outcome"].clone()).collect();
        assert_eq!(outcomes, [json!("non_compliant"), json!("compliant"), Value::Null]);
        let failed = merchant(&app, &root, &sample[0]).await;
        assert_eq!(failed["status"], "active");
        let reason = failed["exit_review"]["reason"].as_str().unwrap();
        assert!(reason.contains(inspection) && reason.contains("未设置拥军优先窗口"), "{reason}");
        assert!(merchant(&app, &root, &sample[1]).await["exit_review"].is_null());
        let listed = app.get("/api/v1/admin/merchants?flagged=true", Some(&luohu)).await.expect(200);
        assert_eq!((listed["total"].as_i64(), listed["items"][0]["id"].as_str()), (Some(1), Some(sample[0].as_str())));
        let list = app.get("/api/v1/admin/inspections?per_page=100", Some(&luohu)).await.expect(200);
        let summary = list["items"].as_array().unwrap().iter().find(|i| i["id"] == inspection).unwrap();
        assert_eq!((summary["sampled"].as_i64(), summary["recorded"].as_i64(), summary["non_compliant"].as_i64()), (Some(3), Some(2), Some(1)));
        assert_eq!(audit_actions(&app, &root, "inspection", inspection).await,
            ["inspection.create", "inspection.record_result", "inspection.record_result"]);

        // Revoking through the ordinary endpoint is a decision too: the flag clears.
        let revoked = app.post(&format!("/api/v1/admin/merchants/{}/revoke", sample[0]), Some(&luohu), json!({"reason": "抽查不合格，拒不整改"})).await.expect(200);
        assert_eq!(revoked["status"], "revoked");
        assert!(revoked["exit_review"].is_null());
        let actions = audit_actions(&app, &root, "merchant", &sample[0]).await;
        assert!(actions.ends_with(&["merchant.flag_exit_review".to_owned(), "merchant.revoke".to_owned(), "merchant.exit_review".to_owned()]), "{actions:?}");
        // Suspending a merchant that is not flagged records no decision.
        app.post(&format!("/api/v1/admin/merchants/{}/suspend", sample[1]), Some(&luohu), json!({"reason": "整顿"})).await.expect(200);
        assert!(!audit_actions(&app, &root, "merchant", &sample[1]).await.contains(&"merchant.exit_review".to_owned()));
    }

    async fn evaluation_figures_equal_what_was_created(app) {
        let shop = open_shop(&app).await;
        let offer = offer(&app, &shop, ten_percent()).await;
        let id = shop.merchant_id.as_str();
        let (h2, _) = new_holder(&app, &shop.root, 2, "440303").await;
        visit(&app, &shop, &offer, &shop.holder, 10_000).await; // 1000 off
        visit(&app, &shop, &offer, &shop.holder, 5_000).await; // 500 off
        visit(&app, &shop, &offer, &h2, 20_000).await; // 2000 off
        let mistaken = visit(&app, &shop, &offer, &h2, 30_000).await;
        app.post(&format!("/api/v1/merchant/redemptions/{}/void", mistaken["id"].as_str().unwrap()), Some(&shop.staff), json!({"reason": "误扫"}))
            .await
            .expect(200);
        complain(&app, &shop.holder, id, 2).await.expect(201);
        complain(&app, &h2, id, 5).await.expect(201);

        let path = format!("/api/v1/admin/merchants/{id}/evaluation");
        let evaluation = app.get(&path, Some(&shop.root)).await.expect(200);
        assert_eq!(
            (evaluation["redemptions"].as_i64(), evaluation["distinct_holders"].as_i64(), evaluation["discount_total_fen"].as_i64(), evaluation["complaints"].as_i64()),
            (Some(3), Some(2), Some(3500), Some(2))
        );
        assert!((evaluation["complaint_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(evaluation["average_rating"].as_f64(), Some(3.5));
        assert!(evaluation["last_spot_check"].is_null() && evaluation["exit_review"].is_null());
        let today = evaluation["to"].as_str().unwrap();
        let from = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d").unwrap() - chrono::Days::new(89);
        assert_eq!(evaluation["from"].as_str(), Some(from.to_string().as_str()));

        let past = app.get(&format!("{path}?from=2020-01-01&to=2020-12-31"), Some(&shop.root)).await.expect(200);
        assert_eq!((past["redemptions"].as_i64(), past["discount_total_fen"].as_i64(), past["complaints"].as_i64()), (Some(0), Some(0), Some(0)));
        assert!(past["complaint_rate"].is_null() && past["average_rating"].is_null());
        app.get(&format!("{path}?from=2026-02-01&to=2026-01-01"), Some(&shop.root)).await.expect_problem(422, "validation_failed");
        app.get(&format!("{path}?from=yesterday"), Some(&shop.root)).await.expect_problem(422, "validation_failed");
        let qinshui = app.staff(&shop.root, "qs.admin", "region_admin", Some("140521"), None).await;
        app.get(&path, Some(&qinshui)).await.expect_problem(404, "merchant_not_found");

        // The last spot check.
        let inspection = app.post("/api/v1/admin/inspections", Some(&shop.root), json!({"region": "440303", "sample_size": 5, "seed": 1})).await.expect(201);
        let inspection_id = inspection["id"].as_str().unwrap();
        app.post(&format!("/api/v1/admin/inspections/{inspection_id}/results"), Some(&shop.root),
            json!({"results": [{"merchant_id": id, "outcome": "compliant", "notes": "优待措施落实到位"}]}))
            .await
            .expect(200);
        let evaluation = app.get(&path, Some(&shop.root)).await.expect(200);
        let check = &evaluation["last_spot_check"];
        assert_eq!((check["inspection_id"].as_str(), check["outcome"].as_str(), check["notes"].as_str()),
            (Some(inspection_id), Some("compliant"), Some("优待措施落实到位")));
        assert!(check["recorded_at"].is_string());

        // The first activation is the admission date.
        assert!(merchant(&app, &shop.root, id).await["admitted_at"].is_string());
    }
}
