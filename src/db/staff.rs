//! Staff accounts.

use diesel::{
    ExpressionMethods, OptionalExtension, QueryDsl, QueryResult, SelectableHelper,
    TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use super::schema::staff_users;
use super::stored::{vocab, Stored};
use super::{Conn, MerchantId, StaffUserId};
use crate::domain::Role;
use crate::with_conn;

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = staff_users)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct StaffRow {
    pub id: StaffUserId,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub region_code: Option<String>,
    pub department: Option<String>,
    pub merchant_id: Option<MerchantId>,
    pub disabled: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl StaffRow {
    pub fn role(&self) -> Stored<Role> {
        vocab("staff_users", self.id, "role", &self.role)
    }
}

#[derive(Debug, diesel::Insertable)]
#[diesel(table_name = staff_users)]
pub struct NewStaff<'a> {
    pub id: StaffUserId,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub region_code: Option<&'a str>,
    pub department: Option<&'a str>,
    pub merchant_id: Option<MerchantId>,
    pub disabled: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

pub async fn count(conn: &mut Conn<'_>) -> QueryResult<i64> {
    with_conn!(conn, |c| staff_users::table.count().get_result(c).await)
}

pub async fn find(conn: &mut Conn<'_>, id: StaffUserId) -> QueryResult<Option<StaffRow>> {
    with_conn!(conn, |c| staff_users::table
        .find(id)
        .select(StaffRow::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn find_by_username(
    conn: &mut Conn<'_>,
    username: &str,
) -> QueryResult<Option<StaffRow>> {
    with_conn!(conn, |c| staff_users::table
        .filter(staff_users::username.eq(username))
        .select(StaffRow::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn insert(conn: &mut Conn<'_>, new: &NewStaff<'_>) -> QueryResult<StaffRow> {
    with_conn!(conn, |c| diesel::insert_into(staff_users::table)
        .values(new)
        .returning(StaffRow::as_returning())
        .get_result(c)
        .await)
}

/// Filters for listing staff accounts.
#[derive(Debug, Default)]
pub struct StaffFilter<'a> {
    /// `LIKE` pattern of the caller's region subtree; `None` for everywhere.
    pub region_like: Option<&'a str>,
    pub role: Option<&'a str>,
    pub merchant_id: Option<MerchantId>,
}

pub async fn list(
    conn: &mut Conn<'_>,
    filter: &StaffFilter<'_>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<StaffRow>, i64)> {
    macro_rules! filtered {
        () => {{
            let mut query = staff_users::table.into_boxed();
            if let Some(pattern) = filter.region_like {
                query = query.filter(staff_users::region_code.like(pattern));
            }
            if let Some(role) = filter.role {
                query = query.filter(staff_users::role.eq(role));
            }
            if let Some(merchant_id) = filter.merchant_id {
                query = query.filter(staff_users::merchant_id.eq(merchant_id));
            }
            query
        }};
    }
    with_conn!(conn, |c| {
        let total: i64 = filtered!().count().get_result(c).await?;
        let rows = filtered!()
            .order(staff_users::username.asc())
            .offset(offset)
            .limit(limit)
            .select(StaffRow::as_select())
            .load(c)
            .await?;
        Ok((rows, total))
    })
}
