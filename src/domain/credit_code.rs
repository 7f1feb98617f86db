//! Unified social credit codes (统一社会信用代码, GB 32100-2015).

use std::fmt;

/// The 31 characters a credit code may use. I, O, Z, S and V are left out because
/// they are easily mistaken for 1, 0, 2, 5 and U; a character's value is its index.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weight of each of the first 17 positions: 3^i mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// An 18-character unified social credit code whose check character is right.
/// Stored upper-case, so lookups by code need no case folding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct CreditCode(String);

impl CreditCode {
    pub fn parse(raw: &str) -> Result<CreditCode, String> {
        let code = raw.trim().to_uppercase();
        if code.chars().count() != 18 {
            return Err("must be 18 characters".into());
        }
        if !code.bytes().all(|b| value_of(b).is_some()) {
            return Err("contains a character not allowed in a credit code".into());
        }
        // Not echoing the expected character keeps the error from turning a typo
        // into a code that merely looks verified.
        let (first17, check) = code.split_at(17);
        if check_character(first17) != check.chars().next() {
            return Err("check character does not match".into());
        }
        Ok(CreditCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The 18th character for `first17`, or `None` unless it is exactly 17 characters
/// from the credit-code alphabet (upper-case only: generators should not rely on
/// case folding that `CreditCode::parse` does for human input).
pub fn check_character(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (&b, weight) in bytes.iter().zip(WEIGHTS) {
        sum += value_of(b)? * weight;
    }
    let check = (31 - sum % 31) % 31;
    ALPHABET.get(check as usize).map(|&b| char::from(b))
}

fn value_of(b: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == b).map(|i| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes of well-known companies, copied from public registration records rather
    /// than produced by this module, so they test the algorithm against real data.
    const PUBLISHED: [&str; 6] = [
        "91350100M000100Y43",
        "914403001922038216",
        "91330100716105852F",
        "91110000802100433B",
        "91440300708461136T",
        "91310000132260250X",
    ];

    fn with_check(first17: &str) -> String {
        let check = check_character(first17).unwrap();
        format!("{first17}{check}")
    }

    #[test]
    fn published_codes_are_valid() {
        for code in PUBLISHED {
            let parsed = CreditCode::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(parsed.as_str(), code);
        }
    }

    #[test]
    fn generated_codes_round_trip() {
        for first17 in [
            "91440300MA5F00001",
            "91440300MA5F3K7N2",
            "52440303MJL123450",
            "92440303MA5GXY9WQ",
            "11100000000013127",
            "Y1440300000000000",
        ] {
            let code = with_check(first17);
            assert_eq!(CreditCode::parse(&code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn a_check_value_of_31_maps_to_zero() {
        // All zeros sum to 0, so 31 - 0 = 31 must wrap to '0'.
        assert_eq!(check_character("00000000000000000"), Some('0'));
        assert!(CreditCode::parse("000000000000000000").is_ok());
    }

    #[test]
    fn input_is_trimmed_and_upper_cased() {
        let parsed = CreditCode::parse("  91350100m000100y43\n").unwrap();
        assert_eq!(parsed.as_str(), "91350100M000100Y43");
        assert_eq!(parsed.to_string(), "91350100M000100Y43");
    }

    #[test]
    fn serializes_as_a_plain_string() {
        let parsed = CreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            "\"91350100M000100Y43\""
        );
    }

    #[test]
    fn wrong_length_is_rejected() {
        for raw in ["", "91350100M000100Y4", "91350100M000100Y430"] {
            assert_eq!(CreditCode::parse(raw).unwrap_err(), "must be 18 characters");
        }
        // Length counts characters, not UTF-8 bytes.
        let err = CreditCode::parse("一二三四五六七八九十一二三四五六七八").unwrap_err();
        assert_eq!(err, "contains a character not allowed in a credit code");
    }

    #[test]
    fn forbidden_letters_are_rejected() {
        let valid = "91350100M000100Y43";
        for letter in ['I', 'O', 'Z', 'S', 'V', 'i', 'o', 'z', 's', 'v', '-', ' '] {
            let mut raw: Vec<char> = valid.chars().collect();
            raw[10] = letter;
            let raw: String = raw.into_iter().collect();
            assert_eq!(
                CreditCode::parse(&raw).unwrap_err(),
                "contains a character not allowed in a credit code",
                "{raw}"
            );
        }
    }

    #[test]
    fn a_wrong_check_character_is_rejected() {
        for code in PUBLISHED {
            let (first17, check) = code.split_at(17);
            for &other in ALPHABET.iter() {
                let other = char::from(other);
                if other.to_string() == check {
                    continue;
                }
                let err = CreditCode::parse(&format!("{first17}{other}")).unwrap_err();
                assert_eq!(err, "check character does not match");
            }
        }
    }

    #[test]
    fn a_single_changed_character_is_caught() {
        let valid = "91350100M000100Y43";
        let mut raw: Vec<u8> = valid.bytes().collect();
        raw[3] = b'6';
        let err = CreditCode::parse(std::str::from_utf8(&raw).unwrap()).unwrap_err();
        assert_eq!(err, "check character does not match");
    }

    #[test]
    fn check_character_needs_17_alphabet_characters() {
        assert_eq!(check_character("9135010000000010"), None);
        assert_eq!(check_character("913501000000001000"), None);
        assert_eq!(check_character("9135010000000I100"), None);
        assert_eq!(check_character("91350100m000100y4"), None);
        assert_eq!(check_character("91350100M000100Y4"), Some('3'));
    }
}
