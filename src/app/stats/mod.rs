//! The figures the offices are judged by (`GET /api/v1/admin/stats`, the stats export):
//! merchants, admissions against the yearly target, beneficiaries, cards and
//! redemptions of one region subtree over a date range. Every figure is a count of
//! stored rows, so it agrees exactly with the rows it counts.

use std::collections::{BTreeMap, HashMap};

use crate::domain::china_midnight_utc;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, Conn, MerchantId};

mod goals;
pub mod home;
pub mod needs;

pub use goals::{Progress, TargetProgress};
pub use needs::{NeedFigures, NeedGroup};

/// What the figures are asked for.
#[derive(Debug, Clone)]
pub struct StatsScope {
    /// `None`: the whole country (a super administrator without `region`).
    pub region: Option<crate::domain::RegionCode>,
    /// Inclusive calendar dates, China time.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The service's today (`app::Clock`): effective statuses and overdue tasks.
    pub today: NaiveDate,
}

impl StatsScope {
    fn region_like(&self) -> String {
        self.region
            .as_ref()
            .map_or_else(|| "%".to_owned(), |r| r.like_pattern())
    }

    /// The UTC instants `[from 00:00, to + 1 day 00:00)` in China time.
    pub fn utc_bounds(&self) -> (NaiveDateTime, NaiveDateTime) {
        (
            china_midnight_utc(self.from),
            china_midnight_utc(self.to + chrono::Days::new(1)),
        )
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MerchantFigures {
    pub total: i64,
    /// Effective status: an active merchant past its agreement counts as `expired`.
    pub by_status: Vec<Count>,
    pub by_category: Vec<Count>,
    pub by_kind: Vec<Count>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdmissionRegion {
    pub region_code: String,
    pub region_name: Option<String>,
    pub admitted: i64,
}

/// New partners admitted (first activation) in one year, beside the yearly target of
/// the region asked about. `admitted` counts what the target counts: enterprises and
/// social organisations (企业和社会组织); the other kinds are in `not_counted`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdmissionYear {
    pub year: i32,
    pub admitted: i64,
    /// Individual businesses and volunteer teams admitted, by kind: shown beside the
    /// target, not counted towards it.
    pub not_counted: Vec<Count>,
    pub target: i64,
    /// `admitted` as a share of `target`, in percent (one decimal); null when the target is 0.
    pub attainment_percent: Option<f64>,
    pub by_region: Vec<AdmissionRegion>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BeneficiaryFigures {
    pub total: i64,
    pub by_category: Vec<Count>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductStatus {
    pub product: String,
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardFigures {
    pub total: i64,
    pub by_product: Vec<Count>,
    /// Effective status: an active card past `expires_at` counts as `expired`.
    pub by_status: Vec<Count>,
    pub by_product_status: Vec<ProductStatus>,
}

/// Redemptions (人次) and the discount given (fen) for one key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sum {
    pub key: String,
    /// The region's name, for region keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub count: i64,
    pub discount_fen: i64,
}

/// Redemptions of holders from another region (异地互认): `bearing_region_code` is the
/// merchant's region, which granted (and bears) the discount.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionPair {
    pub holder_region_code: String,
    pub holder_region_name: Option<String>,
    pub bearing_region_code: String,
    pub bearing_region_name: Option<String>,
    pub count: i64,
    pub discount_fen: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CrossRegion {
    pub count: i64,
    pub discount_fen: i64,
    pub pairs: Vec<RegionPair>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopMerchant {
    pub merchant_id: MerchantId,
    pub name: String,
    pub region_code: String,
    pub count: i64,
    pub discount_fen: i64,
}

/// Completed redemptions (voided ones excluded) at merchants of the region.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RedemptionFigures {
    pub count: i64,
    pub discount_fen: i64,
    /// `YYYY-MM`, China time, oldest first.
    pub by_month: Vec<Sum>,
    pub by_holder_category: Vec<Sum>,
    pub by_merchant_category: Vec<Sum>,
    pub by_card_product: Vec<Sum>,
    pub by_offer_kind: Vec<Sum>,
    /// By the merchant's region.
    pub by_region: Vec<Sum>,
    pub cross_region: CrossRegion,
    /// The ten merchants with the most redemptions.
    pub top_merchants: Vec<TopMerchant>,
    /// Of `count`, those a terminal verified offline and uploaded later.
    pub offline: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "region": "440300", "region_name": "深圳市", "from": "2026-01-01", "to": "2026-11-23",
    "merchants": {"total": 2, "by_status": [{"key": "active", "count": 1}, {"key": "pending", "count": 1}],
        "by_category": [{"key": "dining", "count": 2}], "by_kind": [{"key": "enterprise", "count": 2}]},
    "admissions": [{"year": 2026, "admitted": 1, "not_counted": [{"key": "individual_business", "count": 1}], "target": 100, "attainment_percent": 1.0,
        "by_region": [{"region_code": "440303", "region_name": "罗湖区", "admitted": 1}]}],
    "targets": [],
    "beneficiaries": {"total": 1, "by_category": [{"key": "veteran", "count": 1}]},
    "cards": {"total": 1, "by_product": [{"key": "general", "count": 1}], "by_status": [{"key": "active", "count": 1}],
        "by_product_status": [{"product": "general", "status": "active", "count": 1}]},
    "redemptions": {"count": 2, "discount_fen": 4000, "offline": 0,
        "by_month": [{"key": "2026-08", "count": 2, "discount_fen": 4000}],
        "by_holder_category": [{"key": "veteran", "count": 2, "discount_fen": 4000}],
        "by_merchant_category": [{"key": "dining", "count": 2, "discount_fen": 4000}],
        "by_card_product": [{"key": "general", "count": 2, "discount_fen": 4000}],
        "by_offer_kind": [{"key": "percent_off", "count": 2, "discount_fen": 4000}],
        "by_region": [{"key": "440303", "name": "罗湖区", "count": 2, "discount_fen": 4000}],
        "cross_region": {"count": 1, "discount_fen": 2000, "pairs": [{"holder_region_code": "140521",
            "holder_region_name": "沁水县", "bearing_region_code": "440303", "bearing_region_name": "罗湖区",
            "count": 1, "discount_fen": 2000}]},
        "top_merchants": [{"merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e70", "name": "罗湖拥军大药房",
            "region_code": "440303", "count": 2, "discount_fen": 4000}]},
    "needs": {"opened": 3, "done": 2, "median_days_to_done": 6.5, "done_with_deadline": 2,
        "done_by_deadline": 1, "done_by_deadline_percent": 50.0, "overdue": 1,
        "by_region": [{"key": "440303", "name": "罗湖区", "opened": 3, "done": 2, "median_days_to_done": 6.5,
            "done_with_deadline": 2, "done_by_deadline": 1, "done_by_deadline_percent": 50.0, "overdue": 1}],
        "by_category": [{"key": "medical", "opened": 3, "done": 2, "median_days_to_done": 6.5,
            "done_with_deadline": 2, "done_by_deadline": 1, "done_by_deadline_percent": 50.0, "overdue": 1}]}
}))]
pub struct Stats {
    /// The region subtree counted; null: everywhere.
    pub region: Option<String>,
    pub region_name: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Every merchant of the region now (not limited to the dates).
    pub merchants: MerchantFigures,
    /// One entry per calendar year of the dates.
    pub admissions: Vec<AdmissionYear>,
    /// Each year's targets beside what was reached (one entry per calendar year).
    pub targets: Vec<TargetProgress>,
    /// Every beneficiary of the region now.
    pub beneficiaries: BeneficiaryFigures,
    /// Every card of the region's beneficiaries now.
    pub cards: CardFigures,
    /// Redemptions between the dates.
    pub redemptions: RedemptionFigures,
    /// Needs posted and done between the dates, and the tasks overdue today (需求清单 ·
    /// 双清单).
    pub needs: NeedFigures,
}

/// Largest first, then by key: a stable order for tables and tests.
fn ranked(map: BTreeMap<String, i64>) -> Vec<Count> {
    let mut out: Vec<Count> = map
        .into_iter()
        .map(|(key, count)| Count { key, count })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    out
}

fn ranked_sums(mut sums: Vec<Sum>) -> Vec<Sum> {
    sums.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    sums
}

/// Computes every figure of `scope`.
pub async fn compute(conn: &mut Conn<'_>, scope: &StatsScope) -> anyhow::Result<Stats> {
    use anyhow::Context;
    let like = scope.region_like();
    let today = scope.today;
    let now = db::now();

    let merchant_rows = db::stats::merchant_groups(conn, &like, today)
        .await
        .context("counting merchants")?;
    let mut by_status = BTreeMap::new();
    let mut by_category = BTreeMap::new();
    let mut by_kind = BTreeMap::new();
    for row in &merchant_rows {
        *by_status.entry(row.status.clone()).or_insert(0) += row.n;
        *by_category.entry(row.category.clone()).or_insert(0) += row.n;
        *by_kind.entry(row.kind.clone()).or_insert(0) += row.n;
    }
    let merchants = MerchantFigures {
        total: merchant_rows.iter().map(|r| r.n).sum(),
        by_status: ranked(by_status),
        by_category: ranked(by_category),
        by_kind: ranked(by_kind),
    };

    // Admissions: whole calendar years of the range.
    let years = StatsScope {
        region: scope.region.clone(),
        from: crate::domain::year_start(scope.from),
        to: NaiveDate::from_ymd_opt(scope.to.year(), 12, 31).unwrap_or(scope.to),
        today,
    };
    let (year_start, year_end) = years.utc_bounds();
    let admission_rows = db::figures::admissions(conn, &like, year_start, year_end)
        .await
        .context("counting admissions")?;

    let beneficiary_rows = db::stats::beneficiary_groups(conn, &like)
        .await
        .context("counting beneficiaries")?;
    let beneficiaries = BeneficiaryFigures {
        total: beneficiary_rows.iter().map(|r| r.n).sum(),
        by_category: ranked(
            beneficiary_rows
                .iter()
                .map(|r| (r.key.clone(), r.n))
                .collect(),
        ),
    };

    let card_rows = db::stats::card_groups(conn, &like, now)
        .await
        .context("counting cards")?;
    let mut by_product = BTreeMap::new();
    let mut card_status = BTreeMap::new();
    let mut by_product_status = Vec::new();
    for row in &card_rows {
        let status = row.key2.clone().unwrap_or_default();
        *by_product.entry(row.key.clone()).or_insert(0) += row.n;
        *card_status.entry(status.clone()).or_insert(0) += row.n;
        by_product_status.push(ProductStatus {
            product: row.key.clone(),
            status,
            count: row.n,
        });
    }
    by_product_status.sort_by(|a, b| (&a.product, &a.status).cmp(&(&b.product, &b.status)));
    let cards = CardFigures {
        total: card_rows.iter().map(|r| r.n).sum(),
        by_product: ranked(by_product),
        by_status: ranked(card_status),
        by_product_status,
    };

    let until = scope.to + chrono::Days::new(1);
    let groups = db::stats::redemption_groups(conn, &like, scope.from, until, now)
        .await
        .context("counting redemptions")?;

    // Names of every region and merchant the figures mention.
    let mut codes: Vec<String> = admission_rows
        .iter()
        .map(|r| r.region_code.clone())
        .collect();
    for g in &groups {
        match g.dim.as_str() {
            "region" => codes.extend(g.k1.clone()),
            "pair" => codes.extend(g.k1.iter().chain(g.k2.iter()).cloned()),
            _ => {}
        }
    }
    let (from_utc, until_utc) = scope.utc_bounds();
    let need_facts = db::needs::figure_needs(conn, &like, from_utc, until_utc)
        .await
        .context("counting needs")?;
    let task_facts = db::needs::figure_tasks(conn, &like)
        .await
        .context("counting tasks")?;
    codes.extend(need_facts.iter().map(|n| n.region_code.clone()));
    codes.extend(task_facts.iter().map(|t| t.region_code.clone()));
    codes.extend(scope.region.as_ref().map(|r| r.as_str().to_owned()));
    codes.sort();
    codes.dedup();
    let names = db::stats::region_names(conn, &codes)
        .await
        .context("naming regions")?;

    let known = goals::known_years(conn, scope).await?;
    let admissions = goals::admission_years(scope, &admission_rows, &names, &known);
    let gifts = db::figures::insurance_gifts(conn, &like, year_start, year_end)
        .await
        .context("counting insurance gifts")?;
    let targets = goals::progress(scope, &admissions, &gifts, &known);
    let offline = db::figures::offline_redemptions(conn, &like, from_utc, until_utc)
        .await
        .context("counting offline redemptions")?;

    let mut total = (0, 0);
    let mut dims: HashMap<&str, Vec<Sum>> = HashMap::new();
    let mut pairs = Vec::new();
    for g in &groups {
        match g.dim.as_str() {
            "total" => total = (g.n, g.fen),
            "pair" => {
                let (Some(holder), Some(merchant)) = (&g.k1, &g.k2) else {
                    continue;
                };
                if holder != merchant {
                    pairs.push(RegionPair {
                        holder_region_code: holder.clone(),
                        holder_region_name: names.get(holder).cloned(),
                        bearing_region_code: merchant.clone(),
                        bearing_region_name: names.get(merchant).cloned(),
                        count: g.n,
                        discount_fen: g.fen,
                    });
                }
            }
            dim => {
                let key = g.k1.clone().unwrap_or_default();
                let name = (dim == "region")
                    .then(|| names.get(&key).cloned())
                    .flatten();
                let dim = REDEMPTION_DIM_NAMES
                    .iter()
                    .find(|d| **d == dim)
                    .copied()
                    .unwrap_or("other");
                dims.entry(dim).or_default().push(Sum {
                    key,
                    name,
                    count: g.n,
                    discount_fen: g.fen,
                });
            }
        }
    }
    pairs.sort_by(|a, b| {
        b.count.cmp(&a.count).then_with(|| {
            (&a.holder_region_code, &a.bearing_region_code)
                .cmp(&(&b.holder_region_code, &b.bearing_region_code))
        })
    });
    let mut take = |dim: &str| dims.remove(dim).unwrap_or_default();
    let mut by_month = take("month");
    by_month.sort_by(|a, b| a.key.cmp(&b.key));
    let mut merchant_sums = ranked_sums(take("merchant"));
    merchant_sums.truncate(10);
    let ids: Vec<MerchantId> = merchant_sums
        .iter()
        .filter_map(|s| s.key.parse::<uuid::Uuid>().ok().map(MerchantId))
        .collect();
    let rows = db::merchants::find_many(conn, &ids)
        .await
        .context("naming merchants")?;
    let top_merchants = merchant_sums
        .iter()
        .filter_map(|s| {
            let row = rows.iter().find(|r| r.id.to_string() == s.key)?;
            Some(TopMerchant {
                merchant_id: row.id,
                name: row.name.clone(),
                region_code: row.region_code.clone(),
                count: s.count,
                discount_fen: s.discount_fen,
            })
        })
        .collect();
    let redemptions = RedemptionFigures {
        count: total.0,
        discount_fen: total.1,
        by_month,
        by_holder_category: ranked_sums(take("holder_category")),
        by_merchant_category: ranked_sums(take("merchant_category")),
        by_card_product: ranked_sums(take("card_product")),
        by_offer_kind: ranked_sums(take("offer_kind")),
        by_region: ranked_sums(take("region")),
        cross_region: CrossRegion {
            count: pairs.iter().map(|p| p.count).sum(),
            // Saturating, as the sums it adds (`db::stats::sum_fen`).
            discount_fen: pairs
                .iter()
                .fold(0, |sum, p| sum.saturating_add(p.discount_fen)),
            pairs,
        },
        top_merchants,
        offline,
    };

    Ok(Stats {
        region: scope.region.as_ref().map(|r| r.as_str().to_owned()),
        region_name: scope
            .region
            .as_ref()
            .and_then(|r| names.get(r.as_str()).cloned()),
        from: scope.from,
        to: scope.to,
        merchants,
        admissions,
        targets,
        beneficiaries,
        cards,
        redemptions,
        needs: needs::tally(
            &need_facts,
            &task_facts,
            &needs::Window {
                since: from_utc,
                until: until_utc,
            },
            today,
            &names,
        ),
    })
}

const REDEMPTION_DIM_NAMES: &[&str] = &[
    "month",
    "holder_category",
    "merchant_category",
    "card_product",
    "offer_kind",
    "region",
    "merchant",
];

/// The figures of `scope` (a region subtree the caller may see, over China days).
pub async fn figures(db: &crate::db::Db, scope: &StatsScope) -> crate::error::AppResult<Stats> {
    let mut pooled = db.get().await?;
    compute(&mut pooled.conn(), scope)
        .await
        .map_err(crate::error::AppError::internal)
}

/// Sums the closed months' redemptions for the figures (at start-up, rather than on the
/// first request that needs them); the number of months summed.
pub async fn warm_rollup(db: &crate::db::Db) -> anyhow::Result<usize> {
    let mut pooled = db.get().await?;
    Ok(db::stats::warm_rollup(&mut pooled.conn(), db::now()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_china_days_in_utc() {
        let scope = StatsScope {
            region: None,
            from: NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
            today: NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
        };
        let (start, end) = scope.utc_bounds();
        assert_eq!(start.to_string(), "2026-07-31 16:00:00");
        assert_eq!(end.to_string(), "2026-08-01 16:00:00");
    }
}
