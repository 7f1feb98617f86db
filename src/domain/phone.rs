//! Telephone numbers: mainland mobile (1XX XXXX XXXX) or landline with area code.
//! Personal data: never logged, and shown masked to anyone but its owner.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Accepts `13812345678`, `+86 138 1234 5678`, `0755-83451234`, `075583451234`.
    pub fn parse(raw: &str) -> Result<Phone, String> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let digits = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .unwrap_or(&compact);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be a mobile or landline number of digits".into());
        }
        let b = digits.as_bytes();
        if b[0] == b'1' {
            if b.len() == 11 && (b'3'..=b'9').contains(&b[1]) {
                return Ok(Phone(digits.to_owned()));
            }
            return Err("a mobile number has 11 digits and starts with 13 to 19".into());
        }
        if b[0] == b'0' && (10..=12).contains(&b.len()) {
            // Two-digit area codes (010, 020–029) are three digits with the 0.
            let area_len = if matches!(b[1], b'1' | b'2') { 3 } else { 4 };
            let local = &digits[area_len..];
            if (7..=8).contains(&local.len()) {
                return Ok(Phone(format!("{}-{}", &digits[..area_len], local)));
            }
        }
        Err("must be a mobile number or a landline with its area code".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`, `0755-****1234`.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks a stored phone number: all but the first three (or the area code) and the
/// last four characters become `*`.
pub fn mask(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let keep_head = match phone.find('-') {
        Some(dash) => dash + 1,
        None => 3.min(chars.len() - 4),
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_head || i >= chars.len() - 4 {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles() {
        for raw in [
            "13812345678",
            "+86 138 1234 5678",
            "0086-138-1234-5678",
            " 19912345678 ",
        ] {
            let phone = Phone::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(phone.as_str().len(), 11);
        }
        assert_eq!(Phone::parse("13812345678").unwrap().masked(), "138****5678");
        for bad in [
            "1381234567",
            "138123456789",
            "12812345678",
            "1381234567x",
            "",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn landlines() {
        assert_eq!(
            Phone::parse("0755-83451234").unwrap().as_str(),
            "0755-83451234"
        );
        assert_eq!(
            Phone::parse("075583451234").unwrap().as_str(),
            "0755-83451234"
        );
        assert_eq!(
            Phone::parse("010-62345678").unwrap().as_str(),
            "010-62345678"
        );
        assert_eq!(
            Phone::parse("0356 5123456").unwrap().as_str(),
            "0356-5123456"
        );
        assert_eq!(
            Phone::parse("0755-83451234").unwrap().masked(),
            "0755-****1234"
        );
        assert!(Phone::parse("0755-123").is_err());
    }

    #[test]
    fn debug_never_shows_the_number() {
        let phone = Phone::parse("13812345678").unwrap();
        assert_eq!(format!("{phone:?}"), "Phone(138****5678)");
    }
}
