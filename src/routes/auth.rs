//! Staff sign-in.

use actix_web::{post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::password;
use crate::db::{self, auth_failures};
use crate::domain::Role;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::startup::AppState;

/// Failures per user name in this window before sign-in is refused.
pub const LOGIN_MAX_FAILURES: i64 = 10;
pub const LOGIN_WINDOW_SECS: i64 = 15 * 60;
const LOGIN_SCOPE: &str = "login";

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"username": "admin", "password": "correct horse battery"}))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiJ9…", "token_type": "Bearer", "expires_in": 3600, "role": "region_admin"}))]
pub struct LoginResponse {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u32,
    pub role: Role,
}

/// Signs a staff member in. Unknown user and wrong password get the same answer, in
/// about the same time; more than 10 failures for one user name in 15 minutes are
/// refused with 429 until the window passes.
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 401, body = crate::error::Problem, description = "`invalid_credentials`"),
    (status = 429, body = crate::error::Problem, description = "`too_many_attempts`")))]
#[post("/auth/login")]
#[tracing::instrument(name = "login", skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    body: Json<LoginRequest>,
) -> ApiResult<web::Json<LoginResponse>> {
    let LoginRequest { username, password } = body.0;
    let subject: String = username.trim().to_lowercase().chars().take(128).collect();
    let window_start = db::now() - chrono::Duration::seconds(LOGIN_WINDOW_SECS);

    let row = {
        let mut pooled = state.db.get().await?;
        let mut conn = pooled.conn();
        let failures =
            auth_failures::count_since(&mut conn, LOGIN_SCOPE, &subject, window_start).await?;
        if failures >= LOGIN_MAX_FAILURES {
            return Err(ApiError::too_many_attempts(LOGIN_WINDOW_SECS as u64));
        }
        db::staff::find_by_username(&mut conn, &subject).await?
    };

    // Verify against a dummy hash when the user is unknown, so timing does not tell.
    let hash = row.as_ref().map_or_else(
        || state.dummy_password_hash.clone(),
        |r| r.password_hash.clone(),
    );
    let matches = password::verify_blocking(password, hash).await?;

    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    match row {
        Some(row) if matches && !row.disabled => {
            auth_failures::clear(&mut conn, LOGIN_SCOPE, &subject).await?;
            let user = crate::auth::staff_from_row(row)?;
            let access_token = state.staff_tokens.issue(user.id, user.role)?;
            tracing::info!(staff_id = %user.id, role = %user.role, "staff signed in");
            Ok(web::Json(LoginResponse {
                access_token,
                token_type: "Bearer",
                expires_in: state.staff_tokens.ttl_secs,
                role: user.role,
            }))
        }
        _ => {
            auth_failures::record(&mut conn, LOGIN_SCOPE, &subject, window_start).await?;
            Err(ApiError::unauthorized(
                "invalid_credentials",
                "user name or password is wrong",
            ))
        }
    }
}
