//! Staff accounts: creating them (API, command line, start-up), reading them, and
//! signing in.

use crate::app::identity::{AdminUser, StaffUser};
use crate::app::permissions::Operation;
use crate::app::throttle::Limits;
use crate::app::{Listed, Page};
use crate::auth::password;
use crate::auth::tokens::StaffTokens;
use crate::db::audit::{self, Actor, AuditEntry};
use crate::db::staff::{self, NewStaff, StaffFilter, StaffRow};
use crate::db::{self, auth_failures, Db, MerchantId, StaffUserId};
use crate::domain::{Password, RegionCode, Role, Username};
use crate::error::{is_unique_violation, AppError, AppResult, Code, RateLimit};
use crate::validate::Fields;
use serde::Deserialize;
use std::net::IpAddr;
use utoipa::ToSchema;

/// Failures for one user name from one client address in the window before sign-in
/// from that address is refused.
pub const LOGIN_MAX_FAILURES: i64 = 10;
/// Failures from one client address, whatever the user names, in the window before
/// every sign-in from that address is refused (a spray across accounts).
pub const LOGIN_MAX_FAILURES_PER_ADDRESS: i64 = 20;
pub const LOGIN_WINDOW_SECS: i64 = 15 * 60;

static LOGIN_LIMITS: Limits = Limits {
    scope: "login",
    per_subject: Some(RateLimit {
        policy: "login",
        quota: LOGIN_MAX_FAILURES,
        window_secs: LOGIN_WINDOW_SECS as u64,
    }),
    per_address: RateLimit {
        policy: "login-address",
        quota: LOGIN_MAX_FAILURES_PER_ADDRESS,
        window_secs: LOGIN_WINDOW_SECS as u64,
    },
};

/// A staff account to create, checked.
#[derive(Debug)]
pub struct NewStaffAccount {
    pub username: Username,
    pub password: Password,
    pub role: Role,
    pub region: Option<RegionCode>,
    pub department: Option<String>,
    pub merchant_id: Option<MerchantId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "luohu.reviewer", "password": "a long pass phrase",
    "role": "reviewer", "region_code": "440303", "department": "civil_affairs"}))]
/// An office account as asked for (the API's body, the command line).
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

impl NewStaffAccount {
    /// An office account (any role but `merchant_staff`), every bad field reported.
    pub fn parse(form: &CreateStaffRequest, departments: &[String]) -> AppResult<NewStaffAccount> {
        let mut f = Fields::new();
        let username = f.check("username", Username::parse(&form.username));
        let password = f.check("password", Password::parse(&form.password));
        let role = f.check(
            "role",
            match Role::parse(&form.role) {
                Some(Role::MerchantStaff) => Err(
                    "merchant staff accounts are created with POST /api/v1/admin/merchants/{id}/staff",
                ),
                Some(role) => Ok(role),
                None => Err("must be one of super_admin, region_admin, reviewer, auditor, military_liaison"),
            },
        );
        let region = match (role, form.region_code.as_deref()) {
            (Some(Role::SuperAdmin), _) => Some(None),
            (_, Some(raw)) => f.check("region_code", RegionCode::parse(raw)).map(Some),
            (Some(_), None) => {
                f.error("region_code", "is required for this role");
                None
            }
            (None, None) => Some(None),
        };
        let department = match (role, form.department.as_deref()) {
            (Some(Role::Reviewer), Some(d)) if departments.iter().any(|r| r == d) => {
                Some(Some(d.to_owned()))
            }
            (Some(Role::Reviewer), Some(_)) => {
                f.error(
                    "department",
                    format!("must be one of {}", departments.join(", ")),
                );
                None
            }
            (Some(Role::Reviewer), None) => {
                f.error("department", "is required for reviewers");
                None
            }
            _ => Some(None),
        };
        f.build(|| {
            Some(NewStaffAccount {
                username: username?,
                password: password?,
                role: role?,
                region: region?,
                department: department?,
                merchant_id: None,
            })
        })
    }

    /// A `merchant_staff` account bound to a merchant (and its region).
    pub fn for_merchant(
        username: &str,
        password: &str,
        merchant: MerchantId,
        region: RegionCode,
    ) -> AppResult<NewStaffAccount> {
        let mut f = Fields::new();
        let username = f.check("username", Username::parse(username));
        let password = f.check("password", Password::parse(password));
        f.build(|| {
            Some(NewStaffAccount {
                username: username?,
                password: password?,
                role: Role::MerchantStaff,
                region: Some(region),
                department: None,
                merchant_id: Some(merchant),
            })
        })
    }
}

fn username_taken() -> AppError {
    AppError::conflict(Code::UsernameTaken, "this user name is already taken")
}

/// Creates a staff account and its audit entry in one transaction: for the API, the
/// command line and the start-up bootstrap. 409 `username_taken` when the name is.
pub async fn create_account(
    db: &Db,
    actor: &Actor,
    account: NewStaffAccount,
) -> AppResult<StaffRow> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    if let Some(region) = &account.region {
        if db::regions::find(&mut conn, region.as_str())
            .await?
            .is_none()
        {
            return Err(AppError::invalid_field(
                "region_code",
                "no region has this code",
            ));
        }
    }
    if staff::find_by_username(&mut conn, account.username.as_str())
        .await?
        .is_some()
    {
        return Err(username_taken());
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
        .map_err(|e| {
            if is_unique_violation(&e) {
                username_taken()
            } else {
                e.into()
            }
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

/// An administrator creates an account: a super admin any role anywhere; a region
/// admin only inside its region subtree, and never a super admin.
pub async fn create_user(
    db: &Db,
    admin: &AdminUser,
    account: NewStaffAccount,
) -> AppResult<StaffRow> {
    admin.require(Operation::StaffCreate)?;
    if !admin.role.may_create(account.role) {
        return Err(AppError::forbidden(
            Code::Forbidden,
            format!("a {} may not create a {}", admin.role, account.role),
        ));
    }
    if admin.role != Role::SuperAdmin {
        let inside = account.region.as_ref().is_some_and(|r| admin.covers(r));
        if !inside {
            return Err(AppError::forbidden(
                Code::RegionOutOfScope,
                "the account's region is outside your region",
            ));
        }
    }
    create_account(db, &admin.actor(), account).await
}

/// Staff accounts inside the caller's region subtree, optionally of one role.
pub async fn list_users(
    db: &Db,
    admin: &AdminUser,
    role: Option<&str>,
    page: Page,
) -> AppResult<Listed<StaffRow>> {
    admin.require(Operation::StaffRead)?;
    let region_like = admin.region_like();
    let filter = StaffFilter {
        region_like: region_like.as_deref(),
        role,
        merchant_id: None,
    };
    let mut pooled = db.get().await?;
    Ok(staff::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?)
}

/// One staff account; 404 when it lies outside the caller's region.
pub async fn get_user(db: &Db, admin: &AdminUser, id: StaffUserId) -> AppResult<StaffRow> {
    admin.require(if id == admin.id {
        Operation::AccountRead
    } else {
        Operation::StaffRead
    })?;
    let mut pooled = db.get().await?;
    let row = staff::find(&mut pooled.conn(), id).await?;
    row.filter(|row| match admin.role {
        Role::SuperAdmin => true,
        _ => row
            .region_code
            .as_deref()
            .is_some_and(|c| admin.covers_code(c)),
    })
    .ok_or_else(|| AppError::not_found(Code::StaffUserNotFound, "no such staff account"))
}

/// The enabled account `id`, read on every request so that disabling it or changing
/// its role takes effect at once; `None` when there is none (or it is disabled).
pub async fn active_account(db: &Db, id: StaffUserId) -> AppResult<Option<StaffUser>> {
    let mut pooled = db.get().await?;
    match staff::find(&mut pooled.conn(), id).await? {
        Some(row) if !row.disabled => Ok(Some(StaffUser::from_row(row)?)),
        _ => Ok(None),
    }
}

/// A signed-in staff member.
#[derive(Debug)]
pub struct Session {
    pub access_token: String,
    pub expires_in: u32,
    pub role: Role,
}

/// The user name as sign-in counts its failures.
fn login_subject(username: &str) -> String {
    username.trim().to_lowercase().chars().take(128).collect()
}

/// Signs a staff member in from `client`. Unknown user and wrong password get the same
/// answer, in about the same time (`dummy_hash` is verified against for an unknown
/// name). [`LOGIN_MAX_FAILURES`] failures for one user name from one address in the
/// window refuse that name from that address, and [`LOGIN_MAX_FAILURES_PER_ADDRESS`]
/// failures from one address every name from it: 429 `too_many_attempts`, even for the
/// right password. The same name from another address is not affected.
pub async fn login(
    db: &Db,
    tokens: &StaffTokens,
    dummy_hash: &str,
    username: &str,
    password: String,
    client: IpAddr,
) -> AppResult<Session> {
    let subject = login_subject(username);
    let (attempt, row) = {
        let mut pooled = db.get().await?;
        let mut conn = pooled.conn();
        let attempt = LOGIN_LIMITS.check(&mut conn, &subject, client).await?;
        (attempt, staff::find_by_username(&mut conn, &subject).await?)
    };
    let hash = row
        .as_ref()
        .map_or_else(|| dummy_hash.to_owned(), |r| r.password_hash.clone());
    let matches = password::verify_blocking(password, hash).await?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    match row {
        Some(row) if matches && !row.disabled => {
            attempt.succeeded(&mut conn).await?;
            let user = StaffUser::from_row(row)?;
            let access_token = tokens.issue(user.id, user.role)?;
            tracing::info!(staff_id = %user.id, role = %user.role, "staff signed in");
            Ok(Session {
                access_token,
                expires_in: tokens.ttl_secs,
                role: user.role,
            })
        }
        _ => {
            attempt.failed(&mut conn).await?;
            Err(AppError::unauthorized(
                Code::InvalidCredentials,
                "user name or password is wrong",
            ))
        }
    }
}

/// What [`unlock`] cleared.
#[derive(Debug)]
pub struct Unlocked {
    pub account: StaffRow,
    /// Every failed sign-in forgotten, however old.
    pub failures: usize,
    /// The same, by client address, in the order they first failed.
    pub addresses: Vec<ClearedAddress>,
}

/// The failed sign-ins of one client address (an IPv4 address or an IPv6 /64; empty
/// for failures recorded before addresses were).
#[derive(Debug)]
pub struct ClearedAddress {
    pub client: String,
    pub failures: usize,
    /// Whether they had reached [`LOGIN_MAX_FAILURES`] in the window: sign-in from
    /// there was refused.
    pub locked: bool,
}

/// Forgets every failed sign-in of the account `username`, from every address, so it
/// can sign in again at once wherever it was locked out; audited as `staff.unlock`
/// (the count, not the addresses). 404 `staff_user_not_found` when no account has the
/// name. An address's own limit across names is not lifted: other names' failures
/// from there still count until the window passes.
pub async fn unlock(db: &Db, actor: &Actor, username: &str) -> AppResult<Unlocked> {
    let subject = login_subject(username);
    let scope = LOGIN_LIMITS.scope;
    let window_start = db::now() - chrono::Duration::seconds(LOGIN_WINDOW_SECS);
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let account = staff::find_by_username(&mut conn, &subject)
        .await?
        .ok_or_else(|| {
            AppError::not_found(
                Code::StaffUserNotFound,
                "no staff account has this user name",
            )
        })?;
    conn.transaction(async |tx| {
        let recorded = auth_failures::of_subject(tx, scope, &subject).await?;
        let failures = auth_failures::clear_subject(tx, scope, &subject).await?;
        let mut addresses: Vec<(ClearedAddress, i64)> = Vec::new();
        for (client, failed_at) in recorded {
            let index = match addresses.iter().position(|(a, _)| a.client == client) {
                Some(index) => index,
                None => {
                    let cleared = ClearedAddress {
                        client,
                        failures: 0,
                        locked: false,
                    };
                    addresses.push((cleared, 0));
                    addresses.len() - 1
                }
            };
            let (cleared, recent) = &mut addresses[index];
            cleared.failures += 1;
            if failed_at > window_start {
                *recent += 1;
                cleared.locked = *recent >= LOGIN_MAX_FAILURES;
            }
        }
        let addresses: Vec<ClearedAddress> = addresses.into_iter().map(|(a, _)| a).collect();
        audit::record(
            tx,
            actor,
            AuditEntry {
                action: "staff.unlock",
                entity_type: "staff_user",
                entity_id: account.id.to_string(),
                region_code: account.region_code.as_deref(),
                details: Some(serde_json::json!({
                    "username": account.username,
                    "failures": failures,
                    "addresses": addresses.len(),
                    "locked_addresses": addresses.iter().filter(|a| a.locked).count(),
                })),
                ..Default::default()
            },
        )
        .await?;
        Ok(Unlocked {
            account,
            failures,
            addresses,
        })
    })
    .await
}

/// What the start-up bootstrap did.
#[derive(Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// Staff accounts exist already (or another process created `admin` first).
    AlreadyDone,
    /// `admin` was created with the configured password.
    Created,
    /// `admin` was created with this random password, to be shown once.
    CreatedWithPassword(String),
}

/// With no staff account at all, creates `admin` (super_admin): with `password` when
/// given, else with a random one returned to be shown once.
pub async fn bootstrap_admin(db: &Db, password: Option<&str>) -> AppResult<Bootstrap> {
    {
        let mut pooled = db.get().await?;
        if staff::count(&mut pooled.conn()).await? > 0 {
            return Ok(Bootstrap::AlreadyDone);
        }
    }
    let (password, generated) = match password {
        Some(p) => (p.to_owned(), false),
        None => (random_password(), true),
    };
    let mut f = Fields::new();
    let username = f.check("username", Username::parse("admin"));
    let secret = f.check(
        "YONGJUN_BOOTSTRAP_ADMIN_PASSWORD",
        Password::parse(&password),
    );
    let (username, secret) = f.finish((username, secret))?;
    let account = NewStaffAccount {
        username,
        password: secret,
        role: Role::SuperAdmin,
        region: None,
        department: None,
        merchant_id: None,
    };
    match create_account(db, &Actor::system(), account).await {
        Ok(_) if generated => Ok(Bootstrap::CreatedWithPassword(password)),
        Ok(_) => Ok(Bootstrap::Created),
        // Another process starting at the same moment created it first.
        Err(e) if e.code == Code::UsernameTaken => Ok(Bootstrap::AlreadyDone),
        Err(e) => Err(e),
    }
}

fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..20)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}
