//! The console's pages for the needs, the resources and the joint task list (issue 16),
//! in a real browser: a liaison posts a need that an office takes up, follows and
//! completes; a partner's resource is suggested on a matching need; an overdue task is
//! marked 逾期 by the day the server believes it is. The data a flow starts from is made
//! through the API; everything the flow is about is done in the pages, and checked
//! through the API afterwards.

use fantoccini::Locator;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::console_flows::{choose, sign_in, sign_out};
use crate::helpers::*;
use crate::merchants::{activate_merchant, application};
use crate::needs::spawn_dated_app;

/// Waits for the success message, then closes it (so the next one is a new one).
async fn message_ok(b: &Browser) {
    b.wait_for("#message", "@data-kind", |k| k == "ok").await;
    b.click("#message .close").await;
}

/// The `data-nav` keys of the navigation, in order.
async fn nav_keys(b: &Browser) -> Vec<String> {
    b.find("#nav a").await;
    let mut keys = Vec::new();
    for a in b.client.find_all(Locator::Css("#nav a")).await.unwrap() {
        keys.push(a.attr("data-nav").await.unwrap().unwrap_or_default());
    }
    keys
}

/// How many elements `css` names now.
async fn count(b: &Browser, css: &str) -> usize {
    b.client.find_all(Locator::Css(css)).await.unwrap().len()
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

/// The audit log's actions on one entity, oldest first, with their actors.
async fn audit_of(app: &TestApp, token: &str, kind: &str, entity: &str) -> Vec<(String, String)> {
    let log = app
        .get(
            &format!("/api/v1/admin/audit-log?entity_type={kind}&entity_id={entity}&per_page=100"),
            Some(token),
        )
        .await
        .expect(200);
    let mut entries: Vec<(String, String)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    entries.reverse();
    entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_liaisons_need_is_taken_up_followed_and_completed_in_the_console() {
    let app = spawn_dated_app(Backend::Sqlite).await;
    let root = app.admin_token().await;
    let office = app
        .staff(&root, "c.office", "region_admin", Some("440303"), None)
        .await;
    let liaison = app
        .staff(&root, "c.liaison", "military_liaison", Some("440303"), None)
        .await;
    let base = app.address.clone();
    let b = &Browser::start(false).await;
    let mut need_id = String::new();
    let mut task_id = String::new();
    b.check("lists-need-to-done", async {
        // The liaison sees only what it may use and lands on the needs.
        sign_in(b, &base, "c.liaison", "c.liaison-password").await;
        assert_eq!(nav_keys(b).await, ["needs", "resources", "tasks"]);
        b.find(".page[data-page=\"needs\"]").await;
        b.click("#need-form-box summary").await;
        b.fill("#need-title", "官兵子女寒假托管").await;
        b.fill("#need-unit", "驻深某部").await;
        b.fill("#need-description", "驻地官兵子女寒假期间需要托管服务")
            .await;
        choose(b, "#need-category", "education").await;
        choose(b, "#need-urgency", "urgent").await;
        b.fill("#need-count", "35").await;
        choose(b, "#need-wanted-by", "2027-03-20").await;
        b.click("#need-submit").await;
        message_ok(b).await;
        b.wait_for("#view tbody", "", |t| t.contains("官兵子女寒假托管"))
            .await;
        let listed = app.get("/api/v1/needs", Some(&liaison)).await.expect(200);
        assert_eq!(listed["total"], 1, "{listed}");
        need_id = id(&listed["items"][0]);
        b.wait_for(&format!("tr[data-id=\"{need_id}\"]"), "", |t| {
            t.contains("待对接") && t.contains("紧急") && t.contains("教育")
        })
        .await;
        // Its detail: no taking up for a liaison (only offices do).
        b.click(&format!("tr[data-id=\"{need_id}\"]")).await;
        b.find("#suggestions").await;
        b.find("#need-status-form").await;
        b.picture("liaison-need").await;
        assert_eq!(
            count(b, "#take-up-form").await,
            0,
            "a liaison may not take up"
        );
        sign_out(b).await;

        // The office takes it up as a task with an owner and a deadline.
        sign_in(b, &base, "c.office", "c.office-password").await;
        let keys = nav_keys(b).await;
        for key in ["needs", "resources", "tasks", "exports"] {
            assert!(keys.iter().any(|k| k == key), "{key} missing: {keys:?}");
        }
        b.click("a[data-nav=\"needs\"]").await;
        b.click(&format!("tr[data-id=\"{need_id}\"]")).await;
        b.fill("#task-owner-unit", "罗湖区教育局").await;
        b.fill("#task-owner-user", "c.office").await;
        b.fill("#task-measures", "协调托育中心开设寒假托管班").await;
        choose(b, "#task-deadline", "2027-03-31").await;
        b.click("#take-up-submit").await;
        message_ok(b).await;
        b.wait_for("#task-status", "@data-status", |s| s == "open")
            .await;
        // Started, a progress note with two attachments, then completed with evidence.
        choose(b, "#task-next-status", "in_progress").await;
        b.click("#task-status-submit").await;
        message_ok(b).await;
        b.wait_for("#task-status", "@data-status", |s| s == "in_progress")
            .await;
        b.fill("#note-body", "已与托育中心签订协议").await;
        b.fill("#note-attachments", "托管协议.pdf\n学员名单.xlsx")
            .await;
        b.click("#note-submit").await;
        message_ok(b).await;
        b.wait_for("#task-events", "", |t| {
            t.contains("已与托育中心签订协议") && t.contains("托管协议.pdf、学员名单.xlsx")
        })
        .await;
        b.fill("#complete-evidence", "托管班已开班，35 名官兵子女入班")
            .await;
        b.fill("#complete-attachments", "开班照片.jpg").await;
        b.click("#complete-submit").await;
        message_ok(b).await;
        b.wait_for("#task-status", "@data-status", |s| s == "done")
            .await;
        b.picture("office-task").await;
        assert_eq!(
            count(b, "#note-form").await,
            0,
            "a finished task takes no notes"
        );
        task_id = b
            .client
            .current_url()
            .await
            .unwrap()
            .fragment()
            .unwrap()
            .trim_start_matches("/tasks/")
            .to_owned();
        // The need shows done.
        b.click("#task-need").await;
        b.wait_for("#need-status", "@data-status", |s| s == "done")
            .await;
        b.wait_for("#need-tasks", "", |t| t.contains("已完成"))
            .await;
        assert_eq!(
            count(b, "#take-up-form").await,
            0,
            "a done need is not taken up again"
        );
    })
    .await;

    let need = app
        .get(&format!("/api/v1/needs/{need_id}"), Some(&liaison))
        .await
        .expect(200);
    assert_eq!(need["status"], "done", "{need}");
    assert_eq!(need["created_by"], "c.liaison");
    assert_eq!(need["urgency"], "urgent");
    assert_eq!(need["category"], "education");
    assert_eq!(need["region_code"], "440303");
    assert_eq!(need["beneficiaries_count"], 35);
    assert_eq!(need["wanted_by"], "2027-03-20");
    let task = app
        .get(&format!("/api/v1/admin/tasks/{task_id}"), Some(&office))
        .await
        .expect(200);
    assert_eq!(task["need_id"], need_id.as_str(), "{task}");
    assert_eq!(task["direction"], "locality_for_troops");
    assert_eq!(task["owner_unit"], "罗湖区教育局");
    assert_eq!(task["owner_user"], "c.office");
    assert_eq!(task["deadline"], "2027-03-31");
    assert_eq!(task["status"], "done");
    assert_eq!(task["evidence"], "托管班已开班，35 名官兵子女入班");
    let events: Vec<(&str, &Value, &str)> = task["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                &e["attachments"],
                e["author"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("status", &json!([]), "c.office"),
            (
                "note",
                &json!(["托管协议.pdf", "学员名单.xlsx"]),
                "c.office"
            ),
            ("completion", &json!(["开班照片.jpg"]), "c.office"),
        ],
        "{task}"
    );
    assert_eq!(
        audit_of(&app, &root, "task", &task_id).await,
        [
            ("task.create".to_owned(), "c.office".to_owned()),
            ("task.status".to_owned(), "c.office".to_owned()),
            ("task.note".to_owned(), "c.office".to_owned()),
            ("task.complete".to_owned(), "c.office".to_owned()),
        ]
    );
    let need_log = audit_of(&app, &root, "need", &need_id).await;
    assert_eq!(
        need_log[0],
        ("need.create".to_owned(), "c.liaison".to_owned())
    );
    assert_eq!(
        need_log.len(),
        4,
        "created, matched, in progress, done: {need_log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partners_resource_is_suggested_on_a_matching_need() {
    let app = spawn_dated_app(Backend::Sqlite).await;
    let root = app.admin_token().await;
    app.staff(&root, "c.office", "region_admin", Some("440303"), None)
        .await;
    let liaison = app
        .staff(&root, "c.liaison", "military_liaison", Some("440303"), None)
        .await;
    let shop = activate_merchant(&app, &root, application(1, "440303")).await;
    let rival = activate_merchant(&app, &root, application(2, "440303")).await;
    app.post(
        &format!("/api/v1/admin/merchants/{}/staff", id(&shop)),
        Some(&root),
        json!({"username": "c.shop", "password": "c-shop-password"}),
    )
    .await
    .expect(201);
    let partner = app.login("c.shop", "c-shop-password").await;
    // An emergency medical need and a need of another kind.
    let need = |title: &str, category: &str, urgency: &str| {
        json!({"title": title, "description": "驻训期间的保障需求", "category": category, "region_code": "440303",
            "requesting_unit": "驻深某部", "beneficiaries_count": 120, "urgency": urgency})
    };
    let medical = app
        .post(
            "/api/v1/needs",
            Some(&liaison),
            need("野外驻训医疗保障", "medical", "emergency"),
        )
        .await
        .expect(201);
    let lessons = app
        .post(
            "/api/v1/needs",
            Some(&liaison),
            need("官兵学历教育", "education", "routine"),
        )
        .await
        .expect(201);
    let base = app.address.clone();
    let b = &Browser::start(false).await;
    b.check("lists-resource-suggested", async {
        sign_in(b, &base, "c.shop", "c-shop-password").await;
        let keys = nav_keys(b).await;
        assert!(keys.iter().any(|k| k == "my-resources"), "{keys:?}");
        assert!(
            !keys.iter().any(|k| k == "needs" || k == "resources"),
            "{keys:?}"
        );
        b.click("a[data-nav=\"my-resources\"]").await;
        b.find("#view .empty").await;
        b.fill("#resource-title", "义诊进军营").await;
        choose(b, "#resource-category", "medical").await;
        b.fill("#resource-capacity", "每月派出医疗队义诊").await;
        b.fill("#resource-amount", "2").await;
        b.fill("#resource-unit", "次").await;
        b.fill("#resource-region", "440303").await;
        choose(b, "#resource-mode", "emergency").await;
        b.click("#resource-submit").await;
        message_ok(b).await;
        b.wait_for("#view tbody", "", |t| {
            t.contains("义诊进军营") && t.contains("急时战时")
        })
        .await;
        sign_out(b).await;

        // The office sees it suggested on the medical need, beside the roster.
        sign_in(b, &base, "c.office", "c.office-password").await;
        b.click("a[data-nav=\"needs\"]").await;
        b.click(&format!("tr[data-id=\"{}\"]", id(&medical))).await;
        b.wait_for("#suggestions", "", |t| {
            t.contains("义诊进军营") && t.contains("拥军商户1号")
        })
        .await;
        b.wait_for("#emergency-roster", "", |t| {
            t.contains("拥军商户1号") && t.contains("医疗救护")
        })
        .await;
        b.picture("office-need-suggestions").await;
        // Not on a need of another category.
        b.click("a[data-nav=\"needs\"]").await;
        b.click(&format!("tr[data-id=\"{}\"]", id(&lessons))).await;
        b.wait_for("#suggestions", "", |t| t.contains("暂无匹配的资源"))
            .await;
        assert_eq!(count(b, "#emergency-roster").await, 0);
        // The office records one for the other partner in the directory.
        b.click("a[data-nav=\"resources\"]").await;
        b.wait_for("#view tbody", "", |t| t.contains("义诊进军营"))
            .await;
        b.click("#resource-form-box summary").await;
        choose(b, "#resource-merchant", &id(&rival)).await;
        b.fill("#resource-title", "应急药品储备").await;
        choose(b, "#resource-category", "medical").await;
        b.fill("#resource-capacity", "常用药品 500 份").await;
        b.click("#resource-submit").await;
        message_ok(b).await;
        b.wait_for("#view tbody", "", |t| {
            t.contains("应急药品储备") && t.contains("拥军商户2号")
        })
        .await;
    })
    .await;

    let own = app
        .get("/api/v1/merchant/resources", Some(&partner))
        .await
        .expect(200);
    assert_eq!(own["total"], 1, "{own}");
    let r = &own["items"][0];
    assert_eq!(r["title"], "义诊进军营");
    assert_eq!(r["merchant_id"], shop["id"]);
    assert_eq!(r["category"], "medical");
    assert_eq!(r["mode"], "emergency");
    assert_eq!(r["capacity_amount"], 2);
    assert_eq!(r["capacity_unit"], "次");
    assert_eq!(r["region_code"], "440303");
    let detail = app
        .get(&format!("/api/v1/needs/{}", id(&medical)), Some(&liaison))
        .await
        .expect(200);
    let titles: Vec<&str> = detail["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["义诊进军营", "应急药品储备"], "{detail}");
    let directory = app
        .get("/api/v1/resources", Some(&liaison))
        .await
        .expect(200);
    assert_eq!(directory["total"], 2, "{directory}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_task_is_marked_by_the_servers_day() {
    // The server believes it is 2027-03-01; the browser's clock says otherwise.
    let app = spawn_dated_app(Backend::Sqlite).await;
    let root = app.admin_token().await;
    let office = app
        .staff(&root, "c.office", "region_admin", Some("440303"), None)
        .await;
    let task = |title: &str, deadline: &str| {
        json!({"direction": "troops_for_locality", "title": title, "region_code": "440303",
            "owner_unit": "驻深某部", "owner_user": "c.office", "measures": "出动兵力协助",
            "deadline": deadline})
    };
    let late = app
        .post(
            "/api/v1/admin/tasks",
            Some(&office),
            task("助力春耕", "2027-02-28"),
        )
        .await
        .expect(201);
    let due = app
        .post(
            "/api/v1/admin/tasks",
            Some(&office),
            task("清理河道", "2027-03-01"),
        )
        .await
        .expect(201);
    let finished = app
        .post(
            "/api/v1/admin/tasks",
            Some(&office),
            task("修缮校舍", "2027-02-01"),
        )
        .await
        .expect(201);
    app.post(
        &format!("/api/v1/admin/tasks/{}/complete", id(&finished)),
        Some(&office),
        json!({"evidence": "校舍已修缮"}),
    )
    .await
    .expect(200);
    let base = app.address.clone();
    let b = &Browser::start(false).await;
    let mut typed = String::new();
    b.check("lists-overdue", async {
        sign_in(b, &base, "c.office", "c.office-password").await;
        b.click("a[data-nav=\"tasks\"]").await;
        let row = |t: &Value| format!("tr[data-id=\"{}\"]", id(t));
        b.wait_for(&format!("{} [data-overdue]", row(&late)), "", |t| {
            t == "逾期"
        })
        .await;
        b.wait_for(&row(&late), "@class", |c| c.contains("overdue-row"))
            .await;
        b.picture("office-tasks").await;
        for other in [&due, &finished] {
            b.find(&row(other)).await;
            assert_eq!(
                count(b, &format!("{} [data-overdue]", row(other))).await,
                0,
                "{other}"
            );
        }
        // The 逾期 tab lists only the overdue one.
        b.click("a[data-tab=\"overdue=true\"]").await;
        b.wait_for("#view tbody", "", |t| {
            t.contains("助力春耕") && !t.contains("清理河道") && !t.contains("修缮校舍")
        })
        .await;
        b.click(&row(&late)).await;
        b.wait_for("#task-status", "@data-overdue", |v| v == "true")
            .await;
        b.picture("office-task-overdue").await;

        // A task of the second list, put on it in the page with a deadline already past.
        b.click("a[data-nav=\"tasks\"]").await;
        b.click("#task-form-box summary").await;
        b.fill("#new-task-title", "修缮营区道路").await;
        choose(b, "#new-task-direction", "troops_for_locality").await;
        b.fill("#new-task-owner-unit", "驻深某部").await;
        b.fill("#new-task-owner-user", "c.office").await;
        choose(b, "#new-task-deadline", "2027-02-15").await;
        b.fill("#new-task-measures", "组织官兵修缮道路").await;
        b.click("#new-task-submit").await;
        message_ok(b).await;
        b.wait_for("#task-status", "@data-overdue", |v| v == "true")
            .await;
        typed = b
            .client
            .current_url()
            .await
            .unwrap()
            .fragment()
            .unwrap()
            .trim_start_matches("/tasks/")
            .to_owned();

        // The overview counts both overdue tasks and leads to them.
        b.click("a[data-nav=\"dashboard\"]").await;
        b.wait_for("#needs-kpis", "", |t| {
            t.contains("逾期任务") && t.contains("逾期任务\n2")
        })
        .await;
        b.click("#needs-kpis a.kpi-link").await;
        b.wait_for("#view tbody", "", |t| {
            t.contains("助力春耕") && t.contains("修缮营区道路") && !t.contains("清理河道")
        })
        .await;

        // The ledger is among the exports.
        b.click("a[data-nav=\"exports\"]").await;
        choose(b, "#export-kind", "tasks").await;
        choose(b, "#export-format", "csv").await;
        b.click("#export-submit").await;
        b.wait_for("#message", "@data-kind", |k| k == "ok").await;
    })
    .await;

    let overdue = app
        .get("/api/v1/admin/tasks?overdue=true", Some(&office))
        .await
        .expect(200);
    let mut ids: Vec<&str> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut expected = vec![id(&late), typed.clone()];
    expected.sort();
    assert_eq!(ids, expected, "{overdue}");
    let made = app
        .get(&format!("/api/v1/admin/tasks/{typed}"), Some(&office))
        .await
        .expect(200);
    assert_eq!(made["title"], "修缮营区道路", "{made}");
    assert_eq!(made["direction"], "troops_for_locality");
    assert_eq!(made["need_id"], Value::Null);
    assert_eq!(made["region_code"], "440303");
    assert_eq!(made["deadline"], "2027-02-15");
    let exports = audit_of(&app, &root, "export", "tasks").await;
    assert_eq!(
        exports,
        [("export.tasks".to_owned(), "c.office".to_owned())]
    );
}
