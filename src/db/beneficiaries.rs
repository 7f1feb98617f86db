//! Beneficiaries (优抚对象). ID numbers and phones are stored encrypted; the keyed hash
//! of the ID number finds a person without decrypting anything.

use chrono::NaiveDateTime;
use diesel::{
    ExpressionMethods, OptionalExtension, QueryDsl, QueryResult, SelectableHelper,
    TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use super::schema::beneficiaries;
use super::stored::{split_list, vocab, vocab_list, Stored};
use super::{BeneficiaryId, Conn};
use crate::domain::beneficiary::{Category, Honor};
use crate::with_conn;

/// A beneficiary as stored; also what is inserted.
#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = beneficiaries)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct BeneficiaryRow {
    pub id: BeneficiaryId,
    pub name: String,
    pub id_number_enc: String,
    pub id_number_hash: String,
    pub id_number_masked: String,
    pub phone_enc: Option<String>,
    pub phone_masked: Option<String>,
    pub category: String,
    pub honors: String,
    pub region_code: String,
    pub primary_beneficiary_id: Option<BeneficiaryId>,
    pub relation: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl BeneficiaryRow {
    pub fn category(&self) -> Stored<Category> {
        vocab("beneficiaries", self.id, "category", &self.category)
    }

    pub fn honor_list(&self) -> Stored<Vec<Honor>> {
        vocab_list("beneficiaries", self.id, "honors", &self.honors)
    }

    /// The honours as stored, for views that only show them.
    pub fn honors(&self) -> Vec<String> {
        split_list(&self.honors)
    }
}

/// Columns an update may change; `None` leaves a column as it is.
#[derive(Debug, Default, Clone, diesel::AsChangeset)]
#[diesel(table_name = beneficiaries)]
pub struct BeneficiaryChanges {
    pub name: Option<String>,
    pub phone_enc: Option<Option<String>>,
    pub phone_masked: Option<Option<String>>,
    pub category: Option<String>,
    pub honors: Option<String>,
    pub region_code: Option<String>,
    pub primary_beneficiary_id: Option<Option<BeneficiaryId>>,
    pub relation: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub async fn insert(conn: &mut Conn<'_>, new: &BeneficiaryRow) -> QueryResult<BeneficiaryRow> {
    with_conn!(conn, |c| diesel::insert_into(beneficiaries::table)
        .values(new)
        .returning(BeneficiaryRow::as_returning())
        .get_result(c)
        .await)
}

/// Inserts many rows in one statement (the bulk import).
pub async fn insert_many(conn: &mut Conn<'_>, rows: &[BeneficiaryRow]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    match conn {
        Conn::Pg(c) => {
            // 14 parameters a row: stay well below PostgreSQL's 65,535.
            let mut inserted = 0;
            for chunk in rows.chunks(4000) {
                inserted += diesel::insert_into(beneficiaries::table)
                    .values(chunk)
                    .execute(&mut **c)
                    .await?;
            }
            Ok(inserted)
        }
        // SQLite has no DEFAULT in a multi-row VALUES list, so diesel refuses the batch
        // form for optional columns; inside the caller's transaction, single inserts
        // of a prepared statement are about as fast.
        Conn::Sqlite(c) => {
            for row in rows {
                diesel::insert_into(beneficiaries::table)
                    .values(row)
                    .execute(&mut **c)
                    .await?;
            }
            Ok(rows.len())
        }
    }
}

pub async fn find(conn: &mut Conn<'_>, id: BeneficiaryId) -> QueryResult<Option<BeneficiaryRow>> {
    with_conn!(conn, |c| beneficiaries::table
        .find(id)
        .select(BeneficiaryRow::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn find_by_hash(conn: &mut Conn<'_>, hash: &str) -> QueryResult<Option<BeneficiaryRow>> {
    with_conn!(conn, |c| beneficiaries::table
        .filter(beneficiaries::id_number_hash.eq(hash))
        .select(BeneficiaryRow::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn find_by_hashes(
    conn: &mut Conn<'_>,
    hashes: &[String],
) -> QueryResult<Vec<BeneficiaryRow>> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    with_conn!(conn, |c| beneficiaries::table
        .filter(beneficiaries::id_number_hash.eq_any(hashes))
        .select(BeneficiaryRow::as_select())
        .load(c)
        .await)
}

pub async fn update(
    conn: &mut Conn<'_>,
    id: BeneficiaryId,
    changes: &BeneficiaryChanges,
) -> QueryResult<BeneficiaryRow> {
    with_conn!(conn, |c| diesel::update(beneficiaries::table.find(id))
        .set(changes)
        .returning(BeneficiaryRow::as_returning())
        .get_result(c)
        .await)
}

#[derive(Debug, Default)]
pub struct BeneficiaryFilter {
    pub region_likes: Vec<String>,
    pub category: Option<String>,
    /// Substring of the name.
    pub q: Option<String>,
    pub id_number_hash: Option<String>,
}

pub async fn list(
    conn: &mut Conn<'_>,
    filter: &BeneficiaryFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<BeneficiaryRow>, i64)> {
    use diesel::EscapeExpressionMethods;
    macro_rules! filtered {
        () => {{
            let mut query = beneficiaries::table.into_boxed();
            for pattern in &filter.region_likes {
                query = query.filter(beneficiaries::region_code.like(pattern.clone()));
            }
            if let Some(category) = &filter.category {
                query = query.filter(beneficiaries::category.eq(category.clone()));
            }
            if let Some(q) = &filter.q {
                let pattern = format!("%{}%", super::merchants::like_escape(q));
                query = query.filter(beneficiaries::name.like(pattern).escape('\\'));
            }
            if let Some(hash) = &filter.id_number_hash {
                query = query.filter(beneficiaries::id_number_hash.eq(hash.clone()));
            }
            query
        }};
    }
    with_conn!(conn, |c| crate::newest_first!(
        c,
        filtered!(),
        beneficiaries,
        BeneficiaryRow,
        offset,
        limit
    ))
}
