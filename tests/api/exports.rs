//! Exports (`GET /api/v1/admin/exports/{kind}`, `yongjun export`) against data the test
//! creates itself.

use calamine::{Data, Reader};
use serde_json::json;

use crate::beneficiaries::{id_number, person, register};
use crate::helpers::*;
use crate::pos::{new_holder, offer, open_shop, ten_percent, visit};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Declares a test run on both backends with merchants activated at once.
macro_rules! export_test {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(spawn_instant_app(Backend::Postgres).await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(spawn_instant_app(Backend::Sqlite).await).await
            }
        }
    };
}

/// The raw answer of an export: status, headers and body bytes.
pub(crate) async fn download(
    app: &TestApp,
    path: &str,
    token: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap().to_vec();
    (status, headers, body)
}

/// The CSV's lines (without the BOM), each split into fields.
pub(crate) fn csv_rows(body: &[u8]) -> Vec<Vec<String>> {
    assert!(body.starts_with(BOM), "no BOM");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&body[BOM.len()..]);
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

pub(crate) fn column(rows: &[Vec<String>], header: &str) -> usize {
    rows[0]
        .iter()
        .position(|h| h == header)
        .unwrap_or_else(|| panic!("no column {header} in {:?}", rows[0]))
}

pub(crate) fn xlsx(body: Vec<u8>) -> calamine::Xlsx<std::io::Cursor<Vec<u8>>> {
    calamine::Xlsx::new(std::io::Cursor::new(body)).expect("a readable xlsx")
}

/// A shop in 罗湖区 with a 10 %-off offer; two redemptions by the 沁水县 holder (bills
/// 100.00 and 199.90), the second voided.
async fn redemptions_export(app: TestApp) {
    let shop = open_shop(&app).await;
    let deal = offer(&app, &shop, ten_percent()).await;
    let mut ids = Vec::new();
    for bill in [10_000, 19_990] {
        let body = visit(&app, &shop, &deal, &shop.holder, bill).await;
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    app.post(
        &format!("/api/v1/merchant/redemptions/{}/void", ids[1]),
        Some(&shop.staff),
        json!({"reason": "误扫"}),
    )
    .await
    .expect(200);
    let card_no = shop.card["card_no"].as_str().unwrap().to_owned();
    let masked = format!("{}********{}", &card_no[..4], &card_no[12..]);

    // CSV: BOM, Chinese headers, yuan with two decimals, masked card numbers.
    let (status, headers, body) = download(
        &app,
        "/api/v1/admin/exports/redemptions?format=csv&region=440300",
        &shop.root,
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    // 核销记录_440300.csv
    assert!(
        disposition.contains("filename*=UTF-8''%E6%A0%B8%E9%94%80%E8%AE%B0%E5%BD%95_440300.csv"),
        "{disposition}"
    );
    let rows = csv_rows(&body);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0][0], "核销时间");
    let (bill, discount, card, status, kind, holder_region, category) = (
        column(&rows, "消费金额（元）"),
        column(&rows, "优惠金额（元）"),
        column(&rows, "卡号"),
        column(&rows, "状态"),
        column(&rows, "优待类型"),
        column(&rows, "持卡人行政区划代码"),
        column(&rows, "持卡人类别"),
    );
    assert_eq!(
        (rows[1][bill].as_str(), rows[1][discount].as_str()),
        ("100.00", "10.00")
    );
    assert_eq!(
        (rows[2][bill].as_str(), rows[2][discount].as_str()),
        ("199.90", "19.99")
    );
    assert_eq!(rows[1][status], "已核销");
    assert_eq!(rows[2][status], "已作废");
    assert_eq!(rows[1][kind], "折扣");
    assert_eq!(rows[1][holder_region], "140521");
    assert_eq!(rows[1][category], "退役军人");
    assert_eq!(rows[1][column(&rows, "商户行政区划代码")], "440303");
    assert_eq!(rows[1][column(&rows, "商户所在地区")], "罗湖区");
    assert_eq!(rows[1][card], masked);
    assert!(!String::from_utf8_lossy(&body).contains(&card_no));

    // Excel: one sheet, the same headers, money as numbers, times as dates.
    let (status, headers, body) = download(
        &app,
        "/api/v1/admin/exports/redemptions?format=xlsx",
        &shop.root,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        headers["content-length"].to_str().unwrap(),
        body.len().to_string()
    );
    let mut book = xlsx(body);
    assert_eq!(book.sheet_names(), vec!["核销记录"]);
    let sheet = book.worksheet_range("核销记录").unwrap();
    assert_eq!(sheet.height(), 3);
    assert_eq!(sheet.get((0, 0)), Some(&Data::String("核销时间".into())));
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(
        sheet.get((1, col("消费金额（元）"))),
        Some(&Data::Float(100.0))
    );
    assert_eq!(
        sheet.get((1, col("优惠金额（元）"))),
        Some(&Data::Float(10.0))
    );
    assert_eq!(
        sheet.get((2, col("优惠金额（元）"))),
        Some(&Data::Float(19.99))
    );
    let Some(Data::DateTime(when)) = sheet.get((1, 0)) else {
        panic!("not a date: {:?}", sheet.get((1, 0)));
    };
    // Excel's serial date: days since 1899-12-30, in China time.
    let now_china = chrono::Utc::now().naive_utc() + chrono::Duration::hours(8);
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let now_serial = (now_china - epoch).num_seconds() as f64 / 86_400.0;
    assert!(
        (now_serial - when.as_f64()).abs() < 10.0 / 1440.0,
        "{} vs {now_serial}",
        when.as_f64()
    );
    assert_eq!(
        sheet.get((1, col("卡号"))),
        Some(&Data::String(masked.clone()))
    );

    // The figures: one sheet per table, money in yuan.
    let (status, _, body) = download(
        &app,
        "/api/v1/admin/exports/stats?format=xlsx&region=440300",
        &shop.root,
    )
    .await;
    assert_eq!(status, 200);
    let mut book = xlsx(body);
    let names = book.sheet_names();
    for sheet in [
        "概况",
        "商户按状态",
        "核销按月份",
        "异地核销",
        "核销商户排行",
    ] {
        assert!(names.iter().any(|n| n == sheet), "no {sheet} in {names:?}");
    }
    let summary = book.worksheet_range("概况").unwrap();
    let value = |label: &str| {
        summary
            .rows()
            .find(|r| r[0] == Data::String(label.into()))
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("no {label}"))
    };
    assert_eq!(value("核销人次"), Data::Float(1.0));
    assert_eq!(value("优惠总额（元）"), Data::Float(10.0));
    let (status, _, body) =
        download(&app, "/api/v1/admin/exports/stats?format=csv", &shop.root).await;
    assert_eq!(status, 200);
    let text = String::from_utf8(body[BOM.len()..].to_vec()).unwrap();
    assert!(text.starts_with("项目,数值\n"), "{text}");
    assert!(
        text.contains("\n核销按月份\n月份,核销人次,优惠金额（元）\n"),
        "{text}"
    );

    // Every export is in the audit log, with its filters.
    let log = app
        .get(
            "/api/v1/admin/audit-log?entity_type=export",
            Some(&shop.root),
        )
        .await
        .expect(200);
    let entries = log["items"].as_array().unwrap();
    let csv = entries
        .iter()
        .find(|e| e["action"] == "export.redemptions" && e["details"]["format"] == "csv")
        .unwrap_or_else(|| panic!("no audit entry: {log}"));
    assert_eq!(csv["actor"], "admin");
    assert_eq!(csv["details"]["region"], "440300");
    assert!(entries.iter().any(|e| e["action"] == "export.stats"));

    // The command line writes the same file.
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("r.csv");
    let database_url = match &app.database {
        yongjun::db::DatabaseTarget::Postgres(url) => url.clone(),
        yongjun::db::DatabaseTarget::Sqlite(path) => format!("sqlite://{}", path.display()),
    };
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_yongjun"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("YONGJUN_DATA_DIR", dir.path())
        .env("YONGJUN_LOG", "warn")
        .env("DATABASE_URL", database_url)
        .args([
            "export",
            "redemptions",
            "--format",
            "csv",
            "--region",
            "440303",
        ])
        .arg("--from")
        .arg((now_china.date() - chrono::Duration::days(1)).to_string())
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("2 rows to "), "{stdout}");
    let rows = csv_rows(&std::fs::read(&output).unwrap());
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2][discount], "19.99");
    let log = app
        .get(
            "/api/v1/admin/audit-log?entity_type=export",
            Some(&shop.root),
        )
        .await
        .expect(200);
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"].as_str().unwrap().starts_with("cli:")),
        "{log}"
    );
    // A day before everything: nothing but the headers.
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_yongjun"))
        .env_clear()
        .env("YONGJUN_DATA_DIR", dir.path())
        .env("YONGJUN_LOG", "warn")
        .env(
            "DATABASE_URL",
            match &app.database {
                yongjun::db::DatabaseTarget::Postgres(url) => url.clone(),
                yongjun::db::DatabaseTarget::Sqlite(path) => {
                    format!("sqlite://{}", path.display())
                }
            },
        )
        .args([
            "export",
            "redemptions",
            "--format",
            "xlsx",
            "--to",
            "2001-01-01",
        ])
        .arg("--output")
        .arg(dir.path().join("r.xlsx"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(dir.path().join("r.xlsx")).unwrap();
    assert_eq!(book.worksheet_range("核销记录").unwrap().height(), 1);
}
export_test!(redemptions_export);

/// Beneficiaries and merchants: masked personal data, region scope, roles, errors.
async fn scoped_and_masked(app: TestApp) {
    let shop = open_shop(&app).await; // holder 1 in 沁水县 (140521), merchant in 罗湖区
    let root = shop.root.clone();
    register(&app, &root, person(2, "440303")).await;
    let (_, _) = new_holder(&app, &root, 3, "440304").await;

    // A Shenzhen administrator sees Shenzhen's beneficiaries only, masked.
    let sz = app
        .staff(&root, "sz.admin", "region_admin", Some("440300"), None)
        .await;
    let (status, _, body) =
        download(&app, "/api/v1/admin/exports/beneficiaries?format=csv", &sz).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let text = String::from_utf8_lossy(&body).into_owned();
    let rows = csv_rows(&body);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let region = column(&rows, "行政区划代码");
    let mut regions: Vec<&str> = rows[1..].iter().map(|r| r[region].as_str()).collect();
    regions.sort();
    assert_eq!(regions, ["440303", "440304"]);
    for n in 1..=3 {
        assert!(!text.contains(&id_number(n)), "a full ID number leaked");
        assert!(
            !text.contains(&format!("1381234{n:04}")),
            "a full phone leaked"
        );
    }
    let id = column(&rows, "身份证号");
    let phone = column(&rows, "手机号");
    assert!(rows[1][id].contains("**********"), "{:?}", rows[1]);
    assert!(rows[1][phone].contains("****"), "{:?}", rows[1]);
    assert_eq!(rows[1][column(&rows, "类别")], "退役军人");
    assert_eq!(rows[1][column(&rows, "荣誉")], "三等功");
    let cards: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r[column(&rows, "持有卡种")].as_str())
        .collect();
    assert!(cards.contains(&"拥军优待卡"), "{cards:?}");

    // Excel too, with the registration time as a date.
    let (status, _, body) = download(
        &app,
        "/api/v1/admin/exports/beneficiaries?region=440303",
        &sz,
    )
    .await;
    assert_eq!(status, 200);
    let mut book = xlsx(body);
    let sheet = book.worksheet_range("优抚对象").unwrap();
    assert_eq!(sheet.height(), 2);
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let registered = header.iter().position(|h| h == "登记时间").unwrap();
    assert!(matches!(
        sheet.get((1, registered)),
        Some(Data::DateTime(_))
    ));

    // Another region is refused; so are merchant staff; an auditor may export.
    app.get(
        "/api/v1/admin/exports/beneficiaries?region=140521",
        Some(&sz),
    )
    .await
    .expect_problem(403, "region_out_of_scope");
    app.get("/api/v1/admin/exports/merchants", Some(&shop.staff))
        .await
        .expect_problem(403, "forbidden");
    let qinshui = app
        .staff(&root, "qs.auditor", "auditor", Some("140521"), None)
        .await;
    let (status, _, body) = download(
        &app,
        "/api/v1/admin/exports/beneficiaries?format=csv",
        &qinshui,
    )
    .await;
    assert_eq!(status, 200);
    let rows = csv_rows(&body);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][column(&rows, "行政区划代码")], "140521");
    // …but sees no Shenzhen merchant.
    let (status, _, body) =
        download(&app, "/api/v1/admin/exports/merchants?format=csv", &qinshui).await;
    assert_eq!(status, 200);
    assert_eq!(csv_rows(&body).len(), 1);

    // Merchants: the contact phone masked, status in Chinese, dates as dates.
    let (status, _, body) = download(&app, "/api/v1/admin/exports/merchants?format=csv", &sz).await;
    assert_eq!(status, 200);
    let text = String::from_utf8_lossy(&body).into_owned();
    assert!(!text.contains("13812345678"), "a contact phone leaked");
    let rows = csv_rows(&body);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][column(&rows, "商户名称")], "拥军商户1号");
    assert_eq!(rows[1][column(&rows, "联系电话")], "138****5678");
    assert_eq!(rows[1][column(&rows, "状态")], "已准入");
    let (status, _, body) = download(&app, "/api/v1/admin/exports/merchants", &sz).await;
    assert_eq!(status, 200);
    let mut book = xlsx(body);
    let sheet = book.worksheet_range("拥军商户").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let start = header.iter().position(|h| h == "协议开始日期").unwrap();
    assert!(matches!(sheet.get((1, start)), Some(Data::DateTime(_))));

    // Problems.
    let problem = app
        .get(
            "/api/v1/admin/exports/merchants?format=pdf&from=2026-13-01",
            Some(&sz),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["format", "from"]);
    app.get(
        "/api/v1/admin/exports/redemptions?from=2026-08-02&to=2026-08-01",
        Some(&sz),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.get("/api/v1/admin/exports/cards", Some(&sz))
        .await
        .expect_problem(404, "export_not_found");
    app.get("/api/v1/admin/exports/merchants", None)
        .await
        .expect_problem(401, "unauthenticated");
}
export_test!(scoped_and_masked);
