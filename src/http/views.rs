//! Views that several resources answer with: an offer, a staff account, an audit
//! entry, and a merchant as an office sees it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::utc;
use crate::app::merchants::MerchantFile;
use crate::db::audit::AuditRow;
use crate::db::merchants::{MerchantRow, ObjectionRow};
use crate::db::offers::OfferRow;
use crate::db::staff::StaffRow;
use crate::db::stored::split_list;
use crate::db::{AuditId, MerchantId, ObjectionId, OfferId, ReviewId, StaffUserId, Stored};
use crate::domain::merchant::MerchantStatus;
use crate::domain::{china_today, phone};

// ---------- requests ----------

/// Why a change is made: kept in the audit log (required where the operation says so).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "市场监管部门核查发现虚假宣传记录"}))]
pub struct ReasonRequest {
    pub reason: Option<String>,
}

// ---------- offers ----------

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e70",
    "title": "八一专享：就餐八折", "description": "现役军人及家属凭卡就餐八折", "kind": "percent_off", "percent_off": 20,
    "amount_off_fen": null, "price_fen": null, "gift": null, "eligible_categories": ["active_duty", "military_family"],
    "min_honor": null, "companions_allowed": 2, "valid_from": "2026-07-01T00:00:00Z", "valid_until": "2026-12-31T16:00:00Z",
    "recurring_dates": ["08-01"], "total_quota": 500, "used_total": 12, "remaining_total": 488, "per_holder_limit": 1,
    "per_holder_period": "year", "channel": "in_store", "card_products": [], "status": "active", "status_reason": null}))]
pub struct OfferView {
    pub id: OfferId,
    pub merchant_id: MerchantId,
    pub title: String,
    pub description: String,
    pub kind: String,
    /// percent_off: 1–99.
    pub percent_off: Option<i32>,
    pub amount_off_fen: Option<i64>,
    pub price_fen: Option<i64>,
    pub gift: Option<String>,
    /// Empty: every category.
    pub eligible_categories: Vec<String>,
    /// This honour or higher (combat_hero highest).
    pub min_honor: Option<String>,
    /// Immediate family members who may come along (同行直系亲属).
    pub companions_allowed: i32,
    pub valid_from: chrono::DateTime<chrono::Utc>,
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
    /// Month-days (China time) on which alone the offer applies, e.g. 08-01 (八一).
    pub recurring_dates: Vec<String>,
    /// 限量; null: unlimited.
    pub total_quota: Option<i64>,
    /// Redemptions counted against `total_quota`; null when unlimited (the figures in
    /// `/admin/stats` count every redemption).
    pub used_total: Option<i64>,
    pub remaining_total: Option<i64>,
    pub per_holder_limit: Option<i32>,
    pub per_holder_period: Option<String>,
    pub channel: String,
    /// Empty: every card product.
    pub card_products: Vec<String>,
    pub status: String,
    pub status_reason: Option<String>,
}

impl From<&OfferRow> for OfferView {
    fn from(row: &OfferRow) -> OfferView {
        OfferView {
            id: row.id,
            merchant_id: row.merchant_id,
            title: row.title.clone(),
            description: row.description.clone(),
            kind: row.kind.clone(),
            percent_off: row.percent_off,
            amount_off_fen: row.amount_off_fen,
            price_fen: row.price_fen,
            gift: row.gift.clone(),
            eligible_categories: split_list(&row.eligible_categories),
            min_honor: row.min_honor.clone(),
            companions_allowed: row.companions_allowed,
            valid_from: utc(row.valid_from),
            valid_until: row.valid_until.map(utc),
            recurring_dates: split_list(&row.recurring_dates),
            total_quota: row.total_quota,
            used_total: row.total_quota.map(|_| row.used_total),
            remaining_total: row.total_quota.map(|q| (q - row.used_total).max(0)),
            per_holder_limit: row.per_holder_limit,
            per_holder_period: row.per_holder_period.clone(),
            channel: row.channel.clone(),
            card_products: split_list(&row.card_products),
            status: row.status.clone(),
            status_reason: row.status_reason.clone(),
        }
    }
}

// ---------- staff accounts ----------

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

// ---------- the audit log ----------

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f5-2b41-7c3e-8d10-5f6e7a8b9c01", "actor": "luohu.admin",
    "actor_id": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e01", "action": "merchant.approve", "entity_type": "merchant",
    "entity_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "region_code": "440303", "before_status": "under_review",
    "after_status": "public_notice", "reason": "各部门联审通过，同意进入社会公示",
    "details": {"notice_ends_at": "2026-11-29T08:00:00Z", "notice_days": 7}, "created_at": "2026-11-22T08:00:00Z"}))]
pub struct AuditView {
    pub id: AuditId,
    pub actor: String,
    pub actor_id: Option<StaffUserId>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub region_code: Option<String>,
    pub before_status: Option<String>,
    pub after_status: Option<String>,
    pub reason: Option<String>,
    pub details: Option<serde_json::Value>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<AuditRow> for AuditView {
    fn from(row: AuditRow) -> AuditView {
        AuditView {
            id: row.id,
            actor: row.actor_label,
            actor_id: row.actor_id,
            action: row.action,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            region_code: row.region_code,
            before_status: row.before_status,
            after_status: row.after_status,
            reason: row.reason,
            details: row.details.and_then(|d| serde_json::from_str(&d).ok()),
            created_at: utc(row.created_at),
        }
    }
}

// ---------- merchants, as an office sees them ----------

/// Why and since when a merchant is flagged for exit review.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"reason": "average rating 1.67 below 3.00 (3 complaints from 3 holders in 90 days)",
    "flagged_at": "2026-12-05T06:00:00Z"}))]
pub struct ExitReviewView {
    /// Every reason raised since the last decision, separated by `; `.
    pub reason: String,
    pub flagged_at: chrono::DateTime<chrono::Utc>,
}

impl ExitReviewView {
    pub fn of(row: &MerchantRow) -> Option<ExitReviewView> {
        row.exit_review_flagged_at.map(|at| ExitReviewView {
            reason: row.exit_review_reason.clone().unwrap_or_default(),
            flagged_at: utc(at),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "深圳市罗湖区拥军大药房",
    "kind": "enterprise", "credit_code": "91440303MA5G2K7Q3P", "category": "pharmacy", "region_code": "440303",
    "status": "active", "contact_name": "李明", "contact_phone_masked": "138****5678",
    "notice_ends_at": "2026-11-29T08:00:00Z", "agreement_end": "2029-11-30", "badge_no": "YJ-440303-2026-00001",
    "created_at": "2026-11-20T02:15:00Z", "updated_at": "2026-12-01T01:00:00Z",
    "admitted_at": "2026-12-01T01:00:00Z", "exit_review": null}))]
pub struct MerchantSummary {
    pub id: MerchantId,
    pub name: String,
    pub kind: String,
    pub credit_code: Option<String>,
    pub category: String,
    pub region_code: String,
    /// As of today: an active merchant past its agreement reads `expired`.
    pub status: MerchantStatus,
    pub contact_name: String,
    pub contact_phone_masked: String,
    pub notice_ends_at: Option<chrono::DateTime<chrono::Utc>>,
    pub agreement_end: Option<NaiveDate>,
    pub badge_no: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// First admission (准入): the first activation, kept through renewals.
    pub admitted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Set while the merchant is flagged for exit review (退出复核); null otherwise.
    pub exit_review: Option<ExitReviewView>,
}

impl MerchantSummary {
    /// The summary of a stored merchant, its status read as of today.
    pub fn of(row: &MerchantRow) -> Stored<MerchantSummary> {
        Ok(MerchantSummary::with_status(
            row,
            row.effective_status(china_today())?,
        ))
    }

    fn with_status(row: &MerchantRow, status: MerchantStatus) -> MerchantSummary {
        MerchantSummary {
            id: row.id,
            name: row.name.clone(),
            kind: row.kind.clone(),
            credit_code: row.credit_code.clone(),
            category: row.category.clone(),
            region_code: row.region_code.clone(),
            status,
            contact_name: row.contact_name.clone(),
            contact_phone_masked: phone::mask(&row.contact_phone),
            notice_ends_at: row.notice_ends_at.map(utc),
            agreement_end: row.agreement_end,
            badge_no: row.badge_no.clone(),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            admitted_at: row.admitted_at.map(utc),
            exit_review: ExitReviewView::of(row),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: ReviewId,
    pub department: String,
    pub verdict: String,
    pub comment: String,
    pub reviewer: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Whether this is the department's latest review (the one that counts).
    pub current: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: ObjectionId,
    pub content: String,
    pub contact_phone_masked: Option<String>,
    /// `open`, `upheld` or `dismissed`.
    pub status: String,
    pub resolution_comment: Option<String>,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<ObjectionRow> for ObjectionView {
    fn from(row: ObjectionRow) -> ObjectionView {
        ObjectionView {
            id: row.id,
            content: row.content,
            contact_phone_masked: row.contact_phone.as_deref().map(phone::mask),
            status: row.status,
            resolution_comment: row.resolution_comment,
            resolved_at: row.resolved_at.map(utc),
            created_at: utc(row.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewProgress {
    /// Required departments with no review yet.
    pub missing: Vec<String>,
    /// Required departments whose latest verdict is `fail`.
    pub failed: Vec<String>,
    pub complete: bool,
}

/// The example of [`MerchantDetail`], in parts (one `json!` of it all is too deep).
fn merchant_detail_example() -> serde_json::Value {
    let merchant = "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f";
    let reviews = serde_json::json!([
        {"id": "0193a8f4-1c2d-7e3f-9a0b-1c2d3e4f5a01", "department": "civil_affairs", "verdict": "pass",
            "comment": "拥军措施具体可行", "reviewer": "luohu.civil", "created_at": "2026-11-21T03:10:00Z", "current": true},
        {"id": "0193a8f4-1c2d-7e3f-9a0b-1c2d3e4f5a02", "department": "market_regulation", "verdict": "pass",
            "comment": "证照齐全，无不良记录", "reviewer": "luohu.market", "created_at": "2026-11-21T06:30:00Z", "current": true}]);
    let history = serde_json::json!([
        {"id": "0193a8f5-2b41-7c3e-8d10-5f6e7a8b9c01", "actor": "public", "actor_id": null, "action": "merchant.apply",
            "entity_type": "merchant", "entity_id": merchant, "region_code": "440303",
            "before_status": null, "after_status": "pending", "reason": null,
            "details": {"name": "深圳市罗湖区拥军大药房", "kind": "enterprise", "category": "pharmacy"},
            "created_at": "2026-11-20T02:15:00Z"},
        {"id": "0193a8f5-2b41-7c3e-8d10-5f6e7a8b9c02", "actor": "luohu.civil", "actor_id": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e02",
            "action": "merchant.record_review", "entity_type": "merchant", "entity_id": merchant,
            "region_code": "440303", "before_status": "pending", "after_status": "under_review", "reason": null,
            "details": {"department": "civil_affairs", "verdict": "pass"}, "created_at": "2026-11-21T03:10:00Z"},
        {"id": "0193a8f5-2b41-7c3e-8d10-5f6e7a8b9c03", "actor": "luohu.market", "actor_id": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e03",
            "action": "merchant.record_review", "entity_type": "merchant", "entity_id": merchant,
            "region_code": "440303", "before_status": "under_review", "after_status": "under_review", "reason": null,
            "details": {"department": "market_regulation", "verdict": "pass"}, "created_at": "2026-11-21T06:30:00Z"}]);
    let mut detail = serde_json::json!({"id": merchant, "name": "深圳市罗湖区拥军大药房",
        "kind": "enterprise", "credit_code": "91440303MA5G2K7Q3P", "category": "pharmacy", "region_code": "440303",
        "status": "under_review", "contact_name": "李明", "contact_phone_masked": "138****5678",
        "notice_ends_at": null, "agreement_end": null, "badge_no": null,
        "created_at": "2026-11-20T02:15:00Z", "updated_at": "2026-11-21T03:10:00Z",
        "admitted_at": null, "exit_review": null});
    let more = serde_json::json!({"legal_representative": "王建国", "contact_phone": "13812345678",
        "address": "深圳市罗湖区人民南路1号", "latitude": 22.5431, "longitude": 114.1182,
        "services": "现役军人、退役军人购药九折", "measures": "设拥军优先窗口", "commitments": "明码标价，优先服务",
        "emergency_capabilities": ["medical", "supplies"], "emergency_commitment": "急时战时无偿提供常用药品",
        "status_reason": null, "agreement_no": null,
        "agreement_start": null,
        "review_progress": {"missing": ["discipline_inspection", "human_resources", "emergency_management", "military"],
            "failed": [], "complete": false},
        "reviews": reviews, "objections": [], "history": history});
    if let (Some(detail), serde_json::Value::Object(more)) = (detail.as_object_mut(), more) {
        detail.extend(more);
    }
    detail
}

/// The full record an office works from.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = merchant_detail_example)]
pub struct MerchantDetail {
    #[serde(flatten)]
    pub summary: MerchantSummary,
    pub legal_representative: Option<String>,
    /// The merchant's business contact, in full, for the office to call.
    pub contact_phone: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub services: String,
    pub measures: String,
    pub commitments: String,
    pub emergency_capabilities: Vec<String>,
    /// What it commits in an emergency (急时战时).
    pub emergency_commitment: String,
    pub status_reason: Option<String>,
    pub agreement_no: Option<String>,
    pub agreement_start: Option<NaiveDate>,
    pub review_progress: ReviewProgress,
    pub reviews: Vec<ReviewView>,
    pub objections: Vec<ObjectionView>,
    /// Every change of this merchant, oldest first.
    pub history: Vec<AuditView>,
}

impl From<MerchantFile> for MerchantDetail {
    fn from(file: MerchantFile) -> MerchantDetail {
        let row = file.merchant;
        MerchantDetail {
            summary: MerchantSummary::with_status(&row, file.status),
            emergency_capabilities: row.capability_names(),
            legal_representative: row.legal_representative,
            contact_phone: row.contact_phone,
            address: row.address,
            latitude: row.latitude,
            longitude: row.longitude,
            services: row.services,
            measures: row.measures,
            commitments: row.commitments,
            emergency_commitment: row.emergency_commitment,
            status_reason: row.status_reason,
            agreement_no: row.agreement_no,
            agreement_start: row.agreement_start,
            review_progress: ReviewProgress {
                complete: file.gap.is_complete(),
                missing: file.gap.missing,
                failed: file.gap.failed,
            },
            reviews: file
                .reviews
                .into_iter()
                .map(|r| ReviewView {
                    current: file.current_reviews.contains(&r.id),
                    id: r.id,
                    department: r.department,
                    verdict: r.verdict,
                    comment: r.comment,
                    reviewer: r.reviewer_label,
                    created_at: utc(r.created_at),
                })
                .collect(),
            objections: file
                .objections
                .into_iter()
                .map(ObjectionView::from)
                .collect(),
            history: file.history.into_iter().map(AuditView::from).collect(),
        }
    }
}
