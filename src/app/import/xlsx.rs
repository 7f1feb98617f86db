//! Reading an XLSX import with bounded memory and time, whatever the file.
//!
//! An XLSX file is a zip of XML parts, and a zip can claim or hide any size: a
//! 797 KiB "zip bomb" once took 2.4 GB and five seconds before it was refused. So,
//! before the workbook is opened, every part is decompressed into nothing while it is
//! counted ([`check_parts`]), and refused past its bound; then the first sheet is read
//! cell by cell from its XML stream (never as a whole range, which a single cell at
//! `XFD1048576` would make sixteen billion cells large), each cell bounded too.

use std::io::{Cursor, Read};

use tokio::sync::mpsc;

use super::read::{RawRow, BATCH_ROWS};

/// What an import's workbook may decompress to, and hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// All parts together.
    pub total: u64,
    /// The shared strings table, which the reader holds in memory.
    pub shared_strings: u64,
    /// Any other single part (a sheet is streamed, but its time counts).
    pub part: u64,
    /// Parts in the zip.
    pub parts: usize,
    /// Characters of one cell.
    pub cell_chars: usize,
    /// Columns read; cells further right are ignored (the import knows eight).
    pub columns: usize,
}

impl Limits {
    /// About four times what a million beneficiaries in a real workbook take.
    pub const DEFAULT: Limits = Limits {
        total: 1 << 30,
        shared_strings: 256 << 20,
        part: 1 << 30,
        parts: 1_000,
        cell_chars: 4_096,
        columns: 64,
    };
}

const MIB: u64 = 1 << 20;

/// Decompresses every part of the zip, counting, without keeping anything; the first
/// bound passed is the refusal (in Chinese, for the clerk, with the English after it).
pub fn check_parts(bytes: &[u8], limits: Limits) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("不是可读的 XLSX 文件 (not a readable XLSX workbook: {e})"))?;
    if zip.len() > limits.parts {
        return Err(format!(
            "XLSX 文件包含的部件过多 (the workbook has more than {} parts)",
            limits.parts
        ));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut part = zip
            .by_index(i)
            .map_err(|e| format!("XLSX 文件已损坏 (a part of the workbook is unreadable: {e})"))?;
        let name = part.name().map(|n| n.into_owned()).unwrap_or_default();
        let bound = if name.ends_with("sharedStrings.xml") {
            limits.shared_strings
        } else {
            limits.part
        };
        // One byte past the bound is enough to know it is too large.
        let allowed = bound.min(limits.total - total) + 1;
        let size = std::io::copy(&mut (&mut part).take(allowed), &mut std::io::sink())
            .map_err(|e| format!("XLSX 文件已损坏 (the part {name} does not decompress: {e})"))?;
        if size > bound {
            return Err(format!(
                "XLSX 文件解压后过大 (the part {name} decompresses to more than {} MiB)",
                bound / MIB
            ));
        }
        total += size;
        if total > limits.total {
            return Err(format!(
                "XLSX 文件解压后过大 (the workbook decompresses to more than {} MiB)",
                limits.total / MIB
            ));
        }
    }
    Ok(())
}

/// Reads the first sheet (after [`check_parts`]) and sends its header, then its rows in
/// batches, as `read_csv` does. Rows are numbered as the spreadsheet shows them.
pub fn read_xlsx(
    bytes: Vec<u8>,
    limits: Limits,
    header_tx: tokio::sync::oneshot::Sender<Result<Vec<String>, String>>,
    rows_tx: mpsc::Sender<Vec<RawRow>>,
) {
    use calamine::Reader;
    if let Err(refusal) = check_parts(&bytes, limits) {
        let _ = header_tx.send(Err(refusal));
        return;
    }
    let mut workbook = match calamine::Xlsx::new(Cursor::new(bytes)) {
        Ok(w) => w,
        Err(e) => {
            let _ = header_tx.send(Err(format!("not a readable XLSX workbook: {e}")));
            return;
        }
    };
    let Some(first) = workbook.sheet_names().first().cloned() else {
        let _ = header_tx.send(Err("the workbook has no readable sheet".into()));
        return;
    };
    let mut cells = match workbook.worksheet_cells_reader(&first) {
        Ok(cells) => cells,
        Err(_) => {
            let _ = header_tx.send(Err("the workbook has no readable sheet".into()));
            return;
        }
    };
    let mut rows = Rows {
        header_tx: Some(header_tx),
        rows_tx,
        batch: Vec::with_capacity(BATCH_ROWS),
        current: None,
    };
    loop {
        let cell = match cells.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(e) => {
                if rows.header_tx.is_some() {
                    rows.refuse(format!(
                        "XLSX 工作表无法读取 (the sheet is unreadable: {e})"
                    ));
                    return;
                }
                // As a broken CSV line: a row that fails, then the end of what is readable.
                rows.broken(rows.current.as_ref().map_or(0, |(r, _)| r + 1));
                break;
            }
        };
        let (row, column) = cell.get_position();
        let (row, column) = (row as usize, column as usize);
        if column >= limits.columns {
            continue;
        }
        let text = super::read::cell_text(&calamine::Data::from(cell.get_value().clone()));
        let fits = text.chars().count() <= limits.cell_chars;
        if !fits && rows.header_tx.is_some() {
            rows.refuse(format!(
                "表头的单元格超过 {} 个字符 (a header cell is longer than {} characters)",
                limits.cell_chars, limits.cell_chars
            ));
            return;
        }
        let more = if fits {
            rows.put(row, column, text)
        } else {
            rows.broken(row)
        };
        if !more {
            return;
        }
    }
    rows.finish();
}

/// Marks a row that cannot be read: it reaches the import as one cell the checks refuse,
/// so the clerk sees its number, as for a broken CSV line.
const BROKEN: &str = "\u{0}unreadable";

/// The rows being assembled from the cell stream.
struct Rows {
    header_tx: Option<tokio::sync::oneshot::Sender<Result<Vec<String>, String>>>,
    rows_tx: mpsc::Sender<Vec<RawRow>>,
    batch: Vec<RawRow>,
    /// The row being read: its index (from 0) and its cells so far.
    current: Option<(usize, Vec<String>)>,
}

impl Rows {
    /// Adds a cell; false when the reader should stop (nobody listens any more).
    fn put(&mut self, row: usize, column: usize, text: String) -> bool {
        if self.current.as_ref().is_some_and(|(r, _)| *r != row) && !self.flush() {
            return false;
        }
        let (_, cells) = self.current.get_or_insert_with(|| (row, Vec::new()));
        if cells.first().is_some_and(|c| c == BROKEN) {
            return true;
        }
        if cells.len() <= column {
            cells.resize(column + 1, String::new());
        }
        cells[column] = text;
        true
    }

    /// Ends the current row: the first is the header, the others join the batch.
    fn flush(&mut self) -> bool {
        let Some((row, cells)) = self.current.take() else {
            return true;
        };
        if let Some(header_tx) = self.header_tx.take() {
            return header_tx.send(Ok(cells)).is_ok();
        }
        if cells.iter().all(|c| c.trim().is_empty()) {
            return true;
        }
        self.batch.push((row + 1, cells));
        if self.batch.len() == BATCH_ROWS {
            return self
                .rows_tx
                .blocking_send(std::mem::take(&mut self.batch))
                .is_ok();
        }
        true
    }

    /// Row `row` cannot be read: it becomes one [`BROKEN`] cell, and its other cells
    /// are ignored.
    fn broken(&mut self, row: usize) -> bool {
        if self.current.as_ref().is_some_and(|(r, _)| *r != row) && !self.flush() {
            return false;
        }
        self.current = Some((row, vec![BROKEN.to_owned()]));
        true
    }

    /// The file is refused before its header was sent.
    fn refuse(mut self, refusal: String) {
        if let Some(header_tx) = self.header_tx.take() {
            let _ = header_tx.send(Err(refusal));
        }
    }

    fn finish(mut self) {
        if !self.flush() {
            return;
        }
        match self.header_tx.take() {
            Some(header_tx) => {
                let _ = header_tx.send(Err("the sheet is empty".into()));
            }
            None => {
                if !self.batch.is_empty() {
                    let _ = self.rows_tx.blocking_send(std::mem::take(&mut self.batch));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(parts: &[(&str, usize)]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, size) in parts {
            out.start_file(*name, options).unwrap();
            out.write_all(&vec![b' '; *size]).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    const SMALL: Limits = Limits {
        total: 3 * MIB,
        shared_strings: MIB,
        part: 2 * MIB,
        parts: 4,
        cell_chars: 10,
        columns: 8,
    };

    #[test]
    fn parts_within_their_bounds_pass() {
        let bytes = zip_of(&[
            ("xl/sharedStrings.xml", MIB as usize),
            ("xl/worksheets/sheet1.xml", 2 * MIB as usize),
        ]);
        assert_eq!(check_parts(&bytes, SMALL), Ok(()));
    }

    #[test]
    fn each_bound_refuses() {
        let shared = zip_of(&[("xl/sharedStrings.xml", MIB as usize + 1)]);
        assert!(check_parts(&shared, SMALL)
            .unwrap_err()
            .contains("sharedStrings.xml"));
        let part = zip_of(&[("xl/worksheets/sheet1.xml", 2 * MIB as usize + 1)]);
        assert!(check_parts(&part, SMALL)
            .unwrap_err()
            .contains("more than 2 MiB"));
        let whole = zip_of(&[("a", 2 * MIB as usize), ("b", 2 * MIB as usize)]);
        assert!(check_parts(&whole, SMALL)
            .unwrap_err()
            .contains("the workbook decompresses to more than 3 MiB"));
        let many = zip_of(&[("a", 1), ("b", 1), ("c", 1), ("d", 1), ("e", 1)]);
        assert!(check_parts(&many, SMALL)
            .unwrap_err()
            .contains("more than 4 parts"));
        assert!(check_parts(b"not a zip", SMALL)
            .unwrap_err()
            .contains("not a readable XLSX"));
    }
}
