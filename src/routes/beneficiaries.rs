//! The beneficiary registry (优抚对象名录): protected personal data, scoped by region.

use actix_web::{get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AdminUser;
use crate::cache::keys;
use crate::crypto::DataCipher;
use crate::db::audit::{self, AuditEntry};
use crate::db::beneficiaries::{
    self, BeneficiaryChanges, BeneficiaryFilter, BeneficiaryRow, NewBeneficiary,
};
use crate::db::{self, BeneficiaryId, Conn};
use crate::domain::beneficiary::{parse_honors, Category, Honor};
use crate::domain::id_number::IdNumber;
use crate::domain::{Phone, RegionCode, Role};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Json;
use crate::routes::merchants::text;
use crate::routes::{utc, PageQuery, Paged};
use crate::startup::AppState;

/// A beneficiary as the office sees it: ID number and phone masked, always.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "张三明",
    "id_number_masked": "1101**********002X", "phone_masked": "138****5678", "category": "veteran",
    "honors": ["third_class_merit"], "region_code": "440303", "primary_beneficiary_id": null,
    "relation": null, "created_at": "2026-11-22T08:00:00Z", "updated_at": "2026-11-22T08:00:00Z"}))]
pub struct BeneficiaryView {
    pub id: BeneficiaryId,
    pub name: String,
    pub id_number_masked: String,
    pub phone_masked: Option<String>,
    pub category: String,
    pub honors: Vec<String>,
    pub region_code: String,
    pub primary_beneficiary_id: Option<BeneficiaryId>,
    pub relation: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<&BeneficiaryRow> for BeneficiaryView {
    fn from(row: &BeneficiaryRow) -> BeneficiaryView {
        BeneficiaryView {
            id: row.id,
            name: row.name.clone(),
            id_number_masked: row.id_number_masked.clone(),
            phone_masked: row.phone_masked.clone(),
            category: row.category.clone(),
            honors: row.honors(),
            region_code: row.region_code.clone(),
            primary_beneficiary_id: row.primary_beneficiary_id,
            relation: row.relation.clone(),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "张三明", "id_number": "11010519491231002X", "phone": "13812345678",
    "category": "veteran", "honors": ["third_class_merit"], "region_code": "440303"}))]
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

pub fn parse_category(errors: &mut Vec<FieldError>, raw: Option<&str>) -> Option<Category> {
    match raw.map(str::trim).filter(|c| !c.is_empty()) {
        None => {
            errors.push(FieldError::new("category", "is required"));
            None
        }
        Some(raw) => {
            let parsed = Category::parse_any(raw);
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "category",
                    format!(
                        "must be one of {}",
                        Category::ALL.map(|c| c.as_str()).join(", ")
                    ),
                ));
            }
            parsed
        }
    }
}

impl BeneficiaryInput {
    /// Checks every field; the messages never repeat an ID number or a phone.
    pub fn parse(req: CreateBeneficiaryRequest) -> Result<BeneficiaryInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = text(&mut errors, "name", req.name.as_deref(), true, 50);
        let id_number = match req.id_number.as_deref() {
            None => {
                errors.push(FieldError::new("id_number", "is required"));
                None
            }
            Some(raw) => IdNumber::parse(raw)
                .map_err(|m| errors.push(FieldError::new("id_number", m)))
                .ok(),
        };
        let phone = match req
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => None,
            Some(raw) => match Phone::parse(raw) {
                Ok(p) => Some(p),
                Err(m) => {
                    errors.push(FieldError::new("phone", m));
                    None
                }
            },
        };
        let category = parse_category(&mut errors, req.category.as_deref());
        let honors = parse_honors(&req.honors)
            .map_err(|m| errors.push(FieldError::new("honors", m)))
            .ok();
        let region = match req.region_code.as_deref() {
            None => {
                errors.push(FieldError::new("region_code", "is required"));
                None
            }
            Some(raw) => RegionCode::parse(raw)
                .map_err(|m| errors.push(FieldError::new("region_code", m)))
                .ok(),
        };
        if req.primary_beneficiary_id.is_some() && category.is_some_and(|c| !c.is_family()) {
            errors.push(FieldError::new(
                "primary_beneficiary_id",
                "only family categories link to a primary beneficiary",
            ));
        }
        let relation = text(&mut errors, "relation", req.relation.as_deref(), false, 20);
        match (name, id_number, category, honors, region) {
            (Some(name), Some(id_number), Some(category), Some(honors), Some(region))
                if errors.is_empty() =>
            {
                Ok(BeneficiaryInput {
                    name,
                    id_number,
                    phone,
                    category,
                    honors,
                    region,
                    primary_beneficiary_id: req.primary_beneficiary_id,
                    relation,
                })
            }
            _ => Err(errors),
        }
    }

    pub fn honors_stored(&self) -> String {
        db::merchants::join_capabilities(
            &self.honors.iter().map(|h| h.as_str()).collect::<Vec<_>>(),
        )
    }

    pub fn to_new(&self, cipher: &DataCipher) -> anyhow::Result<NewBeneficiary> {
        let now = db::now();
        Ok(NewBeneficiary {
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

/// The beneficiary, if it lies in the caller's region; 404 otherwise.
pub async fn load_scoped(
    conn: &mut Conn<'_>,
    admin: &AdminUser,
    id: BeneficiaryId,
) -> ApiResult<BeneficiaryRow> {
    let row = beneficiaries::find(conn, id)
        .await?
        .ok_or_else(beneficiary_not_found)?;
    let region =
        RegionCode::parse(&row.region_code).map_err(|m| ApiError::internal(anyhow::anyhow!(m)))?;
    if admin.covers(&region) {
        Ok(row)
    } else {
        Err(beneficiary_not_found())
    }
}

pub fn beneficiary_not_found() -> ApiError {
    ApiError::not_found("beneficiary_not_found", "no such beneficiary")
}

pub fn require_registrar(admin: &AdminUser) -> ApiResult<()> {
    admin.require_role(&[Role::SuperAdmin, Role::RegionAdmin])
}

/// Checks what a new or changed beneficiary refers to: its region exists and is the
/// caller's, and a primary beneficiary exists (in scope).
async fn check_references(
    conn: &mut Conn<'_>,
    admin: &AdminUser,
    region: Option<&RegionCode>,
    primary: Option<BeneficiaryId>,
) -> ApiResult<()> {
    if let Some(region) = region {
        if db::regions::find(conn, region.as_str()).await?.is_none() {
            return Err(ApiError::invalid_field(
                "region_code",
                "no region has this code",
            ));
        }
        if !admin.covers(region) {
            return Err(ApiError::forbidden(
                "region_out_of_scope",
                "this region is outside your region",
            ));
        }
    }
    if let Some(primary) = primary {
        if load_scoped(conn, admin, primary).await.is_err() {
            return Err(ApiError::invalid_field(
                "primary_beneficiary_id",
                "no such beneficiary in your region",
            ));
        }
    }
    Ok(())
}

/// Registers a beneficiary. The ID number is validated by its check character, stored
/// encrypted with a keyed hash for look-up, and never shown again unmasked.
#[utoipa::path(tag = "beneficiaries", request_body = CreateBeneficiaryRequest, security(("staff" = [])), responses(
    (status = 201, body = BeneficiaryView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `region_out_of_scope`"),
    (status = 409, body = crate::error::Problem, description = "`duplicate_beneficiary`: this ID number is registered"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/admin/beneficiaries")]
#[tracing::instrument(name = "create_beneficiary", skip_all)]
pub async fn create(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: Json<CreateBeneficiaryRequest>,
) -> ApiResult<HttpResponse> {
    require_registrar(&admin)?;
    let input = BeneficiaryInput::parse(body.0).map_err(ApiError::validation)?;
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    check_references(
        &mut conn,
        &admin,
        Some(&input.region),
        input.primary_beneficiary_id,
    )
    .await?;
    let new = input.to_new(&state.cipher)?;
    let duplicate = || {
        ApiError::conflict(
            "duplicate_beneficiary",
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
            let row = beneficiaries::insert(tx, &new).await.map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => duplicate(),
                other => other.into(),
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
            Ok::<_, ApiError>(row)
        })
        .await?;
    tracing::info!(beneficiary_id = %row.id, "beneficiary registered");
    Ok(HttpResponse::Created().json(BeneficiaryView::from(&row)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct BeneficiaryQuery {
    /// Part of the name.
    pub q: Option<String>,
    pub category: Option<String>,
    /// A region code; its subtree, within the caller's own.
    pub region: Option<String>,
    /// An exact ID number (matched through its keyed hash; never logged).
    pub id_number: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Beneficiaries in the caller's region subtree.
#[utoipa::path(tag = "beneficiaries", params(BeneficiaryQuery), security(("staff" = [])), responses(
    (status = 200, body = Paged<BeneficiaryView>, example = json!({"items": [
        {"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e72", "name": "王丽华", "id_number_masked": "4403**********3526",
            "phone_masked": "139****8826", "category": "military_family", "honors": [], "region_code": "440303",
            "primary_beneficiary_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e71", "relation": "配偶",
            "created_at": "2026-11-22T08:05:00Z", "updated_at": "2026-11-22T08:05:00Z"},
        {"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e71", "name": "刘建军", "id_number_masked": "1405**********0017",
            "phone_masked": "136****2468", "category": "active_duty", "honors": ["second_class_merit"],
            "region_code": "440303", "primary_beneficiary_id": null, "relation": null,
            "created_at": "2026-11-22T08:04:00Z", "updated_at": "2026-11-22T08:04:00Z"}],
        "total": 2, "page": 1, "per_page": 20})),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[get("/admin/beneficiaries")]
pub async fn list(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<BeneficiaryQuery>,
) -> ApiResult<web::Json<Paged<BeneficiaryView>>> {
    admin.require_role(&[Role::SuperAdmin, Role::RegionAdmin, Role::Auditor])?;
    let mut errors = Vec::new();
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .collect(&mut errors);
    let mut filter = BeneficiaryFilter::default();
    if let Some(pattern) = admin.region_like() {
        filter.region_likes.push(pattern);
    }
    filter.region_likes.extend(crate::routes::region_param(
        query.region.as_deref(),
        &mut errors,
    ));
    if let Some(category) = query.category.as_deref().filter(|c| !c.is_empty()) {
        match Category::parse_any(category) {
            Some(c) => filter.category = Some(c.as_str().to_owned()),
            None => errors.push(FieldError::new("category", "is not a beneficiary category")),
        }
    }
    if let Some(raw) = query.id_number.as_deref().filter(|v| !v.is_empty()) {
        match IdNumber::parse(raw) {
            Ok(id) => filter.id_number_hash = Some(state.cipher.lookup_hash(id.expose())),
            Err(m) => errors.push(FieldError::new("id_number", m)),
        }
    }
    filter.q = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_owned);
    let page = match page {
        Some(page) if errors.is_empty() => page,
        _ => return Err(ApiError::validation(errors)),
    };
    let mut pooled = state.db.get().await?;
    let (rows, total) =
        beneficiaries::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?;
    Ok(web::Json(page.wrap(
        rows.iter().map(BeneficiaryView::from).collect(),
        total,
    )))
}

/// One beneficiary; 404 outside the caller's region.
#[utoipa::path(tag = "beneficiaries", params(("id" = BeneficiaryId, Path)), security(("staff" = [])), responses(
    (status = 200, body = BeneficiaryView),
    (status = 404, body = crate::error::Problem, description = "`beneficiary_not_found`")))]
#[get("/admin/beneficiaries/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<BeneficiaryId>,
) -> ApiResult<web::Json<BeneficiaryView>> {
    admin.require_role(&[Role::SuperAdmin, Role::RegionAdmin, Role::Auditor])?;
    let mut pooled = state.db.get().await?;
    let row = load_scoped(&mut pooled.conn(), &admin, *id).await?;
    Ok(web::Json(BeneficiaryView::from(&row)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"phone": "13987654321", "honors": ["second_class_merit"]}))]
pub struct UpdateBeneficiaryRequest {
    pub name: Option<String>,
    /// An empty string removes the phone.
    pub phone: Option<String>,
    pub category: Option<String>,
    pub honors: Option<Vec<String>>,
    pub region_code: Option<String>,
    pub primary_beneficiary_id: Option<BeneficiaryId>,
    pub relation: Option<String>,
    /// Refused: an ID number identifies the person and is never changed.
    pub id_number: Option<serde_json::Value>,
}

/// Changes a beneficiary. The ID number cannot change. The cards' cached snapshots are
/// dropped after the commit, so the counter sees the change at once.
#[utoipa::path(tag = "beneficiaries", params(("id" = BeneficiaryId, Path)), request_body = UpdateBeneficiaryRequest,
    security(("staff" = [])), responses(
    (status = 200, body = BeneficiaryView),
    (status = 404, body = crate::error::Problem, description = "`beneficiary_not_found`"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[patch("/admin/beneficiaries/{id}")]
#[tracing::instrument(name = "update_beneficiary", skip_all)]
pub async fn update(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<BeneficiaryId>,
    body: Json<UpdateBeneficiaryRequest>,
) -> ApiResult<web::Json<BeneficiaryView>> {
    require_registrar(&admin)?;
    let req = body.0;
    let mut errors = Vec::new();
    if req.id_number.is_some() {
        errors.push(FieldError::new(
            "id_number",
            "cannot be changed; register the person anew",
        ));
    }
    let mut changes = BeneficiaryChanges::default();
    let mut changed: Vec<&str> = Vec::new();
    if req.name.is_some() {
        changes.name = text(&mut errors, "name", req.name.as_deref(), true, 50);
        changed.push("name");
    }
    let mut new_phone: Option<Option<Phone>> = None;
    if let Some(raw) = req.phone.as_deref() {
        if raw.trim().is_empty() {
            new_phone = Some(None);
        } else {
            match Phone::parse(raw) {
                Ok(p) => new_phone = Some(Some(p)),
                Err(m) => errors.push(FieldError::new("phone", m)),
            }
        }
        changed.push("phone");
    }
    let category = if req.category.is_some() {
        changed.push("category");
        parse_category(&mut errors, req.category.as_deref())
    } else {
        None
    };
    if let Some(honors) = &req.honors {
        match parse_honors(honors) {
            Ok(h) => {
                changes.honors = Some(db::merchants::join_capabilities(
                    &h.iter().map(|h| h.as_str()).collect::<Vec<_>>(),
                ))
            }
            Err(m) => errors.push(FieldError::new("honors", m)),
        }
        changed.push("honors");
    }
    let region = match req.region_code.as_deref() {
        Some(raw) => {
            changed.push("region_code");
            RegionCode::parse(raw)
                .map_err(|m| errors.push(FieldError::new("region_code", m)))
                .ok()
        }
        None => None,
    };
    if req.relation.is_some() {
        changes.relation = Some(text(
            &mut errors,
            "relation",
            req.relation.as_deref(),
            false,
            20,
        ));
        changed.push("relation");
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if changed.is_empty() && req.primary_beneficiary_id.is_none() {
        return Err(ApiError::invalid_field("body", "nothing to change"));
    }
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let current = load_scoped(&mut conn, &admin, *id).await?;
    let effective_category = category.or_else(|| Category::parse(&current.category));
    if req.primary_beneficiary_id.is_some() {
        if !effective_category.is_some_and(Category::is_family) {
            return Err(ApiError::invalid_field(
                "primary_beneficiary_id",
                "only family categories link to a primary beneficiary",
            ));
        }
        if req.primary_beneficiary_id == Some(current.id) {
            return Err(ApiError::invalid_field(
                "primary_beneficiary_id",
                "cannot be the beneficiary itself",
            ));
        }
        changes.primary_beneficiary_id = Some(req.primary_beneficiary_id);
        changed.push("primary_beneficiary_id");
    }
    check_references(
        &mut conn,
        &admin,
        region.as_ref(),
        req.primary_beneficiary_id,
    )
    .await?;
    changes.category = category.map(|c| c.as_str().to_owned());
    changes.region_code = region.map(|r| r.as_str().to_owned());
    if let Some(phone) = new_phone {
        changes.phone_enc = Some(
            phone
                .as_ref()
                .map(|p| state.cipher.encrypt(p.as_str()))
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
                    details: Some(serde_json::json!({"fields": changed})),
                    ..Default::default()
                },
            )
            .await?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    invalidate_cards_of(&state, &mut conn, row.id).await?;
    Ok(web::Json(BeneficiaryView::from(&row)))
}

/// Drops the cached snapshots of every card of a beneficiary (after a commit).
pub async fn invalidate_cards_of(
    state: &AppState,
    conn: &mut Conn<'_>,
    id: BeneficiaryId,
) -> ApiResult<()> {
    let filter = db::cards::CardFilter {
        beneficiary_id: Some(id),
        ..Default::default()
    };
    let (cards, _) = db::cards::list(conn, &filter, 0, 1000).await?;
    let keys: Vec<String> = cards.iter().map(|c| keys::card(&c.id)).collect();
    if let Err(error) = state.cache.invalidate(keys).await {
        tracing::warn!(%error, "cache invalidation failed; entries expire by their TTL");
    }
    Ok(())
}

/// Largest upload accepted by the import endpoint; larger files go through
/// `yongjun import beneficiaries FILE`, which streams.
pub const IMPORT_UPLOAD_LIMIT: usize = 32 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// `all_or_nothing` (default: one bad row stores nothing) or `partial`.
    pub mode: Option<String>,
}

/// The form of an import upload (documentation of the multipart body).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportUpload {
    /// A `.csv` (UTF-8, or GB18030 as Excel saves it) or `.xlsx` file. Header row, in
    /// English or Chinese: name/姓名, id_number/身份证号, phone/手机号, category/类别,
    /// honors/荣誉, region_code/行政区划, relation/关系, primary_id_number/军人身份证号.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `all_or_nothing` or `partial`; the query parameter works too.
    mode: Option<String>,
}

/// Imports beneficiaries from a CSV or XLSX file. Rows match existing people by ID
/// number; importing the same file twice changes nothing the second time.
#[utoipa::path(tag = "beneficiaries", params(ImportQuery),
    request_body(content = ImportUpload, content_type = "multipart/form-data",
        example = json!({"file": "(binary) 罗湖区优抚对象名录.xlsx", "mode": "partial"})),
    security(("staff" = [])), responses(
    (status = 200, body = crate::import::ImportReport, description = "what was (or, with all_or_nothing and a bad row, was not) stored"),
    (status = 413, body = crate::error::Problem, description = "`payload_too_large`"),
    (status = 422, body = crate::error::Problem, description = "`missing_columns`, `unreadable_file`, `validation_failed`")))]
#[post("/admin/beneficiaries/import")]
#[tracing::instrument(name = "import_beneficiaries", skip_all)]
pub async fn import(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<ImportQuery>,
    mut form: actix_multipart::Multipart,
) -> ApiResult<web::Json<crate::import::ImportReport>> {
    use futures_util::StreamExt;
    require_registrar(&admin)?;
    let mut file: Option<(Option<String>, Vec<u8>)> = None;
    let mut mode_field: Option<String> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| {
            ApiError::bad_request("invalid_multipart", format!("unreadable form: {e}"))
        })?;
        let name = field.name().map(str::to_owned);
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::bad_request("invalid_multipart", format!("unreadable form: {e}"))
            })?;
            if bytes.len() + chunk.len() > IMPORT_UPLOAD_LIMIT {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the file is larger than 32 MiB; use `yongjun import beneficiaries FILE`",
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_deref() {
            Some("file") => file = Some((filename, bytes)),
            Some("mode") => mode_field = Some(String::from_utf8_lossy(&bytes).into_owned()),
            _ => {}
        }
    }
    let mode_raw = query.mode.clone().or(mode_field);
    let mode = match mode_raw.as_deref() {
        None | Some("") => crate::import::Mode::AllOrNothing,
        Some(raw) => crate::import::Mode::parse(raw)
            .ok_or_else(|| ApiError::invalid_field("mode", "must be all_or_nothing or partial"))?,
    };
    let (filename, bytes) =
        file.ok_or_else(|| ApiError::invalid_field("file", "is required (a .csv or .xlsx file)"))?;
    let kind = crate::import::FileKind::detect(filename.as_deref(), &bytes);
    let (header, batches) =
        crate::import::start_reader(kind, crate::import::ReaderSource::Bytes(bytes)).await?;
    let importer = crate::import::Importer {
        cipher: &state.cipher,
        cache: &state.cache,
        actor: admin.actor(),
        scope: match (admin.role, &admin.region) {
            (Role::SuperAdmin, _) => None,
            (_, Some(region)) => Some(region.clone()),
            (_, None) => {
                return Err(ApiError::forbidden(
                    "forbidden",
                    "your account has no region",
                ))
            }
        },
        mode,
    };
    let report = importer.run(&state.db, &header, batches, |_| {}).await?;
    tracing::info!(
        rows = report.rows,
        created = report.created,
        updated = report.updated,
        failed = report.failed_count,
        stored = report.stored,
        "beneficiary import finished"
    );
    Ok(web::Json(report))
}
