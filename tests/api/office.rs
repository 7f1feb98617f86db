//! What an office and a partner do beyond admission: the queue of offers to approve,
//! agreement expiry and renewal, targets as data, figures by the holders' region, the
//! partner's own profile and the office's corrections, the directory's filters.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::instant_backends;
use crate::merchants::{activate_merchant, application};
use crate::pos::{new_holder, offer, open_shop, redeem, ten_percent, visit};

async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> Answer {
    app.send(
        app.client
            .patch(app.url(path))
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> Answer {
    app.send(app.client.put(app.url(path)).bearer_auth(token).json(&body))
        .await
}

async fn audit(app: &TestApp, token: &str, entity_type: &str, id: &str) -> Vec<Value> {
    app.get(
        &format!("/api/v1/admin/audit-log?entity_type={entity_type}&entity_id={id}"),
        Some(token),
    )
    .await
    .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn staff_of(app: &TestApp, root: &str, merchant: &Value, username: &str) -> String {
    app.post(
        &format!(
            "/api/v1/admin/merchants/{}/staff",
            merchant["id"].as_str().unwrap()
        ),
        Some(root),
        json!({"username": username, "password": "merchant-staff-password"}),
    )
    .await
    .expect(201);
    app.login(username, "merchant-staff-password").await
}

fn directory_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Sets a merchant's agreement end, as if the days had passed.
async fn set_agreement_end(app: &TestApp, id: &str, end: chrono::NaiveDate) {
    use diesel_async::RunQueryDsl;
    let mut pooled = app.state.db.get().await.unwrap();
    let mut conn = pooled.conn();
    let id: yongjun::db::MerchantId = id.parse().unwrap();
    yongjun::with_conn!(&mut conn, |c| {
        use diesel::{ExpressionMethods, QueryDsl};
        use yongjun::db::schema::merchants::dsl;
        diesel::update(dsl::merchants.filter(dsl::id.eq(id)))
            .set(dsl::agreement_end.eq(Some(end)))
            .execute(c)
            .await
            .unwrap()
    });
}

instant_backends! {
    async fn an_office_finds_the_offers_waiting_in_its_region(app) {
        let root = app.admin_token().await;
        let luohu = activate_merchant(&app, &root, application(1, "440303")).await;
        let qinshui = activate_merchant(&app, &root, application(2, "140521")).await;
        let luohu_staff = staff_of(&app, &root, &luohu, "luohu.staff").await;
        let qinshui_staff = staff_of(&app, &root, &qinshui, "qinshui.staff").await;
        let create = |staff: String, title: &'static str| {
            let app = &app;
            async move {
                app.post("/api/v1/merchant/offers", Some(&staff), json!({"title": title, "kind": "percent_off", "percent_off": 10}))
                    .await
                    .expect(201)
            }
        };
        let first = create(luohu_staff.clone(), "凭卡九折").await;
        let second = create(luohu_staff, "免费测血压").await;
        let far = create(qinshui_staff, "沁水拥军价").await;

        let shenzhen = app.staff(&root, "sz.admin", "region_admin", Some("440300"), None).await;
        let queue = app.get("/api/v1/admin/offers", Some(&shenzhen)).await.expect(200);
        assert_eq!((queue["total"].as_i64(), queue["page"].as_i64()), (Some(2), Some(1)));
        let ids: Vec<&Value> = queue["items"].as_array().unwrap().iter().map(|o| &o["id"]).collect();
        assert_eq!(ids, vec![&first["id"], &second["id"]], "oldest first, Qinshui's not in Shenzhen's queue");
        assert_eq!(queue["items"][0]["merchant_name"], luohu["name"], "{}", queue["items"][0]);
        let everywhere = app.get("/api/v1/admin/offers", Some(&root)).await.expect(200);
        assert_eq!(everywhere["total"], 3);

        let by_title = app.get(&format!("/api/v1/admin/offers?q={}", "%E8%A1%80%E5%8E%8B"), Some(&shenzhen)).await.expect(200);
        assert_eq!(directory_ids(&by_title), vec![second["id"].as_str().unwrap()]);
        let by_merchant = app.get(&format!("/api/v1/admin/offers?merchant_id={}", qinshui["id"].as_str().unwrap()), Some(&root)).await.expect(200);
        assert_eq!(directory_ids(&by_merchant), vec![far["id"].as_str().unwrap()]);
        let elsewhere = app.get(&format!("/api/v1/admin/offers?merchant_id={}", qinshui["id"].as_str().unwrap()), Some(&shenzhen)).await.expect(200);
        assert_eq!(elsewhere["total"], 0, "another region's merchant is outside the queue");

        app.post(&format!("/api/v1/admin/offers/{}/approve", first["id"].as_str().unwrap()), Some(&shenzhen), json!({}))
            .await
            .expect(200);
        let queue = app.get("/api/v1/admin/offers", Some(&shenzhen)).await.expect(200);
        assert_eq!(directory_ids(&queue), vec![second["id"].as_str().unwrap()]);
        let active = app.get("/api/v1/admin/offers?status=active", Some(&shenzhen)).await.expect(200);
        assert_eq!(directory_ids(&active), vec![first["id"].as_str().unwrap()]);
        app.get("/api/v1/admin/offers?status=sold", Some(&shenzhen)).await.expect_problem(422, "validation_failed");
        let paged = app.get("/api/v1/admin/offers?per_page=1&page=2", Some(&root)).await.expect(200);
        assert_eq!((paged["total"].as_i64(), paged["items"].as_array().unwrap().len()), (Some(2), 1));
    }

    async fn a_lapsed_agreement_expires_the_merchant_until_it_is_renewed(app) {
        let root = app.admin_token().await;
        let merchant = activate_merchant(&app, &root, application(1, "440303")).await;
        let id = merchant["id"].as_str().unwrap();
        // Warm the directory's cache entry, which the sweep must drop.
        assert_eq!(app.get(&format!("/api/v1/merchants/{id}"), None).await.expect(200)["id"], merchant["id"]);
        let yesterday = chrono::Utc::now().date_naive() - chrono::Duration::days(2);
        set_agreement_end(&app, id, yesterday).await;

        // Two processes' sweeps at once: one expires it.
        let (a, b) = tokio::join!(app.sweep(), app.sweep());
        assert_eq!(a.merchants + b.merchants, 1, "{a:?} {b:?}");
        let read = app.get(&format!("/api/v1/admin/merchants/{id}"), Some(&root)).await.expect(200);
        assert_eq!(read["status"], "expired");
        app.get(&format!("/api/v1/merchants/{id}"), None).await.expect_problem(404, "merchant_not_found");
        assert!(!directory_ids(&app.get("/api/v1/merchants", None).await.expect(200)).contains(&id.to_owned()));
        let log = audit(&app, &root, "merchant", id).await;
        let expiries: Vec<&Value> = log.iter().filter(|e| e["action"] == "merchant.expire").collect();
        assert_eq!(expiries.len(), 1, "{log:?}");
        assert_eq!(expiries[0]["actor"], "system", "{}", expiries[0]);
        assert_eq!((expiries[0]["before_status"].as_str(), expiries[0]["after_status"].as_str()), (Some("active"), Some("expired")));

        let end = chrono::Utc::now().date_naive() + chrono::Duration::days(365);
        let path = format!("/api/v1/admin/merchants/{id}/renew");
        app.post(&path, Some(&root), json!({"agreement_no": "SZ-YJ-002"})).await.expect_problem(422, "validation_failed");
        let renewed = app.post(&path, Some(&root), json!({"agreement_no": "SZ-YJ-002", "agreement_end": end.to_string()})).await.expect(200);
        assert_eq!((renewed["status"].as_str(), renewed["agreement_no"].as_str()), (Some("active"), Some("SZ-YJ-002")));
        assert_eq!(renewed["agreement_end"], end.to_string());
        assert_eq!(app.get(&format!("/api/v1/merchants/{id}"), None).await.expect(200)["id"], merchant["id"]);
        let log = audit(&app, &root, "merchant", id).await;
        assert_eq!(log[0]["action"], "merchant.renew");
        assert_eq!((log[0]["before_status"].as_str(), log[0]["after_status"].as_str()), (Some("expired"), Some("active")));
        assert_eq!(app.sweep().await.merchants, 0, "renewed, it no longer lapses");
    }

    async fn targets_default_by_level_are_set_per_region_and_sum_up(app) {
        let root = app.admin_token().await;
        let year = chrono::Utc::now().format("%Y").to_string().parse::<i64>().unwrap();
        let get = |region: &'static str| {
            let (app, root) = (&app, root.clone());
            async move { app.get(&format!("/api/v1/admin/targets?region={region}"), Some(&root)).await.expect(200) }
        };
        let shenzhen = get("440300").await;
        assert_eq!(shenzhen["year"], year);
        assert_eq!(shenzhen["new_partners"], json!({"value": 100, "source": "default"}));
        assert_eq!(shenzhen["activities"], json!({"value": 10, "source": "default"}));
        assert_eq!(shenzhen["people_served"], json!({"value": 1000, "source": "default"}));
        assert_eq!(shenzhen["insurance_gifts"]["value"], Value::Null);
        assert_eq!(get("140521").await["new_partners"], json!({"value": 50, "source": "default"}));
        let cities = app.get("/api/v1/regions?parent=440000&per_page=100", None).await.expect(200)["total"].as_i64().unwrap();
        let guangdong = get("440000").await;
        assert_eq!(guangdong["new_partners"], json!({"value": 100 * cities, "source": "sum_of_cities"}));

        let sz_admin = app.staff(&root, "sz.admin", "region_admin", Some("440300"), None).await;
        let set = put(&app, "/api/v1/admin/targets/440300", &sz_admin,
            json!({"new_partners": 120, "insurance_gifts": 20000})).await.expect(200);
        assert_eq!(set["new_partners"], json!({"value": 120, "source": "set"}));
        assert_eq!(set["insurance_gifts"], json!({"value": 20000, "source": "set"}));
        assert_eq!(set["activities"]["source"], "default");
        assert_eq!(set["updated_by"], "sz.admin");
        assert_eq!(get("440000").await["new_partners"]["value"], 100 * cities + 20);
        put(&app, "/api/v1/admin/targets/140521", &sz_admin, json!({"new_partners": 5}))
            .await
            .expect_problem(403, "region_out_of_scope");
        put(&app, "/api/v1/admin/targets/440300", &sz_admin, json!({"new_partners": -1}))
            .await
            .expect_problem(422, "validation_failed");
        put(&app, "/api/v1/admin/targets/999999", &root, json!({"new_partners": 1}))
            .await
            .expect_problem(404, "region_not_found");
        let log = app.get("/api/v1/admin/audit-log?entity_type=target", Some(&root)).await.expect(200);
        assert_eq!(log["total"], 1, "{log}");
        assert_eq!(log["items"][0]["action"], "target.set");
        // Another year is untouched.
        let next = app.get(&format!("/api/v1/admin/targets?region=440300&year={}", year + 1), Some(&root)).await.expect(200);
        assert_eq!(next["new_partners"]["source"], "default");
    }

    async fn stats_show_each_target_beside_its_figure(app) {
        let root = app.admin_token().await;
        put(&app, "/api/v1/admin/targets/440300", &root, json!({"new_partners": 4, "insurance_gifts": 10})).await.expect(200);
        activate_merchant(&app, &root, application(1, "440303")).await;
        let mut individual = application(2, "440303");
        individual["kind"] = json!("individual_business");
        activate_merchant(&app, &root, individual).await;
        let mut insurer = application(3, "440303");
        insurer["category"] = json!("insurance");
        let insurer = activate_merchant(&app, &root, insurer).await;
        let staff = staff_of(&app, &root, &insurer, "insurer.staff").await;
        let terminal = app.post("/api/v1/merchant/terminals", Some(&staff), json!({"name": "柜台"})).await.expect(201)["api_key"]
            .as_str()
            .unwrap()
            .to_owned();
        let gift = app.post("/api/v1/merchant/offers", Some(&staff), json!({"title": "赠送意外险", "kind": "free"})).await.expect(201);
        app.post(&format!("/api/v1/admin/offers/{}/approve", gift["id"].as_str().unwrap()), Some(&root), json!({})).await.expect(200);
        let (holder, _) = new_holder(&app, &root, 1, "440303").await;
        let token = crate::pos::qr(&app, &holder).await;
        redeem(&app, &terminal, "gift-1", json!({"token": token, "offer_id": gift["id"]})).await.expect(201);

        let stats = app.get("/api/v1/admin/stats?region=440300", Some(&root)).await.expect(200);
        let targets = stats["targets"].as_array().expect("targets in the stats");
        let this_year = &targets[0];
        assert_eq!(this_year["new_partners"]["target"], 4, "{this_year}");
        assert_eq!(this_year["new_partners"]["actual"], 2, "the enterprise and the insurer; not the individual business");
        assert_eq!(this_year["new_partners"]["share_percent"], 50.0);
        assert_eq!(this_year["insurance_gifts"]["actual"], 1);
        assert_eq!(this_year["insurance_gifts"]["share_percent"], 10.0);
        assert_eq!(this_year["activities"]["target"], 10);
        let admissions = &stats["admissions"][0];
        assert_eq!(admissions["admitted"], 2, "{admissions}");
        assert_eq!(admissions["not_counted"], json!([{"key": "individual_business", "count": 1}]), "{admissions}");
    }

    async fn a_home_office_sees_its_holders_use_here_and_elsewhere(app) {
        // The shop is in 罗湖 (Shenzhen); its holder is registered in 沁水.
        let shop = open_shop(&app).await;
        let ten = offer(&app, &shop, ten_percent()).await;
        visit(&app, &shop, &ten, &shop.holder, 10000).await;
        let (local, _) = new_holder(&app, &shop.root, 2, "440303").await;
        visit(&app, &shop, &ten, &local, 5000).await;

        let qinshui = app.staff(&shop.root, "qs.admin", "region_admin", Some("140521"), None).await;
        let home = app.get("/api/v1/admin/stats?by=holder_region", Some(&qinshui)).await.expect(200);
        assert_eq!(home["here"]["count"], 0, "{home}");
        assert_eq!(home["elsewhere"]["count"], 1, "{home}");
        assert_eq!(home["elsewhere"]["discount_fen"], 1000);
        let bearing = home["by_bearing_region"].as_array().unwrap();
        assert_eq!(bearing.len(), 1, "{home}");
        assert_eq!(bearing[0]["key"], "440303", "{}", bearing[0]);
        // The bearing office's own figures count only by where the redemption happened.
        let merchant_side = app.get("/api/v1/admin/stats?by=merchant_region", Some(&qinshui)).await.expect(200);
        assert_eq!(merchant_side["redemptions"]["count"], 0);
        app.get("/api/v1/admin/stats?by=nowhere", Some(&qinshui)).await.expect_problem(422, "validation_failed");
    }

    async fn a_partner_edits_its_own_entry_and_an_office_its_registration(app) {
        let shop = open_shop(&app).await;
        let id = shop.merchant_id.clone();
        app.get(&format!("/api/v1/merchants/{id}"), None).await.expect(200);
        let own = app.get("/api/v1/merchant/profile", Some(&shop.staff)).await.expect(200);
        assert_eq!(own["id"], id.as_str());
        assert_eq!(own["contact_phone_masked"], "138****5678", "masked even to the partner: {own}");
        assert!(!own.to_string().contains("13812345678"));

        let edited = patch(&app, "/api/v1/merchant/profile", &shop.staff, json!({
            "contact_phone": "13900001111", "measures": "设拥军优先窗口，专人引导", "commitments": "明码标价，优先服务",
            "emergency_capabilities": ["medical"], "emergency_commitment": "急时战时无偿提供常用药品",
            "latitude": 22.55, "longitude": 114.12
        })).await.expect(200);
        assert_eq!(edited["measures"], "设拥军优先窗口，专人引导");
        let public = app.get(&format!("/api/v1/merchants/{id}"), None).await.expect(200);
        assert_eq!(public["measures"], "设拥军优先窗口，专人引导", "the cached entry was dropped");
        assert_eq!(public["emergency_commitment"], "急时战时无偿提供常用药品");
        assert_eq!(public["emergency_capabilities"], json!(["medical"]));
        let log = audit(&app, &shop.root, "merchant", &id).await;
        assert_eq!(log[0]["action"], "merchant.update_profile");
        let text = serde_json::to_string(&log[0]).unwrap();
        assert!(text.contains("contact_phone") && !text.contains("13900001111"), "{text}");

        patch(&app, "/api/v1/merchant/profile", &shop.staff, json!({"latitude": 22.5})).await.expect_problem(422, "validation_failed");
        patch(&app, "/api/v1/merchant/profile", &shop.staff, json!({"contact_phone": "123"})).await.expect_problem(422, "validation_failed");
        // Name, kind, category and region are the office's.
        let before = app.get(&format!("/api/v1/merchants/{id}"), None).await.expect(200);
        patch(&app, "/api/v1/merchant/profile", &shop.staff, json!({"name": "改名"})).await.expect_problem(422, "validation_failed");
        assert_eq!(app.get(&format!("/api/v1/merchants/{id}"), None).await.expect(200)["name"], before["name"]);

        let path = format!("/api/v1/admin/merchants/{id}");
        patch(&app, &path, &shop.root, json!({"name": "罗湖拥军大药房"})).await.expect_problem(422, "validation_failed");
        let corrected = patch(&app, &path, &shop.root, json!({"name": "罗湖拥军大药房", "kind": "social_org", "reason": "营业执照变更"})).await.expect(200);
        assert_eq!((corrected["name"].as_str(), corrected["kind"].as_str()), (Some("罗湖拥军大药房"), Some("social_org")));
        assert_eq!(app.get(&format!("/api/v1/merchants/{id}"), None).await.expect(200)["name"], "罗湖拥军大药房");
        let log = audit(&app, &shop.root, "merchant", &id).await;
        assert_eq!((log[0]["action"].as_str(), log[0]["reason"].as_str()), (Some("merchant.update"), Some("营业执照变更")));
        let qinshui = app.staff(&shop.root, "qs.admin", "region_admin", Some("140521"), None).await;
        patch(&app, &path, &qinshui, json!({"name": "x", "reason": "y"})).await.expect_problem(404, "merchant_not_found");
    }

    async fn the_directory_filters_by_kind_and_searches_measures(app) {
        let root = app.admin_token().await;
        let enterprise = activate_merchant(&app, &root, application(1, "440303")).await;
        let mut team = application(2, "440303");
        team["kind"] = json!("volunteer_team");
        team["measures"] = json!("每月上门理发");
        let team = activate_merchant(&app, &root, team).await;
        // A province-level partner (a provincial telecom branch).
        let mut telecom = application(3, "440000");
        telecom["category"] = json!("telecom");
        telecom["commitments"] = json!("军人专享套餐");
        let telecom = activate_merchant(&app, &root, telecom).await;
        assert_eq!(telecom["region_code"], "440000");

        let teams = app.get("/api/v1/merchants?kind=volunteer_team", None).await.expect(200);
        assert_eq!(directory_ids(&teams), vec![team["id"].as_str().unwrap()]);
        let enterprises = app.get("/api/v1/merchants?kind=enterprise", None).await.expect(200);
        assert_eq!(enterprises["total"], 2);
        assert!(directory_ids(&enterprises).contains(&enterprise["id"].as_str().unwrap().to_owned()));
        app.get("/api/v1/merchants?kind=shop", None).await.expect_problem(422, "validation_failed");
        let haircut = app.get("/api/v1/merchants?q=%E7%90%86%E5%8F%91", None).await.expect(200);
        assert_eq!(directory_ids(&haircut), vec![team["id"].as_str().unwrap()]);
        let plan = app.get("/api/v1/merchants?q=%E4%B8%93%E4%BA%AB%E5%A5%97%E9%A4%90", None).await.expect(200);
        assert_eq!(directory_ids(&plan), vec![telecom["id"].as_str().unwrap()]);
    }

    async fn an_unknown_offer_is_refused_in_chinese(app) {
        let shop = open_shop(&app).await;
        let token = crate::pos::qr(&app, &shop.holder).await;
        let problem = redeem(&app, &shop.terminal, "k-1", json!({"token": token, "offer_id": uuid::Uuid::new_v4(), "bill_fen": 100}))
            .await
            .expect_problem(422, "offer_not_active");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{detail}");
    }
}
