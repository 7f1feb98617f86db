//! Card numbers: 16 digits, the last a Luhn check digit so that a mistyped digit
//! or a swap of two neighbouring digits is caught before any look-up.

/// Most digits a `CardNo::generate` prefix may fix; the rest stay random so numbers
/// are hard to guess from one another.
const MAX_PREFIX_DIGITS: usize = 6;

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct CardNo(String);

impl CardNo {
    /// Accepts the number as printed on a card, grouped by spaces or dashes.
    pub fn parse(raw: &str) -> Result<CardNo, String> {
        let digits: String = raw
            .chars()
            .filter(|&c| !c.is_whitespace() && c != '-')
            .collect();
        if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be 16 digits".into());
        }
        let (body, check) = digits.split_at(15);
        if luhn_check_digit(body).map(|d| char::from(b'0' + d)) != check.chars().next() {
            return Err("check digit does not match".into());
        }
        Ok(CardNo(digits))
    }

    /// The card number for 15 leading digits, or `None` unless it is exactly that.
    pub fn from_body(body15: &str) -> Option<CardNo> {
        if body15.len() != 15 {
            return None;
        }
        let check = luhn_check_digit(body15)?;
        Some(CardNo(format!("{body15}{}", char::from(b'0' + check))))
    }

    /// A new random number starting with `prefix`. Only the prefix's ASCII digits
    /// count, and at most the first six of them: callers pass a fixed issuer prefix,
    /// and a longer one would leave few random digits, making numbers collide and
    /// easier to guess.
    pub fn generate(prefix: &str) -> CardNo {
        let mut body: String = prefix
            .chars()
            .filter(char::is_ascii_digit)
            .take(MAX_PREFIX_DIGITS)
            .collect();
        while body.len() < 15 {
            body.push(char::from(b'0' + rand::random_range(0..10u8)));
        }
        // The body is 15 digits by now, so the fallback is never used.
        let check = luhn_check_digit(&body).unwrap_or(0);
        body.push(char::from(b'0' + check));
        CardNo(body)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `8860********1234`.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// `8860********1234`: four digits at each end of a card number, as every answer and
/// export shows it; a stored number is not re-validated here.
pub fn mask(card_no: &str) -> String {
    let n = card_no.chars().count();
    if n <= 8 || !card_no.is_ascii() {
        return "*".repeat(n);
    }
    format!(
        "{}{}{}",
        &card_no[..4],
        "*".repeat(n - 8),
        &card_no[n - 4..]
    )
}

/// The Luhn digit to append to `body`, or `None` unless `body` is non-empty ASCII
/// digits.
pub fn luhn_check_digit(body: &str) -> Option<u8> {
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Counting from the right, the digit next to the (future) check digit is doubled,
    // then every second one after it.
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    Some(((10 - sum % 10) % 10) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_luhn_valid(number: &str) -> bool {
        let (body, check) = number.split_at(number.len() - 1);
        luhn_check_digit(body).map(|d| d.to_string()) == Some(check.to_owned())
    }

    #[test]
    fn the_classic_luhn_example() {
        assert_eq!(luhn_check_digit("7992739871"), Some(3));
        assert!(is_luhn_valid("79927398713"));
        for wrong in ["79927398710", "79927398711", "79927398712", "79927398714"] {
            assert!(!is_luhn_valid(wrong), "{wrong}");
        }
    }

    #[test]
    fn known_valid_numbers_parse() {
        let card = CardNo::parse("4539 1488 0343 6467").unwrap();
        assert_eq!(card.as_str(), "4539148803436467");
        assert_eq!(luhn_check_digit("453914880343646"), Some(7));
        assert_eq!(
            CardNo::parse("4539-1488-0343-6467").unwrap(),
            CardNo::parse(" 4539148803436467\n").unwrap()
        );
        // All zeros sum to 0, whose check digit must wrap from 10 to 0.
        assert_eq!(luhn_check_digit("000000000000000"), Some(0));
        assert!(CardNo::parse("0000000000000000").is_ok());
        assert_eq!(luhn_check_digit("886012345678901"), Some(7));
        assert!(CardNo::parse("8860123456789017").is_ok());
    }

    #[test]
    fn a_single_changed_digit_fails() {
        let valid = "4539148803436467";
        for position in 0..16 {
            for digit in b'0'..=b'9' {
                let mut raw = valid.as_bytes().to_vec();
                if raw[position] == digit {
                    continue;
                }
                raw[position] = digit;
                let raw = String::from_utf8(raw).unwrap();
                assert_eq!(
                    CardNo::parse(&raw).unwrap_err(),
                    "check digit does not match",
                    "{raw}"
                );
            }
        }
    }

    #[test]
    fn swapped_neighbours_fail() {
        // Luhn misses only 09 <-> 90; this number has no such pair.
        let valid = "4539148803436467";
        for i in 0..15 {
            let mut raw = valid.as_bytes().to_vec();
            if raw[i] == raw[i + 1] {
                continue;
            }
            raw.swap(i, i + 1);
            let raw = String::from_utf8(raw).unwrap();
            assert!(CardNo::parse(&raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn malformed_input_is_rejected() {
        for raw in [
            "",
            "453914880343646",
            "45391488034364670",
            "4539 1488 0343 646a",
            "4539_1488_0343_6467",
            "４539148803436467",
        ] {
            assert_eq!(
                CardNo::parse(raw).unwrap_err(),
                "must be 16 digits",
                "{raw}"
            );
        }
    }

    #[test]
    fn from_body_appends_the_check_digit() {
        assert_eq!(
            CardNo::from_body("453914880343646").unwrap().as_str(),
            "4539148803436467"
        );
        assert_eq!(CardNo::from_body("45391488034364"), None);
        assert_eq!(CardNo::from_body("4539148803436467"), None);
        assert_eq!(CardNo::from_body("45391488034364a"), None);
    }

    #[test]
    fn generated_numbers_parse_back() {
        for _ in 0..200 {
            let card = CardNo::generate("8860");
            assert!(card.as_str().starts_with("8860"), "{card:?}");
            assert_eq!(CardNo::parse(card.as_str()).unwrap(), card);
        }
        assert_eq!(CardNo::generate("").as_str().len(), 16);
        let long = CardNo::generate("12345678901234567890");
        assert!(long.as_str().starts_with("123456"));
        assert!(CardNo::parse(long.as_str()).is_ok());
        let noisy = CardNo::generate("88-60");
        assert!(noisy.as_str().starts_with("8860"));
    }

    #[test]
    fn generated_numbers_differ() {
        let a = CardNo::generate("8860");
        let b = CardNo::generate("8860");
        // 11 random digits: a collision here is a one-in-10^11 event.
        assert_ne!(a, b);
    }

    #[test]
    fn masking_keeps_four_digits_at_each_end() {
        let card = CardNo::parse("8860 1234 5678 9017").unwrap();
        assert_eq!(card.masked(), "8860********9017");
    }

    #[test]
    fn serializes_as_a_plain_string() {
        let card = CardNo::parse("4539 1488 0343 6467").unwrap();
        assert_eq!(
            serde_json::to_string(&card).unwrap(),
            "\"4539148803436467\""
        );
    }
}
