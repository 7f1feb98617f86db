//! Who is calling: staff tokens, password hashing, and the extractors that prove a
//! caller's role and region scope.

pub mod holder;
pub mod password;
pub mod qr;

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::db::audit::Actor;
use crate::db::{self, MerchantId, StaffUserId};
use crate::domain::{RegionCode, Role};
use crate::error::ApiError;
use crate::startup::AppState;

/// Signs and checks staff access tokens (HS256 under `YONGJUN_JWT_SECRET`).
pub struct StaffTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub ttl_secs: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct StaffClaims {
    sub: StaffUserId,
    role: Role,
    typ: String,
    iat: i64,
    exp: i64,
}

const STAFF_TOKEN_TYPE: &str = "staff";

impl StaffTokens {
    pub fn new(secret: &[u8], ttl_secs: u32) -> StaffTokens {
        StaffTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl_secs,
        }
    }

    pub fn issue(&self, id: StaffUserId, role: Role) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = StaffClaims {
            sub: id,
            role,
            typ: STAFF_TOKEN_TYPE.into(),
            iat: now,
            exp: now + i64::from(self.ttl_secs),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    fn check(&self, token: &str) -> Option<StaffUserId> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<StaffClaims>(token, &self.decoding, &validation).ok()?;
        (data.claims.typ == STAFF_TOKEN_TYPE).then_some(data.claims.sub)
    }
}

/// The bearer token of a request, if any.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// A signed-in, enabled staff account of any role.
#[derive(Debug, Clone)]
pub struct StaffUser {
    pub id: StaffUserId,
    pub username: String,
    pub role: Role,
    pub region: Option<RegionCode>,
    pub department: Option<String>,
    pub merchant_id: Option<MerchantId>,
}

impl StaffUser {
    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.id),
            label: self.username.clone(),
        }
    }

    /// Whether this account may see and act on things in `region`.
    pub fn covers(&self, region: &RegionCode) -> bool {
        match (self.role, &self.region) {
            (Role::SuperAdmin, _) => true,
            (_, Some(own)) => own.contains(region),
            (_, None) => false,
        }
    }

    /// A `LIKE` pattern restricting region codes to this account's subtree;
    /// `None` when it sees everything.
    pub fn region_like(&self) -> Option<String> {
        match self.role {
            Role::SuperAdmin => None,
            // An account without a region sees nothing: the pattern matches no code.
            _ => Some(
                self.region
                    .as_ref()
                    .map_or_else(|| "-".into(), RegionCode::like_pattern),
            ),
        }
    }

    /// The region a figure or an export is about: `asked`, which must lie within this
    /// account's region, else the account's own; `None` (everywhere) only for a super
    /// administrator. 403 `region_out_of_scope` otherwise.
    pub fn scoped_region(&self, asked: Option<RegionCode>) -> Result<Option<RegionCode>, ApiError> {
        match asked {
            Some(code) if !self.covers(&code) => Err(ApiError::forbidden(
                "region_out_of_scope",
                "this region is outside your region",
            )),
            Some(code) => Ok(Some(code)),
            None if self.region.is_none() && self.role != Role::SuperAdmin => Err(
                ApiError::forbidden("region_out_of_scope", "your account has no region"),
            ),
            None => Ok(self.region.clone()),
        }
    }

    pub fn require_role(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "forbidden",
                format!("the {} role may not do this", self.role),
            ))
        }
    }

    /// Refuses read-only roles (auditors).
    pub fn require_write(&self) -> Result<(), ApiError> {
        if self.role.may_write() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "read_only_role",
                "auditors may read but not change anything",
            ))
        }
    }
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for StaffUser {
    type Error = ApiError;
    type Future = LocalFuture<StaffUser>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req).map(str::to_owned);
        // Spawned: when another extractor of the same handler fails, this future is
        // dropped, and a database call must never be dropped half-way (see
        // telemetry::observe).
        let lookup = actix_web::rt::spawn(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            let unauthenticated = || {
                ApiError::unauthorized("unauthenticated", "a valid staff access token is required")
            };
            let id = token
                .as_deref()
                .and_then(|t| state.staff_tokens.check(t))
                .ok_or_else(unauthenticated)?;
            // Read the account on every request, so disabling it or changing its role
            // takes effect at once, not when the token expires.
            let mut pooled = state.db.get().await?;
            let row = db::staff::find(&mut pooled.conn(), id)
                .await?
                .filter(|row| !row.disabled)
                .ok_or_else(unauthenticated)?;
            staff_from_row(row)
        });
        Box::pin(async move { lookup.await.map_err(ApiError::internal)? })
    }
}

pub fn staff_from_row(row: db::staff::StaffRow) -> Result<StaffUser, ApiError> {
    let role = Role::parse(&row.role)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("staff {} has unknown role", row.id)))?;
    let region = match row.region_code.as_deref() {
        Some(code) => Some(RegionCode::parse(code).map_err(|e| {
            ApiError::internal(anyhow::anyhow!("staff {} has bad region: {e}", row.id))
        })?),
        None => None,
    };
    Ok(StaffUser {
        id: row.id,
        username: row.username,
        role,
        region,
        department: row.department,
        merchant_id: row.merchant_id,
    })
}

/// A staff account of a veterans-affairs office (any role but `merchant_staff`).
#[derive(Debug, Clone)]
pub struct AdminUser(pub StaffUser);

impl std::ops::Deref for AdminUser {
    type Target = StaffUser;
    fn deref(&self) -> &StaffUser {
        &self.0
    }
}

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = LocalFuture<AdminUser>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let staff = StaffUser::from_request(req, payload);
        Box::pin(async move {
            let staff = staff.await?;
            if staff.role.is_office() {
                Ok(AdminUser(staff))
            } else {
                Err(ApiError::forbidden(
                    "forbidden",
                    "this needs an office (administrator) account",
                ))
            }
        })
    }
}

/// A staff account bound to one merchant (`merchant_staff`).
#[derive(Debug, Clone)]
pub struct MerchantStaff {
    pub user: StaffUser,
    pub merchant_id: MerchantId,
}

impl FromRequest for MerchantStaff {
    type Error = ApiError;
    type Future = LocalFuture<MerchantStaff>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let staff = StaffUser::from_request(req, payload);
        Box::pin(async move {
            let user = staff.await?;
            match (user.role, user.merchant_id) {
                (Role::MerchantStaff, Some(merchant_id)) => Ok(MerchantStaff { user, merchant_id }),
                _ => Err(ApiError::forbidden(
                    "forbidden",
                    "this needs a merchant staff account",
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(role: Role, region: Option<&str>) -> StaffUser {
        StaffUser {
            id: StaffUserId(uuid::Uuid::nil()),
            username: "someone".into(),
            role,
            region: region.map(|r| RegionCode::parse(r).unwrap()),
            department: None,
            merchant_id: None,
        }
    }

    fn code(r: &str) -> Option<RegionCode> {
        Some(RegionCode::parse(r).unwrap())
    }

    #[test]
    fn the_scoped_region_is_the_one_asked_within_the_callers_else_the_callers() {
        let shenzhen = staff(Role::RegionAdmin, Some("440300"));
        assert_eq!(shenzhen.scoped_region(None).unwrap(), code("440300"));
        assert_eq!(
            shenzhen.scoped_region(code("440303")).unwrap(),
            code("440303")
        );
        let outside = shenzhen.scoped_region(code("140521")).unwrap_err();
        assert_eq!(outside.code, "region_out_of_scope");

        let root = staff(Role::SuperAdmin, None);
        assert_eq!(root.scoped_region(None).unwrap(), None);
        assert_eq!(root.scoped_region(code("140521")).unwrap(), code("140521"));

        let nowhere = staff(Role::Auditor, None);
        assert_eq!(
            nowhere.scoped_region(None).unwrap_err().code,
            "region_out_of_scope"
        );
        assert!(nowhere.scoped_region(code("440300")).is_err());
    }
}
