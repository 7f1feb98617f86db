//! The audit log, for offices and auditors. The use case is `app::oversight::audit_log`.

use actix_web::{
    get,
    web::{self, Query},
};

use crate::app::identity::AdminUser;
use crate::app::oversight::{self, AuditQuery};
use crate::http::views::AuditView;
use crate::http::{Paged, Reply, State};
use crate::validate::Fields;

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
    state: State,
    admin: AdminUser,
    query: Query<AuditQuery>,
) -> Reply<Paged<AuditView>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let page = f.finish(page)?;
    let listed = oversight::audit_log(&state.db, &admin, &query, page).await?;
    Ok(web::Json(Paged::of(page, listed, AuditView::from)))
}
