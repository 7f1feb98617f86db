//! The figures beside the targets: new partners admitted per year (counted as the
//! target counts them) and each year's four targets with the share reached.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::Datelike;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ranked, AdmissionRegion, AdmissionYear, StatsScope};
use crate::app::targets;
use crate::db::figures::{AdmissionGroup, YearCount};
use crate::db::Conn;
use crate::domain::merchant::MerchantKind;
use crate::domain::targets::{counts_as_new_partner, share_percent, Known, Source, Target};

/// One target beside the figure it is measured by.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    /// Null: no target.
    pub target: Option<i64>,
    pub source: Source,
    /// Null: Yongjun does not record this (activities and the people they served are
    /// reported by the office, not counted from redemptions).
    pub actual: Option<i64>,
    /// `actual` as a share of `target`, in percent with one decimal.
    pub share_percent: Option<f64>,
}

impl Progress {
    fn of(target: Target, actual: Option<i64>) -> Progress {
        Progress {
            target: target.value,
            source: target.source,
            actual,
            share_percent: share_percent(actual, target.value),
        }
    }
}

/// A year's targets of the region asked about, and what was reached.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetProgress {
    pub year: i32,
    /// New partners admitted: enterprises and social organisations.
    pub new_partners: Progress,
    /// Redemptions of insurance partners' offers (赠险 人次).
    pub insurance_gifts: Progress,
    /// Support activities (拥军优抚活动 场次).
    pub activities: Progress,
    /// People served by them (服务人数 人次).
    pub people_served: Progress,
}

fn years(scope: &StatsScope) -> std::ops::RangeInclusive<i32> {
    scope.from.year()..=scope.to.year()
}

/// What is known of the targets of each year of the scope.
pub(super) async fn known_years(
    conn: &mut Conn<'_>,
    scope: &StatsScope,
) -> anyhow::Result<BTreeMap<i32, Known>> {
    let mut known = BTreeMap::new();
    for year in years(scope) {
        let of_year = targets::known(conn, year)
            .await
            .context("reading the targets")?;
        known.insert(year, of_year);
    }
    Ok(known)
}

fn new_partner_target(scope: &StatsScope, known: &BTreeMap<i32, Known>, year: i32) -> Target {
    let known = known.get(&year).cloned().unwrap_or_default();
    let [new_partners, ..] = targets::resolve(&known, scope.region.as_ref());
    new_partners
}

/// New partners admitted in each year of the scope, by region, beside the target.
pub(super) fn admission_years(
    scope: &StatsScope,
    rows: &[AdmissionGroup],
    names: &HashMap<String, String>,
    known: &BTreeMap<i32, Known>,
) -> Vec<AdmissionYear> {
    let mut out = Vec::new();
    for year in years(scope) {
        let mut counted: BTreeMap<&str, i64> = BTreeMap::new();
        let mut not_counted: BTreeMap<String, i64> = BTreeMap::new();
        for row in rows.iter().filter(|r| r.year == year) {
            let counts = MerchantKind::parse(&row.kind).is_some_and(counts_as_new_partner);
            if counts {
                *counted.entry(&row.region_code).or_default() += row.n;
            } else {
                *not_counted.entry(row.kind.clone()).or_default() += row.n;
            }
        }
        let mut by_region: Vec<AdmissionRegion> = counted
            .into_iter()
            .map(|(code, admitted)| AdmissionRegion {
                region_code: code.to_owned(),
                region_name: names.get(code).cloned(),
                admitted,
            })
            .collect();
        by_region.sort_by(|a, b| {
            b.admitted
                .cmp(&a.admitted)
                .then_with(|| a.region_code.cmp(&b.region_code))
        });
        let admitted = by_region.iter().map(|r| r.admitted).sum();
        let target = new_partner_target(scope, known, year).value.unwrap_or(0);
        out.push(AdmissionYear {
            year,
            admitted,
            not_counted: ranked(not_counted),
            target,
            attainment_percent: share_percent(Some(admitted), Some(target)),
            by_region,
        });
    }
    out
}

/// Each year's four targets beside what was reached.
pub(super) fn progress(
    scope: &StatsScope,
    admissions: &[AdmissionYear],
    gifts: &[YearCount],
    known: &BTreeMap<i32, Known>,
) -> Vec<TargetProgress> {
    years(scope)
        .map(|year| {
            let of_year = known.get(&year).cloned().unwrap_or_default();
            let [new_partners, insurance_gifts, activities, people_served] =
                targets::resolve(&of_year, scope.region.as_ref());
            let admitted = admissions
                .iter()
                .find(|a| a.year == year)
                .map(|a| a.admitted);
            let gifted = gifts.iter().find(|g| g.year == year).map_or(0, |g| g.n);
            TargetProgress {
                year,
                new_partners: Progress::of(new_partners, Some(admitted.unwrap_or(0))),
                insurance_gifts: Progress::of(insurance_gifts, Some(gifted)),
                activities: Progress::of(activities, None),
                people_served: Progress::of(people_served, None),
            }
        })
        .collect()
}
