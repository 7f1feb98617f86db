//! The beneficiary registry (优抚对象名录): protected personal data, scoped by region.
//! The use cases are `app::beneficiaries` and `app::import`.

use actix_web::{
    get, patch, post,
    web::{self, Path, Query},
    HttpResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::beneficiaries::{
    self, parse_category, BeneficiaryInput, BeneficiaryUpdate, CreateBeneficiaryRequest,
    RegistryQuery,
};
use crate::app::identity::AdminUser;
use crate::app::import::{self as importer, ImportReport, Mode};
use crate::db::beneficiaries::BeneficiaryRow;
use crate::db::BeneficiaryId;
use crate::domain::beneficiary::parse_honors;
use crate::domain::id_number::IdNumber;
use crate::domain::{Phone, RegionCode};
use crate::error::{AppError, AppResult, Code};
use crate::http::{utc, Json, Paged, Reply, State};
use crate::validate::Fields;

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

/// Registers a beneficiary. The ID number is validated by its check character, stored
/// encrypted with a keyed hash for look-up, and never shown again unmasked.
#[utoipa::path(operation_id = "create_beneficiary", tag = "beneficiaries", request_body = CreateBeneficiaryRequest, security(("staff" = [])), responses(
    (status = 201, body = BeneficiaryView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `region_out_of_scope`"),
    (status = 409, body = crate::error::Problem, description = "`duplicate_beneficiary`: this ID number is registered")))]
#[post("/admin/beneficiaries")]
#[tracing::instrument(name = "create_beneficiary", skip_all)]
pub async fn create(
    state: State,
    admin: AdminUser,
    body: Json<CreateBeneficiaryRequest>,
) -> AppResult<HttpResponse> {
    let input = BeneficiaryInput::parse(&body).map_err(AppError::validation)?;
    let row = beneficiaries::create(&state.db, &state.keys.cipher, &admin, input).await?;
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
#[utoipa::path(operation_id = "list_beneficiaries", tag = "beneficiaries", params(BeneficiaryQuery), security(("staff" = [])), responses(
    (status = 200, body = Paged<BeneficiaryView>, example = json!({"items": [
        {"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e72", "name": "王丽华", "id_number_masked": "4403**********3526",
            "phone_masked": "139****8826", "category": "military_family", "honors": [], "region_code": "440303",
            "primary_beneficiary_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e71", "relation": "配偶",
            "created_at": "2026-11-22T08:05:00Z", "updated_at": "2026-11-22T08:05:00Z"},
        {"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e71", "name": "刘建军", "id_number_masked": "1405**********0017",
            "phone_masked": "136****2468", "category": "active_duty", "honors": ["second_class_merit"],
            "region_code": "440303", "primary_beneficiary_id": null, "relation": null,
            "created_at": "2026-11-22T08:04:00Z", "updated_at": "2026-11-22T08:04:00Z"}],
        "total": 2, "page": 1, "per_page": 20}))))]
#[get("/admin/beneficiaries")]
pub async fn list(
    state: State,
    admin: AdminUser,
    query: Query<BeneficiaryQuery>,
) -> Reply<Paged<BeneficiaryView>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let region = f.region("region", query.region.as_deref());
    let category = f.optional_str("category", query.category.as_deref(), parse_category);
    let id_number = f.optional_str("id_number", query.id_number.as_deref(), IdNumber::parse);
    let (page, region, category, id_number) = f.finish((page, region, category, id_number))?;
    let registry = RegistryQuery {
        q: query
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned),
        category,
        region,
        id_number,
    };
    let listed = beneficiaries::list(&state.db, &state.keys.cipher, &admin, registry, page).await?;
    Ok(web::Json(Paged::of(page, listed, |row| {
        BeneficiaryView::from(&row)
    })))
}

/// One beneficiary; 404 outside the caller's region.
#[utoipa::path(operation_id = "get_beneficiary", tag = "beneficiaries", params(("id" = BeneficiaryId, Path)), security(("staff" = [])), responses(
    (status = 200, body = BeneficiaryView),
    (status = 404, body = crate::error::Problem, description = "`beneficiary_not_found`")))]
#[get("/admin/beneficiaries/{id}")]
pub async fn get(
    state: State,
    admin: AdminUser,
    id: Path<BeneficiaryId>,
) -> Reply<BeneficiaryView> {
    let row = beneficiaries::get(&state.db, &admin, *id).await?;
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

impl UpdateBeneficiaryRequest {
    /// The changes asked for, every bad field reported at once.
    fn parse(&self) -> AppResult<BeneficiaryUpdate> {
        let mut f = Fields::new();
        let mut fields = Vec::new();
        if self.id_number.is_some() {
            f.error("id_number", "cannot be changed; register the person anew");
        }
        let name = match self.name.as_deref() {
            None => Some(None),
            Some(raw) => f.text("name", Some(raw), 50).map(Some),
        };
        if self.name.is_some() {
            fields.push("name");
        }
        let phone = f.optional("phone", self.phone.as_deref(), |raw| {
            if raw.trim().is_empty() {
                Ok(None)
            } else {
                Phone::parse(raw).map(Some)
            }
        });
        if self.phone.is_some() {
            fields.push("phone");
        }
        let category = f.optional("category", self.category.as_deref(), parse_category);
        if self.category.is_some() {
            fields.push("category");
        }
        let honors = f.optional("honors", self.honors.as_deref(), parse_honors);
        if self.honors.is_some() {
            fields.push("honors");
        }
        let region = f.optional(
            "region_code",
            self.region_code.as_deref(),
            RegionCode::parse,
        );
        if self.region_code.is_some() {
            fields.push("region_code");
        }
        let relation = match self.relation.as_deref() {
            None => Some(None),
            Some(raw) => f.optional_text("relation", Some(raw), 20).map(Some),
        };
        if self.relation.is_some() {
            fields.push("relation");
        }
        let (name, phone, category, honors, region, relation) =
            f.finish((name, phone, category, honors, region, relation))?;
        Ok(BeneficiaryUpdate {
            name,
            phone,
            category,
            honors,
            region,
            primary_beneficiary_id: self.primary_beneficiary_id,
            relation,
            fields,
        })
    }
}

/// Changes a beneficiary. The ID number cannot change. The cards' cached snapshots are
/// dropped after the commit, so the counter sees the change at once.
#[utoipa::path(operation_id = "update_beneficiary", tag = "beneficiaries", params(("id" = BeneficiaryId, Path)), request_body = UpdateBeneficiaryRequest,
    security(("staff" = [])), responses(
    (status = 200, body = BeneficiaryView),
    (status = 404, body = crate::error::Problem, description = "`beneficiary_not_found`")))]
#[patch("/admin/beneficiaries/{id}")]
#[tracing::instrument(name = "update_beneficiary", skip_all)]
pub async fn update(
    state: State,
    admin: AdminUser,
    id: Path<BeneficiaryId>,
    body: Json<UpdateBeneficiaryRequest>,
) -> Reply<BeneficiaryView> {
    let change = body.parse()?;
    let row = beneficiaries::update(
        &state.db,
        &state.cache,
        &state.keys.cipher,
        &admin,
        *id,
        change,
    )
    .await?;
    Ok(web::Json(BeneficiaryView::from(&row)))
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
#[utoipa::path(operation_id = "import_beneficiaries", tag = "beneficiaries", params(ImportQuery),
    request_body(content = ImportUpload, content_type = "multipart/form-data",
        example = json!({"file": "(binary) 罗湖区优抚对象名录.xlsx", "mode": "partial"})),
    security(("staff" = [])), responses(
    (status = 200, body = ImportReport, description = "what was (or, with all_or_nothing and a bad row, was not) stored"),
    (status = 413, body = crate::error::Problem, description = "`payload_too_large`"),
    (status = 422, body = crate::error::Problem, description = "`missing_columns`, `unreadable_file`, `validation_failed`")))]
#[post("/admin/beneficiaries/import")]
#[tracing::instrument(name = "import_beneficiaries", skip_all)]
pub async fn import(
    state: State,
    admin: AdminUser,
    query: Query<ImportQuery>,
    mut form: actix_multipart::Multipart,
) -> Reply<ImportReport> {
    use futures_util::StreamExt;
    let unreadable = |e: actix_multipart::MultipartError| {
        AppError::bad_request(Code::InvalidMultipart, format!("unreadable form: {e}"))
    };
    let mut file: Option<(Option<String>, Vec<u8>)> = None;
    let mut mode_field: Option<String> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(unreadable)?;
        let name = field.name().map(str::to_owned);
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(unreadable)?;
            if bytes.len() + chunk.len() > IMPORT_UPLOAD_LIMIT {
                return Err(AppError::payload_too_large(
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
        None | Some("") => Mode::AllOrNothing,
        Some(raw) => Mode::parse(raw)
            .ok_or_else(|| AppError::invalid_field("mode", "must be all_or_nothing or partial"))?,
    };
    let (filename, bytes) =
        file.ok_or_else(|| AppError::invalid_field("file", "is required (a .csv or .xlsx file)"))?;
    let report = importer::import_upload(
        &state.db,
        &state.cache,
        &state.keys.cipher,
        &admin,
        mode,
        filename.as_deref(),
        bytes,
    )
    .await?;
    Ok(web::Json(report))
}
