//! The office's admission and exit decisions (准入退出): joint review (联审), approval
//! into public notice, objections, activation with the agreement, suspension,
//! reinstatement and revocation. The use cases are `app::merchants::admission`.

use actix_web::{
    post,
    web::{self, Path},
    HttpResponse,
};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::identity::AdminUser;
use crate::app::merchants::admission::{self, Agreement, Resolution, Review};
use crate::db::{MerchantId, ObjectionId};
use crate::domain::china_today;
use crate::domain::merchant::{Action, ObjectionOutcome, Verdict};
use crate::error::AppResult;
use crate::http::views::{MerchantDetail, ReasonRequest};
use crate::http::{Json, Reply, State};
use crate::state::AppState;
use crate::validate::Fields;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"department": "market_regulation", "verdict": "pass", "comment": "证照齐全，无不良记录"}))]
pub struct ReviewRequest {
    pub department: Option<String>,
    /// `pass` or `fail`.
    pub verdict: Option<String>,
    pub comment: Option<String>,
}

/// Records one department's verdict (联审). A reviewer records only for its own
/// department; region and super admins for any. A later review by the same department
/// replaces the earlier one; both stay in the history.
#[utoipa::path(tag = "admission", params(("id" = MerchantId, Path)), request_body = ReviewRequest,
    security(("staff" = [])), responses(
    (status = 201, body = MerchantDetail),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `wrong_department`"),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`invalid_transition`")))]
#[post("/admin/merchants/{id}/reviews")]
#[tracing::instrument(name = "record_review", skip_all, fields(merchant_id = %id))]
pub async fn record_review(
    state: State,
    admin: AdminUser,
    id: Path<MerchantId>,
    body: Json<ReviewRequest>,
) -> AppResult<HttpResponse> {
    let departments = &state.policy.required_departments;
    let mut f = Fields::new();
    let department = f.required_str("department", body.department.as_deref(), |d| {
        if departments.iter().any(|r| r == d) {
            Ok(d.to_owned())
        } else {
            Err(format!("must be one of {}", departments.join(", ")))
        }
    });
    let verdict = f.vocab::<Verdict>("verdict", body.verdict.as_deref());
    let comment = f.optional_free_text("comment", body.comment.as_deref(), 2000);
    let (department, verdict, comment) = f.finish((department, verdict, comment))?;
    let review = Review {
        department,
        verdict,
        comment: comment.unwrap_or_default(),
    };
    let file =
        admission::record_review(&state.db, &state.cache, &state.policy, &admin, *id, review)
            .await?;
    Ok(HttpResponse::Created().json(MerchantDetail::from(file)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"comment": "各部门联审通过，同意进入社会公示"}))]
pub struct ApproveRequest {
    pub comment: Option<String>,
}

/// Approves a merchant into public notice (社会公示) for YONGJUN_PUBLIC_NOTICE_DAYS;
/// refused unless every required department's latest verdict is `pass`.
#[utoipa::path(operation_id = "approve_merchant", tag = "admission", params(("id" = MerchantId, Path)), request_body = ApproveRequest,
    security(("staff" = [])), responses(
    (status = 200, body = MerchantDetail),
    (status = 409, body = crate::error::Problem, description = "`reviews_incomplete` (with `missing_departments` and `failed_departments`), `invalid_transition`")))]
#[post("/admin/merchants/{id}/approve")]
#[tracing::instrument(name = "approve_merchant", skip_all, fields(merchant_id = %id))]
pub async fn approve(
    state: State,
    admin: AdminUser,
    id: Path<MerchantId>,
    body: Json<ApproveRequest>,
) -> Reply<MerchantDetail> {
    let mut f = Fields::new();
    let comment = f.optional_free_text("comment", body.comment.as_deref(), 2000);
    let comment = f.finish(comment)?;
    let file =
        admission::approve(&state.db, &state.cache, &state.policy, &admin, *id, comment).await?;
    Ok(web::Json(file.into()))
}

/// Shared by reject, suspend, reinstate and revoke: a reason, a legal transition.
async fn decide(
    state: &AppState,
    admin: &AdminUser,
    id: MerchantId,
    action: Action,
    body: &ReasonRequest,
) -> Reply<MerchantDetail> {
    let mut f = Fields::new();
    let reason = f.free_text("reason", body.reason.as_deref(), 2000);
    let reason = f.finish(reason)?;
    let file = admission::decide(
        &state.db,
        &state.cache,
        &state.policy,
        admin,
        id,
        action,
        reason,
    )
    .await?;
    Ok(web::Json(file.into()))
}

macro_rules! reason_route {
    ($fn_name:ident, $path:literal, $action:expr, $doc:literal, $name:literal) => {
        #[doc = $doc]
        #[utoipa::path(operation_id = $name, tag = "admission", params(("id" = MerchantId, Path)), request_body = ReasonRequest,
            security(("staff" = [])), responses(
            (status = 200, body = MerchantDetail),
            (status = 404, body = crate::error::Problem, description = "`merchant_not_found`"),
            (status = 409, body = crate::error::Problem, description = "`invalid_transition` (with `current_status`)"),
            (status = 422, body = crate::error::Problem, description = "`validation_failed`: reason is required")))]
        #[post($path)]
        #[tracing::instrument(name = $name, skip_all, fields(merchant_id = %id))]
        pub async fn $fn_name(
            state: State,
            admin: AdminUser,
            id: Path<MerchantId>,
            body: Json<ReasonRequest>,
        ) -> Reply<MerchantDetail> {
            decide(&state, &admin, *id, $action, &body).await
        }
    };
}

reason_route!(
    reject,
    "/admin/merchants/{id}/reject",
    Action::Reject,
    "Rejects an application (pending or under review). Terminal.",
    "reject_merchant"
);
reason_route!(
    suspend,
    "/admin/merchants/{id}/suspend",
    Action::Suspend,
    "Suspends an active merchant: it leaves the directory and the point of sale refuses it.",
    "suspend_merchant"
);
reason_route!(
    reinstate,
    "/admin/merchants/{id}/reinstate",
    Action::Reinstate,
    "Reinstates a suspended merchant.",
    "reinstate_merchant"
);
reason_route!(
    revoke,
    "/admin/merchants/{id}/revoke",
    Action::Revoke,
    "Revokes a merchant (退出): active, suspended or expired. Terminal.",
    "revoke_merchant"
);

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"outcome": "dismissed", "comment": "经核实，反映情况不属实"}))]
pub struct ResolveObjectionRequest {
    /// `upheld` (the merchant is rejected) or `dismissed`.
    pub outcome: Option<String>,
    pub comment: Option<String>,
}

/// Resolves a public objection. Upholding it rejects the merchant.
#[utoipa::path(tag = "admission", params(("id" = MerchantId, Path), ("objection_id" = ObjectionId, Path)),
    request_body = ResolveObjectionRequest, security(("staff" = [])), responses(
    (status = 200, body = MerchantDetail),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found`, `objection_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`objection_resolved`, `invalid_transition`")))]
#[post("/admin/merchants/{id}/objections/{objection_id}/resolve")]
#[tracing::instrument(name = "resolve_objection", skip_all)]
pub async fn resolve_objection(
    state: State,
    admin: AdminUser,
    path: Path<(MerchantId, ObjectionId)>,
    body: Json<ResolveObjectionRequest>,
) -> Reply<MerchantDetail> {
    let (id, objection_id) = path.into_inner();
    let mut f = Fields::new();
    let outcome = f.vocab::<ObjectionOutcome>("outcome", body.outcome.as_deref());
    let comment = f.free_text("comment", body.comment.as_deref(), 2000);
    let (outcome, comment) = f.finish((outcome, comment))?;
    let file = admission::resolve_objection(
        &state.db,
        &state.cache,
        &state.policy,
        &admin,
        id,
        objection_id,
        Resolution { outcome, comment },
    )
    .await?;
    Ok(web::Json(file.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"agreement_no": "SZLH-YJ-2026-001", "agreement_start": "2026-12-01", "agreement_end": "2029-11-30"}))]
pub struct ActivateRequest {
    /// Number of the signed cooperation agreement (合作协议).
    pub agreement_no: Option<String>,
    /// Required to activate; to renew, default today.
    pub agreement_start: Option<NaiveDate>,
    /// The agreement's last valid day; after it the merchant reads as `expired`.
    pub agreement_end: Option<NaiveDate>,
}

impl ActivateRequest {
    /// The agreement asked for; `start` stands in for a missing start date (`None`:
    /// the start is required).
    fn agreement(&self, start: Option<NaiveDate>) -> AppResult<Agreement> {
        let mut f = Fields::new();
        let number = f.text("agreement_no", self.agreement_no.as_deref(), 64);
        f.service_years("agreement_start", self.agreement_start.as_ref());
        f.service_years("agreement_end", self.agreement_end.as_ref());
        let start = self.agreement_start.or(start);
        if start.is_none() {
            f.error("agreement_start", "is required (YYYY-MM-DD)");
        }
        let end = match (start, self.agreement_end) {
            (_, None) => {
                f.error("agreement_end", "is required (YYYY-MM-DD)");
                None
            }
            (Some(s), Some(e)) if e < s => {
                f.error("agreement_end", "must not be before agreement_start");
                None
            }
            (_, Some(e)) if e < china_today() => {
                f.error("agreement_end", "has already passed");
                None
            }
            (_, Some(e)) => Some(e),
        };
        let (number, start, end) = f.finish((number, start, end))?;
        Ok(Agreement { number, start, end })
    }
}

/// Activates a merchant after its public notice (or renews an expired one) with the
/// signed agreement; a first activation assigns the badge number
/// `YJ-{region_code}-{year}-{seq:05}`, sequential per region and year.
#[utoipa::path(operation_id = "activate_merchant", tag = "admission", params(("id" = MerchantId, Path)), request_body = ActivateRequest,
    security(("staff" = [])), responses(
    (status = 200, body = MerchantDetail),
    (status = 409, body = crate::error::Problem, description = "`notice_period_running` (with `notice_ends_at`), `objections_open`, `invalid_transition`")))]
#[post("/admin/merchants/{id}/activate")]
#[tracing::instrument(name = "activate_merchant", skip_all, fields(merchant_id = %id))]
pub async fn activate(
    state: State,
    admin: AdminUser,
    id: Path<MerchantId>,
    body: Json<ActivateRequest>,
) -> Reply<MerchantDetail> {
    let agreement = body.agreement(None)?;
    let file = admission::activate(
        &state.db,
        &state.cache,
        &state.policy,
        &admin,
        *id,
        agreement,
    )
    .await?;
    Ok(web::Json(file.into()))
}

/// Renews the agreement (续签) of an active or expired merchant: the new number and
/// end date (the start defaults to today); an expired merchant is active again. Audited
/// as `merchant.renew`.
#[utoipa::path(operation_id = "renew_merchant", tag = "admission", params(("id" = MerchantId, Path)), request_body = ActivateRequest,
    security(("staff" = [])), responses(
    (status = 200, body = MerchantDetail),
    (status = 403, body = crate::error::Problem, description = "`forbidden`"),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`invalid_transition` (neither active nor expired)")))]
#[post("/admin/merchants/{id}/renew")]
#[tracing::instrument(name = "renew_merchant", skip_all, fields(merchant_id = %id))]
pub async fn renew(
    state: State,
    admin: AdminUser,
    id: Path<MerchantId>,
    body: Json<ActivateRequest>,
) -> Reply<MerchantDetail> {
    let agreement = body.agreement(Some(china_today()))?;
    let file = admission::renew(
        &state.db,
        &state.cache,
        &state.policy,
        &admin,
        *id,
        agreement,
    )
    .await?;
    Ok(web::Json(file.into()))
}
