//! Oversight (监督): complaints and ratings, spot checks, a merchant's effect evaluation
//! (实施效果评估) and the audit log.

pub mod complaints;
pub mod inspections;

use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::identity::AdminUser;
use crate::app::merchants::load_scoped;
use crate::app::permissions::Operation;
use crate::app::{Listed, Page};
use crate::db::audit::{self, AuditFilter, AuditRow};
use crate::db::complaints::{self as complaint_db, RedemptionFigures};
use crate::db::inspections::{self as inspection_db, InspectionItemRow};
use crate::db::merchants::MerchantRow;
use crate::db::{Db, MerchantId};
use crate::domain::merchant::MerchantStatus;
use crate::domain::{china_midnight_utc, china_today};
use crate::error::AppResult;

/// What a merchant's offers did over a window, what holders said of it, and its last
/// spot check.
#[derive(Debug)]
pub struct Evaluation {
    pub merchant: MerchantRow,
    pub status: MerchantStatus,
    pub redemptions: RedemptionFigures,
    /// Complaints filed in the window, whatever their outcome.
    pub complaints: i64,
    pub rating_sum: i64,
    /// Latest recorded spot-check result, whenever it was.
    pub last_spot_check: Option<InspectionItemRow>,
}

/// A merchant's evaluation over `from`..=`to` (China days), for an office covering its
/// region.
pub async fn evaluate(
    db: &Db,
    admin: &AdminUser,
    id: MerchantId,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Evaluation> {
    admin.require(Operation::EvaluationsRead)?;
    let start = china_midnight_utc(from);
    let end = china_midnight_utc(to + chrono::Days::new(1));
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, admin, id).await?;
    let redemptions = complaint_db::redemption_figures(&mut conn, merchant.id, start, end).await?;
    let (complaints, _, rating_sum) =
        complaint_db::complaint_totals(&mut conn, merchant.id, start, end, false).await?;
    let last_spot_check = inspection_db::last_result(&mut conn, merchant.id).await?;
    Ok(Evaluation {
        status: merchant.effective_status(china_today())?,
        merchant,
        redemptions,
        complaints,
        rating_sum,
        last_spot_check,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
/// What the audit log is searched by.
pub struct AuditQuery {
    /// `merchant`, `staff_user`, …
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// The acting user name (or `public`, `system`).
    pub actor: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Every recorded change in the caller's region, newest first.
pub async fn audit_log(
    db: &Db,
    admin: &AdminUser,
    query: &AuditQuery,
    page: Page,
) -> AppResult<Listed<AuditRow>> {
    admin.require(Operation::AuditLogRead)?;
    let region_like = admin.region_like();
    fn present(v: Option<&str>) -> Option<&str> {
        v.filter(|v| !v.is_empty())
    }
    let filter = AuditFilter {
        entity_type: present(query.entity_type.as_deref()),
        entity_id: present(query.entity_id.as_deref()),
        actor: present(query.actor.as_deref()),
        region_like: region_like.as_deref(),
    };
    let mut pooled = db.get().await?;
    Ok(audit::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?)
}
