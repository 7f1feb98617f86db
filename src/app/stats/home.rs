//! The figures of a holder's home office (异地互认, `GET /api/v1/admin/stats?by=holder_region`):
//! the redemptions of a region's holders, here and elsewhere, and which regions bore them.

use anyhow::Context;
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ranked_sums, StatsScope, Sum};
use crate::db::{self, Db};
use crate::domain::RegionCode;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct Totals {
    pub count: i64,
    pub discount_fen: i64,
}

/// The completed redemptions of the region's holders between the dates, wherever made.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"by": "holder_region", "region": "140521", "region_name": "沁水县",
    "from": "2026-01-01", "to": "2026-08-31", "count": 3, "discount_fen": 6000,
    "here": {"count": 1, "discount_fen": 2000}, "elsewhere": {"count": 2, "discount_fen": 4000},
    "by_bearing_region": [{"key": "440303", "name": "罗湖区", "count": 2, "discount_fen": 4000},
        {"key": "140521", "name": "沁水县", "count": 1, "discount_fen": 2000}],
    "by_month": [{"key": "2026-08", "count": 3, "discount_fen": 6000}],
    "by_holder_category": [{"key": "veteran", "count": 3, "discount_fen": 6000}]}))]
pub struct HolderStats {
    /// Always `holder_region`.
    pub by: &'static str,
    /// The holders' region; null: everywhere.
    pub region: Option<String>,
    pub region_name: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub count: i64,
    pub discount_fen: i64,
    /// At merchants inside the region.
    pub here: Totals,
    /// At merchants of other regions, which bore the discount.
    pub elsewhere: Totals,
    /// By the merchant's region (the one that bore it), largest first.
    pub by_bearing_region: Vec<Sum>,
    /// `YYYY-MM`, China time, oldest first.
    pub by_month: Vec<Sum>,
    pub by_holder_category: Vec<Sum>,
}

/// The figures of `scope`'s holders.
pub async fn holder_figures(db: &Db, scope: &StatsScope) -> AppResult<HolderStats> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let (from, until) = scope.utc_bounds();
    let groups = db::figures::holder_region_groups(&mut conn, &scope.region_like(), from, until)
        .await
        .context("counting the holders' redemptions")
        .map_err(AppError::from)?;
    let mut codes: Vec<String> = groups
        .iter()
        .filter(|g| g.dim == "bearing")
        .filter_map(|g| g.k1.clone())
        .collect();
    codes.extend(scope.region.as_ref().map(|r| r.as_str().to_owned()));
    let names = db::stats::region_names(&mut conn, &codes).await?;
    let mut answer = HolderStats {
        by: "holder_region",
        region: scope.region.as_ref().map(|r| r.as_str().to_owned()),
        region_name: scope
            .region
            .as_ref()
            .and_then(|r| names.get(r.as_str()).cloned()),
        from: scope.from,
        to: scope.to,
        count: 0,
        discount_fen: 0,
        here: Totals::default(),
        elsewhere: Totals::default(),
        by_bearing_region: Vec::new(),
        by_month: Vec::new(),
        by_holder_category: Vec::new(),
    };
    for g in groups {
        let key = g.k1.unwrap_or_default();
        let sum = |name| Sum {
            key: key.clone(),
            name,
            count: g.n,
            discount_fen: g.fen,
        };
        match g.dim.as_str() {
            "bearing" => {
                let inside = match (&scope.region, RegionCode::parse(&key)) {
                    (None, _) => true,
                    (Some(region), Ok(code)) => region.contains(&code),
                    (Some(_), Err(_)) => false,
                };
                let side = if inside {
                    &mut answer.here
                } else {
                    &mut answer.elsewhere
                };
                // Money saturates, as the sums it adds (`db::stats::sum_fen`).
                side.count += g.n;
                side.discount_fen = side.discount_fen.saturating_add(g.fen);
                answer.count += g.n;
                answer.discount_fen = answer.discount_fen.saturating_add(g.fen);
                answer.by_bearing_region.push(sum(names.get(&key).cloned()));
            }
            "month" => answer.by_month.push(sum(None)),
            _ => answer.by_holder_category.push(sum(None)),
        }
    }
    answer.by_bearing_region = ranked_sums(answer.by_bearing_region);
    answer.by_month.sort_by(|a, b| a.key.cmp(&b.key));
    answer.by_holder_category = ranked_sums(answer.by_holder_category);
    Ok(answer)
}
