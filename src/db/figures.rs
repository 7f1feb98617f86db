//! The figures set beside the targets (admissions by kind, insurance gifts), offline
//! redemptions, and the figures of a holder's home office (异地互认: the redemptions of
//! a region's holders wherever they were made). Straight from the ledger: these are
//! not in the monthly rollup.

use chrono::NaiveDateTime;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
use diesel::QueryResult;
use diesel_async::RunQueryDsl;

use super::stats::{for_backend, is_pg, sum_fen, GroupRow};
use super::Conn;
use crate::with_conn;

/// The year (China time) of a timestamp column, on each backend.
fn china_year(conn: &Conn<'_>, column: &str) -> String {
    if is_pg(conn) {
        format!("CAST(EXTRACT(YEAR FROM {column} + interval '8 hours') AS INTEGER)")
    } else {
        format!("CAST(strftime('%Y', {column}, '+8 hours') AS INTEGER)")
    }
}

#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct AdmissionGroup {
    #[diesel(sql_type = Integer)]
    pub year: i32,
    #[diesel(sql_type = Text)]
    pub region_code: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Merchants first admitted in `[from, until)` (UTC bounds), by year (China time),
/// region and kind.
pub async fn admissions(
    conn: &mut Conn<'_>,
    region_like: &str,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<AdmissionGroup>> {
    let year = china_year(conn, "admitted_at");
    let sql = for_backend(
        &format!(
            "SELECT {year} AS year, region_code, kind, count(*) AS n FROM merchants \
             WHERE admitted_at IS NOT NULL AND admitted_at >= $1 AND admitted_at < $2 \
             AND region_code LIKE $3 GROUP BY 1, 2, 3"
        ),
        is_pg(conn),
    );
    with_conn!(conn, |c| diesel::sql_query(&sql)
        .bind::<Timestamp, _>(from)
        .bind::<Timestamp, _>(until)
        .bind::<Text, _>(region_like)
        .load::<AdmissionGroup>(c)
        .await)
}

#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct YearCount {
    #[diesel(sql_type = Integer)]
    pub year: i32,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Completed redemptions of insurance partners' offers (赠险) at merchants of the
/// subtree, in `[from, until)`, by year (China time).
pub async fn insurance_gifts(
    conn: &mut Conn<'_>,
    region_like: &str,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<YearCount>> {
    let year = china_year(conn, "redeemed_at");
    let sql = for_backend(
        &format!(
            "SELECT {year} AS year, count(*) AS n FROM redemptions \
             WHERE merchant_category = 'insurance' AND status = 'completed' \
             AND redeemed_at >= $1 AND redeemed_at < $2 AND merchant_region_code LIKE $3 \
             GROUP BY 1"
        ),
        is_pg(conn),
    );
    with_conn!(conn, |c| diesel::sql_query(&sql)
        .bind::<Timestamp, _>(from)
        .bind::<Timestamp, _>(until)
        .bind::<Text, _>(region_like)
        .load::<YearCount>(c)
        .await)
}

#[derive(Debug, Clone, diesel::QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Completed redemptions verified offline, at merchants of the subtree, in
/// `[from, until)`.
pub async fn offline_redemptions(
    conn: &mut Conn<'_>,
    region_like: &str,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<i64> {
    let sql = for_backend(
        "SELECT count(*) AS n FROM redemptions WHERE offline AND status = 'completed' \
         AND redeemed_at >= $1 AND redeemed_at < $2 AND merchant_region_code LIKE $3",
        is_pg(conn),
    );
    let total = with_conn!(conn, |c| diesel::sql_query(&sql)
        .bind::<Timestamp, _>(from)
        .bind::<Timestamp, _>(until)
        .bind::<Text, _>(region_like)
        .get_result::<Total>(c)
        .await)?;
    Ok(total.n)
}

/// Completed redemptions of holders of the subtree `holder_like`, wherever they were
/// made, in `[from, until)`: `dim` is `bearing` (by the merchant's region), `month`
/// (`YYYY-MM`, China time) or `holder_category`.
pub async fn holder_region_groups(
    conn: &mut Conn<'_>,
    holder_like: &str,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<GroupRow>> {
    let month = if is_pg(conn) {
        "to_char(redeemed_at + interval '8 hours', 'YYYY-MM')"
    } else {
        "strftime('%Y-%m', redeemed_at, '+8 hours')"
    };
    // Saturated, never an overflow (see `stats::sum_fen`).
    let sums = format!(
        "count(*) AS n, {} AS fen",
        sum_fen(is_pg(conn), "discount_fen")
    );
    let sql = for_backend(
        &format!(
            "WITH r AS (SELECT merchant_region_code, holder_category, {month} AS mo, \
             discount_fen FROM redemptions WHERE status = 'completed' \
             AND redeemed_at >= $1 AND redeemed_at < $2 AND holder_region_code LIKE $3) \
             SELECT 'bearing' AS dim, merchant_region_code AS k1, CAST(NULL AS TEXT) AS k2, \
             {sums} FROM r GROUP BY merchant_region_code \
             UNION ALL SELECT 'month', mo, NULL, {sums} FROM r GROUP BY mo \
             UNION ALL SELECT 'holder_category', holder_category, NULL, {sums} \
             FROM r GROUP BY holder_category"
        ),
        is_pg(conn),
    );
    with_conn!(conn, |c| diesel::sql_query(&sql)
        .bind::<Timestamp, _>(from)
        .bind::<Timestamp, _>(until)
        .bind::<Text, _>(holder_like)
        .load::<GroupRow>(c)
        .await)
}
