//! Checked types and lifecycle rules, with no I/O.

/// A closed set of values stored and exchanged as snake_case text (a status, a
/// category): what [`vocabulary!`] declares.
pub trait Vocabulary: Copy + Eq + 'static {
    /// What one value is, for messages: "a merchant status".
    const NOUN: &'static str;

    fn all() -> &'static [Self];

    fn as_str(self) -> &'static str;

    fn parse(raw: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.as_str() == raw)
    }

    /// What a bad value is told: "must be pass or fail", "must be one of a, b, c".
    fn one_of() -> String {
        let names: Vec<&str> = Self::all().iter().map(|v| v.as_str()).collect();
        match names.as_slice() {
            [a, b] => format!("must be {a} or {b}"),
            _ => format!("must be one of {}", names.join(", ")),
        }
    }
}

/// Declares a closed vocabulary stored and exchanged as snake_case text.
///
/// The enum, `ALL`, `as_str` and `parse` come from one list so a new variant cannot be
/// left out of `ALL` (and so out of `parse`, seeds and the exhaustive tests below).
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident: $noun:literal {
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

        impl $crate::domain::Vocabulary for $name {
            const NOUN: &'static str = $noun;

            fn all() -> &'static [Self] {
                &Self::ALL
            }

            fn as_str(self) -> &'static str {
                $name::as_str(self)
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
pub mod needs;
pub mod network;
pub mod offer;
pub mod oversight;
pub mod phone;
pub mod quota;
pub mod region;
pub mod staff;
pub mod targets;

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

/// One page of a list: `page` from 1, `per_page` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Page {
    pub fn offset(&self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }
}

pub fn china_today() -> chrono::NaiveDate {
    china_now().date()
}
