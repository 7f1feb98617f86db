//! The offer listings (`GET /offers`, `GET /holder/offers`) as one query: active offers
//! of active merchants that can be used now, matching every filter, over every matching
//! merchant, newest offer first (nearest merchant first with `near`), a page at a time.
//!
//! Everything that decides whether an offer is listed is in the query, so a page is
//! complete and its `has_more` (or `total`) exact: the offer's status and window
//! (`valid_from` inclusive, `valid_until` exclusive), its recurring days (stored
//! normalised, `",08-01,"`, see `domain::offer::parse_month_day`), the merchant's status
//! as of today (an ended agreement is not active), eligibility, distance and keyword.
//!
//! The statement is SQL text written here with its binds (a diesel `sql_query`), because
//! "near" on PostgreSQL needs a subquery: the inner query walks a GiST index over the
//! merchants' points on the unit sphere nearest first (`yj_sphere_point`, migration
//! `offer_search`; the chord grows with the great-circle distance) and stops after the
//! page; SQLite orders by [`yj_distance_km`], registered on each connection. The keyword
//! is a LIKE over `offers.search_text` (title, description, merchant name, in lower
//! case), which
//! pg_trgm indexes on PostgreSQL; SQLite scans it.
//!
//! The statement is not kept prepared: PostgreSQL plans each call with its values, which
//! the keyword needs (a two-character keyword has no trigram for the index and is best
//! found while walking offers in page order).

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Date, Double, HasSqlType, Text, Timestamp};
use diesel::QueryResult;
use diesel_async::RunQueryDsl;

pub use self::row::Hit;
use self::row::{HitRow, HIT_COLUMNS};
use super::ids::DbUuid;
use super::merchants::like_escape;
use super::{BeneficiaryId, Conn, MerchantId, OfferId};
use crate::domain::beneficiary::{Category, Honor};
use crate::domain::offer::{period_key, HolderPeriod};

mod row;

/// Mean Earth radius, as the directory's `distance_km` uses.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Within `radius_km` of `center` (`(lat, lng)` in degrees).
#[derive(Debug, Clone, Copy)]
pub struct Near {
    pub center: (f64, f64),
    pub radius_km: f64,
}

/// Who is asking, for a holder's listing: what eligibility needs and whose uses count.
#[derive(Debug, Clone)]
pub struct HolderView {
    pub beneficiary: BeneficiaryId,
    pub category: Category,
    pub honors: Vec<Honor>,
    pub product: String,
}

/// What a listing asks for; `None` does not filter.
#[derive(Debug, Clone, Default)]
pub struct OfferSearch {
    pub merchant: Option<MerchantId>,
    /// The merchant's category.
    pub merchant_category: Option<String>,
    /// `LIKE` pattern of the merchant's region subtree (`4403%`).
    pub region_like: Option<String>,
    pub near: Option<Near>,
    /// Offers this beneficiary category may use (the category rule only).
    pub eligible_for: Option<Category>,
    /// Offers this holder may use (category, honours, card product), with their uses.
    pub holder: Option<HolderView>,
    pub kind: Option<String>,
    pub channel: Option<String>,
    /// Text in the title, the description or the merchant's name.
    pub q: Option<String>,
}

/// Where a page starts in the listing's order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cursor {
    /// After this offer, newest first.
    Newest { id: OfferId },
    /// After this offer at this distance key (the backend's own value, see
    /// [`Hit::order_key`]), nearest first.
    Nearest { key: f64, id: OfferId },
}

/// Which rows of the listing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Window {
    /// `limit` rows after `offset`, with the number of rows in all.
    Counted { offset: i64, limit: i64 },
    /// `limit` rows after the cursor (from the start without one), not counted.
    After { cursor: Option<Cursor>, limit: i64 },
}

/// The chord on the unit sphere of a great-circle distance.
fn chord(km: f64) -> f64 {
    2.0 * (km / EARTH_RADIUS_KM / 2.0).sin()
}

/// The latitude/longitude box around `near` (as the directory's `bounding_box`).
fn bounding_box(near: &Near) -> (f64, f64, f64, f64) {
    let (lat, lng) = near.center;
    let dlat = near.radius_km / 111.0;
    let cos = lat.to_radians().cos().max(0.01);
    let dlng = (near.radius_km / (111.0 * cos)).min(180.0);
    (lat - dlat, lat + dlat, lng - dlng, lng + dlng)
}

/// The honours at or below the highest of `honors`: the `min_honor` values they meet.
fn honors_met(honors: &[Honor]) -> Vec<String> {
    let best = honors.iter().map(|h| h.rank()).max().unwrap_or(0);
    Honor::ALL
        .into_iter()
        .filter(|h| h.rank() <= best)
        .map(|h| h.as_str().to_owned())
        .collect()
}

/// `"%,value,%"`, escaped: finds one value of a `",a,b,"` list column.
fn member(value: &str) -> String {
    format!("%,{},%", like_escape(value))
}

/// A statement being written: its text, with its binds numbered for PostgreSQL (`$1`)
/// or marked for SQLite (`?`).
struct Statement<DB: Backend> {
    query: Option<BoxedSqlQuery<'static, DB, SqlQuery>>,
    binds: usize,
    pg: bool,
}

impl<DB: Backend> Statement<DB> {
    fn new(pg: bool) -> Self {
        Statement {
            query: Some(diesel::sql_query("").into_boxed()),
            binds: 0,
            pg,
        }
    }

    fn sql(&mut self, text: &str) -> &mut Self {
        self.query = self.query.take().map(|q| q.sql(text));
        self
    }

    fn bind<ST, V>(&mut self, value: V) -> &mut Self
    where
        DB: HasSqlType<ST>,
        V: ToSql<ST, DB> + Send + 'static,
        ST: Send + 'static,
    {
        self.binds += 1;
        let mark = if self.pg {
            format!("${}", self.binds)
        } else {
            "?".to_owned()
        };
        self.query = self.query.take().map(|q| q.sql(mark).bind::<ST, V>(value));
        self
    }

    fn finish(self) -> BoxedSqlQuery<'static, DB, SqlQuery> {
        self.query.expect("a statement is finished once")
    }
}

/// What every listed value is bound as.
trait ListingBackend:
    Backend
    + HasSqlType<Text>
    + HasSqlType<Double>
    + HasSqlType<BigInt>
    + HasSqlType<Timestamp>
    + HasSqlType<Date>
    + HasSqlType<DbUuid>
{
}

impl<DB> ListingBackend for DB where
    DB: Backend
        + HasSqlType<Text>
        + HasSqlType<Double>
        + HasSqlType<BigInt>
        + HasSqlType<Timestamp>
        + HasSqlType<Date>
        + HasSqlType<DbUuid>
{
}

/// The listing's statement (see the module's documentation for its two shapes).
struct Listing<'a> {
    search: &'a OfferSearch,
    window: Window,
    now: NaiveDateTime,
    today: NaiveDate,
}

impl Listing<'_> {
    /// The distance key of `merchants` from the centre.
    fn key<DB: ListingBackend>(&self, s: &mut Statement<DB>, near: &Near)
    where
        f64: ToSql<Double, DB>,
    {
        if s.pg {
            s.sql("(yj_sphere_point(merchants.latitude, merchants.longitude) <-> yj_sphere_point(");
        } else {
            s.sql("yj_distance_km(merchants.latitude, merchants.longitude, ");
        }
        let close = if s.pg { "))" } else { ")" };
        s.bind::<Double, _>(near.center.0)
            .sql(", ")
            .bind::<Double, _>(near.center.1)
            .sql(close);
    }

    /// `FROM … WHERE` and every condition but the circle and the cursor.
    fn tables_and_filters<DB: ListingBackend>(&self, s: &mut Statement<DB>)
    where
        String: ToSql<Text, DB>,
        f64: ToSql<Double, DB>,
        NaiveDateTime: ToSql<Timestamp, DB>,
        NaiveDate: ToSql<Date, DB>,
        MerchantId: ToSql<DbUuid, DB>,
    {
        let search = self.search;
        // Literal statuses, so that the partial indexes (WHERE status = 'active') apply.
        s.sql(
            " FROM offers JOIN merchants ON merchants.id = offers.merchant_id \
             WHERE offers.status = 'active' AND merchants.status = 'active' \
             AND (merchants.agreement_end IS NULL OR merchants.agreement_end >= ",
        )
        .bind::<Date, _>(self.today)
        .sql(") AND offers.valid_from <= ")
        .bind::<Timestamp, _>(self.now)
        .sql(" AND (offers.valid_until IS NULL OR offers.valid_until > ")
        .bind::<Timestamp, _>(self.now)
        .sql(") AND (offers.recurring_dates = ',' OR offers.recurring_dates LIKE ");
        // The China calendar's day, as recurring dates are written.
        let china = self.now + chrono::Duration::hours(8);
        s.bind::<Text, _>(format!("%,{:02}-{:02},%", china.month(), china.day()))
            .sql(")");
        if let Some(merchant) = search.merchant {
            s.sql(" AND offers.merchant_id = ")
                .bind::<DbUuid, _>(merchant);
        }
        let equal = [
            ("merchants.category", &search.merchant_category),
            ("offers.kind", &search.kind),
            ("offers.channel", &search.channel),
        ];
        for (column, value) in equal {
            if let Some(value) = value {
                s.sql(" AND ")
                    .sql(column)
                    .sql(" = ")
                    .bind::<Text, _>(value.clone());
            }
        }
        if let Some(pattern) = &search.region_like {
            s.sql(" AND merchants.region_code LIKE ")
                .bind::<Text, _>(pattern.clone());
        }
        let categories = [
            search.eligible_for,
            search.holder.as_ref().map(|h| h.category),
        ];
        for category in categories.into_iter().flatten() {
            s.sql(" AND (offers.eligible_categories = ',' OR offers.eligible_categories LIKE ")
                .bind::<Text, _>(member(category.as_str()))
                .sql(" ESCAPE '\\')");
        }
        if let Some(holder) = &search.holder {
            s.sql(" AND (offers.min_honor IS NULL");
            let met = honors_met(&holder.honors);
            if !met.is_empty() {
                s.sql(" OR offers.min_honor IN (");
                for (i, honor) in met.into_iter().enumerate() {
                    s.sql(if i == 0 { "" } else { ", " }).bind::<Text, _>(honor);
                }
                s.sql(")");
            }
            s.sql(") AND (offers.card_products = ',' OR offers.card_products LIKE ")
                .bind::<Text, _>(member(&holder.product))
                .sql(" ESCAPE '\\')");
        }
        if let Some(q) = &search.q {
            // The column is stored in lower case (see the migration).
            s.sql(" AND offers.search_text LIKE ")
                .bind::<Text, _>(format!("%{}%", like_escape(&q.to_lowercase())))
                .sql(" ESCAPE '\\'");
        }
        if let Some(near) = &search.near {
            if s.pg {
                // The cube around the centre holds the circle: the GiST index's condition.
                s.sql(
                    " AND yj_sphere_point(merchants.latitude, merchants.longitude) \
                     <@ cube_enlarge(yj_sphere_point(",
                )
                .bind::<Double, _>(near.center.0)
                .sql(", ")
                .bind::<Double, _>(near.center.1)
                .sql("), ")
                .bind::<Double, _>(chord(near.radius_km))
                .sql(", 3)");
            } else {
                let (lat_min, lat_max, lng_min, lng_max) = bounding_box(near);
                s.sql(" AND merchants.latitude BETWEEN ")
                    .bind::<Double, _>(lat_min)
                    .sql(" AND ")
                    .bind::<Double, _>(lat_max)
                    .sql(" AND merchants.longitude BETWEEN ")
                    .bind::<Double, _>(lng_min)
                    .sql(" AND ")
                    .bind::<Double, _>(lng_max);
            }
        }
    }

    /// ` AND` within the circle of "near", if any.
    fn circle<DB: ListingBackend>(&self, s: &mut Statement<DB>)
    where
        f64: ToSql<Double, DB>,
    {
        if let Some(near) = &self.search.near {
            // The key's own unit: PostgreSQL's chord, SQLite's kilometres.
            let radius = if s.pg {
                chord(near.radius_km)
            } else {
                near.radius_km
            };
            s.sql(" AND ");
            self.key(s, near);
            s.sql(" <= ").bind::<Double, _>(radius);
        }
    }

    /// ` AND` the rows after `cursor` in the listing's order.
    fn after<DB: ListingBackend>(&self, s: &mut Statement<DB>, cursor: Option<Cursor>)
    where
        f64: ToSql<Double, DB>,
        OfferId: ToSql<DbUuid, DB>,
    {
        match (cursor, &self.search.near) {
            (None, _) => {}
            (Some(Cursor::Newest { id }), _) => {
                s.sql(" AND offers.id < ").bind::<DbUuid, _>(id);
            }
            (Some(Cursor::Nearest { key, id }), Some(near)) => {
                s.sql(" AND (");
                self.key(s, near);
                s.sql(" > ").bind::<Double, _>(key).sql(" OR (");
                self.key(s, near);
                s.sql(" = ")
                    .bind::<Double, _>(key)
                    .sql(" AND offers.id > ")
                    .bind::<DbUuid, _>(id)
                    .sql("))");
            }
            // Refused by the caller; nothing follows a cursor of another order.
            (Some(Cursor::Nearest { .. }), None) => {
                s.sql(" AND 1 = 0");
            }
        }
    }

    /// The holder's uses of the offer in its current period, by the offer's period.
    fn used<DB: ListingBackend>(&self, s: &mut Statement<DB>)
    where
        String: ToSql<Text, DB>,
        BeneficiaryId: ToSql<DbUuid, DB>,
    {
        let Some(holder) = &self.search.holder else {
            s.sql("CAST(NULL AS INTEGER)");
            return;
        };
        s.sql(
            "(SELECT holder_usage.used FROM holder_usage \
             WHERE holder_usage.offer_id = offers.id AND holder_usage.beneficiary_id = ",
        )
        .bind::<DbUuid, _>(holder.beneficiary)
        .sql(" AND holder_usage.period_key = CASE offers.per_holder_period");
        for period in HolderPeriod::ALL {
            s.sql(" WHEN '")
                .sql(period.as_str())
                .sql("' THEN ")
                .bind::<Text, _>(period_key(period, self.now));
        }
        s.sql(" END)");
    }

    fn statement<DB: ListingBackend>(&self, pg: bool) -> BoxedSqlQuery<'static, DB, SqlQuery>
    where
        String: ToSql<Text, DB>,
        f64: ToSql<Double, DB>,
        i64: ToSql<BigInt, DB>,
        NaiveDateTime: ToSql<Timestamp, DB>,
        NaiveDate: ToSql<Date, DB>,
        OfferId: ToSql<DbUuid, DB>,
        MerchantId: ToSql<DbUuid, DB>,
        BeneficiaryId: ToSql<DbUuid, DB>,
    {
        let mut s = Statement::<DB>::new(pg);
        let (cursor, limit, offset) = match self.window {
            Window::After { cursor, limit } => (cursor, limit + 1, None),
            Window::Counted { offset, limit } => (None, limit + 1, Some(offset)),
        };
        s.sql("SELECT ").sql(HIT_COLUMNS).sql(", ");
        match (&self.search.near, pg) {
            (Some(_), true) => {
                s.sql("page.order_key");
            }
            (Some(near), false) => self.key(&mut s, near),
            (None, _) => {
                s.sql("CAST(0 AS DOUBLE PRECISION)");
            }
        }
        s.sql(" AS order_key, ");
        self.used(&mut s);
        s.sql(" AS used, ");
        if offset.is_some() {
            // Counted once (an uncorrelated subquery), apart from the page, which still
            // stops after its last row.
            s.sql("(SELECT count(*)");
            self.tables_and_filters(&mut s);
            self.circle(&mut s);
            s.sql(") AS total");
        } else {
            s.sql("CAST(NULL AS BIGINT) AS total");
        }
        match &self.search.near {
            Some(near) if pg => {
                // Nearest first: the inner query walks the GiST index nearest first and
                // stops after the page (its one sort key lets the planner use the index
                // order; WITH TIES keeps every offer at the last distance); the outer one
                // orders ties by id and cuts the circle (kept out of the inner query,
                // whose row estimate decides for the index walk: beyond the circle come
                // only farther rows, so the cut loses none of the page).
                s.sql(" FROM (SELECT offers.id AS offer_id, ");
                self.key(&mut s, near);
                s.sql(" AS order_key");
                self.tables_and_filters(&mut s);
                self.after(&mut s, cursor);
                s.sql(" ORDER BY order_key FETCH FIRST ")
                    .bind::<BigInt, _>(limit + offset.unwrap_or(0))
                    .sql(
                        " ROWS WITH TIES) AS page JOIN offers ON offers.id = page.offer_id \
                         JOIN merchants ON merchants.id = offers.merchant_id \
                         WHERE page.order_key <= ",
                    )
                    .bind::<Double, _>(chord(near.radius_km))
                    .sql(" ORDER BY page.order_key, offers.id");
            }
            near => {
                self.tables_and_filters(&mut s);
                self.circle(&mut s);
                self.after(&mut s, cursor);
                match near {
                    Some(near) => {
                        s.sql(" ORDER BY ");
                        self.key(&mut s, near);
                        s.sql(", offers.id");
                    }
                    None => {
                        s.sql(" ORDER BY offers.id DESC");
                    }
                }
            }
        }
        s.sql(" LIMIT ").bind::<BigInt, _>(limit);
        if let Some(offset) = offset {
            s.sql(" OFFSET ").bind::<BigInt, _>(offset);
        }
        s.finish()
    }
}

/// The listed offers of `search` in `window`, as of `now` (UTC) and `today` (China).
pub async fn search(
    conn: &mut Conn<'_>,
    search: &OfferSearch,
    window: Window,
    now: NaiveDateTime,
    today: NaiveDate,
) -> QueryResult<Vec<Hit>> {
    let listing = Listing {
        search,
        window,
        now,
        today,
    };
    let rows: Vec<HitRow> = match conn {
        Conn::Pg(c) => {
            listing
                .statement::<diesel::pg::Pg>(true)
                .load(&mut **c)
                .await?
        }
        Conn::Sqlite(c) => {
            listing
                .statement::<diesel::sqlite::Sqlite>(false)
                .load(&mut **c)
                .await?
        }
    };
    Ok(rows.into_iter().map(Hit::from).collect())
}

#[diesel::declare_sql_function]
extern "SQL" {
    /// Great-circle distance in kilometres between two `(lat, lng)` in degrees; SQLite
    /// only (registered by [`register_sqlite_functions`]).
    fn yj_distance_km(lat1: Double, lng1: Double, lat2: Double, lng2: Double) -> Double;
}

/// Great-circle distance in kilometres (the directory's formula, which SQLite's
/// `yj_distance_km` must agree with).
fn great_circle_km(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (lat1, lng1) = (lat1.to_radians(), lng1.to_radians());
    let (lat2, lng2) = (lat2.to_radians(), lng2.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lng2 - lng1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

/// Registers the SQL functions the listings use on a new SQLite connection (the bundled
/// SQLite has no math functions).
pub fn register_sqlite_functions(conn: &mut diesel::SqliteConnection) -> QueryResult<()> {
    yj_distance_km_utils::register_impl(conn, great_circle_km)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_distance_is_the_directory_distance() {
        use crate::app::merchants::directory::distance_km;
        for (a, b) in [
            ((22.5431, 114.0579), (22.5, 114.1)),
            ((22.5431, 114.0579), (22.5431, 114.0579)),
            ((39.9, 116.4), (31.2, 121.5)),
        ] {
            assert_eq!(great_circle_km(a.0, a.1, b.0, b.1), distance_km(a, b));
        }
    }

    #[test]
    fn the_chord_grows_with_the_distance() {
        assert_eq!(chord(0.0), 0.0);
        assert!(chord(1.0) < chord(10.0) && chord(10.0) < chord(200.0));
        // 10 km on a sphere of 6371 km: a chord a millimetre shorter than the arc.
        let short_by = 10.0 - chord(10.0) * EARTH_RADIUS_KM;
        assert!(short_by > 0.0 && short_by < 1e-5, "{short_by}");
    }

    #[test]
    fn honours_meet_every_minimum_at_or_below_the_best() {
        assert!(honors_met(&[]).is_empty());
        let mut met = honors_met(&[Honor::SecondClassMerit, Honor::ThirdClassMerit]);
        met.sort();
        assert_eq!(met, vec!["second_class_merit", "third_class_merit"]);
        assert_eq!(honors_met(&[Honor::CombatHero]).len(), 4);
    }

    #[test]
    fn list_members_are_escaped() {
        assert_eq!(member("active_duty"), "%,active\\_duty,%");
    }
}
