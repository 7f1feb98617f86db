//! Failed attempts (sign-ins, activations, refreshes), counted to throttle guessing.
//! Kept in the database so that every API process sees the same count.
//!
//! A failure is recorded under its `scope` (`login`, `activation`, `refresh`), the
//! `subject` tried (a user name, a card number; empty for a refresh) and the client's
//! address key (`client`). It is counted per subject from one address, and per address
//! across subjects; never per subject alone, so that nobody can lock an account out
//! for everyone else.

use diesel::{ExpressionMethods, QueryDsl, QueryResult};
use diesel_async::RunQueryDsl;

use super::schema::auth_failures;
use super::{AuthFailureId, Conn};
use crate::with_conn;

/// Failures for `subject` from `client` since `since`.
pub async fn count_for(
    conn: &mut Conn<'_>,
    scope: &str,
    subject: &str,
    client: &str,
    since: chrono::NaiveDateTime,
) -> QueryResult<i64> {
    with_conn!(conn, |c| auth_failures::table
        .filter(auth_failures::scope.eq(scope))
        .filter(auth_failures::subject.eq(subject))
        .filter(auth_failures::client_addr.eq(client))
        .filter(auth_failures::failed_at.gt(since))
        .count()
        .get_result(c)
        .await)
}

/// Failures from `client` since `since`, whatever the subject.
pub async fn count_from(
    conn: &mut Conn<'_>,
    scope: &str,
    client: &str,
    since: chrono::NaiveDateTime,
) -> QueryResult<i64> {
    with_conn!(conn, |c| auth_failures::table
        .filter(auth_failures::scope.eq(scope))
        .filter(auth_failures::client_addr.eq(client))
        .filter(auth_failures::failed_at.gt(since))
        .count()
        .get_result(c)
        .await)
}

/// Records a failure, and forgets the scope's failures older than `forget_before`.
pub async fn record(
    conn: &mut Conn<'_>,
    scope: &str,
    subject: &str,
    client: &str,
    forget_before: chrono::NaiveDateTime,
) -> QueryResult<()> {
    let now = super::now();
    with_conn!(conn, |c| {
        diesel::delete(
            auth_failures::table
                .filter(auth_failures::scope.eq(scope))
                .filter(auth_failures::failed_at.lt(forget_before)),
        )
        .execute(c)
        .await?;
        diesel::insert_into(auth_failures::table)
            .values((
                auth_failures::id.eq(AuthFailureId::new()),
                auth_failures::scope.eq(scope),
                auth_failures::subject.eq(subject),
                auth_failures::client_addr.eq(client),
                auth_failures::failed_at.eq(now),
            ))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Forgets the failures for `subject` from `client` (it has just succeeded from there;
/// what others tried elsewhere still counts against them).
pub async fn clear(
    conn: &mut Conn<'_>,
    scope: &str,
    subject: &str,
    client: &str,
) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::delete(
        auth_failures::table
            .filter(auth_failures::scope.eq(scope))
            .filter(auth_failures::subject.eq(subject))
            .filter(auth_failures::client_addr.eq(client)),
    )
    .execute(c)
    .await)?;
    Ok(())
}

/// The failures recorded for `subject`, from every address: `(client, failed_at)`.
pub async fn of_subject(
    conn: &mut Conn<'_>,
    scope: &str,
    subject: &str,
) -> QueryResult<Vec<(String, chrono::NaiveDateTime)>> {
    with_conn!(conn, |c| auth_failures::table
        .filter(auth_failures::scope.eq(scope))
        .filter(auth_failures::subject.eq(subject))
        .select((auth_failures::client_addr, auth_failures::failed_at))
        .order(auth_failures::failed_at)
        .load(c)
        .await)
}

/// Forgets every failure for `subject`, from every address; how many there were.
pub async fn clear_subject(conn: &mut Conn<'_>, scope: &str, subject: &str) -> QueryResult<usize> {
    with_conn!(conn, |c| diesel::delete(
        auth_failures::table
            .filter(auth_failures::scope.eq(scope))
            .filter(auth_failures::subject.eq(subject)),
    )
    .execute(c)
    .await)
}
