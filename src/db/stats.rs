//! The figures' queries: grouped counts over merchants, beneficiaries, cards and
//! redemptions of a region subtree. Redemptions carry their own dimensions (holder
//! category, card product, offer kind, merchant category, both regions), so every
//! redemption figure is a scan of that one table, on PostgreSQL a single scan for all
//! of them (`GROUPING SETS`).

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamp};
use diesel::QueryResult;
use diesel_async::RunQueryDsl;

use super::Conn;
use crate::with_conn;

/// Turns `$1, $2, …` into SQLite's `?` (each placeholder used once, in order).
pub(super) fn for_backend(sql: &str, pg: bool) -> String {
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

pub(super) fn is_pg(conn: &Conn<'_>) -> bool {
    matches!(conn, Conn::Pg(_))
}

// ---------- sums of money ----------
//
// A sum of fen must answer whatever the ledger holds: rows written before bills and
// offer amounts were bounded can each be near 2^63, and a plain `sum()` of eleven of
// them fails the whole figure (PostgreSQL: `bigint out of range` casting its `numeric`
// sum back; SQLite: `integer overflow`). So every sum of fen is taken in a type that
// cannot overflow and saturated to the BIGINT range in SQL, and the answers keep their
// integer type:
//
// - PostgreSQL sums `bigint` exactly as `numeric`; the sum is clamped, then cast. Exact
//   whenever it fits in a BIGINT, else i64::MIN / i64::MAX.
// - SQLite's `total()` never raises: it adds integers exactly (as `sum()` does) and
//   only gives the result as a REAL, falling back to floating point past an overflow;
//   `CAST(… AS INTEGER)` saturates a REAL beyond the BIGINT range. Exact while the sum
//   is below 2^53 fen (about 90 trillion yuan, beyond any real figure), the nearest
//   REAL above that, i64::MIN / i64::MAX beyond the range.
//
// Sums of those sums in Rust (`add_up`, the app's totals) saturate too.

/// The saturated sum (0 for no rows) of the fen expression `fen`, as a BIGINT.
pub(super) fn sum_fen(pg: bool, fen: &str) -> String {
    if pg {
        saturate_pg(&format!("COALESCE(sum({fen}), 0)"))
    } else {
        format!("CAST(total({fen}) AS INTEGER)")
    }
}

/// A PostgreSQL `numeric` clamped to the BIGINT range and cast to it.
fn saturate_pg(numeric: &str) -> String {
    format!(
        "LEAST(GREATEST({numeric}, {}), {})::bigint",
        i64::MIN,
        i64::MAX
    )
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
/// `[from, until)`, counted from the ledger: the total (`dim = "total"`), one row per key
/// of each dimension of [`REDEMPTION_DIMS`], and `dim = "pair"` rows
/// `(holder region, merchant region)`.
async fn ledger_groups(
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
        // `fen` stays the exact `numeric` sum inside `a`; each answer saturates it.
        let fen = saturate_pg("fen");
        let sum_fen = sum_fen(true, "fen");
        format!(
            "WITH r AS (SELECT date_trunc('month', redeemed_at + interval '8 hours') AS mo, \
             holder_category AS hc, card_product AS cp, merchant_id AS mid, \
             merchant_category AS mc, offer_kind AS ok, merchant_region_code AS mr, \
             holder_region_code AS hr, discount_fen FROM redemptions WHERE {filter}), \
             a AS MATERIALIZED (SELECT GROUPING(mo, hc, cp, mid, hr) AS g, \
             mo, hc, cp, mid, mc, ok, mr, hr, count(*) AS n, \
             COALESCE(sum(discount_fen), 0) AS fen FROM r \
             GROUP BY GROUPING SETS ((mo), (hc), (cp), (mid, mc, ok, mr), (hr, mr))) \
             SELECT 'total'::text AS dim, NULL::text AS k1, NULL::text AS k2, \
             COALESCE(sum(n), 0)::bigint AS n, {sum_fen} AS fen \
             FROM a WHERE g = 15 \
             UNION ALL SELECT 'month', to_char(mo, 'YYYY-MM'), NULL, n, {fen} FROM a WHERE g = 15 \
             UNION ALL SELECT 'holder_category', hc, NULL, n, {fen} FROM a WHERE g = 23 \
             UNION ALL SELECT 'card_product', cp, NULL, n, {fen} FROM a WHERE g = 27 \
             UNION ALL SELECT 'merchant', mid::text, NULL, sum(n)::bigint, {sum_fen} \
             FROM a WHERE g = 29 GROUP BY mid \
             UNION ALL SELECT 'merchant_category', mc, NULL, sum(n)::bigint, {sum_fen} \
             FROM a WHERE g = 29 GROUP BY mc \
             UNION ALL SELECT 'offer_kind', ok, NULL, sum(n)::bigint, {sum_fen} \
             FROM a WHERE g = 29 GROUP BY ok \
             UNION ALL SELECT 'region', mr, NULL, sum(n)::bigint, {sum_fen} \
             FROM a WHERE g = 29 GROUP BY mr \
             UNION ALL SELECT 'pair', hr, mr, n, {fen} FROM a WHERE g = 30"
        )
    } else {
        // SQLite has no grouping sets: one grouped select per dimension.
        let fen = sum_fen(false, "discount_fen");
        let mut parts = vec![
            format!(
                "SELECT 'total' AS dim, NULL AS k1, NULL AS k2, count(*) AS n, {fen} AS fen FROM r"
            ),
            format!(
                "SELECT 'pair', holder_region_code, merchant_region_code, count(*), {fen} \
                 FROM r GROUP BY holder_region_code, merchant_region_code"
            ),
        ];
        for (dim, sqlite) in REDEMPTION_DIMS {
            parts.push(format!(
                "SELECT '{dim}', {sqlite}, NULL, count(*), {fen} FROM r GROUP BY {sqlite}"
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

// ---------- the monthly rollup ----------
//
// Closed months are answered from `redemption_rollup` (a few hundred rows per month
// instead of every redemption), the rest of a range from the ledger. A month is closed
// one hour after it ends (China time), when no redemption can still be written into it;
// it is summed once, on first use (or at start-up), and again after a void in it marked
// it stale.

/// How long after a month's end it may still receive redemptions (a request begun before
/// midnight and committed after it); after this the month is closed.
pub const ROLLUP_GRACE: chrono::Duration = chrono::Duration::hours(1);

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("every month has a first day")
}

fn next_month(first: NaiveDate) -> NaiveDate {
    first + chrono::Months::new(1)
}

/// The rollup's key of the month that `first` begins.
fn month_key(first: NaiveDate) -> String {
    first.format("%Y-%m").to_string()
}

/// The start of the first month that is not closed at `now` (UTC).
fn open_from(now: NaiveDateTime) -> NaiveDate {
    first_of_month(crate::domain::to_china(now - ROLLUP_GRACE).date())
}

/// How the China-time days `[from, until)` are counted: whole closed months
/// `[months.0, months.1)` from the rollup, the days before and after them from the
/// ledger.
#[derive(Debug, PartialEq, Eq)]
pub struct RangePlan {
    pub months: Option<(NaiveDate, NaiveDate)>,
    pub ledger: Vec<(NaiveDate, NaiveDate)>,
}

pub fn plan(from: NaiveDate, until: NaiveDate, now: NaiveDateTime) -> RangePlan {
    let first = if from.day() == 1 {
        from
    } else {
        next_month(first_of_month(from))
    };
    let end = first_of_month(until).min(open_from(now));
    if first >= end {
        return RangePlan {
            months: None,
            ledger: vec![(from, until)],
        };
    }
    RangePlan {
        months: Some((first, end)),
        ledger: [(from, first), (end, until)]
            .into_iter()
            .filter(|(a, b)| a < b)
            .collect(),
    }
}

#[derive(diesel::QueryableByName)]
struct MonthRow {
    #[diesel(sql_type = Text)]
    month: String,
}

/// Marks the month of a redemption redeemed at `redeemed_at` (UTC) stale, in the
/// caller's transaction: the next figures over it are summed again.
pub async fn rollup_stale(conn: &mut Conn<'_>, redeemed_at: NaiveDateTime) -> QueryResult<()> {
    let month = month_key(first_of_month(crate::domain::to_china(redeemed_at).date()));
    let sql = for_backend(
        "INSERT INTO redemption_rollup_months (month, fresh) VALUES ($1, FALSE) \
         ON CONFLICT (month) DO UPDATE SET fresh = FALSE",
        is_pg(conn),
    );
    with_conn!(conn, |c| diesel::sql_query(&sql)
        .bind::<Text, _>(&month)
        .execute(c)
        .await)?;
    Ok(())
}

/// Sums the months `[first, end)` that the rollup does not hold fresh, one transaction
/// per month. The month's marker row is written first: a concurrent builder of the same
/// month waits for it and then finds the month fresh, and a concurrent void waits for
/// it and then marks the month stale again.
pub async fn ensure_rollup(
    conn: &mut Conn<'_>,
    first: NaiveDate,
    end: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let sql = for_backend(
        "SELECT month FROM redemption_rollup_months WHERE fresh AND month >= $1 AND month < $2",
        is_pg(conn),
    );
    let fresh: std::collections::HashSet<String> = with_conn!(conn, |c| diesel::sql_query(&sql)
        .bind::<Text, _>(month_key(first))
        .bind::<Text, _>(month_key(end))
        .load::<MonthRow>(c)
        .await)?
    .into_iter()
    .map(|r| r.month)
    .collect();
    let mut built = 0;
    let mut month = first;
    while month < end {
        if !fresh.contains(&month_key(month)) && build_month(conn, month, now).await? {
            built += 1;
        }
        month = next_month(month);
    }
    Ok(built)
}

/// Sums one month into the rollup; `false` when another builder already had.
async fn build_month(
    conn: &mut Conn<'_>,
    first: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let pg = is_pg(conn);
    let key = month_key(first);
    let claim = for_backend(
        "INSERT INTO redemption_rollup_months (month, fresh, built_at) VALUES ($1, TRUE, $2) \
         ON CONFLICT (month) DO UPDATE SET fresh = TRUE, built_at = excluded.built_at \
         WHERE redemption_rollup_months.fresh = FALSE RETURNING month",
        pg,
    );
    let clear = for_backend("DELETE FROM redemption_rollup WHERE month = $1", pg);
    // Each group's sum saturated as it is stored: the rollup's `fen` is a BIGINT.
    let fen = sum_fen(pg, "discount_fen");
    let sum = for_backend(
        &format!(
            "WITH r AS (SELECT merchant_region_code AS mr, holder_category AS hc, \
             card_product AS cp, CAST(merchant_id AS TEXT) AS mid, merchant_category AS mc, \
             offer_kind AS ok, holder_region_code AS hr, discount_fen FROM redemptions \
             WHERE status = 'completed' AND redeemed_at >= $1 AND redeemed_at < $2) \
             INSERT INTO redemption_rollup (month, set_name, merchant_region_code, k1, k2, k3, n, fen) \
             SELECT $3, s, mr, k1, k2, k3, n, fen FROM ( \
             SELECT 'holder_category' AS s, mr, hc AS k1, CAST(NULL AS TEXT) AS k2, \
             CAST(NULL AS TEXT) AS k3, count(*) AS n, {fen} AS fen \
             FROM r GROUP BY mr, hc \
             UNION ALL SELECT 'card_product', mr, cp, NULL, NULL, count(*), {fen} \
             FROM r GROUP BY mr, cp \
             UNION ALL SELECT 'merchant', mr, mid, mc, ok, count(*), {fen} \
             FROM r GROUP BY mr, mid, mc, ok \
             UNION ALL SELECT 'pair', mr, hr, NULL, NULL, count(*), {fen} \
             FROM r GROUP BY mr, hr) g"
        ),
        pg,
    );
    let (from, until) = (
        crate::domain::china_midnight_utc(first),
        crate::domain::china_midnight_utc(next_month(first)),
    );
    conn.transaction(async |tx| {
        let claimed = with_conn!(tx, |c| diesel::sql_query(&claim)
            .bind::<Text, _>(&key)
            .bind::<Timestamp, _>(now)
            .load::<MonthRow>(c)
            .await)?;
        if claimed.is_empty() {
            return Ok(false);
        }
        with_conn!(tx, |c| diesel::sql_query(&clear)
            .bind::<Text, _>(&key)
            .execute(c)
            .await)?;
        with_conn!(tx, |c| diesel::sql_query(&sum)
            .bind::<Timestamp, _>(from)
            .bind::<Timestamp, _>(until)
            .bind::<Text, _>(&key)
            .execute(c)
            .await)?;
        Ok(true)
    })
    .await
}

/// Sums every closed month since the first redemption into the rollup (at start-up, so
/// that the first figures need not); the number of months summed.
pub async fn warm_rollup(conn: &mut Conn<'_>, now: NaiveDateTime) -> QueryResult<usize> {
    #[derive(diesel::QueryableByName)]
    struct First {
        #[diesel(sql_type = Nullable<Timestamp>)]
        first: Option<NaiveDateTime>,
    }
    let first = with_conn!(conn, |c| diesel::sql_query(
        "SELECT min(redeemed_at) AS first FROM redemptions"
    )
    .get_result::<First>(c)
    .await)?
    .first;
    match first {
        Some(at) => {
            let first = first_of_month(crate::domain::to_china(at).date());
            ensure_rollup(conn, first, open_from(now), now).await
        }
        None => Ok(0),
    }
}

/// The rollup's sums for the months `[first, end)` at merchants of `region_like`, in
/// the rows [`ledger_groups`] gives.
async fn rollup_groups(
    conn: &mut Conn<'_>,
    region_like: &str,
    first: NaiveDate,
    end: NaiveDate,
) -> QueryResult<Vec<GroupRow>> {
    let fen = sum_fen(is_pg(conn), "fen");
    let sql = for_backend(
        &format!(
            "WITH x AS (SELECT * FROM redemption_rollup WHERE month >= $1 AND month < $2 \
             AND merchant_region_code LIKE $3) \
             SELECT 'total' AS dim, CAST(NULL AS TEXT) AS k1, CAST(NULL AS TEXT) AS k2, \
             CAST(COALESCE(sum(n), 0) AS BIGINT) AS n, {fen} AS fen \
             FROM x WHERE set_name = 'merchant' \
             UNION ALL SELECT 'month', month, NULL, CAST(sum(n) AS BIGINT), {fen} \
             FROM x WHERE set_name = 'merchant' GROUP BY month \
             UNION ALL SELECT 'holder_category', k1, NULL, CAST(sum(n) AS BIGINT), {fen} \
             FROM x WHERE set_name = 'holder_category' GROUP BY k1 \
             UNION ALL SELECT 'card_product', k1, NULL, CAST(sum(n) AS BIGINT), {fen} \
             FROM x WHERE set_name = 'card_product' GROUP BY k1 \
             UNION ALL SELECT 'merchant', k1, NULL, CAST(sum(n) AS BIGINT), {fen} \
             FROM x WHERE set_name = 'merchant' GROUP BY k1 \
             UNION ALL SELECT 'merchant_category', k2, NULL, CAST(sum(n) AS BIGINT), {fen} \
             FROM x WHERE set_name = 'merchant' GROUP BY k2 \
             UNION ALL SELECT 'offer_kind', k3, NULL, CAST(sum(n) AS BIGINT), {fen} \
             FROM x WHERE set_name = 'merchant' GROUP BY k3 \
             UNION ALL SELECT 'region', merchant_region_code, NULL, CAST(sum(n) AS BIGINT), \
             {fen} FROM x WHERE set_name = 'merchant' \
             GROUP BY merchant_region_code \
             UNION ALL SELECT 'pair', k1, merchant_region_code, CAST(sum(n) AS BIGINT), \
             {fen} FROM x WHERE set_name = 'pair' \
             GROUP BY k1, merchant_region_code"
        ),
        is_pg(conn),
    );
    with_conn!(conn, |c| diesel::sql_query(&sql)
        .bind::<Text, _>(month_key(first))
        .bind::<Text, _>(month_key(end))
        .bind::<Text, _>(region_like)
        .load::<GroupRow>(c)
        .await)
}

/// Completed redemptions at merchants of the subtree `region_like`, redeemed on the
/// China-time days `[from, until)`: the total (`dim = "total"`), one row per key of
/// each dimension of [`REDEMPTION_DIMS`], and `dim = "pair"` rows
/// `(holder region, merchant region)`. Closed months come from the rollup (summed
/// first if need be), the other days from the ledger; the parts are added up.
pub async fn redemption_groups(
    conn: &mut Conn<'_>,
    region_like: &str,
    from: NaiveDate,
    until: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<Vec<GroupRow>> {
    let plan = plan(from, until, now);
    let mut parts = Vec::new();
    if let Some((first, end)) = plan.months {
        ensure_rollup(conn, first, end, now).await?;
        parts.push(rollup_groups(conn, region_like, first, end).await?);
    }
    for (a, b) in plan.ledger {
        let bounds = (
            crate::domain::china_midnight_utc(a),
            crate::domain::china_midnight_utc(b),
        );
        parts.push(ledger_groups(conn, region_like, bounds.0, bounds.1).await?);
    }
    Ok(add_up(parts))
}

/// Adds rows of the same `(dim, k1, k2)` together (saturating).
fn add_up(parts: Vec<Vec<GroupRow>>) -> Vec<GroupRow> {
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    /// `(dim, k1, k2)` of a [`GroupRow`].
    type Key = (String, Option<String>, Option<String>);
    let mut sums: std::collections::BTreeMap<Key, (i64, i64)> = Default::default();
    for row in parts.into_iter().flatten() {
        let sum = sums.entry((row.dim, row.k1, row.k2)).or_default();
        sum.0 = sum.0.saturating_add(row.n);
        // Saturating, as the sums it adds are (see `sum_fen`).
        sum.1 = sum.1.saturating_add(row.fen);
    }
    sums.into_iter()
        .map(|((dim, k1, k2), (n, fen))| GroupRow {
            dim,
            k1,
            k2,
            n,
            fen,
        })
        .collect()
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
    use super::{for_backend, plan, RangePlan};
    use chrono::NaiveDate;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// `now` as a UTC time given in China time.
    fn china(s: &str) -> chrono::NaiveDateTime {
        s.parse::<chrono::NaiveDateTime>().unwrap() - chrono::Duration::hours(8)
    }

    #[test]
    fn closed_whole_months_come_from_the_rollup_the_edges_from_the_ledger() {
        let now = china("2026-11-23T10:00:00");
        assert_eq!(
            plan(day("2026-01-01"), day("2026-11-24"), now),
            RangePlan {
                months: Some((day("2026-01-01"), day("2026-11-01"))),
                ledger: vec![(day("2026-11-01"), day("2026-11-24"))],
            }
        );
        assert_eq!(
            plan(day("2025-03-15"), day("2025-06-10"), now),
            RangePlan {
                months: Some((day("2025-04-01"), day("2025-06-01"))),
                ledger: vec![
                    (day("2025-03-15"), day("2025-04-01")),
                    (day("2025-06-01"), day("2025-06-10"))
                ],
            }
        );
        // Whole months only: nothing from the ledger.
        assert_eq!(
            plan(day("2025-01-01"), day("2026-01-01"), now).ledger,
            Vec::<(NaiveDate, NaiveDate)>::new()
        );
    }

    #[test]
    fn no_rollup_without_a_whole_closed_month() {
        let now = china("2026-11-23T10:00:00");
        for (from, until) in [("2025-03-02", "2025-03-31"), ("2025-03-15", "2025-04-20")] {
            assert_eq!(
                plan(day(from), day(until), now),
                RangePlan {
                    months: None,
                    ledger: vec![(day(from), day(until))]
                }
            );
        }
    }

    #[test]
    fn a_month_closes_an_hour_after_it_ends_in_china_time() {
        let (from, until) = (day("2026-10-01"), day("2026-12-01"));
        // 00:30 on 1 November in China: October may still receive a redemption.
        assert_eq!(plan(from, until, china("2026-11-01T00:30:00")).months, None);
        assert_eq!(
            plan(from, until, china("2026-11-01T01:00:00")).months,
            Some((day("2026-10-01"), day("2026-11-01")))
        );
    }

    #[test]
    fn placeholders_follow_the_backend() {
        let sql = "a = $1 AND b LIKE $2 AND c < $10";
        assert_eq!(for_backend(sql, true), sql);
        assert_eq!(for_backend(sql, false), "a = ? AND b LIKE ? AND c < ?");
        assert_eq!(for_backend("price $ 5", false), "price $ 5");
    }
}
