//! Offices' yearly targets (`targets`): one row per region and year.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, QueryResult, SelectableHelper};
use diesel_async::RunQueryDsl;

use super::schema::targets;
use super::Conn;
use crate::domain::targets::Values;
use crate::with_conn;

#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    diesel::Queryable,
    diesel::Selectable,
    diesel::Insertable,
    diesel::AsChangeset,
)]
#[diesel(table_name = targets)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
pub struct TargetRow {
    pub region_code: String,
    pub year: i32,
    pub new_partners: Option<i64>,
    pub insurance_gifts: Option<i64>,
    pub activities: Option<i64>,
    pub people_served: Option<i64>,
    /// The user name of who set them last.
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

impl TargetRow {
    pub fn values(&self) -> Values {
        Values {
            new_partners: self.new_partners,
            insurance_gifts: self.insurance_gifts,
            activities: self.activities,
            people_served: self.people_served,
        }
    }
}

/// Every region's row of `year`.
pub async fn of_year(conn: &mut Conn<'_>, year: i32) -> QueryResult<Vec<TargetRow>> {
    with_conn!(conn, |c| targets::table
        .filter(targets::year.eq(year))
        .select(TargetRow::as_select())
        .load(c)
        .await)
}

pub async fn find(conn: &mut Conn<'_>, region: &str, year: i32) -> QueryResult<Option<TargetRow>> {
    with_conn!(conn, |c| targets::table
        .find((region, year))
        .select(TargetRow::as_select())
        .first(c)
        .await
        .optional())
}

/// Writes the row of its region and year, replacing the one there.
pub async fn upsert(conn: &mut Conn<'_>, row: &TargetRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(targets::table)
        .values(row)
        .on_conflict((targets::region_code, targets::year))
        .do_update()
        .set(row)
        .execute(c)
        .await)?;
    Ok(())
}
