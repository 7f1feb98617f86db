//! An offer's total quota on shards (`offer_quota_shards`, `domain::quota`): batches of
//! redemptions count on different rows side by side instead of queueing on the offer's
//! row. The shards are what guards the quota, in the redemption's own transaction;
//! `offers.used_total` is what the offer shows, added to after each commit.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, QueryResult};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

use super::ids::DbUuid;
use super::schema::offer_quota_shards as shards;
use super::{Conn, OfferId};
use crate::domain::quota::{regrant, SHARDS};
use crate::with_conn;

#[derive(diesel::Insertable)]
#[diesel(table_name = shards)]
struct ShardRow {
    offer_id: OfferId,
    shard: i16,
    granted: i64,
    used: i64,
}

/// Rounds of looking again for room when other transactions took it first.
const LOOKS: usize = 4;

/// Takes up to `wanted` units of the offer's quota: all from shard `hint` (mod
/// [`SHARDS`]) when it has them, else what the shards have left, in shard order (so
/// two transactions that look further never wait on each other in a circle). How many
/// were taken; each shard taken from stays locked until the commit.
pub async fn take(
    conn: &mut Conn<'_>,
    offer: OfferId,
    hint: usize,
    wanted: i64,
) -> QueryResult<i64> {
    if wanted <= 0 {
        return Ok(0);
    }
    if add(conn, offer, (hint % SHARDS) as i16, wanted).await? {
        return Ok(wanted);
    }
    let mut taken = 0;
    for _ in 0..LOOKS {
        let rooms: Vec<(i16, i64)> = with_conn!(conn, |c| shards::table
            .filter(shards::offer_id.eq(offer))
            .filter(shards::used.lt(shards::granted))
            .order(shards::shard)
            .select((shards::shard, shards::granted - shards::used))
            .load(c)
            .await)?;
        if rooms.is_empty() {
            break;
        }
        for (shard, room) in rooms {
            let k = room.min(wanted - taken);
            if k > 0 && add(conn, offer, shard, k).await? {
                taken += k;
            }
            if taken == wanted {
                return Ok(taken);
            }
        }
    }
    Ok(taken)
}

/// Adds `k` to one shard's count if it stays within the shard's grant.
async fn add(conn: &mut Conn<'_>, offer: OfferId, shard: i16, k: i64) -> QueryResult<bool> {
    let changed = with_conn!(conn, |c| diesel::update(
        shards::table
            .filter(shards::offer_id.eq(offer))
            .filter(shards::shard.eq(shard))
            .filter((shards::used + k).le(shards::granted))
    )
    .set(shards::used.eq(shards::used + k))
    .execute(c)
    .await)?;
    Ok(changed == 1)
}

/// Gives one unit back (a voided redemption) to a shard that has used one.
pub async fn give_back(conn: &mut Conn<'_>, offer: OfferId) -> QueryResult<()> {
    for _ in 0..SHARDS {
        let shard: Option<i16> = with_conn!(conn, |c| shards::table
            .filter(shards::offer_id.eq(offer))
            .filter(shards::used.gt(0))
            .order(shards::shard.desc())
            .select(shards::shard)
            .first(c)
            .await
            .optional())?;
        let Some(shard) = shard else {
            return Ok(());
        };
        let changed = with_conn!(conn, |c| diesel::update(
            shards::table
                .filter(shards::offer_id.eq(offer))
                .filter(shards::shard.eq(shard))
                .filter(shards::used.gt(0))
        )
        .set(shards::used.eq(shards::used - 1))
        .execute(c)
        .await)?;
        if changed == 1 {
            return Ok(());
        }
    }
    Ok(())
}

/// Gives the offer shards for a quota of `total` of which `used` is used already (a
/// new offer, or an unlimited one given a quota); `None`: no quota, no shards.
pub async fn reset(
    conn: &mut Conn<'_>,
    offer: OfferId,
    total: Option<i64>,
    used: i64,
) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::delete(
        shards::table.filter(shards::offer_id.eq(offer))
    )
    .execute(c)
    .await)?;
    let Some(total) = total else {
        return Ok(());
    };
    let mut spent = vec![0; SHARDS];
    spent[0] = used.clamp(0, total.max(0));
    let grants = regrant(total.max(0), &spent).unwrap_or_else(|| spent.clone());
    // One by one: sixteen rows, once per quota (SQLite's connection takes no batches).
    for (i, (granted, used)) in grants.into_iter().zip(spent).enumerate() {
        let row = ShardRow {
            offer_id: offer,
            shard: i as i16,
            granted,
            used,
        };
        with_conn!(conn, |c| diesel::insert_into(shards::table)
            .values(&row)
            .execute(c)
            .await)?;
    }
    Ok(())
}

/// Changes the quota of an offer that has one to `total`, each shard keeping what it
/// used; `Err(used)` (nothing changed) when more than `total` is used already. The
/// shards stay locked until the commit.
pub async fn resize(
    conn: &mut Conn<'_>,
    offer: OfferId,
    total: i64,
) -> QueryResult<Result<(), i64>> {
    // Locks every shard (a batch holding one finishes first).
    let mut rows: Vec<(i16, i64)> = with_conn!(conn, |c| diesel::update(
        shards::table.filter(shards::offer_id.eq(offer))
    )
    .set(shards::granted.eq(shards::granted))
    .returning((shards::shard, shards::used))
    .get_results(c)
    .await)?;
    rows.sort_unstable();
    let used: Vec<i64> = rows.iter().map(|(_, u)| *u).collect();
    let Some(grants) = regrant(total, &used) else {
        return Ok(Err(used.iter().sum()));
    };
    for ((shard, _), granted) in rows.iter().zip(grants) {
        with_conn!(conn, |c| diesel::update(
            shards::table
                .filter(shards::offer_id.eq(offer))
                .filter(shards::shard.eq(*shard))
        )
        .set(shards::granted.eq(granted))
        .execute(c)
        .await)?;
    }
    Ok(Ok(()))
}

/// Sets what the offer shows as used to what its shards handed out, after the
/// redemptions that took them committed. On PostgreSQL the offer's row is locked
/// first, so each count is read after the one before it was written (the last one
/// written is the freshest), and the commit does not wait for the disk: the shards are
/// the record, and a count that a crash loses is taken again by the next batch or
/// recounted at start-up ([`recount_shown`]).
pub async fn show_used(conn: &mut Conn<'_>, offer: OfferId) -> QueryResult<()> {
    match conn {
        Conn::Pg(c) => {
            // One round trip: each statement of a simple query reads a snapshot of its
            // own, so the sum is read after the lock is held. The id is a UUID's hex
            // and hyphens, nothing to escape.
            let id = offer.0.hyphenated();
            let sql = format!(
                "BEGIN; SET LOCAL synchronous_commit TO OFF; \
                 SELECT 1 FROM offers WHERE id = '{id}' FOR UPDATE; \
                 UPDATE offers SET used_total = (SELECT COALESCE(SUM(s.used), 0) \
                 FROM offer_quota_shards s WHERE s.offer_id = '{id}') \
                 WHERE id = '{id}' AND total_quota IS NOT NULL; COMMIT;"
            );
            let c: &mut diesel_async::AsyncPgConnection = c;
            if let Err(error) = c.batch_execute(&sql).await {
                // Out of the failed transaction before the connection goes back.
                let _ = c.batch_execute("ROLLBACK").await;
                return Err(error);
            }
            Ok(())
        }
        Conn::Sqlite(c) => {
            let c: &mut super::SqliteConn = c;
            diesel::sql_query(
                "UPDATE offers SET used_total = (SELECT COALESCE(SUM(s.used), 0) \
                 FROM offer_quota_shards s WHERE s.offer_id = ?1) \
                 WHERE id = ?1 AND total_quota IS NOT NULL",
            )
            .bind::<DbUuid, _>(offer)
            .execute(c)
            .await
            .map(drop)
        }
    }
}

/// Sets what every offer with shards shows as used to what its shards handed out (at
/// start-up: counts lost between a commit and [`show_used`] come back). The number of
/// offers whose count changed.
pub async fn recount_shown(conn: &mut Conn<'_>) -> QueryResult<usize> {
    with_conn!(conn, |c| diesel::sql_query(
        "UPDATE offers SET used_total = (SELECT SUM(s.used) FROM offer_quota_shards s \
         WHERE s.offer_id = offers.id) \
         WHERE total_quota IS NOT NULL \
         AND used_total <> (SELECT COALESCE(SUM(s.used), 0) FROM offer_quota_shards s \
         WHERE s.offer_id = offers.id) \
         AND EXISTS (SELECT 1 FROM offer_quota_shards s WHERE s.offer_id = offers.id)"
    )
    .execute(c)
    .await)
}
