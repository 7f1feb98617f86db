//! Checked types and lifecycle rules, with no I/O.

pub mod credit_code;
pub mod merchant;
pub mod phone;
pub mod region;
pub mod staff;

pub use credit_code::CreditCode;
pub use phone::Phone;
pub use region::RegionCode;
pub use staff::{Password, Role, Username};

/// The offices work on China Standard Time (UTC+8, no daylight saving): calendar dates
/// such as an agreement's last day, or the year of a badge number, are read there.
pub fn china_now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc() + chrono::Duration::hours(8)
}

pub fn china_today() -> chrono::NaiveDate {
    china_now().date()
}
