//! The public side of the partner directory (社会拥军名录): applications, the directory,
//! public notices (社会公示) and objections (异议).

use actix_web::{
    get, post,
    web::{self, Path, Query},
    HttpResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::merchants::directory::{
    self as public, Application, DirectoryQuery, Objection, PublicMerchant,
};
use crate::db::{MerchantId, ObjectionId};
use crate::domain::merchant::{
    EmergencyCapability, MerchantCategory, MerchantKind, MerchantStatus,
};
use crate::domain::{CreditCode, Phone, RegionCode};
use crate::error::AppResult;
use crate::http::{utc, Json, Paged, Reply, State};
use crate::validate::Fields;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "深圳市罗湖区拥军大药房", "kind": "enterprise", "credit_code": "91440300MA5FXXXXXX",
    "legal_representative": "王建国", "contact_name": "李明", "contact_phone": "13812345678",
    "address": "深圳市罗湖区人民南路1号", "region_code": "440303", "category": "pharmacy",
    "latitude": 22.5431, "longitude": 114.1182,
    "services": "现役军人、退役军人购药九折", "measures": "设拥军优先窗口", "commitments": "明码标价，优先服务",
    "emergency_capabilities": ["medical", "supplies"]}))]
pub struct ApplicationRequest {
    pub name: Option<String>,
    /// `enterprise`, `social_org`, `individual_business` or `volunteer_team`.
    pub kind: Option<String>,
    /// 统一社会信用代码, 18 characters with its check character; volunteer teams may omit it.
    pub credit_code: Option<String>,
    pub legal_representative: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    /// A GB/T 2260 code: a county's or a city's, or a province's for a provincial
    /// partner (a provincial telecom branch).
    pub region_code: Option<String>,
    pub category: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// 拥军内容: what the merchant offers the military community.
    pub services: Option<String>,
    /// 具体措施.
    pub measures: Option<String>,
    /// 服务承诺.
    pub commitments: Option<String>,
    /// Any of transport, logistics, medical, telecom, radio_spectrum, technology, supplies.
    #[serde(default)]
    pub emergency_capabilities: Vec<String>,
    /// What it commits in an emergency (急时战时), in its own words.
    pub emergency_commitment: Option<String>,
}

fn coordinate(f: &mut Fields, field: &str, value: Option<f64>, bound: f64) -> Option<f64> {
    f.required(field, value, |v| {
        if v.is_finite() && v.abs() <= bound {
            Ok(v)
        } else {
            Err(format!("must be between -{bound} and {bound}"))
        }
    })
}

impl ApplicationRequest {
    /// The application, every bad field reported at once.
    fn parse(&self) -> AppResult<Application> {
        let mut f = Fields::new();
        let name = f.text("name", self.name.as_deref(), 100);
        let kind = f.vocab::<MerchantKind>("kind", self.kind.as_deref());
        let credit_code = match (
            f.optional_str(
                "credit_code",
                self.credit_code.as_deref(),
                CreditCode::parse,
            ),
            kind,
        ) {
            (Some(None), Some(kind)) if kind != MerchantKind::VolunteerTeam => {
                f.error("credit_code", "is required (volunteer teams may omit it)");
                None
            }
            (code, _) => code,
        };
        let legal_required = kind != Some(MerchantKind::VolunteerTeam);
        let legal_representative = if legal_required {
            f.text(
                "legal_representative",
                self.legal_representative.as_deref(),
                50,
            )
            .map(Some)
        } else {
            f.optional_text(
                "legal_representative",
                self.legal_representative.as_deref(),
                50,
            )
        };
        let contact_name = f.text("contact_name", self.contact_name.as_deref(), 50);
        let contact_phone =
            f.required("contact_phone", self.contact_phone.as_deref(), Phone::parse);
        let address = f.text("address", self.address.as_deref(), 200);
        let region = f.required(
            "region_code",
            self.region_code.as_deref(),
            RegionCode::parse,
        );
        let category = f.vocab::<MerchantCategory>("category", self.category.as_deref());
        let latitude = coordinate(&mut f, "latitude", self.latitude, 90.0);
        let longitude = coordinate(&mut f, "longitude", self.longitude, 180.0);
        let services = f.free_text("services", self.services.as_deref(), 2000);
        let measures = f.optional_free_text("measures", self.measures.as_deref(), 2000);
        let commitments = f.optional_free_text("commitments", self.commitments.as_deref(), 2000);
        let capabilities = f.vocab_list::<EmergencyCapability, _>(
            "emergency_capabilities",
            &self.emergency_capabilities,
        );
        let emergency_commitment = f.optional_free_text(
            "emergency_commitment",
            self.emergency_commitment.as_deref(),
            2000,
        );
        f.build(|| {
            Some(Application {
                name: name?,
                kind: kind?,
                credit_code: credit_code?,
                legal_representative: legal_representative?,
                contact_name: contact_name?,
                contact_phone: contact_phone?,
                address: address?,
                region: region?,
                category: category?,
                latitude: latitude?,
                longitude: longitude?,
                services: services?,
                measures: measures?.unwrap_or_default(),
                commitments: commitments?.unwrap_or_default(),
                capabilities: capabilities?,
                emergency_commitment: emergency_commitment?.unwrap_or_default(),
            })
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "status": "pending"}))]
pub struct ApplicationCreated {
    pub id: MerchantId,
    pub status: MerchantStatus,
}

/// Applies to join the directory. Anyone may apply; each bad field is listed.
#[utoipa::path(operation_id = "apply_for_admission", tag = "directory", request_body = ApplicationRequest, responses(
    (status = 201, body = ApplicationCreated),
    (status = 409, body = crate::error::Problem, description = "`duplicate_credit_code`: a live merchant holds this credit code")))]
#[post("/merchant-applications")]
#[tracing::instrument(name = "apply", skip_all)]
pub async fn apply(state: State, body: Json<ApplicationRequest>) -> AppResult<HttpResponse> {
    let application = body.parse()?;
    let id = public::apply(&state.db, application).await?;
    Ok(HttpResponse::Created().json(ApplicationCreated {
        id,
        status: MerchantStatus::Pending,
    }))
}

/// The public directory (社会拥军名录): active partners only.
#[utoipa::path(operation_id = "list_merchants", tag = "directory", params(DirectoryQuery), responses(
    (status = 200, body = Paged<PublicMerchant>, example = json!({"items": [
        {"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "深圳市罗湖区拥军大药房", "kind": "enterprise",
            "category": "pharmacy", "region_code": "440303", "address": "深圳市罗湖区人民南路1号", "latitude": 22.5431,
            "longitude": 114.1182, "services": "现役军人、退役军人购药九折", "measures": "设拥军优先窗口",
            "commitments": "明码标价，优先服务", "emergency_capabilities": ["medical", "supplies"],
            "emergency_commitment": "急时战时无偿提供常用药品", "badge_no": "YJ-440303-2026-00001", "distance_km": 1.284},
        {"id": "0193a8f6-3d4e-7f5a-8b6c-7d8e9f0a1b04", "name": "深圳市罗湖区拥军饭店", "kind": "enterprise",
            "category": "dining", "region_code": "440303", "address": "深圳市罗湖区东门中路1011号", "latitude": 22.5480,
            "longitude": 114.1236, "services": "军人及家属就餐立减", "measures": "设军人优先座位",
            "commitments": "不降低菜品分量与质量", "emergency_capabilities": ["supplies"],
            "emergency_commitment": "", "badge_no": "YJ-440303-2026-00003", "distance_km": 2.051}],
        "total": 2, "page": 1, "per_page": 20}))))]
#[get("/merchants")]
pub async fn directory(state: State, query: Query<DirectoryQuery>) -> Reply<Paged<PublicMerchant>> {
    let (listed, page) = public::directory(&state.db, &query).await?;
    Ok(web::Json(Paged::of(page, listed, |m| m)))
}

/// One active partner.
#[utoipa::path(tag = "directory", params(("id" = MerchantId, Path)), responses(
    (status = 200, body = PublicMerchant),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found`: unknown or not active")))]
#[get("/merchants/{id}")]
pub async fn get_merchant(state: State, id: Path<MerchantId>) -> Reply<PublicMerchant> {
    Ok(web::Json(
        public::public_merchant(&state.db, &state.cache, *id).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f6-3d4e-7f5a-8b6c-7d8e9f0a1b02", "name": "深圳市罗湖区拥军便民超市",
    "kind": "individual_business", "credit_code": "92440303MA5H8R2L4K", "category": "retail", "region_code": "440303",
    "address": "深圳市罗湖区翠竹路2018号", "services": "军人及家属购物满100元减10元", "measures": "设拥军专柜",
    "commitments": "让利不涨价", "emergency_capabilities": ["supplies"], "notice_ends_at": "2026-12-08T02:00:00Z"}))]
pub struct PublicNotice {
    pub id: MerchantId,
    pub name: String,
    pub kind: String,
    /// Public registration data of the organisation, not personal data.
    pub credit_code: Option<String>,
    pub category: String,
    pub region_code: String,
    pub address: String,
    pub services: String,
    pub measures: String,
    pub commitments: String,
    pub emergency_capabilities: Vec<String>,
    /// Objections are accepted until then.
    pub notice_ends_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NoticeQuery {
    /// Only this region's subtree.
    pub region: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Merchants now in public notice (社会公示), with what the public needs to judge them.
#[utoipa::path(tag = "directory", params(NoticeQuery), responses((status = 200, body = Paged<PublicNotice>,
    example = json!({"items": [
        {"id": "0193a8f6-3d4e-7f5a-8b6c-7d8e9f0a1b02", "name": "深圳市罗湖区拥军便民超市", "kind": "individual_business",
            "credit_code": "92440303MA5H8R2L4K", "category": "retail", "region_code": "440303",
            "address": "深圳市罗湖区翠竹路2018号", "services": "军人及家属购物满100元减10元", "measures": "设拥军专柜",
            "commitments": "让利不涨价", "emergency_capabilities": ["supplies"], "notice_ends_at": "2026-12-08T02:00:00Z"}],
        "total": 1, "page": 1, "per_page": 20}))))]
#[get("/public-notices")]
pub async fn public_notices(state: State, query: Query<NoticeQuery>) -> Reply<Paged<PublicNotice>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let region = f.region("region", query.region.as_deref());
    let (page, region) = f.finish((page, region))?;
    let listed = public::public_notices(&state.db, region, page).await?;
    Ok(web::Json(Paged::of(page, listed, |row| PublicNotice {
        emergency_capabilities: row.capability_names(),
        id: row.id,
        name: row.name,
        kind: row.kind,
        credit_code: row.credit_code,
        category: row.category,
        region_code: row.region_code,
        address: row.address,
        services: row.services,
        measures: row.measures,
        commitments: row.commitments,
        notice_ends_at: row.notice_ends_at.map(utc),
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"content": "该商户曾拒绝为退役军人提供承诺的优惠。", "contact_phone": "13912345678"}))]
pub struct ObjectionRequest {
    pub content: Option<String>,
    /// Optional, so the office can ask for details; never shown unmasked.
    pub contact_phone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f8-6a7b-7c8d-9e0f-1a2b3c4d5e01", "status": "open"}))]
pub struct ObjectionCreated {
    pub id: ObjectionId,
    #[schema(example = "open")]
    pub status: &'static str,
}

/// Files a public objection (异议) while the merchant is in public notice.
#[utoipa::path(tag = "directory", params(("id" = MerchantId, Path)), request_body = ObjectionRequest, responses(
    (status = 201, body = ObjectionCreated),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`not_in_public_notice`")))]
#[post("/merchants/{id}/objections")]
#[tracing::instrument(name = "file_objection", skip_all)]
pub async fn file_objection(
    state: State,
    id: Path<MerchantId>,
    body: Json<ObjectionRequest>,
) -> AppResult<HttpResponse> {
    let mut f = Fields::new();
    let content = f.free_text("content", body.content.as_deref(), 2000);
    if content.as_ref().is_some_and(|c| c.chars().count() < 5) {
        f.error("content", "must be at least 5 characters");
    }
    let phone = f.optional_str("contact_phone", body.contact_phone.as_deref(), Phone::parse);
    let (content, contact_phone) = f.finish((content, phone))?;
    let objection = Objection {
        content,
        contact_phone,
    };
    let id = public::file_objection(&state.db, *id, objection).await?;
    Ok(HttpResponse::Created().json(ObjectionCreated { id, status: "open" }))
}
