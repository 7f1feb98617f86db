//! Staff sign-in. The use case is `app::staff::login`.

use actix_web::{post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::staff;
use crate::domain::Role;
use crate::http::client::ClientAddr;
use crate::http::{Json, Reply, State};

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
/// about the same time. Ten failures for one user name from one client address in 15
/// minutes refuse that name from that address (policy `login`), twenty from one
/// address refuse every name from it (`login-address`): 429 until the window passes,
/// even for the right password. The same name from another address still signs in.
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 401, body = crate::error::Problem, description = "`invalid_credentials`"),
    (status = 429, body = crate::error::Problem, description = "`too_many_attempts`: policy `login` (one name from one address) or `login-address` (any names from one address)", headers(
        ("Retry-After" = u64, description = "Seconds until the refusal ends, at the latest"),
        ("RateLimit-Policy" = String, description = "The limit met (draft-ietf-httpapi-ratelimit-headers-10), e.g. `\"login\";q=10;w=900`"),
        ("RateLimit" = String, description = "Its state, e.g. `\"login\";r=0;t=900`")))))]
#[post("/auth/login")]
#[tracing::instrument(name = "login", skip_all)]
pub async fn login(
    state: State,
    client: ClientAddr,
    body: Json<LoginRequest>,
) -> Reply<LoginResponse> {
    let LoginRequest { username, password } = body.0;
    let session = staff::login(
        &state.db,
        &state.keys.staff_tokens,
        &state.keys.dummy_password_hash,
        &username,
        password,
        client.0,
    )
    .await?;
    Ok(web::Json(LoginResponse {
        access_token: session.access_token,
        token_type: "Bearer",
        expires_in: session.expires_in,
        role: session.role,
    }))
}
