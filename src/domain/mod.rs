//! Checked types and lifecycle rules, with no I/O.

/// Declares a closed vocabulary stored and exchanged as snake_case text.
///
/// The enum, `ALL`, `as_str` and `parse` come from one list so a new variant cannot be
/// left out of `ALL` (and so out of `parse`, seeds and the exhaustive tests below).
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|v| v.as_str() == raw)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod beneficiary;
pub mod card_no;
pub mod credit_code;
pub mod id_number;
pub mod merchant;
pub mod offer;
pub mod oversight;
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
    to_china(chrono::Utc::now().naive_utc())
}

/// A stored UTC time as China time.
pub fn to_china(utc: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    utc + chrono::Duration::hours(8)
}

/// Midnight China time at the start of `day`, as a stored UTC time.
pub fn china_midnight_utc(day: chrono::NaiveDate) -> chrono::NaiveDateTime {
    day.and_time(chrono::NaiveTime::MIN) - chrono::Duration::hours(8)
}

/// 1 January of `day`'s year.
pub fn year_start(day: chrono::NaiveDate) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&day), 1, 1).unwrap_or(day)
}

pub fn china_today() -> chrono::NaiveDate {
    china_now().date()
}
