//! The figures' queries: grouped counts over merchants, beneficiaries, cards and
//! redemptions of a region subtree. Redemptions carry their own dimensions (holder
//! category, card product, offer kind, merchant category, both regions), so every
//! redemption figure is a scan of that one table, on PostgreSQL a single scan for all
//! of them (`GROUPING SETS`).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, Timestamp};
use diesel::QueryResult;
use diesel_async::RunQueryDsl;

use super::Conn;
use crate::with_conn;

/// Turns `$1, $2, …` into SQLite's `?` (each placeholder used once, in order).
fn for_backend(sql: &str, pg: bool) -> String {
    if pg {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(ch);
        }
    }
    out
}

fn is_pg(conn: &Conn<'_>) -> bool {
    matches!(conn, Conn::Pg(_))
}

/// One group of a grouped count: `dim` names the grouping, `k1`/`k2` its key.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct GroupRow {
    #[diesel(sql_type = Text)]
    pub dim: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub k1: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub k2: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
    #[diesel(sql_type = BigInt)]
    pub fen: i64,
}

/// Redemption dimensions on SQLite: `(dim, key expression)`; PostgreSQL's query
/// below names the same dimensions.
const REDEMPTION_DIMS: &[(&str, &str)] = &[
    ("month", "strftime('%Y-%m', redeemed_at, '+8 hours')"),
    ("holder_category", "holder_category"),
    ("merchant_category", "merchant_category"),
    ("card_product", "card_product"),
    ("offer_kind", "offer_kind"),
    ("region", "merchant_region_code"),
    ("merchant", "merchant_id"),
];

/// Completed redemptions at merchants of the subtree `region_like`, redeemed in
/// `[from, until)`: the total (`dim = "total"`), one row per key of each dimension of
/// [`REDEMPTION_DIMS`], and `dim = "pair"` rows `(holder region, merchant region)`.
pub async fn redemption_groups(
    conn: &mut Conn<'_>,
    region_like: &str,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<GroupRow>> {
    let filter = "status = 'completed' AND redeemed_at >= $1 AND redeemed_at < $2 \
                  AND merchant_region_code LIKE $3";
    let sql = if is_pg(conn) {
        // One scan, hash-aggregated in five grouping sets over the raw columns (the
        // month and the merchant id are formatted after the aggregation, not per row).
        // The merchant's category, offer kind and region are rolled up from the small
        // per-merchant set, the total from the months. `GROUPING(mo, hc, cp, mid, hr)`
        // tells the sets apart: 15 month, 23 holder category, 27 card product,
        // 29 merchant, 30 region pair.
        format!(
            "WITH r AS (SELECT date_trunc('month', redeemed_at + interval '8 hours') AS mo, \
             holder_category AS hc, card_product AS cp, merchant_id AS mid, \
             merchant_category AS mc, offer_kind AS ok, merchant_region_code AS mr, \
             holder_region_code AS hr, discount_fen FROM redemptions WHERE {filter}), \
             a AS MATERIALIZED (SELECT GROUPING(mo, hc, cp, mid, hr) AS g, \
             mo, hc, cp, mid, mc, ok, mr, hr, count(*) AS n, \
             COALESCE(sum(discount_fen), 0)::bigint AS fen FROM r \
             GROUP BY GROUPING SETS ((mo), (hc), (cp), (mid, mc, ok, mr), (hr, mr))) \
             SELECT 'total'::text AS dim, NULL::text AS k1, NULL::text AS k2, \
             COALESCE(sum(n), 0)::bigint AS n, COALESCE(sum(fen), 0)::bigint AS fen \
             FROM a WHERE g = 15 \
             UNION ALL SELECT 'month', to_char(mo, 'YYYY-MM'), NULL, n, fen FROM a WHERE g = 15 \
             UNION ALL SELECT 'holder_category', hc, NULL, n, fen FROM a WHERE g = 23 \
             UNION ALL SELECT 'card_product', cp, NULL, n, fen FROM a WHERE g = 27 \
             UNION ALL SELECT 'merchant', mid::text, NULL, sum(n)::bigint, sum(fen)::bigint \
             FROM a WHERE g = 29 GROUP BY mid \
             UNION ALL SELECT 'merchant_category', mc, NULL, sum(n)::bigint, sum(fen)::bigint \
             FROM a WHERE g = 29 GROUP BY mc \
             UNION ALL SELECT 'offer_kind', ok, NULL, sum(n)::bigint, sum(fen)::bigint \
             FROM a WHERE g = 29 GROUP BY ok \
             UNION ALL SELECT 'region', mr, NULL, sum(n)::bigint, sum(fen)::bigint \
             FROM a WHERE g = 29 GROUP BY mr \
             UNION ALL SELECT 'pair', hr, mr, n, fen FROM a WHERE g = 30"
        )
    } else {
        // SQLite has no grouping sets: one grouped select per dimension.
        let mut parts = vec![
            "SELECT 'total' AS dim, NULL AS k1, NULL AS k2, count(*) AS n, \
             COALESCE(sum(discount_fen), 0) AS fen FROM r"
                .to_owned(),
            "SELECT 'pair', holder_region_code, merchant_region_code, count(*), \
             COALESCE(sum(discount_fen), 0) FROM r GROUP BY holder_region_code, merchant_region_code"
                .to_owned(),
        ];
        for (dim, sqlite) in REDEMPTION_DIMS {
            parts.push(format!(
                "SELECT '{dim}', {sqlite}, NULL, count(*), COALESCE(sum(discount_fen), 0) \
                 FROM r GROUP BY {sqlite}"
            ));
        }
        format!(
            "WITH r AS (SELECT * FROM redemptions WHERE {filter}) {}",
            parts.join(" UNION ALL ")
        )
    };
    let sql = for_backend(&sql, is_pg(conn));
    // The sort feeding the aggregation spills to disk under the default 4 MB.
    conn.transaction(async |tx| {
        if is_pg(tx) {
            with_conn!(tx, |c| diesel::sql_query("SET LOCAL work_mem = '64MB'")
                .execute(c)
                .await)?;
        }
        with_conn!(tx, |c| diesel::sql_query(&sql)
            .bind::<Timestamp, _>(from)
            .bind::<Timestamp, _>(until)
            .bind::<Text, _>(region_like)
            .load::<GroupRow>(c)
            .await)
    })
    .await
}

/// Merchants of the subtree by stored status (an active merchant past its agreement
/// counted as `expired`), category and kind: `(status, category, kind, count)`.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct MerchantGroup {
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

pub async fn merchant_groups(
    conn: &mut Conn<'_>,
    region_like: &str,
    today: NaiveDate,
) -> QueryResult<Vec<MerchantGroup>> {
    let sql = for_backend(
        "SELECT CASE WHEN status = 'active' AND agreement_end < $1 THEN 'expired' ELSE status END \
         AS status, category, kind, count(*) AS n FROM merchants WHERE region_code LIKE $2 \
         GROUP BY 1, 2, 3",
        is_pg(conn),
    );
    with_conn!(conn, |c| diesel::sql_query(&sql)
        .bind::<Date, _>(today)
        .bind::<Text, _>(region_like)
        .load::<MerchantGroup>(c)
        .await)
}

#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct AdmissionGroup {
    #[diesel(sql_type = Integer)]
    pub year: i32,
    #[diesel(sql_type = Text)]
    pub region_code: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Merchants first admitted in `[from, until)` (UTC bounds), by year (China time) and
/// region.
pub async fn admissions(
    conn: &mut Conn<'_>,
    region_like: &str,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<AdmissionGroup>> {
    let year = if is_pg(conn) {
        "CAST(EXTRACT(YEAR FROM admitted_at + interval '8 hours') AS INTEGER)"
    } else {
        "CAST(strftime('%Y', admitted_at, '+8 hours') AS INTEGER)"
    };
    let sql = for_backend(
        &format!(
            "SELECT {year} AS year, region_code, count(*) AS n FROM merchants \
             WHERE admitted_at IS NOT NULL AND admitted_at >= $1 AND admitted_at < $2 \
             AND region_code LIKE $3 GROUP BY 1, 2"
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
pub struct KeyCount {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub key2: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Beneficiaries of the subtree by category.
pub async fn beneficiary_groups(
    conn: &mut Conn<'_>,
    region_like: &str,
) -> QueryResult<Vec<KeyCount>> {
    let sql = for_backend(
        "SELECT category AS key, NULL AS key2, count(*) AS n FROM beneficiaries \
         WHERE region_code LIKE $1 GROUP BY category",
        is_pg(conn),
    );
    with_conn!(conn, |c| diesel::sql_query(&sql)
        .bind::<Text, _>(region_like)
        .load::<KeyCount>(c)
        .await)
}

/// Cards of the subtree's beneficiaries by product and status (an active card past
/// its expiry counted as `expired`).
pub async fn card_groups(
    conn: &mut Conn<'_>,
    region_like: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<KeyCount>> {
    let sql = for_backend(
        "SELECT c.product AS key, CASE WHEN c.status = 'active' AND c.expires_at <= $1 \
         THEN 'expired' ELSE c.status END AS key2, count(*) AS n \
         FROM cards c JOIN beneficiaries b ON b.id = c.beneficiary_id \
         WHERE b.region_code LIKE $2 GROUP BY 1, 2",
        is_pg(conn),
    );
    with_conn!(conn, |c| diesel::sql_query(&sql)
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(region_like)
        .load::<KeyCount>(c)
        .await)
}

/// Names of regions by code.
pub async fn region_names(
    conn: &mut Conn<'_>,
    codes: &[String],
) -> QueryResult<std::collections::HashMap<String, String>> {
    use super::schema::regions;
    use diesel::{ExpressionMethods, QueryDsl};
    if codes.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(String, String)> = with_conn!(conn, |c| regions::table
        .filter(regions::code.eq_any(codes))
        .select((regions::code, regions::name))
        .load(c)
        .await)?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::for_backend;

    #[test]
    fn placeholders_follow_the_backend() {
        let sql = "a = $1 AND b LIKE $2 AND c < $10";
        assert_eq!(for_backend(sql, true), sql);
        assert_eq!(for_backend(sql, false), "a = ? AND b LIKE ? AND c < ?");
        assert_eq!(for_backend("price $ 5", false), "price $ 5");
    }
}
