//! Months of past redemptions. The till's use case (`app::pos::redeem`) records a
//! redemption *now*, from a live QR token; the past cannot be redeemed that way, so
//! the demo writes its history through the ledger's own queries (`db::offers`) with
//! the checks `redeem` makes: the offer available at that moment, the holder eligible,
//! the holder's limit in that moment's period and the total quota taken the same
//! conditional way, the figures' dimensions copied, the month marked for the rollup.
//! A redemption has no audit entry (the ledger is its record), so none is written;
//! the voids among them are marked in the ledger as a void would leave them.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};

use super::partners::Partner;
use super::people::{Draw, QINSHUI};
use super::registry::{Person, Registry};
use super::DemoContext;
use crate::app::invalidate;
use crate::app::offers::OfferRules;
use crate::cache::keys;
use crate::db::offers::{self, OfferRow, RedemptionRow};
use crate::db::{self, BeneficiaryId, OfferId, RedemptionId};
use crate::domain::offer::{self as rules, HolderPeriod, OfferKind, RedemptionStatus};
use crate::domain::{china_midnight_utc, china_now};
use crate::error::{AppError, AppResult};

/// How many redemptions each past month gets, the oldest first; the current month
/// gets its share of the last one's up to today.
const PER_MONTH: [usize; 5] = [60, 75, 85, 95, 110];
/// Redemptions at the fuel stations' 八一 offers on the last 1 August.
const AUGUST_FIRST: usize = 60;

struct Pick<'a> {
    partner: &'a Partner,
    offer: &'a OfferRow,
    rules: OfferRules,
}

/// The first day of the month `back` months before `day`'s.
fn month_start(day: NaiveDate, back: u32) -> NaiveDate {
    let first = day.with_day(1).unwrap_or(day);
    first
        .checked_sub_months(chrono::Months::new(back))
        .unwrap_or(first)
}

fn days_in(month: NaiveDate) -> u32 {
    let next = month_start(month, 0)
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(month);
    (next - month_start(month, 0)).num_days() as u32
}

/// A UTC moment on China day `day`, between 08:00 and 21:59 China time.
fn moment(draw: &mut Draw, day: NaiveDate) -> NaiveDateTime {
    let seconds = draw.between(8 * 3600, 22 * 3600 - 1) as u32;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).unwrap_or_default();
    china_midnight_utc(day) + (time - NaiveTime::MIN)
}

/// The bill a sale of this kind plausibly had, in fen.
fn bill(draw: &mut Draw, kind: OfferKind, category: &str) -> Option<i64> {
    match (kind, category) {
        (OfferKind::PercentOff, "aviation") => Some(draw.between(600, 3200) * 100),
        (OfferKind::PercentOff | OfferKind::FixedPrice, _) => Some(draw.between(30, 600) * 100),
        (OfferKind::AmountOff, _) => Some(draw.between(200, 500) * 100),
        _ => None,
    }
}

/// A person for a sale at `partner`: three in four from the partner's own city, the
/// others from the other (异地互认).
fn holder<'a>(draw: &mut Draw, registry: &'a Registry, partner: &Partner) -> &'a Person {
    let home = partner.region.starts_with("1405");
    let local = draw.chance(75);
    loop {
        let person = &registry.people[draw.below(registry.people.len())];
        if (person.row.region_code == QINSHUI) == (home == local) {
            return person;
        }
    }
}

/// Writes the history: about [`PER_MONTH`] redemptions a month for five months and
/// this month so far, and the last 八一 at the fuel stations, all before `now`; how
/// many were written.
pub async fn write(
    ctx: &DemoContext<'_>,
    partners: &[Partner],
    registry: &Registry,
    draw: &mut Draw,
) -> AppResult<usize> {
    let now = db::now();
    let today = china_now().date();
    let mut picks: Vec<Pick> = Vec::new();
    let mut recurring: Vec<Pick> = Vec::new();
    for partner in partners.iter().filter(|p| p.fate.admitted()) {
        for offer in &partner.offers {
            let rules = OfferRules::of(offer)?;
            let pick = Pick {
                partner,
                offer,
                rules,
            };
            if pick.rules.recurring_dates.is_empty() {
                picks.push(pick);
            } else {
                recurring.push(pick);
            }
        }
    }
    if picks.is_empty() {
        return Ok(0);
    }
    // (day, how many) for every day with sales; the months oldest first.
    let mut plan: Vec<(NaiveDate, bool)> = Vec::new();
    for (back, count) in (1..=5u32).rev().zip(PER_MONTH) {
        let month = month_start(today, back);
        for _ in 0..count {
            let day = month + chrono::Days::new(draw.below(days_in(month) as usize) as u64);
            plan.push((day, false));
        }
    }
    let so_far = today.day() as usize;
    for _ in 0..(PER_MONTH[4] * so_far / 30).max(5) {
        let day = month_start(today, 0) + chrono::Days::new(draw.below(so_far) as u64);
        plan.push((day, false));
    }
    let august = NaiveDate::from_ymd_opt(today.year(), 8, 1)
        .filter(|d| *d < today)
        .or_else(|| NaiveDate::from_ymd_opt(today.year() - 1, 8, 1));
    if let (Some(day), false) = (august, recurring.is_empty()) {
        plan.extend(std::iter::repeat_n((day, true), AUGUST_FIRST));
    }
    let mut used: HashMap<OfferId, i64> = HashMap::new();
    let mut holder_uses: HashMap<(OfferId, BeneficiaryId, String), i32> = HashMap::new();
    let mut rows = Vec::with_capacity(plan.len());
    for (day, august_first) in plan {
        let pool = if august_first { &recurring } else { &picks };
        let at = moment(draw, day);
        if at >= now - chrono::Duration::minutes(30) {
            continue;
        }
        // A few tries to find a holder this offer suits; a day without a match is skipped.
        for _ in 0..12 {
            let pick = &pool[draw.below(pool.len())];
            let person = holder(draw, registry, pick.partner);
            let product = pick
                .rules
                .card_products
                .first()
                .map_or("general", String::as_str);
            let Some(card) = person.card(product) else {
                continue;
            };
            let rules = &pick.rules;
            if !rules.available_at(pick.offer, at)
                || !rules.eligible(person.category, &person.honors, &card.product)
            {
                continue;
            }
            let period = match (pick.offer.per_holder_limit, rules.period) {
                (Some(_), Some(period)) => period,
                _ => HolderPeriod::Lifetime,
            };
            let period_key = rules::period_key(period, at);
            let use_key = (pick.offer.id, person.row.id, period_key.clone());
            let uses = holder_uses.get(&use_key).copied().unwrap_or(0);
            if pick
                .offer
                .per_holder_limit
                .is_some_and(|limit| uses >= limit)
            {
                continue;
            }
            let taken = used.get(&pick.offer.id).copied().unwrap_or(0);
            if pick.offer.total_quota.is_some_and(|quota| taken >= quota) {
                continue;
            }
            let bill_fen = bill(draw, rules.terms.kind, &pick.partner.category);
            let discount = rules::discount_fen(&rules.terms, bill_fen)
                .map_err(|code| AppError::internal(anyhow::anyhow!("demo discount: {code}")))?;
            let voided = draw.chance(2);
            let offline = !voided && draw.chance(3);
            let Some((terminal, _)) = &pick.partner.terminal else {
                break;
            };
            let companions = draw.between(0, i64::from(pick.offer.companions_allowed)) as i32;
            rows.push(RedemptionRow {
                id: RedemptionId::new(),
                offer_id: pick.offer.id,
                merchant_id: pick.partner.id,
                terminal_id: terminal.id,
                card_id: card.id,
                beneficiary_id: person.row.id,
                jti: format!("demo-{}", uuid::Uuid::new_v4()),
                period_key,
                bill_fen,
                discount_fen: discount,
                companions,
                merchant_region_code: pick.partner.region.clone(),
                holder_region_code: person.row.region_code.clone(),
                status: if voided {
                    RedemptionStatus::Voided
                } else {
                    RedemptionStatus::Completed
                }
                .as_str()
                .into(),
                void_reason: voided.then(|| "收银误操作，撤销重录".to_string()),
                voided_at: voided.then(|| at + chrono::Duration::minutes(6)),
                redeemed_at: at,
                holder_category: person.category.as_str().to_owned(),
                card_product: card.product.clone(),
                offer_kind: pick.offer.kind.clone(),
                merchant_category: pick.partner.category.clone(),
                offline,
                verified_offline_at: offline.then(|| at - chrono::Duration::minutes(40)),
            });
            if !voided {
                *holder_uses.entry(use_key).or_default() += 1;
                *used.entry(pick.offer.id).or_default() += 1;
            }
            break;
        }
    }
    rows.sort_by_key(|r| r.redeemed_at);
    let terms = picks
        .iter()
        .chain(&recurring)
        .map(|p| {
            (
                p.offer.id,
                (p.offer.per_holder_limit, p.offer.total_quota.is_some()),
            )
        })
        .collect();
    store(ctx, &rows, &terms).await?;
    Ok(rows.len())
}

/// One transaction: the holders' uses and the quotas taken as `redeem` takes them,
/// the rows, and their months marked for the rollup; then the caches dropped.
async fn store(
    ctx: &DemoContext<'_>,
    rows: &[RedemptionRow],
    terms: &HashMap<OfferId, (Option<i32>, bool)>,
) -> AppResult<()> {
    let mut pooled = ctx.db.get().await?;
    let mut conn = pooled.conn();
    conn.transaction(async |tx| {
        let mut months = BTreeSet::new();
        for row in rows {
            let completed = row.status == RedemptionStatus::Completed.as_str();
            let (limit, counted) = terms.get(&row.offer_id).copied().unwrap_or((None, false));
            if let (true, Some(limit)) = (completed, limit) {
                let (offer, holder) = (row.offer_id, row.beneficiary_id);
                if !offers::take_holder_use(tx, offer, holder, &row.period_key, limit).await? {
                    return Err(AppError::internal(anyhow::anyhow!(
                        "demo history: a holder's limit was exceeded"
                    )));
                }
            }
            offers::insert_redemption(tx, row).await?;
            if completed && counted && !offers::take_quota(tx, row.offer_id).await? {
                return Err(AppError::internal(anyhow::anyhow!(
                    "demo history: an offer's quota was exceeded"
                )));
            }
            let month = crate::domain::to_china(row.redeemed_at)
                .format("%Y-%m")
                .to_string();
            if months.insert(month) {
                db::stats::rollup_stale(tx, row.redeemed_at).await?;
            }
        }
        Ok::<_, AppError>(())
    })
    .await?;
    let mut stale: BTreeSet<String> = BTreeSet::new();
    for row in rows {
        stale.insert(keys::card(&row.card_id));
        stale.insert(keys::merchant(&row.merchant_id));
    }
    invalidate(ctx.cache, stale.into_iter().collect()).await;
    Ok(())
}
