//! Offers (优待项目) that partner merchants grant to holders of military priority cards.
//!
//! Money is integer fen (1 yuan = 100 fen) so that no rounding happens outside
//! [`discount_fen`]. Instants are UTC; calendar rules (recurring dates, per-holder
//! periods) are read on China Standard Time (UTC+8, no daylight saving), because that is
//! the calendar merchants and holders live by.
//!
//! An offer goes `pending_review` → `active`, can be `paused` and resumed, `ended` for
//! good, or `rejected`; a material change (see [`is_material_change`]) sends it back to
//! review. [`offer_transition`] holds the complete table.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

use super::beneficiary::{Category, Honor};

vocabulary! {
    /// What the offer gives.
    pub enum OfferKind: "an offer kind" {
        /// A percentage off the bill (折扣), e.g. 10 for 10% off.
        PercentOff => "percent_off",
        /// A fixed amount off the bill (立减).
        AmountOff => "amount_off",
        /// The holder pays a set price whatever the list price (优惠价).
        FixedPrice => "fixed_price",
        /// Nothing to pay (免费).
        Free => "free",
        /// Served first, e.g. a priority window or lane (优先服务); no money involved.
        PriorityService => "priority_service",
        /// A gift is handed over (赠品); no money off the bill.
        Gift => "gift",
    }
}

vocabulary! {
    /// Where an offer is in its lifecycle. Only `active` offers are shown to holders;
    /// `ended` is final.
    pub enum OfferStatus: "an offer status" {
        /// Submitted or materially changed; an office has to approve it.
        PendingReview => "pending_review",
        /// Approved and redeemable.
        Active => "active",
        /// Temporarily not redeemable, e.g. stock ran out or the shop is closed.
        Paused => "paused",
        /// Withdrawn for good.
        Ended => "ended",
        /// Refused by review; the merchant may change it and resubmit.
        Rejected => "rejected",
    }
}

vocabulary! {
    /// The period a per-holder limit counts over, on the China calendar.
    pub enum HolderPeriod: "a per-holder period" {
        Day => "day",
        /// ISO week, Monday to Sunday.
        Week => "week",
        Month => "month",
        Year => "year",
        /// The limit never resets.
        Lifetime => "lifetime",
    }
}

vocabulary! {
    /// Where the offer can be redeemed.
    pub enum Channel: "an offer channel" {
        /// At the counter, on showing the card.
        InStore => "in_store",
        Online => "online",
    }
}

vocabulary! {
    /// What a reviewer or the merchant does to an offer.
    pub enum OfferAction: "an offer action" {
        Approve => "approve",
        Reject => "reject",
        Pause => "pause",
        Resume => "resume",
        End => "end",
        /// Sends a materially changed offer back to review.
        Resubmit => "resubmit",
    }
}

vocabulary! {
    /// A redemption stands `completed` until a merchant voids it within 24 hours.
    pub enum RedemptionStatus: "a redemption status" {
        Completed => "completed",
        Voided => "voided",
    }
}

/// The status an action leads to, or `None` when it is not allowed from `from`.
///
/// A resubmission takes an active or paused offer off the shelf until it is approved
/// again, because holders must never redeem terms nobody has reviewed.
pub fn offer_transition(from: OfferStatus, action: OfferAction) -> Option<OfferStatus> {
    use OfferAction::*;
    use OfferStatus::*;
    match (from, action) {
        (PendingReview, Approve) => Some(Active),
        (PendingReview, Reject) => Some(Rejected),
        (Active, Pause) => Some(Paused),
        (Paused, Resume) => Some(Active),
        (PendingReview | Active | Paused, End) => Some(Ended),
        (Active | Paused | Rejected, Resubmit) => Some(PendingReview),
        _ => None,
    }
}

/// The longest gift description, in characters (not bytes, as most are Chinese).
const GIFT_MAX_CHARS: usize = 200;

/// The most money a till deals in at once: 10,000,000.00 yuan. An offer's amounts
/// (`amount_off_fen`, `price_fen`) are bounded by it, and a bill by
/// `YONGJUN_MAX_BILL_FEN`, which defaults to it; so no figure summed from them can be
/// pushed to overflow by one absurd value.
pub const MAX_AMOUNT_FEN: i64 = 1_000_000_000;

/// "must be at most …", naming `max_fen` in fen and in yuan.
pub fn at_most(max_fen: i64) -> String {
    format!(
        "must be at most {max_fen} fen ({}.{:02} yuan)",
        max_fen / 100,
        max_fen % 100
    )
}

/// What an offer gives; which of the optional fields applies depends on `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferTerms {
    pub kind: OfferKind,
    /// 1-99, for `percent_off` only.
    pub percent_off: Option<i32>,
    /// Above zero, for `amount_off` only.
    pub amount_off_fen: Option<i64>,
    /// Zero or more, for `fixed_price` only.
    pub price_fen: Option<i64>,
    /// What is handed over, for `gift` only.
    pub gift: Option<String>,
}

/// The problems with `t` as (field, message) pairs; empty when the terms are valid.
///
/// A field that does not belong to the kind is an error rather than ignored, so that a
/// stale value from an earlier kind cannot be stored and resurface later.
pub fn check_terms(t: &OfferTerms) -> Vec<(&'static str, String)> {
    let mut errors = Vec::new();
    let kind = t.kind;

    match (kind, t.percent_off) {
        (OfferKind::PercentOff, None) => {
            errors.push(("percent_off", "required for percent_off offers".to_string()));
        }
        (OfferKind::PercentOff, Some(p)) if !(1..=99).contains(&p) => {
            errors.push((
                "percent_off",
                format!("must be a whole percentage from 1 to 99, got {p}"),
            ));
        }
        (OfferKind::PercentOff, Some(_)) | (_, None) => {}
        (_, Some(_)) => errors.push(("percent_off", not_for(kind))),
    }

    match (kind, t.amount_off_fen) {
        (OfferKind::AmountOff, None) => {
            errors.push((
                "amount_off_fen",
                "required for amount_off offers".to_string(),
            ));
        }
        (OfferKind::AmountOff, Some(a)) if a <= 0 => {
            errors.push((
                "amount_off_fen",
                format!("must be more than 0 fen, got {a}"),
            ));
        }
        (OfferKind::AmountOff, Some(a)) if a > MAX_AMOUNT_FEN => {
            errors.push((
                "amount_off_fen",
                format!("{}, got {a}", at_most(MAX_AMOUNT_FEN)),
            ));
        }
        (OfferKind::AmountOff, Some(_)) | (_, None) => {}
        (_, Some(_)) => errors.push(("amount_off_fen", not_for(kind))),
    }

    match (kind, t.price_fen) {
        (OfferKind::FixedPrice, None) => {
            errors.push(("price_fen", "required for fixed_price offers".to_string()));
        }
        (OfferKind::FixedPrice, Some(p)) if p < 0 => {
            errors.push(("price_fen", format!("must be 0 fen or more, got {p}")));
        }
        (OfferKind::FixedPrice, Some(p)) if p > MAX_AMOUNT_FEN => {
            errors.push(("price_fen", format!("{}, got {p}", at_most(MAX_AMOUNT_FEN))));
        }
        (OfferKind::FixedPrice, Some(_)) | (_, None) => {}
        (_, Some(_)) => errors.push(("price_fen", not_for(kind))),
    }

    match (kind, t.gift.as_deref()) {
        (OfferKind::Gift, gift) => {
            // Blank text describes nothing a cashier could hand over.
            let gift = gift.map(str::trim).unwrap_or("");
            let chars = gift.chars().count();
            if chars == 0 {
                errors.push(("gift", "required for gift offers".to_string()));
            } else if chars > GIFT_MAX_CHARS {
                errors.push((
                    "gift",
                    format!("must be at most {GIFT_MAX_CHARS} characters, got {chars}"),
                ));
            }
        }
        (_, None) => {}
        (_, Some(_)) => errors.push(("gift", not_for(kind))),
    }

    errors
}

fn not_for(kind: OfferKind) -> String {
    format!("must be absent for {kind} offers")
}

/// How many fen the holder saves on a bill of `bill_fen`.
///
/// Errors: `"invalid_bill"` for a negative bill, `"bill_required"` when the saving
/// depends on a bill that was not given, `"invalid_terms"` when the field the kind needs
/// is missing or out of range (terms that [`check_terms`] would have refused).
///
/// A percentage rounds half up to the fen, so 10% of 5 fen saves 1 fen rather than 0.
/// The saving never exceeds the bill, so the holder never pays less than nothing.
pub fn discount_fen(t: &OfferTerms, bill_fen: Option<i64>) -> Result<i64, &'static str> {
    if bill_fen.is_some_and(|b| b < 0) {
        return Err("invalid_bill");
    }
    match t.kind {
        OfferKind::PercentOff => {
            let percent = t
                .percent_off
                .filter(|p| (1..=99).contains(p))
                .ok_or("invalid_terms")?;
            let bill = bill_fen.ok_or("bill_required")?;
            // i128 because bill * percent can overflow i64 for absurd bills; the result
            // is below the bill, so it always fits back.
            let saved = (i128::from(bill) * i128::from(percent) + 50) / 100;
            i64::try_from(saved).map_err(|_| "invalid_bill")
        }
        OfferKind::AmountOff => {
            let amount = t
                .amount_off_fen
                .filter(|a| (1..=MAX_AMOUNT_FEN).contains(a))
                .ok_or("invalid_terms")?;
            Ok(bill_fen.map_or(amount, |bill| amount.min(bill)))
        }
        OfferKind::FixedPrice => {
            let price = t
                .price_fen
                .filter(|p| (0..=MAX_AMOUNT_FEN).contains(p))
                .ok_or("invalid_terms")?;
            let bill = bill_fen.ok_or("bill_required")?;
            Ok((bill - price).max(0))
        }
        OfferKind::Free => Ok(bill_fen.unwrap_or(0)),
        OfferKind::PriorityService | OfferKind::Gift => Ok(0),
    }
}

/// Who an offer is for. Each empty list means "no restriction".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eligibility<'a> {
    /// The beneficiary categories admitted; empty admits all.
    pub categories: &'a [Category],
    /// The lowest honour admitted ("third-class merit or higher"); `None` needs none.
    pub min_honor: Option<Honor>,
    /// The card products admitted; empty admits all.
    pub card_products: &'a [String],
}

/// Whether a holder of `category`, with `honors`, carrying a card of `product`, may
/// use an offer restricted by `e`.
pub fn is_eligible(e: &Eligibility, category: Category, honors: &[Honor], product: &str) -> bool {
    let category_ok = e.categories.is_empty() || e.categories.contains(&category);
    let honor_ok = e
        .min_honor
        .is_none_or(|min| honors.iter().any(|h| h.rank() >= min.rank()));
    let product_ok = e.card_products.is_empty() || e.card_products.iter().any(|p| p == product);
    category_ok && honor_ok && product_ok
}

/// The China Standard Time reading of a UTC instant.
///
/// Saturates instead of panicking at the very end of chrono's range, where no real
/// offer lives.
fn china_time(now_utc: NaiveDateTime) -> NaiveDateTime {
    now_utc
        .checked_add_signed(Duration::hours(8))
        .unwrap_or(NaiveDateTime::MAX)
}

/// Whether an offer can be redeemed at `now_utc`: from `valid_from` (inclusive) to
/// `valid_until` (exclusive, `None` = open-ended) and, when `recurring_dates` ("MM-DD")
/// are given, only on those days of the China calendar (e.g. 08-01, Army Day).
///
/// Recurring dates are normalised before comparing so "8-1" matches; entries that are not
/// a valid month-day never match. "02-29" matches only in leap years: the offer is for
/// that day, not for the end of February.
pub fn available_at(
    valid_from: NaiveDateTime,
    valid_until: Option<NaiveDateTime>,
    recurring_dates: &[String],
    now_utc: NaiveDateTime,
) -> bool {
    if now_utc < valid_from || valid_until.is_some_and(|until| now_utc >= until) {
        return false;
    }
    if recurring_dates.is_empty() {
        return true;
    }
    let today = china_time(now_utc).date();
    let today = format!("{:02}-{:02}", today.month(), today.day());
    recurring_dates
        .iter()
        .any(|raw| parse_month_day(raw).is_ok_and(|md| md == today))
}

/// Checks a recurring date written "MM-DD" (or "M-D"; surrounding spaces ignored) and
/// returns it zero-padded. Any year's days are allowed, so "02-29" is accepted.
pub fn parse_month_day(raw: &str) -> Result<String, String> {
    let shape = || format!("{raw:?} is not a month-day such as 08-01");
    let (month, day) = raw.trim().split_once('-').ok_or_else(shape)?;
    let number = |part: &str| -> Option<u32> {
        // Digits only, so signs and spaces inside ("+8", " 1") are refused.
        if (1..=2).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (month, day) = number(month).zip(number(day)).ok_or_else(shape)?;
    if !(1..=12).contains(&month) {
        return Err(format!("{raw:?}: the month must be from 01 to 12"));
    }
    // 2000 is a leap year, so it admits every day any year can have.
    if NaiveDate::from_ymd_opt(2000, month, day).is_none() {
        return Err(format!("{raw:?}: month {month:02} has no day {day:02}"));
    }
    Ok(format!("{month:02}-{day:02}"))
}

/// The bucket a per-holder redemption at `now_utc` counts in, on the China calendar:
/// "2026-08-01" (day), "2026-W31" (ISO week), "2026-08" (month), "2026" (year), "all"
/// (lifetime).
///
/// Weeks use the ISO week-numbering year, so the last days of December can belong to
/// week 1 of the next year and the first days of January to week 52 or 53 of the one
/// before; a week is never split across two buckets.
pub fn period_key(period: HolderPeriod, now_utc: NaiveDateTime) -> String {
    let date = china_time(now_utc).date();
    match period {
        HolderPeriod::Day => format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day()),
        HolderPeriod::Week => {
            let week = date.iso_week();
            format!("{:04}-W{:02}", week.year(), week.week())
        }
        HolderPeriod::Month => format!("{:04}-{:02}", date.year(), date.month()),
        HolderPeriod::Year => format!("{:04}", date.year()),
        HolderPeriod::Lifetime => "all".to_string(),
    }
}

/// The offer fields whose change sends an active or paused offer back to review
/// (`resubmit`): everything that alters what holders get, who gets it, when or where.
const MATERIAL_FIELDS: [&str; 16] = [
    "kind",
    "percent_off",
    "amount_off_fen",
    "price_fen",
    "gift",
    "eligible_categories",
    "min_honor",
    "companions_allowed",
    "valid_from",
    "valid_until",
    "recurring_dates",
    "total_quota",
    "per_holder_limit",
    "per_holder_period",
    "card_products",
    "channel",
];

/// Whether changing `field` needs a new review. Wording (`title`, `description`) does
/// not; an unknown field is treated as not material, so callers should pass only the
/// offer's own field names.
pub fn is_material_change(field: &str) -> bool {
    MATERIAL_FIELDS.contains(&field)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::fmt;

    use OfferAction as A;
    use OfferStatus as S;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    // ---- transitions ----

    const LEGAL: [(S, A, S); 10] = [
        (S::PendingReview, A::Approve, S::Active),
        (S::PendingReview, A::Reject, S::Rejected),
        (S::Active, A::Pause, S::Paused),
        (S::Paused, A::Resume, S::Active),
        (S::PendingReview, A::End, S::Ended),
        (S::Active, A::End, S::Ended),
        (S::Paused, A::End, S::Ended),
        (S::Active, A::Resubmit, S::PendingReview),
        (S::Paused, A::Resubmit, S::PendingReview),
        (S::Rejected, A::Resubmit, S::PendingReview),
    ];

    #[test]
    fn every_status_action_pair_follows_the_table() {
        let mut pairs = 0;
        for from in S::ALL {
            for action in A::ALL {
                pairs += 1;
                let expected = LEGAL
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                assert_eq!(
                    offer_transition(from, action),
                    expected,
                    "{from} --{action}-->"
                );
            }
        }
        assert_eq!(pairs, 30);
    }

    #[test]
    fn ten_moves_are_legal() {
        let legal = S::ALL
            .into_iter()
            .flat_map(|s| A::ALL.into_iter().map(move |a| (s, a)))
            .filter(|(s, a)| offer_transition(*s, *a).is_some())
            .count();
        assert_eq!(legal, 10);
    }

    #[test]
    fn ended_is_final() {
        for action in A::ALL {
            assert_eq!(offer_transition(S::Ended, action), None);
        }
    }

    #[test]
    fn pending_review_cannot_be_resubmitted_or_paused() {
        assert_eq!(offer_transition(S::PendingReview, A::Resubmit), None);
        assert_eq!(offer_transition(S::PendingReview, A::Pause), None);
        assert_eq!(offer_transition(S::Rejected, A::Approve), None);
        assert_eq!(offer_transition(S::Active, A::Approve), None);
        assert_eq!(offer_transition(S::Rejected, A::End), None);
    }

    // ---- terms ----

    fn terms(kind: OfferKind) -> OfferTerms {
        OfferTerms {
            kind,
            percent_off: None,
            amount_off_fen: None,
            price_fen: None,
            gift: None,
        }
    }

    fn percent(p: i32) -> OfferTerms {
        OfferTerms {
            percent_off: Some(p),
            ..terms(OfferKind::PercentOff)
        }
    }

    fn amount(a: i64) -> OfferTerms {
        OfferTerms {
            amount_off_fen: Some(a),
            ..terms(OfferKind::AmountOff)
        }
    }

    fn price(p: i64) -> OfferTerms {
        OfferTerms {
            price_fen: Some(p),
            ..terms(OfferKind::FixedPrice)
        }
    }

    fn gift(g: &str) -> OfferTerms {
        OfferTerms {
            gift: Some(g.to_string()),
            ..terms(OfferKind::Gift)
        }
    }

    fn fields(t: &OfferTerms) -> Vec<&'static str> {
        check_terms(t).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn valid_terms_pass() {
        assert!(check_terms(&percent(1)).is_empty());
        assert!(check_terms(&percent(99)).is_empty());
        assert!(check_terms(&amount(1)).is_empty());
        assert!(check_terms(&price(0)).is_empty());
        assert!(check_terms(&price(9_900)).is_empty());
        assert!(check_terms(&gift("矿泉水一瓶")).is_empty());
        assert!(check_terms(&gift(&"茶".repeat(200))).is_empty());
        assert!(check_terms(&terms(OfferKind::Free)).is_empty());
        assert!(check_terms(&terms(OfferKind::PriorityService)).is_empty());
    }

    #[test]
    fn required_fields_are_required() {
        assert_eq!(fields(&terms(OfferKind::PercentOff)), ["percent_off"]);
        assert_eq!(fields(&terms(OfferKind::AmountOff)), ["amount_off_fen"]);
        assert_eq!(fields(&terms(OfferKind::FixedPrice)), ["price_fen"]);
        assert_eq!(fields(&terms(OfferKind::Gift)), ["gift"]);
        assert_eq!(fields(&gift("")), ["gift"]);
        assert_eq!(fields(&gift("   ")), ["gift"]);
    }

    #[test]
    fn values_out_of_range_are_refused() {
        assert_eq!(fields(&percent(0)), ["percent_off"]);
        assert_eq!(fields(&percent(100)), ["percent_off"]);
        assert_eq!(fields(&percent(-5)), ["percent_off"]);
        assert_eq!(fields(&amount(0)), ["amount_off_fen"]);
        assert_eq!(fields(&amount(-100)), ["amount_off_fen"]);
        assert_eq!(fields(&price(-1)), ["price_fen"]);
        // 201 Chinese characters: the limit counts characters, not UTF-8 bytes.
        let long = check_terms(&gift(&"茶".repeat(201)));
        assert_eq!(long.len(), 1);
        assert_eq!(long[0].0, "gift");
        assert!(long[0].1.contains("200"), "{}", long[0].1);
    }

    #[test]
    fn fields_of_other_kinds_must_be_absent() {
        let all_set = |kind| OfferTerms {
            kind,
            percent_off: Some(10),
            amount_off_fen: Some(500),
            price_fen: Some(1_000),
            gift: Some("雨伞".to_string()),
        };
        assert_eq!(
            fields(&all_set(OfferKind::PercentOff)),
            ["amount_off_fen", "price_fen", "gift"]
        );
        assert_eq!(
            fields(&all_set(OfferKind::AmountOff)),
            ["percent_off", "price_fen", "gift"]
        );
        assert_eq!(
            fields(&all_set(OfferKind::FixedPrice)),
            ["percent_off", "amount_off_fen", "gift"]
        );
        assert_eq!(
            fields(&all_set(OfferKind::Gift)),
            ["percent_off", "amount_off_fen", "price_fen"]
        );
        for kind in [OfferKind::Free, OfferKind::PriorityService] {
            assert_eq!(
                fields(&all_set(kind)),
                ["percent_off", "amount_off_fen", "price_fen", "gift"]
            );
        }
        // Even an empty gift text is a stray value on a non-gift offer.
        let stray = OfferTerms {
            gift: Some(String::new()),
            ..terms(OfferKind::Free)
        };
        let errors = check_terms(&stray);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "gift");
        assert!(errors[0].1.contains("free"), "{}", errors[0].1);
    }

    // ---- discounts ----

    #[test]
    fn percent_off_rounds_half_up_to_the_fen() {
        assert_eq!(discount_fen(&percent(10), Some(10_000)), Ok(1_000));
        assert_eq!(discount_fen(&percent(15), Some(1_999)), Ok(300)); // 299.85
        assert_eq!(discount_fen(&percent(10), Some(5)), Ok(1)); // 0.5 rounds up
        assert_eq!(discount_fen(&percent(10), Some(4)), Ok(0)); // 0.4 rounds down
        assert_eq!(discount_fen(&percent(33), Some(150)), Ok(50)); // 49.5
        assert_eq!(discount_fen(&percent(99), Some(1)), Ok(1)); // 0.99
        assert_eq!(discount_fen(&percent(50), Some(0)), Ok(0));
        assert_eq!(discount_fen(&percent(10), None), Err("bill_required"));
    }

    #[test]
    fn percent_off_does_not_overflow_on_huge_bills() {
        let saved = discount_fen(&percent(99), Some(i64::MAX)).unwrap();
        assert!(saved < i64::MAX && saved > i64::MAX / 100 * 98);
    }

    #[test]
    fn amount_off_is_capped_by_the_bill() {
        assert_eq!(discount_fen(&amount(2_000), Some(10_000)), Ok(2_000));
        assert_eq!(discount_fen(&amount(2_000), Some(1_500)), Ok(1_500));
        assert_eq!(discount_fen(&amount(2_000), Some(0)), Ok(0));
        assert_eq!(discount_fen(&amount(2_000), None), Ok(2_000));
    }

    #[test]
    fn fixed_price_saves_the_difference_and_never_less_than_nothing() {
        assert_eq!(discount_fen(&price(9_900), Some(12_800)), Ok(2_900));
        assert_eq!(discount_fen(&price(9_900), Some(9_900)), Ok(0));
        assert_eq!(discount_fen(&price(9_900), Some(5_000)), Ok(0));
        assert_eq!(discount_fen(&price(0), Some(3_000)), Ok(3_000));
        assert_eq!(discount_fen(&price(9_900), None), Err("bill_required"));
    }

    #[test]
    fn free_priority_and_gift() {
        let free = terms(OfferKind::Free);
        assert_eq!(discount_fen(&free, Some(4_500)), Ok(4_500));
        assert_eq!(discount_fen(&free, None), Ok(0));
        let priority = terms(OfferKind::PriorityService);
        assert_eq!(discount_fen(&priority, Some(4_500)), Ok(0));
        assert_eq!(discount_fen(&priority, None), Ok(0));
        assert_eq!(discount_fen(&gift("雨伞"), Some(4_500)), Ok(0));
        assert_eq!(discount_fen(&gift("雨伞"), None), Ok(0));
    }

    #[test]
    fn a_negative_bill_is_refused_for_every_kind() {
        for t in [
            percent(10),
            amount(100),
            price(100),
            terms(OfferKind::Free),
            terms(OfferKind::PriorityService),
            gift("雨伞"),
        ] {
            assert_eq!(discount_fen(&t, Some(-1)), Err("invalid_bill"), "{t:?}");
        }
    }

    #[test]
    fn unusable_terms_are_reported_not_guessed() {
        assert_eq!(
            discount_fen(&terms(OfferKind::PercentOff), Some(100)),
            Err("invalid_terms")
        );
        assert_eq!(discount_fen(&percent(100), Some(100)), Err("invalid_terms"));
        assert_eq!(
            discount_fen(&terms(OfferKind::AmountOff), None),
            Err("invalid_terms")
        );
        assert_eq!(discount_fen(&amount(-5), Some(100)), Err("invalid_terms"));
        assert_eq!(discount_fen(&price(-5), Some(100)), Err("invalid_terms"));
        // Amounts stored before they were bounded give no discount of their own.
        assert_eq!(discount_fen(&amount(i64::MAX), None), Err("invalid_terms"));
        assert_eq!(
            discount_fen(&price(MAX_AMOUNT_FEN + 1), Some(100)),
            Err("invalid_terms")
        );
    }

    #[test]
    fn offer_amounts_are_bounded_at_what_a_till_deals_in() {
        assert_eq!(
            discount_fen(&amount(MAX_AMOUNT_FEN), None),
            Ok(MAX_AMOUNT_FEN)
        );
        assert!(check_terms(&amount(MAX_AMOUNT_FEN)).is_empty());
        assert!(check_terms(&price(MAX_AMOUNT_FEN)).is_empty());
        let too_much = check_terms(&amount(MAX_AMOUNT_FEN + 1));
        assert_eq!(too_much.len(), 1);
        assert_eq!(too_much[0].0, "amount_off_fen");
        assert!(
            too_much[0].1.contains("1000000000 fen (10000000.00 yuan)"),
            "{too_much:?}"
        );
        assert_eq!(check_terms(&price(i64::MAX))[0].0, "price_fen");
    }

    // ---- eligibility ----

    const OPEN: Eligibility<'static> = Eligibility {
        categories: &[],
        min_honor: None,
        card_products: &[],
    };

    #[test]
    fn an_unrestricted_offer_admits_everyone() {
        for c in Category::ALL {
            assert!(is_eligible(&OPEN, c, &[], "standard"));
        }
    }

    #[test]
    fn categories_restrict() {
        let cats = [Category::Veteran, Category::DisabledVeteran];
        let e = Eligibility {
            categories: &cats,
            ..OPEN
        };
        assert!(is_eligible(&e, Category::Veteran, &[], "standard"));
        assert!(is_eligible(&e, Category::DisabledVeteran, &[], "standard"));
        assert!(!is_eligible(&e, Category::ActiveDuty, &[], "standard"));
    }

    #[test]
    fn a_minimum_honour_admits_that_rank_or_higher() {
        let e = Eligibility {
            min_honor: Some(Honor::ThirdClassMerit),
            ..OPEN
        };
        let v = Category::Veteran;
        assert!(is_eligible(&e, v, &[Honor::FirstClassMerit], ""));
        assert!(is_eligible(&e, v, &[Honor::ThirdClassMerit], ""));
        assert!(!is_eligible(&e, v, &[], ""), "no honours, no entry");

        let e = Eligibility {
            min_honor: Some(Honor::FirstClassMerit),
            ..OPEN
        };
        assert!(!is_eligible(&e, v, &[Honor::SecondClassMerit], ""));
        assert!(is_eligible(
            &e,
            v,
            &[Honor::ThirdClassMerit, Honor::FirstClassMerit],
            ""
        ));

        // Combat hero is the highest: it meets every minimum, and only it meets its own.
        for min in Honor::ALL {
            let e = Eligibility {
                min_honor: Some(min),
                ..OPEN
            };
            assert!(is_eligible(&e, v, &[Honor::CombatHero], ""), "{min}");
        }
        let e = Eligibility {
            min_honor: Some(Honor::CombatHero),
            ..OPEN
        };
        assert!(!is_eligible(&e, v, &[Honor::FirstClassMerit], ""));
    }

    #[test]
    fn card_products_restrict() {
        let products = strings(&["veteran_card", "family_card"]);
        let e = Eligibility {
            card_products: &products,
            ..OPEN
        };
        assert!(is_eligible(&e, Category::Veteran, &[], "veteran_card"));
        assert!(!is_eligible(&e, Category::Veteran, &[], "other_card"));
        assert!(!is_eligible(&e, Category::Veteran, &[], ""));
    }

    #[test]
    fn every_restriction_must_hold() {
        let cats = [Category::Veteran];
        let products = strings(&["veteran_card"]);
        let e = Eligibility {
            categories: &cats,
            min_honor: Some(Honor::SecondClassMerit),
            card_products: &products,
        };
        let h = [Honor::SecondClassMerit];
        assert!(is_eligible(&e, Category::Veteran, &h, "veteran_card"));
        assert!(!is_eligible(
            &e,
            Category::MilitaryFamily,
            &h,
            "veteran_card"
        ));
        assert!(!is_eligible(&e, Category::Veteran, &[], "veteran_card"));
        assert!(!is_eligible(&e, Category::Veteran, &h, "family_card"));
    }

    // ---- validity in time ----

    #[test]
    fn the_window_includes_its_start_and_excludes_its_end() {
        let from = at(2026, 7, 1, 0, 0);
        let until = Some(at(2026, 8, 1, 0, 0));
        assert!(!available_at(from, until, &[], at(2026, 6, 30, 23, 59)));
        assert!(available_at(from, until, &[], from));
        assert!(available_at(from, until, &[], at(2026, 7, 31, 23, 59)));
        assert!(!available_at(from, until, &[], at(2026, 8, 1, 0, 0)));
        assert!(available_at(from, None, &[], at(2099, 1, 1, 0, 0)));
    }

    #[test]
    fn recurring_dates_follow_the_china_calendar() {
        let from = at(2020, 1, 1, 0, 0);
        let army_day = strings(&["08-01"]);
        // 16:00 UTC on 31 July is midnight on 1 August in China.
        assert!(available_at(from, None, &army_day, at(2026, 7, 31, 16, 0)));
        assert!(!available_at(
            from,
            None,
            &army_day,
            at(2026, 7, 31, 15, 59)
        ));
        assert!(available_at(from, None, &army_day, at(2026, 8, 1, 15, 59)));
        assert!(!available_at(from, None, &army_day, at(2026, 8, 1, 16, 0)));
    }

    #[test]
    fn recurring_dates_still_respect_the_window() {
        let army_day = strings(&["08-01"]);
        let from = at(2026, 7, 1, 0, 0);
        let until = Some(at(2027, 1, 1, 0, 0));
        assert!(available_at(from, until, &army_day, at(2026, 8, 1, 2, 0)));
        assert!(!available_at(from, until, &army_day, at(2027, 8, 1, 2, 0)));
    }

    #[test]
    fn recurring_dates_are_normalised_and_bad_ones_never_match() {
        let from = at(2020, 1, 1, 0, 0);
        let now = at(2026, 8, 1, 2, 0);
        assert!(available_at(from, None, &strings(&["8-1"]), now));
        assert!(available_at(from, None, &strings(&["01-01", "08-01"]), now));
        assert!(!available_at(from, None, &strings(&["13-01", "bad"]), now));
    }

    #[test]
    fn february_29_matches_only_in_leap_years() {
        let from = at(2020, 1, 1, 0, 0);
        let leap_day = strings(&["02-29"]);
        assert!(available_at(from, None, &leap_day, at(2028, 2, 29, 4, 0)));
        assert!(!available_at(from, None, &leap_day, at(2027, 2, 28, 4, 0)));
        assert!(!available_at(from, None, &leap_day, at(2027, 3, 1, 4, 0)));
    }

    #[test]
    fn month_days_are_checked_and_zero_padded() {
        assert_eq!(parse_month_day("08-01"), Ok("08-01".to_string()));
        assert_eq!(parse_month_day("8-1"), Ok("08-01".to_string()));
        assert_eq!(parse_month_day(" 12-31 "), Ok("12-31".to_string()));
        assert_eq!(parse_month_day("02-29"), Ok("02-29".to_string()));
        assert_eq!(parse_month_day("04-30"), Ok("04-30".to_string()));
        for bad in [
            "",
            "0801",
            "08/01",
            "00-10",
            "13-01",
            "02-30",
            "04-31",
            "06-00",
            "08-1-1",
            "008-01",
            "08-+1",
            "+8-01",
            "a-01",
            "08-",
            "-01",
            "08- 1",
            "０８-０１",
        ] {
            assert!(parse_month_day(bad).is_err(), "{bad:?} accepted");
        }
        let err = parse_month_day("02-30").unwrap_err();
        assert!(err.contains("02") && err.contains("30"), "{err}");
    }

    // ---- per-holder periods ----

    #[test]
    fn period_keys_use_china_time() {
        let now = at(2026, 7, 31, 16, 0); // 2026-08-01 00:00 in China
        assert_eq!(period_key(HolderPeriod::Day, now), "2026-08-01");
        assert_eq!(period_key(HolderPeriod::Week, now), "2026-W31");
        assert_eq!(period_key(HolderPeriod::Month, now), "2026-08");
        assert_eq!(period_key(HolderPeriod::Year, now), "2026");
        assert_eq!(period_key(HolderPeriod::Lifetime, now), "all");

        let before = at(2026, 7, 31, 15, 59); // still 31 July in China
        assert_eq!(period_key(HolderPeriod::Day, before), "2026-07-31");
        assert_eq!(period_key(HolderPeriod::Month, before), "2026-07");
    }

    #[test]
    fn weeks_follow_iso_numbering_across_years() {
        // 2027-01-01 in China (a Friday) is in the last week of 2026.
        let new_year = at(2026, 12, 31, 16, 0);
        assert_eq!(period_key(HolderPeriod::Day, new_year), "2027-01-01");
        assert_eq!(period_key(HolderPeriod::Week, new_year), "2026-W53");
        assert_eq!(period_key(HolderPeriod::Year, new_year), "2027");
        // Monday 2027-01-04 starts week 1.
        assert_eq!(
            period_key(HolderPeriod::Week, at(2027, 1, 3, 16, 0)),
            "2027-W01"
        );
        // Monday 2024-12-30 is already in 2025's week 1.
        assert_eq!(
            period_key(HolderPeriod::Week, at(2024, 12, 30, 4, 0)),
            "2025-W01"
        );
        // Sunday to Monday in China changes the week.
        assert_eq!(
            period_key(HolderPeriod::Week, at(2026, 8, 2, 15, 59)),
            "2026-W31"
        );
        assert_eq!(
            period_key(HolderPeriod::Week, at(2026, 8, 2, 16, 0)),
            "2026-W32"
        );
    }

    #[test]
    fn china_time_does_not_panic_at_the_end_of_time() {
        assert_eq!(
            period_key(HolderPeriod::Lifetime, NaiveDateTime::MAX),
            "all"
        );
        let _ = period_key(HolderPeriod::Day, NaiveDateTime::MAX);
    }

    // ---- material change ----

    #[test]
    fn material_fields() {
        for field in [
            "kind",
            "percent_off",
            "amount_off_fen",
            "price_fen",
            "gift",
            "eligible_categories",
            "min_honor",
            "companions_allowed",
            "valid_from",
            "valid_until",
            "recurring_dates",
            "total_quota",
            "per_holder_limit",
            "per_holder_period",
            "card_products",
            "channel",
        ] {
            assert!(is_material_change(field), "{field}");
        }
        for field in ["title", "description", "", "Kind", "status"] {
            assert!(!is_material_change(field), "{field}");
        }
    }

    // ---- vocabularies ----

    /// Checks `ALL`, `as_str`, `parse`, `Display` and serde agree for one vocabulary.
    fn assert_vocabulary<T>(all: &[T], parse: fn(&str) -> Option<T>, texts: &[&str])
    where
        T: Copy
            + PartialEq
            + fmt::Debug
            + fmt::Display
            + serde::Serialize
            + serde::de::DeserializeOwned,
    {
        let listed: Vec<String> = all.iter().map(|v| v.to_string()).collect();
        assert_eq!(listed, texts);
        for &v in all {
            let text = v.to_string();
            assert_eq!(parse(&text), Some(v));
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{text}\""));
            let back: T = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(back, v);
        }
    }

    #[test]
    fn vocabularies_round_trip() {
        assert_vocabulary(
            &OfferKind::ALL,
            OfferKind::parse,
            &[
                "percent_off",
                "amount_off",
                "fixed_price",
                "free",
                "priority_service",
                "gift",
            ],
        );
        assert_vocabulary(
            &S::ALL,
            S::parse,
            &["pending_review", "active", "paused", "ended", "rejected"],
        );
        assert_vocabulary(
            &HolderPeriod::ALL,
            HolderPeriod::parse,
            &["day", "week", "month", "year", "lifetime"],
        );
        assert_vocabulary(&Channel::ALL, Channel::parse, &["in_store", "online"]);
        assert_vocabulary(
            &A::ALL,
            A::parse,
            &["approve", "reject", "pause", "resume", "end", "resubmit"],
        );
        assert_eq!(S::parse("Active"), None);
        assert_eq!(Channel::parse(" online"), None);
    }
}
