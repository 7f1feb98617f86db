//! The GB/T 2260 region tree (行政区划). The use cases are `app::regions`.

use actix_web::{
    get,
    web::{self, Path, Query},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::regions;
use crate::db::regions::RegionRow;
use crate::http::{Paged, Reply, State};
use crate::validate::Fields;

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
    /// 1-based page number. Default 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 100. Default 20 (every province fits in one page of 100).
    pub per_page: Option<u32>,
}

/// Provinces, or the children of `parent`.
#[utoipa::path(tag = "regions", params(RegionQuery), responses(
    (status = 200, body = Paged<Region>, example = json!({"items": [
        {"code": "440303", "name": "罗湖区", "level": "county", "parent_code": "440300"},
        {"code": "440304", "name": "福田区", "level": "county", "parent_code": "440300"}],
        "total": 2, "page": 1, "per_page": 20})),
    (status = 404, body = crate::error::Problem, description = "`region_not_found`: unknown parent")))]
#[get("/regions")]
pub async fn list_regions(state: State, query: Query<RegionQuery>) -> Reply<Paged<Region>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let page = f.finish(page)?;
    let rows = regions::children(&state.db, query.parent.as_deref()).await?;
    Ok(web::Json(Paged::slice(page, rows, Region::from)))
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
