//! Resident identity numbers (公民身份号码, GB 11643-1999).
//! Personal data: never logged, and never shown unmasked. `IdNumber` therefore has
//! no `Display` or `Serialize`, and its `Debug` prints only the masked form.

use std::fmt;

use chrono::NaiveDate;

/// Weight of each of the first 17 digits: 2^(17 - i) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for each value of the weighted sum mod 11.
const CHECK_CHARACTERS: &[u8; 11] = b"10X98765432";

/// Leading two digits of the provinces, autonomous regions, municipalities and
/// special administrative regions that issue (or are reserved in) the standard.
const PROVINCE_CODES: [(u8, u8); 8] = [
    (11, 15),
    (21, 23),
    (31, 37),
    (41, 46),
    (50, 54),
    (61, 65),
    (71, 71),
    (81, 82),
];

#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(raw: &str) -> Result<IdNumber, String> {
        let trimmed = raw.trim();
        // Only the check character may be a letter; people type it in either case,
        // and storing it upper-case keeps look-up hashes of one person equal.
        let number = match trimmed.strip_suffix('x') {
            Some(head) => format!("{head}X"),
            None => trimmed.to_owned(),
        };
        if number.chars().count() != 18 {
            return Err("must be 18 characters".into());
        }
        let well_formed = number
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || (i == 17 && c == 'X'));
        if !well_formed {
            return Err("must be 17 digits followed by a digit or X".into());
        }
        if !number.get(..2).is_some_and(is_province_code) {
            return Err("does not start with a valid province code".into());
        }
        let Some(birth) = birth_date_of(&number) else {
            return Err("does not contain a valid date of birth".into());
        };
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        if birth < earliest || birth > today() {
            return Err("has a date of birth before 1900 or in the future".into());
        }
        // All ASCII by now, so byte offset 17 is the 18th character. Not echoing the
        // expected character keeps the error from turning a typo into a number that
        // merely looks verified.
        let (first17, check) = number.split_at(17);
        if check_character(first17) != check.chars().next() {
            return Err("check character does not match".into());
        }
        Ok(IdNumber(number))
    }

    /// The full number, only for encrypting and hashing before storage.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `1101**********1234`.
    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }

    pub fn birth_date(&self) -> NaiveDate {
        // `parse` has already checked the date, so the fallback is never reached; it
        // only keeps this accessor from needing a panic path.
        birth_date_of(&self.0).unwrap_or(NaiveDate::MIN)
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// Birth dates are written in Chinese local time, so "not in the future" is judged
/// by the offices' calendar, not UTC's.
fn today() -> NaiveDate {
    super::china_today()
}

/// Masks a stored identity number: the first four and the last four characters stay
/// (`1101**********1234`). Values of eight characters or fewer are masked entirely,
/// since keeping eight would reveal all of them.
pub fn mask_id_number(full: &str) -> String {
    let chars: Vec<char> = full.chars().collect();
    let n = chars.len();
    if n <= 8 {
        return "*".repeat(n);
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if i < 4 || i >= n - 4 { c } else { '*' })
        .collect()
}

/// The 18th character for `first17`, or `None` unless it is exactly 17 ASCII digits.
pub fn check_character(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip(WEIGHTS)
        .map(|(&b, weight)| u32::from(b - b'0') * weight)
        .sum();
    CHECK_CHARACTERS
        .get((sum % 11) as usize)
        .map(|&b| char::from(b))
}

fn is_province_code(two_digits: &str) -> bool {
    let Ok(code) = two_digits.parse::<u8>() else {
        return false;
    };
    PROVINCE_CODES
        .iter()
        .any(|&(low, high)| (low..=high).contains(&code))
}

/// The YYYYMMDD date in positions 7–14, if it is a real calendar date.
fn birth_date_of(number: &str) -> Option<NaiveDate> {
    let year = number.get(6..10)?.parse().ok()?;
    let month = number.get(10..12)?.parse().ok()?;
    let day = number.get(12..14)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example printed in GB 11643-1999 itself.
    const STANDARD_EXAMPLE: &str = "11010519491231002X";

    /// First 17 digits with their check characters, worked out independently of
    /// this module, so a mistake in the weights or the table would show.
    const KNOWN: [(&str, char); 12] = [
        ("11010519491231002", 'X'),
        ("44030119900307129", 'X'),
        ("31011519850612000", 'X'),
        ("51010720000229007", 'X'),
        ("23010319750815019", 'X'),
        ("44030119900307123", '0'),
        ("31011519850612004", '2'),
        ("51010720000229001", '0'),
        ("65010219001201007", '0'),
        ("82000020231231005", '8'),
        ("11010519491231001", '1'),
        ("35020319781111016", '9'),
    ];

    fn with_check(first17: &str) -> String {
        let check = check_character(first17).unwrap();
        format!("{first17}{check}")
    }

    #[test]
    fn the_standard_example_is_valid() {
        let id = IdNumber::parse(STANDARD_EXAMPLE).unwrap();
        assert_eq!(id.expose(), STANDARD_EXAMPLE);
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
    }

    #[test]
    fn check_characters_match_known_answers() {
        for (first17, expected) in KNOWN {
            assert_eq!(check_character(first17), Some(expected), "{first17}");
        }
    }

    #[test]
    fn generated_numbers_parse_back() {
        for (first17, _) in KNOWN {
            let number = with_check(first17);
            let id = IdNumber::parse(&number).unwrap_or_else(|e| panic!("{number}: {e}"));
            assert_eq!(id.expose(), number);
        }
    }

    #[test]
    fn input_is_trimmed_and_a_lower_case_x_accepted() {
        let id = IdNumber::parse("  11010519491231002x\n").unwrap();
        assert_eq!(id.expose(), STANDARD_EXAMPLE);
        assert_eq!(id, IdNumber::parse(STANDARD_EXAMPLE).unwrap());
    }

    #[test]
    fn wrong_length_is_rejected() {
        for raw in [
            "",
            "11010519491231002",
            "11010519491231002X0",
            "110105194912310",
        ] {
            assert_eq!(IdNumber::parse(raw).unwrap_err(), "must be 18 characters");
        }
        // Length counts characters, not UTF-8 bytes.
        let err = IdNumber::parse("一一〇一〇五一九四九一二三一〇〇二X").unwrap_err();
        assert_eq!(err, "must be 17 digits followed by a digit or X");
    }

    #[test]
    fn letters_inside_are_rejected() {
        for raw in [
            "1101051949123100XX",
            "X1010519491231002X",
            "110105194912310O2X",
            "11010519491231002Y",
            "1101051949123100 X",
            "1101051949 231002X",
            "11010519491231002+",
            "11010519491231002一",
            "一1010519491231002X",
        ] {
            let err = IdNumber::parse(raw).unwrap_err();
            assert_eq!(err, "must be 17 digits followed by a digit or X", "{raw}");
        }
    }

    #[test]
    fn an_impossible_date_is_rejected() {
        for first17 in [
            "11010519990230001",
            "11010519990229001",
            "11010519491301002",
            "11010519491200002",
            "11010519490431002",
        ] {
            let err = IdNumber::parse(&with_check(first17)).unwrap_err();
            assert_eq!(err, "does not contain a valid date of birth", "{first17}");
        }
        // 2000 was a leap year (divisible by 400), so its 29 February is real.
        assert!(IdNumber::parse(&with_check("51010720000229001")).is_ok());
    }

    #[test]
    fn dates_outside_1900_to_today_are_rejected() {
        let tomorrow = today() + chrono::Duration::days(1);
        let future = format!("110105{}001", tomorrow.format("%Y%m%d"));
        for first17 in [
            "11010518991231001",
            "11010500000101001",
            future.as_str(),
            "11010530000101001",
        ] {
            let err = IdNumber::parse(&with_check(first17)).unwrap_err();
            assert_eq!(
                err, "has a date of birth before 1900 or in the future",
                "{first17}"
            );
        }
        let born_today = format!("110105{}001", today().format("%Y%m%d"));
        assert!(IdNumber::parse(&with_check(&born_today)).is_ok());
        assert!(IdNumber::parse(&with_check("11010519000101001")).is_ok());
    }

    #[test]
    fn an_unknown_province_is_rejected() {
        for province in [
            "00", "10", "16", "20", "24", "30", "38", "47", "49", "55", "66", "70", "72", "80",
            "83", "99",
        ] {
            let number = with_check(&format!("{province}010519491231002"));
            let err = IdNumber::parse(&number).unwrap_err();
            assert_eq!(err, "does not start with a valid province code", "{number}");
        }
        for province in [
            "11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71", "81",
            "82",
        ] {
            let number = with_check(&format!("{province}010519491231002"));
            assert!(IdNumber::parse(&number).is_ok(), "{number}");
        }
    }

    #[test]
    fn a_wrong_check_character_is_rejected() {
        for other in "0123456789".chars() {
            let err = IdNumber::parse(&format!("11010519491231002{other}")).unwrap_err();
            assert_eq!(err, "check character does not match");
        }
        // One changed digit always changes the sum mod 11, since no weight is a
        // multiple of 11.
        let err = IdNumber::parse("11010519491231003X").unwrap_err();
        assert_eq!(err, "check character does not match");
    }

    #[test]
    fn check_character_needs_17_digits() {
        assert_eq!(check_character("1101051949123100"), None);
        assert_eq!(check_character("110105194912310021"), None);
        assert_eq!(check_character("1101051949123100X"), None);
        assert_eq!(check_character("１1010519491231002"), None);
    }

    #[test]
    fn masking_keeps_four_characters_at_each_end() {
        let id = IdNumber::parse(STANDARD_EXAMPLE).unwrap();
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(mask_id_number("440301199003071234"), "4403**********1234");
        assert_eq!(mask_id_number("440301900307123"), "4403*******7123");
        assert_eq!(mask_id_number("12345678"), "********");
        assert_eq!(mask_id_number(""), "");
    }

    #[test]
    fn debug_shows_only_the_masked_form() {
        let id = IdNumber::parse(STANDARD_EXAMPLE).unwrap();
        assert_eq!(format!("{id:?}"), "IdNumber(1101**********002X)");
        let nested = format!("{:#?}", Some(vec![id]));
        assert!(!nested.contains("19491231"), "{nested}");
        assert!(nested.contains("1101**********002X"));
    }
}
