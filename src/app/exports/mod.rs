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

use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

pub use self::figures::stats_tables;
pub use self::labels::*;
pub use self::model::*;
pub use self::tables::produce;
pub use self::writers::{write_csv, write_xlsx, CsvEncoder, XlsxWriter};
use crate::app::identity::StaffUser;
use crate::app::permissions::Operation;
use crate::app::stats::StatsScope;
use crate::db::audit::{self, Actor, AuditEntry};
use crate::db::exports::ExportFilter;
use crate::db::Conn;
use crate::domain::{china_midnight_utc, year_start, RegionCode};
use crate::error::{AppError, AppResult, Code};
use crate::validate::Fields;

mod figures;
mod labels;
mod model;
mod tables;
mod writers;

/// An export as asked for (the API's query, the command line's flags).
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `xlsx` (default) or `csv`.
    pub format: Option<String>,
    /// A region code (its whole subtree); default: the caller's region. Must lie inside
    /// the caller's region.
    pub region: Option<String>,
    /// First day, `YYYY-MM-DD`, China time, inclusive: of the redemption time, or of
    /// registration for merchants and beneficiaries. Default: no limit (for `stats`,
    /// 1 January of this year).
    pub from: Option<String>,
    /// Last day, inclusive. Default: no limit (for `stats`, today).
    pub to: Option<String>,
}

/// An export checked and ready to run.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    pub format: ExportFormat,
    pub request: ExportRequest,
    /// The region asked for, else the caller's (for the file name and the audit log).
    pub region: Option<RegionCode>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl ExportPlan {
    pub fn file_name(&self) -> String {
        file_name(
            self.request.kind,
            self.format,
            self.region.as_ref().map(RegionCode::as_str),
            self.from,
            self.to,
        )
    }
}

/// Checks an export: the kind (404 `export_not_found`), the fields (422
/// `validation_failed`) and, for a caller, its role and region (403). `caller` is `None`
/// on the command line, which sees everything.
pub fn plan(
    kind: &str,
    params: &ExportQuery,
    caller: Option<&StaffUser>,
    today: chrono::NaiveDate,
) -> AppResult<ExportPlan> {
    let kind = ExportKind::parse(kind).ok_or_else(|| {
        AppError::not_found(
            Code::ExportNotFound,
            "exports are merchants, redemptions, beneficiaries, stats and tasks",
        )
    })?;
    if let Some(caller) = caller {
        caller.require(Operation::ExportsRead)?;
    }
    let mut f = Fields::new();
    let format = f
        .optional_str("format", params.format.as_deref(), |raw| {
            ExportFormat::parse(&raw.to_ascii_lowercase()).ok_or("must be xlsx or csv")
        })
        .map(|format| format.unwrap_or(ExportFormat::Xlsx));
    let from = f.date("from", params.from.as_deref());
    let to = f.date("to", params.to.as_deref());
    if let (Some(Some(from)), Some(Some(to))) = (from, to) {
        if from > to {
            f.error("to", "must not be before from");
        }
    }
    let asked = f.region("region", params.region.as_deref());
    let (format, from, to, asked) = f.finish((format, from, to, asked))?;
    // The command line (no caller) sees everything.
    let region = match caller {
        Some(caller) => caller.scoped_region(asked)?,
        None => asked,
    };
    let filter = ExportFilter {
        region_likes: region.iter().map(RegionCode::like_pattern).collect(),
        // China days as UTC instants: [from 00:00, to + 1 day 00:00) at UTC+8.
        since: from.map(china_midnight_utc),
        until: to.map(|d| china_midnight_utc(d + chrono::Days::new(1))),
    };
    let stats_from = from.unwrap_or_else(|| year_start(today));
    let stats_scope = StatsScope {
        region: region.clone(),
        from: stats_from,
        to: to.unwrap_or(today).max(stats_from),
        today,
    };
    Ok(ExportPlan {
        format,
        request: ExportRequest {
            kind,
            filter,
            stats_scope,
            today,
        },
        region,
        from,
        to,
    })
}

/// Records the export in the audit log, in its own transaction, before any row leaves:
/// what, where and which filters; no rows.
pub async fn record(conn: &mut Conn<'_>, actor: &Actor, plan: &ExportPlan) -> AppResult<()> {
    let action = format!("export.{}", plan.request.kind.as_str());
    let details = serde_json::json!({
        "format": plan.format.as_str(),
        "region": plan.region.as_ref().map(RegionCode::as_str),
        "from": plan.from,
        "to": plan.to,
    });
    let region = plan.region.as_ref().map(RegionCode::as_str);
    conn.transaction(async |tx| {
        audit::record(
            tx,
            actor,
            AuditEntry {
                action: &action,
                entity_type: "export",
                entity_id: plan.request.kind.as_str().to_owned(),
                region_code: region,
                details: Some(details),
                ..Default::default()
            },
        )
        .await
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::labels::{honors_label, REDEMPTION_HEADERS};
    use super::writers::{csv_field, csv_text};
    use super::*;
    use crate::domain::card_no;

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
