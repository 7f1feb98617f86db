//! Spot checks (抽查): an inspection and its sampled merchants, with each one's result.

use chrono::NaiveDateTime;
use diesel::{
    ExpressionMethods, OptionalExtension, QueryDsl, QueryResult, SelectableHelper,
    TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use super::schema::{inspection_items, inspections, merchants};
use super::stored::{vocab_opt, Stored};
use super::{Conn, MerchantId, StaffUserId};
use crate::domain::oversight::InspectionOutcome;
use crate::with_conn;

crate::typed_id!(InspectionId);

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = inspections)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct InspectionRow {
    pub id: InspectionId,
    pub region_code: String,
    /// As requested; the sample holds `min(sample_size, population)` merchants.
    pub sample_size: i32,
    pub seed: i64,
    /// How many active merchants the sample was drawn from.
    pub population: i32,
    pub created_by: Option<StaffUserId>,
    pub created_by_label: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = inspection_items)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct InspectionItemRow {
    pub inspection_id: InspectionId,
    pub merchant_id: MerchantId,
    /// Rank in the sample, from 1.
    pub position: i32,
    pub outcome: Option<String>,
    pub notes: Option<String>,
    pub recorded_by: Option<StaffUserId>,
    pub recorded_at: Option<NaiveDateTime>,
}

impl InspectionItemRow {
    pub fn outcome(&self) -> Stored<Option<InspectionOutcome>> {
        let id = format!("{}/{}", self.inspection_id, self.merchant_id);
        vocab_opt("inspection_items", id, "outcome", self.outcome.as_deref())
    }
}

/// A sampled merchant with what an inspector needs to find it.
#[derive(Debug, Clone, diesel::Queryable)]
pub struct SampledMerchant {
    pub item: InspectionItemRow,
    pub name: String,
    pub address: String,
    pub category: String,
    pub region_code: String,
}

pub async fn insert(
    conn: &mut Conn<'_>,
    inspection: &InspectionRow,
    items: &[InspectionItemRow],
) -> QueryResult<()> {
    match conn {
        Conn::Pg(c) => {
            diesel::insert_into(inspections::table)
                .values(inspection)
                .execute(&mut **c)
                .await?;
            // 7 parameters a row: far below PostgreSQL's 65,535 per statement.
            for chunk in items.chunks(5000) {
                diesel::insert_into(inspection_items::table)
                    .values(chunk)
                    .execute(&mut **c)
                    .await?;
            }
        }
        // No multi-row VALUES with optional columns on SQLite (see beneficiaries).
        Conn::Sqlite(c) => {
            diesel::insert_into(inspections::table)
                .values(inspection)
                .execute(&mut **c)
                .await?;
            for item in items {
                diesel::insert_into(inspection_items::table)
                    .values(item)
                    .execute(&mut **c)
                    .await?;
            }
        }
    }
    Ok(())
}

pub async fn find(conn: &mut Conn<'_>, id: InspectionId) -> QueryResult<Option<InspectionRow>> {
    with_conn!(conn, |c| inspections::table
        .find(id)
        .select(InspectionRow::as_select())
        .first(c)
        .await
        .optional())
}

/// The sample of an inspection, in rank order.
pub async fn items(conn: &mut Conn<'_>, id: InspectionId) -> QueryResult<Vec<SampledMerchant>> {
    with_conn!(conn, |c| inspection_items::table
        .inner_join(merchants::table)
        .filter(inspection_items::inspection_id.eq(id))
        .order(inspection_items::position.asc())
        .select((
            InspectionItemRow::as_select(),
            merchants::name,
            merchants::address,
            merchants::category,
            merchants::region_code,
        ))
        .load(c)
        .await)
}

/// Inspections whose region lies in every pattern, newest first.
pub async fn list(
    conn: &mut Conn<'_>,
    region_likes: &[String],
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<InspectionRow>, i64)> {
    macro_rules! filtered {
        () => {{
            let mut query = inspections::table.into_boxed();
            for pattern in region_likes {
                query = query.filter(inspections::region_code.like(pattern.clone()));
            }
            query
        }};
    }
    with_conn!(conn, |c| crate::newest_first!(
        c,
        filtered!(),
        inspections,
        InspectionRow,
        offset,
        limit
    ))
}

/// `(inspection, outcome)` of every item of these inspections, for progress counts.
pub async fn outcomes(
    conn: &mut Conn<'_>,
    ids: &[InspectionId],
) -> QueryResult<Vec<(InspectionId, Option<String>)>> {
    with_conn!(conn, |c| inspection_items::table
        .filter(inspection_items::inspection_id.eq_any(ids))
        .select((inspection_items::inspection_id, inspection_items::outcome))
        .load(c)
        .await)
}

/// Records (or corrects) one merchant's result; `None` if it is not in the sample.
pub async fn record_result(
    conn: &mut Conn<'_>,
    id: InspectionId,
    merchant: MerchantId,
    outcome: &str,
    notes: Option<&str>,
    by: StaffUserId,
    at: NaiveDateTime,
) -> QueryResult<Option<InspectionItemRow>> {
    with_conn!(conn, |c| diesel::update(
        inspection_items::table
            .filter(inspection_items::inspection_id.eq(id))
            .filter(inspection_items::merchant_id.eq(merchant)),
    )
    .set((
        inspection_items::outcome.eq(Some(outcome)),
        inspection_items::notes.eq(notes),
        inspection_items::recorded_by.eq(Some(by)),
        inspection_items::recorded_at.eq(Some(at)),
    ))
    .returning(InspectionItemRow::as_returning())
    .get_result(c)
    .await
    .optional())
}

/// The merchant's most recently recorded spot-check result, if any.
pub async fn last_result(
    conn: &mut Conn<'_>,
    merchant: MerchantId,
) -> QueryResult<Option<InspectionItemRow>> {
    with_conn!(conn, |c| inspection_items::table
        .filter(inspection_items::merchant_id.eq(merchant))
        .filter(inspection_items::recorded_at.is_not_null())
        .order((
            inspection_items::recorded_at.desc(),
            inspection_items::inspection_id.desc()
        ))
        .select(InspectionItemRow::as_select())
        .first(c)
        .await
        .optional())
}
