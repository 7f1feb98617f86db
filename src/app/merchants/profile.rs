//! A partner's own entry: what its staff change themselves (contact, address and
//! location, services, measures 具体措施, commitments 服务承诺, emergency capabilities and
//! commitment 急时战时), and what only an office changes (name, kind, category, region,
//! with a reason). Both audited; the directory and the till see the change at once.

use super::{file, invalidate_merchant, load_scoped, merchant_not_found, MerchantFile};
use crate::app::identity::{AdminUser, MerchantStaff};
use crate::app::permissions::Operation;
use crate::app::regions::region_not_found;
use crate::app::Policy;
use crate::cache::Cache;
use crate::db::audit::{self, AuditEntry};
use crate::db::merchants::{self, MerchantRow, ProfileChanges};
use crate::db::stored::join_list;
use crate::db::{self, Conn, Db, MerchantId};
use crate::domain::merchant::{EmergencyCapability, MerchantCategory, MerchantKind};
use crate::domain::{china_today, Phone, RegionCode};
use crate::error::{AppError, AppResult, Code};

/// What a partner's staff change of its entry; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileEdit {
    pub contact_name: Option<String>,
    pub contact_phone: Option<Phone>,
    pub address: Option<String>,
    /// `(latitude, longitude)`.
    pub location: Option<(f64, f64)>,
    pub services: Option<String>,
    pub measures: Option<String>,
    pub commitments: Option<String>,
    pub capabilities: Option<Vec<EmergencyCapability>>,
    pub emergency_commitment: Option<String>,
}

impl ProfileEdit {
    /// The names of the fields it changes (for the audit entry: never the values,
    /// the contact phone being a person's).
    pub fn fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let mut add = |set: bool, name| {
            if set {
                fields.push(name)
            }
        };
        add(self.contact_name.is_some(), "contact_name");
        add(self.contact_phone.is_some(), "contact_phone");
        add(self.address.is_some(), "address");
        add(self.location.is_some(), "location");
        add(self.services.is_some(), "services");
        add(self.measures.is_some(), "measures");
        add(self.commitments.is_some(), "commitments");
        add(self.capabilities.is_some(), "emergency_capabilities");
        add(self.emergency_commitment.is_some(), "emergency_commitment");
        fields
    }
}

/// What only an office changes of a partner's registration.
#[derive(Debug, Clone, Default)]
pub struct RegistrationEdit {
    pub name: Option<String>,
    pub kind: Option<MerchantKind>,
    pub category: Option<MerchantCategory>,
    pub region: Option<RegionCode>,
}

fn nothing_to_change() -> AppError {
    AppError::invalid_field("body", "names nothing to change")
}

fn concurrent_change() -> AppError {
    AppError::conflict(
        Code::ConcurrentChange,
        "the merchant was changed by someone else at the same moment; reload and retry",
    )
}

fn open(merchant: &MerchantRow) -> AppResult<()> {
    if merchant.effective_status(china_today())?.is_terminal() {
        return Err(AppError::conflict(
            Code::MerchantClosed,
            "该商户已被驳回或撤销，不能再修改 (the merchant is rejected or revoked)",
        ));
    }
    Ok(())
}

async fn apply(
    conn: &mut Conn<'_>,
    merchant: &MerchantRow,
    changes: &ProfileChanges<'_>,
    entry: AuditEntry<'_>,
    actor: &crate::db::audit::Actor,
) -> AppResult<MerchantRow> {
    conn.transaction(async |tx| {
        let updated = merchants::update_profile(tx, merchant.id, merchant.updated_at, changes)
            .await?
            .ok_or_else(concurrent_change)?;
        audit::record(tx, actor, entry).await?;
        Ok::<_, AppError>(updated)
    })
    .await
}

/// The caller's merchant, as stored.
pub async fn own(db: &Db, staff: &MerchantStaff) -> AppResult<MerchantRow> {
    let mut pooled = db.get().await?;
    merchants::find(&mut pooled.conn(), staff.merchant_id)
        .await?
        .ok_or_else(merchant_not_found)
}

/// Changes the caller's merchant's own entry, audited as `merchant.update_profile`
/// with the names of the fields changed.
pub async fn update_profile(
    db: &Db,
    cache: &Cache,
    staff: &MerchantStaff,
    edit: ProfileEdit,
) -> AppResult<MerchantRow> {
    let fields = edit.fields();
    if fields.is_empty() {
        return Err(nothing_to_change());
    }
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant = merchants::find(&mut conn, staff.merchant_id)
        .await?
        .ok_or_else(merchant_not_found)?;
    open(&merchant)?;
    let capabilities = edit.capabilities.as_ref().map(|list| {
        let names: Vec<&str> = list.iter().map(|c| c.as_str()).collect();
        join_list(&names)
    });
    let changes = ProfileChanges {
        contact_name: edit.contact_name.as_deref(),
        contact_phone: edit.contact_phone.as_ref().map(Phone::as_str),
        address: edit.address.as_deref(),
        latitude: edit.location.map(|l| l.0),
        longitude: edit.location.map(|l| l.1),
        services: edit.services.as_deref(),
        measures: edit.measures.as_deref(),
        commitments: edit.commitments.as_deref(),
        emergency_capabilities: capabilities.as_deref(),
        emergency_commitment: edit.emergency_commitment.as_deref(),
        updated_at: Some(db::now()),
        ..Default::default()
    };
    let entry = AuditEntry {
        action: "merchant.update_profile",
        entity_type: "merchant",
        entity_id: merchant.id.to_string(),
        region_code: Some(&merchant.region_code),
        details: Some(serde_json::json!({ "fields": fields })),
        ..Default::default()
    };
    let updated = apply(&mut conn, &merchant, &changes, entry, &staff.user.actor()).await?;
    invalidate_merchant(cache, updated.id).await;
    Ok(updated)
}

/// An office corrects a partner's name, kind, category or region (within its own
/// region, to a region it covers), with a reason; audited as `merchant.update` with the
/// values before and after.
pub async fn correct_registration(
    db: &Db,
    cache: &Cache,
    policy: &Policy,
    admin: &AdminUser,
    id: MerchantId,
    edit: RegistrationEdit,
    reason: String,
) -> AppResult<MerchantFile> {
    admin.require(Operation::MerchantsDecide)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, admin, id).await?;
    open(&merchant)?;
    if let Some(region) = &edit.region {
        if !admin.covers(region) {
            return Err(AppError::forbidden(
                Code::RegionOutOfScope,
                "the new region is outside your region",
            ));
        }
        if db::regions::find(&mut conn, region.as_str())
            .await?
            .is_none()
        {
            return Err(region_not_found(region.as_str()));
        }
    }
    let mut before = serde_json::Map::new();
    let mut after = serde_json::Map::new();
    let mut note = |field: &str, old: &str, new: Option<&str>| {
        if let Some(new) = new.filter(|new| *new != old) {
            before.insert(field.to_owned(), old.into());
            after.insert(field.to_owned(), new.into());
        }
    };
    note("name", &merchant.name, edit.name.as_deref());
    note("kind", &merchant.kind, edit.kind.map(|k| k.as_str()));
    note(
        "category",
        &merchant.category,
        edit.category.map(|c| c.as_str()),
    );
    note(
        "region_code",
        &merchant.region_code,
        edit.region.as_ref().map(|r| r.as_str()),
    );
    if after.is_empty() {
        return Err(nothing_to_change());
    }
    let changes = ProfileChanges {
        name: edit.name.as_deref(),
        kind: edit.kind.map(|k| k.as_str()),
        category: edit.category.map(|c| c.as_str()),
        region_code: edit.region.as_ref().map(RegionCode::as_str),
        updated_at: Some(db::now()),
        ..Default::default()
    };
    let entry = AuditEntry {
        action: "merchant.update",
        entity_type: "merchant",
        entity_id: merchant.id.to_string(),
        region_code: Some(&merchant.region_code),
        reason: Some(&reason),
        details: Some(serde_json::json!({ "before": before, "after": after })),
        ..Default::default()
    };
    let updated = apply(&mut conn, &merchant, &changes, entry, &admin.actor()).await?;
    invalidate_merchant(cache, updated.id).await;
    file(&mut conn, policy, updated).await
}
