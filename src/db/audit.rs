//! The audit log: who changed what, when and why. Written in the same transaction as
//! the change it records.

use diesel::QueryResult;
use diesel_async::RunQueryDsl;

use super::schema::audit_log;
use super::{AuditId, Conn, StaffUserId};
use crate::with_conn;

/// Who acted: a staff account, or a named non-person actor (`system`, `public`).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<StaffUserId>,
    pub label: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            id: None,
            label: "system".into(),
        }
    }

    /// A member of the public (an applicant, an objector): not signed in.
    pub fn public() -> Actor {
        Actor {
            id: None,
            label: "public".into(),
        }
    }
}

/// One audit entry, before it is written.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub region_code: Option<&'a str>,
    pub before_status: Option<&'a str>,
    pub after_status: Option<&'a str>,
    pub reason: Option<&'a str>,
    /// JSON with further facts; never personal data.
    pub details: Option<serde_json::Value>,
}

#[derive(diesel::Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditRow<'a> {
    id: AuditId,
    actor_id: Option<StaffUserId>,
    actor_label: &'a str,
    action: &'a str,
    entity_type: &'a str,
    entity_id: &'a str,
    region_code: Option<&'a str>,
    before_status: Option<&'a str>,
    after_status: Option<&'a str>,
    reason: Option<&'a str>,
    details: Option<String>,
    created_at: chrono::NaiveDateTime,
}

/// Records many entries at once (bulk imports).
pub async fn record_many(
    conn: &mut Conn<'_>,
    actor: &Actor,
    entries: Vec<AuditEntry<'_>>,
) -> QueryResult<()> {
    let now = super::now();
    let details: Vec<Option<String>> = entries
        .iter()
        .map(|e| e.details.as_ref().map(|d| d.to_string()))
        .collect();
    let rows: Vec<NewAuditRow<'_>> = entries
        .iter()
        .zip(details)
        .map(|(entry, details)| NewAuditRow {
            id: AuditId::new(),
            actor_id: actor.id,
            actor_label: &actor.label,
            action: entry.action,
            entity_type: entry.entity_type,
            entity_id: &entry.entity_id,
            region_code: entry.region_code,
            before_status: entry.before_status,
            after_status: entry.after_status,
            reason: entry.reason,
            details,
            created_at: now,
        })
        .collect();
    match conn {
        Conn::Pg(c) => {
            // 12 parameters a row: stay well below PostgreSQL's 65,535.
            for chunk in rows.chunks(4000) {
                diesel::insert_into(audit_log::table)
                    .values(chunk)
                    .execute(&mut **c)
                    .await?;
            }
        }
        // No multi-row VALUES with optional columns on SQLite (see beneficiaries).
        Conn::Sqlite(c) => {
            for row in &rows {
                diesel::insert_into(audit_log::table)
                    .values(row)
                    .execute(&mut **c)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Records one entry, in the caller's transaction.
pub async fn record(conn: &mut Conn<'_>, actor: &Actor, entry: AuditEntry<'_>) -> QueryResult<()> {
    record_many(conn, actor, vec![entry]).await
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = audit_log)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AuditRow {
    pub id: AuditId,
    pub actor_id: Option<StaffUserId>,
    pub actor_label: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub region_code: Option<String>,
    pub before_status: Option<String>,
    pub after_status: Option<String>,
    pub reason: Option<String>,
    pub details: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}

/// The audit trail of one entity, oldest first.
pub async fn for_entity(
    conn: &mut Conn<'_>,
    entity_type: &str,
    entity_id: &str,
) -> QueryResult<Vec<AuditRow>> {
    use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
    with_conn!(conn, |c| audit_log::table
        .filter(audit_log::entity_type.eq(entity_type))
        .filter(audit_log::entity_id.eq(entity_id))
        .order((audit_log::created_at.asc(), audit_log::id.asc()))
        .select(AuditRow::as_select())
        .load(c)
        .await)
}

#[derive(Debug, Default)]
pub struct AuditFilter<'a> {
    pub entity_type: Option<&'a str>,
    pub entity_id: Option<&'a str>,
    /// The actor's label (a user name, `public`, `system`).
    pub actor: Option<&'a str>,
    /// `LIKE` pattern of the caller's region subtree; entries without a region are then
    /// left out. `None` for everything.
    pub region_like: Option<&'a str>,
}

/// Audit entries, newest first.
pub async fn list(
    conn: &mut Conn<'_>,
    filter: &AuditFilter<'_>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<AuditRow>, i64)> {
    use diesel::{ExpressionMethods, QueryDsl, SelectableHelper, TextExpressionMethods};
    macro_rules! filtered {
        () => {{
            let mut query = audit_log::table.into_boxed();
            if let Some(v) = filter.entity_type {
                query = query.filter(audit_log::entity_type.eq(v));
            }
            if let Some(v) = filter.entity_id {
                query = query.filter(audit_log::entity_id.eq(v));
            }
            if let Some(v) = filter.actor {
                query = query.filter(audit_log::actor_label.eq(v));
            }
            if let Some(v) = filter.region_like {
                query = query.filter(audit_log::region_code.like(v));
            }
            query
        }};
    }
    with_conn!(conn, |c| crate::newest_first!(
        c,
        filtered!(),
        audit_log,
        AuditRow,
        offset,
        limit
    ))
}
