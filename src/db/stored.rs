//! Reading vocabulary columns back into their enums. A stored value that is not in its
//! vocabulary (a row written behind the service's back, or by a newer version) is a
//! [`CorruptRow`] naming the table, the row, the column and the value: an internal
//! error, never a silent default that would read as another legal state.

use crate::domain::Vocabulary;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table} row {id}: column {column} holds {value:?}, which is not {expected}")]
pub struct CorruptRow {
    pub table: &'static str,
    pub id: String,
    pub column: &'static str,
    pub value: String,
    /// What the column should hold: "a merchant status".
    pub expected: &'static str,
}

/// The checked value of one row's vocabulary column.
pub type Stored<T> = Result<T, CorruptRow>;

/// `raw`, the `column` of row `id` of `table`, as a `T`.
pub fn vocab<T: Vocabulary>(
    table: &'static str,
    id: impl std::fmt::Display,
    column: &'static str,
    raw: &str,
) -> Stored<T> {
    T::parse(raw).ok_or_else(|| CorruptRow {
        table,
        id: id.to_string(),
        column,
        value: raw.to_owned(),
        expected: T::NOUN,
    })
}

/// An optional vocabulary column.
pub fn vocab_opt<T: Vocabulary>(
    table: &'static str,
    id: impl std::fmt::Display,
    column: &'static str,
    raw: Option<&str>,
) -> Stored<Option<T>> {
    raw.map(|raw| vocab(table, id, column, raw)).transpose()
}

/// A list column stored as `",a,b,"` (see [`split_list`]), each value checked.
pub fn vocab_list<T: Vocabulary>(
    table: &'static str,
    id: impl std::fmt::Display,
    column: &'static str,
    raw: &str,
) -> Stored<Vec<T>> {
    let id = id.to_string();
    split_list(raw)
        .iter()
        .map(|value| vocab(table, &id, column, value))
        .collect()
}

/// `",medical,transport,"` → `["medical", "transport"]`.
pub fn split_list(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `["medical", "transport"]` → `",medical,transport,"`: each value between commas, so
/// `LIKE '%,medical,%'` finds it (see the migrations).
pub fn join_list<S: AsRef<str>>(values: &[S]) -> String {
    let mut joined = String::from(",");
    for value in values {
        joined.push_str(value.as_ref());
        joined.push(',');
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::merchant::{EmergencyCapability, MerchantStatus};

    #[test]
    fn a_known_value_reads_back_and_an_unknown_one_names_its_row() {
        let ok: MerchantStatus = vocab("merchants", "m1", "status", "active").unwrap();
        assert_eq!(ok, MerchantStatus::Active);
        let bad = vocab::<MerchantStatus>("merchants", "m1", "status", "zombie").unwrap_err();
        assert_eq!(
            bad.to_string(),
            "merchants row m1: column status holds \"zombie\", which is not a merchant status"
        );
    }

    #[test]
    fn lists_round_trip_and_every_member_is_checked() {
        let stored = join_list(&["medical", "transport"]);
        assert_eq!(stored, ",medical,transport,");
        assert_eq!(split_list(&stored), vec!["medical", "transport"]);
        assert_eq!(split_list(","), Vec::<String>::new());
        let caps: Vec<EmergencyCapability> =
            vocab_list("merchants", "m1", "emergency_capabilities", &stored).unwrap();
        assert_eq!(
            caps,
            vec![EmergencyCapability::Medical, EmergencyCapability::Transport]
        );
        assert!(vocab_list::<EmergencyCapability>("merchants", "m1", "c", ",medical,x,").is_err());
        assert_eq!(
            vocab_opt::<MerchantStatus>("merchants", "m1", "status", None).unwrap(),
            None
        );
    }
}
