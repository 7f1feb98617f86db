//! Bulk import of beneficiaries from CSV or XLSX, shared by the API and the CLI.
//!
//! Rows arrive in batches through a bounded channel, so a file of a million rows is
//! never held in memory at once: a reader (a blocking thread) parses the file, the
//! importer validates, matches existing people by the keyed hash of their ID number,
//! and writes each batch with one multi-row insert. Importing the same file twice
//! changes nothing the second time.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use crate::cache::{keys, Cache};
use crate::crypto::DataCipher;
use crate::db::audit::{self, Actor, AuditEntry};
use crate::db::beneficiaries::{self, BeneficiaryChanges, BeneficiaryRow, NewBeneficiary};
use crate::db::{self, BeneficiaryId, Conn, Db};
use crate::domain::RegionCode;
use crate::error::{ApiError, FieldError};
use crate::routes::beneficiaries::{BeneficiaryInput, CreateBeneficiaryRequest};

/// Rows per batch: one round trip of lookups and one insert per batch.
pub const BATCH_ROWS: usize = 1000;
/// Failed rows reported in detail; beyond that they are only counted.
pub const MAX_REPORTED_FAILURES: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One bad row stores nothing (the default).
    AllOrNothing,
    /// Good rows are stored, bad rows reported.
    Partial,
}

impl Mode {
    pub fn parse(raw: &str) -> Option<Mode> {
        match raw.trim() {
            "all_or_nothing" => Some(Mode::AllOrNothing),
            "partial" => Some(Mode::Partial),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowFailure {
    /// The row number in the file, the header being row 1.
    pub row: usize,
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Default, Clone, Serialize, ToSchema)]
#[schema(example = json!({"mode": "all_or_nothing", "stored": true, "rows": 3, "created": 2, "updated": 1,
    "unchanged": 0, "failed_count": 0, "failed": []}))]
pub struct ImportReport {
    pub mode: Option<Mode>,
    /// Whether anything was written: false when `all_or_nothing` met a bad row.
    pub stored: bool,
    /// Data rows read.
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed_count: usize,
    /// The first 1,000 failed rows, each with its errors.
    pub failed: Vec<RowFailure>,
}

impl ImportReport {
    fn fail(&mut self, row: usize, errors: Vec<FieldError>) {
        self.failed_count += 1;
        if self.failed.len() < MAX_REPORTED_FAILURES {
            self.failed.push(RowFailure { row, errors });
        }
    }
}

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
    fn from_header(header: &str) -> Option<Column> {
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
    pub fn parse(cells: &[String]) -> Result<Header, ApiError> {
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
            Err(ApiError::unprocessable(
                "missing_columns",
                format!("the header row lacks: {}", missing.join(", ")),
            )
            .with("missing_columns", missing))
        }
    }

    fn get<'a>(&self, row: &'a [String], column: Column) -> Option<&'a str> {
        self.0
            .get(&column)
            .and_then(|i| row.get(*i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

/// One data row with its row number in the file.
pub type RawRow = (usize, Vec<String>);

/// Who imports and within what.
pub struct Importer<'a> {
    pub cipher: &'a DataCipher,
    pub cache: &'a Cache,
    pub actor: Actor,
    /// Rows outside this region are refused (`None`: anywhere, for the CLI).
    pub scope: Option<RegionCode>,
    pub mode: Mode,
}

/// A row that passed every check, with what matching needs.
struct Candidate {
    row: usize,
    input: BeneficiaryInput,
    hash: String,
    primary_hash: Option<String>,
}

enum Outcome {
    Done(ImportReport),
    /// All-or-nothing met a bad row: roll back, then report.
    RolledBack(ImportReport),
}

impl Importer<'_> {
    /// Imports every batch received; `progress` is called with the rows read so far.
    pub async fn run(
        &self,
        db: &Db,
        header: &Header,
        mut batches: mpsc::Receiver<Vec<RawRow>>,
        mut progress: impl FnMut(usize),
    ) -> Result<ImportReport, ApiError> {
        let mut pooled = db.get().await?;
        let mut conn = pooled.conn();
        let known_regions = all_region_codes(&mut conn).await?;
        let mut report = ImportReport {
            mode: Some(self.mode),
            ..Default::default()
        };
        let mut touched: Vec<BeneficiaryId> = Vec::new();
        let outcome = match self.mode {
            Mode::AllOrNothing => {
                let result = conn
                    .transaction(async |tx| {
                        while let Some(batch) = batches.recv().await {
                            self.batch(
                                tx,
                                header,
                                &known_regions,
                                batch,
                                &mut report,
                                &mut touched,
                            )
                            .await?;
                            progress(report.rows);
                        }
                        if report.failed_count > 0 {
                            // Rolls the transaction back; the report goes out below.
                            return Err(ImportAbort::Rollback);
                        }
                        Ok(())
                    })
                    .await;
                match result {
                    Ok(()) => Outcome::Done(report),
                    Err(ImportAbort::Rollback) => Outcome::RolledBack(report),
                    Err(ImportAbort::Api(e)) => return Err(e),
                }
            }
            Mode::Partial => {
                while let Some(batch) = batches.recv().await {
                    let mut batch_touched = Vec::new();
                    let mut attempt = report.clone();
                    conn.transaction(async |tx| {
                        self.batch(
                            tx,
                            header,
                            &known_regions,
                            batch,
                            &mut attempt,
                            &mut batch_touched,
                        )
                        .await
                    })
                    .await
                    .map_err(|e: ImportAbort| match e {
                        ImportAbort::Api(e) => e,
                        ImportAbort::Rollback => {
                            ApiError::internal(anyhow::anyhow!("unexpected rollback"))
                        }
                    })?;
                    report = attempt;
                    touched.extend(batch_touched);
                    progress(report.rows);
                }
                Outcome::Done(report)
            }
        };
        match outcome {
            Outcome::RolledBack(mut report) => {
                report.stored = false;
                report.created = 0;
                report.updated = 0;
                report.unchanged = 0;
                Ok(report)
            }
            Outcome::Done(mut report) => {
                report.stored = report.created + report.updated > 0;
                // Changed people may hold cards: the counter must see the change.
                for chunk in touched.chunks(BATCH_ROWS) {
                    let cards = db::cards::ids_for_beneficiaries(&mut conn, chunk).await?;
                    if let Err(error) = self
                        .cache
                        .invalidate(cards.iter().map(keys::card).collect())
                        .await
                    {
                        tracing::warn!(%error, "cache invalidation failed; entries expire by their TTL");
                    }
                }
                Ok(report)
            }
        }
    }

    async fn batch(
        &self,
        tx: &mut Conn<'_>,
        header: &Header,
        known_regions: &HashSet<String>,
        batch: Vec<RawRow>,
        report: &mut ImportReport,
        touched: &mut Vec<BeneficiaryId>,
    ) -> Result<(), ImportAbort> {
        report.rows += batch.len();
        let mut candidates: Vec<Candidate> = Vec::with_capacity(batch.len());
        for (row, cells) in batch {
            match self.check(header, known_regions, &cells) {
                Ok(candidate) => candidates.push(Candidate { row, ..candidate }),
                Err(errors) => report.fail(row, errors),
            }
        }
        // What already exists: people named by these rows, and primaries they link to.
        let mut hashes: Vec<String> = candidates.iter().map(|c| c.hash.clone()).collect();
        hashes.extend(candidates.iter().filter_map(|c| c.primary_hash.clone()));
        hashes.sort();
        hashes.dedup();
        let mut existing: HashMap<String, BeneficiaryRow> =
            beneficiaries::find_by_hashes(tx, &hashes)
                .await?
                .into_iter()
                .map(|r| (r.id_number_hash.clone(), r))
                .collect();

        let mut inserts: Vec<NewBeneficiary> = Vec::new();
        let mut audits: Vec<(String, String, &'static str)> = Vec::new();
        for candidate in candidates {
            let primary_id = match &candidate.primary_hash {
                None => None,
                Some(hash) => match existing.get(hash) {
                    Some(primary) => Some(primary.id),
                    None => match inserts.iter().find(|n| &n.id_number_hash == hash) {
                        Some(primary) => Some(primary.id),
                        None => {
                            report.fail(
                                candidate.row,
                                vec![FieldError::new(
                                    "primary_id_number",
                                    "no beneficiary with this ID number (list the service member first)",
                                )],
                            );
                            continue;
                        }
                    },
                },
            };
            let mut input = candidate.input;
            input.primary_beneficiary_id = primary_id;
            // The same person twice in one batch: the later row wins, as in the file.
            if let Some(pending) = inserts
                .iter_mut()
                .find(|n| n.id_number_hash == candidate.hash)
            {
                let mut replacement = input.to_new(self.cipher).map_err(ApiError::internal)?;
                replacement.id = pending.id;
                let same = (
                    &pending.name,
                    &pending.category,
                    &pending.honors,
                    &pending.region_code,
                    &pending.phone_masked,
                    &pending.relation,
                ) == (
                    &replacement.name,
                    &replacement.category,
                    &replacement.honors,
                    &replacement.region_code,
                    &replacement.phone_masked,
                    &replacement.relation,
                );
                if same {
                    report.unchanged += 1;
                } else {
                    report.updated += 1;
                }
                *pending = replacement;
                continue;
            }
            match existing.get(&candidate.hash) {
                None => {
                    let new = input.to_new(self.cipher).map_err(ApiError::internal)?;
                    audits.push((
                        new.id.to_string(),
                        new.region_code.clone(),
                        "beneficiary.import_create",
                    ));
                    inserts.push(new);
                    report.created += 1;
                }
                Some(current) => {
                    let changes = self.changes(current, &input).map_err(ApiError::internal)?;
                    match changes {
                        None => report.unchanged += 1,
                        Some(changes) => {
                            let updated = beneficiaries::update(tx, current.id, &changes).await?;
                            audits.push((
                                updated.id.to_string(),
                                updated.region_code.clone(),
                                "beneficiary.import_update",
                            ));
                            touched.push(updated.id);
                            existing.insert(candidate.hash.clone(), updated);
                            report.updated += 1;
                        }
                    }
                }
            }
        }
        beneficiaries::insert_many(tx, &inserts).await?;
        let entries: Vec<AuditEntry<'_>> = audits
            .iter()
            .map(|(id, region, action)| AuditEntry {
                action,
                entity_type: "beneficiary",
                entity_id: id.clone(),
                region_code: Some(region),
                ..Default::default()
            })
            .collect();
        audit::record_many(tx, &self.actor, entries).await?;
        Ok(())
    }

    /// Parses and checks one row.
    fn check(
        &self,
        header: &Header,
        known_regions: &HashSet<String>,
        cells: &[String],
    ) -> Result<Candidate, Vec<FieldError>> {
        let get = |c| header.get(cells, c).map(str::to_owned);
        let request = CreateBeneficiaryRequest {
            name: get(Column::Name),
            id_number: get(Column::IdNumber),
            phone: get(Column::Phone),
            category: get(Column::Category),
            honors: get(Column::Honors).into_iter().collect(),
            region_code: get(Column::RegionCode),
            primary_beneficiary_id: None,
            relation: get(Column::Relation),
        };
        // The region is checked even when other fields fail, so a row's report is whole.
        let region_error = get(Column::RegionCode)
            .and_then(|raw| RegionCode::parse(&raw).ok())
            .and_then(|region| {
                if !known_regions.contains(region.as_str()) {
                    Some(FieldError::new("region_code", "no region has this code"))
                } else if self
                    .scope
                    .as_ref()
                    .is_some_and(|scope| !scope.contains(&region))
                {
                    Some(FieldError::new("region_code", "is outside your region"))
                } else {
                    None
                }
            });
        let mut input = match BeneficiaryInput::parse(request) {
            Ok(input) => input,
            Err(mut errors) => {
                if let Some(e) = region_error {
                    errors.retain(|f| f.field != "region_code");
                    errors.push(e);
                }
                return Err(errors);
            }
        };
        let mut errors: Vec<FieldError> = region_error.into_iter().collect();
        let primary_hash = match get(Column::PrimaryIdNumber) {
            None => None,
            Some(raw) if input.category.is_family() => {
                match crate::domain::id_number::IdNumber::parse(&raw) {
                    Ok(id) => Some(self.cipher.lookup_hash(id.expose())),
                    Err(m) => {
                        errors.push(FieldError::new("primary_id_number", m));
                        None
                    }
                }
            }
            Some(_) => {
                errors.push(FieldError::new(
                    "primary_id_number",
                    "only family categories link to a primary beneficiary",
                ));
                None
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        input.primary_beneficiary_id = None;
        Ok(Candidate {
            row: 0,
            hash: self.cipher.lookup_hash(input.id_number.expose()),
            input,
            primary_hash,
        })
    }

    /// What differs between the stored person and the row; `None` when nothing does.
    fn changes(
        &self,
        current: &BeneficiaryRow,
        input: &BeneficiaryInput,
    ) -> anyhow::Result<Option<BeneficiaryChanges>> {
        let mut changes = BeneficiaryChanges::default();
        let mut any = false;
        if current.name != input.name {
            changes.name = Some(input.name.clone());
            any = true;
        }
        if current.category != input.category.as_str() {
            changes.category = Some(input.category.as_str().to_owned());
            any = true;
        }
        let honors = input.honors_stored();
        if current.honors != honors {
            changes.honors = Some(honors);
            any = true;
        }
        if current.region_code != input.region.as_str() {
            changes.region_code = Some(input.region.as_str().to_owned());
            any = true;
        }
        if input.relation.is_some() && current.relation != input.relation {
            changes.relation = Some(input.relation.clone());
            any = true;
        }
        if input.primary_beneficiary_id.is_some()
            && current.primary_beneficiary_id != input.primary_beneficiary_id
        {
            changes.primary_beneficiary_id = Some(input.primary_beneficiary_id);
            any = true;
        }
        // Phones are encrypted with a fresh nonce each time: compare the plaintext.
        let stored_phone = current
            .phone_enc
            .as_deref()
            .map(|p| self.cipher.decrypt(p))
            .transpose()?;
        let new_phone = input.phone.as_ref().map(|p| p.as_str().to_owned());
        if new_phone.is_some() && stored_phone != new_phone {
            changes.phone_enc = Some(
                new_phone
                    .as_deref()
                    .map(|p| self.cipher.encrypt(p))
                    .transpose()?,
            );
            changes.phone_masked = Some(input.phone.as_ref().map(|p| p.masked()));
            any = true;
        }
        if any {
            changes.updated_at = Some(db::now());
        }
        Ok(any.then_some(changes))
    }
}

/// Why a transaction of the import ended early.
enum ImportAbort {
    Rollback,
    Api(ApiError),
}

impl From<diesel::result::Error> for ImportAbort {
    fn from(e: diesel::result::Error) -> Self {
        ImportAbort::Api(e.into())
    }
}

impl From<ApiError> for ImportAbort {
    fn from(e: ApiError) -> Self {
        ImportAbort::Api(e)
    }
}

async fn all_region_codes(conn: &mut Conn<'_>) -> Result<HashSet<String>, ApiError> {
    let mut codes = HashSet::new();
    let mut stack = vec![None::<String>];
    // Three levels: provinces, cities, counties.
    while let Some(parent) = stack.pop() {
        for region in db::regions::children(conn, parent.as_deref()).await? {
            stack.push(Some(region.code.clone()));
            codes.insert(region.code);
        }
    }
    Ok(codes)
}

// ---------- readers ----------

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

/// Reads the first sheet of an XLSX workbook (held in memory: XLSX is a zip) and
/// sends it as [`read_csv`] does.
pub fn read_xlsx(
    bytes: Vec<u8>,
    header_tx: tokio::sync::oneshot::Sender<Result<Vec<String>, String>>,
    rows_tx: mpsc::Sender<Vec<RawRow>>,
) {
    use calamine::Reader;
    let mut workbook = match calamine::Xlsx::new(std::io::Cursor::new(bytes)) {
        Ok(w) => w,
        Err(e) => {
            let _ = header_tx.send(Err(format!("not a readable XLSX workbook: {e}")));
            return;
        }
    };
    let range = match workbook.worksheet_range_at(0) {
        Some(Ok(range)) => range,
        _ => {
            let _ = header_tx.send(Err("the workbook has no readable sheet".into()));
            return;
        }
    };
    let mut rows = range.rows();
    let header = match rows.next() {
        Some(cells) => cells.iter().map(cell_text).collect(),
        None => {
            let _ = header_tx.send(Err("the sheet is empty".into()));
            return;
        }
    };
    if header_tx.send(Ok(header)).is_err() {
        return;
    }
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    for (i, cells) in rows.enumerate() {
        let cells: Vec<String> = cells.iter().map(cell_text).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        batch.push((i + 2, cells));
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
fn cell_text(cell: &calamine::Data) -> String {
    match cell {
        calamine::Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{}", *f as i64),
        calamine::Data::Int(i) => i.to_string(),
        other => other.to_string(),
    }
}

/// UTF-8 (with or without BOM) unless the sample is not UTF-8: then GB18030, which is
/// what Excel writes for "CSV" on a Chinese Windows.
fn csv_encoding(sample: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    match std::str::from_utf8(sample) {
        Ok(_) => None,
        // A character cut at the end of the sample is still UTF-8.
        Err(e) if e.error_len().is_none() => None,
        Err(_) => Some(encoding_rs::GB18030),
    }
}

/// Starts a reader thread for `kind` and returns the header and the batch receiver.
pub async fn start_reader(
    kind: FileKind,
    source: ReaderSource,
) -> Result<(Header, mpsc::Receiver<Vec<RawRow>>), ApiError> {
    let (header_tx, header_rx) = tokio::sync::oneshot::channel();
    // Four batches in flight at most: memory stays bounded whatever the file size.
    let (rows_tx, rows_rx) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || match (kind, source) {
        (FileKind::Csv, ReaderSource::Bytes(bytes)) => {
            let encoding = csv_encoding(&bytes);
            read_csv(std::io::Cursor::new(bytes), encoding, header_tx, rows_tx)
        }
        (FileKind::Csv, ReaderSource::File(mut file)) => {
            let mut sample = vec![0u8; 64 * 1024];
            let encoding = match std::io::Read::read(&mut file, &mut sample)
                .and_then(|n| std::io::Seek::rewind(&mut file).map(|_| n))
            {
                Ok(n) => csv_encoding(&sample[..n]),
                Err(e) => {
                    let _ = header_tx.send(Err(format!("cannot read the file: {e}")));
                    return;
                }
            };
            read_csv(std::io::BufReader::new(file), encoding, header_tx, rows_tx)
        }
        (FileKind::Xlsx, ReaderSource::Bytes(bytes)) => read_xlsx(bytes, header_tx, rows_tx),
        (FileKind::Xlsx, ReaderSource::File(mut file)) => {
            let mut bytes = Vec::new();
            match std::io::Read::read_to_end(&mut file, &mut bytes) {
                Ok(_) => read_xlsx(bytes, header_tx, rows_tx),
                Err(e) => {
                    let _ = header_tx.send(Err(format!("cannot read the file: {e}")));
                }
            }
        }
    });
    let header = header_rx
        .await
        .map_err(|_| ApiError::internal(anyhow::anyhow!("the reader stopped")))?
        .map_err(|m| ApiError::unprocessable("unreadable_file", m))?;
    Ok((Header::parse(&header)?, rows_rx))
}

pub enum ReaderSource {
    Bytes(Vec<u8>),
    File(std::fs::File),
}
