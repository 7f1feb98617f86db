//! Failed sign-in attempts, counted to throttle password guessing. Kept in the database
//! so that every API process sees the same count.

use diesel::{ExpressionMethods, QueryDsl, QueryResult};
use diesel_async::RunQueryDsl;

use super::schema::auth_failures;
use super::{AuthFailureId, Conn};
use crate::with_conn;

pub async fn count_since(
    conn: &mut Conn<'_>,
    scope: &str,
    subject: &str,
    since: chrono::NaiveDateTime,
) -> QueryResult<i64> {
    with_conn!(conn, |c| auth_failures::table
        .filter(auth_failures::scope.eq(scope))
        .filter(auth_failures::subject.eq(subject))
        .filter(auth_failures::failed_at.gt(since))
        .count()
        .get_result(c)
        .await)
}

/// Records a failure, and forgets failures older than `forget_before` for this subject.
pub async fn record(
    conn: &mut Conn<'_>,
    scope: &str,
    subject: &str,
    forget_before: chrono::NaiveDateTime,
) -> QueryResult<()> {
    let now = super::now();
    with_conn!(conn, |c| {
        diesel::delete(
            auth_failures::table
                .filter(auth_failures::scope.eq(scope))
                .filter(auth_failures::subject.eq(subject))
                .filter(auth_failures::failed_at.lt(forget_before)),
        )
        .execute(c)
        .await?;
        diesel::insert_into(auth_failures::table)
            .values((
                auth_failures::id.eq(AuthFailureId::new()),
                auth_failures::scope.eq(scope),
                auth_failures::subject.eq(subject),
                auth_failures::failed_at.eq(now),
            ))
            .execute(c)
            .await
    })?;
    Ok(())
}

pub async fn clear(conn: &mut Conn<'_>, scope: &str, subject: &str) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::delete(
        auth_failures::table
            .filter(auth_failures::scope.eq(scope))
            .filter(auth_failures::subject.eq(subject)),
    )
    .execute(c)
    .await)?;
    Ok(())
}
