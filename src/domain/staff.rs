//! Staff accounts: roles, user names and passwords.

use std::fmt;

vocabulary! {
    /// What a staff account may do. Region scope: every role but `super_admin` acts only
    /// inside its region's subtree; `merchant_staff` only on its own merchant.
    pub enum Role: "a staff role" {
        SuperAdmin => "super_admin",
        RegionAdmin => "region_admin",
        Reviewer => "reviewer",
        Auditor => "auditor",
        MerchantStaff => "merchant_staff",
        /// A unit's contact (部队联络员): posts and follows its unit's needs, in its region.
        MilitaryLiaison => "military_liaison",
    }
}

impl Role {
    /// Roles that work for a veterans-affairs office (as opposed to a merchant).
    pub fn is_office(self) -> bool {
        !matches!(self, Role::MerchantStaff)
    }

    /// Whether this role may change anything (auditors only read).
    pub fn may_write(self) -> bool {
        !matches!(self, Role::Auditor)
    }

    /// Whether an account of this role may create an account of role `other`.
    pub fn may_create(self, other: Role) -> bool {
        match self {
            Role::SuperAdmin => true,
            Role::RegionAdmin => other != Role::SuperAdmin,
            _ => false,
        }
    }
}

/// A staff user name: 3–32 characters of `a-z 0-9 . _ -`, starting with a letter or
/// digit; stored lower-case so `Admin` and `admin` are one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, String> {
        let name = raw.trim().to_lowercase();
        if !(3..=32).contains(&name.chars().count()) {
            return Err("must be 3 to 32 characters".into());
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err("may contain only letters a-z, digits, '.', '_' and '-'".into());
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("must start with a letter or digit".into());
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10 to 128 characters, not all of one kind of character.
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Password, String> {
        let count = raw.chars().count();
        if count < 10 {
            return Err("must be at least 10 characters".into());
        }
        if count > 128 {
            return Err("must be at most 128 characters".into());
        }
        let first = raw.chars().next();
        if raw.chars().all(|c| Some(c) == first) {
            return Err("must not repeat a single character".into());
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn who_may_create_whom() {
        assert!(Role::SuperAdmin.may_create(Role::SuperAdmin));
        assert!(Role::RegionAdmin.may_create(Role::Reviewer));
        assert!(Role::RegionAdmin.may_create(Role::RegionAdmin));
        assert!(!Role::RegionAdmin.may_create(Role::SuperAdmin));
        assert!(!Role::Reviewer.may_create(Role::Reviewer));
        assert!(!Role::Auditor.may_create(Role::Auditor));
    }

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Admin ").unwrap().as_str(), "admin");
        assert_eq!(
            Username::parse("szx.reviewer-01").unwrap().as_str(),
            "szx.reviewer-01"
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("_admin").is_err());
        assert!(Username::parse("张三丰").is_err());
        assert!(Username::parse("a b c").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn passwords() {
        assert!(Password::parse("correct horse").is_ok());
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("aaaaaaaaaaaa").is_err());
        assert!(Password::parse(&"ab".repeat(65)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("correct horse").unwrap()),
            "Password([redacted])"
        );
    }
}
