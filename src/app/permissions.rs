//! The permission matrix: what each staff role may do, in one table. Every use case of
//! an office asks `StaffUser::require(Operation::…)` rather than listing roles itself;
//! `docs/permissions.md` shows the same table route by route (with holders, terminals
//! and anonymous callers beside it) and `tests/api/permissions.rs` checks that the
//! document, this table and the server agree, cell by cell.
//!
//! Region scope is not decided here: an allowed `Region` or `Own` answer still leaves
//! the use case to keep the caller inside its region (`covers`, `load_scoped`), its
//! department, its merchant or its account.

use crate::domain::Role;
use crate::error::{AppError, AppResult, Code};

macro_rules! operations {
    ($($(#[$doc:meta])* $name:ident => $text:literal,)*) => {
        /// Something a staff account may be allowed to do; its name is the one
        /// `docs/permissions.md` uses.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($(#[$doc])* $name,)*
        }

        impl Operation {
            pub const ALL: &'static [Operation] = &[$(Operation::$name,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Operation::$name => $text,)*
                }
            }

            pub fn parse(raw: &str) -> Option<Operation> {
                match raw {
                    $($text => Some(Operation::$name),)*
                    _ => None,
                }
            }
        }
    };
}

operations! {
    /// Reading the audit log.
    AuditLogRead => "audit_log.read",
    /// Listing and reading beneficiaries (masked personal data).
    BeneficiariesRead => "beneficiaries.read",
    /// Registering, correcting and importing beneficiaries.
    BeneficiariesWrite => "beneficiaries.write",
    /// Listing and reading cards.
    CardsRead => "cards.read",
    /// Issuing, suspending, reinstating, revoking and reissuing cards.
    CardsWrite => "cards.write",
    /// Listing the card products.
    CardProductsRead => "card_products.read",
    /// Defining a card product (national, so the super administrator's).
    CardProductsWrite => "card_products.write",
    /// Listing complaints.
    ComplaintsRead => "complaints.read",
    /// Resolving a complaint.
    ComplaintsResolve => "complaints.resolve",
    /// The emergency roster (急时战时 capabilities, contact phones).
    EmergencyRosterRead => "emergency_roster.read",
    /// Exporting merchants, redemptions, beneficiaries or figures.
    ExportsRead => "exports.read",
    /// Listing and reading spot checks.
    InspectionsRead => "inspections.read",
    /// Drawing a spot check and recording its results.
    InspectionsWrite => "inspections.write",
    /// Listing and reading merchants and their applications.
    MerchantsRead => "merchants.read",
    /// Recording a department's verdict (联审).
    MerchantsReview => "merchants.review",
    /// Deciding on a merchant: approve, reject, activate, renew, suspend, reinstate,
    /// revoke, exit review, objections, registration corrections, its staff accounts.
    MerchantsDecide => "merchants.decide",
    /// A merchant's evaluation (redemptions, complaints, spot checks).
    EvaluationsRead => "evaluations.read",
    /// The needs list (需求清单) and each need's suggestions.
    NeedsRead => "needs.read",
    /// Posting a need and moving it along its lifecycle.
    NeedsWrite => "needs.write",
    /// The resources directory (资源目录).
    ResourcesRead => "resources.read",
    /// Recording a resource for a partner.
    ResourcesWrite => "resources.write",
    /// The joint task list (双清单) and its ledger (台账).
    TasksRead => "tasks.read",
    /// Taking a need up as a task, its progress, status and completion.
    TasksWrite => "tasks.write",
    /// The offers queue.
    OffersRead => "offers.read",
    /// Approving or rejecting an offer.
    OffersDecide => "offers.decide",
    /// The figures.
    StatsRead => "stats.read",
    /// The yearly targets.
    TargetsRead => "targets.read",
    /// Setting a region's yearly targets.
    TargetsWrite => "targets.write",
    /// Listing and reading staff accounts (one's own account needs nothing).
    StaffRead => "staff.read",
    /// Reading one staff account: one's own (every office role), or anybody's with
    /// `staff.read`.
    AccountRead => "account.read",
    /// Creating a staff account (`Role::may_create` decides which roles).
    StaffCreate => "staff.create",
    /// A merchant's own offers.
    MerchantOffers => "merchant.offers",
    /// A merchant's own terminals.
    MerchantTerminals => "merchant.terminals",
    /// A merchant's own redemptions (and voiding them).
    MerchantRedemptions => "merchant.redemptions",
    /// A merchant's own profile.
    MerchantProfile => "merchant.profile",
    /// A merchant's own resources (资源目录).
    MerchantResources => "merchant.resources",
}

/// How far an allowed operation reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere.
    All,
    /// Inside the caller's region subtree.
    Region,
    /// The caller's own department, merchant or account.
    Own,
}

/// The answer of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allowed(Scope),
    /// 403 with this code.
    Denied(Code),
}

impl Operation {
    /// Whether the operation changes something (auditors may do none of those).
    pub fn writes(self) -> bool {
        use Operation::*;
        matches!(
            self,
            BeneficiariesWrite
                | CardsWrite
                | CardProductsWrite
                | ComplaintsResolve
                | InspectionsWrite
                | MerchantsReview
                | MerchantsDecide
                | OffersDecide
                | TargetsWrite
                | StaffCreate
                | NeedsWrite
                | ResourcesWrite
                | TasksWrite
        )
    }

    /// Whether the operation is a merchant's (done as `merchant_staff`).
    pub fn is_merchants(self) -> bool {
        use Operation::*;
        matches!(
            self,
            MerchantOffers
                | MerchantTerminals
                | MerchantRedemptions
                | MerchantProfile
                | MerchantResources
        )
    }
}

/// The matrix: what `role` may do of `op`.
pub fn access(role: Role, op: Operation) -> Access {
    use Operation::*;
    const DENIED: Access = Access::Denied(Code::Forbidden);
    if op.is_merchants() {
        return match role {
            Role::MerchantStaff => Access::Allowed(Scope::Own),
            _ => DENIED,
        };
    }
    match role {
        Role::MerchantStaff => DENIED,
        // A unit's contact posts and follows needs, reads the resources and the tasks of
        // its region, and its own account.
        Role::MilitaryLiaison => match op {
            NeedsRead | NeedsWrite | ResourcesRead | TasksRead => Access::Allowed(Scope::Region),
            AccountRead => Access::Allowed(Scope::Own),
            _ => DENIED,
        },
        Role::SuperAdmin => Access::Allowed(Scope::All),
        // Card products are national: only the super administrator defines them.
        Role::RegionAdmin if op == CardProductsWrite => DENIED,
        Role::RegionAdmin if op == CardProductsRead => Access::Allowed(Scope::All),
        Role::RegionAdmin => Access::Allowed(Scope::Region),
        Role::Auditor if op.writes() => Access::Denied(Code::ReadOnlyRole),
        Role::Auditor if op == CardProductsRead => Access::Allowed(Scope::All),
        Role::Auditor => Access::Allowed(Scope::Region),
        // A reviewer reads the merchants of its region and records its department's
        // verdict; nothing else.
        Role::Reviewer => match op {
            MerchantsRead => Access::Allowed(Scope::Region),
            MerchantsReview | AccountRead => Access::Allowed(Scope::Own),
            _ => DENIED,
        },
    }
}

/// Whether `role` sees whole card numbers (the deciders); others see them masked.
pub fn sees_whole_card_numbers(role: Role) -> bool {
    matches!(role, Role::SuperAdmin | Role::RegionAdmin)
}

/// 403 unless the matrix allows `role` to do `op`.
pub fn require(role: Role, op: Operation) -> AppResult<()> {
    match access(role, op) {
        Access::Allowed(_) => Ok(()),
        Access::Denied(Code::ReadOnlyRole) => Err(AppError::forbidden(
            Code::ReadOnlyRole,
            "auditors may read but not change anything",
        )),
        Access::Denied(code) => Err(AppError::forbidden(
            code,
            format!("the {role} role may not do this ({})", op.as_str()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(Operation::parse(op.as_str()), Some(*op));
        }
    }

    #[test]
    fn a_reviewer_reads_merchants_and_reviews_only() {
        for op in Operation::ALL {
            let allowed = matches!(access(Role::Reviewer, *op), Access::Allowed(_));
            assert_eq!(
                allowed,
                matches!(
                    op,
                    Operation::MerchantsRead | Operation::MerchantsReview | Operation::AccountRead
                ),
                "{op:?}"
            );
        }
    }

    #[test]
    fn a_liaison_works_on_needs_only() {
        for op in Operation::ALL {
            let allowed = matches!(access(Role::MilitaryLiaison, *op), Access::Allowed(_));
            assert_eq!(
                allowed,
                matches!(
                    op,
                    Operation::NeedsRead
                        | Operation::NeedsWrite
                        | Operation::ResourcesRead
                        | Operation::TasksRead
                        | Operation::AccountRead
                ),
                "{op:?}"
            );
        }
    }

    #[test]
    fn an_auditor_changes_nothing_and_reads_every_office_thing() {
        for op in Operation::ALL.iter().filter(|op| !op.is_merchants()) {
            let expected = if op.writes() {
                Access::Denied(Code::ReadOnlyRole)
            } else {
                access(Role::Auditor, *op)
            };
            assert_eq!(access(Role::Auditor, *op), expected);
            assert!(
                op.writes() || matches!(expected, Access::Allowed(_)),
                "{op:?}"
            );
        }
    }
}
