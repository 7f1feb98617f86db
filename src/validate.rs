//! Parsing what a caller sent into checked values, every bad field reported at once.
//!
//! Each check returns `Option<T>`: the value, or `None` with the field's message
//! recorded. Optional fields give `Option<Option<T>>` (`Some(None)`: absent). At the end,
//! [`Fields::finish`] turns the values into the typed tuple, or one 422
//! `validation_failed` listing every bad field:
//!
//! ```text
//! let mut f = Fields::new();
//! let verdict = f.vocab::<Verdict>("verdict", body.verdict.as_deref());
//! let comment = f.optional_text("comment", body.comment.as_deref(), 2000);
//! let (verdict, comment) = f.finish((verdict, comment))?;
//! ```

use crate::domain::{Page, RegionCode, Vocabulary};
use crate::error::{AppError, AppResult, FieldError};

const YEARS_MESSAGE: &str = "must lie between 2000 and 2199";

fn in_service_years(day: &impl chrono::Datelike) -> bool {
    (2000..=2199).contains(&day.year())
}

#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

/// Trimmed text, blank counted as absent.
fn present(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|v| !v.is_empty())
}

/// The first control character of `text` (C0, DEL, C1: a NUL, which PostgreSQL cannot
/// store in text, above all) that it may not hold; line breaks and tabs are allowed in
/// free text (`multiline`).
pub fn control_character(text: &str, multiline: bool) -> Option<char> {
    text.chars()
        .find(|&c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
}

/// What a field holding the control character `c` is told.
pub fn control_message(c: char) -> String {
    if matches!(c, '\n' | '\r' | '\t') {
        format!("must be a single line (holds U+{:04X})", c as u32)
    } else {
        format!(
            "must not contain control characters (holds U+{:04X})",
            c as u32
        )
    }
}

impl Fields {
    pub fn new() -> Fields {
        Fields::default()
    }

    /// Records a message against `field`.
    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records every error of another collection (a nested value, the paging).
    pub fn extend(&mut self, errors: impl IntoIterator<Item = FieldError>) {
        self.errors.extend(errors);
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The value of a parse, or its message recorded against `field`.
    pub fn check<T, M: Into<String>>(&mut self, field: &str, result: Result<T, M>) -> Option<T> {
        result.map_err(|m| self.error(field, m)).ok()
    }

    /// A value that must be present, parsed by `parse`.
    pub fn required<R, T, M: Into<String>>(
        &mut self,
        field: &str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, M>,
    ) -> Option<T> {
        match raw {
            None => {
                self.error(field, "is required");
                None
            }
            Some(raw) => self.check(field, parse(raw)),
        }
    }

    /// A value that may be absent: `Some(None)` when it is.
    pub fn optional<R, T, M: Into<String>>(
        &mut self,
        field: &str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, M>,
    ) -> Option<Option<T>> {
        match raw {
            None => Some(None),
            Some(raw) => self.check(field, parse(raw)).map(Some),
        }
    }

    /// One line of text that must be given (trimmed; blank is missing), at most `max`
    /// characters, with no control character (no line break or tab either).
    pub fn text(&mut self, field: &str, raw: Option<&str>, max: usize) -> Option<String> {
        let value = self.required(field, present(raw), Ok::<_, String>)?;
        self.bounded(field, value, max, false)
    }

    /// One line of text that may be absent or blank, else as [`Fields::text`].
    pub fn optional_text(
        &mut self,
        field: &str,
        raw: Option<&str>,
        max: usize,
    ) -> Option<Option<String>> {
        match present(raw) {
            None => Some(None),
            Some(value) => self.bounded(field, value, max, false).map(Some),
        }
    }

    /// Free text that must be given (a description, a reason, a comment): as
    /// [`Fields::text`], but it may run over several lines (line breaks and tabs).
    pub fn free_text(&mut self, field: &str, raw: Option<&str>, max: usize) -> Option<String> {
        let value = self.required(field, present(raw), Ok::<_, String>)?;
        self.bounded(field, value, max, true)
    }

    /// Free text that may be absent or blank, else as [`Fields::free_text`].
    pub fn optional_free_text(
        &mut self,
        field: &str,
        raw: Option<&str>,
        max: usize,
    ) -> Option<Option<String>> {
        match present(raw) {
            None => Some(None),
            Some(value) => self.bounded(field, value, max, true).map(Some),
        }
    }

    fn bounded(&mut self, field: &str, value: &str, max: usize, multiline: bool) -> Option<String> {
        if let Some(c) = control_character(value, multiline) {
            self.error(field, control_message(c));
            None
        } else if value.chars().count() > max {
            self.error(field, format!("must be at most {max} characters"));
            None
        } else {
            Some(value.to_owned())
        }
    }

    /// Text that must be given, parsed by `parse` (trimmed; blank is missing).
    pub fn required_str<T, M: Into<String>>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, M>,
    ) -> Option<T> {
        self.required(field, present(raw), parse)
    }

    /// Text that may be absent or blank, else parsed by `parse`.
    pub fn optional_str<T, M: Into<String>>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, M>,
    ) -> Option<Option<T>> {
        self.optional(field, present(raw), parse)
    }

    /// One value of a vocabulary, required.
    pub fn vocab<T: Vocabulary>(&mut self, field: &str, raw: Option<&str>) -> Option<T> {
        self.required_str(field, raw, parse_vocab)
    }

    /// One value of a vocabulary, or absent (blank counts as absent).
    pub fn optional_vocab<T: Vocabulary>(
        &mut self,
        field: &str,
        raw: Option<&str>,
    ) -> Option<Option<T>> {
        self.optional_str(field, raw, parse_vocab)
    }

    /// A list of vocabulary values; each bad one is reported as `field[i]`, duplicates
    /// collapse.
    pub fn vocab_list<T: Vocabulary, S: AsRef<str>>(
        &mut self,
        field: &str,
        raw: &[S],
    ) -> Option<Vec<T>> {
        self.list(field, raw, |v| parse_vocab(v.as_ref()))
    }

    /// A list whose items are parsed by `parse`; each bad one is reported as
    /// `field[i]`, duplicates collapse.
    pub fn list<R, T: PartialEq, M: Into<String>>(
        &mut self,
        field: &str,
        raw: &[R],
        mut parse: impl FnMut(&R) -> Result<T, M>,
    ) -> Option<Vec<T>> {
        let mut values = Vec::with_capacity(raw.len());
        let mut ok = true;
        for (i, item) in raw.iter().enumerate() {
            match parse(item) {
                Ok(value) if !values.contains(&value) => values.push(value),
                Ok(_) => {}
                Err(message) => {
                    ok = false;
                    self.error(format!("{field}[{i}]"), message);
                }
            }
        }
        ok.then_some(values)
    }

    /// `page` (from 1, default 1) and `per_page` (1 to 100, default 20) of a list.
    pub fn page(&mut self, page: Option<u32>, per_page: Option<u32>) -> Option<Page> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(20);
        let mut ok = true;
        if page == 0 {
            self.error("page", "must be at least 1");
            ok = false;
        }
        if !(1..=100).contains(&per_page) {
            self.error("per_page", "must be between 1 and 100");
            ok = false;
        }
        ok.then_some(Page { page, per_page })
    }

    /// An optional region code (blank counts as absent).
    pub fn region(&mut self, field: &str, raw: Option<&str>) -> Option<Option<RegionCode>> {
        self.optional_str(field, raw, RegionCode::parse)
    }

    /// An optional `YYYY-MM-DD` day (China calendar; blank is absent). Years outside
    /// 2000–2199 are refused, so no range can reach past what the data can hold.
    pub fn date(&mut self, field: &str, raw: Option<&str>) -> Option<Option<chrono::NaiveDate>> {
        self.optional_str(field, raw, |raw| {
            match chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
                Ok(d) if in_service_years(&d) => Ok(d),
                Ok(_) => Err(YEARS_MESSAGE),
                Err(_) => Err("must be a date, YYYY-MM-DD"),
            }
        })
    }

    /// A day or time that JSON gave must lie in 2000–2199 too (PostgreSQL cannot hold
    /// some years chrono parses, and no agreement or offer means them); `false` after
    /// recording the error.
    pub fn service_years(&mut self, field: &str, value: Option<&impl chrono::Datelike>) -> bool {
        let ok = value.is_none_or(in_service_years);
        if !ok {
            self.error(field, YEARS_MESSAGE);
        }
        ok
    }

    /// The checked values, or one 422 `validation_failed` listing every bad field.
    pub fn finish<T: Complete>(self, values: T) -> AppResult<T::Output> {
        if !self.errors.is_empty() {
            return Err(AppError::validation(self.errors));
        }
        values.complete().ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "a field was left unparsed without an error"
            ))
        })
    }

    /// The value `make` builds from the checked fields (`?` on each), or one 422
    /// `validation_failed` listing every bad field. Reads as one struct literal where
    /// [`Fields::finish`] would need the fields listed twice.
    pub fn build<T>(self, make: impl FnOnce() -> Option<T>) -> AppResult<T> {
        self.finish(Some(()))?;
        make().ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "a field was left unparsed without an error"
            ))
        })
    }

    /// Every error recorded (a row of an import is reported, not refused).
    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }
}

/// `raw` as a value of `T` (trimmed), or what a bad value is told.
pub fn parse_vocab<T: Vocabulary>(raw: &str) -> Result<T, String> {
    T::parse(raw.trim()).ok_or_else(T::one_of)
}

/// Values that are complete when every one is `Some`: an `Option`, or a tuple of them.
pub trait Complete {
    type Output;
    fn complete(self) -> Option<Self::Output>;
}

impl<A> Complete for Option<A> {
    type Output = A;
    fn complete(self) -> Option<A> {
        self
    }
}

macro_rules! complete_tuple {
    ($($name:ident),+) => {
        impl<$($name),+> Complete for ($(Option<$name>,)+) {
            type Output = ($($name,)+);
            #[allow(non_snake_case)]
            fn complete(self) -> Option<Self::Output> {
                let ($($name,)+) = self;
                Some(($($name?,)+))
            }
        }
    };
}

complete_tuple!(A, B);
complete_tuple!(A, B, C);
complete_tuple!(A, B, C, D);
complete_tuple!(A, B, C, D, E);
complete_tuple!(A, B, C, D, E, F);
complete_tuple!(A, B, C, D, E, F, G);
complete_tuple!(A, B, C, D, E, F, G, H);
complete_tuple!(A, B, C, D, E, F, G, H, I);
complete_tuple!(A, B, C, D, E, F, G, H, I, J);
complete_tuple!(A, B, C, D, E, F, G, H, I, J, K);
complete_tuple!(A, B, C, D, E, F, G, H, I, J, K, L);
complete_tuple!(A, B, C, D, E, F, G, H, I, J, K, L, M);
complete_tuple!(A, B, C, D, E, F, G, H, I, J, K, L, M, N);
complete_tuple!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O);
complete_tuple!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::merchant::Verdict;

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut f = Fields::new();
        let verdict = f.vocab::<Verdict>("verdict", Some("maybe"));
        let name = f.text("name", Some("   "), 10);
        let long = f.optional_text("comment", Some("abcdef"), 3);
        let number = f.required("n", Some("x"), |r: &str| {
            r.parse::<i32>().map_err(|e| e.to_string())
        });
        let error = f.finish((verdict, name, long, number)).unwrap_err();
        assert_eq!(error.code, crate::error::Code::ValidationFailed);
        assert_eq!(
            error.errors,
            vec![
                FieldError::new("verdict", "must be pass or fail"),
                FieldError::new("name", "is required"),
                FieldError::new("comment", "must be at most 3 characters"),
                FieldError::new("n", "invalid digit found in string"),
            ]
        );
    }

    #[test]
    fn good_values_come_out_typed() {
        let mut f = Fields::new();
        let verdict = f.vocab::<Verdict>("verdict", Some(" pass "));
        let comment = f.optional_text("comment", None, 10);
        let blank = f.optional_vocab::<Verdict>("other", Some(""));
        let name = f.text("name", Some("  张三  "), 10);
        let (verdict, comment, blank, name) = f.finish((verdict, comment, blank, name)).unwrap();
        assert_eq!(verdict, Verdict::Pass);
        assert_eq!(comment, None);
        assert_eq!(blank, None);
        assert_eq!(name, "张三");
    }

    #[test]
    fn control_characters_are_refused_and_line_breaks_only_in_free_text() {
        let mut f = Fields::new();
        assert_eq!(f.text("a", Some("a\u{0}b"), 10), None);
        assert_eq!(f.text("b", Some("第一行\n第二行"), 10), None);
        assert_eq!(f.optional_text("c", Some("a\tb"), 10), None);
        assert_eq!(f.free_text("d", Some("a\u{85}b"), 10), None);
        assert_eq!(f.optional_free_text("e", Some("a\u{7f}"), 10), None);
        assert_eq!(
            f.free_text("f", Some(" 第一行\r\n\t第二行\n"), 20)
                .as_deref(),
            Some("第一行\r\n\t第二行")
        );
        // Trimmed away: a trailing line break of a one-line field is no fault.
        assert_eq!(f.text("g", Some("张三\n"), 10).as_deref(), Some("张三"));
        assert_eq!(
            f.into_errors(),
            vec![
                FieldError::new("a", "must not contain control characters (holds U+0000)"),
                FieldError::new("b", "must be a single line (holds U+000A)"),
                FieldError::new("c", "must be a single line (holds U+0009)"),
                FieldError::new("d", "must not contain control characters (holds U+0085)"),
                FieldError::new("e", "must not contain control characters (holds U+007F)"),
            ]
        );
    }

    #[test]
    fn lists_name_the_bad_item_and_collapse_duplicates() {
        let mut f = Fields::new();
        let ok = f.vocab_list::<Verdict, _>("v", &["pass", "pass", "fail"]);
        assert_eq!(ok, Some(vec![Verdict::Pass, Verdict::Fail]));
        let bad = f.vocab_list::<Verdict, _>("w", &["pass", "x"]);
        assert_eq!(bad, None);
        assert_eq!(
            f.into_errors(),
            vec![FieldError::new("w[1]", "must be pass or fail")]
        );
    }
}
