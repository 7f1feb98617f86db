//! The use cases: what each person or terminal can do, one module per aggregate or
//! flow. A use case takes what it needs (the pool, the cache, the policy, the caller's
//! proven identity, a typed command) and returns a typed result; its transaction, its
//! audit entries and its cache invalidation live here, together. Nothing here knows the
//! HTTP framework: the command line, start-up and tests call these functions directly.

pub mod beneficiaries;
pub mod cards;
pub mod demo;
pub mod exports;
pub mod holders;
pub mod identity;
pub mod import;
pub mod merchants;
pub mod needs;
pub mod offers;
pub mod oversight;
pub mod permissions;
pub mod pos;
pub mod regions;
pub mod staff;
pub mod stats;
pub mod sweep;
pub mod targets;
pub mod tasks;
pub mod throttle;

use crate::cache::Cache;
use crate::domain::oversight::ExitReviewThresholds;
pub use crate::domain::Page;

/// The rules an office configures (settings), as the use cases follow them.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Departments whose `pass` a merchant needs before approval (联审).
    pub required_departments: Vec<String>,
    /// Length of the public notice (社会公示).
    pub public_notice_days: u32,
    /// Lifetime of a card QR token.
    pub qr_ttl_secs: u32,
    /// How old an offline verification may be when its redemption arrives.
    pub offline_max_age_hours: u32,
    /// The largest bill a redemption may carry, in fen.
    pub max_bill_fen: i64,
    /// How long a terminal may rely on a revocation feed it fetched.
    pub revocations_valid_hours: u32,
    /// When complaint figures flag a merchant for exit review.
    pub exit_review: ExitReviewThresholds,
    /// What day it is for the rules that count days (a task's overdue mark).
    pub clock: Clock,
}

/// What day it is: China's date, or a fixed day (`YONGJUN_TODAY`, for drills and tests,
/// so that a deadline can be passed without waiting for it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    fixed: Option<chrono::NaiveDate>,
}

impl Clock {
    /// China's date, as it turns.
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    /// Always `day`.
    pub fn fixed(day: chrono::NaiveDate) -> Clock {
        Clock { fixed: Some(day) }
    }

    /// `fixed` when given, else the system clock.
    pub fn from_setting(day: Option<chrono::NaiveDate>) -> Clock {
        Clock { fixed: day }
    }

    pub fn today(&self) -> chrono::NaiveDate {
        self.fixed.unwrap_or_else(crate::domain::china_today)
    }
}

/// Rows of one page and how many match in all.
pub type Listed<T> = (Vec<T>, i64);

/// After a commit: drops `keys` from the cache and tells every process to drop its own
/// copies. One that cannot be delivered now is not lost: the cache keeps it pending and
/// is not used (reads go to the database) until it has been delivered.
pub async fn invalidate(cache: &Cache, keys: Vec<String>) {
    if keys.is_empty() {
        return;
    }
    if let Err(error) = cache.invalidate(keys).await {
        tracing::warn!(
            %error,
            "cache invalidation not delivered; kept pending, the cache is not used until it is"
        );
    }
}
