//! GB/T 2260 region codes (行政区划代码) and the province > city > county tree.

use std::fmt;

/// A six-digit GB/T 2260 code. Its level follows from its digits: `XX0000` a province,
/// `XXXX00` a prefecture-level city, anything else a county-level division.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct RegionCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RegionLevel {
    Province = 1,
    City = 2,
    County = 3,
}

impl RegionCode {
    pub fn parse(raw: &str) -> Result<RegionCode, String> {
        let raw = raw.trim();
        if raw.len() != 6 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be a six-digit GB/T 2260 region code".into());
        }
        if &raw[..2] == "00" {
            return Err("is not a region code (province part 00)".into());
        }
        Ok(RegionCode(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> RegionLevel {
        if self.0.ends_with("0000") {
            RegionLevel::Province
        } else if self.0.ends_with("00") {
            RegionLevel::City
        } else {
            RegionLevel::County
        }
    }

    /// The digits every code in this region's subtree starts with:
    /// `44` for 440000, `4403` for 440300, `440303` for 440303.
    pub fn subtree_prefix(&self) -> &str {
        match self.level() {
            RegionLevel::Province => &self.0[..2],
            RegionLevel::City => &self.0[..4],
            RegionLevel::County => &self.0,
        }
    }

    /// Whether `other` is this region or lies inside it.
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(self.subtree_prefix())
    }

    /// A SQL `LIKE` pattern matching the codes of this region's subtree.
    pub fn like_pattern(&self) -> String {
        format!("{}%", self.subtree_prefix())
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn levels_follow_the_digits() {
        assert_eq!(code("440000").level(), RegionLevel::Province);
        assert_eq!(code("440300").level(), RegionLevel::City);
        assert_eq!(code("440303").level(), RegionLevel::County);
        assert_eq!(code("140521").level(), RegionLevel::County);
    }

    #[test]
    fn subtree_containment() {
        assert!(code("440000").contains(&code("440303")));
        assert!(code("440300").contains(&code("440303")));
        assert!(code("440300").contains(&code("440300")));
        assert!(!code("440300").contains(&code("440100")));
        assert!(!code("440300").contains(&code("140521")));
        assert!(!code("440303").contains(&code("440304")));
        assert!(!code("440303").contains(&code("440300")));
        // A county directly under a province (省直辖县级) sits in its pseudo-city.
        assert!(code("429000").contains(&code("429004")));
    }

    #[test]
    fn rejects_malformed_codes() {
        for bad in ["", "44030", "4403031", "44a303", "000000", " 44 03"] {
            assert!(RegionCode::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(code(" 440303 ").as_str(), "440303");
    }

    #[test]
    fn like_patterns() {
        assert_eq!(code("440000").like_pattern(), "44%");
        assert_eq!(code("440300").like_pattern(), "4403%");
        assert_eq!(code("440303").like_pattern(), "440303%");
    }
}
