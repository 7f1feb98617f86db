//! A merchant's point-of-sale terminals, found by the keyed hash of their API key.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, QueryResult, SelectableHelper};
use diesel_async::RunQueryDsl;

use super::schema::terminals;
use super::{Conn, MerchantId, TerminalId};
use crate::with_conn;

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = terminals)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TerminalRow {
    pub id: TerminalId,
    pub merchant_id: MerchantId,
    pub name: String,
    pub api_key_hash: String,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

pub async fn insert(conn: &mut Conn<'_>, row: &TerminalRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(terminals::table)
        .values(row)
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn by_key_hash(conn: &mut Conn<'_>, hash: &str) -> QueryResult<Option<TerminalRow>> {
    with_conn!(conn, |c| terminals::table
        .filter(terminals::api_key_hash.eq(hash))
        .filter(terminals::deleted_at.is_null())
        .select(TerminalRow::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn of_merchant(
    conn: &mut Conn<'_>,
    merchant: MerchantId,
) -> QueryResult<Vec<TerminalRow>> {
    with_conn!(conn, |c| terminals::table
        .filter(terminals::merchant_id.eq(merchant))
        .filter(terminals::deleted_at.is_null())
        .order(terminals::created_at.asc())
        .select(TerminalRow::as_select())
        .load(c)
        .await)
}

/// Deletes a terminal of this merchant; its key hash is returned so caches can drop it.
pub async fn delete(
    conn: &mut Conn<'_>,
    merchant: MerchantId,
    id: TerminalId,
    at: NaiveDateTime,
) -> QueryResult<Option<String>> {
    with_conn!(conn, |c| diesel::update(
        terminals::table
            .filter(terminals::id.eq(id))
            .filter(terminals::merchant_id.eq(merchant))
            .filter(terminals::deleted_at.is_null())
    )
    .set(terminals::deleted_at.eq(Some(at)))
    .returning(terminals::api_key_hash)
    .get_result(c)
    .await
    .optional())
}
