//! Beneficiaries and their cards: protected registry, card lifecycle, holder activation,
//! bulk import.

use serde_json::{json, Value};

use crate::helpers::*;

/// A valid 18-character ID number numbered `n` (born 1980-01-01 in 110105).
pub fn id_number(n: u32) -> String {
    let first17 = format!("11010519800101{n:03}");
    let check = yongjun::domain::id_number::check_character(&first17).unwrap();
    format!("{first17}{check}")
}

pub fn person(n: u32, region: &str) -> Value {
    json!({"name": "张三明", "id_number": id_number(n), "phone": format!("1381234{n:04}"),
           "category": "veteran", "honors": ["third_class_merit"], "region_code": region})
}

pub async fn register(app: &TestApp, token: &str, body: Value) -> Value {
    app.post("/api/v1/admin/beneficiaries", Some(token), body)
        .await
        .expect(201)
}

pub async fn issue(app: &TestApp, token: &str, beneficiary: &str, product: &str) -> Value {
    app.post(
        &format!("/api/v1/admin/beneficiaries/{beneficiary}/cards"),
        Some(token),
        json!({"product": product}),
    )
    .await
    .expect(201)
}

async fn upload(
    app: &TestApp,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
    mode: Option<&str>,
) -> Answer {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    let url = match mode {
        Some(mode) => format!("/api/v1/admin/beneficiaries/import?mode={mode}"),
        None => "/api/v1/admin/beneficiaries/import".to_owned(),
    };
    app.send(
        app.client
            .post(app.url(&url))
            .bearer_auth(token)
            .multipart(form),
    )
    .await
}

async fn total(app: &TestApp, token: &str) -> i64 {
    app.get("/api/v1/admin/beneficiaries", Some(token))
        .await
        .expect(200)["total"]
        .as_i64()
        .unwrap()
}

crate::both_backends! {
    async fn personal_data_is_stored_encrypted_and_shown_masked(app) {
        let root = app.admin_token().await;
        let id = id_number(1);
        let created = register(&app, &root, person(1, "440303")).await;
        assert_eq!(created["id_number_masked"], format!("{}**********{}", &id[..4], &id[14..]));
        assert_eq!(created["phone_masked"], "138****0001");
        assert_eq!(created["honors"], json!(["third_class_merit"]));
        let text = created.to_string();
        assert!(!text.contains(&id) && !text.contains("13812340001"));

        // At rest: ciphertext, not the number; the keyed hash finds the person.
        let mut pooled = app.state.db.get().await.unwrap();
        let row = yongjun::db::beneficiaries::find(&mut pooled.conn(), created["id"].as_str().unwrap().parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(!row.id_number_enc.contains(&id));
        assert_eq!(app.state.keys.cipher.decrypt(&row.id_number_enc).unwrap(), id);
        assert_eq!(app.state.keys.cipher.decrypt(row.phone_enc.as_deref().unwrap()).unwrap(), "13812340001");
        assert_ne!(row.id_number_hash, id);

        let found = app.get(&format!("/api/v1/admin/beneficiaries?id_number={id}"), Some(&root)).await.expect(200);
        assert_eq!((found["total"].as_i64(), found["items"][0]["id"].clone()), (Some(1), created["id"].clone()));
        let none = app.get(&format!("/api/v1/admin/beneficiaries?id_number={}", id_number(2)), Some(&root)).await.expect(200);
        assert_eq!(none["total"], 0);
        app.get("/api/v1/admin/beneficiaries?id_number=123", Some(&root)).await.expect_problem(422, "validation_failed");

        // The same person again, even with a lower-case x, is refused.
        let mut again = person(1, "440304");
        again["id_number"] = json!(id.to_lowercase());
        app.post("/api/v1/admin/beneficiaries", Some(&root), again).await.expect_problem(409, "duplicate_beneficiary");
    }

    async fn bad_fields_are_listed_without_echoing_personal_data(app) {
        let root = app.admin_token().await;
        let id = id_number(1);
        let wrong_check = format!("{}{}", &id[..17], if id.ends_with('0') { '1' } else { '0' });
        let body = app
            .post(
                "/api/v1/admin/beneficiaries",
                Some(&root),
                json!({"name": "", "id_number": wrong_check, "phone": "1381234", "category": "hero",
                       "honors": ["五等功"], "region_code": "44"}),
            )
            .await
            .expect_problem(422, "validation_failed");
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, vec!["name", "id_number", "phone", "category", "honors", "region_code"]);
        assert!(!body.to_string().contains(&wrong_check));
        assert!(!body.to_string().contains("1381234"));

        // Only family categories link to a primary beneficiary.
        let soldier = register(&app, &root, person(1, "440303")).await;
        let mut bad_link = person(2, "440303");
        bad_link["primary_beneficiary_id"] = soldier["id"].clone();
        app.post("/api/v1/admin/beneficiaries", Some(&root), bad_link).await.expect_problem(422, "validation_failed");
        let mut spouse = person(3, "440303");
        spouse["category"] = json!("military_family");
        spouse["primary_beneficiary_id"] = soldier["id"].clone();
        spouse["relation"] = json!("配偶");
        let spouse = register(&app, &root, spouse).await;
        assert_eq!((spouse["primary_beneficiary_id"].clone(), spouse["relation"].as_str()), (soldier["id"].clone(), Some("配偶")));
        assert_eq!(total(&app, &root).await, 2);
    }

    async fn offices_see_and_change_only_their_region(app) {
        let root = app.admin_token().await;
        let luohu = register(&app, &root, person(1, "440303")).await;
        register(&app, &root, person(2, "140521")).await;
        let shenzhen = app.staff(&root, "sz.admin", "region_admin", Some("440300"), None).await;
        let qinshui = app.staff(&root, "qs.admin", "region_admin", Some("140521"), None).await;
        let auditor = app.staff(&root, "sz.auditor", "auditor", Some("440300"), None).await;
        let path = format!("/api/v1/admin/beneficiaries/{}", luohu["id"].as_str().unwrap());

        assert_eq!(total(&app, &shenzhen).await, 1);
        assert_eq!(total(&app, &qinshui).await, 1);
        app.get(&path, Some(&qinshui)).await.expect_problem(404, "beneficiary_not_found");
        app.send(app.client.patch(app.url(&path)).bearer_auth(&qinshui).json(&json!({"name": "李四"})))
            .await
            .expect_problem(404, "beneficiary_not_found");
        app.post(&format!("{path}/cards"), Some(&qinshui), json!({"product": "general"}))
            .await
            .expect_problem(404, "beneficiary_not_found");
        app.post("/api/v1/admin/beneficiaries", Some(&shenzhen), person(3, "140521"))
            .await
            .expect_problem(403, "region_out_of_scope");

        // The auditor reads, and changes nothing.
        app.get(&path, Some(&auditor)).await.expect(200);
        app.post("/api/v1/admin/beneficiaries", Some(&auditor), person(4, "440303"))
            .await
            .expect_problem(403, "read_only_role");
        assert_eq!(total(&app, &root).await, 2);
    }

    async fn updates_are_audited_and_the_id_number_is_fixed(app) {
        let root = app.admin_token().await;
        let created = register(&app, &root, person(1, "440303")).await;
        let path = format!("/api/v1/admin/beneficiaries/{}", created["id"].as_str().unwrap());
        let updated = app
            .send(app.client.patch(app.url(&path)).bearer_auth(&root)
                .json(&json!({"phone": "13999998888", "honors": ["二等功", "third_class_merit"]})))
            .await
            .expect(200);
        assert_eq!(updated["phone_masked"], "139****8888");
        assert_eq!(updated["honors"], json!(["second_class_merit", "third_class_merit"]));
        assert_eq!(updated["name"], "张三明");
        app.send(app.client.patch(app.url(&path)).bearer_auth(&root).json(&json!({"id_number": id_number(9)})))
            .await
            .expect_problem(422, "validation_failed");
        let log = app
            .get(&format!("/api/v1/admin/audit-log?entity_type=beneficiary&entity_id={}", created["id"].as_str().unwrap()), Some(&root))
            .await
            .expect(200);
        let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["beneficiary.update", "beneficiary.create"]);
        assert_eq!(log["items"][0]["details"]["fields"], json!(["phone", "honors"]));
        assert!(!log.to_string().contains("13999998888"));
    }

    async fn card_products_and_issuing_cards(app) {
        let root = app.admin_token().await;
        let products = app.get("/api/v1/admin/card-products", Some(&root)).await.expect(200);
        assert_eq!(products["total"].as_i64(), Some(products["items"].as_array().unwrap().len() as i64));
        let codes: Vec<&str> = products["items"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
        for code in ["general", "medical", "grain", "book"] {
            assert!(codes.contains(&code), "{code} seeded");
        }
        assert!(products.to_string().contains("书香优待卡"));
        let region_admin = app.staff(&root, "sz.admin", "region_admin", Some("440300"), None).await;
        let product = json!({"code": "transport", "name": "交通优待卡", "default_valid_years": 3});
        app.post("/api/v1/admin/card-products", Some(&region_admin), product.clone()).await.expect_problem(403, "forbidden");
        app.post("/api/v1/admin/card-products", Some(&root), product.clone()).await.expect(201);
        app.post("/api/v1/admin/card-products", Some(&root), product).await.expect_problem(409, "product_exists");

        let holder = register(&app, &root, person(1, "440303")).await;
        let id = holder["id"].as_str().unwrap();
        let card = issue(&app, &region_admin, id, "general").await;
        let card_no = card["card_no"].as_str().unwrap();
        yongjun::domain::card_no::CardNo::parse(card_no).expect("16 digits with a Luhn check digit");
        assert_eq!((card["status"].as_str(), card["version"].as_i64(), card["activated"].as_bool()), (Some("active"), Some(1), Some(false)));
        assert_eq!(card["activation_code"].as_str().unwrap().len(), 10);
        let issued = chrono::DateTime::parse_from_rfc3339(card["issued_at"].as_str().unwrap()).unwrap();
        let expires = chrono::DateTime::parse_from_rfc3339(card["expires_at"].as_str().unwrap()).unwrap();
        assert!((1825..=1827).contains(&(expires - issued).num_days()), "five years");

        app.post(&format!("/api/v1/admin/beneficiaries/{id}/cards"), Some(&root), json!({"product": "general"}))
            .await
            .expect_problem(409, "card_exists");
        let transport = issue(&app, &root, id, "transport").await;
        let days = (chrono::DateTime::parse_from_rfc3339(transport["expires_at"].as_str().unwrap()).unwrap() - issued).num_days();
        assert!((1095..=1097).contains(&days), "three years: {days}");
        app.post(&format!("/api/v1/admin/beneficiaries/{id}/cards"), Some(&root), json!({"product": "spaceship"}))
            .await
            .expect_problem(422, "validation_failed");

        // Listed, and the activation code is never shown again.
        let listed = app.get(&format!("/api/v1/admin/cards?beneficiary_id={id}"), Some(&root)).await.expect(200);
        assert_eq!(listed["total"], 2);
        assert!(listed["items"][0].get("activation_code").is_none());
        let by_no = app.get(&format!("/api/v1/admin/cards?card_no={card_no}"), Some(&root)).await.expect(200);
        assert_eq!(by_no["items"][0]["id"], card["id"]);
        let qinshui = app.staff(&root, "qs.admin", "region_admin", Some("140521"), None).await;
        assert_eq!(app.get("/api/v1/admin/cards", Some(&qinshui)).await.expect(200)["total"], 0);
        app.get(&format!("/api/v1/admin/cards/{}", card["id"].as_str().unwrap()), Some(&qinshui))
            .await
            .expect_problem(404, "card_not_found");
    }

    async fn the_card_lifecycle_and_reissue(app) {
        let root = app.admin_token().await;
        let holder = register(&app, &root, person(1, "440303")).await;
        let card = issue(&app, &root, holder["id"].as_str().unwrap(), "general").await;
        let path = |action: &str| format!("/api/v1/admin/cards/{}/{action}", card["id"].as_str().unwrap());

        app.post(&path("suspend"), Some(&root), json!({})).await.expect_problem(422, "validation_failed");
        let suspended = app.post(&path("suspend"), Some(&root), json!({"reason": "持卡人报失"})).await.expect(200);
        assert_eq!((suspended["status"].as_str(), suspended["version"].as_i64()), (Some("suspended"), Some(2)));
        let body = app.post(&path("suspend"), Some(&root), json!({"reason": "again"})).await.expect_problem(409, "invalid_transition");
        assert_eq!(body["current_status"], "suspended");
        let reinstated = app.post(&path("reinstate"), Some(&root), json!({"reason": "已找回"})).await.expect(200);
        assert_eq!((reinstated["status"].as_str(), reinstated["version"].as_i64()), (Some("active"), Some(3)));

        let replacement = app.post(&path("reissue"), Some(&root), json!({"reason": "手机更换"})).await.expect(201);
        assert_ne!(replacement["card_no"], card["card_no"]);
        assert_ne!(replacement["activation_code"], card["activation_code"]);
        assert_eq!((replacement["status"].as_str(), replacement["version"].as_i64()), (Some("active"), Some(1)));
        let old = app.get(&format!("/api/v1/admin/cards/{}", card["id"].as_str().unwrap()), Some(&root)).await.expect(200);
        assert_eq!((old["status"].as_str(), old["version"].as_i64()), (Some("revoked"), Some(4)));
        assert_eq!(old["replaced_by"], replacement["id"]);
        app.post(&path("reinstate"), Some(&root), json!({"reason": "x"})).await.expect_problem(409, "invalid_transition");

        let log = app
            .get(&format!("/api/v1/admin/audit-log?entity_type=card&entity_id={}", card["id"].as_str().unwrap()), Some(&root))
            .await
            .expect(200);
        let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["card.reissue", "card.reinstate", "card.suspend", "card.issue"]);
        assert_eq!(log["items"][2]["reason"], "持卡人报失");
        let text = log.to_string();
        assert!(!text.contains(card["card_no"].as_str().unwrap()) && !text.contains(card["activation_code"].as_str().unwrap()));
    }

    async fn holders_activate_once_and_lose_access_when_the_card_changes(app) {
        let root = app.admin_token().await;
        let holder = register(&app, &root, person(1, "440303")).await;
        let card = issue(&app, &root, holder["id"].as_str().unwrap(), "general").await;
        let activation = json!({"card_no": card["card_no"], "activation_code": card["activation_code"]});

        let tokens = app.post("/api/v1/holder/activate", None, activation.clone()).await.expect(200);
        assert_eq!((tokens["token_type"].as_str(), tokens["expires_in"].as_i64()), (Some("Bearer"), Some(3600)));
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        let mine = app.get("/api/v1/holder/card", Some(&access)).await.expect(200);
        assert_eq!(mine["card_no"], card["card_no"]);
        assert_eq!(mine["holder"], json!({"name": "张三明", "category": "veteran", "honors": ["third_class_merit"]}));
        assert_eq!(mine["status"], "active");

        // The code works once.
        app.post("/api/v1/holder/activate", None, activation).await.expect_problem(401, "invalid_activation");
        // A staff token is no holder token, and the other way round.
        app.get("/api/v1/holder/card", Some(&root)).await.expect_problem(401, "unauthenticated");
        app.get("/api/v1/admin/users", Some(&access)).await.expect_problem(401, "unauthenticated");

        // Suspension: the token stops at once, and cannot be refreshed.
        let card_path = format!("/api/v1/admin/cards/{}", card["id"].as_str().unwrap());
        app.post(&format!("{card_path}/suspend"), Some(&root), json!({"reason": "核查身份"})).await.expect(200);
        let body = app.get("/api/v1/holder/card", Some(&access)).await.expect_problem(401, "token_revoked");
        assert_eq!(body["card_status"], "suspended");
        let refresh = json!({"refresh_token": tokens["refresh_token"]});
        app.post("/api/v1/holder/token/refresh", None, refresh.clone()).await.expect_problem(401, "token_revoked");

        // Reinstated: the old access token stays dead (older version); a refresh works.
        app.post(&format!("{card_path}/reinstate"), Some(&root), json!({"reason": "核查无误"})).await.expect(200);
        app.get("/api/v1/holder/card", Some(&access)).await.expect_problem(401, "token_revoked");
        let renewed = app.post("/api/v1/holder/token/refresh", None, refresh.clone()).await.expect(200);
        app.get("/api/v1/holder/card", renewed["access_token"].as_str()).await.expect(200);

        // Revoked: nothing works any more.
        app.post(&format!("{card_path}/revoke"), Some(&root), json!({"reason": "资格取消"})).await.expect(200);
        app.get("/api/v1/holder/card", renewed["access_token"].as_str()).await.expect_problem(401, "token_revoked");
        app.post("/api/v1/holder/token/refresh", None, refresh).await.expect_problem(401, "token_revoked");
        app.post("/api/v1/holder/token/refresh", None, json!({"refresh_token": access})).await.expect_problem(401, "invalid_refresh_token");
    }

    async fn activation_guessing_is_throttled(app) {
        let root = app.admin_token().await;
        let holder = register(&app, &root, person(1, "440303")).await;
        let card = issue(&app, &root, holder["id"].as_str().unwrap(), "general").await;
        for _ in 0..5 {
            app.post("/api/v1/holder/activate", None, json!({"card_no": card["card_no"], "activation_code": "WRONGCODE1"}))
                .await
                .expect_problem(401, "invalid_activation");
        }
        let answer = app
            .post("/api/v1/holder/activate", None, json!({"card_no": card["card_no"], "activation_code": card["activation_code"]}))
            .await;
        assert_eq!(answer.headers.get("retry-after").unwrap(), "900");
        answer.expect_problem(429, "too_many_attempts");
        // Unknown card numbers fail the same way as wrong codes.
        app.post("/api/v1/holder/activate", None, json!({"card_no": "8860000000000000", "activation_code": "X"}))
            .await
            .expect_problem(401, "invalid_activation");
    }

    async fn an_expired_card_reads_expired_and_can_be_replaced(app) {
        let root = app.admin_token().await;
        let holder = register(&app, &root, person(1, "440303")).await;
        let card = issue(&app, &root, holder["id"].as_str().unwrap(), "book").await;
        let tokens = app
            .post("/api/v1/holder/activate", None, json!({"card_no": card["card_no"], "activation_code": card["activation_code"]}))
            .await
            .expect(200);
        {
            use diesel_async::RunQueryDsl;
            let mut pooled = app.state.db.get().await.unwrap();
            let mut conn = pooled.conn();
            let id: yongjun::db::CardId = card["id"].as_str().unwrap().parse().unwrap();
            let past = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(5);
            yongjun::with_conn!(&mut conn, |c| {
                use diesel::{ExpressionMethods, QueryDsl};
                use yongjun::db::schema::cards::dsl;
                diesel::update(dsl::cards.filter(dsl::id.eq(id))).set(dsl::expires_at.eq(past)).execute(c).await.unwrap()
            });
        }
        let read = app.get(&format!("/api/v1/admin/cards/{}", card["id"].as_str().unwrap()), Some(&root)).await.expect(200);
        assert_eq!(read["status"], "expired");
        let body = app.get("/api/v1/holder/card", tokens["access_token"].as_str()).await.expect_problem(401, "token_revoked");
        assert_eq!(body["card_status"], "expired");
        let renewed = issue(&app, &root, holder["id"].as_str().unwrap(), "book").await;
        assert_eq!(renewed["status"], "active");
        let old = app.get(&format!("/api/v1/admin/cards/{}", card["id"].as_str().unwrap()), Some(&root)).await.expect(200);
        assert_eq!(old["status"], "expired");
    }

    async fn csv_import_is_idempotent_and_all_or_nothing(app) {
        let root = app.admin_token().await;
        let rows = |phone_of_2: &str| format!(
            "姓名,身份证号,手机号,类别,荣誉,行政区划\n\
             王一,{},13800000001,退役军人,三等功,440303\n\
             王二,{},{phone_of_2},veteran,,440303\n\
             王三,{},,现役军人,\"一等功、战斗英雄\",440304\n",
            id_number(1), id_number(2), id_number(3));
        let first = upload(&app, &root, "people.csv", rows("13800000002").into_bytes(), None).await.expect(200);
        assert_eq!(
            (first["rows"].as_i64(), first["created"].as_i64(), first["updated"].as_i64(), first["unchanged"].as_i64(), first["stored"].as_bool()),
            (Some(3), Some(3), Some(0), Some(0), Some(true))
        );
        assert_eq!(first["mode"], "all_or_nothing");
        let again = upload(&app, &root, "people.csv", rows("13800000002").into_bytes(), None).await.expect(200);
        assert_eq!((again["created"].as_i64(), again["updated"].as_i64(), again["unchanged"].as_i64()), (Some(0), Some(0), Some(3)));
        let changed = upload(&app, &root, "people.csv", rows("13900000002").into_bytes(), None).await.expect(200);
        assert_eq!((changed["created"].as_i64(), changed["updated"].as_i64(), changed["unchanged"].as_i64()), (Some(0), Some(1), Some(2)));
        assert_eq!(total(&app, &root).await, 3);
        let wang3 = app.get(&format!("/api/v1/admin/beneficiaries?id_number={}", id_number(3)), Some(&root)).await.expect(200);
        assert_eq!(wang3["items"][0]["honors"], json!(["combat_hero", "first_class_merit"]));
        assert_eq!(wang3["items"][0]["category"], "active_duty");

        // One bad row: nothing stored, every bad row reported with its row number.
        let bad = format!(
            "name,id_number,phone,category,region_code\n\
             李一,{},13800000011,veteran,440303\n\
             李二,110105198001019999,13800000012,veteran,440303\n\
             李三,{},12345,pirate,999999\n",
            id_number(11), id_number(13));
        let report = upload(&app, &root, "bad.csv", bad.clone().into_bytes(), None).await.expect(200);
        assert_eq!((report["stored"].as_bool(), report["created"].as_i64(), report["failed_count"].as_i64()), (Some(false), Some(0), Some(2)));
        assert_eq!(report["failed"][0]["row"], 3);
        assert_eq!(report["failed"][0]["errors"][0]["field"], "id_number");
        let fields: Vec<&str> = report["failed"][1]["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, vec!["phone", "category", "region_code"]);
        assert!(!report.to_string().contains("110105198001019999"), "no ID number echoed");
        assert_eq!(total(&app, &root).await, 3, "all_or_nothing stored nothing");

        // Partial: the good row is stored.
        let report = upload(&app, &root, "bad.csv", bad.into_bytes(), Some("partial")).await.expect(200);
        assert_eq!((report["stored"].as_bool(), report["created"].as_i64(), report["failed_count"].as_i64()), (Some(true), Some(1), Some(2)));
        assert_eq!(total(&app, &root).await, 4);

        // A file without the required columns is refused whole.
        let body = upload(&app, &root, "x.csv", b"name,phone\nx,13800000000\n".to_vec(), None)
            .await
            .expect_problem(422, "missing_columns");
        assert_eq!(body["missing_columns"], json!(["id_number/身份证号", "category/类别", "region_code/行政区划"]));
        upload(&app, &root, "x.csv", b"name,id_number,category,region_code\n".to_vec(), Some("sometimes"))
            .await
            .expect_problem(422, "validation_failed");

        let log = app.get("/api/v1/admin/audit-log?entity_type=beneficiary&per_page=100", Some(&root)).await.expect(200);
        let imports = log["items"].as_array().unwrap().iter().filter(|e| e["action"] == "beneficiary.import_create").count();
        assert_eq!(imports, 4);
    }

    async fn xlsx_and_gb18030_files_import_too(app) {
        let root = app.admin_token().await;
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        for (col, header) in ["姓名", "身份证号", "手机号", "类别", "行政区划", "军人身份证号", "关系"].iter().enumerate() {
            sheet.write_string(0, col as u16, *header).unwrap();
        }
        let rows = [
            ["赵一", &id_number(21), "13800000021", "现役军人", "440303", "", ""],
            ["赵二", &id_number(22), "13800000022", "军属", "440303", &id_number(21), "配偶"],
        ];
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                sheet.write_string(r as u32 + 1, c as u16, *value).unwrap();
            }
        }
        // A phone typed as a number, as spreadsheets do.
        sheet.write_number(2, 2, 13800000023.0).unwrap();
        let bytes = workbook.save_to_buffer().unwrap();
        let report = upload(&app, &root, "people.xlsx", bytes, None).await.expect(200);
        assert_eq!((report["created"].as_i64(), report["failed_count"].as_i64()), (Some(2), Some(0)), "{report}");
        let spouse = app.get(&format!("/api/v1/admin/beneficiaries?id_number={}", id_number(22)), Some(&root)).await.expect(200);
        let soldier = app.get(&format!("/api/v1/admin/beneficiaries?id_number={}", id_number(21)), Some(&root)).await.expect(200);
        assert_eq!(spouse["items"][0]["primary_beneficiary_id"], soldier["items"][0]["id"]);
        assert_eq!(spouse["items"][0]["phone_masked"], "138****0023");

        let csv = format!("姓名,身份证号,类别,行政区划\n钱一,{},烈士遗属,140521\n", id_number(31));
        let (gbk, _, _) = encoding_rs::GB18030.encode(&csv);
        let report = upload(&app, &root, "excel.csv", gbk.into_owned(), None).await.expect(200);
        assert_eq!(report["created"], 1, "{report}");
        let qian = app.get(&format!("/api/v1/admin/beneficiaries?id_number={}", id_number(31)), Some(&root)).await.expect(200);
        assert_eq!((qian["items"][0]["name"].as_str(), qian["items"][0]["category"].as_str()), (Some("钱一"), Some("martyr_family")));
    }

    async fn a_region_admin_imports_only_into_its_region(app) {
        let root = app.admin_token().await;
        let shenzhen = app.staff(&root, "sz.admin", "region_admin", Some("440300"), None).await;
        let csv = format!("name,id_number,category,region_code\nA,{},veteran,440303\nB,{},veteran,140521\n", id_number(1), id_number(2));
        let report = upload(&app, &shenzhen, "p.csv", csv.into_bytes(), Some("partial")).await.expect(200);
        assert_eq!((report["created"].as_i64(), report["failed"][0]["row"].as_i64()), (Some(1), Some(3)));
        assert_eq!(report["failed"][0]["errors"][0], json!({"field": "region_code", "message": "is outside your region"}));
    }
}

/// An XLSX workbook with the import's header and `rows`, as rust_xlsxwriter writes it.
fn workbook(rows: &[Vec<String>]) -> rust_xlsxwriter::Workbook {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, header) in ["姓名", "身份证号", "类别", "行政区划"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, value).unwrap();
        }
    }
    workbook
}

fn veteran(n: u32) -> Vec<String> {
    vec![
        format!("孙{n}"),
        id_number(n),
        "退役军人".into(),
        "440303".into(),
    ]
}

/// `bytes` (a workbook) with one more part, `name`, of `size` bytes of `fill`, deflated:
/// a zip bomb when `size` is large.
fn with_part(bytes: &[u8], name: &str, head: &str, fill: u8, size: usize, tail: &str) -> Vec<u8> {
    use std::io::Write;
    let mut source = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..source.len() {
        let part = source.by_index(i).unwrap();
        if part.name().map_or(true, |n| n != name) {
            out.raw_copy_file(part).unwrap();
        }
    }
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(size > u32::MAX as usize / 2);
    out.start_file(name, options).unwrap();
    out.write_all(head.as_bytes()).unwrap();
    let chunk = vec![fill; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len());
        out.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    out.write_all(tail.as_bytes()).unwrap();
    out.finish().unwrap().into_inner()
}

crate::both_backends! {
    async fn an_xlsx_zip_bomb_is_refused_before_it_is_read(app) {
        let root = app.admin_token().await;
        let plain = workbook(&[veteran(41)]).save_to_buffer().unwrap();
        // 300 MiB of shared strings in a file of well under a megabyte.
        let bomb = with_part(&plain, "xl/sharedStrings.xml", "<sst><si><t>", b'a', 300 << 20, "</t></si></sst>");
        assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
        let problem = upload(&app, &root, "bomb.xlsx", bomb, None).await.expect_problem(422, "unreadable_file");
        assert!(problem["detail"].as_str().unwrap().contains("解压后过大"), "{problem}");
        let listed = app.get("/api/v1/admin/beneficiaries", Some(&root)).await.expect(200);
        assert_eq!(listed["total"], 0, "nothing of it was stored");
        // The same workbook without the bomb imports.
        let report = upload(&app, &root, "plain.xlsx", plain, None).await.expect(200);
        assert_eq!(report["created"], 1, "{report}");
    }

    async fn xlsx_cells_are_bounded_and_far_cells_ignored(app) {
        let root = app.admin_token().await;
        let mut long = veteran(43);
        long[0] = "长".repeat(5_000);
        let mut book = workbook(&[veteran(42), long, veteran(44)]);
        // A cell far to the right and far down: read as a whole range, this sheet would
        // be twenty million cells.
        book.worksheet_from_index(0).unwrap().write_string(100_000, 200, "远").unwrap();
        let report = upload(&app, &root, "cells.xlsx", book.save_to_buffer().unwrap(), Some("partial")).await.expect(200);
        assert_eq!((report["created"].as_i64(), report["failed_count"].as_i64()), (Some(2), Some(1)), "{report}");
        assert_eq!(report["failed"][0]["row"], 3, "{report}");

        let mut header = workbook(&[veteran(45)]);
        header.worksheet_from_index(0).unwrap().write_string(0, 5, "表".repeat(5_000)).unwrap();
        let problem = upload(&app, &root, "header.xlsx", header.save_to_buffer().unwrap(), None)
            .await
            .expect_problem(422, "unreadable_file");
        assert!(problem["detail"].as_str().unwrap().contains("表头"), "{problem}");
    }
}
