//! What an export is made of: its kind and format, the file name, and the tables, rows
//! and cells that producers send to writers.

use chrono::{NaiveDate, NaiveDateTime};

use crate::app::stats::StatsScope;
use crate::db::exports::ExportFilter;

/// Rows read per query: large enough to amortise the round trip, small enough that a
/// batch is a few megabytes at most.
pub const BATCH_ROWS: i64 = 5000;

/// Batches in flight between the producer and the consumer.
pub(crate) const CHANNEL_DEPTH: usize = 4;

/// Rows of an Excel worksheet, the header included; a longer table continues on a
/// further sheet.
pub(crate) const XLSX_MAX_ROWS: u32 = 1_048_576;

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
    /// The joint task list's ledger (台账).
    Tasks,
}

impl ExportKind {
    pub const ALL: [ExportKind; 5] = [
        ExportKind::Merchants,
        ExportKind::Redemptions,
        ExportKind::Beneficiaries,
        ExportKind::Stats,
        ExportKind::Tasks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Merchants => "merchants",
            ExportKind::Redemptions => "redemptions",
            ExportKind::Beneficiaries => "beneficiaries",
            ExportKind::Stats => "stats",
            ExportKind::Tasks => "tasks",
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
            ExportKind::Tasks => "任务台账",
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
    /// China's date as the service sees it (`app::Clock`): what is overdue.
    pub today: chrono::NaiveDate,
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
    pub(crate) fn opt_text(value: Option<String>) -> Cell {
        value.map_or(Cell::Empty, Cell::Text)
    }

    pub(crate) fn text(value: &str) -> Cell {
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
    pub(crate) fn new(sheet: &str, headers: &[&'static str]) -> Table {
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
