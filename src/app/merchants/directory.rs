//! The public side of the partner directory (社会拥军名录): applications, the
//! directory and its search, the cached merchant snapshot, public notices (社会公示)
//! and objections (异议).

use std::time::Duration;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::merchant_not_found;
use crate::app::{Listed, Page};
use crate::cache::{keys, Cache};
use crate::db::audit::{self, Actor, AuditEntry};
use crate::db::merchants::{self, MerchantFilter, MerchantRow, NewMerchant, ObjectionRow};
use crate::db::stored::join_list;
use crate::db::{self, Conn, Db, MerchantId, ObjectionId, Stored};
use crate::domain::merchant::{
    EmergencyCapability, MerchantCategory, MerchantKind, MerchantStatus, ObjectionStatus,
};
use crate::domain::{china_today, CreditCode, Phone, RegionCode};
use crate::error::{is_unique_violation, AppError, AppResult, Code};
use crate::validate::Fields;

/// How long a merchant snapshot may live in the cache; changes delete it at once, the
/// TTL only bounds staleness should a deletion be lost while Redis is away.
const SNAPSHOT_TTL: Duration = Duration::from_secs(60);

// ---------- the application ----------

/// An application to join the directory, checked field by field.
#[derive(Debug, Clone)]
pub struct Application {
    pub name: String,
    pub kind: MerchantKind,
    pub credit_code: Option<CreditCode>,
    pub legal_representative: Option<String>,
    pub contact_name: String,
    pub contact_phone: Phone,
    pub address: String,
    pub region: RegionCode,
    pub category: MerchantCategory,
    pub latitude: f64,
    pub longitude: f64,
    pub services: String,
    pub measures: String,
    pub commitments: String,
    pub capabilities: Vec<EmergencyCapability>,
    /// What it commits in an emergency (急时战时), in its own words.
    pub emergency_commitment: String,
}

fn duplicate_credit_code() -> AppError {
    AppError::conflict(
        Code::DuplicateCreditCode,
        "a merchant with this credit code is already registered or under review",
    )
}

/// Applies to join the directory: anyone may. The merchant starts `pending`.
pub async fn apply(db: &Db, app: Application) -> AppResult<MerchantId> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    if db::regions::find(&mut conn, app.region.as_str())
        .await?
        .is_none()
    {
        return Err(AppError::invalid_field(
            "region_code",
            "no region has this code",
        ));
    }
    if let Some(code) = &app.credit_code {
        if merchants::credit_code_taken(&mut conn, code.as_str()).await? {
            return Err(duplicate_credit_code());
        }
    }
    let now = db::now();
    let capabilities: Vec<&str> = app.capabilities.iter().map(|c| c.as_str()).collect();
    let capabilities = join_list(&capabilities);
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
        emergency_commitment: &app.emergency_commitment,
        status: MerchantStatus::Pending.as_str(),
        created_at: now,
        updated_at: now,
    };
    conn.transaction(async |tx| {
        merchants::insert(tx, &new).await.map_err(|e| {
            if is_unique_violation(&e) {
                duplicate_credit_code()
            } else {
                AppError::from(e)
            }
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
                details: Some(serde_json::json!({"name": app.name, "kind": app.kind,
                    "category": app.category})),
                ..Default::default()
            },
        )
        .await?;
        Ok::<_, AppError>(())
    })
    .await?;
    tracing::info!(merchant_id = %id, "merchant application received");
    Ok(id)
}

// ---------- the directory ----------

/// A merchant as the public sees it: no person's phone, no legal representative. Also
/// what the cache keeps of a merchant (see [`MerchantSnapshot`]).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "深圳市罗湖区拥军大药房",
    "kind": "enterprise", "category": "pharmacy", "region_code": "440303", "address": "深圳市罗湖区人民南路1号",
    "latitude": 22.5431, "longitude": 114.1182, "services": "现役军人、退役军人购药九折",
    "measures": "设拥军优先窗口", "commitments": "明码标价，优先服务",
    "emergency_capabilities": ["medical", "supplies"], "emergency_commitment": "急时战时无偿提供常用药品",
    "badge_no": "YJ-440303-2026-00001", "distance_km": 1.284}))]
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
    /// What it commits in an emergency (急时战时).
    pub emergency_commitment: String,
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
            emergency_capabilities: row.capability_names(),
            emergency_commitment: row.emergency_commitment.clone(),
            badge_no: row.badge_no.clone(),
            distance_km: None,
        }
    }
}

/// A directory search, as asked for.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
pub struct DirectoryQuery {
    /// Words in the name, address, services, measures (具体措施) or commitments (服务承诺).
    pub q: Option<String>,
    pub category: Option<String>,
    /// enterprise, social_org, individual_business or volunteer_team.
    pub kind: Option<String>,
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

/// A checked directory search over active merchants.
#[derive(Debug, Clone)]
pub struct DirectorySearch {
    pub filter: MerchantFilter,
    /// Centre and radius in km.
    pub near: Option<((f64, f64), f64)>,
    pub page: Page,
}

impl DirectorySearch {
    /// Checks every parameter (the region must exist), every bad one reported.
    pub async fn parse(conn: &mut Conn<'_>, params: &DirectoryQuery) -> AppResult<DirectorySearch> {
        let mut f = Fields::new();
        let page = f.page(params.page, params.per_page);
        let mut filter = MerchantFilter {
            status: Some(MerchantStatus::Active),
            today: Some(china_today()),
            ..Default::default()
        };
        let category = f.optional_vocab::<MerchantCategory>("category", params.category.as_deref());
        filter.category = category.flatten().map(|c| c.as_str().to_owned());
        let kind = f.optional_vocab::<MerchantKind>("kind", params.kind.as_deref());
        filter.kind = kind.flatten().map(|k| k.as_str().to_owned());
        let capability = f.optional_vocab::<EmergencyCapability>(
            "emergency_capability",
            params.emergency_capability.as_deref(),
        );
        filter.capability = capability.flatten().map(|c| c.as_str().to_owned());
        if let Some(Some(code)) =
            f.optional_str("region", params.region.as_deref(), RegionCode::parse)
        {
            if db::regions::find(conn, code.as_str()).await?.is_none() {
                f.error("region", "no region has this code");
            }
            filter.region_likes.push(code.like_pattern());
        }
        filter.q = params
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned);
        let radius = params.radius_km.unwrap_or(10.0);
        if !(0.1..=200.0).contains(&radius) {
            f.error("radius_km", "must be between 0.1 and 200");
        }
        let near = f
            .optional("near", params.near.as_deref(), parse_near)
            .flatten()
            .map(|center| (center, radius));
        if let Some((center, radius)) = near {
            filter.bbox = Some(bounding_box(center, radius));
        }
        let page = f.finish(page)?;
        Ok(DirectorySearch { filter, near, page })
    }
}

/// Parses `lat,lng`.
pub fn parse_near(raw: &str) -> Result<(f64, f64), String> {
    let bad = || "must be `lat,lng` in degrees, e.g. 22.5431,114.0579".to_owned();
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

/// Runs a directory search: by distance when `near` is given, newest first otherwise.
pub(crate) async fn run_search(
    conn: &mut Conn<'_>,
    search: &DirectorySearch,
) -> AppResult<Listed<(MerchantRow, Option<f64>)>> {
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

/// The public directory: active partners matching the search, each with its distance
/// from `near` when given.
pub async fn directory(
    db: &Db,
    params: &DirectoryQuery,
) -> AppResult<(Listed<PublicMerchant>, Page)> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let search = DirectorySearch::parse(&mut conn, params).await?;
    let (rows, total) = run_search(&mut conn, &search).await?;
    let items = rows
        .into_iter()
        .map(|(row, distance)| PublicMerchant {
            distance_km: distance,
            ..PublicMerchant::from(&row)
        })
        .collect();
    Ok(((items, total), search.page))
}

/// What is cached per merchant.
#[derive(Debug, Serialize, Deserialize)]
pub struct MerchantSnapshot {
    pub status: MerchantStatus,
    pub agreement_end: Option<NaiveDate>,
    pub public: PublicMerchant,
    /// Active offers, for the point of sale (filled by the point of sale's path).
    #[serde(default)]
    pub offers: Vec<crate::db::offers::OfferRow>,
}

impl MerchantSnapshot {
    pub fn of(row: &MerchantRow) -> Stored<MerchantSnapshot> {
        Ok(MerchantSnapshot {
            status: row.status()?,
            agreement_end: row.agreement_end,
            public: PublicMerchant::from(row),
            offers: Vec::new(),
        })
    }

    pub fn effective_status(&self, today: NaiveDate) -> MerchantStatus {
        crate::domain::merchant::effective_status(self.status, self.agreement_end, today)
    }
}

/// A merchant's snapshot from the cache, or from the database (then cached). `None`
/// when there is no such merchant.
pub async fn snapshot(
    db: &Db,
    cache: &Cache,
    id: MerchantId,
) -> AppResult<Option<MerchantSnapshot>> {
    let key = keys::merchant(&id);
    if let Ok(Some(json)) = cache.get(&key).await {
        if let Ok(snapshot) = serde_json::from_str(&json) {
            return Ok(Some(snapshot));
        }
    }
    let mut pooled = db.get().await?;
    let Some(row) = merchants::find(&mut pooled.conn(), id).await? else {
        return Ok(None);
    };
    let snapshot = MerchantSnapshot::of(&row)?;
    if let Ok(json) = serde_json::to_string(&snapshot) {
        if let Err(error) = cache.set(&key, &json, SNAPSHOT_TTL).await {
            tracing::warn!(%error, "cache write failed; answering from the database");
        }
    }
    Ok(Some(snapshot))
}

/// One active partner, as the public sees it.
pub async fn public_merchant(db: &Db, cache: &Cache, id: MerchantId) -> AppResult<PublicMerchant> {
    match snapshot(db, cache, id).await? {
        Some(s) if s.effective_status(china_today()) == MerchantStatus::Active => Ok(s.public),
        _ => Err(merchant_not_found()),
    }
}

// ---------- public notice and objections ----------

/// Merchants now in public notice, in `region`'s subtree when given.
pub async fn public_notices(
    db: &Db,
    region: Option<RegionCode>,
    page: Page,
) -> AppResult<Listed<MerchantRow>> {
    let mut filter = MerchantFilter {
        status: Some(MerchantStatus::PublicNotice),
        ..Default::default()
    };
    filter
        .region_likes
        .extend(region.as_ref().map(RegionCode::like_pattern));
    let mut pooled = db.get().await?;
    Ok(merchants::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?)
}

/// A public objection (异议), checked.
#[derive(Debug, Clone)]
pub struct Objection {
    pub content: String,
    /// So the office can ask for details; never shown unmasked.
    pub contact_phone: Option<Phone>,
}

/// Files a public objection while the merchant is in public notice.
pub async fn file_objection(
    db: &Db,
    id: MerchantId,
    objection: Objection,
) -> AppResult<ObjectionId> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant = merchants::find(&mut conn, id)
        .await?
        .ok_or_else(merchant_not_found)?;
    let now = db::now();
    let open = merchant.status()? == MerchantStatus::PublicNotice
        && merchant.notice_ends_at.is_none_or(|end| now < end);
    if !open {
        return Err(AppError::conflict(
            Code::NotInPublicNotice,
            "objections are accepted only while the merchant is in public notice",
        ));
    }
    let row = ObjectionRow {
        id: ObjectionId::new(),
        merchant_id: merchant.id,
        content: objection.content,
        contact_phone: objection.contact_phone.map(|p| p.as_str().to_owned()),
        status: ObjectionStatus::Open.as_str().into(),
        resolution_comment: None,
        resolved_by: None,
        resolved_at: None,
        created_at: now,
    };
    conn.transaction(async |tx| {
        merchants::insert_objection(tx, &row).await?;
        audit::record(
            tx,
            &Actor::public(),
            AuditEntry {
                action: "merchant.objection_filed",
                entity_type: "merchant",
                entity_id: merchant.id.to_string(),
                region_code: Some(&merchant.region_code),
                details: Some(serde_json::json!({"objection_id": row.id})),
                ..Default::default()
            },
        )
        .await?;
        Ok::<_, AppError>(())
    })
    .await?;
    Ok(row.id)
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
