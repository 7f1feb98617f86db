//! `yongjun demo`: a small living world in an empty database, built from the same use
//! cases the API calls (so every change is audited as a real one is): the offices of
//! 深圳市 and 沁水县 and their staff, thirty partner merchants in every state of
//! admission and exit, their offers and tills, three hundred beneficiaries with cards
//! of every product, months of redemptions, complaints and a spot check.
//!
//! Two steps go around the use cases, both in this module and both said where they
//! are: the public notice of merchants admitted now is ended early ([`end_notice`],
//! with an audit entry saying so), and the past months' redemptions are written
//! through the ledger's queries ([`history`]), since a till can only redeem now.

mod catalogue;
mod history;
mod partners;
mod people;
mod registry;
mod today;

use crate::app::identity::{AdminUser, StaffUser};
use crate::app::pos::LocalCaches;
use crate::app::staff::{self, CreateStaffRequest, NewStaffAccount};
use crate::app::stats::{self, StatsScope};
use crate::app::{merchants::invalidate_merchant, Policy};
use crate::auth::qr::QrKeys;
use crate::cache::Cache;
use crate::crypto::DataCipher;
use crate::db::audit::{self, AuditEntry};
use crate::db::merchants::{self, MerchantChanges, MerchantFilter};
use crate::db::{self, Db, MerchantId};
use crate::domain::merchant::MerchantStatus;
use crate::domain::{china_today, Role};
use crate::error::{AppError, AppResult};

/// `admin`'s password when `YONGJUN_BOOTSTRAP_ADMIN_PASSWORD` is not set.
pub const ADMIN_PASSWORD: &str = "yongjun-demo-admin";
const SHENZHEN_PASSWORD: &str = "shenzhen-demo-pass";
const REVIEWER_PASSWORD: &str = "reviewer-demo-pass";
const QINSHUI_PASSWORD: &str = "qinshui-demo-pass";
/// Every partner's staff account has this password.
const PARTNER_PASSWORD: &str = "partner-demo-pass";
/// The seed of every choice the demo draws.
const SEED: u64 = 0x5945_4A55_4E44_454D;

/// What the demo works with: what the server's state holds.
pub struct DemoContext<'a> {
    pub db: &'a Db,
    pub cache: &'a Cache,
    pub cipher: &'a DataCipher,
    pub qr: &'a QrKeys,
    pub local: &'a LocalCaches,
    pub queue: &'a crate::app::pos::writes::RedemptionQueue,
    pub policy: &'a Policy,
}

/// The offices' accounts the demo acts as.
pub struct Offices {
    pub root: AdminUser,
    /// region_admin of 深圳市 (440300).
    pub shenzhen: AdminUser,
    /// A reviewer of 深圳市 for one department.
    pub reviewer: AdminUser,
    /// region_admin of 沁水县 (140521).
    pub qinshui: AdminUser,
}

impl Offices {
    /// The office that acts in `region`.
    pub fn office_for(&self, region: &str) -> &AdminUser {
        if region.starts_with("4403") {
            &self.shenzhen
        } else if region.starts_with("140521") {
            &self.qinshui
        } else {
            &self.root
        }
    }
}

/// A staff account the demo made, with its password (demo passwords only).
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: String,
    pub role: Role,
    pub password: String,
    /// What it is, in a few words.
    pub what: String,
}

/// What the demo built, for the command line to print and tests to check.
#[derive(Debug)]
pub struct DemoWorld {
    /// Merchants by status as of today, e.g. `("active", 16)`.
    pub merchants_by_status: Vec<(String, i64)>,
    pub merchants: i64,
    pub offers: usize,
    pub beneficiaries: i64,
    /// Cards by product, e.g. `("general", 300)`.
    pub cards_by_product: Vec<(String, i64)>,
    /// Completed redemptions of the window and their months (`YYYY-MM`).
    pub redemptions: i64,
    pub months: Vec<String>,
    pub complaints: usize,
    /// The office, reviewer and partner accounts (not `admin`).
    pub accounts: Vec<DemoAccount>,
    /// The partner whose staff account and till are printed.
    pub partner: String,
    pub terminal_key: String,
    /// An unactivated general card of a 沁水县 veteran.
    pub card_no: String,
    pub activation_code: String,
}

/// Refuses a database that already has merchants: the demo never writes into an
/// office's data. Whether it has no staff account yet either (a first start).
pub async fn ensure_empty(db: &Db) -> anyhow::Result<bool> {
    let mut pooled = db.get().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn = pooled.conn();
    let (_, total) = merchants::list(&mut conn, &MerchantFilter::default(), 0, 1).await?;
    if total > 0 {
        anyhow::bail!(
            "this database already has {total} merchant(s): the demo only fills an empty one. \
             Point YONGJUN_DATA_DIR at a fresh directory, e.g. YONGJUN_DATA_DIR=$(mktemp -d)"
        );
    }
    Ok(db::staff::count(&mut conn).await? == 0)
}

/// Builds the world in an empty database where the administrator `admin` exists (the
/// server's start creates it). Refused when the database has merchants.
pub async fn build(ctx: &DemoContext<'_>) -> anyhow::Result<DemoWorld> {
    ensure_empty(ctx.db).await?;
    world(ctx).await.map_err(|e| {
        let cause = e
            .source
            .as_ref()
            .map(|s| format!(" ({s:#})"))
            .unwrap_or_default();
        anyhow::anyhow!("building the demo: {}{cause}", e.describe())
    })
}

async fn world(ctx: &DemoContext<'_>) -> AppResult<DemoWorld> {
    let mut draw = people::Draw::new(SEED);
    let (offices, mut accounts) = offices(ctx).await?;
    let specs = partners::specs()?;
    let mut admitted = Vec::with_capacity(specs.len());
    for (n, spec) in specs.iter().enumerate() {
        let username = if n == 0 {
            "luohu.pharmacy".to_string()
        } else {
            format!("partner{:02}", n + 1)
        };
        let partner = partners::admit(ctx, &offices, n, spec, &username).await?;
        if partner.staff.is_some() && n == 0 {
            accounts.push(DemoAccount {
                username,
                role: Role::MerchantStaff,
                password: PARTNER_PASSWORD.into(),
                what: format!(
                    "partner staff of {} (partnerNN for the others)",
                    partner.name
                ),
            });
        }
        admitted.push(partner);
    }
    let mut registry = registry::register(ctx, &offices).await?;
    history::write(ctx, &admitted, &registry, &mut draw).await?;
    let today = today::happen(ctx, &offices, &admitted, &registry, &mut draw).await?;
    partners::close(ctx, &offices, &admitted).await?;
    registry::change_cards(ctx, &offices, &mut registry).await?;

    let featured = admitted
        .first()
        .and_then(|p| {
            p.terminal
                .as_ref()
                .map(|(_, key)| (p.name.clone(), key.clone()))
        })
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the featured partner has no till")))?;
    let today_date = china_today();
    let scope = StatsScope {
        region: None,
        from: today_date - chrono::Days::new(400),
        to: today_date,
        today: today_date,
    };
    let figures = stats::figures(ctx.db, &scope).await?;
    let pairs = |counts: &[stats::Count]| counts.iter().map(|c| (c.key.clone(), c.count)).collect();
    Ok(DemoWorld {
        merchants_by_status: pairs(&figures.merchants.by_status),
        merchants: figures.merchants.total,
        offers: admitted.iter().map(|p| p.offers.len()).sum(),
        beneficiaries: figures.beneficiaries.total,
        cards_by_product: pairs(&figures.cards.by_product),
        redemptions: figures.redemptions.count,
        months: figures
            .redemptions
            .by_month
            .iter()
            .map(|m| m.key.clone())
            .collect(),
        complaints: today.complaints,
        accounts,
        partner: featured.0,
        terminal_key: featured.1,
        card_no: registry.demo_card.card.card_no.clone(),
        activation_code: registry.demo_card.activation_code.clone(),
    })
}

/// `admin` as the super administrator, and the office accounts it creates.
async fn offices(ctx: &DemoContext<'_>) -> AppResult<(Offices, Vec<DemoAccount>)> {
    let row = {
        let mut pooled = ctx.db.get().await?;
        db::staff::find_by_username(&mut pooled.conn(), "admin").await?
    };
    let root = row
        .filter(|r| r.role == Role::SuperAdmin.as_str() && !r.disabled)
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "the demo acts as the administrator `admin`, and there is none"
            ))
        })?;
    let root = AdminUser::try_from_staff(StaffUser::from_row(root)?)?;
    let departments = &ctx.policy.required_departments;
    let department = departments
        .iter()
        .find(|d| *d == "military")
        .or(departments.first())
        .cloned();
    let wanted = [
        (
            "sz.admin",
            "region_admin",
            "440300",
            None,
            SHENZHEN_PASSWORD,
            "office admin of 深圳市 (440300)",
        ),
        (
            "sz.reviewer",
            "reviewer",
            "440300",
            department.clone(),
            REVIEWER_PASSWORD,
            "reviewer of 深圳市",
        ),
        (
            "qs.admin",
            "region_admin",
            "140521",
            None,
            QINSHUI_PASSWORD,
            "office admin of 沁水县 (140521)",
        ),
    ];
    let mut made = Vec::new();
    let mut accounts = Vec::new();
    for (username, role, region, department, password, what) in wanted {
        let request = CreateStaffRequest {
            username: username.into(),
            password: password.into(),
            role: role.into(),
            region_code: Some(region.into()),
            department: department.clone(),
        };
        let account = NewStaffAccount::parse(&request, departments)?;
        let row = staff::create_user(ctx.db, &root, account).await?;
        let user = StaffUser::from_row(row)?;
        accounts.push(DemoAccount {
            username: username.into(),
            role: user.role,
            password: password.into(),
            what: match &department {
                Some(d) => format!("{what}, department {d}"),
                None => what.into(),
            },
        });
        made.push(AdminUser::try_from_staff(user)?);
    }
    let mut made = made.into_iter();
    let (Some(shenzhen), Some(reviewer), Some(qinshui)) = (made.next(), made.next(), made.next())
    else {
        return Err(AppError::internal(anyhow::anyhow!("demo accounts missing")));
    };
    let offices = Offices {
        root,
        shenzhen,
        reviewer,
        qinshui,
    };
    Ok((offices, accounts))
}

/// Ends the public notice of a merchant approved just now, so that it can be
/// activated at once: what `YONGJUN_PUBLIC_NOTICE_DAYS` days of waiting would do. Not
/// a use case (no office may shorten a notice); audited as `merchant.end_notice` with
/// the reason saying it is the demo's.
async fn end_notice(ctx: &DemoContext<'_>, admin: &AdminUser, id: MerchantId) -> AppResult<()> {
    let mut pooled = ctx.db.get().await?;
    let mut conn = pooled.conn();
    let now = db::now();
    let ended = now - chrono::Duration::seconds(1);
    conn.transaction(async |tx| {
        let changes = MerchantChanges {
            notice_ends_at: Some(Some(ended)),
            updated_at: Some(now),
            ..Default::default()
        };
        let status = MerchantStatus::PublicNotice.as_str();
        let row = merchants::update_if_status(tx, id, status, &changes)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo merchant not in notice")))?;
        audit::record(
            tx,
            &admin.actor(),
            AuditEntry {
                action: "merchant.end_notice",
                entity_type: "merchant",
                entity_id: id.to_string(),
                region_code: Some(&row.region_code),
                before_status: Some(status),
                after_status: Some(status),
                reason: Some("演示数据：公示期提前结束 (demo data: notice ended early)"),
                details: Some(serde_json::json!({"notice_ends_at": ended.and_utc(), "demo": true})),
            },
        )
        .await?;
        Ok::<_, AppError>(())
    })
    .await?;
    invalidate_merchant(ctx.cache, id).await;
    Ok(())
}
