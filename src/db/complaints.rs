//! Complaints and ratings (投诉), and the figures the exit-review flag and the merchant
//! evaluation are computed from.

use chrono::NaiveDateTime;
use diesel::dsl::{count, count_star, sql};
use diesel::expression_methods::AggregateExpressionMethods;
use diesel::sql_types::BigInt;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, QueryResult,
    SelectableHelper, TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use super::schema::{beneficiaries, complaints, redemptions};
use super::stored::{vocab, Stored};
use super::{BeneficiaryId, Conn, MerchantId, RedemptionId, StaffUserId};
use crate::domain::oversight::{ComplaintFigures, ComplaintStatus};
use crate::with_conn;

crate::typed_id!(ComplaintId);

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = complaints)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ComplaintRow {
    pub id: ComplaintId,
    pub merchant_id: MerchantId,
    pub beneficiary_id: BeneficiaryId,
    pub redemption_id: Option<RedemptionId>,
    /// The merchant's region, for scoping.
    pub region_code: String,
    pub rating: i32,
    pub content: String,
    pub status: String,
    pub outcome: Option<String>,
    pub resolution_comment: Option<String>,
    pub resolved_by: Option<StaffUserId>,
    pub resolved_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl ComplaintRow {
    pub fn status(&self) -> Stored<ComplaintStatus> {
        vocab("complaints", self.id, "status", &self.status)
    }
}

pub async fn insert(conn: &mut Conn<'_>, row: &ComplaintRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(complaints::table)
        .values(row)
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn find(conn: &mut Conn<'_>, id: ComplaintId) -> QueryResult<Option<ComplaintRow>> {
    with_conn!(conn, |c| complaints::table
        .find(id)
        .select(ComplaintRow::as_select())
        .first(c)
        .await
        .optional())
}

#[derive(Debug, Default)]
pub struct ComplaintFilter {
    pub status: Option<String>,
    pub merchant_id: Option<MerchantId>,
    /// `LIKE` patterns of region subtrees; every one must match.
    pub region_likes: Vec<String>,
}

/// Complaints, newest first.
pub async fn list(
    conn: &mut Conn<'_>,
    filter: &ComplaintFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<ComplaintRow>, i64)> {
    macro_rules! filtered {
        () => {{
            let mut query = complaints::table.into_boxed();
            if let Some(status) = &filter.status {
                query = query.filter(complaints::status.eq(status.clone()));
            }
            if let Some(merchant) = filter.merchant_id {
                query = query.filter(complaints::merchant_id.eq(merchant));
            }
            for pattern in &filter.region_likes {
                query = query.filter(complaints::region_code.like(pattern.clone()));
            }
            query
        }};
    }
    with_conn!(conn, |c| crate::newest_first!(
        c,
        filtered!(),
        complaints,
        ComplaintRow,
        offset,
        limit
    ))
}

/// Resolves an open complaint; `None` when it is no longer open.
pub async fn resolve(
    conn: &mut Conn<'_>,
    id: ComplaintId,
    outcome: &str,
    comment: &str,
    by: StaffUserId,
    at: NaiveDateTime,
) -> QueryResult<Option<ComplaintRow>> {
    with_conn!(conn, |c| diesel::update(
        complaints::table
            .filter(complaints::id.eq(id))
            .filter(complaints::status.eq("open")),
    )
    .set((
        complaints::status.eq("resolved"),
        complaints::outcome.eq(Some(outcome)),
        complaints::resolution_comment.eq(Some(comment)),
        complaints::resolved_by.eq(Some(by)),
        complaints::resolved_at.eq(Some(at)),
    ))
    .returning(ComplaintRow::as_returning())
    .get_result(c)
    .await
    .optional())
}

/// `(id, name, category)` of the complainants, for masked display.
pub async fn holders(
    conn: &mut Conn<'_>,
    ids: &[BeneficiaryId],
) -> QueryResult<Vec<(BeneficiaryId, String, String)>> {
    with_conn!(conn, |c| beneficiaries::table
        .filter(beneficiaries::id.eq_any(ids))
        .select((
            beneficiaries::id,
            beneficiaries::name,
            beneficiaries::category
        ))
        .load(c)
        .await)
}

/// Completed redemptions of a beneficiary (any of their cards) at a merchant since `since`.
pub async fn completed_redemptions_of(
    conn: &mut Conn<'_>,
    beneficiary: BeneficiaryId,
    merchant: MerchantId,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    with_conn!(conn, |c| redemptions::table
        .filter(redemptions::beneficiary_id.eq(beneficiary))
        .filter(redemptions::merchant_id.eq(merchant))
        .filter(redemptions::status.eq("completed"))
        .filter(redemptions::redeemed_at.ge(since))
        .count()
        .get_result(c)
        .await)
}

/// What the redemptions of a merchant in `[from, to)` add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedemptionFigures {
    /// Completed redemptions (人次).
    pub redemptions: i64,
    /// Different beneficiaries among them.
    pub holders: i64,
    pub discount_fen: i64,
}

pub async fn redemption_figures(
    conn: &mut Conn<'_>,
    merchant: MerchantId,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<RedemptionFigures> {
    // Saturated, never an overflow, whatever old rows hold (see `stats::sum_fen`).
    let discount = super::stats::sum_fen(super::stats::is_pg(conn), "discount_fen");
    let (redemptions, holders, discount_fen): (i64, i64, i64) =
        with_conn!(conn, |c| redemptions::table
            .filter(redemptions::merchant_id.eq(merchant))
            .filter(redemptions::status.eq("completed"))
            .filter(redemptions::redeemed_at.ge(from))
            .filter(redemptions::redeemed_at.lt(to))
            .select((
                count_star(),
                count(redemptions::beneficiary_id).aggregate_distinct(),
                sql::<BigInt>(&discount),
            ))
            .get_result(c)
            .await)?;
    Ok(RedemptionFigures {
        redemptions,
        holders,
        discount_fen,
    })
}

/// `(complaints, complainants, rating_sum)` of a merchant created in `[from, to)`;
/// dismissed complaints are left out when `counted_only`.
pub async fn complaint_totals(
    conn: &mut Conn<'_>,
    merchant: MerchantId,
    from: NaiveDateTime,
    to: NaiveDateTime,
    counted_only: bool,
) -> QueryResult<(i64, i64, i64)> {
    with_conn!(conn, |c| {
        let mut query = complaints::table
            .filter(complaints::merchant_id.eq(merchant))
            .filter(complaints::created_at.ge(from))
            .filter(complaints::created_at.lt(to))
            .into_boxed();
        if counted_only {
            query = query.filter(
                complaints::outcome
                    .is_null()
                    .or(complaints::outcome.ne("dismissed")),
            );
        }
        query
            .select((
                count_star(),
                count(complaints::beneficiary_id).aggregate_distinct(),
                sql::<BigInt>("CAST(COALESCE(SUM(rating), 0) AS BIGINT)"),
            ))
            .get_result(c)
            .await
    })
}

/// The figures of the exit-review rule: complaints since `complaints_since` (the window
/// start, or the last decision if later), not dismissed; completed redemptions since
/// `window_start`.
pub async fn flag_figures(
    conn: &mut Conn<'_>,
    merchant: MerchantId,
    window_start: NaiveDateTime,
    complaints_since: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<ComplaintFigures> {
    // `now` is inclusive for what was written in this very transaction.
    let until = now + chrono::Duration::seconds(1);
    let (complaints, complainants, rating_sum) =
        complaint_totals(conn, merchant, complaints_since, until, true).await?;
    let redemptions = redemption_figures(conn, merchant, window_start, until)
        .await?
        .redemptions;
    Ok(ComplaintFigures {
        complaints,
        complainants,
        rating_sum,
        redemptions,
    })
}
