//! The public side of the partner directory (社会拥军名录): applications, the directory,
//! public notices (社会公示) and objections (异议).

use std::time::Duration;

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::cache::keys;
use crate::db::audit::{self, Actor, AuditEntry};
use crate::db::merchants::{self, MerchantFilter, MerchantRow, NewMerchant, ObjectionRow};
use crate::db::{self, MerchantId, ObjectionId};
use crate::domain::merchant::{
    EmergencyCapability, MerchantCategory, MerchantKind, MerchantStatus,
};
use crate::domain::region::RegionLevel;
use crate::domain::{china_today, CreditCode, Phone, RegionCode};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Json;
use crate::routes::{utc, Page, PageQuery, Paged};
use crate::startup::AppState;

/// How long a merchant snapshot may live in the cache; changes delete it at once, the
/// TTL only bounds staleness should a deletion be lost while Redis is away.
const SNAPSHOT_TTL: Duration = Duration::from_secs(60);

// ---------- the application ----------

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
    /// A city- or county-level GB/T 2260 code.
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
}

/// An application, checked field by field.
struct Application {
    name: String,
    kind: MerchantKind,
    credit_code: Option<CreditCode>,
    legal_representative: Option<String>,
    contact_name: String,
    contact_phone: Phone,
    address: String,
    region: RegionCode,
    category: MerchantCategory,
    latitude: f64,
    longitude: f64,
    services: String,
    measures: String,
    commitments: String,
    capabilities: Vec<EmergencyCapability>,
}

/// Trims `value` and checks its length in characters.
pub fn text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    required: bool,
    max: usize,
) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    match value {
        None if required => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
        None => None,
        Some(v) if v.chars().count() > max => {
            errors.push(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
            None
        }
        Some(v) => Some(v.to_owned()),
    }
}

pub fn vocabulary<T>(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &[&str],
) -> Option<T> {
    match value {
        None => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
        Some(raw) => {
            let parsed = parse(raw.trim());
            if parsed.is_none() {
                errors.push(FieldError::new(
                    field,
                    format!("must be one of {}", allowed.join(", ")),
                ));
            }
            parsed
        }
    }
}

fn names<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| as_str(*v)).collect()
}

impl Application {
    fn parse(req: ApplicationRequest) -> Result<Application, Vec<FieldError>> {
        let mut errors = Vec::new();
        let e = &mut errors;
        let name = text(e, "name", req.name.as_deref(), true, 100);
        let kind = vocabulary(
            e,
            "kind",
            req.kind.as_deref(),
            MerchantKind::parse,
            &names(&MerchantKind::ALL, MerchantKind::as_str),
        );
        let credit_code = match (
            req.credit_code
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty()),
            kind,
        ) {
            (Some(raw), _) => CreditCode::parse(raw)
                .map_err(|m| e.push(FieldError::new("credit_code", m)))
                .ok(),
            (None, Some(MerchantKind::VolunteerTeam)) | (None, None) => None,
            (None, Some(_)) => {
                e.push(FieldError::new(
                    "credit_code",
                    "is required (volunteer teams may omit it)",
                ));
                None
            }
        };
        let legal_required = !matches!(kind, Some(MerchantKind::VolunteerTeam));
        let legal_representative = text(
            e,
            "legal_representative",
            req.legal_representative.as_deref(),
            legal_required,
            50,
        );
        let contact_name = text(e, "contact_name", req.contact_name.as_deref(), true, 50);
        let contact_phone = match req.contact_phone.as_deref() {
            None => {
                e.push(FieldError::new("contact_phone", "is required"));
                None
            }
            Some(raw) => Phone::parse(raw)
                .map_err(|m| e.push(FieldError::new("contact_phone", m)))
                .ok(),
        };
        let address = text(e, "address", req.address.as_deref(), true, 200);
        let region = match req.region_code.as_deref() {
            None => {
                e.push(FieldError::new("region_code", "is required"));
                None
            }
            Some(raw) => match RegionCode::parse(raw) {
                Ok(code) if code.level() == RegionLevel::Province => {
                    e.push(FieldError::new(
                        "region_code",
                        "must be a city- or county-level region",
                    ));
                    None
                }
                Ok(code) => Some(code),
                Err(m) => {
                    e.push(FieldError::new("region_code", m));
                    None
                }
            },
        };
        let category = vocabulary(
            e,
            "category",
            req.category.as_deref(),
            MerchantCategory::parse,
            &names(&MerchantCategory::ALL, MerchantCategory::as_str),
        );
        let latitude = coordinate(e, "latitude", req.latitude, 90.0);
        let longitude = coordinate(e, "longitude", req.longitude, 180.0);
        let services = text(e, "services", req.services.as_deref(), true, 2000);
        let measures =
            text(e, "measures", req.measures.as_deref(), false, 2000).unwrap_or_default();
        let commitments =
            text(e, "commitments", req.commitments.as_deref(), false, 2000).unwrap_or_default();
        let mut capabilities = Vec::new();
        for (i, raw) in req.emergency_capabilities.iter().enumerate() {
            match EmergencyCapability::parse(raw.trim()) {
                Some(c) if !capabilities.contains(&c) => capabilities.push(c),
                Some(_) => {}
                None => e.push(FieldError::new(
                    format!("emergency_capabilities[{i}]"),
                    format!(
                        "must be one of {}",
                        names(&EmergencyCapability::ALL, EmergencyCapability::as_str).join(", ")
                    ),
                )),
            }
        }
        match (
            name,
            kind,
            contact_name,
            contact_phone,
            address,
            region,
            category,
            latitude,
            longitude,
            services,
        ) {
            (
                Some(name),
                Some(kind),
                Some(contact_name),
                Some(contact_phone),
                Some(address),
                Some(region),
                Some(category),
                Some(latitude),
                Some(longitude),
                Some(services),
            ) if errors.is_empty() => Ok(Application {
                name,
                kind,
                credit_code,
                legal_representative,
                contact_name,
                contact_phone,
                address,
                region,
                category,
                latitude,
                longitude,
                services,
                measures,
                commitments,
                capabilities,
            }),
            _ => Err(errors),
        }
    }
}

fn coordinate(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<f64>,
    bound: f64,
) -> Option<f64> {
    match value {
        None => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
        Some(v) if !v.is_finite() || v.abs() > bound => {
            errors.push(FieldError::new(
                field,
                format!("must be between -{bound} and {bound}"),
            ));
            None
        }
        Some(v) => Some(v),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "status": "pending"}))]
pub struct ApplicationCreated {
    pub id: MerchantId,
    pub status: MerchantStatus,
}

/// Applies to join the directory. Anyone may apply; each bad field is listed.
#[utoipa::path(tag = "directory", request_body = ApplicationRequest, responses(
    (status = 201, body = ApplicationCreated),
    (status = 409, body = crate::error::Problem, description = "`duplicate_credit_code`: a live merchant holds this credit code"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/merchant-applications")]
#[tracing::instrument(name = "apply", skip_all)]
pub async fn apply(
    state: web::Data<AppState>,
    body: Json<ApplicationRequest>,
) -> ApiResult<HttpResponse> {
    let app = Application::parse(body.0).map_err(ApiError::validation)?;
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    if db::regions::find(&mut conn, app.region.as_str())
        .await?
        .is_none()
    {
        return Err(ApiError::invalid_field(
            "region_code",
            "no region has this code",
        ));
    }
    let duplicate = || {
        ApiError::conflict(
            "duplicate_credit_code",
            "a merchant with this credit code is already registered or under review",
        )
    };
    if let Some(code) = &app.credit_code {
        if merchants::credit_code_taken(&mut conn, code.as_str()).await? {
            return Err(duplicate());
        }
    }
    let now = db::now();
    let capabilities: Vec<&str> = app.capabilities.iter().map(|c| c.as_str()).collect();
    let capabilities = merchants::join_capabilities(&capabilities);
    let id = MerchantId::new();
    let new = NewMerchant {
        id,
        name: &app.name,
        kind: app.kind.as_str(),
        credit_code: app.credit_code.as_ref().map(CreditCode::as_str),
        legal_representative: app.legal_representative.as_deref(),
        contact_name: &app.contact_name,
        contact_phone: app.contact_phone.as_str(),
        address: &app.address,
        region_code: app.region.as_str(),
        category: app.category.as_str(),
        latitude: app.latitude,
        longitude: app.longitude,
        services: &app.services,
        measures: &app.measures,
        commitments: &app.commitments,
        emergency_capabilities: &capabilities,
        status: MerchantStatus::Pending.as_str(),
        created_at: now,
        updated_at: now,
    };
    conn.transaction(async |tx| {
        merchants::insert(tx, &new).await.map_err(|e| match e {
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => duplicate(),
            other => other.into(),
        })?;
        audit::record(
            tx,
            &Actor::public(),
            AuditEntry {
                action: "merchant.apply",
                entity_type: "merchant",
                entity_id: id.to_string(),
                region_code: Some(app.region.as_str()),
                after_status: Some(MerchantStatus::Pending.as_str()),
                details: Some(serde_json::json!({"name": app.name, "kind": app.kind, "category": app.category})),
                ..Default::default()
            },
        )
        .await?;
        Ok::<_, ApiError>(())
    })
    .await?;
    tracing::info!(merchant_id = %id, "merchant application received");
    Ok(HttpResponse::Created().json(ApplicationCreated {
        id,
        status: MerchantStatus::Pending,
    }))
}

// ---------- the directory ----------

/// A merchant as the public sees it: no person's phone, no legal representative.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "深圳市罗湖区拥军大药房",
    "kind": "enterprise", "category": "pharmacy", "region_code": "440303", "address": "深圳市罗湖区人民南路1号",
    "latitude": 22.5431, "longitude": 114.1182, "services": "现役军人、退役军人购药九折",
    "measures": "设拥军优先窗口", "commitments": "明码标价，优先服务",
    "emergency_capabilities": ["medical", "supplies"], "badge_no": "YJ-440303-2026-00001", "distance_km": 1.284}))]
pub struct PublicMerchant {
    pub id: MerchantId,
    pub name: String,
    pub kind: String,
    pub category: String,
    pub region_code: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub services: String,
    pub measures: String,
    pub commitments: String,
    pub emergency_capabilities: Vec<String>,
    pub badge_no: Option<String>,
    /// Distance from `near`, when the search gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

impl From<&MerchantRow> for PublicMerchant {
    fn from(row: &MerchantRow) -> PublicMerchant {
        PublicMerchant {
            id: row.id,
            name: row.name.clone(),
            kind: row.kind.clone(),
            category: row.category.clone(),
            region_code: row.region_code.clone(),
            address: row.address.clone(),
            latitude: row.latitude,
            longitude: row.longitude,
            services: row.services.clone(),
            measures: row.measures.clone(),
            commitments: row.commitments.clone(),
            emergency_capabilities: row.capabilities(),
            badge_no: row.badge_no.clone(),
            distance_km: None,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DirectoryQuery {
    /// Words in the name, address or services.
    pub q: Option<String>,
    pub category: Option<String>,
    /// A region code; its whole subtree matches (440000 finds 440303).
    pub region: Option<String>,
    /// `lat,lng`: sort by distance from here, within `radius_km`.
    pub near: Option<String>,
    /// Search radius around `near`, 0.1 to 200 km. Default 10.
    pub radius_km: Option<f64>,
    pub emergency_capability: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Parses `lat,lng`.
pub fn parse_near(raw: &str) -> Result<(f64, f64), FieldError> {
    let bad = || {
        FieldError::new(
            "near",
            "must be `lat,lng` in degrees, e.g. 22.5431,114.0579",
        )
    };
    let (lat, lng) = raw.split_once(',').ok_or_else(bad)?;
    let lat: f64 = lat.trim().parse().map_err(|_| bad())?;
    let lng: f64 = lng.trim().parse().map_err(|_| bad())?;
    if !lat.is_finite() || !lng.is_finite() || lat.abs() > 90.0 || lng.abs() > 180.0 {
        return Err(bad());
    }
    Ok((lat, lng))
}

/// Great-circle distance in kilometres.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0088;
    let (lat1, lng1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lng2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lng2 - lng1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

/// The latitude/longitude box around `center` that holds every point within `radius_km`.
pub fn bounding_box(center: (f64, f64), radius_km: f64) -> (f64, f64, f64, f64) {
    let dlat = radius_km / 111.0;
    let cos = center.0.to_radians().cos().max(0.01);
    let dlng = (radius_km / (111.0 * cos)).min(180.0);
    (
        center.0 - dlat,
        center.0 + dlat,
        center.1 - dlng,
        center.1 + dlng,
    )
}

pub(crate) struct DirectorySearch {
    pub filter: MerchantFilter,
    pub near: Option<((f64, f64), f64)>,
    pub page: Page,
}

pub(crate) async fn parse_directory_query(
    conn: &mut db::Conn<'_>,
    query: &DirectoryQuery,
) -> ApiResult<DirectorySearch> {
    let mut errors = Vec::new();
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .collect(&mut errors);
    let mut filter = MerchantFilter {
        status: Some(MerchantStatus::Active),
        today: Some(china_today()),
        ..Default::default()
    };
    if let Some(category) = query.category.as_deref().filter(|c| !c.is_empty()) {
        match MerchantCategory::parse(category) {
            Some(c) => filter.category = Some(c.as_str().to_owned()),
            None => errors.push(FieldError::new("category", "is not a merchant category")),
        }
    }
    if let Some(capability) = query
        .emergency_capability
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        match EmergencyCapability::parse(capability) {
            Some(c) => filter.capability = Some(c.as_str().to_owned()),
            None => errors.push(FieldError::new(
                "emergency_capability",
                "is not an emergency capability",
            )),
        }
    }
    if let Some(region) = query.region.as_deref().filter(|r| !r.is_empty()) {
        match RegionCode::parse(region) {
            Ok(code) => {
                if db::regions::find(conn, code.as_str()).await?.is_none() {
                    errors.push(FieldError::new("region", "no region has this code"));
                }
                filter.region_likes.push(code.like_pattern());
            }
            Err(m) => errors.push(FieldError::new("region", m)),
        }
    }
    filter.q = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_owned);
    let radius = query.radius_km.unwrap_or(10.0);
    if !(0.1..=200.0).contains(&radius) {
        errors.push(FieldError::new("radius_km", "must be between 0.1 and 200"));
    }
    let near = match query.near.as_deref() {
        Some(raw) => parse_near(raw)
            .map_err(|e| errors.push(e))
            .ok()
            .map(|c| (c, radius)),
        None => None,
    };
    if let Some((center, radius)) = near {
        filter.bbox = Some(bounding_box(center, radius));
    }
    match page {
        Some(page) if errors.is_empty() => Ok(DirectorySearch { filter, near, page }),
        _ => Err(ApiError::validation(errors)),
    }
}

/// Runs a directory search: by distance when `near` is given, newest first otherwise.
pub(crate) async fn search(
    conn: &mut db::Conn<'_>,
    search: &DirectorySearch,
) -> ApiResult<(Vec<(MerchantRow, Option<f64>)>, i64)> {
    let page = search.page;
    match search.near {
        None => {
            let (rows, total) =
                merchants::list(conn, &search.filter, page.offset(), page.limit()).await?;
            Ok((rows.into_iter().map(|r| (r, None)).collect(), total))
        }
        Some((center, radius)) => {
            // The box narrows by index; the exact circle and the order are computed here.
            let mut hits: Vec<(MerchantId, f64)> = merchants::positions(conn, &search.filter)
                .await?
                .into_iter()
                .map(|(id, lat, lng)| (id, distance_km(center, (lat, lng))))
                .filter(|(_, d)| *d <= radius)
                .collect();
            hits.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            let total = hits.len() as i64;
            let window: Vec<(MerchantId, f64)> = hits
                .into_iter()
                .skip(page.offset() as usize)
                .take(page.limit() as usize)
                .collect();
            let ids: Vec<MerchantId> = window.iter().map(|(id, _)| *id).collect();
            let mut rows = merchants::find_many(conn, &ids).await?;
            let ordered = window
                .iter()
                .filter_map(|(id, d)| {
                    let at = rows.iter().position(|r| r.id == *id)?;
                    Some((rows.swap_remove(at), Some((d * 1000.0).round() / 1000.0)))
                })
                .collect();
            Ok((ordered, total))
        }
    }
}

/// The public directory (社会拥军名录): active partners only.
#[utoipa::path(tag = "directory", params(DirectoryQuery), responses(
    (status = 200, body = Paged<PublicMerchant>, example = json!({"items": [
        {"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "深圳市罗湖区拥军大药房", "kind": "enterprise",
            "category": "pharmacy", "region_code": "440303", "address": "深圳市罗湖区人民南路1号", "latitude": 22.5431,
            "longitude": 114.1182, "services": "现役军人、退役军人购药九折", "measures": "设拥军优先窗口",
            "commitments": "明码标价，优先服务", "emergency_capabilities": ["medical", "supplies"],
            "badge_no": "YJ-440303-2026-00001", "distance_km": 1.284},
        {"id": "0193a8f6-3d4e-7f5a-8b6c-7d8e9f0a1b04", "name": "深圳市罗湖区拥军饭店", "kind": "enterprise",
            "category": "dining", "region_code": "440303", "address": "深圳市罗湖区东门中路1011号", "latitude": 22.5480,
            "longitude": 114.1236, "services": "军人及家属就餐立减", "measures": "设军人优先座位",
            "commitments": "不降低菜品分量与质量", "emergency_capabilities": ["supplies"],
            "badge_no": "YJ-440303-2026-00003", "distance_km": 2.051}],
        "total": 2, "page": 1, "per_page": 20})),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[get("/merchants")]
pub async fn directory(
    state: web::Data<AppState>,
    query: web::Query<DirectoryQuery>,
) -> ApiResult<web::Json<Paged<PublicMerchant>>> {
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let parsed = parse_directory_query(&mut conn, &query).await?;
    let (rows, total) = search(&mut conn, &parsed).await?;
    let items = rows
        .into_iter()
        .map(|(row, distance)| PublicMerchant {
            distance_km: distance,
            ..PublicMerchant::from(&row)
        })
        .collect();
    Ok(web::Json(parsed.page.wrap(items, total)))
}

/// What is cached per merchant.
#[derive(Debug, Serialize, Deserialize)]
pub struct MerchantSnapshot {
    pub status: String,
    pub agreement_end: Option<NaiveDate>,
    pub public: PublicMerchant,
    /// Active offers, for the point of sale (filled by the POS path).
    #[serde(default)]
    pub offers: Vec<crate::db::offers::OfferRow>,
}

impl MerchantSnapshot {
    pub fn of(row: &MerchantRow) -> MerchantSnapshot {
        MerchantSnapshot {
            status: row.status.clone(),
            agreement_end: row.agreement_end,
            public: PublicMerchant::from(row),
            offers: Vec::new(),
        }
    }

    pub fn effective_status(&self, today: NaiveDate) -> MerchantStatus {
        let stored = MerchantStatus::parse(&self.status).unwrap_or(MerchantStatus::Pending);
        crate::domain::merchant::effective_status(stored, self.agreement_end, today)
    }
}

/// A merchant's snapshot from the cache, or from the database (then cached). `None`
/// when there is no such merchant.
pub async fn snapshot(state: &AppState, id: MerchantId) -> ApiResult<Option<MerchantSnapshot>> {
    let key = keys::merchant(&id);
    if let Ok(Some(json)) = state.cache.get(&key).await {
        if let Ok(snapshot) = serde_json::from_str(&json) {
            return Ok(Some(snapshot));
        }
    }
    let mut pooled = state.db.get().await?;
    let Some(row) = merchants::find(&mut pooled.conn(), id).await? else {
        return Ok(None);
    };
    let snapshot = MerchantSnapshot::of(&row);
    if let Ok(json) = serde_json::to_string(&snapshot) {
        if let Err(error) = state.cache.set(&key, &json, SNAPSHOT_TTL).await {
            tracing::warn!(%error, "cache write failed; answering from the database");
        }
    }
    Ok(Some(snapshot))
}

/// One active partner.
#[utoipa::path(tag = "directory", params(("id" = MerchantId, Path)), responses(
    (status = 200, body = PublicMerchant),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found`: unknown or not active")))]
#[get("/merchants/{id}")]
pub async fn get_merchant(
    state: web::Data<AppState>,
    id: web::Path<MerchantId>,
) -> ApiResult<web::Json<PublicMerchant>> {
    match snapshot(&state, *id).await? {
        Some(s) if s.effective_status(china_today()) == MerchantStatus::Active => {
            Ok(web::Json(s.public))
        }
        _ => Err(merchant_not_found()),
    }
}

pub fn merchant_not_found() -> ApiError {
    ApiError::not_found("merchant_not_found", "no such merchant")
}

// ---------- public notice and objections ----------

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
pub async fn public_notices(
    state: web::Data<AppState>,
    query: web::Query<NoticeQuery>,
) -> ApiResult<web::Json<Paged<PublicNotice>>> {
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let mut filter = MerchantFilter {
        status: Some(MerchantStatus::PublicNotice),
        ..Default::default()
    };
    if let Some(region) = query.region.as_deref().filter(|r| !r.is_empty()) {
        let code = RegionCode::parse(region).map_err(|m| ApiError::invalid_field("region", m))?;
        filter.region_likes.push(code.like_pattern());
    }
    let mut pooled = state.db.get().await?;
    let (rows, total) =
        merchants::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?;
    let items = rows
        .into_iter()
        .map(|row| PublicNotice {
            emergency_capabilities: row.capabilities(),
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
        })
        .collect();
    Ok(web::Json(page.wrap(items, total)))
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
    (status = 409, body = crate::error::Problem, description = "`not_in_public_notice`"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/merchants/{id}/objections")]
#[tracing::instrument(name = "file_objection", skip_all)]
pub async fn file_objection(
    state: web::Data<AppState>,
    id: web::Path<MerchantId>,
    body: Json<ObjectionRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let content = text(&mut errors, "content", body.content.as_deref(), true, 2000);
    if content.as_ref().is_some_and(|c| c.chars().count() < 5) {
        errors.push(FieldError::new("content", "must be at least 5 characters"));
    }
    let phone = match body
        .contact_phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(raw) => Phone::parse(raw)
            .map_err(|m| errors.push(FieldError::new("contact_phone", m)))
            .ok(),
        None => None,
    };
    let content = match content {
        Some(c) if errors.is_empty() => c,
        _ => return Err(ApiError::validation(errors)),
    };
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let merchant = merchants::find(&mut conn, *id)
        .await?
        .ok_or_else(merchant_not_found)?;
    let now = db::now();
    let open = merchant.status == MerchantStatus::PublicNotice.as_str()
        && merchant.notice_ends_at.is_none_or(|end| now < end);
    if !open {
        return Err(ApiError::conflict(
            "not_in_public_notice",
            "objections are accepted only while the merchant is in public notice",
        ));
    }
    let objection = ObjectionRow {
        id: ObjectionId::new(),
        merchant_id: merchant.id,
        content,
        contact_phone: phone.map(|p| p.as_str().to_owned()),
        status: "open".into(),
        resolution_comment: None,
        resolved_by: None,
        resolved_at: None,
        created_at: now,
    };
    conn.transaction(async |tx| {
        merchants::insert_objection(tx, &objection).await?;
        audit::record(
            tx,
            &Actor::public(),
            AuditEntry {
                action: "merchant.objection_filed",
                entity_type: "merchant",
                entity_id: merchant.id.to_string(),
                region_code: Some(&merchant.region_code),
                details: Some(serde_json::json!({"objection_id": objection.id})),
                ..Default::default()
            },
        )
        .await?;
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(HttpResponse::Created().json(ObjectionCreated {
        id: objection.id,
        status: "open",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        // 罗湖 to 福田 along one parallel: about 3.4 km.
        let d = distance_km((22.5431, 114.1182), (22.5431, 114.0852));
        assert!((3.38..3.41).contains(&d), "{d}");
        assert_eq!(distance_km((22.5, 114.0), (22.5, 114.0)), 0.0);
        // Shenzhen to Beijing, about 1,940 km.
        let d = distance_km((22.5431, 114.0579), (39.9042, 116.4074));
        assert!((1930.0..1960.0).contains(&d), "{d}");
    }

    #[test]
    fn the_box_holds_the_circle() {
        let center = (22.5431, 114.0579);
        let (min_lat, max_lat, min_lng, max_lng) = bounding_box(center, 5.0);
        for bearing in 0..36 {
            let angle = f64::from(bearing * 10).to_radians();
            // A point just inside 5 km in this direction.
            let lat = center.0 + angle.cos() * 4.99 / 111.2;
            let lng = center.1 + angle.sin() * 4.99 / (111.2 * center.0.to_radians().cos());
            assert!(distance_km(center, (lat, lng)) <= 5.0);
            assert!((min_lat..=max_lat).contains(&lat) && (min_lng..=max_lng).contains(&lng));
        }
    }

    #[test]
    fn near_parsing() {
        assert_eq!(parse_near("22.5431,114.0579").unwrap(), (22.5431, 114.0579));
        assert_eq!(parse_near(" 22.5 , 114 ").unwrap(), (22.5, 114.0));
        for bad in ["22.5", "a,b", "91,0", "0,181", "NaN,1", ""] {
            assert!(parse_near(bad).is_err(), "{bad}");
        }
    }
}
