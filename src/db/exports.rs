//! The rows of the exports, read in keyset-paginated batches so that an export of any
//! size holds one batch in memory at a time. Every batch query starts after the last
//! key of the previous batch and uses an index in that order.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, QueryDsl, QueryResult, SelectableHelper,
    TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use super::needs::{TaskId, TaskRow};
use super::schema::tasks;
use super::schema::{beneficiaries, card_products, cards, merchants, offers, redemptions, regions};
use super::{BeneficiaryId, Conn, MerchantId, RedemptionId};
use crate::with_conn;

/// What an export is limited to.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// `LIKE` patterns on the region code, all of which must match.
    pub region_likes: Vec<String>,
    /// UTC instants `[since, until)`: redemption time, or registration time of merchants
    /// and beneficiaries.
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, diesel::Queryable)]
pub struct MerchantExportRow {
    pub id: MerchantId,
    pub name: String,
    pub kind: String,
    pub credit_code: Option<String>,
    pub category: String,
    pub region_code: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub address: String,
    pub status: String,
    pub badge_no: Option<String>,
    pub agreement_no: Option<String>,
    pub agreement_start: Option<NaiveDate>,
    pub agreement_end: Option<NaiveDate>,
    pub admitted_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Merchants after `after` (by id), at most `limit`.
pub async fn merchants_batch(
    conn: &mut Conn<'_>,
    filter: &ExportFilter,
    after: Option<MerchantId>,
    limit: i64,
) -> QueryResult<Vec<MerchantExportRow>> {
    with_conn!(conn, |c| {
        let mut query = merchants::table
            .select((
                merchants::id,
                merchants::name,
                merchants::kind,
                merchants::credit_code,
                merchants::category,
                merchants::region_code,
                merchants::contact_name,
                merchants::contact_phone,
                merchants::address,
                merchants::status,
                merchants::badge_no,
                merchants::agreement_no,
                merchants::agreement_start,
                merchants::agreement_end,
                merchants::admitted_at,
                merchants::created_at,
            ))
            .order(merchants::id.asc())
            .limit(limit)
            .into_boxed();
        for pattern in &filter.region_likes {
            query = query.filter(merchants::region_code.like(pattern.clone()));
        }
        if let Some(since) = filter.since {
            query = query.filter(merchants::created_at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(merchants::created_at.lt(until));
        }
        if let Some(after) = after {
            query = query.filter(merchants::id.gt(after));
        }
        query.load::<MerchantExportRow>(c).await
    })
}

/// A beneficiary as exported: the masked ID number and phone only; the encrypted
/// columns are never read.
#[derive(Debug, Clone, diesel::Queryable)]
pub struct BeneficiaryExportRow {
    pub id: BeneficiaryId,
    pub name: String,
    pub id_number_masked: String,
    pub phone_masked: Option<String>,
    pub category: String,
    pub honors: String,
    pub region_code: String,
    pub relation: Option<String>,
    pub created_at: NaiveDateTime,
}

pub async fn beneficiaries_batch(
    conn: &mut Conn<'_>,
    filter: &ExportFilter,
    after: Option<BeneficiaryId>,
    limit: i64,
) -> QueryResult<Vec<BeneficiaryExportRow>> {
    with_conn!(conn, |c| {
        let mut query = beneficiaries::table
            .select((
                beneficiaries::id,
                beneficiaries::name,
                beneficiaries::id_number_masked,
                beneficiaries::phone_masked,
                beneficiaries::category,
                beneficiaries::honors,
                beneficiaries::region_code,
                beneficiaries::relation,
                beneficiaries::created_at,
            ))
            .order(beneficiaries::id.asc())
            .limit(limit)
            .into_boxed();
        for pattern in &filter.region_likes {
            query = query.filter(beneficiaries::region_code.like(pattern.clone()));
        }
        if let Some(since) = filter.since {
            query = query.filter(beneficiaries::created_at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(beneficiaries::created_at.lt(until));
        }
        if let Some(after) = after {
            query = query.filter(beneficiaries::id.gt(after));
        }
        query.load::<BeneficiaryExportRow>(c).await
    })
}

/// The card products of the beneficiaries of one batch that are live now (active or
/// suspended), by beneficiary.
pub async fn live_card_products(
    conn: &mut Conn<'_>,
    ids: &[BeneficiaryId],
) -> QueryResult<HashMap<BeneficiaryId, Vec<String>>> {
    let rows: Vec<(BeneficiaryId, String)> = with_conn!(conn, |c| cards::table
        .filter(cards::beneficiary_id.eq_any(ids))
        .filter(cards::status.eq_any(["active", "suspended"]))
        .select((cards::beneficiary_id, cards::product))
        .order((cards::beneficiary_id.asc(), cards::product.asc()))
        .load(c)
        .await)?;
    let mut map: HashMap<BeneficiaryId, Vec<String>> = HashMap::new();
    for (id, product) in rows {
        map.entry(id).or_default().push(product);
    }
    Ok(map)
}

#[derive(Debug, Clone, diesel::Queryable)]
pub struct RedemptionExportRow {
    pub id: RedemptionId,
    pub redeemed_at: NaiveDateTime,
    pub merchant_name: String,
    pub merchant_region_code: String,
    pub merchant_category: String,
    pub offer_title: String,
    pub offer_kind: String,
    pub card_no: String,
    pub card_product: String,
    pub holder_category: String,
    pub holder_region_code: String,
    pub bill_fen: Option<i64>,
    pub discount_fen: i64,
    pub companions: i32,
    pub status: String,
    pub void_reason: Option<String>,
    pub voided_at: Option<NaiveDateTime>,
}

/// Redemptions at merchants of the region, in time order, after `(redeemed_at, id)`.
pub async fn redemptions_batch(
    conn: &mut Conn<'_>,
    filter: &ExportFilter,
    after: Option<(NaiveDateTime, RedemptionId)>,
    limit: i64,
) -> QueryResult<Vec<RedemptionExportRow>> {
    with_conn!(conn, |c| {
        let mut query = redemptions::table
            .inner_join(merchants::table.on(merchants::id.eq(redemptions::merchant_id)))
            .inner_join(offers::table.on(offers::id.eq(redemptions::offer_id)))
            .inner_join(cards::table.on(cards::id.eq(redemptions::card_id)))
            .select((
                redemptions::id,
                redemptions::redeemed_at,
                merchants::name,
                redemptions::merchant_region_code,
                redemptions::merchant_category,
                offers::title,
                redemptions::offer_kind,
                cards::card_no,
                redemptions::card_product,
                redemptions::holder_category,
                redemptions::holder_region_code,
                redemptions::bill_fen,
                redemptions::discount_fen,
                redemptions::companions,
                redemptions::status,
                redemptions::void_reason,
                redemptions::voided_at,
            ))
            .order((redemptions::redeemed_at.asc(), redemptions::id.asc()))
            .limit(limit)
            .into_boxed();
        for pattern in &filter.region_likes {
            query = query.filter(redemptions::merchant_region_code.like(pattern.clone()));
        }
        if let Some(since) = filter.since {
            query = query.filter(redemptions::redeemed_at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(redemptions::redeemed_at.lt(until));
        }
        if let Some((time, id)) = after {
            query = query.filter(
                redemptions::redeemed_at
                    .gt(time)
                    .or(redemptions::redeemed_at
                        .eq(time)
                        .and(redemptions::id.gt(id))),
            );
        }
        query.load::<RedemptionExportRow>(c).await
    })
}

/// Every region's name by code (a few thousand rows, read once per export).
pub async fn region_names(conn: &mut Conn<'_>) -> QueryResult<HashMap<String, String>> {
    let rows: Vec<(String, String)> = with_conn!(conn, |c| regions::table
        .select((regions::code, regions::name))
        .load(c)
        .await)?;
    Ok(rows.into_iter().collect())
}

/// Every card product's name by code.
pub async fn card_product_names(conn: &mut Conn<'_>) -> QueryResult<HashMap<String, String>> {
    let rows: Vec<(String, String)> = with_conn!(conn, |c| card_products::table
        .select((card_products::code, card_products::name))
        .load(c)
        .await)?;
    Ok(rows.into_iter().collect())
}

/// A batch of the joint task list (台账) in the filter's regions, created in its window,
/// by id.
pub async fn tasks_batch(
    conn: &mut Conn<'_>,
    filter: &ExportFilter,
    after: Option<TaskId>,
    limit: i64,
) -> QueryResult<Vec<TaskRow>> {
    with_conn!(conn, |c| {
        let mut query = tasks::table
            .select(TaskRow::as_select())
            .order(tasks::id.asc())
            .limit(limit)
            .into_boxed();
        for pattern in &filter.region_likes {
            query = query.filter(tasks::region_code.like(pattern.clone()));
        }
        if let Some(since) = filter.since {
            query = query.filter(tasks::created_at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(tasks::created_at.lt(until));
        }
        if let Some(after) = after {
            query = query.filter(tasks::id.gt(after));
        }
        query.load(c).await
    })
}
