//! The consumers of an export: CSV bytes as they come, or constant-memory Excel
//! worksheets on a blocking thread.

use std::path::Path;

use anyhow::Context;
use bytes::Bytes;
use tokio::sync::mpsc;

use super::model::{
    yuan, Cell, Chunk, ExportRequest, Table, CHANNEL_DEPTH, UTF8_BOM, XLSX_MAX_ROWS,
};
use super::tables::produce;
use crate::db::Conn;

// ---------------------------------------------------------------- CSV

/// Turns chunks into CSV bytes: the BOM first, a header line per table, and, between
/// the tables of a multi-table export, an empty line and the table's name.
#[derive(Debug, Default)]
pub struct CsvEncoder {
    tables: usize,
}

/// Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) gets a leading
/// apostrophe: names and addresses come from public applications.
pub(crate) fn csv_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

pub(crate) fn csv_field(cell: &Cell) -> std::borrow::Cow<'_, str> {
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
