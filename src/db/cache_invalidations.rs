//! Cache invalidations that could not be delivered to Redis when their change committed
//! (the cache's outbox). Kept in the database, which every API process reaches, so that
//! whichever process reaches Redis first delivers them, and none is lost with the
//! process that wrote it. Written and read only by `cache`.

use diesel::{ExpressionMethods, QueryDsl, QueryResult};
use diesel_async::RunQueryDsl;

use super::schema::cache_invalidations;
use super::Conn;
use crate::with_conn;

crate::typed_id!(UndeliveredId);

/// Keeps `keys` (as given to `Cache::invalidate`) for delivery.
pub async fn record(conn: &mut Conn<'_>, keys: &[String]) -> QueryResult<()> {
    let row = (
        cache_invalidations::id.eq(UndeliveredId::new()),
        cache_invalidations::keys.eq(serde_json::to_string(keys).unwrap_or_default()),
        cache_invalidations::created_at.eq(super::now()),
    );
    with_conn!(conn, |c| diesel::insert_into(cache_invalidations::table)
        .values(row)
        .execute(c)
        .await)?;
    Ok(())
}

/// The oldest `limit` undelivered invalidations, each with its keys (none for a row
/// that does not parse: it is forgotten with the others).
pub async fn oldest(
    conn: &mut Conn<'_>,
    limit: i64,
) -> QueryResult<Vec<(UndeliveredId, Vec<String>)>> {
    let rows: Vec<(UndeliveredId, String)> = with_conn!(conn, |c| cache_invalidations::table
        .select((cache_invalidations::id, cache_invalidations::keys))
        .order((cache_invalidations::created_at, cache_invalidations::id))
        .limit(limit)
        .load(c)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, keys)| (id, serde_json::from_str(&keys).unwrap_or_default()))
        .collect())
}

/// Forgets delivered invalidations.
pub async fn forget(conn: &mut Conn<'_>, ids: &[UndeliveredId]) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    with_conn!(conn, |c| diesel::delete(
        cache_invalidations::table.filter(cache_invalidations::id.eq_any(ids))
    )
    .execute(c)
    .await)?;
    Ok(())
}
