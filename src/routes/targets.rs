//! An office's yearly targets (`/api/v1/admin/targets`). The use cases are
//! `app::targets`.

use actix_web::{
    get, put,
    web::{self, Path, Query},
};
use chrono::Datelike;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::app::identity::AdminUser;
use crate::app::targets::{self, RegionTargets};
use crate::domain::targets::Values;
use crate::domain::{china_today, RegionCode};
use crate::http::{Json, Reply, State};
use crate::validate::Fields;

/// The largest target value accepted (a national figure fits well below it).
const MAX_VALUE: i64 = 1_000_000_000;

fn year(f: &mut Fields, raw: Option<i32>) -> Option<i32> {
    let year = raw.unwrap_or_else(|| china_today().year());
    if !(2000..=2100).contains(&year) {
        f.error("year", "must be between 2000 and 2100");
        return None;
    }
    Some(year)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TargetsQuery {
    /// A region code within the caller's; default the caller's own (everywhere for a
    /// super administrator).
    pub region: Option<String>,
    /// Default: this year (China time).
    pub year: Option<i32>,
}

/// A region's targets for a year, each with where it comes from: `set` by the office,
/// the `default` of its level (city 100 new partners, county 50; 10 activities serving
/// 1,000 people), a province's `sum_of_cities`, the country's `sum_of_provinces`.
#[utoipa::path(tag = "oversight", params(TargetsQuery), security(("staff" = [])), responses(
    (status = 200, body = RegionTargets),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `region_out_of_scope`"),
    (status = 404, body = crate::error::Problem, description = "`region_not_found`")))]
#[get("/admin/targets")]
pub async fn get_targets(
    state: State,
    admin: AdminUser,
    query: Query<TargetsQuery>,
) -> Reply<RegionTargets> {
    let mut f = Fields::new();
    let region = f.region("region", query.region.as_deref());
    let year = year(&mut f, query.year);
    let (region, year) = f.finish((region, year))?;
    Ok(web::Json(
        targets::targets(&state.db, &admin, region, year).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"year": 2026, "new_partners": 120, "insurance_gifts": 20000,
    "activities": 12, "people_served": 1500}))]
pub struct TargetsRequest {
    /// Default: this year.
    pub year: Option<i32>,
    /// Each omitted or null value falls back to the default again.
    pub new_partners: Option<i64>,
    pub insurance_gifts: Option<i64>,
    pub activities: Option<i64>,
    pub people_served: Option<i64>,
}

/// Sets a region's own targets for a year (an office's administrator, within its
/// region); audited as `target.set` with the values before and after.
#[utoipa::path(tag = "oversight", params(("region" = String, Path, description = "Region code")),
    request_body = TargetsRequest, security(("staff" = [])), responses(
    (status = 200, body = RegionTargets),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `read_only_role`, `region_out_of_scope`"),
    (status = 404, body = crate::error::Problem, description = "`region_not_found`")))]
#[put("/admin/targets/{region}")]
pub async fn put_targets(
    state: State,
    admin: AdminUser,
    region: Path<String>,
    body: Json<TargetsRequest>,
) -> Reply<RegionTargets> {
    let mut f = Fields::new();
    let region = f.check("region", RegionCode::parse(&region));
    let year = year(&mut f, body.year);
    let mut value = |field: &str, raw: Option<i64>| match raw {
        Some(v) if !(0..=MAX_VALUE).contains(&v) => {
            f.error(
                field,
                format!("must be a whole number from 0 to {MAX_VALUE}"),
            );
            None
        }
        v => v,
    };
    let values = Values {
        new_partners: value("new_partners", body.new_partners),
        insurance_gifts: value("insurance_gifts", body.insurance_gifts),
        activities: value("activities", body.activities),
        people_served: value("people_served", body.people_served),
    };
    let (region, year) = f.finish((region, year))?;
    Ok(web::Json(
        targets::set_targets(&state.db, &admin, region, year, values).await?,
    ))
}
