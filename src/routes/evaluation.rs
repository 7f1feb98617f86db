//! Effect evaluation of one merchant (实施效果评估): what its offers did, what holders
//! said of it, its last spot check and its exit-review flag. The use case is
//! `app::oversight::evaluate`.

use actix_web::{
    get,
    web::{self, Path, Query},
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::identity::AdminUser;
use crate::app::oversight;
use crate::db::inspections::InspectionId;
use crate::db::MerchantId;
use crate::domain::china_today;
use crate::domain::merchant::MerchantStatus;
use crate::error::AppError;
use crate::http::views::ExitReviewView;
use crate::http::{utc, Reply, State};
use crate::validate::Fields;

/// Days the default window covers, today included.
const DEFAULT_DAYS: u64 = 90;

#[derive(Debug, Deserialize, IntoParams)]
pub struct EvaluationQuery {
    /// First day (YYYY-MM-DD, China time), inclusive. Default: 89 days before `to`.
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD, China time), inclusive. Default: today.
    pub to: Option<String>,
}

/// The merchant's latest recorded spot-check result.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpotCheckView {
    pub inspection_id: InspectionId,
    /// `compliant` or `non_compliant`.
    pub outcome: String,
    pub notes: Option<String>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "深圳市罗湖区拥军大药房",
    "region_code": "440303", "status": "active", "from": "2026-09-07", "to": "2026-12-05",
    "redemptions": 412, "distinct_holders": 187, "discount_total_fen": 1234500,
    "complaints": 3, "complaint_rate": 0.00728, "average_rating": 2.33,
    "last_spot_check": {"inspection_id": "0193a8fb-2c3d-7e4f-8a5b-6c7d8e9f0a01", "outcome": "compliant",
        "notes": "优待措施落实到位", "recorded_at": "2026-12-03T07:00:00Z"},
    "exit_review": null}))]
pub struct MerchantEvaluation {
    pub merchant_id: MerchantId,
    pub name: String,
    pub region_code: String,
    pub status: MerchantStatus,
    /// The window, China time, both days included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Completed redemptions (人次) in the window; voided ones are left out.
    pub redemptions: i64,
    /// Different beneficiaries among them.
    pub distinct_holders: i64,
    pub discount_total_fen: i64,
    /// Complaints filed in the window, whatever their outcome.
    pub complaints: i64,
    /// complaints / redemptions; null without redemptions.
    pub complaint_rate: Option<f64>,
    /// Mean rating (1–5) of those complaints; null without complaints.
    pub average_rating: Option<f64>,
    /// Latest recorded spot-check result, whenever it was.
    pub last_spot_check: Option<SpotCheckView>,
    /// The current exit-review flag; null when not flagged.
    pub exit_review: Option<ExitReviewView>,
}

/// A merchant's evaluation over a window (default: the last 90 days, China time):
/// redemptions, distinct holders, discount total, complaints and their rate, average
/// rating, last spot check and exit-review flag. Office staff covering its region.
#[utoipa::path(tag = "oversight", params(("id" = MerchantId, Path), EvaluationQuery), security(("staff" = [])), responses(
    (status = 200, body = MerchantEvaluation),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found` (also outside your region)"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`: dates, `from` after `to`")))]
#[get("/admin/merchants/{id}/evaluation")]
pub async fn evaluation(
    state: State,
    admin: AdminUser,
    id: Path<MerchantId>,
    query: Query<EvaluationQuery>,
) -> Reply<MerchantEvaluation> {
    let mut f = Fields::new();
    let from = f.date("from", query.from.as_deref());
    let to = f.date("to", query.to.as_deref());
    let (from, to) = f.finish((from, to))?;
    let to = to.unwrap_or_else(china_today);
    let from = from.unwrap_or_else(|| to - chrono::Days::new(DEFAULT_DAYS - 1));
    if from > to {
        return Err(AppError::invalid_field("from", "must not be after to"));
    }
    let e = oversight::evaluate(&state.db, &admin, *id, from, to).await?;
    let figures = e.redemptions;
    Ok(web::Json(MerchantEvaluation {
        merchant_id: e.merchant.id,
        name: e.merchant.name.clone(),
        region_code: e.merchant.region_code.clone(),
        status: e.status,
        from,
        to,
        redemptions: figures.redemptions,
        distinct_holders: figures.holders,
        discount_total_fen: figures.discount_fen,
        complaints: e.complaints,
        complaint_rate: (figures.redemptions > 0)
            .then(|| e.complaints as f64 / figures.redemptions as f64),
        average_rating: (e.complaints > 0).then(|| e.rating_sum as f64 / e.complaints as f64),
        last_spot_check: e.last_spot_check.and_then(|item| {
            Some(SpotCheckView {
                inspection_id: item.inspection_id,
                outcome: item.outcome?,
                notes: item.notes,
                recorded_at: utc(item.recorded_at?),
            })
        }),
        exit_review: ExitReviewView::of(&e.merchant),
    }))
}
