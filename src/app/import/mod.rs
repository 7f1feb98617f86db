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

pub mod read;
pub mod start;
pub mod xlsx;

pub use self::read::{Column, FileKind, Header, RawRow, BATCH_ROWS};
pub use self::start::{start_reader, ReaderSource};
use crate::app::beneficiaries::{invalidate_cards_of, BeneficiaryInput, CreateBeneficiaryRequest};
use crate::app::identity::AdminUser;
use crate::app::permissions::Operation;
use crate::cache::Cache;
use crate::crypto::DataCipher;
use crate::db::audit::{self, Actor, AuditEntry};
use crate::db::beneficiaries::{self, BeneficiaryChanges, BeneficiaryRow};
use crate::db::{self, BeneficiaryId, Conn, Db};
use crate::domain::{RegionCode, Role};
use crate::error::{AppError, AppResult, Code, FieldError};

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
    ) -> Result<ImportReport, AppError> {
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
                            AppError::internal(anyhow::anyhow!("unexpected rollback"))
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
                    invalidate_cards_of(self.cache, &mut conn, chunk).await?;
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

        let mut inserts: Vec<BeneficiaryRow> = Vec::new();
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
                let mut replacement = input.to_new(self.cipher).map_err(AppError::internal)?;
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
                    let new = input.to_new(self.cipher).map_err(AppError::internal)?;
                    audits.push((
                        new.id.to_string(),
                        new.region_code.clone(),
                        "beneficiary.import_create",
                    ));
                    inserts.push(new);
                    report.created += 1;
                }
                Some(current) => {
                    let changes = self.changes(current, &input).map_err(AppError::internal)?;
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
        let get = |c| header.get(cells, c);
        let owned = |c| get(c).map(str::to_owned);
        let request = CreateBeneficiaryRequest {
            name: owned(Column::Name),
            id_number: owned(Column::IdNumber),
            phone: owned(Column::Phone),
            category: owned(Column::Category),
            honors: owned(Column::Honors).into_iter().collect(),
            region_code: owned(Column::RegionCode),
            primary_beneficiary_id: None,
            relation: owned(Column::Relation),
        };
        // The region is checked even when other fields fail, so a row's report is whole.
        let region_error = get(Column::RegionCode)
            .and_then(|raw| RegionCode::parse(raw).ok())
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
        let mut input = match BeneficiaryInput::parse(&request) {
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
                match crate::domain::id_number::IdNumber::parse(raw) {
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

/// An office imports an uploaded file (the API): rows outside the caller's region are
/// refused row by row.
pub async fn import_upload(
    db: &Db,
    cache: &Cache,
    cipher: &DataCipher,
    admin: &AdminUser,
    mode: Mode,
    file_name: Option<&str>,
    bytes: Vec<u8>,
) -> AppResult<ImportReport> {
    admin.require(Operation::BeneficiariesWrite)?;
    let scope = match (admin.role, &admin.region) {
        (Role::SuperAdmin, _) => None,
        (_, Some(region)) => Some(region.clone()),
        (_, None) => {
            return Err(AppError::forbidden(
                Code::Forbidden,
                "your account has no region",
            ))
        }
    };
    let kind = FileKind::detect(file_name, &bytes);
    let (header, batches) = start_reader(kind, ReaderSource::Bytes(bytes)).await?;
    let importer = Importer {
        cipher,
        cache,
        actor: admin.actor(),
        scope,
        mode,
    };
    let report = importer.run(db, &header, batches, |_| {}).await?;
    tracing::info!(
        rows = report.rows,
        created = report.created,
        updated = report.updated,
        failed = report.failed_count,
        stored = report.stored,
        "beneficiary import finished"
    );
    Ok(report)
}

/// Why a transaction of the import ended early.
enum ImportAbort {
    Rollback,
    Api(AppError),
}

impl From<diesel::result::Error> for ImportAbort {
    fn from(e: diesel::result::Error) -> Self {
        ImportAbort::Api(e.into())
    }
}

impl From<AppError> for ImportAbort {
    fn from(e: AppError) -> Self {
        ImportAbort::Api(e)
    }
}

async fn all_region_codes(conn: &mut Conn<'_>) -> Result<HashSet<String>, AppError> {
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
