//! Who is acting, proven: a signed-in staff account (and whether it is an office's or a
//! merchant's), a card holder, a point-of-sale terminal. `auth` proves them from a
//! request; use cases take them and check what the role and region allow.

use crate::app::permissions::{self, Operation};
use crate::db::audit::Actor;
use crate::db::cards::CardRow;
use crate::db::staff::StaffRow;
use crate::db::{MerchantId, StaffUserId, TerminalId};
use crate::domain::{RegionCode, Role};
use crate::error::{AppError, AppResult, Code};

/// A signed-in, enabled staff account of any role.
#[derive(Debug, Clone)]
pub struct StaffUser {
    pub id: StaffUserId,
    pub username: String,
    pub role: Role,
    pub region: Option<RegionCode>,
    pub department: Option<String>,
    pub merchant_id: Option<MerchantId>,
}

impl StaffUser {
    /// The account a stored row describes; a role or region that does not parse is an
    /// internal error naming the row.
    pub fn from_row(row: StaffRow) -> AppResult<StaffUser> {
        let role = row.role()?;
        let region = match row.region_code.as_deref() {
            Some(code) => Some(RegionCode::parse(code).map_err(|e| {
                AppError::internal(anyhow::anyhow!(
                    "staff_users row {}: bad region: {e}",
                    row.id
                ))
            })?),
            None => None,
        };
        Ok(StaffUser {
            id: row.id,
            username: row.username,
            role,
            region,
            department: row.department,
            merchant_id: row.merchant_id,
        })
    }

    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.id),
            label: self.username.clone(),
        }
    }

    /// Whether this account may see and act on things in `region`.
    pub fn covers(&self, region: &RegionCode) -> bool {
        match (self.role, &self.region) {
            (Role::SuperAdmin, _) => true,
            (_, Some(own)) => own.contains(region),
            (_, None) => false,
        }
    }

    /// Whether this account covers a stored region code (a malformed one is covered by
    /// nobody).
    pub fn covers_code(&self, code: &str) -> bool {
        RegionCode::parse(code).is_ok_and(|r| self.covers(&r))
    }

    /// A `LIKE` pattern restricting region codes to this account's subtree;
    /// `None` when it sees everything.
    pub fn region_like(&self) -> Option<String> {
        match self.role {
            Role::SuperAdmin => None,
            // An account without a region sees nothing: the pattern matches no code.
            _ => Some(
                self.region
                    .as_ref()
                    .map_or_else(|| "-".into(), RegionCode::like_pattern),
            ),
        }
    }

    /// The region a figure or an export is about: `asked`, which must lie within this
    /// account's region, else the account's own; `None` (everywhere) only for a super
    /// administrator. 403 `region_out_of_scope` otherwise.
    pub fn scoped_region(&self, asked: Option<RegionCode>) -> AppResult<Option<RegionCode>> {
        match asked {
            Some(code) if !self.covers(&code) => Err(AppError::forbidden(
                Code::RegionOutOfScope,
                "this region is outside your region",
            )),
            Some(code) => Ok(Some(code)),
            None if self.region.is_none() && self.role != Role::SuperAdmin => Err(
                AppError::forbidden(Code::RegionOutOfScope, "your account has no region"),
            ),
            None => Ok(self.region.clone()),
        }
    }

    /// 403 unless the permission matrix (`app::permissions`) lets this role do `op`.
    pub fn require(&self, op: Operation) -> AppResult<()> {
        permissions::require(self.role, op)
    }

    /// Whether this account sees whole card numbers (else masked ones).
    pub fn sees_whole_card_numbers(&self) -> bool {
        permissions::sees_whole_card_numbers(self.role)
    }
}

/// A staff account of a veterans-affairs office (any role but `merchant_staff`).
#[derive(Debug, Clone)]
pub struct AdminUser(StaffUser);

impl AdminUser {
    /// 403 `forbidden` unless `staff` works for an office.
    pub fn try_from_staff(staff: StaffUser) -> AppResult<AdminUser> {
        if staff.role.is_office() {
            Ok(AdminUser(staff))
        } else {
            Err(AppError::forbidden(
                Code::Forbidden,
                "this needs an office (administrator) account",
            ))
        }
    }
}

impl std::ops::Deref for AdminUser {
    type Target = StaffUser;
    fn deref(&self) -> &StaffUser {
        &self.0
    }
}

/// A staff account bound to one merchant (`merchant_staff`).
#[derive(Debug, Clone)]
pub struct MerchantStaff {
    pub user: StaffUser,
    pub merchant_id: MerchantId,
}

impl MerchantStaff {
    /// 403 `forbidden` unless `staff` is a merchant's.
    pub fn try_from_staff(user: StaffUser) -> AppResult<MerchantStaff> {
        match (user.role, user.merchant_id) {
            (Role::MerchantStaff, Some(merchant_id)) => Ok(MerchantStaff { user, merchant_id }),
            _ => Err(AppError::forbidden(
                Code::Forbidden,
                "this needs a merchant staff account",
            )),
        }
    }
}

/// The holder of an active card, at the card's current version.
#[derive(Debug, Clone)]
pub struct Holder {
    pub card: CardRow,
}

/// What a terminal's API key resolves to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Terminal {
    pub id: TerminalId,
    pub merchant_id: MerchantId,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(role: Role, region: Option<&str>) -> StaffUser {
        StaffUser {
            id: StaffUserId(uuid::Uuid::nil()),
            username: "someone".into(),
            role,
            region: region.map(|r| RegionCode::parse(r).unwrap()),
            department: None,
            merchant_id: None,
        }
    }

    fn code(r: &str) -> Option<RegionCode> {
        Some(RegionCode::parse(r).unwrap())
    }

    #[test]
    fn the_scoped_region_is_the_one_asked_within_the_callers_else_the_callers() {
        let shenzhen = staff(Role::RegionAdmin, Some("440300"));
        assert_eq!(shenzhen.scoped_region(None).unwrap(), code("440300"));
        assert_eq!(
            shenzhen.scoped_region(code("440303")).unwrap(),
            code("440303")
        );
        let outside = shenzhen.scoped_region(code("140521")).unwrap_err();
        assert_eq!(outside.code, Code::RegionOutOfScope);

        let root = staff(Role::SuperAdmin, None);
        assert_eq!(root.scoped_region(None).unwrap(), None);
        assert_eq!(root.scoped_region(code("140521")).unwrap(), code("140521"));

        let nowhere = staff(Role::Auditor, None);
        assert_eq!(
            nowhere.scoped_region(None).unwrap_err().code,
            Code::RegionOutOfScope
        );
        assert!(nowhere.scoped_region(code("440300")).is_err());
    }

    #[test]
    fn only_office_roles_are_admins_and_only_bound_merchant_staff_are_partners() {
        assert!(AdminUser::try_from_staff(staff(Role::Reviewer, Some("440300"))).is_ok());
        let partner = StaffUser {
            merchant_id: Some(MerchantId::new()),
            ..staff(Role::MerchantStaff, Some("440303"))
        };
        assert_eq!(
            AdminUser::try_from_staff(partner.clone()).unwrap_err().code,
            Code::Forbidden
        );
        assert!(MerchantStaff::try_from_staff(partner).is_ok());
        assert!(MerchantStaff::try_from_staff(staff(Role::RegionAdmin, None)).is_err());
    }
}
