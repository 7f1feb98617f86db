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
    (status = 200, body = Paged<AuditView>, example = json!({"items": [
        {"id": "0193a8f5-2b41-7c3e-8d10-5f6e7a8b9c11", "actor": "luohu.admin", "actor_id": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e01",
            "action": "card.suspend", "entity_type": "card", "entity_id": "0193a8f3-5e6f-7a8b-9c0d-1e2f3a4b5c01",
            "region_code": "440303", "before_status": "active", "after_status": "suspended", "reason": "持卡人报失",
            "details": null, "created_at": "2026-11-23T02:40:00Z"},
        {"id": "0193a8f5-2b41-7c3e-8d10-5f6e7a8b9c01", "actor": "luohu.admin", "actor_id": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e01",
            "action": "merchant.approve", "entity_type": "merchant", "entity_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f",
            "region_code": "440303", "before_status": "under_review", "after_status": "public_notice",
            "reason": "各部门联审通过，同意进入社会公示", "details": {"notice_ends_at": "2026-11-29T08:00:00Z", "notice_days": 7},
            "created_at": "2026-11-22T08:00:00Z"}],
        "total": 2, "page": 1, "per_page": 20}))))]
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
