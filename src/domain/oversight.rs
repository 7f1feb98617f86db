//! Oversight (监督): complaints and ratings, the exit-review flag (退出复核) they raise,
//! and reproducible spot-check samples (随机抽查). Pure rules, no I/O.

use sha2::{Digest, Sha256};

/// How far back complaint figures look when deciding whether to flag a merchant.
pub const WINDOW_DAYS: i64 = 90;

vocabulary! {
    /// Where a complaint is in its handling.
    pub enum ComplaintStatus: "a complaint status" {
        Open => "open",
        Resolved => "resolved",
    }
}

vocabulary! {
    /// How an office settled a complaint.
    pub enum ComplaintOutcome: "a complaint outcome" {
        /// 属实: the complaint is founded.
        Upheld => "upheld",
        /// 调解: settled between holder and merchant.
        Mediated => "mediated",
        /// 不属实: unfounded. Dismissed complaints no longer count towards the flag.
        Dismissed => "dismissed",
    }
}

vocabulary! {
    /// A spot check's finding about one merchant.
    pub enum InspectionOutcome: "a spot-check outcome" {
        Compliant => "compliant",
        /// Flags the merchant for exit review.
        NonCompliant => "non_compliant",
    }
}

vocabulary! {
    /// What an administrator decides about a merchant flagged for exit review.
    pub enum ExitReviewDecision: "an exit-review decision" {
        /// Keep the merchant as it is; the flag clears.
        Retain => "retain",
        Suspend => "suspend",
        Revoke => "revoke",
    }
}

impl ExitReviewDecision {
    /// The lifecycle action the decision carries out, if any.
    pub fn action(self) -> Option<super::merchant::Action> {
        use super::merchant::Action;
        match self {
            ExitReviewDecision::Retain => None,
            ExitReviewDecision::Suspend => Some(Action::Suspend),
            ExitReviewDecision::Revoke => Some(Action::Revoke),
        }
    }
}

/// When complaint figures flag a merchant for exit review (see the README, Oversight).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExitReviewThresholds {
    /// Flag when complaints / completed redemptions over the window is above this.
    /// Default 0.05: one complaint in twenty visits is far above what a partner that
    /// honours its commitments draws, yet low enough to catch one that does not.
    pub max_complaint_rate: f64,
    /// Flag when the average rating over the window is below this (1–5 scale).
    /// Default 3.0: below the scale's midpoint, holders are on balance dissatisfied.
    pub min_average_rating: f64,
    /// Neither figure trips before this many *different holders* have complained in the
    /// window. Default 3: one angry customer (or one filing many complaints) is never
    /// enough, and at county scale three separate holders are already a pattern.
    pub min_complainants: u32,
}

impl Default for ExitReviewThresholds {
    fn default() -> Self {
        ExitReviewThresholds {
            max_complaint_rate: 0.05,
            min_average_rating: 3.0,
            min_complainants: 3,
        }
    }
}

impl ExitReviewThresholds {
    /// Checks values read from configuration.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.max_complaint_rate.is_finite() && self.max_complaint_rate >= 0.0) {
            return Err("YONGJUN_FLAG_COMPLAINT_RATE must be a number of at least 0".into());
        }
        if !(0.0..=5.0).contains(&self.min_average_rating) {
            return Err("YONGJUN_FLAG_MIN_RATING must be between 0 and 5".into());
        }
        if self.min_complainants == 0 {
            return Err("YONGJUN_FLAG_MIN_COMPLAINANTS must be at least 1".into());
        }
        Ok(())
    }
}

/// What the flag rule looks at: a merchant's complaints and redemptions in the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ComplaintFigures {
    /// Complaints counted (not dismissed, filed after the last exit-review decision).
    pub complaints: i64,
    /// Different holders among them.
    pub complainants: i64,
    /// Sum of their ratings.
    pub rating_sum: i64,
    /// Completed redemptions at the merchant in the window.
    pub redemptions: i64,
}

impl ComplaintFigures {
    pub fn average_rating(&self) -> Option<f64> {
        (self.complaints > 0).then(|| self.rating_sum as f64 / self.complaints as f64)
    }

    /// Complaints per completed redemption; `None` without redemptions.
    pub fn complaint_rate(&self) -> Option<f64> {
        (self.redemptions > 0).then(|| self.complaints as f64 / self.redemptions as f64)
    }
}

/// Why `figures` flag a merchant for exit review, or `None` when they do not.
pub fn exit_review_reason(
    figures: &ComplaintFigures,
    thresholds: &ExitReviewThresholds,
) -> Option<String> {
    if figures.complainants < i64::from(thresholds.min_complainants) {
        return None;
    }
    let mut reasons = Vec::new();
    match figures.complaint_rate() {
        Some(rate) if rate > thresholds.max_complaint_rate => reasons.push(format!(
            "complaint rate {:.1}% above {:.1}% ({} complaints / {} redemptions in {} days)",
            rate * 100.0,
            thresholds.max_complaint_rate * 100.0,
            figures.complaints,
            figures.redemptions,
            WINDOW_DAYS
        )),
        // Complaints but no completed redemption left (all voided): as bad as it gets.
        None if figures.complaints > 0 => reasons.push(format!(
            "{} complaints and no completed redemption in {} days",
            figures.complaints, WINDOW_DAYS
        )),
        _ => {}
    }
    if let Some(average) = figures.average_rating() {
        if average < thresholds.min_average_rating {
            reasons.push(format!(
                "average rating {average:.2} below {:.2} ({} complaints from {} holders in {} days)",
                thresholds.min_average_rating, figures.complaints, figures.complainants, WINDOW_DAYS
            ));
        }
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// The flag reason a non-compliant spot-check result gives.
pub fn inspection_reason(inspection_id: &uuid::Uuid, notes: Option<&str>) -> String {
    match notes.filter(|n| !n.is_empty()) {
        Some(notes) => format!("spot check {inspection_id}: non_compliant ({notes})"),
        None => format!("spot check {inspection_id}: non_compliant"),
    }
}

/// A further reason for a merchant that may already be flagged: reasons accumulate
/// until an administrator decides, so none is lost.
pub fn add_reason(existing: Option<&str>, new: &str) -> String {
    match existing.filter(|e| !e.is_empty()) {
        Some(existing) if existing.contains(new) => existing.to_owned(),
        Some(existing) => format!("{existing}; {new}"),
        None => new.to_owned(),
    }
}

/// The rank key of a candidate in a sample: SHA-256 of the seed (8 bytes, big-endian)
/// followed by the id's 16 bytes.
fn rank_key(seed: i64, id: &uuid::Uuid) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_be_bytes());
    hasher.update(id.as_bytes());
    hasher.finalize().into()
}

/// The spot-check sample: the candidates ordered by [`rank_key`], first `size` of them.
///
/// Anyone holding the seed and the list of candidates can redraw it by hand, and it does
/// not depend on the version of a random-number crate or on the order candidates were
/// read in. Returns everything when `size` exceeds the population.
pub fn draw_sample(seed: i64, candidates: &[uuid::Uuid], size: usize) -> Vec<uuid::Uuid> {
    let mut ranked: Vec<([u8; 32], uuid::Uuid)> = candidates
        .iter()
        .map(|id| (rank_key(seed, id), *id))
        .collect();
    ranked.sort_unstable();
    ranked.dedup_by(|a, b| a.1 == b.1);
    ranked.into_iter().take(size).map(|(_, id)| id).collect()
}

/// Largest integer a JSON number keeps exactly in JavaScript (2^53 − 1): generated seeds
/// stay below it so every client can read and resend them.
pub const MAX_GENERATED_SEED: i64 = (1 << 53) - 1;

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(
        complaints: i64,
        complainants: i64,
        rating_sum: i64,
        redemptions: i64,
    ) -> ComplaintFigures {
        ComplaintFigures {
            complaints,
            complainants,
            rating_sum,
            redemptions,
        }
    }

    #[test]
    fn too_few_complainants_never_flag() {
        let t = ExitReviewThresholds::default();
        // Two holders, every complaint one star, half the visits complained of.
        assert_eq!(exit_review_reason(&figures(2, 2, 2, 4), &t), None);
        // One holder complaining ten times is still one angry customer.
        assert_eq!(exit_review_reason(&figures(10, 1, 10, 10), &t), None);
    }

    #[test]
    fn a_high_complaint_rate_flags() {
        let t = ExitReviewThresholds::default();
        let reason = exit_review_reason(&figures(3, 3, 12, 20), &t).unwrap();
        assert!(
            reason.starts_with("complaint rate 15.0% above 5.0%"),
            "{reason}"
        );
        assert!(
            !reason.contains("average rating"),
            "ratings of 4 are fine: {reason}"
        );
    }

    #[test]
    fn a_low_average_rating_flags() {
        let t = ExitReviewThresholds::default();
        // 3 complaints in 1000 visits is a low rate, but they are all one star.
        let reason = exit_review_reason(&figures(3, 3, 3, 1000), &t).unwrap();
        assert_eq!(
            reason,
            "average rating 1.00 below 3.00 (3 complaints from 3 holders in 90 days)"
        );
    }

    #[test]
    fn both_reasons_are_given() {
        let t = ExitReviewThresholds::default();
        let reason = exit_review_reason(&figures(4, 3, 6, 10), &t).unwrap();
        assert!(reason.contains("complaint rate 40.0%") && reason.contains("average rating 1.50"));
    }

    #[test]
    fn thresholds_are_strict() {
        let t = ExitReviewThresholds::default();
        // Exactly 5% and exactly 3.0 do not cross.
        assert_eq!(exit_review_reason(&figures(3, 3, 9, 60), &t), None);
    }

    #[test]
    fn complaints_without_redemptions_flag() {
        let t = ExitReviewThresholds::default();
        let reason = exit_review_reason(&figures(3, 3, 15, 0), &t).unwrap();
        assert!(reason.contains("no completed redemption"), "{reason}");
    }

    #[test]
    fn thresholds_are_checked() {
        assert!(ExitReviewThresholds::default().validate().is_ok());
        let bad = ExitReviewThresholds {
            min_complainants: 0,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let bad = ExitReviewThresholds {
            min_average_rating: 6.0,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let bad = ExitReviewThresholds {
            max_complaint_rate: f64::NAN,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn reasons_accumulate_without_repeating() {
        assert_eq!(add_reason(None, "a"), "a");
        assert_eq!(add_reason(Some("a"), "b"), "a; b");
        assert_eq!(add_reason(Some("a; b"), "b"), "a; b");
    }

    fn ids(n: u128) -> Vec<uuid::Uuid> {
        (1..=n).map(uuid::Uuid::from_u128).collect()
    }

    #[test]
    fn the_sample_is_pinned_by_the_seed() {
        // Pinned: a change here changes every recorded inspection's sample.
        let sample = draw_sample(42, &ids(10), 3);
        let again = draw_sample(42, &ids(10), 3);
        assert_eq!(sample, again);
        let expected: Vec<uuid::Uuid> = {
            let mut keyed: Vec<([u8; 32], uuid::Uuid)> = ids(10)
                .into_iter()
                .map(|id| {
                    let mut bytes = 42i64.to_be_bytes().to_vec();
                    bytes.extend_from_slice(id.as_bytes());
                    (Sha256::digest(&bytes).into(), id)
                })
                .collect();
            keyed.sort();
            keyed.into_iter().take(3).map(|(_, id)| id).collect()
        };
        assert_eq!(sample, expected);
        assert_eq!(
            sample.iter().map(|id| id.as_u128()).collect::<Vec<_>>(),
            PINNED_SEED_42
        );
    }

    /// `draw_sample(42, ids 1..=10, 3)`, computed once and checked independently (Python
    /// hashlib: `sorted(sha256(pack(">q", 42) + UUID(int=n).bytes) for n in 1..=10)`).
    const PINNED_SEED_42: [u128; 3] = [1, 9, 4];

    #[test]
    fn the_sample_ignores_candidate_order_and_varies_with_the_seed() {
        let mut reversed = ids(20);
        reversed.reverse();
        assert_eq!(draw_sample(7, &ids(20), 5), draw_sample(7, &reversed, 5));
        let differing = (1..10)
            .filter(|seed| draw_sample(*seed, &ids(20), 5) != draw_sample(0, &ids(20), 5))
            .count();
        assert_eq!(differing, 9);
    }

    #[test]
    fn a_sample_larger_than_the_population_takes_all() {
        let sample = draw_sample(1, &ids(4), 10);
        assert_eq!(sample.len(), 4);
        let mut sorted = sample.clone();
        sorted.sort();
        assert_eq!(sorted, ids(4));
        assert!(draw_sample(1, &[], 3).is_empty());
    }
}
