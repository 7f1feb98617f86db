//! The demo's thirty partner merchants and their offers, from fixed lists, taken
//! through admission by the office's own use cases: application, joint review,
//! approval into public notice, the agreement, the partner's staff, offers and a till.

use chrono::{Datelike, NaiveDate};

use super::catalogue::{MERCHANTS, OFFERS};
use super::people::credit_code;
use super::{end_notice, DemoContext, Offices, PARTNER_PASSWORD};
use crate::app::identity::{MerchantStaff, StaffUser, Terminal};
use crate::app::merchants::admission::{self, Agreement, Resolution, Review};
use crate::app::merchants::directory::{self, Application, Objection};
use crate::app::offers::{self, form::OfferRequest};
use crate::app::pos;
use crate::db::offers::OfferRow;
use crate::db::MerchantId;
use crate::domain::merchant::{
    Action, EmergencyCapability, MerchantCategory, MerchantKind, ObjectionOutcome, Verdict,
};
use crate::domain::offer::OfferAction;
use crate::domain::{china_today, CreditCode, Phone, RegionCode};
use crate::error::{AppError, AppResult};

/// Where a merchant's story ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Active,
    /// Admitted, then suspended (its history stays).
    Suspended,
    /// Admitted, then revoked (退出).
    Revoked,
    /// Admitted on an agreement that has since ended.
    Expired,
    /// In its public notice now, optionally with an open objection.
    Notice {
        objection: bool,
    },
    /// Rejected after an objection during its notice was upheld.
    RejectedByObjection,
    /// Rejected after a department failed it.
    RejectedByReview,
    /// Under review: this many departments have recorded a pass.
    Pending(usize),
}

impl Fate {
    /// Whether it was ever admitted (and so may have a history).
    pub fn admitted(self) -> bool {
        matches!(
            self,
            Fate::Active | Fate::Suspended | Fate::Revoked | Fate::Expired
        )
    }
}

/// One offer, as the partner's staff write it.
pub struct OfferSpec {
    pub title: String,
    pub description: String,
    pub kind: String,
    pub terms: String,
    pub categories: Vec<String>,
    pub products: Vec<String>,
    pub companions: i32,
    pub total_quota: Option<i64>,
    pub limit: Option<(i32, String)>,
    pub recurring: Vec<String>,
}

/// One partner merchant, a line of [`MERCHANTS`].
pub struct Spec {
    pub name: String,
    pub kind: String,
    pub category: String,
    pub region: String,
    pub address: String,
    pub at: (f64, f64),
    pub services: String,
    pub capabilities: Vec<String>,
    pub fate: Fate,
    pub offers: Vec<OfferSpec>,
}

fn list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn number<T: std::str::FromStr>(raw: &str, what: &str, line: usize) -> AppResult<Option<T>> {
    match raw.trim() {
        "" => Ok(None),
        raw => raw
            .parse()
            .map(Some)
            .map_err(|_| internal(format!("demo catalogue line {line}: bad {what}"))),
    }
}

fn fate(raw: &str, line: usize) -> AppResult<Fate> {
    Ok(match raw {
        "active" => Fate::Active,
        "suspended" => Fate::Suspended,
        "revoked" => Fate::Revoked,
        "expired" => Fate::Expired,
        "notice" => Fate::Notice { objection: false },
        "notice+objection" => Fate::Notice { objection: true },
        "rejected_by_objection" => Fate::RejectedByObjection,
        "rejected_by_review" => Fate::RejectedByReview,
        other => match other.strip_prefix("pending:").map(str::parse) {
            Some(Ok(count)) => Fate::Pending(count),
            _ => return Err(internal(format!("demo catalogue line {line}: bad fate"))),
        },
    })
}

/// The thirty partners of the catalogue, with their offers.
pub fn specs() -> AppResult<Vec<Spec>> {
    let mut specs = Vec::new();
    for (line, text) in MERCHANTS.lines().enumerate() {
        let f: Vec<&str> = text.split('|').collect();
        let [name, kind, category, region, address, lat, lng, services, capabilities, end] = f[..]
        else {
            return Err(internal(format!(
                "demo merchant line {line}: {} fields",
                f.len()
            )));
        };
        specs.push(Spec {
            name: name.into(),
            kind: kind.into(),
            category: category.into(),
            region: region.into(),
            address: address.into(),
            at: (
                number(lat, "latitude", line)?.unwrap_or_default(),
                number(lng, "longitude", line)?.unwrap_or_default(),
            ),
            services: services.into(),
            capabilities: list(capabilities),
            fate: fate(end, line)?,
            offers: Vec::new(),
        });
    }
    for (line, text) in OFFERS.lines().enumerate() {
        let f: Vec<&str> = text.split('|').collect();
        let [merchant, title, kind, terms, categories, products, companions, quota, limit, recurring, description] =
            f[..]
        else {
            return Err(internal(format!(
                "demo offer line {line}: {} fields",
                f.len()
            )));
        };
        let limit = match limit.split_once('/') {
            Some((n, period)) => Some((number(n, "limit", line)?.unwrap_or(1), period.to_string())),
            None => None,
        };
        let merchant: usize = number(merchant, "merchant", line)?.unwrap_or_default();
        let spec = merchant
            .checked_sub(1)
            .and_then(|i| specs.get_mut(i))
            .ok_or_else(|| internal(format!("demo offer line {line}: no merchant {merchant}")))?;
        spec.offers.push(OfferSpec {
            title: title.into(),
            description: description.into(),
            kind: kind.into(),
            terms: terms.into(),
            categories: list(categories),
            products: list(products),
            companions: number(companions, "companions", line)?.unwrap_or(0),
            total_quota: number(quota, "quota", line)?,
            limit,
            recurring: list(recurring),
        });
    }
    Ok(specs)
}

fn internal(what: String) -> AppError {
    AppError::internal(anyhow::anyhow!(what))
}

fn application(n: usize, spec: &Spec) -> AppResult<Application> {
    let parse = |m: String| internal(format!("demo merchant {n}: {m}"));
    let capabilities = spec
        .capabilities
        .iter()
        .map(|c| EmergencyCapability::parse(c).ok_or_else(|| parse(format!("capability {c}"))))
        .collect::<AppResult<Vec<_>>>()?;
    let representative: String = spec.name.chars().take(2).collect();
    Ok(Application {
        name: spec.name.clone(),
        kind: MerchantKind::parse(&spec.kind).ok_or_else(|| parse("kind".into()))?,
        credit_code: Some(CreditCode::parse(&credit_code(&spec.region, n + 1)?).map_err(parse)?),
        legal_representative: Some(format!("{representative}负责人")),
        contact_name: "拥军联络员".into(),
        contact_phone: Phone::parse(&format!("138{:08}", 26_000_000 + n * 101)).map_err(parse)?,
        address: spec.address.clone(),
        region: RegionCode::parse(&spec.region).map_err(parse)?,
        category: MerchantCategory::parse(&spec.category)
            .ok_or_else(|| parse("category".into()))?,
        latitude: spec.at.0,
        longitude: spec.at.1,
        services: spec.services.clone(),
        measures: "设拥军优先窗口，专人引导".into(),
        commitments: "明码标价，优先服务，不以任何理由拒绝持卡人".into(),
        emergency_commitment: if capabilities.is_empty() {
            String::new()
        } else {
            "急时战时听从调遣，无偿提供力所能及的支援".into()
        },
        capabilities,
    })
}

fn request(spec: &OfferSpec, valid_from: chrono::DateTime<chrono::Utc>) -> AppResult<OfferRequest> {
    let some = |items: &[String]| (!items.is_empty()).then(|| items.to_vec());
    let fen = |what| number::<i64>(&spec.terms, what, 0);
    let (mut percent_off, mut amount_off_fen, mut price_fen, mut gift) = (None, None, None, None);
    match spec.kind.as_str() {
        "percent_off" => percent_off = number::<i32>(&spec.terms, "percent", 0)?,
        "amount_off" => amount_off_fen = fen("amount")?,
        "fixed_price" => price_fen = fen("price")?,
        "gift" => gift = Some(spec.terms.clone()),
        _ => {}
    }
    Ok(OfferRequest {
        title: Some(spec.title.clone()),
        description: Some(spec.description.clone()),
        kind: Some(spec.kind.clone()),
        percent_off,
        amount_off_fen,
        price_fen,
        gift,
        eligible_categories: some(&spec.categories),
        min_honor: None,
        companions_allowed: Some(spec.companions),
        valid_from: Some(valid_from),
        valid_until: None,
        recurring_dates: some(&spec.recurring),
        total_quota: spec.total_quota,
        per_holder_limit: spec.limit.as_ref().map(|(n, _)| *n),
        per_holder_period: spec.limit.as_ref().map(|(_, p)| p.clone()),
        channel: None,
        card_products: some(&spec.products),
    })
}

/// Records the reviews of the first `count` departments (the reviewer's own department
/// by the reviewer, where the reviewer covers the merchant), with `fail_last` failing
/// the last of them.
async fn reviews(
    ctx: &DemoContext<'_>,
    offices: &Offices,
    id: MerchantId,
    region: &str,
    count: usize,
    fail_last: bool,
) -> AppResult<()> {
    let office = offices.office_for(region);
    let departments = ctx.policy.required_departments.iter().take(count);
    for (i, department) in departments.enumerate() {
        let fail = fail_last && i + 1 == count;
        let reviewer = match offices.reviewer.department.as_deref() {
            Some(own) if own == department && offices.reviewer.covers_code(region) => {
                &offices.reviewer
            }
            _ => office,
        };
        let review = Review {
            department: department.clone(),
            verdict: if fail { Verdict::Fail } else { Verdict::Pass },
            comment: if fail {
                "营业执照经营范围与申报不符".into()
            } else {
                "符合条件".into()
            },
        };
        admission::record_review(ctx.db, ctx.cache, ctx.policy, reviewer, id, review).await?;
    }
    Ok(())
}

/// A merchant as the demo left it, with what the rest of the demo needs of it.
pub struct Partner {
    pub id: MerchantId,
    /// Its index in [`specs`].
    pub n: usize,
    pub name: String,
    pub region: String,
    pub category: String,
    pub fate: Fate,
    pub staff: Option<MerchantStaff>,
    pub offers: Vec<OfferRow>,
    /// Its till and the till's API key.
    pub terminal: Option<(Terminal, String)>,
}

/// Takes the `n`th merchant of the catalogue as far as its fate says (suspension and
/// revocation come later, after its history); `username` for its staff, if admitted
/// with offers.
pub async fn admit(
    ctx: &DemoContext<'_>,
    offices: &Offices,
    n: usize,
    spec: &Spec,
    username: &str,
) -> AppResult<Partner> {
    let office = offices.office_for(&spec.region);
    let id = directory::apply(ctx.db, application(n, spec)?).await?;
    let all = ctx.policy.required_departments.len();
    let mut partner = Partner {
        id,
        n,
        name: spec.name.clone(),
        region: spec.region.clone(),
        category: spec.category.clone(),
        fate: spec.fate,
        staff: None,
        offers: Vec::new(),
        terminal: None,
    };
    match spec.fate {
        Fate::Pending(count) => {
            reviews(ctx, offices, id, &spec.region, count.min(all), false).await?;
            return Ok(partner);
        }
        Fate::RejectedByReview => {
            reviews(ctx, offices, id, &spec.region, all, true).await?;
            let reason = "联审未通过：经营范围与申报不符".to_string();
            admission::decide(
                ctx.db,
                ctx.cache,
                ctx.policy,
                office,
                id,
                Action::Reject,
                reason,
            )
            .await?;
            return Ok(partner);
        }
        _ => reviews(ctx, offices, id, &spec.region, all, false).await?,
    }
    let comment = Some("联审通过，予以公示".to_string());
    admission::approve(ctx.db, ctx.cache, ctx.policy, office, id, comment).await?;
    match spec.fate {
        Fate::Notice { objection } => {
            if objection {
                let objection = Objection {
                    content: "该车队曾有司机拒绝为持卡人提供优先服务，请核实".into(),
                    contact_phone: None,
                };
                directory::file_objection(ctx.db, id, objection).await?;
            }
            return Ok(partner);
        }
        Fate::RejectedByObjection => {
            let objection = Objection {
                content: "该店长期无证经营，不宜列入拥军商户".into(),
                contact_phone: None,
            };
            let objection_id = directory::file_objection(ctx.db, id, objection).await?;
            let resolution = Resolution {
                outcome: ObjectionOutcome::Upheld,
                comment: "经核实，异议属实，不予准入".into(),
            };
            let (db, cache, policy) = (ctx.db, ctx.cache, ctx.policy);
            admission::resolve_objection(db, cache, policy, office, id, objection_id, resolution)
                .await?;
            return Ok(partner);
        }
        _ => {}
    }
    end_notice(ctx, office, id).await?;
    let today = china_today();
    let (start, end) = if spec.fate == Fate::Expired {
        (years_before(today, 3), today - chrono::Days::new(20))
    } else {
        (years_before(today, 1), years_before(today, -3))
    };
    let agreement = Agreement {
        number: format!("YJ-{}-{}-{:03}", spec.region, start.year(), n + 1),
        start,
        end,
    };
    admission::activate(ctx.db, ctx.cache, ctx.policy, office, id, agreement).await?;
    if spec.offers.is_empty() {
        return Ok(partner);
    }
    let row = admission::create_staff(ctx.db, office, id, username, PARTNER_PASSWORD).await?;
    let staff = MerchantStaff::try_from_staff(StaffUser::from_row(row)?)?;
    let valid_from = crate::domain::china_midnight_utc(start).and_utc();
    for offer in &spec.offers {
        let created = offers::create(ctx.db, &staff, &request(offer, valid_from)?).await?;
        let approve = OfferAction::Approve;
        let approved =
            offers::act_as_office(ctx.db, ctx.cache, office, created.id, approve, None).await?;
        partner.offers.push(approved);
    }
    let (row, key) = pos::create_terminal(ctx.db, ctx.cipher, &staff, "一号收银台".into()).await?;
    let terminal = Terminal {
        id: row.id,
        merchant_id: id,
    };
    partner.terminal = Some((terminal, key));
    partner.staff = Some(staff);
    Ok(partner)
}

/// The same day `years` years earlier (later when negative), 28 February for 29.
fn years_before(day: NaiveDate, years: i32) -> NaiveDate {
    let year = day.year() - years;
    NaiveDate::from_ymd_opt(year, day.month(), day.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, day.month(), 28))
        .unwrap_or(day)
}

/// Suspends and revokes the merchants whose fate it is, after their history.
pub async fn close(
    ctx: &DemoContext<'_>,
    offices: &Offices,
    partners: &[Partner],
) -> AppResult<()> {
    for partner in partners {
        let office = offices.office_for(&partner.region);
        let (action, reason) = match partner.fate {
            Fate::Suspended => (Action::Suspend, "投诉核实中，暂停优待"),
            Fate::Revoked => (Action::Revoke, "多次拒绝持卡人优待，经复核予以退出"),
            _ => continue,
        };
        let (db, cache, policy) = (ctx.db, ctx.cache, ctx.policy);
        admission::decide(db, cache, policy, office, partner.id, action, reason.into()).await?;
    }
    Ok(())
}
