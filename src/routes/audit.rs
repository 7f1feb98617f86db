//! The audit log, for offices and auditors.

use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::AdminUser;
use crate::db::audit::{self, AuditFilter};
use crate::error::ApiResult;
use crate::routes::admin_merchants::AuditView;
use crate::routes::{PageQuery, Paged};
use crate::startup::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// `merchant`, `staff_user`, …
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// The acting user name (or `public`, `system`).
    pub actor: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Every recorded change, newest first: who, what, before and after, why, when. Region
/// staff see their region's entries.
#[utoipa::path(tag = "audit", params(AuditQuery), security(("staff" = [])), responses(
    (status = 200, body = Paged<AuditView>)))]
#[get("/admin/audit-log")]
pub async fn audit_log(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Paged<AuditView>>> {
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let region_like = admin.region_like();
    let filter = AuditFilter {
        entity_type: query.entity_type.as_deref().filter(|v| !v.is_empty()),
        entity_id: query.entity_id.as_deref().filter(|v| !v.is_empty()),
        actor: query.actor.as_deref().filter(|v| !v.is_empty()),
        region_like: region_like.as_deref(),
    };
    let mut pooled = state.db.get().await?;
    let (rows, total) =
        audit::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?;
    Ok(web::Json(page.wrap(
        rows.into_iter().map(AuditView::from).collect(),
        total,
    )))
}
