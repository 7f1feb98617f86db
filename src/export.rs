//! Exports of merchants, redemptions, beneficiaries and the figures, to CSV (UTF-8 with a
//! BOM, so Excel opens it) and Excel (one sheet per table, dates as dates, money as
//! yuan). Shared by `GET /api/v1/admin/exports/{kind}` and `yongjun export`.
//!
//! One producer reads the rows in keyset-paginated batches and sends them as [`Chunk`]s
//! through a bounded channel; a consumer turns them into CSV bytes as they come, or
//! into constant-memory Excel worksheets (spilled to temporary files) on a blocking
//! thread. Neither side ever holds more than a batch or two, whatever the export's size.
//!
//! Personal data leaves only masked: ID numbers and phones from their stored masked
//! columns (the encrypted ones are never read), merchants' contact phones and card
//! numbers masked here. Times are shown in China time (UTC+8), as the offices read them.

use std::collections::HashMap;
use std::path::Path;

use actix_web::web::Bytes;
use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};
use tokio::sync::mpsc;

use crate::db::exports::{self as q, ExportFilter};
use crate::db::Conn;
use crate::domain::beneficiary::{Category, Honor};
use crate::domain::{card_no, to_china};
use crate::stats::{self, AdmissionTargets, Stats, StatsScope};

/// Rows read per query: large enough to amortise the round trip, small enough that a
/// batch is a few megabytes at most.
pub const BATCH_ROWS: i64 = 5000;

/// Batches in flight between the producer and the consumer.
const CHANNEL_DEPTH: usize = 4;

/// Rows of an Excel worksheet, the header included; a longer table continues on a
/// further sheet.
const XLSX_MAX_ROWS: u32 = 1_048_576;

/// The byte order mark that makes Excel read a CSV file as UTF-8.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// What can be exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    Merchants,
    Redemptions,
    Beneficiaries,
    Stats,
}

impl ExportKind {
    pub const ALL: [ExportKind; 4] = [
        ExportKind::Merchants,
        ExportKind::Redemptions,
        ExportKind::Beneficiaries,
        ExportKind::Stats,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Merchants => "merchants",
            ExportKind::Redemptions => "redemptions",
            ExportKind::Beneficiaries => "beneficiaries",
            ExportKind::Stats => "stats",
        }
    }

    pub fn parse(raw: &str) -> Option<ExportKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// The file name's stem, in Chinese like the sheets.
    pub fn title(self) -> &'static str {
        match self {
            ExportKind::Merchants => "拥军商户",
            ExportKind::Redemptions => "核销记录",
            ExportKind::Beneficiaries => "优抚对象",
            ExportKind::Stats => "统计数据",
        }
    }

    /// Whether the export holds personal data (beneficiaries' or holders').
    pub fn personal(self) -> bool {
        matches!(self, ExportKind::Beneficiaries | ExportKind::Redemptions)
    }
}

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Xlsx,
    Csv,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Csv => "csv",
        }
    }

    pub fn parse(raw: &str) -> Option<ExportFormat> {
        [ExportFormat::Xlsx, ExportFormat::Csv]
            .into_iter()
            .find(|f| f.as_str() == raw)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub kind: ExportKind,
    /// Rows of the tables (merchants, redemptions, beneficiaries).
    pub filter: ExportFilter,
    /// The figures' scope (the stats export).
    pub stats_scope: StatsScope,
    pub targets: AdmissionTargets,
}

/// `拥军商户_440300_20260101-20261123.xlsx`: what, where and when, so files do not
/// overwrite one another in a download folder.
pub fn file_name(
    kind: ExportKind,
    format: ExportFormat,
    region: Option<&str>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> String {
    let mut name = kind.title().to_owned();
    name.push('_');
    name.push_str(region.unwrap_or("全部"));
    if from.is_some() || to.is_some() {
        name.push('_');
        name.push_str(
            &from
                .map(|d| d.format("%Y%m%d").to_string())
                .unwrap_or_default(),
        );
        name.push('-');
        name.push_str(
            &to.map(|d| d.format("%Y%m%d").to_string())
                .unwrap_or_default(),
        );
    }
    name.push('.');
    name.push_str(format.as_str());
    name
}

/// `attachment; filename="export.xlsx"; filename*=UTF-8''%E6%8B%A5…` (RFC 6266 with the
/// RFC 5987 encoding for the Chinese name; the plain one is for old clients).
pub fn content_disposition(file_name: &str, format: ExportFormat) -> String {
    let mut encoded = String::new();
    for byte in file_name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!(
        "attachment; filename=\"export.{}\"; filename*=UTF-8''{encoded}",
        format.as_str()
    )
}

/// One value of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// Money in fen, shown as yuan with two decimals.
    Yuan(i64),
    /// A plain number (a percentage).
    Number(f64),
    Date(NaiveDate),
    /// A time already in China time.
    DateTime(NaiveDateTime),
    Empty,
}

impl Cell {
    fn opt_text(value: Option<String>) -> Cell {
        value.map_or(Cell::Empty, Cell::Text)
    }

    fn text(value: &str) -> Cell {
        Cell::Text(value.to_owned())
    }
}

/// A table's sheet name and column headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub sheet: String,
    pub headers: Vec<&'static str>,
}

impl Table {
    fn new(sheet: &str, headers: &[&'static str]) -> Table {
        Table {
            sheet: sheet.to_owned(),
            headers: headers.to_vec(),
        }
    }
}

/// What the producer sends: a table starts, or rows of the current table.
#[derive(Debug)]
pub enum Chunk {
    Table(Table),
    Rows(Vec<Vec<Cell>>),
}

/// `1234` fen → `12.34`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

pub fn merchant_status_label(code: &str) -> &str {
    match code {
        "pending" => "待审核",
        "under_review" => "联审中",
        "public_notice" => "公示中",
        "active" => "已准入",
        "suspended" => "已暂停",
        "revoked" => "已撤销",
        "rejected" => "未通过",
        "expired" => "已到期",
        other => other,
    }
}

pub fn merchant_kind_label(code: &str) -> &str {
    match code {
        "enterprise" => "企业",
        "social_org" => "社会组织",
        "individual_business" => "个体工商户",
        "volunteer_team" => "志愿服务队",
        other => other,
    }
}

pub fn merchant_category_label(code: &str) -> &str {
    match code {
        "medical" => "医疗",
        "pharmacy" => "药店",
        "finance" => "金融",
        "insurance" => "保险",
        "grain_oil" => "粮油",
        "telecom" => "通信",
        "aviation" => "航空",
        "transport" => "交通",
        "fuel" => "加油",
        "books_culture" => "书店文化",
        "tourism" => "旅游",
        "dining" => "餐饮",
        "lodging" => "住宿",
        "retail" => "零售",
        "elderly_care" => "养老",
        "education" => "教育",
        "legal" => "法律服务",
        "housing" => "住房",
        "other" => "其他",
        other => other,
    }
}

pub fn offer_kind_label(code: &str) -> &str {
    match code {
        "percent_off" => "折扣",
        "amount_off" => "立减",
        "fixed_price" => "优惠价",
        "free" => "免费",
        "priority_service" => "优先服务",
        "gift" => "赠品",
        other => other,
    }
}

pub fn redemption_status_label(code: &str) -> &str {
    match code {
        "completed" => "已核销",
        "voided" => "已作废",
        other => other,
    }
}

pub fn card_status_label(code: &str) -> &str {
    match code {
        "active" => "正常",
        "suspended" => "已暂停",
        "revoked" => "已注销",
        "expired" => "已过期",
        other => other,
    }
}

pub fn holder_category_label(code: &str) -> &str {
    match Category::parse(code) {
        Some(category) => category.chinese(),
        None => code,
    }
}

/// `,second_class_merit,combat_hero,` → `二等功、战斗英雄`.
fn honors_label(stored: &str) -> String {
    stored
        .split(',')
        .filter(|h| !h.is_empty())
        .map(|h| match Honor::parse(h) {
            Some(honor) => honor.chinese(),
            None => h,
        })
        .collect::<Vec<_>>()
        .join("、")
}

const MERCHANT_HEADERS: &[&str] = &[
    "商户名称",
    "主体类型",
    "统一社会信用代码",
    "行业类别",
    "行政区划代码",
    "所在地区",
    "联系人",
    "联系电话",
    "地址",
    "状态",
    "荣誉标识编号",
    "协议编号",
    "协议开始日期",
    "协议结束日期",
    "准入时间",
    "登记时间",
    "商户编号",
];

const REDEMPTION_HEADERS: &[&str] = &[
    "核销时间",
    "商户名称",
    "商户行政区划代码",
    "商户所在地区",
    "行业类别",
    "优待项目",
    "优待类型",
    "卡号",
    "卡种",
    "持卡人类别",
    "持卡人行政区划代码",
    "持卡人所在地区",
    "消费金额（元）",
    "优惠金额（元）",
    "同行人数",
    "状态",
    "作废原因",
    "作废时间",
    "核销编号",
];

const BENEFICIARY_HEADERS: &[&str] = &[
    "姓名",
    "身份证号",
    "手机号",
    "类别",
    "荣誉",
    "行政区划代码",
    "所在地区",
    "与主优抚对象关系",
    "持有卡种",
    "登记时间",
    "优抚对象编号",
];

/// The tables of an export's kind, in order (for documentation and tests).
pub fn headers(kind: ExportKind) -> &'static [&'static str] {
    match kind {
        ExportKind::Merchants => MERCHANT_HEADERS,
        ExportKind::Redemptions => REDEMPTION_HEADERS,
        ExportKind::Beneficiaries => BENEFICIARY_HEADERS,
        ExportKind::Stats => &["项目", "数值"],
    }
}

/// Sends `chunk`, failing when the consumer has gone (the client disconnected).
async fn send(tx: &mpsc::Sender<Chunk>, chunk: Chunk) -> anyhow::Result<()> {
    tx.send(chunk)
        .await
        .map_err(|_| anyhow::anyhow!("the export's consumer stopped"))
}

fn region_name(names: &HashMap<String, String>, code: &str) -> Cell {
    names.get(code).map_or(Cell::Empty, |n| Cell::text(n))
}

/// Reads the rows of `request` and sends them to `tx`; returns the number of rows.
pub async fn produce(
    conn: &mut Conn<'_>,
    request: &ExportRequest,
    tx: &mpsc::Sender<Chunk>,
) -> anyhow::Result<u64> {
    match request.kind {
        ExportKind::Merchants => produce_merchants(conn, &request.filter, tx).await,
        ExportKind::Redemptions => produce_redemptions(conn, &request.filter, tx).await,
        ExportKind::Beneficiaries => produce_beneficiaries(conn, &request.filter, tx).await,
        ExportKind::Stats => {
            let figures = stats::compute(conn, &request.stats_scope, &request.targets)
                .await
                .context("computing the figures")?;
            let mut rows = 0;
            for (table, cells) in stats_tables(&figures) {
                rows += cells.len() as u64;
                send(tx, Chunk::Table(table)).await?;
                send(tx, Chunk::Rows(cells)).await?;
            }
            Ok(rows)
        }
    }
}

async fn produce_merchants(
    conn: &mut Conn<'_>,
    filter: &ExportFilter,
    tx: &mpsc::Sender<Chunk>,
) -> anyhow::Result<u64> {
    let names = q::region_names(conn).await.context("reading regions")?;
    let today = crate::domain::china_today();
    send(tx, Chunk::Table(Table::new("拥军商户", MERCHANT_HEADERS))).await?;
    let mut after = None;
    let mut total = 0u64;
    loop {
        let batch = q::merchants_batch(conn, filter, after, BATCH_ROWS)
            .await
            .context("reading merchants")?;
        let Some(last) = batch.last() else { break };
        after = Some(last.id);
        let full = batch.len() as i64 == BATCH_ROWS;
        total += batch.len() as u64;
        let rows = batch
            .into_iter()
            .map(|m| {
                let status = crate::domain::merchant::MerchantStatus::parse(&m.status)
                    .map(|s| crate::domain::merchant::effective_status(s, m.agreement_end, today))
                    .map_or(m.status.clone(), |s| s.as_str().to_owned());
                vec![
                    Cell::Text(m.name),
                    Cell::text(merchant_kind_label(&m.kind)),
                    Cell::opt_text(m.credit_code),
                    Cell::text(merchant_category_label(&m.category)),
                    Cell::text(&m.region_code),
                    region_name(&names, &m.region_code),
                    Cell::Text(m.contact_name),
                    Cell::Text(crate::domain::phone::mask(&m.contact_phone)),
                    Cell::Text(m.address),
                    Cell::text(merchant_status_label(&status)),
                    Cell::opt_text(m.badge_no),
                    Cell::opt_text(m.agreement_no),
                    m.agreement_start.map_or(Cell::Empty, Cell::Date),
                    m.agreement_end.map_or(Cell::Empty, Cell::Date),
                    m.admitted_at
                        .map_or(Cell::Empty, |t| Cell::DateTime(to_china(t))),
                    Cell::DateTime(to_china(m.created_at)),
                    Cell::Text(m.id.to_string()),
                ]
            })
            .collect();
        send(tx, Chunk::Rows(rows)).await?;
        if !full {
            break;
        }
    }
    Ok(total)
}

async fn produce_beneficiaries(
    conn: &mut Conn<'_>,
    filter: &ExportFilter,
    tx: &mpsc::Sender<Chunk>,
) -> anyhow::Result<u64> {
    let names = q::region_names(conn).await.context("reading regions")?;
    let products = q::card_product_names(conn)
        .await
        .context("reading card products")?;
    send(
        tx,
        Chunk::Table(Table::new("优抚对象", BENEFICIARY_HEADERS)),
    )
    .await?;
    let mut after = None;
    let mut total = 0u64;
    loop {
        let batch = q::beneficiaries_batch(conn, filter, after, BATCH_ROWS)
            .await
            .context("reading beneficiaries")?;
        let Some(last) = batch.last() else { break };
        after = Some(last.id);
        let full = batch.len() as i64 == BATCH_ROWS;
        total += batch.len() as u64;
        let ids: Vec<_> = batch.iter().map(|b| b.id).collect();
        let mut cards = q::live_card_products(conn, &ids)
            .await
            .context("reading cards")?;
        let rows = batch
            .into_iter()
            .map(|b| {
                let held = cards
                    .remove(&b.id)
                    .unwrap_or_default()
                    .iter()
                    .map(|p| products.get(p).cloned().unwrap_or_else(|| p.clone()))
                    .collect::<Vec<_>>()
                    .join("、");
                vec![
                    Cell::Text(b.name),
                    Cell::Text(b.id_number_masked),
                    Cell::opt_text(b.phone_masked),
                    Cell::text(holder_category_label(&b.category)),
                    Cell::Text(honors_label(&b.honors)),
                    Cell::text(&b.region_code),
                    region_name(&names, &b.region_code),
                    Cell::opt_text(b.relation),
                    Cell::Text(held),
                    Cell::DateTime(to_china(b.created_at)),
                    Cell::Text(b.id.to_string()),
                ]
            })
            .collect();
        send(tx, Chunk::Rows(rows)).await?;
        if !full {
            break;
        }
    }
    Ok(total)
}

async fn produce_redemptions(
    conn: &mut Conn<'_>,
    filter: &ExportFilter,
    tx: &mpsc::Sender<Chunk>,
) -> anyhow::Result<u64> {
    let names = q::region_names(conn).await.context("reading regions")?;
    let products = q::card_product_names(conn)
        .await
        .context("reading card products")?;
    send(tx, Chunk::Table(Table::new("核销记录", REDEMPTION_HEADERS))).await?;
    let mut after = None;
    let mut total = 0u64;
    loop {
        let batch = q::redemptions_batch(conn, filter, after, BATCH_ROWS)
            .await
            .context("reading redemptions")?;
        let Some(last) = batch.last() else { break };
        after = Some((last.redeemed_at, last.id));
        let full = batch.len() as i64 == BATCH_ROWS;
        total += batch.len() as u64;
        let rows = batch
            .into_iter()
            .map(|r| {
                vec![
                    Cell::DateTime(to_china(r.redeemed_at)),
                    Cell::Text(r.merchant_name),
                    Cell::text(&r.merchant_region_code),
                    region_name(&names, &r.merchant_region_code),
                    Cell::text(merchant_category_label(&r.merchant_category)),
                    Cell::Text(r.offer_title),
                    Cell::text(offer_kind_label(&r.offer_kind)),
                    Cell::Text(card_no::mask(&r.card_no)),
                    Cell::Text(
                        products
                            .get(&r.card_product)
                            .cloned()
                            .unwrap_or(r.card_product),
                    ),
                    Cell::text(holder_category_label(&r.holder_category)),
                    Cell::text(&r.holder_region_code),
                    region_name(&names, &r.holder_region_code),
                    r.bill_fen.map_or(Cell::Empty, Cell::Yuan),
                    Cell::Yuan(r.discount_fen),
                    Cell::Int(i64::from(r.companions)),
                    Cell::text(redemption_status_label(&r.status)),
                    Cell::opt_text(r.void_reason),
                    r.voided_at
                        .map_or(Cell::Empty, |t| Cell::DateTime(to_china(t))),
                    Cell::Text(r.id.to_string()),
                ]
            })
            .collect();
        send(tx, Chunk::Rows(rows)).await?;
        if !full {
            break;
        }
    }
    Ok(total)
}

/// Turns a stored code into what a table shows.
type Label = fn(&str) -> &str;

fn count_rows(rows: &[stats::Count], label: Label) -> Vec<Vec<Cell>> {
    rows.iter()
        .map(|c| vec![Cell::text(label(&c.key)), Cell::Int(c.count)])
        .collect()
}

fn sum_rows(rows: &[stats::Sum], label: Label) -> Vec<Vec<Cell>> {
    rows.iter()
        .map(|s| {
            vec![
                Cell::text(label(&s.key)),
                Cell::Int(s.count),
                Cell::Yuan(s.discount_fen),
            ]
        })
        .collect()
}

fn same(code: &str) -> &str {
    code
}

/// The figures as tables, one per sheet.
pub fn stats_tables(s: &Stats) -> Vec<(Table, Vec<Vec<Cell>>)> {
    let r = &s.redemptions;
    let mut tables = Vec::new();
    tables.push((
        Table::new("概况", &["项目", "数值"]),
        vec![
            vec![
                Cell::text("地区"),
                Cell::Text(match (&s.region, &s.region_name) {
                    (Some(code), Some(name)) => format!("{name}（{code}）"),
                    (Some(code), None) => code.clone(),
                    _ => "全部".into(),
                }),
            ],
            vec![Cell::text("起始日期"), Cell::Date(s.from)],
            vec![Cell::text("截止日期"), Cell::Date(s.to)],
            vec![Cell::text("商户总数"), Cell::Int(s.merchants.total)],
            vec![Cell::text("优抚对象总数"), Cell::Int(s.beneficiaries.total)],
            vec![Cell::text("优待卡总数"), Cell::Int(s.cards.total)],
            vec![Cell::text("核销人次"), Cell::Int(r.count)],
            vec![Cell::text("优惠总额（元）"), Cell::Yuan(r.discount_fen)],
            vec![Cell::text("异地核销人次"), Cell::Int(r.cross_region.count)],
            vec![
                Cell::text("异地优惠总额（元）"),
                Cell::Yuan(r.cross_region.discount_fen),
            ],
        ],
    ));
    tables.push((
        Table::new("商户按状态", &["状态", "商户数"]),
        count_rows(&s.merchants.by_status, merchant_status_label),
    ));
    tables.push((
        Table::new("商户按行业", &["行业类别", "商户数"]),
        count_rows(&s.merchants.by_category, merchant_category_label),
    ));
    tables.push((
        Table::new("商户按主体类型", &["主体类型", "商户数"]),
        count_rows(&s.merchants.by_kind, merchant_kind_label),
    ));
    tables.push((
        Table::new(
            "年度新增准入",
            &["年份", "新增准入", "年度目标", "完成率（%）"],
        ),
        s.admissions
            .iter()
            .map(|a| {
                vec![
                    Cell::Int(i64::from(a.year)),
                    Cell::Int(a.admitted),
                    Cell::Int(a.target),
                    a.attainment_percent.map_or(Cell::Empty, Cell::Number),
                ]
            })
            .collect(),
    ));
    tables.push((
        Table::new(
            "新增准入按地区",
            &["年份", "行政区划代码", "地区", "新增准入"],
        ),
        s.admissions
            .iter()
            .flat_map(|a| {
                a.by_region.iter().map(move |g| {
                    vec![
                        Cell::Int(i64::from(a.year)),
                        Cell::text(&g.region_code),
                        Cell::opt_text(g.region_name.clone()),
                        Cell::Int(g.admitted),
                    ]
                })
            })
            .collect(),
    ));
    tables.push((
        Table::new("优抚对象按类别", &["类别", "人数"]),
        count_rows(&s.beneficiaries.by_category, holder_category_label),
    ));
    tables.push((
        Table::new("优待卡按卡种", &["卡种", "张数"]),
        count_rows(&s.cards.by_product, same),
    ));
    tables.push((
        Table::new("优待卡按状态", &["状态", "张数"]),
        count_rows(&s.cards.by_status, card_status_label),
    ));
    tables.push((
        Table::new("优待卡按卡种和状态", &["卡种", "状态", "张数"]),
        s.cards
            .by_product_status
            .iter()
            .map(|p| {
                vec![
                    Cell::text(&p.product),
                    Cell::text(card_status_label(&p.status)),
                    Cell::Int(p.count),
                ]
            })
            .collect(),
    ));
    let sums: [(&str, &str, &[stats::Sum], Label); 5] = [
        ("核销按月份", "月份", &r.by_month, same),
        (
            "核销按持卡人类别",
            "持卡人类别",
            &r.by_holder_category,
            holder_category_label,
        ),
        (
            "核销按行业",
            "行业类别",
            &r.by_merchant_category,
            merchant_category_label,
        ),
        ("核销按卡种", "卡种", &r.by_card_product, same),
        (
            "核销按优待类型",
            "优待类型",
            &r.by_offer_kind,
            offer_kind_label,
        ),
    ];
    for (sheet, key, rows, label) in sums {
        let mut table = Table::new(sheet, &[]);
        table.headers = vec![key, "核销人次", "优惠金额（元）"];
        tables.push((table, sum_rows(rows, label)));
    }
    tables.push((
        Table::new(
            "核销按地区",
            &["行政区划代码", "地区", "核销人次", "优惠金额（元）"],
        ),
        r.by_region
            .iter()
            .map(|g| {
                vec![
                    Cell::text(&g.key),
                    Cell::opt_text(g.name.clone()),
                    Cell::Int(g.count),
                    Cell::Yuan(g.discount_fen),
                ]
            })
            .collect(),
    ));
    tables.push((
        Table::new(
            "异地核销",
            &[
                "持卡人行政区划代码",
                "持卡人所在地区",
                "承担地区代码",
                "承担地区",
                "核销人次",
                "优惠金额（元）",
            ],
        ),
        r.cross_region
            .pairs
            .iter()
            .map(|p| {
                vec![
                    Cell::text(&p.holder_region_code),
                    Cell::opt_text(p.holder_region_name.clone()),
                    Cell::text(&p.bearing_region_code),
                    Cell::opt_text(p.bearing_region_name.clone()),
                    Cell::Int(p.count),
                    Cell::Yuan(p.discount_fen),
                ]
            })
            .collect(),
    ));
    tables.push((
        Table::new(
            "核销商户排行",
            &[
                "商户名称",
                "行政区划代码",
                "核销人次",
                "优惠金额（元）",
                "商户编号",
            ],
        ),
        r.top_merchants
            .iter()
            .map(|m| {
                vec![
                    Cell::text(&m.name),
                    Cell::text(&m.region_code),
                    Cell::Int(m.count),
                    Cell::Yuan(m.discount_fen),
                    Cell::Text(m.merchant_id.to_string()),
                ]
            })
            .collect(),
    ));
    tables
}

// ---------------------------------------------------------------- CSV

/// Turns chunks into CSV bytes: the BOM first, a header line per table, and, between
/// the tables of a multi-table export, an empty line and the table's name.
#[derive(Debug, Default)]
pub struct CsvEncoder {
    tables: usize,
}

/// Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) gets a leading
/// apostrophe: names and addresses come from public applications.
fn csv_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

fn csv_field(cell: &Cell) -> std::borrow::Cow<'_, str> {
    match cell {
        Cell::Text(text) => csv_text(text),
        Cell::Int(n) => n.to_string().into(),
        Cell::Yuan(fen) => yuan(*fen).into(),
        Cell::Number(x) => x.to_string().into(),
        Cell::Date(d) => d.format("%Y-%m-%d").to_string().into(),
        Cell::DateTime(t) => t.format("%Y-%m-%d %H:%M:%S").to_string().into(),
        Cell::Empty => "".into(),
    }
}

impl CsvEncoder {
    pub fn encode(&mut self, chunk: &Chunk) -> anyhow::Result<Bytes> {
        let mut out = Vec::with_capacity(match chunk {
            Chunk::Rows(rows) => rows.len() * 160,
            Chunk::Table(_) => 256,
        });
        match chunk {
            Chunk::Table(table) => {
                if self.tables == 0 {
                    out.extend_from_slice(UTF8_BOM);
                }
                // A multi-table CSV has lines of different widths.
                let mut writer = csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(&mut out);
                if self.tables > 0 {
                    writer.write_record([""])?;
                    writer.write_record([table.sheet.as_str()])?;
                }
                writer.write_record(&table.headers)?;
                writer.flush()?;
                drop(writer);
                self.tables += 1;
            }
            Chunk::Rows(rows) => {
                let mut writer = csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(&mut out);
                for row in rows {
                    writer.write_record(row.iter().map(|c| csv_field(c).into_owned()))?;
                }
                writer.flush()?;
            }
        }
        Ok(Bytes::from(out))
    }
}

/// Runs `request` and sends its CSV bytes to `out` as they are produced; returns the
/// number of rows. Stops with an error when `out` is closed (the client went away).
pub async fn write_csv(
    conn: &mut Conn<'_>,
    request: &ExportRequest,
    out: mpsc::Sender<std::io::Result<Bytes>>,
) -> anyhow::Result<u64> {
    let (tx, mut rx) = mpsc::channel::<Chunk>(CHANNEL_DEPTH);
    let encode = async move {
        let mut encoder = CsvEncoder::default();
        while let Some(chunk) = rx.recv().await {
            let bytes = encoder.encode(&chunk)?;
            out.send(Ok(bytes))
                .await
                .map_err(|_| anyhow::anyhow!("the CSV export's reader stopped"))?;
        }
        Ok::<_, anyhow::Error>(())
    };
    let produce = async move {
        let rows = produce(conn, request, &tx).await;
        drop(tx);
        rows
    };
    let (rows, encoded) = tokio::join!(produce, encode);
    encoded?;
    rows
}

// ---------------------------------------------------------------- Excel

/// Writes chunks into constant-memory worksheets: each row goes to a temporary file as
/// soon as the next row starts, so memory stays flat whatever the number of rows.
/// Blocking; runs on a blocking thread.
pub struct XlsxWriter {
    workbook: rust_xlsxwriter::Workbook,
    sheet: Option<rust_xlsxwriter::Worksheet>,
    table: Option<Table>,
    /// Sheets of the current table (a table longer than a sheet continues).
    part: u32,
    row: u32,
    header: rust_xlsxwriter::Format,
    date: rust_xlsxwriter::Format,
    datetime: rust_xlsxwriter::Format,
    money: rust_xlsxwriter::Format,
    max_rows: u32,
}

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> anyhow::Error {
    anyhow::anyhow!("writing the Excel file: {e}")
}

impl XlsxWriter {
    pub fn new() -> XlsxWriter {
        use rust_xlsxwriter::{Format, Workbook};
        XlsxWriter {
            workbook: Workbook::new(),
            sheet: None,
            table: None,
            part: 0,
            row: 0,
            header: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            money: Format::new().set_num_format("0.00"),
            max_rows: XLSX_MAX_ROWS,
        }
    }

    /// A smaller sheet size, so tests can see a table continue on a second sheet.
    pub fn with_max_rows(mut self, max_rows: u32) -> XlsxWriter {
        self.max_rows = max_rows.max(2);
        self
    }

    fn close_sheet(&mut self) {
        if let Some(sheet) = self.sheet.take() {
            self.workbook.push_worksheet(sheet);
        }
    }

    fn open_sheet(&mut self) -> anyhow::Result<()> {
        self.close_sheet();
        let table = self
            .table
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("rows before a table"))?;
        let mut sheet = self
            .workbook
            .new_worksheet_with_constant_memory()
            .map_err(xlsx_err)?;
        self.part += 1;
        let name = if self.part == 1 {
            table.sheet.clone()
        } else {
            format!("{}（{}）", table.sheet, self.part)
        };
        sheet.set_name(&name).map_err(xlsx_err)?;
        for (col, header) in table.headers.iter().enumerate() {
            let col = col as u16;
            // Wide enough for the header or a date and time, whichever is wider.
            let width = (header.chars().count() as f64 * 2.2 + 2.0).max(12.0);
            sheet.set_column_width(col, width).map_err(xlsx_err)?;
            sheet
                .write_string_with_format(0, col, *header, &self.header)
                .map_err(xlsx_err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
        self.sheet = Some(sheet);
        self.row = 1;
        Ok(())
    }

    pub fn write(&mut self, chunk: Chunk) -> anyhow::Result<()> {
        match chunk {
            Chunk::Table(table) => {
                self.table = Some(table);
                self.part = 0;
                self.open_sheet()
            }
            Chunk::Rows(rows) => {
                for row in rows {
                    if self.row >= self.max_rows {
                        self.open_sheet()?;
                    }
                    self.write_row(&row)?;
                    self.row += 1;
                }
                Ok(())
            }
        }
    }

    fn write_row(&mut self, cells: &[Cell]) -> anyhow::Result<()> {
        let row = self.row;
        let sheet = self
            .sheet
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("rows before a table"))?;
        for (col, cell) in cells.iter().enumerate() {
            let col = col as u16;
            let written = match cell {
                Cell::Text(text) => sheet.write_string(row, col, text),
                Cell::Int(n) => sheet.write_number(row, col, *n as f64),
                Cell::Yuan(fen) => {
                    sheet.write_number_with_format(row, col, *fen as f64 / 100.0, &self.money)
                }
                Cell::Number(x) => sheet.write_number(row, col, *x),
                Cell::Date(d) => sheet.write_date_with_format(row, col, d, &self.date),
                Cell::DateTime(t) => sheet.write_datetime_with_format(row, col, t, &self.datetime),
                Cell::Empty => continue,
            };
            written.map_err(xlsx_err)?;
        }
        Ok(())
    }

    /// Finishes the workbook into `path`.
    pub fn save(mut self, path: &Path) -> anyhow::Result<()> {
        self.close_sheet();
        self.workbook.save(path).map_err(xlsx_err)
    }
}

impl Default for XlsxWriter {
    fn default() -> Self {
        XlsxWriter::new()
    }
}

/// Runs `request` into an Excel file at `path`; returns the number of rows.
pub async fn write_xlsx(
    conn: &mut Conn<'_>,
    request: &ExportRequest,
    path: &Path,
) -> anyhow::Result<u64> {
    let (tx, mut rx) = mpsc::channel::<Chunk>(CHANNEL_DEPTH);
    let path = path.to_owned();
    let writer = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut writer = XlsxWriter::new();
        while let Some(chunk) = rx.blocking_recv() {
            writer.write(chunk)?;
        }
        writer.save(&path)
    });
    let rows = produce(conn, request, &tx).await;
    drop(tx);
    // The writer's error (a full disk) explains a producer's "consumer stopped".
    writer.await.context("the Excel writer panicked")??;
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_has_two_decimals() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(1234), "12.34");
        assert_eq!(yuan(100_000), "1000.00");
        assert_eq!(yuan(-250), "-2.50");
        assert_eq!(yuan(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn card_numbers_are_masked_like_the_api() {
        assert_eq!(card_no::mask("6217000012341234"), "6217********1234");
        assert_eq!(card_no::mask("12345678"), "********");
        assert_eq!(card_no::mask(""), "");
    }

    #[test]
    fn csv_starts_with_the_bom_and_the_headers() {
        let mut encoder = CsvEncoder::default();
        let head = encoder
            .encode(&Chunk::Table(Table::new("核销记录", REDEMPTION_HEADERS)))
            .unwrap();
        assert!(head.starts_with(UTF8_BOM));
        let text = std::str::from_utf8(&head[3..]).unwrap();
        assert!(text.starts_with("核销时间,商户名称,"), "{text}");
        let rows = encoder
            .encode(&Chunk::Rows(vec![vec![
                Cell::DateTime(
                    NaiveDate::from_ymd_opt(2026, 8, 1)
                        .unwrap()
                        .and_hms_opt(9, 5, 0)
                        .unwrap(),
                ),
                Cell::text("罗湖, \"拥军\" 药房"),
                Cell::Yuan(1990),
                Cell::Empty,
                Cell::Int(2),
            ]]))
            .unwrap();
        assert!(!rows.starts_with(UTF8_BOM));
        assert_eq!(
            std::str::from_utf8(&rows).unwrap(),
            "2026-08-01 09:05:00,\"罗湖, \"\"拥军\"\" 药房\",19.90,,2\n"
        );
        // A second table: no second BOM, a blank line and its name first.
        let next = encoder
            .encode(&Chunk::Table(Table::new("第二", &["甲", "乙"])))
            .unwrap();
        assert_eq!(std::str::from_utf8(&next).unwrap(), "\"\"\n第二\n甲,乙\n");
    }

    #[test]
    fn csv_defuses_formulas() {
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_text("-1+2"), "'-1+2");
        assert_eq!(csv_text("罗湖药房"), "罗湖药房");
        assert_eq!(csv_field(&Cell::Int(-3)), "-3");
    }

    #[test]
    fn file_names_are_rfc_5987_encoded() {
        let name = file_name(
            ExportKind::Redemptions,
            ExportFormat::Csv,
            Some("440300"),
            NaiveDate::from_ymd_opt(2026, 1, 1),
            NaiveDate::from_ymd_opt(2026, 8, 1),
        );
        assert_eq!(name, "核销记录_440300_20260101-20260801.csv");
        let header = content_disposition(&name, ExportFormat::Csv);
        assert_eq!(
            header,
            "attachment; filename=\"export.csv\"; \
             filename*=UTF-8''%E6%A0%B8%E9%94%80%E8%AE%B0%E5%BD%95_440300_20260101-20260801.csv"
        );
        assert_eq!(
            file_name(ExportKind::Merchants, ExportFormat::Xlsx, None, None, None),
            "拥军商户_全部.xlsx"
        );
    }

    #[test]
    fn labels_fall_back_to_the_code() {
        assert_eq!(merchant_status_label("active"), "已准入");
        assert_eq!(holder_category_label("veteran"), "退役军人");
        assert_eq!(offer_kind_label("priority_service"), "优先服务");
        assert_eq!(merchant_category_label("unknown_kind"), "unknown_kind");
        assert_eq!(
            honors_label(",second_class_merit,combat_hero,"),
            "二等功、战斗英雄"
        );
        assert_eq!(honors_label(","), "");
    }

    #[test]
    fn xlsx_tables_continue_on_a_further_sheet() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.xlsx");
        let mut writer = XlsxWriter::new().with_max_rows(3);
        writer
            .write(Chunk::Table(Table::new(
                "核销记录",
                &["时间", "金额（元）"],
            )))
            .unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        let rows = (0..5)
            .map(|i| vec![Cell::Date(day), Cell::Yuan(100 * i + 5)])
            .collect();
        writer.write(Chunk::Rows(rows)).unwrap();
        writer.save(&path).unwrap();

        use calamine::{Data, Reader};
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
        assert_eq!(
            book.sheet_names(),
            vec!["核销记录", "核销记录（2）", "核销记录（3）"]
        );
        let first = book.worksheet_range("核销记录").unwrap();
        assert_eq!(first.get((0, 1)), Some(&Data::String("金额（元）".into())));
        assert_eq!(first.get((1, 1)), Some(&Data::Float(0.05)));
        assert!(matches!(first.get((1, 0)), Some(Data::DateTime(_))));
        let last = book.worksheet_range("核销记录（3）").unwrap();
        assert_eq!(last.height(), 2);
        assert_eq!(last.get((1, 1)), Some(&Data::Float(4.05)));
    }
}
