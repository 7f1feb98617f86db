//! The producers of each export: they read rows in keyset-paginated batches and send
//! them as [`Chunk`]s.

use std::collections::HashMap;

use anyhow::Context;
use tokio::sync::mpsc;

use super::figures::stats_tables;
use super::labels::*;
use super::model::{Cell, Chunk, ExportKind, ExportRequest, Table, BATCH_ROWS};
use crate::app::stats;
use crate::db::exports::{self as q, ExportFilter};
use crate::db::Conn;
use crate::domain::{card_no, to_china};

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
        ExportKind::Merchants => produce_merchants(conn, request, tx).await,
        ExportKind::Redemptions => produce_redemptions(conn, &request.filter, tx).await,
        ExportKind::Beneficiaries => produce_beneficiaries(conn, &request.filter, tx).await,
        ExportKind::Tasks => produce_tasks(conn, request, tx).await,
        ExportKind::Stats => {
            let figures = stats::compute(conn, &request.stats_scope)
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

/// A table read in keyset-paginated batches: what one batch is, where the next starts,
/// and the cells of a batch (which may read more, such as a holder's cards).
trait Batches {
    type Row;
    type Key: Copy;
    const WHAT: &'static str;

    async fn fetch(
        &mut self,
        conn: &mut Conn<'_>,
        after: Option<Self::Key>,
    ) -> diesel::QueryResult<Vec<Self::Row>>;

    fn key(row: &Self::Row) -> Self::Key;

    async fn cells(
        &mut self,
        conn: &mut Conn<'_>,
        batch: Vec<Self::Row>,
    ) -> anyhow::Result<Vec<Vec<Cell>>>;
}

/// Sends `table` and then every batch of `batches`; the number of rows.
async fn keyset<B: Batches>(
    conn: &mut Conn<'_>,
    tx: &mpsc::Sender<Chunk>,
    table: Table,
    mut batches: B,
) -> anyhow::Result<u64> {
    send(tx, Chunk::Table(table)).await?;
    let mut after = None;
    let mut total = 0u64;
    loop {
        let batch = batches
            .fetch(conn, after)
            .await
            .with_context(|| format!("reading {}", B::WHAT))?;
        let Some(last) = batch.last() else { break };
        after = Some(B::key(last));
        let full = batch.len() as i64 == BATCH_ROWS;
        total += batch.len() as u64;
        let rows = batches.cells(conn, batch).await?;
        send(tx, Chunk::Rows(rows)).await?;
        if !full {
            break;
        }
    }
    Ok(total)
}

struct Merchants<'a> {
    filter: &'a ExportFilter,
    names: HashMap<String, String>,
    today: chrono::NaiveDate,
}

impl Batches for Merchants<'_> {
    type Row = q::MerchantExportRow;
    type Key = crate::db::MerchantId;
    const WHAT: &'static str = "merchants";

    async fn fetch(
        &mut self,
        conn: &mut Conn<'_>,
        after: Option<Self::Key>,
    ) -> diesel::QueryResult<Vec<Self::Row>> {
        q::merchants_batch(conn, self.filter, after, BATCH_ROWS).await
    }

    fn key(row: &Self::Row) -> Self::Key {
        row.id
    }

    async fn cells(
        &mut self,
        _conn: &mut Conn<'_>,
        batch: Vec<Self::Row>,
    ) -> anyhow::Result<Vec<Vec<Cell>>> {
        let names = &self.names;
        Ok(batch
            .into_iter()
            .map(|m| {
                let status = crate::domain::merchant::MerchantStatus::parse(&m.status)
                    .map(|s| {
                        crate::domain::merchant::effective_status(s, m.agreement_end, self.today)
                    })
                    .map_or(m.status.clone(), |s| s.as_str().to_owned());
                vec![
                    Cell::Text(m.name),
                    Cell::text(merchant_kind_label(&m.kind)),
                    Cell::opt_text(m.credit_code),
                    Cell::text(merchant_category_label(&m.category)),
                    Cell::text(&m.region_code),
                    region_name(names, &m.region_code),
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
            .collect())
    }
}

async fn produce_merchants(
    conn: &mut Conn<'_>,
    request: &ExportRequest,
    tx: &mpsc::Sender<Chunk>,
) -> anyhow::Result<u64> {
    let batches = Merchants {
        filter: &request.filter,
        names: q::region_names(conn).await.context("reading regions")?,
        today: request.today,
    };
    keyset(conn, tx, Table::new("拥军商户", MERCHANT_HEADERS), batches).await
}

struct Beneficiaries<'a> {
    filter: &'a ExportFilter,
    names: HashMap<String, String>,
    products: HashMap<String, String>,
}

impl Batches for Beneficiaries<'_> {
    type Row = q::BeneficiaryExportRow;
    type Key = crate::db::BeneficiaryId;
    const WHAT: &'static str = "beneficiaries";

    async fn fetch(
        &mut self,
        conn: &mut Conn<'_>,
        after: Option<Self::Key>,
    ) -> diesel::QueryResult<Vec<Self::Row>> {
        q::beneficiaries_batch(conn, self.filter, after, BATCH_ROWS).await
    }

    fn key(row: &Self::Row) -> Self::Key {
        row.id
    }

    async fn cells(
        &mut self,
        conn: &mut Conn<'_>,
        batch: Vec<Self::Row>,
    ) -> anyhow::Result<Vec<Vec<Cell>>> {
        let ids: Vec<_> = batch.iter().map(|b| b.id).collect();
        let mut cards = q::live_card_products(conn, &ids)
            .await
            .context("reading cards")?;
        Ok(batch
            .into_iter()
            .map(|b| {
                let held = cards
                    .remove(&b.id)
                    .unwrap_or_default()
                    .iter()
                    .map(|p| self.products.get(p).cloned().unwrap_or_else(|| p.clone()))
                    .collect::<Vec<_>>()
                    .join("、");
                vec![
                    Cell::Text(b.name),
                    Cell::Text(b.id_number_masked),
                    Cell::opt_text(b.phone_masked),
                    Cell::text(holder_category_label(&b.category)),
                    Cell::Text(honors_label(&b.honors)),
                    Cell::text(&b.region_code),
                    region_name(&self.names, &b.region_code),
                    Cell::opt_text(b.relation),
                    Cell::Text(held),
                    Cell::DateTime(to_china(b.created_at)),
                    Cell::Text(b.id.to_string()),
                ]
            })
            .collect())
    }
}

async fn produce_beneficiaries(
    conn: &mut Conn<'_>,
    filter: &ExportFilter,
    tx: &mpsc::Sender<Chunk>,
) -> anyhow::Result<u64> {
    let batches = Beneficiaries {
        filter,
        names: q::region_names(conn).await.context("reading regions")?,
        products: q::card_product_names(conn)
            .await
            .context("reading card products")?,
    };
    keyset(
        conn,
        tx,
        Table::new("优抚对象", BENEFICIARY_HEADERS),
        batches,
    )
    .await
}

struct Redemptions<'a> {
    filter: &'a ExportFilter,
    names: HashMap<String, String>,
    products: HashMap<String, String>,
}

impl Batches for Redemptions<'_> {
    type Row = q::RedemptionExportRow;
    type Key = (chrono::NaiveDateTime, crate::db::RedemptionId);
    const WHAT: &'static str = "redemptions";

    async fn fetch(
        &mut self,
        conn: &mut Conn<'_>,
        after: Option<Self::Key>,
    ) -> diesel::QueryResult<Vec<Self::Row>> {
        q::redemptions_batch(conn, self.filter, after, BATCH_ROWS).await
    }

    fn key(row: &Self::Row) -> Self::Key {
        (row.redeemed_at, row.id)
    }

    async fn cells(
        &mut self,
        _conn: &mut Conn<'_>,
        batch: Vec<Self::Row>,
    ) -> anyhow::Result<Vec<Vec<Cell>>> {
        let names = &self.names;
        Ok(batch
            .into_iter()
            .map(|r| {
                vec![
                    Cell::DateTime(to_china(r.redeemed_at)),
                    Cell::Text(r.merchant_name),
                    Cell::text(&r.merchant_region_code),
                    region_name(names, &r.merchant_region_code),
                    Cell::text(merchant_category_label(&r.merchant_category)),
                    Cell::Text(r.offer_title),
                    Cell::text(offer_kind_label(&r.offer_kind)),
                    Cell::Text(card_no::mask(&r.card_no)),
                    Cell::Text(
                        self.products
                            .get(&r.card_product)
                            .cloned()
                            .unwrap_or(r.card_product),
                    ),
                    Cell::text(holder_category_label(&r.holder_category)),
                    Cell::text(&r.holder_region_code),
                    region_name(names, &r.holder_region_code),
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
            .collect())
    }
}

async fn produce_redemptions(
    conn: &mut Conn<'_>,
    filter: &ExportFilter,
    tx: &mpsc::Sender<Chunk>,
) -> anyhow::Result<u64> {
    let batches = Redemptions {
        filter,
        names: q::region_names(conn).await.context("reading regions")?,
        products: q::card_product_names(conn)
            .await
            .context("reading card products")?,
    };
    keyset(
        conn,
        tx,
        Table::new("核销记录", REDEMPTION_HEADERS),
        batches,
    )
    .await
}

struct Tasks<'a> {
    filter: &'a ExportFilter,
    names: HashMap<String, String>,
    today: chrono::NaiveDate,
}

impl Batches for Tasks<'_> {
    type Row = crate::db::needs::TaskRow;
    type Key = crate::db::needs::TaskId;
    const WHAT: &'static str = "tasks";

    async fn fetch(
        &mut self,
        conn: &mut Conn<'_>,
        after: Option<Self::Key>,
    ) -> diesel::QueryResult<Vec<Self::Row>> {
        q::tasks_batch(conn, self.filter, after, BATCH_ROWS).await
    }

    fn key(row: &Self::Row) -> Self::Key {
        row.id
    }

    /// Each task with its progress notes, oldest first, one line each (China day, text,
    /// attachments' names).
    async fn cells(
        &mut self,
        conn: &mut Conn<'_>,
        batch: Vec<Self::Row>,
    ) -> anyhow::Result<Vec<Vec<Cell>>> {
        use crate::domain::needs::{is_overdue, TaskDirection, TaskStatus};
        let ids: Vec<_> = batch.iter().map(|t| t.id).collect();
        let mut progress: HashMap<_, Vec<String>> = HashMap::new();
        for event in crate::db::needs::events_of(conn, &ids)
            .await
            .context("reading the tasks' progress")?
        {
            if event.kind != "note" {
                continue;
            }
            let mut line = format!(
                "{} {}",
                to_china(event.created_at).format("%Y-%m-%d"),
                event.body
            );
            let attachments = event.attachment_names();
            if !attachments.is_empty() {
                line.push_str(&format!("（附件：{}）", attachments.join("、")));
            }
            progress.entry(event.task_id).or_default().push(line);
        }
        let yes_no = |b: bool| Cell::text(if b { "是" } else { "否" });
        Ok(batch
            .into_iter()
            .map(|t| {
                let status = TaskStatus::parse(&t.status);
                let overdue = status.is_some_and(|s| is_overdue(s, t.deadline, self.today));
                let direction =
                    TaskDirection::parse(&t.direction).map_or(t.direction.as_str(), |d| d.label());
                vec![
                    Cell::text(direction),
                    Cell::Text(t.title),
                    Cell::text(&t.region_code),
                    region_name(&self.names, &t.region_code),
                    Cell::Text(t.owner_unit),
                    Cell::Text(t.owner_user),
                    Cell::Text(t.measures),
                    Cell::Date(t.deadline),
                    Cell::text(status.map_or(t.status.as_str(), |s| s.label())),
                    yes_no(overdue),
                    t.started_at
                        .map_or(Cell::Empty, |at| Cell::DateTime(to_china(at))),
                    t.done_at
                        .map_or(Cell::Empty, |at| Cell::DateTime(to_china(at))),
                    progress
                        .remove(&t.id)
                        .map_or(Cell::Empty, |lines| Cell::Text(lines.join("\n"))),
                    Cell::opt_text(t.evidence),
                    Cell::opt_text(t.close_reason),
                    yes_no(t.publish),
                    Cell::DateTime(to_china(t.created_at)),
                    Cell::Text(t.id.to_string()),
                ]
            })
            .collect())
    }
}

async fn produce_tasks(
    conn: &mut Conn<'_>,
    request: &ExportRequest,
    tx: &mpsc::Sender<Chunk>,
) -> anyhow::Result<u64> {
    let batches = Tasks {
        filter: &request.filter,
        names: q::region_names(conn).await.context("reading regions")?,
        today: request.today,
    };
    keyset(conn, tx, Table::new("任务台账", TASK_HEADERS), batches).await
}
