//! The GB/T 2260 region tree (行政区划).

use std::time::Duration;

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::cache::keys;
use crate::db::regions::{self, RegionRow};
use crate::error::{ApiError, ApiResult};
use crate::startup::AppState;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"code": "440303", "name": "罗湖区", "level": "county", "parent_code": "440300"}))]
pub struct Region {
    pub code: String,
    pub name: String,
    /// `province`, `city` (prefecture level) or `county`.
    pub level: &'static str,
    pub parent_code: Option<String>,
}

impl From<RegionRow> for Region {
    fn from(row: RegionRow) -> Region {
        Region {
            level: match row.level {
                1 => "province",
                2 => "city",
                _ => "county",
            },
            code: row.code,
            name: row.name,
            parent_code: row.parent_code,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RegionQuery {
    /// List the children of this region instead of the provinces.
    pub parent: Option<String>,
}

/// Provinces, or the children of `parent`.
#[utoipa::path(tag = "regions", params(RegionQuery), responses(
    (status = 200, body = Vec<Region>),
    (status = 404, body = crate::error::Problem, description = "`region_not_found`: unknown parent")))]
#[get("/regions")]
pub async fn list_regions(
    state: web::Data<AppState>,
    query: web::Query<RegionQuery>,
) -> ApiResult<web::Json<Vec<Region>>> {
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    if let Some(parent) = query.parent.as_deref() {
        if regions::find(&mut conn, parent).await?.is_none() {
            return Err(region_not_found(parent));
        }
    }
    let rows = regions::children(&mut conn, query.parent.as_deref()).await?;
    Ok(web::Json(rows.into_iter().map(Region::from).collect()))
}

/// One region. Served from the cache when it holds it; from the database otherwise,
/// including while the cache is unreachable.
#[utoipa::path(tag = "regions", params(("code" = String, Path, example = "440303")), responses(
    (status = 200, body = Region),
    (status = 404, body = crate::error::Problem, description = "`region_not_found`")))]
#[get("/regions/{code}")]
pub async fn get_region(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> ApiResult<web::Json<Region>> {
    let key = keys::region(&code);
    if let Ok(Some(cached)) = state.cache.get(&key).await {
        if let Ok(row) = serde_json::from_str::<RegionRow>(&cached) {
            return Ok(web::Json(row.into()));
        }
    }
    let mut pooled = state.db.get().await?;
    let row = regions::find(&mut pooled.conn(), &code)
        .await?
        .ok_or_else(|| region_not_found(&code))?;
    if let Ok(json) = serde_json::to_string(&row) {
        // Regions change only with a migration; a day is plenty.
        if let Err(error) = state
            .cache
            .set(&key, &json, Duration::from_secs(86_400))
            .await
        {
            tracing::warn!(%error, "cache write failed; answering from the database");
        }
    }
    Ok(web::Json(row.into()))
}

pub fn region_not_found(code: &str) -> ApiError {
    ApiError::not_found("region_not_found", format!("no region has code {code:?}"))
}
