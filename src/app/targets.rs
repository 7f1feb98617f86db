//! An office's yearly targets as data (`/api/v1/admin/targets`): read with where each
//! value comes from, set per region and year (audited), and resolved for the figures.

use serde::Serialize;
use utoipa::ToSchema;

use crate::app::identity::AdminUser;
use crate::app::permissions::Operation;
use crate::app::regions::region_not_found;
use crate::db::audit::{self, AuditEntry};
use crate::db::targets::{self as stored, TargetRow};
use crate::db::{self, Conn, Db};
use crate::domain::region::RegionLevel;
use crate::domain::targets::{Known, Measure, Source, Target, Values};
use crate::domain::RegionCode;
use crate::error::{AppError, AppResult};

/// One measure's target and where its value comes from.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct TargetValue {
    /// Null: no target.
    pub value: Option<i64>,
    pub source: Source,
}

impl From<Target> for TargetValue {
    fn from(target: Target) -> TargetValue {
        TargetValue {
            value: target.value,
            source: target.source,
        }
    }
}

/// A region's targets for one year.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"region_code": "440300", "region_name": "深圳市", "year": 2026,
    "new_partners": {"value": 120, "source": "set"},
    "insurance_gifts": {"value": 20000, "source": "set"},
    "activities": {"value": 10, "source": "default"},
    "people_served": {"value": 1000, "source": "default"},
    "updated_by": "shenzhen_admin", "updated_at": "2026-01-05T02:00:00Z"}))]
pub struct RegionTargets {
    /// Null: the whole country.
    pub region_code: Option<String>,
    pub region_name: Option<String>,
    pub year: i32,
    /// New partners admitted: enterprises and social organisations (企业和社会组织).
    pub new_partners: TargetValue,
    /// Redemptions of insurance partners' offers (赠险 人次).
    pub insurance_gifts: TargetValue,
    /// Support activities (拥军优抚活动 场次).
    pub activities: TargetValue,
    /// People served by them (服务人数 人次).
    pub people_served: TargetValue,
    /// Who last set this region's own values, and when (null: none set).
    pub updated_by: Option<String>,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What is known of `year`: the values set, and the cities of every province.
pub async fn known(conn: &mut Conn<'_>, year: i32) -> diesel::QueryResult<Known> {
    let mut known = Known::default();
    for row in stored::of_year(conn, year).await? {
        known.set.insert(row.region_code.clone(), row.values());
    }
    for region in db::regions::provinces_and_cities(conn).await? {
        match (region.level, region.parent_code) {
            (1, _) => {
                known.cities.entry(region.code).or_default();
            }
            (2, Some(parent)) => known.cities.entry(parent).or_default().push(region.code),
            _ => {}
        }
    }
    Ok(known)
}

/// The four targets of `region` (`None`: the country) in what `known` tells.
pub fn resolve(known: &Known, region: Option<&RegionCode>) -> [Target; 4] {
    let level = region.map_or(RegionLevel::Province, RegionCode::level);
    let code = region.map(RegionCode::as_str);
    Measure::ALL.map(|measure| known.target(code, level, measure))
}

async fn view(
    conn: &mut Conn<'_>,
    region: Option<&RegionCode>,
    year: i32,
) -> AppResult<RegionTargets> {
    let known = known(conn, year).await?;
    let [new_partners, insurance_gifts, activities, people_served] = resolve(&known, region);
    let (region_name, row) = match region {
        Some(code) => {
            let name = db::regions::find(conn, code.as_str())
                .await?
                .ok_or_else(|| region_not_found(code.as_str()))?
                .name;
            (Some(name), stored::find(conn, code.as_str(), year).await?)
        }
        None => (None, None),
    };
    Ok(RegionTargets {
        region_code: region.map(|r| r.as_str().to_owned()),
        region_name,
        year,
        new_partners: new_partners.into(),
        insurance_gifts: insurance_gifts.into(),
        activities: activities.into(),
        people_served: people_served.into(),
        updated_by: row.as_ref().map(|r| r.updated_by.clone()),
        updated_at: row.map(|r| r.updated_at.and_utc()),
    })
}

/// The targets of `region` (within the caller's; default the caller's own) for `year`.
pub async fn targets(
    db: &Db,
    admin: &AdminUser,
    region: Option<RegionCode>,
    year: i32,
) -> AppResult<RegionTargets> {
    admin.require(Operation::TargetsRead)?;
    let region = admin.scoped_region(region)?;
    let mut pooled = db.get().await?;
    view(&mut pooled.conn(), region.as_ref(), year).await
}

/// Sets `region`'s own values for `year` (a `None` falls back to the default again),
/// audited as `target.set` with the values before and after.
pub async fn set_targets(
    db: &Db,
    admin: &AdminUser,
    region: RegionCode,
    year: i32,
    values: Values,
) -> AppResult<RegionTargets> {
    admin.require(Operation::TargetsWrite)?;
    let region = admin
        .scoped_region(Some(region))?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("scoped_region lost the region")))?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let actor = admin.actor();
    conn.transaction(async |tx| {
        if db::regions::find(tx, region.as_str()).await?.is_none() {
            return Err(region_not_found(region.as_str()));
        }
        let before = stored::find(tx, region.as_str(), year).await?;
        let row = TargetRow {
            region_code: region.as_str().to_owned(),
            year,
            new_partners: values.new_partners,
            insurance_gifts: values.insurance_gifts,
            activities: values.activities,
            people_served: values.people_served,
            updated_by: admin.username.clone(),
            updated_at: db::now(),
        };
        stored::upsert(tx, &row).await?;
        let json = |v: Values| {
            serde_json::json!({"new_partners": v.new_partners, "insurance_gifts": v.insurance_gifts,
                "activities": v.activities, "people_served": v.people_served})
        };
        audit::record(
            tx,
            &actor,
            AuditEntry {
                action: "target.set",
                entity_type: "target",
                entity_id: format!("{}/{year}", region.as_str()),
                region_code: Some(region.as_str()),
                details: Some(serde_json::json!({
                    "year": year,
                    "before": before.map(|b| json(b.values())),
                    "after": json(values),
                })),
                ..Default::default()
            },
        )
        .await?;
        Ok::<_, AppError>(())
    })
    .await?;
    view(&mut conn, Some(&region), year).await
}
