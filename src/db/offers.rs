//! Offers, redemptions, per-holder usage and idempotency keys.

use chrono::NaiveDateTime;
use diesel::{
    BoolExpressionMethods, EscapeExpressionMethods, ExpressionMethods, JoinOnDsl,
    OptionalExtension, QueryDsl, QueryResult, SelectableHelper, TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use super::merchants::MerchantRow;
use super::schema::{holder_usage, idempotency_keys, merchants, offers, redemptions};
use super::stored::{vocab, vocab_list, vocab_opt, Stored};
use super::{BeneficiaryId, CardId, Conn, MerchantId, OfferId, RedemptionId, TerminalId};
use crate::domain::beneficiary::{Category, Honor};
use crate::domain::offer::{HolderPeriod, OfferKind, OfferStatus, RedemptionStatus};
use crate::with_conn;

#[derive(
    Debug,
    Clone,
    serde::Serialize,
    serde::Deserialize,
    diesel::Queryable,
    diesel::Selectable,
    diesel::Insertable,
)]
#[diesel(table_name = offers)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OfferRow {
    pub id: OfferId,
    pub merchant_id: MerchantId,
    pub title: String,
    pub description: String,
    pub kind: String,
    pub percent_off: Option<i32>,
    pub amount_off_fen: Option<i64>,
    pub price_fen: Option<i64>,
    pub gift: Option<String>,
    pub eligible_categories: String,
    pub min_honor: Option<String>,
    pub companions_allowed: i32,
    pub valid_from: NaiveDateTime,
    pub valid_until: Option<NaiveDateTime>,
    pub recurring_dates: String,
    pub total_quota: Option<i64>,
    pub used_total: i64,
    pub per_holder_limit: Option<i32>,
    pub per_holder_period: Option<String>,
    pub channel: String,
    pub card_products: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl OfferRow {
    pub fn status(&self) -> Stored<OfferStatus> {
        vocab("offers", self.id, "status", &self.status)
    }

    pub fn kind(&self) -> Stored<OfferKind> {
        vocab("offers", self.id, "kind", &self.kind)
    }

    pub fn period(&self) -> Stored<Option<HolderPeriod>> {
        vocab_opt(
            "offers",
            self.id,
            "per_holder_period",
            self.per_holder_period.as_deref(),
        )
    }

    pub fn categories(&self) -> Stored<Vec<Category>> {
        vocab_list(
            "offers",
            self.id,
            "eligible_categories",
            &self.eligible_categories,
        )
    }

    pub fn min_honor(&self) -> Stored<Option<Honor>> {
        vocab_opt("offers", self.id, "min_honor", self.min_honor.as_deref())
    }
}

pub async fn insert_offer(conn: &mut Conn<'_>, row: &OfferRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(offers::table)
        .values(row)
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn find_offer(conn: &mut Conn<'_>, id: OfferId) -> QueryResult<Option<OfferRow>> {
    with_conn!(conn, |c| offers::table
        .find(id)
        .select(OfferRow::as_select())
        .first(c)
        .await
        .optional())
}

/// A merchant and, when it is theirs, one of its offers, in one round trip (the
/// redemption path): `None` when there is no such merchant.
pub async fn merchant_with_offer(
    conn: &mut Conn<'_>,
    merchant: MerchantId,
    offer: OfferId,
) -> QueryResult<Option<(super::merchants::MerchantRow, Option<OfferRow>)>> {
    use super::merchants::MerchantRow;
    use super::schema::merchants;
    with_conn!(conn, |c| merchants::table
        .left_join(
            offers::table.on(offers::merchant_id
                .eq(merchants::id)
                .and(offers::id.eq(offer)))
        )
        .filter(merchants::id.eq(merchant))
        .select((MerchantRow::as_select(), Option::<OfferRow>::as_select()))
        .first(c)
        .await
        .optional())
}

/// Replaces an offer's editable columns and status (the caller decides both).
pub async fn save_offer(conn: &mut Conn<'_>, row: &OfferRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::update(offers::table.find(row.id))
        .set((
            offers::title.eq(&row.title),
            offers::description.eq(&row.description),
            offers::kind.eq(&row.kind),
            offers::percent_off.eq(row.percent_off),
            offers::amount_off_fen.eq(row.amount_off_fen),
            offers::price_fen.eq(row.price_fen),
            offers::gift.eq(&row.gift),
            offers::eligible_categories.eq(&row.eligible_categories),
            offers::min_honor.eq(&row.min_honor),
            offers::companions_allowed.eq(row.companions_allowed),
            offers::valid_from.eq(row.valid_from),
            offers::valid_until.eq(row.valid_until),
            offers::recurring_dates.eq(&row.recurring_dates),
            offers::total_quota.eq(row.total_quota),
            offers::per_holder_limit.eq(row.per_holder_limit),
            offers::per_holder_period.eq(&row.per_holder_period),
            offers::channel.eq(&row.channel),
            offers::card_products.eq(&row.card_products),
            offers::status.eq(&row.status),
            offers::status_reason.eq(&row.status_reason),
            offers::updated_at.eq(row.updated_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

/// Offers of one merchant, optionally of one status.
pub async fn merchant_offers(
    conn: &mut Conn<'_>,
    merchant: MerchantId,
    status: Option<&str>,
) -> QueryResult<Vec<OfferRow>> {
    with_conn!(conn, |c| {
        let mut query = offers::table
            .filter(offers::merchant_id.eq(merchant))
            .order((offers::created_at.asc(), offers::id.asc()))
            .select(OfferRow::as_select())
            .into_boxed();
        if let Some(status) = status {
            query = query.filter(offers::status.eq(status));
        }
        query.load(c).await
    })
}

/// Which offers an office's queue or a merchant's list shows.
#[derive(Debug, Default, Clone)]
pub struct OfferFilter {
    pub merchant: Option<MerchantId>,
    pub status: Option<String>,
    /// `LIKE` patterns of the merchant's region; every one must match.
    pub region_likes: Vec<String>,
    /// Substring of the title, the description or the merchant's name.
    pub q: Option<String>,
}

macro_rules! filtered_offers {
    ($filter:expr) => {{
        let filter = $filter;
        let mut query = offers::table.inner_join(merchants::table).into_boxed();
        if let Some(merchant) = filter.merchant {
            query = query.filter(offers::merchant_id.eq(merchant));
        }
        if let Some(status) = &filter.status {
            query = query.filter(offers::status.eq(status.clone()));
        }
        for pattern in &filter.region_likes {
            query = query.filter(merchants::region_code.like(pattern.clone()));
        }
        if let Some(q) = &filter.q {
            let pattern = format!("%{}%", super::merchants::like_escape(q));
            query = query.filter(
                offers::title
                    .like(pattern.clone())
                    .escape('\\')
                    .or(offers::description.like(pattern.clone()).escape('\\'))
                    .or(merchants::name.like(pattern).escape('\\')),
            );
        }
        query
    }};
}

/// Offers matching `filter` with their merchants, oldest first (a queue is worked
/// from its front), and how many match in all.
pub async fn list_offers(
    conn: &mut Conn<'_>,
    filter: &OfferFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<(OfferRow, MerchantRow)>, i64)> {
    with_conn!(conn, |c| {
        let total: i64 = filtered_offers!(filter).count().get_result(c).await?;
        let rows = filtered_offers!(filter)
            .order((offers::created_at.asc(), offers::id.asc()))
            .offset(offset)
            .limit(limit)
            .select((OfferRow::as_select(), MerchantRow::as_select()))
            .load(c)
            .await?;
        Ok((rows, total))
    })
}

/// Takes one from the offer's total quota and shows it used, in the caller's
/// transaction; `false` when it is exhausted. For writers outside the rush (the demo's
/// history); the point of sale takes its units by batch (`quota::take`).
pub async fn take_quota(conn: &mut Conn<'_>, id: OfferId) -> QueryResult<bool> {
    if super::quota::take(conn, id, 0, 1).await? == 0 {
        return Ok(false);
    }
    with_conn!(conn, |c| diesel::update(offers::table.find(id))
        .set(offers::used_total.eq(offers::used_total + 1))
        .execute(c)
        .await)?;
    Ok(true)
}

/// Gives one back to the offer's total quota (a voided redemption), on its shards and
/// on what it shows.
pub async fn give_back_quota(conn: &mut Conn<'_>, id: OfferId) -> QueryResult<()> {
    super::quota::give_back(conn, id).await?;
    with_conn!(conn, |c| diesel::update(
        offers::table
            .filter(offers::id.eq(id))
            .filter(offers::total_quota.is_not_null())
            .filter(offers::used_total.gt(0))
    )
    .set(offers::used_total.eq(offers::used_total - 1))
    .execute(c)
    .await)?;
    Ok(())
}

/// Completed redemptions of an offer: what `used_total` starts from when an unlimited
/// offer (whose redemptions are not counted on its row) is given a quota.
/// Read through the merchant's ledger index (the ledger has no index by offer: one
/// fewer to write on every redemption).
pub async fn completed_redemptions(
    conn: &mut Conn<'_>,
    merchant: MerchantId,
    id: OfferId,
) -> QueryResult<i64> {
    with_conn!(conn, |c| redemptions::table
        .filter(redemptions::merchant_id.eq(merchant))
        .filter(redemptions::offer_id.eq(id))
        .filter(redemptions::status.eq("completed"))
        .count()
        .get_result(c)
        .await)
}

pub async fn set_used_total(conn: &mut Conn<'_>, id: OfferId, used: i64) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::update(offers::table.find(id))
        .set(offers::used_total.eq(used))
        .execute(c)
        .await)?;
    Ok(())
}

/// Counts one use by a holder in a period unless the limit is reached: the row is
/// created at zero if missing, then one conditional UPDATE takes the use (PostgreSQL
/// re-checks its WHERE after waiting for a concurrent writer; SQLite serialises
/// writers), so concurrent redemptions cannot both pass. `false` when the limit is
/// reached.
pub async fn take_holder_use(
    conn: &mut Conn<'_>,
    offer: OfferId,
    beneficiary: BeneficiaryId,
    period_key: &str,
    limit: i32,
) -> QueryResult<bool> {
    if limit <= 0 {
        return Ok(false);
    }
    let taken = with_conn!(conn, |c| {
        diesel::insert_into(holder_usage::table)
            .values((
                holder_usage::offer_id.eq(offer),
                holder_usage::beneficiary_id.eq(beneficiary),
                holder_usage::period_key.eq(period_key),
                holder_usage::used.eq(0),
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await?;
        diesel::update(
            holder_usage::table
                .filter(holder_usage::offer_id.eq(offer))
                .filter(holder_usage::beneficiary_id.eq(beneficiary))
                .filter(holder_usage::period_key.eq(period_key))
                .filter(holder_usage::used.lt(limit)),
        )
        .set(holder_usage::used.eq(holder_usage::used + 1))
        .execute(c)
        .await
    })?;
    Ok(taken == 1)
}

pub async fn give_back_holder_use(
    conn: &mut Conn<'_>,
    offer: OfferId,
    beneficiary: BeneficiaryId,
    period_key: &str,
) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::update(
        holder_usage::table
            .filter(holder_usage::offer_id.eq(offer))
            .filter(holder_usage::beneficiary_id.eq(beneficiary))
            .filter(holder_usage::period_key.eq(period_key))
            .filter(holder_usage::used.gt(0))
    )
    .set(holder_usage::used.eq(holder_usage::used - 1))
    .execute(c)
    .await)?;
    Ok(())
}

/// A holder's uses of these offers: `(offer, period_key, used)`.
pub async fn holder_uses(
    conn: &mut Conn<'_>,
    beneficiary: BeneficiaryId,
) -> QueryResult<Vec<(OfferId, String, i32)>> {
    with_conn!(conn, |c| holder_usage::table
        .filter(holder_usage::beneficiary_id.eq(beneficiary))
        .select((
            holder_usage::offer_id,
            holder_usage::period_key,
            holder_usage::used
        ))
        .load(c)
        .await)
}

// ---------- redemptions ----------

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = redemptions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct RedemptionRow {
    pub id: RedemptionId,
    pub offer_id: OfferId,
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    pub card_id: CardId,
    pub beneficiary_id: BeneficiaryId,
    pub jti: String,
    pub period_key: String,
    pub bill_fen: Option<i64>,
    pub discount_fen: i64,
    pub companions: i32,
    pub merchant_region_code: String,
    pub holder_region_code: String,
    pub status: String,
    pub void_reason: Option<String>,
    pub voided_at: Option<NaiveDateTime>,
    pub redeemed_at: NaiveDateTime,
    /// Copied at redemption time for the figures (they never change afterwards).
    pub holder_category: String,
    pub card_product: String,
    pub offer_kind: String,
    pub merchant_category: String,
    /// Verified by the terminal without the network, and uploaded later.
    pub offline: bool,
    /// When the terminal verified the token offline.
    pub verified_offline_at: Option<NaiveDateTime>,
}

impl RedemptionRow {
    pub fn status(&self) -> Stored<RedemptionStatus> {
        vocab("redemptions", self.id, "status", &self.status)
    }
}

pub async fn insert_redemption(conn: &mut Conn<'_>, row: &RedemptionRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(redemptions::table)
        .values(row)
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn find_redemption(
    conn: &mut Conn<'_>,
    id: RedemptionId,
) -> QueryResult<Option<RedemptionRow>> {
    with_conn!(conn, |c| redemptions::table
        .find(id)
        .select(RedemptionRow::as_select())
        .first(c)
        .await
        .optional())
}

/// Voids a completed redemption and marks its month's figures stale (call it in a
/// transaction); `None` if it was not completed any more.
pub async fn void_redemption(
    conn: &mut Conn<'_>,
    id: RedemptionId,
    reason: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<RedemptionRow>> {
    let row = with_conn!(conn, |c| diesel::update(
        redemptions::table
            .filter(redemptions::id.eq(id))
            .filter(redemptions::status.eq("completed"))
    )
    .set((
        redemptions::status.eq("voided"),
        redemptions::void_reason.eq(Some(reason)),
        redemptions::voided_at.eq(Some(at)),
    ))
    .returning(RedemptionRow::as_returning())
    .get_result(c)
    .await
    .optional())?;
    if let Some(row) = &row {
        super::stats::rollup_stale(conn, row.redeemed_at).await?;
    }
    Ok(row)
}

pub enum RedemptionOwner {
    Merchant(MerchantId),
    Beneficiary(BeneficiaryId),
}

pub async fn list_redemptions(
    conn: &mut Conn<'_>,
    owner: RedemptionOwner,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<RedemptionRow>, i64)> {
    macro_rules! filtered {
        () => {{
            let query = redemptions::table.into_boxed();
            match owner {
                RedemptionOwner::Merchant(m) => query.filter(redemptions::merchant_id.eq(m)),
                RedemptionOwner::Beneficiary(b) => query.filter(redemptions::beneficiary_id.eq(b)),
            }
        }};
    }
    with_conn!(conn, |c| crate::newest_first!(
        c,
        filtered!(),
        redemptions,
        redeemed_at,
        RedemptionRow,
        offset,
        limit
    ))
}

// ---------- idempotency ----------

/// Claims an idempotency key with the answer it gives; `false` when the key was
/// claimed already (on PostgreSQL after waiting for that claim's transaction to end).
pub async fn claim_key(
    conn: &mut Conn<'_>,
    terminal: TerminalId,
    key: &str,
    request_hash: &str,
    status: i32,
    body: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let inserted = with_conn!(conn, |c| diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::terminal_id.eq(terminal),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::created_at.eq(at),
            idempotency_keys::response_status.eq(Some(status)),
            idempotency_keys::response_body.eq(Some(body)),
        ))
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(inserted == 1)
}

/// `(request_hash, status, body)` of a claimed key.
pub async fn stored_answer(
    conn: &mut Conn<'_>,
    terminal: TerminalId,
    key: &str,
) -> QueryResult<Option<(String, Option<i32>, Option<String>)>> {
    with_conn!(conn, |c| idempotency_keys::table
        .filter(idempotency_keys::terminal_id.eq(terminal))
        .filter(idempotency_keys::key.eq(key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::response_status,
            idempotency_keys::response_body
        ))
        .first(c)
        .await
        .optional())
}

/// Whether a QR token id has redeemed already (the ledger's answer).
pub async fn jti_spent(conn: &mut Conn<'_>, jti: &str) -> QueryResult<bool> {
    let n: i64 = with_conn!(conn, |c| redemptions::table
        .filter(redemptions::jti.eq(jti))
        .count()
        .get_result(c)
        .await)?;
    Ok(n > 0)
}
