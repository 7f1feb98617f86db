//! An office's yearly targets (年度目标): new partners (新增拥军单位, counting
//! enterprises and social organisations), insurance gifts (赠险 人次), activities
//! (拥军优抚活动 场次) and people served (服务人数 人次). Stored per region and year; a
//! measure not set falls back to the default of the region's level, and a province's
//! to the sum of its cities'. Pure rules, no I/O.

use std::collections::HashMap;

use super::merchant::MerchantKind;
use super::region::RegionLevel;

vocabulary! {
    /// What a target counts.
    pub enum Measure: "a target measure" {
        /// New partners admitted in the year: enterprises and social organisations.
        NewPartners => "new_partners",
        /// Redemptions of the offers of insurance partners (赠险 人次).
        InsuranceGifts => "insurance_gifts",
        /// Support activities held (每年保障拥军优抚活动10场次以上).
        Activities => "activities",
        /// People those activities served (服务人数不少于1000人次).
        PeopleServed => "people_served",
    }
}

vocabulary! {
    /// Where a target's value comes from.
    pub enum Source: "a target source" {
        /// Set by the office for the year.
        Set => "set",
        /// The default of the region's level.
        Default => "default",
        /// A province's: the sum of its cities' targets.
        SumOfCities => "sum_of_cities",
        /// The whole country's: the sum of the provinces'.
        SumOfProvinces => "sum_of_provinces",
    }
}

/// The kinds a new-partner target counts (the plans count 企业和社会组织); individual
/// businesses and volunteer teams are shown beside them.
pub fn counts_as_new_partner(kind: MerchantKind) -> bool {
    matches!(kind, MerchantKind::Enterprise | MerchantKind::SocialOrg)
}

/// The four values of one region and year; `None`: no target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Values {
    pub new_partners: Option<i64>,
    pub insurance_gifts: Option<i64>,
    pub activities: Option<i64>,
    pub people_served: Option<i64>,
}

impl Values {
    pub fn get(&self, measure: Measure) -> Option<i64> {
        match measure {
            Measure::NewPartners => self.new_partners,
            Measure::InsuranceGifts => self.insurance_gifts,
            Measure::Activities => self.activities,
            Measure::PeopleServed => self.people_served,
        }
    }
}

/// The default of a city or county: 100 new partners a year for a city (Shenzhen's
/// plan), 50 for a county; ten activities serving 1,000 people for either (Qinshui's
/// plan). No default for insurance gifts: the plans set them as totals of their own.
pub fn default_for(level: RegionLevel) -> Values {
    let new_partners = match level {
        RegionLevel::City => Some(100),
        RegionLevel::County => Some(50),
        RegionLevel::Province => None,
    };
    Values {
        new_partners,
        insurance_gifts: None,
        activities: Some(10),
        people_served: Some(1000),
    }
}

/// A target and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub value: Option<i64>,
    pub source: Source,
}

/// What is known of one year: the values set per region, and the cities of each
/// province, from which every region's targets are worked out.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub set: HashMap<String, Values>,
    /// Province code → its cities' codes.
    pub cities: HashMap<String, Vec<String>>,
}

/// `None` only when every part is `None`.
fn sum(parts: impl Iterator<Item = Option<i64>>) -> Option<i64> {
    parts.fold(None, |total, part| match (total, part) {
        (None, None) => None,
        (total, part) => Some(total.unwrap_or(0) + part.unwrap_or(0)),
    })
}

impl Known {
    fn own(&self, code: &str, measure: Measure) -> Option<i64> {
        self.set.get(code).and_then(|v| v.get(measure))
    }

    /// The target of `measure` for the region `code` at `level`; `None` for the whole
    /// country.
    pub fn target(&self, code: Option<&str>, level: RegionLevel, measure: Measure) -> Target {
        let Some(code) = code else {
            let mut provinces: Vec<&String> = self.cities.keys().collect();
            provinces.sort();
            return Target {
                value: sum(provinces
                    .into_iter()
                    .map(|p| self.target(Some(p), RegionLevel::Province, measure).value)),
                source: Source::SumOfProvinces,
            };
        };
        if let Some(value) = self.own(code, measure) {
            return Target {
                value: Some(value),
                source: Source::Set,
            };
        }
        match level {
            RegionLevel::Province => Target {
                value: sum(self
                    .cities
                    .get(code)
                    .into_iter()
                    .flatten()
                    .map(|city| self.target(Some(city), RegionLevel::City, measure).value)),
                source: Source::SumOfCities,
            },
            level => Target {
                value: default_for(level).get(measure),
                source: Source::Default,
            },
        }
    }
}

/// `actual` as a share of `target`, in percent with one decimal; `None` without a
/// positive target or an actual figure.
pub fn share_percent(actual: Option<i64>, target: Option<i64>) -> Option<f64> {
    match (actual, target) {
        (Some(actual), Some(target)) if target > 0 => {
            Some((actual as f64 * 1000.0 / target as f64).round() / 10.0)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Known {
        let mut known = Known::default();
        known
            .cities
            .insert("440000".into(), vec!["440300".into(), "440100".into()]);
        known.cities.insert("140000".into(), vec!["140500".into()]);
        known.set.insert(
            "440300".into(),
            Values {
                new_partners: Some(120),
                insurance_gifts: Some(20_000),
                ..Values::default()
            },
        );
        known
    }

    #[test]
    fn an_unset_measure_falls_back_to_its_level_and_a_province_sums_its_cities() {
        let known = known();
        let city = |code, m| known.target(Some(code), RegionLevel::City, m);
        assert_eq!(
            city("440300", Measure::NewPartners),
            Target {
                value: Some(120),
                source: Source::Set
            }
        );
        assert_eq!(
            city("440100", Measure::NewPartners),
            Target {
                value: Some(100),
                source: Source::Default
            }
        );
        assert_eq!(city("440300", Measure::Activities).value, Some(10));
        let county = known.target(Some("140521"), RegionLevel::County, Measure::NewPartners);
        assert_eq!(
            county,
            Target {
                value: Some(50),
                source: Source::Default
            }
        );
        let province = known.target(Some("440000"), RegionLevel::Province, Measure::NewPartners);
        assert_eq!(
            province,
            Target {
                value: Some(220),
                source: Source::SumOfCities
            }
        );
        // Only Shenzhen set insurance gifts; Guangzhou has no default for them.
        let gifts = known.target(
            Some("440000"),
            RegionLevel::Province,
            Measure::InsuranceGifts,
        );
        assert_eq!(gifts.value, Some(20_000));
        let shanxi = known.target(
            Some("140000"),
            RegionLevel::Province,
            Measure::InsuranceGifts,
        );
        assert_eq!(shanxi.value, None);
        let country = known.target(None, RegionLevel::Province, Measure::NewPartners);
        assert_eq!(
            country,
            Target {
                value: Some(320),
                source: Source::SumOfProvinces
            }
        );
        // A province's own value wins over the sum.
        let mut known = known;
        known.set.insert(
            "440000".into(),
            Values {
                new_partners: Some(500),
                ..Values::default()
            },
        );
        let province = known.target(Some("440000"), RegionLevel::Province, Measure::NewPartners);
        assert_eq!(
            province,
            Target {
                value: Some(500),
                source: Source::Set
            }
        );
    }

    #[test]
    fn shares_and_what_counts_as_a_new_partner() {
        assert_eq!(share_percent(Some(37), Some(50)), Some(74.0));
        assert_eq!(share_percent(Some(1), Some(3)), Some(33.3));
        assert_eq!(share_percent(Some(5), Some(0)), None);
        assert_eq!(share_percent(None, Some(10)), None);
        assert!(counts_as_new_partner(MerchantKind::Enterprise));
        assert!(counts_as_new_partner(MerchantKind::SocialOrg));
        assert!(!counts_as_new_partner(MerchantKind::IndividualBusiness));
        assert!(!counts_as_new_partner(MerchantKind::VolunteerTeam));
    }
}
