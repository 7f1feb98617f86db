//! Card products (卡种) and cards (优待卡).

use chrono::NaiveDateTime;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, QueryResult,
    SelectableHelper, TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use super::schema::{beneficiaries, card_changes, card_products, cards};
use super::stored::{vocab, Stored};
use super::{BeneficiaryId, CardId, Conn};
use crate::domain::beneficiary::CardStatus;
use crate::with_conn;

#[derive(
    Debug, Clone, serde::Serialize, diesel::Queryable, diesel::Selectable, diesel::Insertable,
)]
#[diesel(table_name = card_products)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ProductRow {
    pub code: String,
    pub name: String,
    pub description: String,
    pub default_valid_years: i32,
    pub created_at: NaiveDateTime,
}

pub async fn products(conn: &mut Conn<'_>) -> QueryResult<Vec<ProductRow>> {
    with_conn!(conn, |c| card_products::table
        .order(card_products::created_at.asc())
        .then_order_by(card_products::code.asc())
        .select(ProductRow::as_select())
        .load(c)
        .await)
}

pub async fn product(conn: &mut Conn<'_>, code: &str) -> QueryResult<Option<ProductRow>> {
    with_conn!(conn, |c| card_products::table
        .find(code)
        .select(ProductRow::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn insert_product(conn: &mut Conn<'_>, row: &ProductRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(card_products::table)
        .values(row)
        .execute(c)
        .await)?;
    Ok(())
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = cards)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct CardRow {
    pub id: CardId,
    pub card_no: String,
    pub beneficiary_id: BeneficiaryId,
    pub product: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub version: i32,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub activation_code_hash: Option<String>,
    pub activated_at: Option<NaiveDateTime>,
    pub replaced_by: Option<CardId>,
    pub status_changed_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl CardRow {
    pub fn status(&self) -> Stored<CardStatus> {
        vocab("cards", self.id, "status", &self.status)
    }

    /// The status as of `now`: an active card past `expires_at` reads as expired.
    pub fn effective_status(&self, now: NaiveDateTime) -> Stored<CardStatus> {
        Ok(match self.status()? {
            CardStatus::Active if self.expires_at <= now => CardStatus::Expired,
            status => status,
        })
    }
}

/// Inserts a card and the beginning of its first version.
pub async fn insert(conn: &mut Conn<'_>, card: &CardRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(cards::table)
        .values(card)
        .execute(c)
        .await)?;
    record_change(conn, card.id, card.version, &card.status, card.issued_at).await
}

/// When `version` of a card began, with the status it began with (in the transaction
/// of the change).
async fn record_change(
    conn: &mut Conn<'_>,
    id: CardId,
    version: i32,
    status: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(card_changes::table)
        .values((
            card_changes::card_id.eq(id),
            card_changes::version.eq(version),
            card_changes::status.eq(status),
            card_changes::changed_at.eq(at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

/// When `version` of a card began and its status then; `None` for versions older than
/// the record (cards changed before it was kept).
pub async fn version_began(
    conn: &mut Conn<'_>,
    id: CardId,
    version: i32,
) -> QueryResult<Option<(String, NaiveDateTime)>> {
    with_conn!(conn, |c| card_changes::table
        .find((id, version))
        .select((card_changes::status, card_changes::changed_at))
        .first(c)
        .await
        .optional())
}

/// A card with its holder, in one round trip (the redemption path).
pub async fn find_with_holder(
    conn: &mut Conn<'_>,
    id: CardId,
) -> QueryResult<Option<(CardRow, super::beneficiaries::BeneficiaryRow)>> {
    with_conn!(conn, |c| cards::table
        .inner_join(beneficiaries::table)
        .filter(cards::id.eq(id))
        .select((
            CardRow::as_select(),
            super::beneficiaries::BeneficiaryRow::as_select()
        ))
        .first(c)
        .await
        .optional())
}

pub async fn find(conn: &mut Conn<'_>, id: CardId) -> QueryResult<Option<CardRow>> {
    with_conn!(conn, |c| cards::table
        .find(id)
        .select(CardRow::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn find_by_no(conn: &mut Conn<'_>, card_no: &str) -> QueryResult<Option<CardRow>> {
    with_conn!(conn, |c| cards::table
        .filter(cards::card_no.eq(card_no))
        .select(CardRow::as_select())
        .first(c)
        .await
        .optional())
}

/// The live (active or suspended) card of a beneficiary for a product.
pub async fn live_card(
    conn: &mut Conn<'_>,
    beneficiary: BeneficiaryId,
    product: &str,
) -> QueryResult<Option<CardRow>> {
    with_conn!(conn, |c| cards::table
        .filter(cards::beneficiary_id.eq(beneficiary))
        .filter(cards::product.eq(product))
        .filter(cards::status.eq_any(["active", "suspended"]))
        .select(CardRow::as_select())
        .first(c)
        .await
        .optional())
}

/// A status change: applied only if the card is still at `version`; bumps the version
/// and records when the new one began.
#[allow(clippy::too_many_arguments)]
pub async fn change_status(
    conn: &mut Conn<'_>,
    id: CardId,
    version: i32,
    status: &str,
    reason: Option<&str>,
    replaced_by: Option<CardId>,
    now: NaiveDateTime,
) -> QueryResult<Option<CardRow>> {
    let changed = with_conn!(conn, |c| diesel::update(
        cards::table
            .filter(cards::id.eq(id))
            .filter(cards::version.eq(version))
    )
    .set((
        cards::status.eq(status),
        cards::status_reason.eq(reason),
        cards::version.eq(version + 1),
        cards::replaced_by.eq(replaced_by),
        cards::status_changed_at.eq(now),
        cards::updated_at.eq(now),
    ))
    .returning(CardRow::as_returning())
    .get_result(c)
    .await
    .optional())?;
    if let Some(card) = &changed {
        record_change(conn, card.id, card.version, &card.status, now).await?;
    }
    Ok(changed)
}

/// Cards stored as active whose `expires_at` has passed, with their holder's region: at
/// most `limit`.
pub async fn lapsed_cards(
    conn: &mut Conn<'_>,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(CardRow, String)>> {
    with_conn!(conn, |c| cards::table
        .inner_join(beneficiaries::table)
        .filter(cards::status.eq(CardStatus::Active.as_str()))
        .filter(cards::expires_at.le(now))
        .order(cards::expires_at.asc())
        .limit(limit)
        .select((CardRow::as_select(), beneficiaries::region_code))
        .load(c)
        .await)
}

/// Spends a card's activation code: `true` only for the first caller with the right hash.
pub async fn consume_activation(
    conn: &mut Conn<'_>,
    id: CardId,
    code_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = with_conn!(conn, |c| diesel::update(
        cards::table
            .filter(cards::id.eq(id))
            .filter(cards::activation_code_hash.eq(code_hash))
    )
    .set((
        cards::activation_code_hash.eq(None::<String>),
        cards::activated_at.eq(now)
    ))
    .execute(c)
    .await)?;
    Ok(changed == 1)
}

#[derive(Debug, Default)]
pub struct CardFilter {
    pub beneficiary_id: Option<BeneficiaryId>,
    pub status: Option<String>,
    pub card_no: Option<String>,
    /// Region subtree of the card's beneficiary.
    pub region_like: Option<String>,
}

pub async fn list(
    conn: &mut Conn<'_>,
    filter: &CardFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<CardRow>, i64)> {
    macro_rules! filtered {
        () => {{
            let mut query = cards::table.inner_join(beneficiaries::table).into_boxed();
            if let Some(id) = filter.beneficiary_id {
                query = query.filter(cards::beneficiary_id.eq(id));
            }
            if let Some(status) = &filter.status {
                query = query.filter(cards::status.eq(status.clone()));
            }
            if let Some(card_no) = &filter.card_no {
                query = query.filter(cards::card_no.eq(card_no.clone()));
            }
            if let Some(pattern) = &filter.region_like {
                query = query.filter(beneficiaries::region_code.like(pattern.clone()));
            }
            query
        }};
    }
    with_conn!(conn, |c| crate::newest_first!(
        c,
        filtered!(),
        cards,
        CardRow,
        offset,
        limit
    ))
}

/// Ids of every card of these beneficiaries (to drop their cached snapshots).
pub async fn ids_for_beneficiaries(
    conn: &mut Conn<'_>,
    beneficiaries: &[BeneficiaryId],
) -> QueryResult<Vec<CardId>> {
    if beneficiaries.is_empty() {
        return Ok(Vec::new());
    }
    with_conn!(conn, |c| cards::table
        .filter(cards::beneficiary_id.eq_any(beneficiaries))
        .select(cards::id)
        .load(c)
        .await)
}

/// Points a revoked card at the card that replaced it.
pub async fn set_replaced_by(
    conn: &mut Conn<'_>,
    id: CardId,
    replacement: CardId,
) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::update(cards::table.find(id))
        .set(cards::replaced_by.eq(Some(replacement)))
        .execute(c)
        .await)?;
    Ok(())
}

/// Cards whose status changed after `since`, oldest change first (the revocation feed).
/// Cards no longer active (suspended, revoked, reissued, expired), in the order of their
/// last change, after the position `after` (a change time and, for changes at the same
/// instant, a card id): at most `limit`.
pub async fn lapsed_after(
    conn: &mut Conn<'_>,
    after: (NaiveDateTime, Option<CardId>),
    limit: i64,
) -> QueryResult<Vec<CardRow>> {
    let (at, id) = after;
    let later = cards::status_changed_at.gt(at);
    with_conn!(conn, |c| {
        let query = cards::table
            .filter(cards::status.ne(CardStatus::Active.as_str()))
            .order((cards::status_changed_at.asc(), cards::id.asc()))
            .limit(limit)
            .select(CardRow::as_select());
        match id {
            Some(id) => {
                query
                    .filter(later.or(cards::status_changed_at.eq(at).and(cards::id.gt(id))))
                    .load(c)
                    .await
            }
            None => query.filter(later).load(c).await,
        }
    })
}
