//! The GB/T 2260 region tree (行政区划).

use std::time::Duration;

use crate::cache::{keys, Cache};
use crate::db::regions::{self, RegionRow};
use crate::db::Db;
use crate::error::{AppError, AppResult, Code};

/// Regions change only with a migration; a day in the cache is plenty.
const REGION_TTL: Duration = Duration::from_secs(86_400);

pub fn region_not_found(code: &str) -> AppError {
    AppError::not_found(Code::RegionNotFound, format!("no region has code {code:?}"))
}

/// Provinces, or the children of `parent` (404 for an unknown parent).
pub async fn children(db: &Db, parent: Option<&str>) -> AppResult<Vec<RegionRow>> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    if let Some(parent) = parent {
        if regions::find(&mut conn, parent).await?.is_none() {
            return Err(region_not_found(parent));
        }
    }
    Ok(regions::children(&mut conn, parent).await?)
}

/// One region: from the cache when it holds it; from the database otherwise,
/// including while the cache is unreachable.
pub async fn region(db: &Db, cache: &Cache, code: &str) -> AppResult<RegionRow> {
    let key = keys::region(code);
    if let Ok(Some(cached)) = cache.get(&key).await {
        if let Ok(row) = serde_json::from_str::<RegionRow>(&cached) {
            return Ok(row);
        }
    }
    let mut pooled = db.get().await?;
    let row = regions::find(&mut pooled.conn(), code)
        .await?
        .ok_or_else(|| region_not_found(code))?;
    if let Ok(json) = serde_json::to_string(&row) {
        if let Err(error) = cache.set(&key, &json, REGION_TTL).await {
            tracing::warn!(%error, "cache write failed; answering from the database");
        }
    }
    Ok(row)
}
