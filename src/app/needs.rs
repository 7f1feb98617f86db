//! Needs and resources (需求清单 · 资源目录): a unit's contact (部队联络员) or an office posts
//! what the troops and the holders need; partners (or an office for them) record what
//! they can give; each need shows the resources that fit it, best first, and an
//! emergency need the partners of the emergency roster able to answer it. Rules:
//! `domain::needs`. The task list that follows a need to its end is `app::tasks`.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::app::identity::{MerchantStaff, StaffUser};
use crate::app::merchants::{merchant_not_found, roster};
use crate::app::permissions::Operation;
use crate::app::{Clock, Listed, Page};
use crate::db::audit::{self, AuditEntry};
use crate::db::merchants::{self, MerchantRow};
use crate::db::needs::{
    self, NeedFilter, NeedId, NeedRow, ResourceFilter, ResourceId, ResourceRow,
};
use crate::db::{self, regions, Conn, Db, MerchantId};
use crate::domain::needs::{
    need_transition, suggestion_rank, NeedCategory, NeedStatus, ResourceMode, Urgency,
};
use crate::domain::RegionCode;
use crate::error::{AppError, AppResult, Code};

/// How many resources a need suggests, and how many partners of the roster it shows.
const SUGGESTIONS: usize = 10;

pub fn need_not_found() -> AppError {
    AppError::not_found(Code::NeedNotFound, "no such need")
}

/// 422 on `field` unless `region` is a known region.
pub(crate) async fn known_region(
    conn: &mut Conn<'_>,
    field: &str,
    region: &RegionCode,
) -> AppResult<()> {
    match regions::find(conn, region.as_str()).await? {
        Some(_) => Ok(()),
        None => Err(AppError::invalid_field(field, "is not a known region")),
    }
}

/// 403 `region_out_of_scope` unless the caller covers `region`.
pub(crate) fn in_scope(caller: &StaffUser, region: &RegionCode) -> AppResult<()> {
    if caller.covers(region) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            Code::RegionOutOfScope,
            "this region is outside your region",
        ))
    }
}

/// A need, checked.
#[derive(Debug, Clone)]
pub struct NewNeed {
    pub title: String,
    pub description: String,
    pub category: NeedCategory,
    pub region: RegionCode,
    pub requesting_unit: String,
    pub beneficiaries_count: i64,
    pub urgency: Urgency,
    pub wanted_by: Option<NaiveDate>,
}

/// Posts a need in the caller's region subtree (a liaison or an office).
pub async fn post_need(db: &Db, caller: &StaffUser, need: NewNeed) -> AppResult<NeedRow> {
    caller.require(Operation::NeedsWrite)?;
    in_scope(caller, &need.region)?;
    let now = db::now();
    let row = NeedRow {
        id: NeedId::new(),
        title: need.title,
        description: need.description,
        category: need.category.as_str().to_owned(),
        region_code: need.region.as_str().to_owned(),
        requesting_unit: need.requesting_unit,
        beneficiaries_count: need.beneficiaries_count,
        urgency: need.urgency.as_str().to_owned(),
        wanted_by: need.wanted_by,
        status: NeedStatus::Open.as_str().to_owned(),
        close_reason: None,
        created_by: caller.username.clone(),
        created_at: now,
        updated_at: now,
        done_at: None,
    };
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    known_region(&mut conn, "region_code", &need.region).await?;
    conn.transaction(async |tx| {
        needs::insert_need(tx, &row).await?;
        audit::record(
            tx,
            &caller.actor(),
            AuditEntry {
                action: "need.create",
                entity_type: "need",
                entity_id: row.id.to_string(),
                region_code: Some(&row.region_code),
                after_status: Some(NeedStatus::Open.as_str()),
                details: Some(serde_json::json!({"category": row.category,
                    "urgency": row.urgency, "beneficiaries_count": row.beneficiaries_count})),
                ..Default::default()
            },
        )
        .await?;
        Ok::<_, AppError>(())
    })
    .await?;
    Ok(row)
}

/// What the needs list is filtered by.
#[derive(Debug, Clone, Default)]
pub struct NeedQuery {
    pub status: Option<NeedStatus>,
    pub category: Option<NeedCategory>,
    pub urgency: Option<Urgency>,
    pub region: Option<RegionCode>,
}

/// Needs in the caller's region subtree (and `region`'s), newest first.
pub async fn list_needs(
    db: &Db,
    caller: &StaffUser,
    query: NeedQuery,
    page: Page,
) -> AppResult<Listed<NeedRow>> {
    caller.require(Operation::NeedsRead)?;
    let mut filter = NeedFilter {
        status: query.status.map(|s| s.as_str().to_owned()),
        category: query.category.map(|c| c.as_str().to_owned()),
        urgency: query.urgency.map(|u| u.as_str().to_owned()),
        ..Default::default()
    };
    filter.region_likes.extend(caller.region_like());
    filter
        .region_likes
        .extend(query.region.as_ref().map(RegionCode::like_pattern));
    let mut pooled = db.get().await?;
    Ok(needs::list_needs(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?)
}

/// A need the caller may see (404 outside its region).
pub(crate) async fn scoped_need(
    conn: &mut Conn<'_>,
    caller: &StaffUser,
    id: NeedId,
) -> AppResult<NeedRow> {
    needs::find_need(conn, id)
        .await?
        .filter(|n| caller.covers_code(&n.region_code))
        .ok_or_else(need_not_found)
}

/// A resource with its partner's name.
#[derive(Debug, Clone)]
pub struct ResourceRecord {
    pub resource: ResourceRow,
    pub merchant_name: String,
}

/// A need, the resources that fit it (same category, serving its region, available
/// today), best first, and for an emergency need the partners of the emergency roster
/// with the matching capability in its region subtree.
#[derive(Debug, Clone)]
pub struct NeedDetail {
    pub need: NeedRow,
    pub suggestions: Vec<ResourceRecord>,
    pub roster: Vec<MerchantRow>,
}

/// The codes of `region` and of the regions above it.
fn region_and_above(region: &RegionCode) -> Vec<String> {
    let code = region.as_str();
    let mut codes = vec![format!("{}0000", &code[..2]), format!("{}00", &code[..4])];
    codes.push(code.to_owned());
    codes.dedup();
    codes
}

async fn records(conn: &mut Conn<'_>, rows: Vec<ResourceRow>) -> AppResult<Vec<ResourceRecord>> {
    let mut ids: Vec<MerchantId> = rows.iter().map(|r| r.merchant_id).collect();
    ids.sort();
    ids.dedup();
    let names: HashMap<MerchantId, String> = merchants::find_many(conn, &ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|resource| ResourceRecord {
            merchant_name: names
                .get(&resource.merchant_id)
                .cloned()
                .unwrap_or_default(),
            resource,
        })
        .collect())
}

/// One need with its suggestions.
pub async fn need(db: &Db, clock: &Clock, caller: &StaffUser, id: NeedId) -> AppResult<NeedDetail> {
    caller.require(Operation::NeedsRead)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let need = scoped_need(&mut conn, caller, id).await?;
    let category = need.category()?;
    let urgency = need.urgency()?;
    let region = RegionCode::parse(&need.region_code)
        .map_err(|e| AppError::internal(anyhow::anyhow!("needs row {}: {e}", need.id)))?;
    let today = clock.today();
    let mut found = needs::candidates(
        &mut conn,
        category.as_str(),
        &region_and_above(&region),
        &region.like_pattern(),
        today,
        200,
    )
    .await?;
    let mut ranked = Vec::with_capacity(found.len());
    for resource in found.drain(..) {
        let rank = suggestion_rank(
            &need.region_code,
            urgency,
            &resource.region_code,
            resource.mode()?,
            resource.available_until,
        );
        ranked.push((rank, resource));
    }
    ranked.sort_by_key(|b| std::cmp::Reverse(b.0));
    let best = ranked
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, r)| r)
        .collect();
    let suggestions = records(&mut conn, best).await?;
    drop(pooled);
    let roster = match (urgency, category.emergency_capability()) {
        (Urgency::Emergency, Some(capability)) => {
            let page = Page {
                page: 1,
                per_page: SUGGESTIONS as u32,
            };
            roster(db, Some(capability), vec![region.like_pattern()], page)
                .await?
                .0
        }
        _ => Vec::new(),
    };
    Ok(NeedDetail {
        need,
        suggestions,
        roster,
    })
}

/// Moves a need along its lifecycle (`closed` needs a reason).
pub async fn set_need_status(
    db: &Db,
    caller: &StaffUser,
    id: NeedId,
    to: NeedStatus,
    reason: Option<String>,
) -> AppResult<NeedRow> {
    caller.require(Operation::NeedsWrite)?;
    if to == NeedStatus::Closed && reason.is_none() {
        return Err(AppError::invalid_field(
            "reason",
            "is required to close a need",
        ));
    }
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let need = scoped_need(&mut conn, caller, id).await?;
    conn.transaction(async |tx| {
        // A need follows its tasks: it is closed once none of them is still under way.
        if to == NeedStatus::Closed && needs::unfinished_tasks(tx, need.id).await? > 0 {
            return Err(AppError::conflict(
                Code::InvalidTransition,
                "这项需求还有未办结的任务，请先关闭或办结任务 (a task of this need is still open: close or complete it first)",
            ));
        }
        move_need(tx, caller, &need, to, reason.as_deref()).await
    })
    .await
}

fn invalid_change(error: impl std::fmt::Display) -> AppError {
    AppError::conflict(Code::InvalidTransition, error.to_string())
}

/// Moves `need` to `to` in `tx`, audited; 409 when the lifecycle does not allow it or
/// somebody moved it first.
pub(crate) async fn move_need(
    tx: &mut Conn<'_>,
    caller: &StaffUser,
    need: &NeedRow,
    to: NeedStatus,
    reason: Option<&str>,
) -> AppResult<NeedRow> {
    let from = need.status()?;
    need_transition(from, to).map_err(invalid_change)?;
    let moved = needs::set_need_status(tx, need.id, from.as_str(), to.as_str(), reason, db::now())
        .await?
        .ok_or_else(|| {
            AppError::conflict(Code::ConcurrentChange, "the need was changed meanwhile")
        })?;
    audit::record(
        tx,
        &caller.actor(),
        AuditEntry {
            action: "need.status",
            entity_type: "need",
            entity_id: need.id.to_string(),
            region_code: Some(&need.region_code),
            before_status: Some(from.as_str()),
            after_status: Some(to.as_str()),
            reason,
            details: None,
        },
    )
    .await?;
    Ok(moved)
}

// ---------- resources ----------

/// A resource, checked.
#[derive(Debug, Clone)]
pub struct NewResource {
    pub title: String,
    pub category: NeedCategory,
    pub capacity: String,
    pub capacity_amount: Option<i64>,
    pub capacity_unit: Option<String>,
    pub region: RegionCode,
    pub available_from: Option<NaiveDate>,
    pub available_until: Option<NaiveDate>,
    pub mode: ResourceMode,
}

async fn insert_resource(
    db: &Db,
    caller: &StaffUser,
    merchant: MerchantId,
    resource: NewResource,
) -> AppResult<ResourceRecord> {
    if let (Some(from), Some(until)) = (resource.available_from, resource.available_until) {
        if until < from {
            return Err(AppError::invalid_field(
                "available_until",
                "must not be before available_from",
            ));
        }
    }
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    known_region(&mut conn, "region_code", &resource.region).await?;
    let partner = merchants::find(&mut conn, merchant)
        .await?
        .ok_or_else(merchant_not_found)?;
    let row = ResourceRow {
        id: ResourceId::new(),
        merchant_id: merchant,
        title: resource.title,
        category: resource.category.as_str().to_owned(),
        capacity: resource.capacity,
        capacity_amount: resource.capacity_amount,
        capacity_unit: resource.capacity_unit,
        region_code: resource.region.as_str().to_owned(),
        available_from: resource.available_from,
        available_until: resource.available_until,
        mode: resource.mode.as_str().to_owned(),
        created_by: caller.username.clone(),
        created_at: db::now(),
    };
    conn.transaction(async |tx| {
        needs::insert_resource(tx, &row).await?;
        audit::record(
            tx,
            &caller.actor(),
            AuditEntry {
                action: "resource.create",
                entity_type: "resource",
                entity_id: row.id.to_string(),
                region_code: Some(&row.region_code),
                details: Some(serde_json::json!({"merchant_id": merchant,
                    "category": row.category, "mode": row.mode})),
                ..Default::default()
            },
        )
        .await?;
        Ok::<_, AppError>(())
    })
    .await?;
    Ok(ResourceRecord {
        resource: row,
        merchant_name: partner.name,
    })
}

/// A partner's staff records one of its own resources.
pub async fn offer_resource(
    db: &Db,
    staff: &MerchantStaff,
    resource: NewResource,
) -> AppResult<ResourceRecord> {
    staff.user.require(Operation::MerchantResources)?;
    insert_resource(db, &staff.user, staff.merchant_id, resource).await
}

/// An office records a resource for a partner of its region.
pub async fn record_resource(
    db: &Db,
    caller: &StaffUser,
    merchant: MerchantId,
    resource: NewResource,
) -> AppResult<ResourceRecord> {
    caller.require(Operation::ResourcesWrite)?;
    in_scope(caller, &resource.region)?;
    {
        let mut pooled = db.get().await?;
        merchants::find(&mut pooled.conn(), merchant)
            .await?
            .filter(|m| caller.covers_code(&m.region_code))
            .ok_or_else(merchant_not_found)?;
    }
    insert_resource(db, caller, merchant, resource).await
}

/// What the resources directory is filtered by.
#[derive(Debug, Clone, Default)]
pub struct ResourceQuery {
    pub category: Option<NeedCategory>,
    pub mode: Option<ResourceMode>,
    pub region: Option<RegionCode>,
    pub merchant_id: Option<MerchantId>,
}

/// Resources serving the caller's region subtree (and `region`'s), newest first.
pub async fn list_resources(
    db: &Db,
    caller: &StaffUser,
    query: ResourceQuery,
    page: Page,
) -> AppResult<Listed<ResourceRecord>> {
    caller.require(Operation::ResourcesRead)?;
    let mut filter = ResourceFilter {
        merchant_id: query.merchant_id,
        category: query.category.map(|c| c.as_str().to_owned()),
        mode: query.mode.map(|m| m.as_str().to_owned()),
        ..Default::default()
    };
    filter.region_likes.extend(caller.region_like());
    filter
        .region_likes
        .extend(query.region.as_ref().map(RegionCode::like_pattern));
    resources_page(db, &filter, page).await
}

/// A partner's own resources, newest first.
pub async fn own_resources(
    db: &Db,
    staff: &MerchantStaff,
    page: Page,
) -> AppResult<Listed<ResourceRecord>> {
    staff.user.require(Operation::MerchantResources)?;
    let filter = ResourceFilter {
        merchant_id: Some(staff.merchant_id),
        ..Default::default()
    };
    resources_page(db, &filter, page).await
}

async fn resources_page(
    db: &Db,
    filter: &ResourceFilter,
    page: Page,
) -> AppResult<Listed<ResourceRecord>> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let (rows, total) =
        needs::list_resources(&mut conn, filter, page.offset(), page.limit()).await?;
    Ok((records(&mut conn, rows).await?, total))
}
