//! Merchants, their reviews and objections, and badge numbers.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::{
    BoolExpressionMethods, EscapeExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl,
    QueryResult, SelectableHelper, TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use super::schema::{badge_sequences, merchant_objections, merchant_reviews, merchants};
use super::stored::{split_list, vocab, vocab_list, Stored};
use super::{Conn, MerchantId, ObjectionId, ReviewId, StaffUserId};
use crate::domain::merchant::{
    EmergencyCapability, MerchantCategory, MerchantKind, MerchantStatus, ObjectionStatus, Verdict,
};
use crate::with_conn;

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = merchants)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct MerchantRow {
    pub id: MerchantId,
    pub name: String,
    pub kind: String,
    pub credit_code: Option<String>,
    pub legal_representative: Option<String>,
    pub contact_name: String,
    pub contact_phone: String,
    pub address: String,
    pub region_code: String,
    pub category: String,
    pub latitude: f64,
    pub longitude: f64,
    pub services: String,
    pub measures: String,
    pub commitments: String,
    pub emergency_capabilities: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub notice_ends_at: Option<NaiveDateTime>,
    pub agreement_no: Option<String>,
    pub agreement_start: Option<NaiveDate>,
    pub agreement_end: Option<NaiveDate>,
    pub badge_no: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// First admission (准入): the first activation; kept through renewals.
    pub admitted_at: Option<NaiveDateTime>,
    /// Why the merchant is flagged for exit review, while it is.
    pub exit_review_reason: Option<String>,
    pub exit_review_flagged_at: Option<NaiveDateTime>,
    /// When an administrator last recorded an exit-review decision.
    pub exit_review_cleared_at: Option<NaiveDateTime>,
    /// What the partner commits in an emergency (急时战时), in its own words.
    pub emergency_commitment: String,
}

impl MerchantRow {
    pub fn status(&self) -> Stored<MerchantStatus> {
        vocab("merchants", self.id, "status", &self.status)
    }

    /// The status as of `today`: an active merchant past its agreement reads as expired.
    pub fn effective_status(&self, today: NaiveDate) -> Stored<MerchantStatus> {
        Ok(crate::domain::merchant::effective_status(
            self.status()?,
            self.agreement_end,
            today,
        ))
    }

    pub fn kind(&self) -> Stored<MerchantKind> {
        vocab("merchants", self.id, "kind", &self.kind)
    }

    pub fn category(&self) -> Stored<MerchantCategory> {
        vocab("merchants", self.id, "category", &self.category)
    }

    pub fn capabilities(&self) -> Stored<Vec<EmergencyCapability>> {
        vocab_list(
            "merchants",
            self.id,
            "emergency_capabilities",
            &self.emergency_capabilities,
        )
    }

    /// The capabilities as stored, for views that only show them.
    pub fn capability_names(&self) -> Vec<String> {
        split_list(&self.emergency_capabilities)
    }
}

#[derive(Debug, diesel::Insertable)]
#[diesel(table_name = merchants)]
pub struct NewMerchant<'a> {
    pub id: MerchantId,
    pub name: &'a str,
    pub kind: &'a str,
    pub credit_code: Option<&'a str>,
    pub legal_representative: Option<&'a str>,
    pub contact_name: &'a str,
    pub contact_phone: &'a str,
    pub address: &'a str,
    pub region_code: &'a str,
    pub category: &'a str,
    pub latitude: f64,
    pub longitude: f64,
    pub services: &'a str,
    pub measures: &'a str,
    pub commitments: &'a str,
    pub emergency_capabilities: &'a str,
    pub emergency_commitment: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a partner changes of its own entry, or an office of its registration; `None`
/// leaves a column as it is.
#[derive(Debug, Default, diesel::AsChangeset)]
#[diesel(table_name = merchants)]
pub struct ProfileChanges<'a> {
    pub contact_name: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
    pub address: Option<&'a str>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub services: Option<&'a str>,
    pub measures: Option<&'a str>,
    pub commitments: Option<&'a str>,
    pub emergency_capabilities: Option<&'a str>,
    pub emergency_commitment: Option<&'a str>,
    pub name: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub category: Option<&'a str>,
    pub region_code: Option<&'a str>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Applies `changes` if the merchant was not changed since `updated_at` was read;
/// `None` when it was.
pub async fn update_profile(
    conn: &mut Conn<'_>,
    id: MerchantId,
    updated_at: NaiveDateTime,
    changes: &ProfileChanges<'_>,
) -> QueryResult<Option<MerchantRow>> {
    with_conn!(conn, |c| diesel::update(
        merchants::table
            .filter(merchants::id.eq(id))
            .filter(merchants::updated_at.eq(updated_at)),
    )
    .set(changes)
    .returning(MerchantRow::as_returning())
    .get_result(c)
    .await
    .optional())
}

/// A status change and what comes with it; `None` leaves a column as it is.
#[derive(Debug, Default, diesel::AsChangeset)]
#[diesel(table_name = merchants)]
pub struct MerchantChanges<'a> {
    pub status: Option<&'a str>,
    pub status_reason: Option<Option<&'a str>>,
    pub notice_ends_at: Option<Option<NaiveDateTime>>,
    pub agreement_no: Option<&'a str>,
    pub agreement_start: Option<NaiveDate>,
    pub agreement_end: Option<NaiveDate>,
    pub badge_no: Option<&'a str>,
    pub updated_at: Option<NaiveDateTime>,
    /// Set on the first activation only (the caller passes the existing date otherwise).
    pub admitted_at: Option<NaiveDateTime>,
}

pub async fn insert(conn: &mut Conn<'_>, new: &NewMerchant<'_>) -> QueryResult<MerchantRow> {
    with_conn!(conn, |c| diesel::insert_into(merchants::table)
        .values(new)
        .returning(MerchantRow::as_returning())
        .get_result(c)
        .await)
}

pub async fn find(conn: &mut Conn<'_>, id: MerchantId) -> QueryResult<Option<MerchantRow>> {
    with_conn!(conn, |c| merchants::table
        .find(id)
        .select(MerchantRow::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn find_many(conn: &mut Conn<'_>, ids: &[MerchantId]) -> QueryResult<Vec<MerchantRow>> {
    with_conn!(conn, |c| merchants::table
        .filter(merchants::id.eq_any(ids))
        .select(MerchantRow::as_select())
        .load(c)
        .await)
}

/// Whether a merchant that is neither rejected nor revoked holds this credit code.
pub async fn credit_code_taken(conn: &mut Conn<'_>, code: &str) -> QueryResult<bool> {
    let held: i64 = with_conn!(conn, |c| merchants::table
        .filter(merchants::credit_code.eq(code))
        .filter(merchants::status.ne_all(["rejected", "revoked"]))
        .count()
        .get_result(c)
        .await)?;
    Ok(held > 0)
}

/// Applies `changes` if the merchant is still in `expected` status; `None` when another
/// change got there first.
pub async fn update_if_status(
    conn: &mut Conn<'_>,
    id: MerchantId,
    expected: &str,
    changes: &MerchantChanges<'_>,
) -> QueryResult<Option<MerchantRow>> {
    with_conn!(conn, |c| diesel::update(
        merchants::table
            .filter(merchants::id.eq(id))
            .filter(merchants::status.eq(expected)),
    )
    .set(changes)
    .returning(MerchantRow::as_returning())
    .get_result(c)
    .await
    .optional())
}

/// Which merchants a list shows.
#[derive(Debug, Default, Clone)]
pub struct MerchantFilter {
    /// A status as read on `today` (so `active` excludes, and `expired` includes, active
    /// merchants whose agreement has ended).
    pub status: Option<MerchantStatus>,
    pub today: Option<NaiveDate>,
    /// `LIKE` patterns of region subtrees; every one must match.
    pub region_likes: Vec<String>,
    pub category: Option<String>,
    pub kind: Option<String>,
    /// Substring of name, address, services, measures or commitments.
    pub q: Option<String>,
    pub capability: Option<String>,
    /// Only merchants that committed at least one emergency capability.
    pub any_capability: bool,
    /// Bounding box `(min_lat, max_lat, min_lng, max_lng)`.
    pub bbox: Option<(f64, f64, f64, f64)>,
    /// Only merchants flagged for exit review (`true`) or only those not (`false`).
    pub flagged: Option<bool>,
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub fn like_escape(raw: &str) -> String {
    raw.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

macro_rules! filtered_merchants {
    ($filter:expr) => {{
        let filter = $filter;
        let mut query = merchants::table.into_boxed();
        let today = filter.today.unwrap_or_else(crate::domain::china_today);
        match filter.status {
            None => {}
            Some(MerchantStatus::Active) => {
                query = query.filter(merchants::status.eq("active")).filter(
                    merchants::agreement_end
                        .is_null()
                        .or(merchants::agreement_end.ge(today)),
                );
            }
            Some(MerchantStatus::Expired) => {
                query = query.filter(
                    merchants::status.eq("expired").or(merchants::status
                        .eq("active")
                        .and(merchants::agreement_end.lt(today))),
                );
            }
            Some(other) => query = query.filter(merchants::status.eq(other.as_str())),
        }
        for pattern in &filter.region_likes {
            query = query.filter(merchants::region_code.like(pattern.clone()));
        }
        if let Some(category) = &filter.category {
            query = query.filter(merchants::category.eq(category.clone()));
        }
        if let Some(kind) = &filter.kind {
            query = query.filter(merchants::kind.eq(kind.clone()));
        }
        if let Some(q) = &filter.q {
            let pattern = format!("%{}%", like_escape(q));
            query = query.filter(
                merchants::name
                    .like(pattern.clone())
                    .escape('\\')
                    .or(merchants::address.like(pattern.clone()).escape('\\'))
                    .or(merchants::services.like(pattern.clone()).escape('\\'))
                    .or(merchants::measures.like(pattern.clone()).escape('\\'))
                    .or(merchants::commitments.like(pattern).escape('\\')),
            );
        }
        if let Some(capability) = &filter.capability {
            query = query.filter(
                merchants::emergency_capabilities.like(format!("%,{},%", like_escape(capability))),
            );
        }
        if filter.any_capability {
            query = query.filter(merchants::emergency_capabilities.ne(","));
        }
        match filter.flagged {
            Some(true) => query = query.filter(merchants::exit_review_flagged_at.is_not_null()),
            Some(false) => query = query.filter(merchants::exit_review_flagged_at.is_null()),
            None => {}
        }
        if let Some((min_lat, max_lat, min_lng, max_lng)) = filter.bbox {
            query = query
                .filter(merchants::latitude.between(min_lat, max_lat))
                .filter(merchants::longitude.between(min_lng, max_lng));
        }
        query
    }};
}

pub async fn list(
    conn: &mut Conn<'_>,
    filter: &MerchantFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<MerchantRow>, i64)> {
    with_conn!(conn, |c| crate::newest_first!(
        c,
        filtered_merchants!(filter),
        merchants,
        MerchantRow,
        offset,
        limit
    ))
}

/// Id and position of every merchant the filter matches (for distance sorting).
pub async fn positions(
    conn: &mut Conn<'_>,
    filter: &MerchantFilter,
) -> QueryResult<Vec<(MerchantId, f64, f64)>> {
    with_conn!(conn, |c| filtered_merchants!(filter)
        .select((merchants::id, merchants::latitude, merchants::longitude))
        .load(c)
        .await)
}

// ---- exit review ----

/// The merchant, locked until the transaction ends (PostgreSQL: `FOR UPDATE`; SQLite
/// transactions already hold the write lock), for read-then-write changes.
pub async fn find_for_update(
    conn: &mut Conn<'_>,
    id: MerchantId,
) -> QueryResult<Option<MerchantRow>> {
    match conn {
        Conn::Pg(c) => merchants::table
            .find(id)
            .select(MerchantRow::as_select())
            .for_update()
            .first(&mut **c)
            .await
            .optional(),
        Conn::Sqlite(c) => merchants::table
            .find(id)
            .select(MerchantRow::as_select())
            .first(&mut **c)
            .await
            .optional(),
    }
}

/// Sets the exit-review flag; never touches the status.
pub async fn set_exit_review_flag(
    conn: &mut Conn<'_>,
    id: MerchantId,
    reason: &str,
    flagged_at: NaiveDateTime,
) -> QueryResult<MerchantRow> {
    with_conn!(conn, |c| diesel::update(merchants::table.find(id))
        .set((
            merchants::exit_review_reason.eq(Some(reason)),
            merchants::exit_review_flagged_at.eq(Some(flagged_at)),
        ))
        .returning(MerchantRow::as_returning())
        .get_result(c)
        .await)
}

/// Clears the flag after an administrator's decision; later complaints count afresh.
/// `None` when the merchant was not flagged (any more).
pub async fn clear_exit_review_flag(
    conn: &mut Conn<'_>,
    id: MerchantId,
    at: NaiveDateTime,
) -> QueryResult<Option<MerchantRow>> {
    with_conn!(conn, |c| diesel::update(
        merchants::table
            .filter(merchants::id.eq(id))
            .filter(merchants::exit_review_flagged_at.is_not_null()),
    )
    .set((
        merchants::exit_review_reason.eq(None::<String>),
        merchants::exit_review_flagged_at.eq(None::<NaiveDateTime>),
        merchants::exit_review_cleared_at.eq(Some(at)),
    ))
    .returning(MerchantRow::as_returning())
    .get_result(c)
    .await
    .optional())
}

// ---- reviews ----

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = merchant_reviews)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ReviewRow {
    pub id: ReviewId,
    pub merchant_id: MerchantId,
    pub department: String,
    pub verdict: String,
    pub comment: String,
    pub reviewer_id: Option<StaffUserId>,
    pub reviewer_label: String,
    pub created_at: NaiveDateTime,
}

impl ReviewRow {
    pub fn verdict(&self) -> Stored<Verdict> {
        vocab("merchant_reviews", self.id, "verdict", &self.verdict)
    }
}

pub async fn insert_review(conn: &mut Conn<'_>, review: &ReviewRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(merchant_reviews::table)
        .values(review)
        .execute(c)
        .await)?;
    Ok(())
}

/// Every review of a merchant, oldest first; the last one per department counts.
pub async fn reviews(conn: &mut Conn<'_>, merchant_id: MerchantId) -> QueryResult<Vec<ReviewRow>> {
    with_conn!(conn, |c| merchant_reviews::table
        .filter(merchant_reviews::merchant_id.eq(merchant_id))
        .order((
            merchant_reviews::created_at.asc(),
            merchant_reviews::id.asc()
        ))
        .select(ReviewRow::as_select())
        .load(c)
        .await)
}

// ---- objections ----

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = merchant_objections)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ObjectionRow {
    pub id: ObjectionId,
    pub merchant_id: MerchantId,
    pub content: String,
    pub contact_phone: Option<String>,
    pub status: String,
    pub resolution_comment: Option<String>,
    pub resolved_by: Option<StaffUserId>,
    pub resolved_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl ObjectionRow {
    pub fn status(&self) -> Stored<ObjectionStatus> {
        vocab("merchant_objections", self.id, "status", &self.status)
    }
}

pub async fn insert_objection(conn: &mut Conn<'_>, objection: &ObjectionRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(merchant_objections::table)
        .values(objection)
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn objections(
    conn: &mut Conn<'_>,
    merchant_id: MerchantId,
) -> QueryResult<Vec<ObjectionRow>> {
    with_conn!(conn, |c| merchant_objections::table
        .filter(merchant_objections::merchant_id.eq(merchant_id))
        .order((
            merchant_objections::created_at.asc(),
            merchant_objections::id.asc()
        ))
        .select(ObjectionRow::as_select())
        .load(c)
        .await)
}

pub async fn open_objections(conn: &mut Conn<'_>, merchant_id: MerchantId) -> QueryResult<i64> {
    with_conn!(conn, |c| merchant_objections::table
        .filter(merchant_objections::merchant_id.eq(merchant_id))
        .filter(merchant_objections::status.eq("open"))
        .count()
        .get_result(c)
        .await)
}

/// Resolves an open objection; `None` when it is not open (or not this merchant's).
pub async fn resolve_objection(
    conn: &mut Conn<'_>,
    merchant_id: MerchantId,
    id: ObjectionId,
    outcome: &str,
    comment: &str,
    by: StaffUserId,
    at: NaiveDateTime,
) -> QueryResult<Option<ObjectionRow>> {
    with_conn!(conn, |c| diesel::update(
        merchant_objections::table
            .filter(merchant_objections::id.eq(id))
            .filter(merchant_objections::merchant_id.eq(merchant_id))
            .filter(merchant_objections::status.eq("open")),
    )
    .set((
        merchant_objections::status.eq(outcome),
        merchant_objections::resolution_comment.eq(comment),
        merchant_objections::resolved_by.eq(by),
        merchant_objections::resolved_at.eq(at),
    ))
    .returning(ObjectionRow::as_returning())
    .get_result(c)
    .await
    .optional())
}

// ---- badges ----

/// The next badge sequence number of `region_code` in `year`: 1, 2, 3… Atomic (one
/// upsert), so concurrent activations never share a number.
pub async fn next_badge_seq(conn: &mut Conn<'_>, region_code: &str, year: i32) -> QueryResult<i32> {
    with_conn!(conn, |c| diesel::insert_into(badge_sequences::table)
        .values((
            badge_sequences::region_code.eq(region_code),
            badge_sequences::year.eq(year),
            badge_sequences::last_seq.eq(1),
        ))
        .on_conflict((badge_sequences::region_code, badge_sequences::year))
        .do_update()
        .set(badge_sequences::last_seq.eq(badge_sequences::last_seq + 1))
        .returning(badge_sequences::last_seq)
        .get_result(c)
        .await)
}

/// Merchants stored as active whose agreement ended before `today`: at most `limit`.
pub async fn lapsed_agreements(
    conn: &mut Conn<'_>,
    today: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<MerchantRow>> {
    with_conn!(conn, |c| merchants::table
        .filter(merchants::status.eq(MerchantStatus::Active.as_str()))
        .filter(merchants::agreement_end.lt(today))
        .order(merchants::agreement_end.asc())
        .limit(limit)
        .select(MerchantRow::as_select())
        .load(c)
        .await)
}
