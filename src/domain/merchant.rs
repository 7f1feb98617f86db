//! Partner merchants (拥军商户): their vocabularies and lifecycle rules.
//!
//! An application goes `pending` → `under_review` → `public_notice` → `active`, and can
//! be `rejected` on the way. An active merchant can be `suspended` and reinstated,
//! lapses to `expired` when its agreement ends (a new agreement reactivates it), and
//! can be `revoked`. [`transition`] holds the complete table.

use std::fmt;

use chrono::{Days, NaiveDate, NaiveDateTime};

vocabulary! {
    /// Where a merchant is in its lifecycle. Only `active` merchants are shown to
    /// beneficiaries; `revoked` and `rejected` are final.
    pub enum MerchantStatus: "a merchant status" {
        /// Applied; no department has reviewed it yet.
        Pending => "pending",
        /// At least one department review is recorded.
        UnderReview => "under_review",
        /// Approved and published so the public can object before it takes effect.
        PublicNotice => "public_notice",
        /// Agreement signed and badge issued; offers discounts.
        Active => "active",
        /// Temporarily off the network, e.g. while a complaint is investigated.
        Suspended => "suspended",
        /// Removed for cause; a new application is needed to return.
        Revoked => "revoked",
        /// Application refused, by review or by an upheld objection.
        Rejected => "rejected",
        /// The agreement term ended; a new agreement reactivates it.
        Expired => "expired",
    }
}

impl MerchantStatus {
    /// Whether no action can move a merchant out of this status.
    pub fn is_terminal(self) -> bool {
        matches!(self, MerchantStatus::Revoked | MerchantStatus::Rejected)
    }
}

vocabulary! {
    /// The legal form the merchant is registered under.
    pub enum MerchantKind: "a merchant kind" {
        /// 企业
        Enterprise => "enterprise",
        /// 社会组织
        SocialOrg => "social_org",
        /// 个体工商户
        IndividualBusiness => "individual_business",
        /// 志愿服务队
        VolunteerTeam => "volunteer_team",
    }
}

vocabulary! {
    /// The line of business beneficiaries browse by.
    pub enum MerchantCategory: "a merchant category" {
        Medical => "medical",
        Pharmacy => "pharmacy",
        Finance => "finance",
        Insurance => "insurance",
        /// 粮油
        GrainOil => "grain_oil",
        Telecom => "telecom",
        Aviation => "aviation",
        Transport => "transport",
        Fuel => "fuel",
        BooksCulture => "books_culture",
        Tourism => "tourism",
        Dining => "dining",
        Lodging => "lodging",
        Retail => "retail",
        ElderlyCare => "elderly_care",
        Education => "education",
        Legal => "legal",
        Housing => "housing",
        Other => "other",
    }
}

vocabulary! {
    /// What a merchant can contribute when called on in an emergency (应急支援).
    pub enum EmergencyCapability: "an emergency capability" {
        Transport => "transport",
        Logistics => "logistics",
        Medical => "medical",
        Telecom => "telecom",
        RadioSpectrum => "radio_spectrum",
        Technology => "technology",
        Supplies => "supplies",
    }
}

vocabulary! {
    /// A department's review outcome.
    pub enum Verdict: "a review verdict" {
        Pass => "pass",
        Fail => "fail",
    }
}

vocabulary! {
    /// How an objection raised during public notice was settled.
    pub enum ObjectionOutcome: "an objection outcome" {
        /// The objection stands; the merchant is rejected.
        Upheld => "upheld",
        /// The objection is unfounded; the notice carries on.
        Dismissed => "dismissed",
    }
}

vocabulary! {
    /// Where an objection stands: `open` until an administrator settles it.
    pub enum ObjectionStatus: "an objection status" {
        Open => "open",
        Upheld => "upheld",
        Dismissed => "dismissed",
    }
}

vocabulary! {
    /// Something staff do to a merchant. Audit entries are named `merchant.<as_str>`.
    pub enum Action: "a merchant action" {
        RecordReview => "record_review",
        Approve => "approve",
        Reject => "reject",
        UpholdObjection => "uphold_objection",
        Activate => "activate",
        Suspend => "suspend",
        Reinstate => "reinstate",
        Revoke => "revoke",
        Expire => "expire",
        /// A new agreement for an active or expired merchant (续签).
        Renew => "renew",
    }
}

/// `action` is not allowed on a merchant in status `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTransition {
    pub from: MerchantStatus,
    pub action: Action,
}

impl fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot {} a merchant that is {}", self.action, self.from)
    }
}

impl std::error::Error for InvalidTransition {}

/// The status `action` moves a merchant in status `from` to.
///
/// Only the status machine is checked here; preconditions that need data (every
/// required department passed, notice period over, agreement recorded) are the
/// caller's to check, e.g. with [`review_gap`].
pub fn transition(
    from: MerchantStatus,
    action: Action,
) -> Result<MerchantStatus, InvalidTransition> {
    use Action as A;
    use MerchantStatus as S;
    let to = match (from, action) {
        // Each further department's review keeps it under review.
        (S::Pending | S::UnderReview, A::RecordReview) => S::UnderReview,
        (S::UnderReview, A::Approve) => S::PublicNotice,
        (S::Pending | S::UnderReview, A::Reject) => S::Rejected,
        (S::PublicNotice, A::UpholdObjection) => S::Rejected,
        // From expired this is a renewal under a new agreement.
        (S::PublicNotice | S::Expired, A::Activate) => S::Active,
        (S::Active, A::Suspend) => S::Suspended,
        (S::Suspended, A::Reinstate) => S::Active,
        (S::Active | S::Suspended | S::Expired, A::Revoke) => S::Revoked,
        (S::Active, A::Expire) => S::Expired,
        (S::Active | S::Expired, A::Renew) => S::Active,
        _ => return Err(InvalidTransition { from, action }),
    };
    Ok(to)
}

/// The status to show and enforce today.
///
/// An agreement can lapse before the job that records `expired` has run, so readers
/// must not trust a stored `active` alone. The end date is the last valid day.
pub fn effective_status(
    stored: MerchantStatus,
    agreement_end: Option<NaiveDate>,
    today: NaiveDate,
) -> MerchantStatus {
    match (stored, agreement_end) {
        (MerchantStatus::Active, Some(end)) if end < today => MerchantStatus::Expired,
        _ => stored,
    }
}

/// Which required departments still stand between a merchant and approval.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewGap {
    /// Required departments that have not reviewed the merchant.
    pub missing: Vec<String>,
    /// Required departments whose latest verdict is fail.
    pub failed: Vec<String>,
}

impl ReviewGap {
    /// Whether every required department has passed the merchant.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.failed.is_empty()
    }
}

/// Compares the departments whose review is `required` with each department's latest
/// verdict. Both lists keep the order of `required`; reviews by other departments are
/// ignored because they cannot stand in for a required one.
///
/// `latest` should hold one entry per department; if a department appears more than
/// once, its last entry counts, so a history in chronological order also works.
pub fn review_gap(required: &[String], latest: &[(String, Verdict)]) -> ReviewGap {
    let mut gap = ReviewGap::default();
    for department in required {
        let verdict = latest
            .iter()
            .rev()
            .find(|(d, _)| d == department)
            .map(|&(_, v)| v);
        match verdict {
            None => gap.missing.push(department.clone()),
            Some(Verdict::Fail) => gap.failed.push(department.clone()),
            Some(Verdict::Pass) => {}
        }
    }
    gap
}

/// The badge number shown on a merchant's plaque, e.g. `YJ-440303-2026-00001`.
/// `seq` is zero-padded to five digits; a sixth digit is kept rather than truncated
/// so numbers stay unique in a region with more than 99 999 merchants in one year.
pub fn badge_no(region_code: &str, year: i32, seq: u32) -> String {
    format!("YJ-{region_code}-{year}-{seq:05}")
}

/// When the public notice that starts at `approved_at` ends; with 0 days it ends at
/// once. Saturates at the latest representable time instead of panicking, since
/// `days` may come from configuration.
pub fn notice_ends_at(approved_at: NaiveDateTime, days: u32) -> NaiveDateTime {
    approved_at
        .checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDateTime::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use MerchantStatus as S;

    /// Every legal move; anything not listed must be refused.
    const LEGAL: [(MerchantStatus, Action, MerchantStatus); 16] = [
        (S::Pending, A::RecordReview, S::UnderReview),
        (S::UnderReview, A::RecordReview, S::UnderReview),
        (S::UnderReview, A::Approve, S::PublicNotice),
        (S::Pending, A::Reject, S::Rejected),
        (S::UnderReview, A::Reject, S::Rejected),
        (S::PublicNotice, A::UpholdObjection, S::Rejected),
        (S::PublicNotice, A::Activate, S::Active),
        (S::Expired, A::Activate, S::Active),
        (S::Active, A::Suspend, S::Suspended),
        (S::Suspended, A::Reinstate, S::Active),
        (S::Active, A::Revoke, S::Revoked),
        (S::Suspended, A::Revoke, S::Revoked),
        (S::Expired, A::Revoke, S::Revoked),
        (S::Active, A::Expire, S::Expired),
        (S::Active, A::Renew, S::Active),
        (S::Expired, A::Renew, S::Active),
    ];

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn legal_moves_lead_where_the_table_says() {
        for (from, action, to) in LEGAL {
            assert_eq!(transition(from, action), Ok(to), "{action} from {from}");
        }
    }

    #[test]
    fn every_other_move_is_refused() {
        let mut refused = 0;
        for from in S::ALL {
            for action in A::ALL {
                if LEGAL.iter().any(|&(f, a, _)| f == from && a == action) {
                    continue;
                }
                assert_eq!(
                    transition(from, action),
                    Err(InvalidTransition { from, action }),
                    "{action} from {from}"
                );
                refused += 1;
            }
        }
        // Fails if LEGAL lists a pair twice, which would hide a missing one.
        assert_eq!(refused, S::ALL.len() * A::ALL.len() - LEGAL.len());
    }

    #[test]
    fn terminal_statuses_have_no_way_out() {
        for from in S::ALL {
            let has_exit = A::ALL.into_iter().any(|a| transition(from, a).is_ok());
            assert_eq!(from.is_terminal(), !has_exit, "{from}");
        }
    }

    #[test]
    fn invalid_transition_reads_as_a_sentence() {
        let err = transition(S::Revoked, A::Reinstate).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot reinstate a merchant that is revoked"
        );
        let err: Box<dyn std::error::Error> = Box::new(err);
        assert!(err.source().is_none());
    }

    #[test]
    fn an_active_merchant_expires_the_day_after_its_agreement_ends() {
        let end = Some(date(2026, 6, 30));
        assert_eq!(
            effective_status(S::Active, end, date(2026, 6, 29)),
            S::Active
        );
        assert_eq!(
            effective_status(S::Active, end, date(2026, 6, 30)),
            S::Active
        );
        assert_eq!(
            effective_status(S::Active, end, date(2026, 7, 1)),
            S::Expired
        );
    }

    #[test]
    fn effective_status_changes_only_active_merchants() {
        let today = date(2027, 1, 1);
        assert_eq!(effective_status(S::Active, None, today), S::Active);
        for stored in S::ALL.into_iter().filter(|&s| s != S::Active) {
            for end in [None, Some(date(2026, 1, 1)), Some(date(2028, 1, 1))] {
                assert_eq!(effective_status(stored, end, today), stored);
            }
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn reviews(list: &[(&str, Verdict)]) -> Vec<(String, Verdict)> {
        list.iter().map(|&(d, v)| (d.to_string(), v)).collect()
    }

    #[test]
    fn review_gap_lists_missing_and_failed_in_required_order() {
        let required = names(&["veterans", "market", "tax", "health"]);
        let latest = reviews(&[
            ("health", Verdict::Fail),
            ("market", Verdict::Pass),
            ("veterans", Verdict::Fail),
        ]);
        let gap = review_gap(&required, &latest);
        assert_eq!(gap.missing, names(&["tax"]));
        assert_eq!(gap.failed, names(&["veterans", "health"]));
        assert!(!gap.is_complete());
    }

    #[test]
    fn review_gap_ignores_departments_not_required() {
        let required = names(&["veterans", "market"]);
        let latest = reviews(&[
            ("veterans", Verdict::Pass),
            ("police", Verdict::Fail),
            ("market", Verdict::Pass),
        ]);
        let gap = review_gap(&required, &latest);
        assert_eq!(gap, ReviewGap::default());
        assert!(gap.is_complete());
    }

    #[test]
    fn review_gap_with_no_reviews_misses_everything() {
        let required = names(&["veterans", "market"]);
        let gap = review_gap(&required, &[]);
        assert_eq!(gap.missing, required);
        assert!(gap.failed.is_empty());
    }

    #[test]
    fn review_gap_with_nothing_required_is_complete() {
        let latest = reviews(&[("veterans", Verdict::Fail)]);
        assert!(review_gap(&[], &latest).is_complete());
    }

    #[test]
    fn review_gap_counts_a_departments_last_entry() {
        let required = names(&["veterans", "market"]);
        let latest = reviews(&[
            ("veterans", Verdict::Fail),
            ("market", Verdict::Pass),
            ("veterans", Verdict::Pass),
            ("market", Verdict::Fail),
        ]);
        let gap = review_gap(&required, &latest);
        assert!(gap.missing.is_empty());
        assert_eq!(gap.failed, names(&["market"]));
    }

    #[test]
    fn badge_numbers_are_zero_padded() {
        assert_eq!(badge_no("440303", 2026, 1), "YJ-440303-2026-00001");
        assert_eq!(badge_no("110101", 2027, 99_999), "YJ-110101-2027-99999");
        assert_eq!(badge_no("110101", 2027, 100_000), "YJ-110101-2027-100000");
    }

    #[test]
    fn notice_ends_the_given_number_of_days_later() {
        let approved = date(2026, 2, 20).and_hms_opt(15, 30, 0).unwrap();
        assert_eq!(notice_ends_at(approved, 0), approved);
        assert_eq!(
            notice_ends_at(approved, 7),
            date(2026, 2, 27).and_hms_opt(15, 30, 0).unwrap()
        );
        assert_eq!(
            notice_ends_at(approved, 10),
            date(2026, 3, 2).and_hms_opt(15, 30, 0).unwrap()
        );
        assert_eq!(notice_ends_at(approved, u32::MAX), NaiveDateTime::MAX);
    }

    /// Checks `ALL`, `as_str`, `parse`, `Display` and serde agree for one vocabulary.
    fn assert_vocabulary<T>(all: &[T], parse: fn(&str) -> Option<T>)
    where
        T: Copy
            + PartialEq
            + fmt::Debug
            + fmt::Display
            + serde::Serialize
            + serde::de::DeserializeOwned,
    {
        let mut seen = std::collections::HashSet::new();
        for &v in all {
            let text = v.to_string();
            assert!(seen.insert(text.clone()), "{text} listed twice");
            assert_eq!(parse(&text), Some(v));
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{text}\""));
            let back: T = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(back, v);
        }
    }

    #[test]
    fn vocabularies_round_trip() {
        assert_vocabulary(&S::ALL, S::parse);
        assert_vocabulary(&MerchantKind::ALL, MerchantKind::parse);
        assert_vocabulary(&MerchantCategory::ALL, MerchantCategory::parse);
        assert_vocabulary(&EmergencyCapability::ALL, EmergencyCapability::parse);
        assert_vocabulary(&Verdict::ALL, Verdict::parse);
        assert_vocabulary(&ObjectionOutcome::ALL, ObjectionOutcome::parse);
        assert_vocabulary(&A::ALL, A::parse);
        assert_eq!(
            MerchantCategory::parse("grain_oil"),
            Some(MerchantCategory::GrainOil)
        );
        assert_eq!(S::parse("Active"), None);
        assert_eq!(S::parse(" active"), None);
        assert_eq!(A::parse(""), None);
    }

    #[test]
    fn vocabulary_sizes() {
        assert_eq!(S::ALL.len(), 8);
        assert_eq!(MerchantKind::ALL.len(), 4);
        assert_eq!(MerchantCategory::ALL.len(), 19);
        assert_eq!(EmergencyCapability::ALL.len(), 7);
        assert_eq!(Verdict::ALL.len(), 2);
        assert_eq!(ObjectionOutcome::ALL.len(), 2);
        assert_eq!(A::ALL.len(), 10);
    }
}
