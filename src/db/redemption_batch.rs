//! The writes of several redemptions in one transaction (group commit): multi-row
//! statements that do not fail when one row conflicts, so each redemption's refusal
//! stays its own. Call them in a transaction.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, QueryDsl, QueryResult};
use diesel_async::RunQueryDsl;
use std::collections::HashSet;

use super::offers::RedemptionRow;
use super::schema::{idempotency_keys, redemptions};
use super::{Conn, RedemptionId, TerminalId};
use crate::with_conn;

/// An idempotency key claimed with the answer it will give.
pub struct KeyClaim<'a> {
    pub terminal: TerminalId,
    pub key: &'a str,
    pub request_hash: &'a str,
    pub status: i32,
    pub body: &'a str,
}

/// Claims the keys with their answers; for each, whether this call claimed it (`false`:
/// claimed before, on PostgreSQL after waiting for that claim's transaction to end).
/// The keys must be distinct.
pub async fn claim_keys(
    conn: &mut Conn<'_>,
    claims: &[KeyClaim<'_>],
    at: NaiveDateTime,
) -> QueryResult<Vec<bool>> {
    let rows: Vec<_> = claims
        .iter()
        .map(|k| {
            (
                idempotency_keys::terminal_id.eq(k.terminal),
                idempotency_keys::key.eq(k.key),
                idempotency_keys::request_hash.eq(k.request_hash),
                idempotency_keys::created_at.eq(at),
                idempotency_keys::response_status.eq(Some(k.status)),
                idempotency_keys::response_body.eq(Some(k.body)),
            )
        })
        .collect();
    let inserted = match conn {
        Conn::Pg(c) => {
            diesel::insert_into(idempotency_keys::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(&mut **c)
                .await?
        }
        // SQLite has no multi-row insert with a conflict clause in diesel; its rows are
        // written in-process, one statement each costs no round trip.
        Conn::Sqlite(c) => {
            let mut inserted = 0;
            for row in &rows {
                inserted += diesel::insert_into(idempotency_keys::table)
                    .values(*row)
                    .on_conflict_do_nothing()
                    .execute(&mut **c)
                    .await?;
            }
            inserted
        }
    };
    if inserted == claims.len() {
        return Ok(vec![true; claims.len()]);
    }
    // Some were claimed before: ours are those holding our answer (each names its own
    // redemption id, so no other request's answer is equal).
    let terminals: Vec<TerminalId> = claims.iter().map(|k| k.terminal).collect();
    let keys: Vec<&str> = claims.iter().map(|k| k.key).collect();
    let stored: Vec<(TerminalId, String, Option<String>)> =
        with_conn!(conn, |c| idempotency_keys::table
            .filter(idempotency_keys::terminal_id.eq_any(&terminals))
            .filter(idempotency_keys::key.eq_any(&keys))
            .select((
                idempotency_keys::terminal_id,
                idempotency_keys::key,
                idempotency_keys::response_body,
            ))
            .load(c)
            .await)?;
    Ok(claims
        .iter()
        .map(|k| {
            stored.iter().any(|(t, key, body)| {
                *t == k.terminal && key == k.key && body.as_deref() == Some(k.body)
            })
        })
        .collect())
}

/// Replaces the answer a key was claimed with (a redemption refused after its claim).
pub async fn set_answer(
    conn: &mut Conn<'_>,
    terminal: TerminalId,
    key: &str,
    status: i32,
    body: &str,
) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::terminal_id.eq(terminal))
            .filter(idempotency_keys::key.eq(key))
    )
    .set((
        idempotency_keys::response_status.eq(Some(status)),
        idempotency_keys::response_body.eq(Some(body)),
    ))
    .execute(c)
    .await)?;
    Ok(())
}

/// Writes the ledger rows; for each, whether it was written (`false`: its token, the
/// unique `jti`, redeemed already). The tokens must be distinct.
pub async fn insert_redemptions(
    conn: &mut Conn<'_>,
    rows: &[&RedemptionRow],
) -> QueryResult<Vec<bool>> {
    let inserted = match conn {
        Conn::Pg(c) => {
            let values: Vec<RedemptionRow> = rows.iter().map(|r| (*r).clone()).collect();
            diesel::insert_into(redemptions::table)
                .values(&values)
                .on_conflict_do_nothing()
                .execute(&mut **c)
                .await?
        }
        Conn::Sqlite(c) => {
            let mut inserted = 0;
            for row in rows {
                inserted += diesel::insert_into(redemptions::table)
                    .values(*row)
                    .on_conflict_do_nothing()
                    .execute(&mut **c)
                    .await?;
            }
            inserted
        }
    };
    if inserted == rows.len() {
        return Ok(vec![true; rows.len()]);
    }
    let ids: Vec<RedemptionId> = rows.iter().map(|r| r.id).collect();
    let written: HashSet<RedemptionId> = with_conn!(conn, |c| redemptions::table
        .filter(redemptions::id.eq_any(&ids))
        .select(redemptions::id)
        .load::<RedemptionId>(c)
        .await)?
    .into_iter()
    .collect();
    Ok(rows.iter().map(|r| written.contains(&r.id)).collect())
}

/// Removes ledger rows written in this transaction for redemptions refused after
/// (their offer's quota ran out in the same batch).
pub async fn delete_redemptions(conn: &mut Conn<'_>, ids: &[RedemptionId]) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::delete(
        redemptions::table.filter(redemptions::id.eq_any(ids))
    )
    .execute(c)
    .await)?;
    Ok(())
}
