//! The access policy: may this actor do this to this resource? One table, tested as a table.
//!
//! Hiding rule: an enterprise user never learns that another enterprise's unpublished data
//! exists, and never edits another enterprise's data: both answer 404, not 403.

use crate::domain::{Agency, EnterpriseStatus, Role};
use crate::error::ApiError;

/// Who is calling (loaded from the database on each request, so a disabled user stops at once).
#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable)]
pub struct Actor {
    pub user_id: String,
    pub username: String,
    pub role: Role,
    /// The agency of a regulator.
    pub agency: Option<Agency>,
    pub enterprise_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See that a record exists (an enterprise, its products).
    Read,
    /// See an enterprise's private fields (contacts, override reason).
    ReadPrivate,
    /// Edit an enterprise's own profile.
    UpdateEnterprise,
    /// Activate a pending enterprise; decide its identity changes.
    VerifyEnterprise,
    /// Register an enterprise directly (active at once; may carry a USCC override).
    RegisterEnterprise,
    /// Create or edit products and their declared standards.
    ManageProducts,
    /// Load an enterprise's products from a file (`POST /imports?kind=products`): its own users,
    /// and — naming the enterprise — market regulation and admins, who migrate older registers.
    ImportProducts,
    /// Regions, standards, agencies, targets.
    ManageReference,
    ManageUsers,
    /// Draft, submit or withdraw an application for one's own enterprise.
    ManageApplication,
    /// Review and decide applications, grant, resolve objections, suspend / reinstate / revoke
    /// records: only regulators of the agency responsible for the kind (`Target::agency`).
    Decide,
    /// Keep the dishonesty list: list an enterprise, remove a listing (market regulation).
    KeepCredit,
    /// Read the audit trail.
    ReadAudit,
    /// Walk the audit hash chain.
    VerifyAudit,
}

/// What the policy needs to know about the target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Target<'a> {
    /// The enterprise that owns the record (none for reference data).
    pub enterprise_id: Option<&'a str>,
    /// Whether the public may see it (its enterprise is active).
    pub published: bool,
    /// The agency responsible for the record's kind (applications, certificates, designations).
    pub agency: Option<Agency>,
}

impl<'a> Target<'a> {
    /// Data owned by an enterprise: public while the enterprise is active.
    pub fn owned_by(enterprise_id: &'a str, status: Option<EnterpriseStatus>) -> Self {
        Self {
            enterprise_id: Some(enterprise_id),
            published: status == Some(EnterpriseStatus::Active),
            agency: None,
        }
    }

    /// The same target, decided by `agency` (the one responsible for its kind).
    pub fn decided_by(self, agency: Option<Agency>) -> Self {
        Self { agency, ..self }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Unauthenticated,
    Forbidden,
    NotFound,
}

impl Decision {
    pub fn into_result(self) -> Result<(), ApiError> {
        match self {
            Decision::Allow => Ok(()),
            Decision::Unauthenticated => Err(ApiError::Unauthenticated),
            Decision::Forbidden => Err(ApiError::Forbidden),
            Decision::NotFound => Err(ApiError::NotFound),
        }
    }
}

pub fn decide(actor: Option<&Actor>, action: Action, target: Target<'_>) -> Decision {
    use Decision::*;
    let Some(actor) = actor else {
        return match action {
            Action::Read if target.published => Allow,
            Action::Read => NotFound,
            Action::ReadPrivate => Forbidden,
            _ => Unauthenticated,
        };
    };
    let owner =
        actor.enterprise_id.is_some() && actor.enterprise_id.as_deref() == target.enterprise_id;
    let visible = target.published || owner || matches!(actor.role, Role::Regulator | Role::Admin);
    match (actor.role, action) {
        (_, Action::Read) => {
            if visible {
                Allow
            } else {
                NotFound
            }
        }
        (
            Role::Enterprise,
            Action::ReadPrivate
            | Action::UpdateEnterprise
            | Action::ManageProducts
            | Action::ImportProducts
            | Action::ManageApplication,
        ) => {
            if owner {
                Allow
            } else {
                NotFound
            }
        }
        (Role::Enterprise, Action::VerifyEnterprise) => {
            if owner {
                Forbidden
            } else {
                NotFound
            }
        }
        (Role::Regulator | Role::Admin, Action::ReadPrivate) => Allow,
        (Role::Admin, Action::ImportProducts) => Allow,
        (Role::Regulator, Action::ImportProducts) => {
            if actor.agency == Some(Agency::MarketRegulation) {
                Allow
            } else {
                Forbidden
            }
        }
        (
            Role::Regulator,
            Action::UpdateEnterprise
            | Action::VerifyEnterprise
            | Action::RegisterEnterprise
            | Action::KeepCredit,
        ) => {
            if actor.agency == Some(Agency::MarketRegulation) {
                Allow
            } else {
                Forbidden
            }
        }
        (
            Role::Admin,
            Action::ManageReference | Action::ManageUsers | Action::ReadAudit | Action::VerifyAudit,
        ) => Allow,
        (Role::Regulator, Action::ReadAudit) => Allow,
        (Role::Regulator, Action::Decide) => {
            if target.agency.is_some() && actor.agency == target.agency {
                Allow
            } else {
                Forbidden
            }
        }
        (Role::Enterprise, Action::Decide) => {
            if visible {
                Forbidden
            } else {
                NotFound
            }
        }
        _ => Forbidden,
    }
}

/// Which rows a caller may list. "Public" is what anyone may see: an active enterprise and what
/// it owns; an application while in public notice.
#[derive(Debug, Clone)]
pub enum Visibility {
    /// Everything (regulators, admins).
    All,
    /// What is public, plus everything of this enterprise (its own users).
    PublicOr(String),
    /// What is public only (anonymous callers).
    Public,
}

/// Which rows `actor` may list: the list-side twin of `Action::Read`, so a list never shows
/// what a read would hide.
pub fn visibility(actor: Option<&Actor>) -> Visibility {
    match actor {
        Some(a) if matches!(a.role, Role::Regulator | Role::Admin) => Visibility::All,
        Some(Actor {
            enterprise_id: Some(own),
            ..
        }) => Visibility::PublicOr(own.clone()),
        _ => Visibility::Public,
    }
}

/// May `actor` do `action` to `target`? Existence first: a caller who may not see the target
/// gets 404 whatever the action, so it never learns the target exists. Handlers ask this.
pub fn authorize(
    actor: Option<&Actor>,
    action: Action,
    target: Target<'_>,
) -> Result<(), ApiError> {
    decide(actor, Action::Read, target).into_result()?;
    decide(actor, action, target).into_result()
}

/// Whether `actor` may: for what an answer includes (private fields), not for refusing.
pub fn allows(actor: Option<&Actor>, action: Action, target: Target<'_>) -> bool {
    decide(actor, action, target) == Decision::Allow
}

/// One decision as a result (no existence check first): `check(actor, Action::X, target)?`.
pub fn check(actor: Option<&Actor>, action: Action, target: Target<'_>) -> Result<(), ApiError> {
    decide(actor, action, target).into_result()
}

#[cfg(test)]
mod tests {
    use super::Action::*;
    use super::Decision::*;
    use super::*;

    fn actor(role: Role, agency: Option<Agency>, enterprise: Option<&str>) -> Actor {
        Actor {
            user_id: "u".into(),
            username: "u".into(),
            role,
            agency,
            enterprise_id: enterprise.map(Into::into),
        }
    }

    /// Who may do what, as a table: actor × action × (own?, published?) → decision.
    #[test]
    fn the_roles_table() {
        let admin = actor(Role::Admin, None, None);
        let market = actor(Role::Regulator, Some(Agency::MarketRegulation), None);
        let agri = actor(Role::Regulator, Some(Agency::Agriculture), None);
        let ent = actor(Role::Enterprise, None, Some("E1"));
        let dev = actor(Role::Developer, None, None);
        let own_pub = Target {
            enterprise_id: Some("E1"),
            published: true,
            agency: None,
        };
        let own_unpub = Target {
            enterprise_id: Some("E1"),
            published: false,
            agency: None,
        };
        let other_pub = Target {
            enterprise_id: Some("E2"),
            published: true,
            agency: None,
        };
        let other_unpub = Target {
            enterprise_id: Some("E2"),
            published: false,
            agency: None,
        };
        let reference = Target::default();
        let agri_record = Target {
            enterprise_id: Some("E2"),
            published: true,
            agency: Some(Agency::Agriculture),
        };
        let own_agri_draft = Target {
            enterprise_id: Some("E1"),
            published: false,
            agency: Some(Agency::Agriculture),
        };
        let other_agri_draft = Target {
            enterprise_id: Some("E2"),
            published: false,
            agency: Some(Agency::Agriculture),
        };

        #[rustfmt::skip]
        let table: Vec<(Option<&Actor>, Action, Target, Decision)> = vec![
            // public
            (None, Read, other_pub, Allow),
            (None, Read, other_unpub, NotFound),
            (None, ReadPrivate, other_pub, Forbidden),
            (None, UpdateEnterprise, other_pub, Unauthenticated),
            (None, ManageProducts, other_pub, Unauthenticated),
            (None, ManageReference, reference, Unauthenticated),
            (None, ManageUsers, reference, Unauthenticated),
            // enterprise user: own vs other
            (Some(&ent), Read, own_unpub, Allow),
            (Some(&ent), Read, other_pub, Allow),
            (Some(&ent), Read, other_unpub, NotFound),
            (Some(&ent), ReadPrivate, own_pub, Allow),
            (Some(&ent), ReadPrivate, other_pub, NotFound),
            (Some(&ent), UpdateEnterprise, own_unpub, Allow),
            (Some(&ent), UpdateEnterprise, other_pub, NotFound),
            (Some(&ent), ManageProducts, own_unpub, Allow),
            (Some(&ent), ManageProducts, other_pub, NotFound),
            (Some(&ent), ManageProducts, other_unpub, NotFound),
            (Some(&ent), VerifyEnterprise, own_unpub, Forbidden),
            (Some(&ent), VerifyEnterprise, other_unpub, NotFound),
            (Some(&ent), ManageReference, reference, Forbidden),
            (Some(&ent), RegisterEnterprise, reference, Forbidden),
            (None, RegisterEnterprise, reference, Unauthenticated),
            (Some(&market), RegisterEnterprise, reference, Allow),
            (Some(&agri), RegisterEnterprise, reference, Forbidden),
            (Some(&admin), RegisterEnterprise, reference, Forbidden),
            (Some(&ent), ManageUsers, reference, Forbidden),
            // regulators read everything, verify only from market regulation, never manage products
            (Some(&market), Read, other_unpub, Allow),
            (Some(&market), ReadPrivate, other_unpub, Allow),
            (Some(&market), UpdateEnterprise, other_unpub, Allow),
            (Some(&agri), UpdateEnterprise, other_pub, Forbidden),
            (Some(&market), VerifyEnterprise, other_unpub, Allow),
            (Some(&agri), VerifyEnterprise, other_unpub, Forbidden),
            (Some(&agri), Read, other_unpub, Allow),
            (Some(&market), ManageProducts, other_pub, Forbidden),
            // bulk imports of products: the enterprise's own users, market regulation, admins
            (Some(&ent), ImportProducts, own_unpub, Allow),
            (Some(&ent), ImportProducts, other_pub, NotFound),
            (Some(&market), ImportProducts, other_unpub, Allow),
            (Some(&agri), ImportProducts, other_pub, Forbidden),
            (Some(&admin), ImportProducts, other_pub, Allow),
            (None, ImportProducts, other_pub, Unauthenticated),
            (Some(&market), ManageReference, reference, Forbidden),
            (Some(&market), ManageUsers, reference, Forbidden),
            // admin: users and reference data; no business edits
            (Some(&admin), ManageUsers, reference, Allow),
            (Some(&admin), ManageReference, reference, Allow),
            (Some(&admin), Read, other_unpub, Allow),
            (Some(&admin), ManageProducts, other_pub, Forbidden),
            (Some(&admin), UpdateEnterprise, other_pub, Forbidden),
            (Some(&admin), VerifyEnterprise, other_unpub, Forbidden),
            // applications and records: only the responsible agency decides
            (Some(&agri), Decide, agri_record, Allow),
            (Some(&market), Decide, agri_record, Forbidden),
            (Some(&admin), Decide, agri_record, Forbidden),
            (Some(&ent), Decide, own_agri_draft, Forbidden),
            (Some(&ent), Decide, other_agri_draft, NotFound),
            (None, Decide, agri_record, Unauthenticated),
            (Some(&ent), ManageApplication, own_agri_draft, Allow),
            (Some(&ent), ManageApplication, other_agri_draft, NotFound),
            (Some(&ent), Read, other_agri_draft, NotFound),
            (Some(&agri), ManageApplication, own_agri_draft, Forbidden),
            (Some(&agri), Read, other_agri_draft, Allow),
            (None, ManageApplication, own_agri_draft, Unauthenticated),
            (Some(&admin), ReadAudit, reference, Allow),
            (Some(&market), ReadAudit, reference, Allow),
            (Some(&ent), ReadAudit, reference, Forbidden),
            (None, ReadAudit, reference, Unauthenticated),
            (Some(&admin), VerifyAudit, reference, Allow),
            (Some(&market), VerifyAudit, reference, Forbidden),
            // app developer: reads what anyone reads, and nothing more
            (Some(&dev), Read, other_pub, Allow),
            (Some(&dev), Read, other_unpub, NotFound),
            (Some(&dev), Read, other_agri_draft, NotFound),
            (Some(&dev), ReadPrivate, other_pub, Forbidden),
            (Some(&dev), ManageProducts, other_pub, Forbidden),
            (Some(&dev), ImportProducts, other_pub, Forbidden),
            (Some(&dev), UpdateEnterprise, other_pub, Forbidden),
            // (`authorize` asks `Read` first, so what it may not see answers 404 before these)
            (Some(&dev), VerifyEnterprise, other_unpub, Forbidden),
            (Some(&dev), RegisterEnterprise, reference, Forbidden),
            (Some(&dev), Decide, agri_record, Forbidden),
            (Some(&dev), ManageApplication, other_agri_draft, Forbidden),
            (Some(&dev), ManageReference, reference, Forbidden),
            (Some(&dev), ManageUsers, reference, Forbidden),
            (Some(&dev), ReadAudit, reference, Forbidden),
            (Some(&dev), KeepCredit, reference, Forbidden),
        ];
        for (i, (a, action, target, expected)) in table.into_iter().enumerate() {
            assert_eq!(
                decide(a, action, target),
                expected,
                "row {i}: {a:?} {action:?} {target:?}"
            );
        }
    }
}
