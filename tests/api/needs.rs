//! Needs and resources (需求清单 · 资源目录) and the joint task list (双清单): the
//! lifecycles, the scoping of a liaison and of a partner, the suggestions and the
//! overdue mark (with a fixed day, `YONGJUN_TODAY`).

use serde_json::{json, Value};

use crate::helpers::*;
use crate::merchants::{activate_merchant, application};

/// The day the app believes it is.
const TODAY: &str = "2027-03-01";

pub async fn spawn_dated_app(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        Options {
            public_notice_days: Some(0),
            workers: Some(2),
            today: Some(TODAY.parse().unwrap()),
            ..Default::default()
        },
    )
    .await
}

fn need(region: &str, category: &str, urgency: &str) -> Value {
    json!({"title": "官兵子女寒假托管", "description": "驻地官兵子女寒假期间需要托管服务",
        "category": category, "region_code": region, "requesting_unit": "驻深某部",
        "beneficiaries_count": 35, "urgency": urgency, "wanted_by": "2027-01-15"})
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

crate::backends_with! {
    spawn_dated_app;

    async fn needs_resources_and_tasks_from_posting_to_done(app) {
        let root = app.admin_token().await;
        let office = app.staff(&root, "n.office", "region_admin", Some("440303"), None).await;
        let liaison = app.staff(&root, "n.liaison", "military_liaison", Some("440303"), None).await;
        let other = app.staff(&root, "n.other", "military_liaison", Some("440304"), None).await;
        let auditor = app.staff(&root, "n.auditor", "auditor", Some("440303"), None).await;

        // A liaison posts in its region only; auditors read only.
        let posted = app.post("/api/v1/needs", Some(&liaison), need("440303", "medical", "emergency")).await.expect(201);
        assert_eq!(posted["status"], "open");
        assert_eq!(posted["created_by"], "n.liaison");
        app.post("/api/v1/needs", Some(&liaison), need("440304", "medical", "routine")).await
            .expect_problem(403, "region_out_of_scope");
        app.post("/api/v1/needs", Some(&auditor), need("440303", "medical", "routine")).await
            .expect_problem(403, "read_only_role");
        app.post("/api/v1/needs", Some(&liaison), json!({"category": "food"})).await
            .expect_problem(422, "validation_failed");
        let need_id = id(&posted);
        app.get(&format!("/api/v1/needs/{need_id}"), Some(&other)).await.expect_problem(404, "need_not_found");
        let listed = app.get("/api/v1/needs", Some(&other)).await.expect(200);
        assert_eq!(listed["total"], 0, "{listed}");
        let listed = app.get("/api/v1/needs", Some(&liaison)).await.expect(200);
        assert_eq!(listed["total"], 1, "{listed}");

        // Resources: a partner records its own, an office one for a partner; each partner
        // sees only its own.
        let shop = activate_merchant(&app, &root, application(1, "440303")).await;
        let rival = activate_merchant(&app, &root, application(2, "440303")).await;
        for (n, merchant) in [(1, &shop), (2, &rival)] {
            app.post(&format!("/api/v1/admin/merchants/{}/staff", id(merchant)), Some(&root),
                json!({"username": format!("n.shop{n}"), "password": "n-shop-password"})).await.expect(201);
        }
        let partner = app.login("n.shop1", "n-shop-password").await;
        let rival_staff = app.login("n.shop2", "n-shop-password").await;
        let resource = |title: &str, region: &str, mode: &str, until: Option<&str>| json!({
            "title": title, "category": "medical", "capacity": "每月义诊一次", "capacity_amount": 1,
            "capacity_unit": "次", "region_code": region, "available_until": until, "mode": mode});
        let city = app.post("/api/v1/merchant/resources", Some(&partner),
            resource("全市义诊", "440300", "emergency", None)).await.expect(201);
        assert_eq!(city["merchant_id"], shop["id"]);
        let own = app.post("/api/v1/merchant/resources", Some(&partner),
            resource("罗湖义诊", "440303", "emergency", None)).await.expect(201);
        let peacetime = app.post("/api/v1/merchant/resources", Some(&partner),
            resource("平时义诊", "440303", "peacetime", None)).await.expect(201);
        // Lapsed (before the app's day) and elsewhere: never suggested.
        app.post("/api/v1/merchant/resources", Some(&partner),
            resource("过期义诊", "440303", "emergency", Some("2027-02-28"))).await.expect(201);
        app.post("/api/v1/merchant/resources", Some(&partner),
            resource("福田义诊", "440304", "emergency", None)).await.expect(201);
        let mut by_office = resource("代录义诊", "440303", "peacetime", None);
        by_office["merchant_id"] = rival["id"].clone();
        let recorded = app.post("/api/v1/admin/resources", Some(&office), by_office.clone()).await.expect(201);
        assert_eq!(recorded["merchant_id"], rival["id"]);
        app.post("/api/v1/admin/resources", Some(&liaison), by_office).await.expect_problem(403, "forbidden");
        let mine = app.get("/api/v1/merchant/resources", Some(&rival_staff)).await.expect(200);
        assert_eq!(mine["total"], 1, "{mine}");
        assert_eq!(mine["items"][0]["id"], recorded["id"]);
        app.get("/api/v1/resources", Some(&partner)).await.expect_problem(403, "forbidden");
        let directory = app.get("/api/v1/resources", Some(&other)).await.expect(200);
        assert_eq!(directory["total"], 1, "a liaison sees its region's: {directory}");

        // Suggestions: same category, serving the need's region, available, best first;
        // an emergency need shows the roster of its region.
        let detail = app.get(&format!("/api/v1/needs/{need_id}"), Some(&liaison)).await.expect(200);
        let titles: Vec<&str> = detail["suggestions"].as_array().unwrap().iter()
            .map(|s| s["title"].as_str().unwrap()).collect();
        assert_eq!(titles[..2], ["罗湖义诊", "全市义诊"], "{detail}");
        assert_eq!(titles.len(), 4, "{detail}");
        assert!(titles[2..].contains(&"平时义诊") && titles[2..].contains(&"代录义诊"), "{detail}");
        assert!(detail["emergency_roster"].is_array(), "{detail}");
        let _ = (&own, &peacetime);

        // The task: the need becomes matched, then in progress, then done.
        let task = app.post("/api/v1/admin/tasks", Some(&office), json!({"need_id": need_id,
            "owner_unit": "罗湖区卫健局", "owner_user": "n.office", "measures": "组织义诊进军营",
            "deadline": "2027-03-31", "merchant_id": shop["id"], "publish": true})).await.expect(201);
        assert_eq!(task["direction"], "locality_for_troops");
        assert_eq!(task["overdue"], false);
        let task_id = id(&task);
        app.post("/api/v1/admin/tasks", Some(&liaison), json!({"need_id": need_id})).await
            .expect_problem(403, "forbidden");
        app.post("/api/v1/admin/tasks", Some(&office), json!({"owner_unit": "x", "owner_user": "nobody",
            "measures": "x", "deadline": "2027-03-31"})).await.expect_problem(422, "validation_failed");
        let matched = app.get(&format!("/api/v1/needs/{need_id}"), Some(&liaison)).await.expect(200);
        assert_eq!(matched["status"], "matched");
        // The owner must follow the task: not a partner's account, nor an office elsewhere.
        app.post(&format!("/api/v1/admin/merchants/{}/staff", id(&shop)), Some(&root),
            json!({"username": "n.till", "password": "n-till-password"})).await.expect(201);
        app.staff(&root, "n.futian", "region_admin", Some("440304"), None).await;
        for owner in ["n.till", "n.futian"] {
            let refused = app.post("/api/v1/admin/tasks", Some(&office), json!({"need_id": need_id,
                "owner_unit": "罗湖区卫健局", "owner_user": owner, "measures": "组织义诊进军营",
                "deadline": "2027-03-31"})).await.expect_problem(422, "validation_failed");
            assert!(refused.to_string().contains("owner_user"), "{refused}");
        }
        // Nor is the need closed while its task is under way.
        app.post(&format!("/api/v1/needs/{need_id}/status"), Some(&liaison),
            json!({"status": "closed", "reason": "部队已自行解决"})).await.expect_problem(409, "invalid_transition");
        app.post(&format!("/api/v1/admin/tasks/{task_id}/notes"), Some(&office),
            json!({"body": "已联系医院", "attachments": ["方案.pdf"]})).await.expect(201);
        app.post(&format!("/api/v1/admin/tasks/{task_id}/complete"), Some(&office), json!({})).await
            .expect_problem(422, "validation_failed");
        let started = app.post(&format!("/api/v1/admin/tasks/{task_id}/status"), Some(&office),
            json!({"status": "in_progress"})).await.expect(200);
        assert_eq!(started["status"], "in_progress");
        app.post(&format!("/api/v1/admin/tasks/{task_id}/status"), Some(&office),
            json!({"status": "open"})).await.expect_problem(409, "invalid_transition");
        let done = app.post(&format!("/api/v1/admin/tasks/{task_id}/complete"), Some(&office),
            json!({"evidence": "义诊已完成，服务官兵 35 人", "attachments": ["照片.jpg"]})).await.expect(200);
        assert_eq!(done["status"], "done");
        let kinds: Vec<&str> = done["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["note", "status", "completion"], "{done}");
        assert_eq!(done["events"][2]["attachments"], json!(["照片.jpg"]));
        let met = app.get(&format!("/api/v1/needs/{need_id}"), Some(&liaison)).await.expect(200);
        assert_eq!(met["status"], "done");
        app.post(&format!("/api/v1/admin/tasks/{task_id}/notes"), Some(&office),
            json!({"body": "补记"})).await.expect_problem(409, "invalid_transition");

        // Overdue: the day after the deadline (the app's day is 2027-03-01), not on it.
        let second = |deadline: &str| json!({"direction": "troops_for_locality", "title": "助力春耕",
            "region_code": "440303", "owner_unit": "驻深某部", "owner_user": "n.liaison",
            "measures": "出动兵力协助春耕", "deadline": deadline});
        let late = app.post("/api/v1/admin/tasks", Some(&office), second("2027-02-28")).await.expect(201);
        assert_eq!(late["overdue"], true);
        let due = app.post("/api/v1/admin/tasks", Some(&office), second("2027-03-01")).await.expect(201);
        assert_eq!(due["overdue"], false);
        let overdue = app.get("/api/v1/admin/tasks?overdue=true", Some(&office)).await.expect(200);
        assert_eq!(overdue["total"], 1, "{overdue}");
        assert_eq!(overdue["items"][0]["id"], late["id"]);
        let own = app.get("/api/v1/admin/tasks?mine=true", Some(&liaison)).await.expect(200);
        assert_eq!(own["total"], 2, "{own}");
        let elsewhere = app.get("/api/v1/admin/tasks", Some(&other)).await.expect(200);
        assert_eq!(elsewhere["total"], 0, "{elsewhere}");
        app.post(&format!("/api/v1/admin/tasks/{}/status", id(&late)), Some(&office),
            json!({"status": "closed"})).await.expect_problem(422, "validation_failed");
        let closed = app.post(&format!("/api/v1/admin/tasks/{}/status", id(&late)), Some(&office),
            json!({"status": "closed", "reason": "天气原因取消"})).await.expect(200);
        assert_eq!(closed["overdue"], false);

        // The year's projects: only the published task, publicly.
        let projects = app.get("/api/v1/projects?year=2027&region=440300", None).await.expect(200);
        assert_eq!(projects["total"], 1, "{projects}");
        assert_eq!(projects["items"][0]["status"], "done");
        assert!(projects["items"][0].get("owner_user").is_none(), "{projects}");
        let none = app.get("/api/v1/projects?year=2026", None).await.expect(200);
        assert_eq!(none["total"], 0, "{none}");

        // Each change is audited.
        let log = app.get("/api/v1/admin/audit-log?per_page=100", Some(&root)).await.expect(200);
        let actions: Vec<&str> = log["items"].as_array().unwrap().iter()
            .filter_map(|e| e["action"].as_str()).collect();
        for action in ["need.create", "need.status", "resource.create", "task.create", "task.note",
            "task.status", "task.complete"] {
            assert!(actions.contains(&action), "{action} missing: {actions:?}");
        }
    }

    async fn the_ledger_export_row_by_row_and_cell_by_cell(app) {
        let root = app.admin_token().await;
        let office = app.staff(&root, "l.office", "region_admin", Some("440303"), None).await;
        let liaison = app.staff(&root, "l.liaison", "military_liaison", Some("440303"), None).await;
        app.staff(&root, "l.other", "region_admin", Some("440304"), None).await;
        let task = |title: &str, region: &str, owner: &str, deadline: &str, publish: bool| json!({
            "direction": "troops_for_locality", "title": title, "region_code": region,
            "owner_unit": "驻深某部", "owner_user": owner, "measures": "出动兵力协助春耕",
            "deadline": deadline, "publish": publish});
        // Overdue (the app's day is 2027-03-01), with a progress note; then done in time,
        // published; and one of another district, which this office does not see.
        let late = app.post("/api/v1/admin/tasks", Some(&office),
            task("助力春耕", "440303", "l.office", "2027-02-28", false)).await.expect(201);
        app.post(&format!("/api/v1/admin/tasks/{}/notes", id(&late)), Some(&office),
            json!({"body": "已协调农机", "attachments": ["方案.pdf", "名单.xlsx"]})).await.expect(201);
        let done = app.post("/api/v1/admin/tasks", Some(&office),
            task("清理河道", "440303", "l.liaison", "2027-03-31", true)).await.expect(201);
        app.post(&format!("/api/v1/admin/tasks/{}/status", id(&done)), Some(&office),
            json!({"status": "in_progress"})).await.expect(200);
        app.post(&format!("/api/v1/admin/tasks/{}/complete", id(&done)), Some(&office),
            json!({"evidence": "河道清理完毕"})).await.expect(200);
        app.post("/api/v1/admin/tasks", Some(&root),
            task("修缮校舍", "440304", "l.other", "2027-04-30", false)).await.expect(201);

        let (status, headers, body) = crate::exports::download(&app,
            "/api/v1/admin/exports/tasks?format=csv", &office).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(disposition.contains("%E4%BB%BB%E5%8A%A1%E5%8F%B0%E8%B4%A6"), "{disposition}"); // 任务台账
        let rows = crate::exports::csv_rows(&body);
        assert_eq!(rows[0], ["清单", "任务名称", "行政区划代码", "所在地区", "责任单位", "责任人", "措施",
            "完成时限", "状态", "是否逾期", "开始时间", "完成时间", "进展情况", "办结佐证", "关闭原因",
            "年度项目", "登记时间", "任务编号"]);
        assert_eq!(rows.len(), 3, "{rows:?}");
        let (first, second) = (&rows[1], &rows[2]);
        assert_eq!(first[..10], ["部队为地方办实事", "助力春耕", "440303", "罗湖区", "驻深某部", "l.office",
            "出动兵力协助春耕", "2027-02-28", "未开始", "是"], "{first:?}");
        assert_eq!(first[10..12], ["", ""]);
        let progress = &first[12];
        assert!(progress.ends_with(" 已协调农机（附件：方案.pdf、名单.xlsx）") && progress.len() > 10, "{progress}");
        assert!(progress[..10].parse::<chrono::NaiveDate>().is_ok(), "{progress}");
        assert_eq!(first[13..16], ["", "", "否"]);
        assert_eq!(first[17], id(&late));
        assert_eq!(second[..10], ["部队为地方办实事", "清理河道", "440303", "罗湖区", "驻深某部", "l.liaison",
            "出动兵力协助春耕", "2027-03-31", "已完成", "否"], "{second:?}");
        assert!(!second[10].is_empty() && !second[11].is_empty(), "{second:?}");
        assert_eq!(second[12..16], ["", "河道清理完毕", "", "是"]);
        assert_eq!(second[17], id(&done));

        // Excel: the same rows in a sheet named 任务台账.
        let (status, _, body) = crate::exports::download(&app,
            "/api/v1/admin/exports/tasks?format=xlsx&region=440303", &office).await;
        assert_eq!(status, 200);
        use calamine::{Data, Reader};
        let mut book = crate::exports::xlsx(body);
        let sheet = book.worksheet_range("任务台账").unwrap();
        assert_eq!(sheet.height(), 3);
        assert_eq!(sheet.get((0, 12)), Some(&Data::String("进展情况".into())));
        assert_eq!(sheet.get((1, 1)), Some(&Data::String("助力春耕".into())));
        assert_eq!(sheet.get((1, 9)), Some(&Data::String("是".into())));
        assert_eq!(sheet.get((2, 8)), Some(&Data::String("已完成".into())));
        assert_eq!(sheet.get((2, 13)), Some(&Data::String("河道清理完毕".into())));
        assert!(matches!(sheet.get((1, 7)), Some(Data::DateTime(_)) | Some(Data::String(_))), "{:?}", sheet.get((1, 7)));

        // The whole service sees the third; a liaison may not export.
        let (_, _, body) = crate::exports::download(&app, "/api/v1/admin/exports/tasks?format=csv", &root).await;
        assert_eq!(crate::exports::csv_rows(&body).len(), 4);
        let (status, _, _) = crate::exports::download(&app, "/api/v1/admin/exports/tasks?format=csv", &liaison).await;
        assert_eq!(status, 403);
    }

    async fn the_figures_of_the_lists_by_region_and_category(app) {
        let root = app.admin_token().await;
        let office = app.staff(&root, "f.office", "region_admin", Some("440303"), None).await;
        let posted = |region: &str, category: &str| {
            let mut body = need(region, category, "routine");
            body["wanted_by"] = json!("2027-01-31");
            body
        };
        // A: medical in Luohu, taken up, done in 4.5 days by its task's deadline.
        let a = id(&app.post("/api/v1/needs", Some(&office), posted("440303", "medical")).await.expect(201));
        // B: education in Luohu, taken up; its task is overdue (the app's day is 2027-03-01).
        let b = id(&app.post("/api/v1/needs", Some(&office), posted("440303", "education")).await.expect(201));
        // C: medical in Futian, still open; D: posted last year, outside the dates.
        let c = id(&app.post("/api/v1/needs", Some(&root), posted("440304", "medical")).await.expect(201));
        let d = id(&app.post("/api/v1/needs", Some(&root), posted("440304", "medical")).await.expect(201));
        let take_up = |need: &str, deadline: &str| json!({"need_id": need, "owner_unit": "罗湖区卫健局",
            "owner_user": "f.office", "measures": "组织义诊进军营", "deadline": deadline});
        let task_a = id(&app.post("/api/v1/admin/tasks", Some(&office), take_up(&a, "2027-02-10")).await.expect(201));
        app.post(&format!("/api/v1/admin/tasks/{task_a}/status"), Some(&office),
            json!({"status": "in_progress"})).await.expect(200);
        app.post(&format!("/api/v1/admin/tasks/{task_a}/complete"), Some(&office),
            json!({"evidence": "义诊已完成"})).await.expect(200);
        app.post("/api/v1/admin/tasks", Some(&office), take_up(&b, "2027-02-20")).await.expect(201);
        // The troops' task for the locality in Futian, overdue: no category.
        app.staff(&root, "f.futian", "region_admin", Some("440304"), None).await;
        app.post("/api/v1/admin/tasks", Some(&root), json!({"direction": "troops_for_locality",
            "title": "助力春耕", "region_code": "440304", "owner_unit": "驻深某部", "owner_user": "f.futian",
            "measures": "出动兵力协助春耕", "deadline": "2027-02-01"})).await.expect(201);
        backdate_need(&app, &a, "2027-01-01T09:00:00", Some("2027-01-05T21:00:00")).await;
        backdate_need(&app, &b, "2027-01-10T09:00:00", None).await;
        backdate_need(&app, &c, "2027-02-01T09:00:00", None).await;
        backdate_need(&app, &d, "2026-12-20T09:00:00", None).await;

        let stats = app.get("/api/v1/admin/stats?region=440300&from=2027-01-01&to=2027-03-01", Some(&root))
            .await.expect(200);
        let n = &stats["needs"];
        assert_eq!((n["opened"].as_i64(), n["done"].as_i64(), n["overdue"].as_i64()), (Some(3), Some(1), Some(2)), "{n}");
        assert_eq!(n["median_days_to_done"], json!(4.5), "{n}");
        assert_eq!((n["done_with_deadline"].as_i64(), n["done_by_deadline"].as_i64()), (Some(1), Some(1)), "{n}");
        assert_eq!(n["done_by_deadline_percent"], json!(100.0), "{n}");
        let group = |list: &str, key: &str| n[list].as_array().unwrap().iter()
            .find(|g| g["key"] == key).cloned().unwrap_or_else(|| panic!("no {key} in {n}"));
        let luohu = group("by_region", "440303");
        assert_eq!(luohu["name"], "罗湖区");
        assert_eq!((luohu["opened"].as_i64(), luohu["done"].as_i64(), luohu["overdue"].as_i64()), (Some(2), Some(1), Some(1)));
        let futian = group("by_region", "440304");
        assert_eq!((futian["opened"].as_i64(), futian["done"].as_i64(), futian["overdue"].as_i64()), (Some(1), Some(0), Some(1)));
        assert_eq!(futian["median_days_to_done"], Value::Null);
        let medical = group("by_category", "medical");
        assert_eq!((medical["opened"].as_i64(), medical["done"].as_i64(), medical["overdue"].as_i64()), (Some(2), Some(1), Some(0)));
        let education = group("by_category", "education");
        assert_eq!((education["opened"].as_i64(), education["overdue"].as_i64()), (Some(1), Some(1)));
        assert_eq!(n["by_category"].as_array().unwrap().len(), 2, "{n}");
        // The overdue count is the overdue list's.
        let listed = app.get("/api/v1/admin/tasks?overdue=true&region=440300", Some(&root)).await.expect(200);
        assert_eq!(listed["total"], 2, "{listed}");

        // An office counts its own district only.
        let own = app.get("/api/v1/admin/stats?from=2027-01-01&to=2027-03-01", Some(&office)).await.expect(200);
        assert_eq!((own["needs"]["opened"].as_i64(), own["needs"]["overdue"].as_i64()), (Some(2), Some(1)), "{own}");

        // The stats export carries them: the summary and a sheet by category, in Chinese.
        use calamine::{Data, Reader};
        let (status, _, body) = crate::exports::download(&app,
            "/api/v1/admin/exports/stats?format=xlsx&region=440300&from=2027-01-01&to=2027-03-01", &root).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let mut book = crate::exports::xlsx(body);
        let summary = book.worksheet_range("概况").unwrap();
        let value = |label: &str| summary.rows().find(|r| r[0] == Data::String(label.into()))
            .map(|r| r[1].clone()).unwrap_or_else(|| panic!("no {label}"));
        assert_eq!(value("新增需求"), Data::Float(3.0));
        assert_eq!(value("完成用时中位数（天）"), Data::Float(4.5));
        assert_eq!(value("逾期任务"), Data::Float(2.0));
        let sheet = book.worksheet_range("需求按类别").unwrap();
        assert_eq!(sheet.get((0, 0)), Some(&Data::String("需求类别".into())));
        let medical = sheet.rows().find(|r| r[0] == Data::String("医疗".into())).expect("no 医疗 row");
        assert_eq!(medical[1..4], [Data::Float(2.0), Data::Float(1.0), Data::Float(4.5)]);
        assert_eq!(medical[7], Data::Float(0.0));
    }
}

/// Moves a need's posting (and its completion) to these China times, as if made then.
async fn backdate_need(app: &TestApp, id: &str, posted: &str, done: Option<&str>) {
    use diesel::sql_types::{Nullable, Text, Timestamp};
    use diesel_async::RunQueryDsl;
    let utc =
        |china: &str| china.parse::<chrono::NaiveDateTime>().unwrap() - chrono::Duration::hours(8);
    let sql = match app.backend {
        Backend::Postgres => "UPDATE needs SET created_at = $1, done_at = COALESCE($2, done_at) WHERE CAST(id AS TEXT) = $3",
        Backend::Sqlite => "UPDATE needs SET created_at = ?, done_at = COALESCE(?, done_at) WHERE CAST(id AS TEXT) = ?",
    };
    let mut pooled = app.state.db.get().await.unwrap();
    let mut conn = pooled.conn();
    let n = yongjun::with_conn!(&mut conn, |c| diesel::sql_query(sql)
        .bind::<Timestamp, _>(utc(posted))
        .bind::<Nullable<Timestamp>, _>(done.map(utc))
        .bind::<Text, _>(id)
        .execute(c)
        .await
        .unwrap());
    assert_eq!(n, 1);
}
