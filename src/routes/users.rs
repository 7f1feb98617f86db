//! Staff accounts, managed by administrators. The use cases are `app::staff`.

use actix_web::{
    get, post,
    web::{self, Path, Query},
    HttpResponse,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::identity::AdminUser;
use crate::app::staff::{self, CreateStaffRequest, NewStaffAccount};
use crate::db::StaffUserId;
use crate::error::AppResult;
use crate::http::views::StaffView;
use crate::http::{Json, Paged, Reply, State};
use crate::validate::Fields;

/// Creates a staff account. A super admin may create any role anywhere; a region admin
/// only inside its region subtree, and never a super admin.
#[utoipa::path(tag = "staff", request_body = CreateStaffRequest, security(("staff" = [])), responses(
    (status = 201, body = StaffView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `region_out_of_scope`"),
    (status = 409, body = crate::error::Problem, description = "`username_taken`")))]
#[post("/admin/users")]
#[tracing::instrument(name = "create_user", skip_all, fields(caller = %admin.username))]
pub async fn create_user(
    state: State,
    admin: AdminUser,
    body: Json<CreateStaffRequest>,
) -> AppResult<HttpResponse> {
    let account = NewStaffAccount::parse(&body, &state.policy.required_departments)?;
    let row = staff::create_user(&state.db, &admin, account).await?;
    Ok(HttpResponse::Created().json(StaffView::from(row)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StaffListQuery {
    /// Only accounts of this role.
    pub role: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Staff accounts inside the caller's region subtree.
#[utoipa::path(tag = "staff", params(StaffListQuery), security(("staff" = [])), responses(
    (status = 200, body = Paged<StaffView>, example = json!({"items": [
        {"id": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e01", "username": "luohu.admin", "role": "region_admin",
            "region_code": "440303", "department": null, "merchant_id": null, "disabled": false,
            "created_at": "2026-11-18T01:00:00Z"},
        {"id": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e02", "username": "luohu.civil", "role": "reviewer",
            "region_code": "440303", "department": "civil_affairs", "merchant_id": null, "disabled": false,
            "created_at": "2026-11-18T01:05:00Z"},
        {"id": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e03", "username": "luohu.market", "role": "reviewer",
            "region_code": "440303", "department": "market_regulation", "merchant_id": null, "disabled": false,
            "created_at": "2026-11-18T01:06:00Z"},
        {"id": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e04", "username": "luohu.pharmacy", "role": "merchant_staff",
            "region_code": "440303", "department": null, "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f",
            "disabled": false, "created_at": "2026-12-01T01:10:00Z"}],
        "total": 4, "page": 1, "per_page": 20})),
    (status = 403, body = crate::error::Problem, description = "`forbidden`")))]
#[get("/admin/users")]
pub async fn list_users(
    state: State,
    admin: AdminUser,
    query: Query<StaffListQuery>,
) -> Reply<Paged<StaffView>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let page = f.finish(page)?;
    let listed = staff::list_users(&state.db, &admin, query.role.as_deref(), page).await?;
    Ok(web::Json(Paged::of(page, listed, StaffView::from)))
}

/// One staff account; 404 when it lies outside the caller's region.
#[utoipa::path(tag = "staff", params(("id" = StaffUserId, Path)), security(("staff" = [])), responses(
    (status = 200, body = StaffView),
    (status = 404, body = crate::error::Problem, description = "`staff_user_not_found`")))]
#[get("/admin/users/{id}")]
pub async fn get_user(state: State, admin: AdminUser, id: Path<StaffUserId>) -> Reply<StaffView> {
    let row = staff::get_user(&state.db, &admin, *id).await?;
    Ok(web::Json(StaffView::from(row)))
}
