//! The beneficiary registry (优抚对象名录): protected personal data, scoped by region.
//! ID numbers and phones are encrypted, with a keyed hash of the ID number for
//! look-up; nothing here ever returns or logs them unmasked.

use crate::app::identity::{AdminUser, StaffUser};
use crate::app::permissions::Operation;
use crate::app::{invalidate, Listed, Page};
use crate::cache::{keys, Cache};
use crate::crypto::DataCipher;
use crate::db::audit::{self, AuditEntry};
use crate::db::beneficiaries::{self, BeneficiaryChanges, BeneficiaryFilter, BeneficiaryRow};
use crate::db::stored::join_list;
use crate::db::{self, BeneficiaryId, Conn, Db};
use crate::domain::beneficiary::{parse_honors, Category, Honor};
use crate::domain::id_number::IdNumber;
use crate::domain::{Phone, RegionCode, Vocabulary};
use crate::error::{is_unique_violation, AppError, AppResult, Code, FieldError};
use crate::validate::Fields;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "张三明", "id_number": "11010519491231002X", "phone": "13812345678",
    "category": "veteran", "honors": ["third_class_merit"], "region_code": "440303"}))]
/// A beneficiary's fields as given (the API's body, a row of an import file).
pub struct CreateBeneficiaryRequest {
    pub name: Option<String>,
    /// 18-character resident ID (GB 11643), check character verified. Stored encrypted.
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub category: Option<String>,
    #[serde(default)]
    pub honors: Vec<String>,
    pub region_code: Option<String>,
    /// Family categories may link to the primary beneficiary (the service member).
    pub primary_beneficiary_id: Option<BeneficiaryId>,
    /// e.g. 配偶, 子女, 父母.
    pub relation: Option<String>,
}

/// A beneficiary's fields, checked.
#[derive(Debug, Clone)]
pub struct BeneficiaryInput {
    pub name: String,
    pub id_number: IdNumber,
    pub phone: Option<Phone>,
    pub category: Category,
    pub honors: Vec<Honor>,
    pub region: RegionCode,
    pub primary_beneficiary_id: Option<BeneficiaryId>,
    pub relation: Option<String>,
}

/// A beneficiary category by its code or its Chinese name.
pub fn parse_category(raw: &str) -> Result<Category, String> {
    Category::parse_any(raw).ok_or_else(Category::one_of)
}

impl BeneficiaryInput {
    /// Checks every field; the messages never repeat an ID number or a phone.
    pub fn parse(form: &CreateBeneficiaryRequest) -> Result<BeneficiaryInput, Vec<FieldError>> {
        let mut f = Fields::new();
        let name = f.text("name", form.name.as_deref(), 50);
        let id_number = f.required("id_number", form.id_number.as_deref(), IdNumber::parse);
        let phone = f.optional_str("phone", form.phone.as_deref(), Phone::parse);
        let category = f.required_str("category", form.category.as_deref(), parse_category);
        let honors = f.check("honors", parse_honors(&form.honors));
        let region = f.required(
            "region_code",
            form.region_code.as_deref(),
            RegionCode::parse,
        );
        if form.primary_beneficiary_id.is_some() && category.is_some_and(|c| !c.is_family()) {
            f.error(
                "primary_beneficiary_id",
                "only family categories link to a primary beneficiary",
            );
        }
        let relation = f.optional_text("relation", form.relation.as_deref(), 20);
        f.build(|| {
            Some(BeneficiaryInput {
                name: name?,
                id_number: id_number?,
                phone: phone?,
                category: category?,
                honors: honors?,
                region: region?,
                primary_beneficiary_id: form.primary_beneficiary_id,
                relation: relation?,
            })
        })
        .map_err(|error| error.errors)
    }

    pub fn honors_stored(&self) -> String {
        join_list(&self.honors.iter().map(|h| h.as_str()).collect::<Vec<_>>())
    }

    pub fn to_new(&self, cipher: &DataCipher) -> anyhow::Result<BeneficiaryRow> {
        let now = db::now();
        Ok(BeneficiaryRow {
            id: BeneficiaryId::new(),
            name: self.name.clone(),
            id_number_enc: cipher.encrypt(self.id_number.expose())?,
            id_number_hash: cipher.lookup_hash(self.id_number.expose()),
            id_number_masked: self.id_number.masked(),
            phone_enc: self
                .phone
                .as_ref()
                .map(|p| cipher.encrypt(p.as_str()))
                .transpose()?,
            phone_masked: self.phone.as_ref().map(Phone::masked),
            category: self.category.as_str().to_owned(),
            honors: self.honors_stored(),
            region_code: self.region.as_str().to_owned(),
            primary_beneficiary_id: self.primary_beneficiary_id,
            relation: self.relation.clone(),
            created_at: now,
            updated_at: now,
        })
    }
}

pub fn beneficiary_not_found() -> AppError {
    AppError::not_found(Code::BeneficiaryNotFound, "no such beneficiary")
}

/// The beneficiary, if it lies in the caller's region; 404 otherwise.
pub(crate) async fn load_scoped(
    conn: &mut Conn<'_>,
    caller: &StaffUser,
    id: BeneficiaryId,
) -> AppResult<BeneficiaryRow> {
    let row = beneficiaries::find(conn, id)
        .await?
        .ok_or_else(beneficiary_not_found)?;
    if caller.covers_code(&row.region_code) {
        Ok(row)
    } else {
        Err(beneficiary_not_found())
    }
}

/// Checks what a new or changed beneficiary refers to: its region exists and is the
/// caller's, and a primary beneficiary exists (in scope).
async fn check_references(
    conn: &mut Conn<'_>,
    caller: &StaffUser,
    region: Option<&RegionCode>,
    primary: Option<BeneficiaryId>,
) -> AppResult<()> {
    if let Some(region) = region {
        if db::regions::find(conn, region.as_str()).await?.is_none() {
            return Err(AppError::invalid_field(
                "region_code",
                "no region has this code",
            ));
        }
        if !caller.covers(region) {
            return Err(AppError::forbidden(
                Code::RegionOutOfScope,
                "this region is outside your region",
            ));
        }
    }
    if let Some(primary) = primary {
        if load_scoped(conn, caller, primary).await.is_err() {
            return Err(AppError::invalid_field(
                "primary_beneficiary_id",
                "no such beneficiary in your region",
            ));
        }
    }
    Ok(())
}

/// Registers a beneficiary. The ID number is stored encrypted with a keyed hash for
/// look-up, and never shown again unmasked.
pub async fn create(
    db: &Db,
    cipher: &DataCipher,
    admin: &AdminUser,
    input: BeneficiaryInput,
) -> AppResult<BeneficiaryRow> {
    admin.require(Operation::BeneficiariesWrite)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    check_references(
        &mut conn,
        admin,
        Some(&input.region),
        input.primary_beneficiary_id,
    )
    .await?;
    let new = input.to_new(cipher)?;
    let duplicate = || {
        AppError::conflict(
            Code::DuplicateBeneficiary,
            "a beneficiary with this ID number is already registered",
        )
    };
    if beneficiaries::find_by_hash(&mut conn, &new.id_number_hash)
        .await?
        .is_some()
    {
        return Err(duplicate());
    }
    let row = conn
        .transaction(async |tx| {
            let row = beneficiaries::insert(tx, &new).await.map_err(|e| {
                if is_unique_violation(&e) {
                    duplicate()
                } else {
                    AppError::from(e)
                }
            })?;
            audit::record(
                tx,
                &admin.actor(),
                AuditEntry {
                    action: "beneficiary.create",
                    entity_type: "beneficiary",
                    entity_id: row.id.to_string(),
                    region_code: Some(&row.region_code),
                    details: Some(
                        serde_json::json!({"category": row.category, "honors": row.honors()}),
                    ),
                    ..Default::default()
                },
            )
            .await?;
            Ok::<_, AppError>(row)
        })
        .await?;
    tracing::info!(beneficiary_id = %row.id, "beneficiary registered");
    Ok(row)
}

/// What the registry is searched by.
#[derive(Debug, Default)]
pub struct RegistryQuery {
    /// Part of the name.
    pub q: Option<String>,
    pub category: Option<Category>,
    pub region: Option<RegionCode>,
    /// An exact ID number, matched through its keyed hash.
    pub id_number: Option<IdNumber>,
}

/// Beneficiaries in the caller's region subtree.
pub async fn list(
    db: &Db,
    cipher: &DataCipher,
    admin: &AdminUser,
    query: RegistryQuery,
    page: Page,
) -> AppResult<Listed<BeneficiaryRow>> {
    admin.require(Operation::BeneficiariesRead)?;
    let mut filter = BeneficiaryFilter::default();
    filter.region_likes.extend(admin.region_like());
    filter
        .region_likes
        .extend(query.region.as_ref().map(RegionCode::like_pattern));
    filter.category = query.category.map(|c| c.as_str().to_owned());
    filter.id_number_hash = query.id_number.map(|id| cipher.lookup_hash(id.expose()));
    filter.q = query.q;
    let mut pooled = db.get().await?;
    Ok(beneficiaries::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?)
}

/// One beneficiary; 404 outside the caller's region.
pub async fn get(db: &Db, admin: &AdminUser, id: BeneficiaryId) -> AppResult<BeneficiaryRow> {
    admin.require(Operation::BeneficiariesRead)?;
    let mut pooled = db.get().await?;
    load_scoped(&mut pooled.conn(), admin, id).await
}

/// The changes asked for a beneficiary, checked; absent fields stay as they are.
#[derive(Debug, Default)]
pub struct BeneficiaryUpdate {
    pub name: Option<String>,
    /// `Some(None)` removes the phone.
    pub phone: Option<Option<Phone>>,
    pub category: Option<Category>,
    pub honors: Option<Vec<Honor>>,
    pub region: Option<RegionCode>,
    pub primary_beneficiary_id: Option<BeneficiaryId>,
    /// `Some(None)` removes the relation.
    pub relation: Option<Option<String>>,
    /// The fields named by the request, for the audit log.
    pub fields: Vec<&'static str>,
}

/// Changes a beneficiary. The cards' cached snapshots are dropped after the commit, so
/// the counter sees the change at once.
pub async fn update(
    db: &Db,
    cache: &Cache,
    cipher: &DataCipher,
    admin: &AdminUser,
    id: BeneficiaryId,
    change: BeneficiaryUpdate,
) -> AppResult<BeneficiaryRow> {
    admin.require(Operation::BeneficiariesWrite)?;
    let mut fields = change.fields.clone();
    if fields.is_empty() && change.primary_beneficiary_id.is_none() {
        return Err(AppError::invalid_field("body", "nothing to change"));
    }
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let current = load_scoped(&mut conn, admin, id).await?;
    let effective_category = match change.category {
        Some(category) => category,
        None => current.category()?,
    };
    let mut changes = BeneficiaryChanges {
        name: change.name,
        honors: change
            .honors
            .map(|h| join_list(&h.iter().map(|h| h.as_str()).collect::<Vec<_>>())),
        relation: change.relation,
        category: change.category.map(|c| c.as_str().to_owned()),
        region_code: change.region.as_ref().map(|r| r.as_str().to_owned()),
        ..Default::default()
    };
    if let Some(primary) = change.primary_beneficiary_id {
        if !effective_category.is_family() {
            return Err(AppError::invalid_field(
                "primary_beneficiary_id",
                "only family categories link to a primary beneficiary",
            ));
        }
        if primary == current.id {
            return Err(AppError::invalid_field(
                "primary_beneficiary_id",
                "cannot be the beneficiary itself",
            ));
        }
        changes.primary_beneficiary_id = Some(Some(primary));
        fields.push("primary_beneficiary_id");
    }
    check_references(
        &mut conn,
        admin,
        change.region.as_ref(),
        change.primary_beneficiary_id,
    )
    .await?;
    if let Some(phone) = change.phone {
        changes.phone_enc = Some(
            phone
                .as_ref()
                .map(|p| cipher.encrypt(p.as_str()))
                .transpose()?,
        );
        changes.phone_masked = Some(phone.as_ref().map(Phone::masked));
    }
    changes.updated_at = Some(db::now());
    let row = conn
        .transaction(async |tx| {
            let row = beneficiaries::update(tx, current.id, &changes).await?;
            audit::record(
                tx,
                &admin.actor(),
                AuditEntry {
                    action: "beneficiary.update",
                    entity_type: "beneficiary",
                    entity_id: row.id.to_string(),
                    region_code: Some(&row.region_code),
                    details: Some(serde_json::json!({"fields": fields})),
                    ..Default::default()
                },
            )
            .await?;
            Ok::<_, AppError>(row)
        })
        .await?;
    invalidate_cards_of(cache, &mut conn, &[row.id]).await?;
    Ok(row)
}

/// Drops the cached snapshots of every card of these beneficiaries (after a commit).
pub(crate) async fn invalidate_cards_of(
    cache: &Cache,
    conn: &mut Conn<'_>,
    ids: &[BeneficiaryId],
) -> AppResult<()> {
    let cards = db::cards::ids_for_beneficiaries(conn, ids).await?;
    invalidate(cache, cards.iter().map(keys::card).collect()).await;
    Ok(())
}
