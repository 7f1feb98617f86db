//! The GB/T 2260 region tree (行政区划). The use cases are `app::regions`.

use actix_web::{
    get,
    web::{self, Path, Query},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::regions;
use crate::db::regions::RegionRow;
use crate::http::{Reply, State};

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
pub async fn list_regions(state: State, query: Query<RegionQuery>) -> Reply<Vec<Region>> {
    let rows = regions::children(&state.db, query.parent.as_deref()).await?;
    Ok(web::Json(rows.into_iter().map(Region::from).collect()))
}

/// One region. Served from the cache when it holds it; from the database otherwise,
/// including while the cache is unreachable.
#[utoipa::path(tag = "regions", params(("code" = String, Path, example = "440303")), responses(
    (status = 200, body = Region),
    (status = 404, body = crate::error::Problem, description = "`region_not_found`")))]
#[get("/regions/{code}")]
pub async fn get_region(state: State, code: Path<String>) -> Reply<Region> {
    let row = regions::region(&state.db, &state.cache, &code).await?;
    Ok(web::Json(row.into()))
}
