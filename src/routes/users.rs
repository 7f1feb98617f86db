//! Staff accounts, managed by administrators.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{password, AdminUser};
use crate::db::audit::{self, Actor, AuditEntry};
use crate::db::staff::{self, NewStaff, StaffFilter, StaffRow};
use crate::db::{self, Conn, MerchantId, StaffUserId};
use crate::domain::{Password, RegionCode, Role, Username};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Json;
use crate::routes::{utc, PageQuery, Paged};
use crate::startup::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "username": "luohu.admin",
    "role": "region_admin", "region_code": "440303", "department": null, "merchant_id": null,
    "disabled": false, "created_at": "2026-11-22T08:00:00Z"}))]
pub struct StaffView {
    pub id: StaffUserId,
    pub username: String,
    pub role: String,
    pub region_code: Option<String>,
    pub department: Option<String>,
    pub merchant_id: Option<MerchantId>,
    pub disabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<StaffRow> for StaffView {
    fn from(row: StaffRow) -> StaffView {
        StaffView {
            id: row.id,
            username: row.username,
            role: row.role,
            region_code: row.region_code,
            department: row.department,
            merchant_id: row.merchant_id,
            disabled: row.disabled,
            created_at: utc(row.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "luohu.reviewer", "password": "a long pass phrase",
    "role": "reviewer", "region_code": "440303", "department": "civil_affairs"}))]
pub struct CreateStaffRequest {
    pub username: String,
    pub password: String,
    /// `super_admin`, `region_admin`, `reviewer` or `auditor`. Merchant staff are
    /// created under their merchant.
    pub role: String,
    /// Required for every role but `super_admin`.
    pub region_code: Option<String>,
    /// Required for `reviewer`: one of the configured departments.
    pub department: Option<String>,
}

/// A staff account to create, checked.
pub struct NewStaffAccount {
    pub username: Username,
    pub password: Password,
    pub role: Role,
    pub region: Option<RegionCode>,
    pub department: Option<String>,
    pub merchant_id: Option<MerchantId>,
}

impl NewStaffAccount {
    /// Checks every field and reports all the bad ones at once.
    pub fn parse(
        req: CreateStaffRequest,
        departments: &[String],
    ) -> Result<NewStaffAccount, ApiError> {
        let mut errors = Vec::new();
        let username = Username::parse(&req.username)
            .map_err(|m| errors.push(FieldError::new("username", m)))
            .ok();
        let password = Password::parse(&req.password)
            .map_err(|m| errors.push(FieldError::new("password", m)))
            .ok();
        let role = match Role::parse(&req.role) {
            Some(Role::MerchantStaff) => {
                errors.push(FieldError::new(
                    "role",
                    "merchant staff accounts are created with POST /api/v1/admin/merchants/{id}/staff",
                ));
                None
            }
            Some(role) => Some(role),
            None => {
                errors.push(FieldError::new(
                    "role",
                    "must be one of super_admin, region_admin, reviewer, auditor",
                ));
                None
            }
        };
        let region = match (role, req.region_code.as_deref()) {
            (Some(Role::SuperAdmin), _) => None,
            (_, Some(raw)) => RegionCode::parse(raw)
                .map_err(|m| errors.push(FieldError::new("region_code", m)))
                .ok(),
            (Some(_), None) => {
                errors.push(FieldError::new("region_code", "is required for this role"));
                None
            }
            (None, None) => None,
        };
        let department = match (role, req.department) {
            (Some(Role::Reviewer), Some(d)) if departments.contains(&d) => Some(d),
            (Some(Role::Reviewer), Some(_)) => {
                errors.push(FieldError::new(
                    "department",
                    format!("must be one of {}", departments.join(", ")),
                ));
                None
            }
            (Some(Role::Reviewer), None) => {
                errors.push(FieldError::new("department", "is required for reviewers"));
                None
            }
            _ => None,
        };
        match (username, password, role) {
            (Some(username), Some(password), Some(role)) if errors.is_empty() => {
                Ok(NewStaffAccount {
                    username,
                    password,
                    role,
                    region,
                    department,
                    merchant_id: None,
                })
            }
            _ => Err(ApiError::validation(errors)),
        }
    }
}

impl NewStaffAccount {
    /// A `merchant_staff` account bound to a merchant (and its region).
    pub fn for_merchant(
        username: &str,
        password: &str,
        merchant: MerchantId,
        region: RegionCode,
    ) -> Result<NewStaffAccount, ApiError> {
        let mut errors = Vec::new();
        let username = Username::parse(username)
            .map_err(|m| errors.push(FieldError::new("username", m)))
            .ok();
        let password = Password::parse(password)
            .map_err(|m| errors.push(FieldError::new("password", m)))
            .ok();
        match (username, password) {
            (Some(username), Some(password)) => Ok(NewStaffAccount {
                username,
                password,
                role: Role::MerchantStaff,
                region: Some(region),
                department: None,
                merchant_id: Some(merchant),
            }),
            _ => Err(ApiError::validation(errors)),
        }
    }
}

/// Creates a staff account and its audit entry in one transaction. Used by the API,
/// the CLI and the start-up bootstrap.
pub async fn create_account(
    conn: &mut Conn<'_>,
    actor: &Actor,
    account: NewStaffAccount,
) -> ApiResult<StaffRow> {
    if let Some(region) = &account.region {
        if db::regions::find(conn, region.as_str()).await?.is_none() {
            return Err(ApiError::invalid_field(
                "region_code",
                "no region has this code",
            ));
        }
    }
    if staff::find_by_username(conn, account.username.as_str())
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(
            "username_taken",
            "this user name is already taken",
        ));
    }
    let password_hash = password::hash_blocking(account.password.expose().to_owned()).await?;
    let now = db::now();
    conn.transaction(async |tx| {
        let row = staff::insert(
            tx,
            &NewStaff {
                id: StaffUserId::new(),
                username: account.username.as_str(),
                password_hash: &password_hash,
                role: account.role.as_str(),
                region_code: account.region.as_ref().map(RegionCode::as_str),
                department: account.department.as_deref(),
                merchant_id: account.merchant_id,
                disabled: false,
                created_at: now,
                updated_at: now,
            },
        )
        .await
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => ApiError::conflict("username_taken", "this user name is already taken"),
            other => other.into(),
        })?;
        audit::record(
            tx,
            actor,
            AuditEntry {
                action: "staff_user.create",
                entity_type: "staff_user",
                entity_id: row.id.to_string(),
                region_code: row.region_code.as_deref(),
                after_status: Some("active"),
                details: Some(
                    serde_json::json!({"username": row.username, "role": row.role,
                        "department": row.department, "merchant_id": row.merchant_id}),
                ),
                ..Default::default()
            },
        )
        .await?;
        Ok(row)
    })
    .await
}

/// Creates a staff account. A super admin may create any role anywhere; a region admin
/// only inside its region subtree, and never a super admin.
#[utoipa::path(tag = "staff", request_body = CreateStaffRequest, security(("staff" = [])), responses(
    (status = 201, body = StaffView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `region_out_of_scope`"),
    (status = 409, body = crate::error::Problem, description = "`username_taken`"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/admin/users")]
#[tracing::instrument(name = "create_user", skip_all, fields(caller = %admin.username))]
pub async fn create_user(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: Json<CreateStaffRequest>,
) -> ApiResult<HttpResponse> {
    admin.require_role(&[Role::SuperAdmin, Role::RegionAdmin])?;
    let account = NewStaffAccount::parse(body.0, &state.required_departments)?;
    if !admin.role.may_create(account.role) {
        return Err(ApiError::forbidden(
            "forbidden",
            format!("a {} may not create a {}", admin.role, account.role),
        ));
    }
    if admin.role != Role::SuperAdmin {
        let inside = account.region.as_ref().is_some_and(|r| admin.covers(r));
        if !inside {
            return Err(ApiError::forbidden(
                "region_out_of_scope",
                "the account's region is outside your region",
            ));
        }
    }
    let mut pooled = state.db.get().await?;
    let row = create_account(&mut pooled.conn(), &admin.actor(), account).await?;
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
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<StaffListQuery>,
) -> ApiResult<web::Json<Paged<StaffView>>> {
    admin.require_role(&[Role::SuperAdmin, Role::RegionAdmin, Role::Auditor])?;
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let region_like = admin.region_like();
    let filter = StaffFilter {
        region_like: region_like.as_deref(),
        role: query.role.as_deref(),
        merchant_id: None,
    };
    let mut pooled = state.db.get().await?;
    let (rows, total) =
        staff::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?;
    Ok(web::Json(page.wrap(
        rows.into_iter().map(StaffView::from).collect(),
        total,
    )))
}

/// One staff account; 404 when it lies outside the caller's region.
#[utoipa::path(tag = "staff", params(("id" = StaffUserId, Path)), security(("staff" = [])), responses(
    (status = 200, body = StaffView),
    (status = 404, body = crate::error::Problem, description = "`staff_user_not_found`")))]
#[get("/admin/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<StaffUserId>,
) -> ApiResult<web::Json<StaffView>> {
    admin.require_role(&[Role::SuperAdmin, Role::RegionAdmin, Role::Auditor])?;
    let mut pooled = state.db.get().await?;
    let row = staff::find(&mut pooled.conn(), *id).await?;
    let visible = row.filter(|row| match admin.role {
        Role::SuperAdmin => true,
        _ => row
            .region_code
            .as_deref()
            .and_then(|c| RegionCode::parse(c).ok())
            .is_some_and(|r| admin.covers(&r)),
    });
    visible
        .map(|row| web::Json(StaffView::from(row)))
        .ok_or_else(|| ApiError::not_found("staff_user_not_found", "no such staff account"))
}
