//! The GB/T 2260 region tree (loaded by a migration).

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, QueryResult, SelectableHelper};
use diesel_async::RunQueryDsl;

use super::schema::regions;
use super::Conn;
use crate::with_conn;

#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    diesel::Queryable,
    diesel::Selectable,
)]
#[diesel(table_name = regions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct RegionRow {
    pub code: String,
    pub name: String,
    pub level: i16,
    pub parent_code: Option<String>,
}

pub async fn find(conn: &mut Conn<'_>, code: &str) -> QueryResult<Option<RegionRow>> {
    with_conn!(conn, |c| regions::table
        .find(code)
        .select(RegionRow::as_select())
        .first(c)
        .await
        .optional())
}

/// The children of `parent`, or the provinces when `parent` is `None`.
pub async fn children(conn: &mut Conn<'_>, parent: Option<&str>) -> QueryResult<Vec<RegionRow>> {
    with_conn!(conn, |c| {
        let query = regions::table
            .select(RegionRow::as_select())
            .order(regions::code.asc())
            .into_boxed();
        let query = match parent {
            Some(parent) => query.filter(regions::parent_code.eq(parent)),
            None => query.filter(regions::level.eq(1)),
        };
        query.load(c).await
    })
}

/// Every province and city (levels 1 and 2): a few hundred rows.
pub async fn provinces_and_cities(conn: &mut Conn<'_>) -> QueryResult<Vec<RegionRow>> {
    with_conn!(conn, |c| regions::table
        .filter(regions::level.le(2))
        .select(RegionRow::as_select())
        .order(regions::code.asc())
        .load(c)
        .await)
}
