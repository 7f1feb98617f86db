//! The figures of a region (`GET /api/v1/admin/stats`). The use case is `app::stats`.

use actix_web::{
    get,
    web::{self, Query},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::identity::AdminUser;
use crate::app::permissions::Operation;
use crate::app::stats::home::{self, HolderStats};
use crate::app::stats::{self as figures, Stats, StatsScope};
use chrono::NaiveDate;

use crate::domain::year_start;
use crate::error::{AppError, AppResult};
use crate::http::{Reply, State};
use crate::validate::Fields;

#[derive(Debug, Deserialize, IntoParams)]
pub struct StatsQuery {
    /// A region code (its whole subtree); default: the caller's region (everywhere for a
    /// super administrator). Must lie inside the caller's region.
    pub region: Option<String>,
    /// First day, `YYYY-MM-DD` (China time). Default: 1 January of this year.
    pub from: Option<String>,
    /// Last day, inclusive. Default: today.
    pub to: Option<String>,
    /// `merchant_region` (default): what merchants of the region did. `holder_region`:
    /// what the region's holders used, here and elsewhere (异地互认), and which regions
    /// bore it.
    pub by: Option<String>,
}

/// The figures by the merchants' region, or by the holders' (`by=holder_region`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum StatsAnswer {
    Merchants(Box<Stats>),
    Holders(HolderStats),
}

impl StatsQuery {
    /// The scope asked for, checked against what `admin` may see.
    pub fn scope(&self, admin: &AdminUser, today: NaiveDate) -> AppResult<StatsScope> {
        admin.require(Operation::StatsRead)?;
        let mut f = Fields::new();
        let from = f.date("from", self.from.as_deref());
        let to = f.date("to", self.to.as_deref());
        let from_day = from.flatten().unwrap_or_else(|| year_start(today));
        let to_day = to.flatten().unwrap_or(today);
        if from_day > to_day {
            f.error("to", "must not be before from");
        }
        if (to_day - from_day).num_days() > 366 * 10 {
            f.error("from", "the range may span ten years at most");
        }
        let asked = f.region("region", self.region.as_deref());
        let (_, _, asked) = f.finish((from, to, asked))?;
        let region = admin.scoped_region(asked)?;
        Ok(StatsScope {
            region,
            from: from_day,
            to: to_day,
            today,
        })
    }
}

/// The figures of a region subtree: merchants by status, category and kind; new
/// partners admitted per year beside the yearly target; beneficiaries by category;
/// cards by product and status; redemptions (人次) and discount totals by month,
/// holder category, merchant category, card product, offer kind and region;
/// cross-region redemptions (异地互认) with the region that bore them; top merchants;
/// each year's targets beside what was reached. With `by=holder_region`: the region's
/// holders' redemptions wherever they were made.
#[utoipa::path(tag = "oversight", params(StatsQuery), security(("staff" = [])), responses(
    (status = 200, body = StatsAnswer),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`"),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `region_out_of_scope`")))]
#[get("/admin/stats")]
#[tracing::instrument(name = "stats", skip_all)]
pub async fn stats(state: State, admin: AdminUser, query: Query<StatsQuery>) -> Reply<StatsAnswer> {
    let by_holder = match query.by.as_deref().map(str::trim) {
        None | Some("") | Some("merchant_region") => false,
        Some("holder_region") => true,
        Some(_) => {
            return Err(AppError::invalid_field(
                "by",
                "must be merchant_region or holder_region",
            ))
        }
    };
    let scope = query.scope(&admin, state.policy.clock.today())?;
    Ok(web::Json(if by_holder {
        StatsAnswer::Holders(home::holder_figures(&state.db, &scope).await?)
    } else {
        StatsAnswer::Merchants(Box::new(figures::figures(&state.db, &scope).await?))
    }))
}
