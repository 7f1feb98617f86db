//! The figures of a region (`GET /api/v1/admin/stats`).

use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::AdminUser;
use crate::domain::{china_today, year_start};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::routes::{date_param, region_code_param};
use crate::startup::AppState;
use crate::stats::{compute, Stats, StatsScope};

#[derive(Debug, Deserialize, IntoParams)]
pub struct StatsQuery {
    /// A region code (its whole subtree); default: the caller's region (everywhere for a
    /// super administrator). Must lie inside the caller's region.
    pub region: Option<String>,
    /// First day, `YYYY-MM-DD` (China time). Default: 1 January of this year.
    pub from: Option<String>,
    /// Last day, inclusive. Default: today.
    pub to: Option<String>,
}

impl StatsQuery {
    /// The scope asked for, checked against what `admin` may see.
    pub fn scope(&self, admin: &AdminUser) -> ApiResult<StatsScope> {
        let mut errors = Vec::new();
        let today = china_today();
        let from = date_param(&mut errors, "from", self.from.as_deref())
            .unwrap_or_else(|| year_start(today));
        let to = date_param(&mut errors, "to", self.to.as_deref()).unwrap_or(today);
        if from > to {
            errors.push(FieldError::new("to", "must not be before from"));
        }
        if (to - from).num_days() > 366 * 10 {
            errors.push(FieldError::new(
                "from",
                "the range may span ten years at most",
            ));
        }
        let asked = region_code_param(self.region.as_deref(), &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let region = admin.scoped_region(asked)?;
        Ok(StatsScope { region, from, to })
    }
}

/// The figures of a region subtree: merchants by status, category and kind; new
/// partners admitted per year beside the yearly target; beneficiaries by category;
/// cards by product and status; redemptions (人次) and discount totals by month,
/// holder category, merchant category, card product, offer kind and region;
/// cross-region redemptions (异地互认) with the region that bore them; top merchants.
#[utoipa::path(tag = "oversight", params(StatsQuery), security(("staff" = [])), responses(
    (status = 200, body = Stats),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `region_out_of_scope`"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[get("/admin/stats")]
#[tracing::instrument(name = "stats", skip_all)]
pub async fn stats(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<StatsQuery>,
) -> ApiResult<web::Json<Stats>> {
    let scope = query.scope(&admin)?;
    let mut pooled = state.db.get().await?;
    let figures = compute(&mut pooled.conn(), &scope, &state.admission_targets)
        .await
        .map_err(ApiError::internal)?;
    Ok(web::Json(figures))
}
