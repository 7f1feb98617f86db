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

/// Redemption dimensions: `(dim, key expression on PostgreSQL, on SQLite)`.
const REDEMPTION_DIMS: &[(&str, &str, &str)] = &[
    (
        "month",
        "to_char(redeemed_at + interval '8 hours', 'YYYY-MM')",
        "strftime('%Y-%m', redeemed_at, '+8 hours')",
    ),
    ("holder_category", "holder_category", "holder_category"),
    (
        "merchant_category",
        "merchant_category",
        "merchant_category",
    ),
    ("card_product", "card_product", "card_product"),
    ("offer_kind", "offer_kind", "offer_kind"),
    ("region", "merchant_region_code", "merchant_region_code"),
    ("merchant", "merchant_id::text", "merchant_id"),
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
        // One scan, hash-aggregated per grouping set. The merchant's region is grouped
        // by under one name only (`region`'s alias): PostgreSQL inlines the CTE, and two
        // names of one column would be one expression to GROUPING().
        let mut case = String::from("CASE WHEN GROUPING(holder_region_code) = 0 THEN 'pair'");
        let mut keys = Vec::new();
        let mut sets = vec!["()".to_owned()];
        let mut columns = Vec::new();
        let mut region_alias = String::new();
        for (i, (dim, pg, _)) in REDEMPTION_DIMS.iter().enumerate() {
            let alias = format!("d{i}");
            columns.push(format!("{pg} AS {alias}"));
            case.push_str(&format!(" WHEN GROUPING({alias}) = 0 THEN '{dim}'"));
            keys.push(alias.clone());
            sets.push(format!("({alias})"));
            if *dim == "region" {
                region_alias = alias;
            }
        }
        sets.push(format!("(holder_region_code, {region_alias})"));
        case.push_str(" ELSE 'total' END");
        format!(
            "WITH r AS (SELECT {columns}, holder_region_code, discount_fen \
             FROM redemptions WHERE {filter}) \
             SELECT {case} AS dim, \
             CASE WHEN GROUPING(holder_region_code) = 0 THEN holder_region_code \
             ELSE COALESCE({keys}) END AS k1, \
             CASE WHEN GROUPING(holder_region_code) = 0 THEN {region_alias} END AS k2, \
             count(*) AS n, COALESCE(sum(discount_fen), 0)::bigint AS fen \
             FROM r GROUP BY GROUPING SETS ({sets})",
            columns = columns.join(", "),
            keys = keys.join(", "),
            sets = sets.join(", "),
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
        for (dim, _, sqlite) in REDEMPTION_DIMS {
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
    with_conn!(conn, |c| diesel::sql_query(&sql)
        .bind::<Timestamp, _>(from)
        .bind::<Timestamp, _>(until)
        .bind::<Text, _>(region_like)
        .load::<GroupRow>(c)
        .await)
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
