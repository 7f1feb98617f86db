//! Reading an import file (CSV streamed, UTF-8 or GB18030; XLSX) on a blocking thread,
//! its header first, then its rows in batches through a bounded channel.

use std::collections::HashMap;

use tokio::sync::mpsc;

use crate::error::{AppError, AppResult, Code};

/// Rows per batch: one round trip of lookups and one insert per batch.
pub const BATCH_ROWS: usize = 1000;

/// The known columns, by their English or Chinese header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Name,
    IdNumber,
    Phone,
    Category,
    Honors,
    RegionCode,
    Relation,
    PrimaryIdNumber,
}

impl Column {
    pub fn from_header(header: &str) -> Option<Column> {
        let h = header.trim().trim_start_matches('\u{feff}').to_lowercase();
        Some(match h.as_str() {
            "name" | "姓名" => Column::Name,
            "id_number" | "身份证号" | "身份证号码" | "公民身份号码" => {
                Column::IdNumber
            }
            "phone" | "手机号" | "手机号码" | "联系电话" | "电话" => Column::Phone,
            "category" | "类别" | "优抚类别" | "人员类别" => Column::Category,
            "honors" | "荣誉" | "立功受奖" => Column::Honors,
            "region_code" | "行政区划" | "行政区划代码" | "区划代码" => {
                Column::RegionCode
            }
            "relation" | "关系" | "与军人关系" => Column::Relation,
            "primary_id_number" | "军人身份证号" | "主体身份证号" => {
                Column::PrimaryIdNumber
            }
            _ => return None,
        })
    }
}

/// Where each known column sits in a row.
#[derive(Debug, Clone)]
pub struct Header(HashMap<Column, usize>);

impl Header {
    /// Reads the header row; the name, ID number, category and region columns are required.
    pub fn parse(cells: &[String]) -> AppResult<Header> {
        let mut map = HashMap::new();
        for (i, cell) in cells.iter().enumerate() {
            if let Some(column) = Column::from_header(cell) {
                map.entry(column).or_insert(i);
            }
        }
        let required = [
            (Column::Name, "name/姓名"),
            (Column::IdNumber, "id_number/身份证号"),
            (Column::Category, "category/类别"),
            (Column::RegionCode, "region_code/行政区划"),
        ];
        let missing: Vec<&str> = required
            .iter()
            .filter(|(c, _)| !map.contains_key(c))
            .map(|(_, n)| *n)
            .collect();
        if missing.is_empty() {
            Ok(Header(map))
        } else {
            Err(AppError::unprocessable(
                Code::MissingColumns,
                format!("the header row lacks: {}", missing.join(", ")),
            )
            .with("missing_columns", missing))
        }
    }

    pub(crate) fn get<'a>(&self, row: &'a [String], column: Column) -> Option<&'a str> {
        self.0
            .get(&column)
            .and_then(|i| row.get(*i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

/// One data row with its row number in the file.
pub type RawRow = (usize, Vec<String>);

/// The kind of file, from its name or its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Xlsx,
}

impl FileKind {
    pub fn detect(name: Option<&str>, first_bytes: &[u8]) -> FileKind {
        let by_name = name.map(|n| n.to_lowercase());
        if by_name.as_deref().is_some_and(|n| n.ends_with(".xlsx"))
            || first_bytes.starts_with(b"PK\x03\x04")
        {
            FileKind::Xlsx
        } else {
            FileKind::Csv
        }
    }
}

/// Reads a CSV stream on the current (blocking) thread, sending the header first and
/// then batches of rows. Returns when the file ends or the receiver goes away.
pub fn read_csv<R: std::io::Read>(
    reader: R,
    encoding: Option<&'static encoding_rs::Encoding>,
    header_tx: tokio::sync::oneshot::Sender<Result<Vec<String>, String>>,
    rows_tx: mpsc::Sender<Vec<RawRow>>,
) {
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(encoding)
        .bom_sniffing(true)
        .build(reader);
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(decoded);
    let mut records = csv.records();
    let header = match records.next() {
        Some(Ok(record)) => record.iter().map(str::to_owned).collect(),
        Some(Err(e)) => {
            let _ = header_tx.send(Err(format!("unreadable header row: {e}")));
            return;
        }
        None => {
            let _ = header_tx.send(Err("the file is empty".into()));
            return;
        }
    };
    if header_tx.send(Ok(header)).is_err() {
        return;
    }
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    for (i, record) in records.enumerate() {
        let row = i + 2;
        let cells = match record {
            Ok(record) => record.iter().map(str::to_owned).collect(),
            // A broken line becomes a row that fails validation with a clear message.
            Err(_) => vec![String::from("\u{0}unreadable")],
        };
        if cells.iter().all(|c: &String| c.trim().is_empty()) {
            continue;
        }
        batch.push((row, cells));
        if batch.len() == BATCH_ROWS && rows_tx.blocking_send(std::mem::take(&mut batch)).is_err() {
            return;
        }
    }
    if !batch.is_empty() {
        let _ = rows_tx.blocking_send(batch);
    }
}

/// A cell as text. Spreadsheets store long digit strings (ID numbers, phones) as
/// floats when typed as numbers: render whole floats without a decimal point.
pub(super) fn cell_text(cell: &calamine::Data) -> String {
    match cell {
        calamine::Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{}", *f as i64),
        calamine::Data::Int(i) => i.to_string(),
        other => other.to_string(),
    }
}

/// UTF-8 (with or without BOM) unless the sample is not UTF-8: then GB18030, which is
/// what Excel writes for "CSV" on a Chinese Windows.
pub(super) fn csv_encoding(sample: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    match std::str::from_utf8(sample) {
        Ok(_) => None,
        // A character cut at the end of the sample is still UTF-8.
        Err(e) if e.error_len().is_none() => None,
        Err(_) => Some(encoding_rs::GB18030),
    }
}
