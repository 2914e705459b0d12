//! The enterprise lifecycle: market regulation suspends, reinstates and deregisters (注销) an
//! enterprise, each with a reason. It sits above applications because deregistration closes the
//! enterprise's open applications.

use crate::audit::{self, AuditCtx, Change};
use crate::db::DbConn;
use crate::domain::EnterpriseStatus;
use crate::enterprises::repo;
use crate::enterprises::service::{save_guarded, views, EnterpriseView};
use crate::error::{ApiError, ApiResult};

/// What market regulation does to a registered enterprise, each with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Suspend,
    Reinstate,
    Deregister,
}

impl Lifecycle {
    /// The status this leads to from `from`, if it may be taken from there: an active
    /// enterprise is suspended, a suspended one reinstated, either deregistered (final).
    pub fn next(self, from: EnterpriseStatus) -> Option<EnterpriseStatus> {
        use EnterpriseStatus::*;
        match (self, from) {
            (Lifecycle::Suspend, Active) => Some(Suspended),
            (Lifecycle::Reinstate, Suspended) => Some(Active),
            (Lifecycle::Deregister, Active | Suspended) => Some(Deregistered),
            _ => None,
        }
    }

    pub fn action(self) -> &'static str {
        match self {
            Lifecycle::Suspend => "enterprise.suspend",
            Lifecycle::Reinstate => "enterprise.reinstate",
            Lifecycle::Deregister => "enterprise.deregister",
        }
    }
}

/// Suspends, reinstates or deregisters an enterprise (market regulation), with a reason. While
/// it is not active its profile and products leave public view and it cannot apply; its
/// records stay as they are and verify with the holder's status. Deregistering is final: its
/// open applications are closed and its accounts disabled, their sessions ended.
pub fn change_status(
    conn: &mut DbConn,
    actor: &crate::auth::Actor,
    ctx: &AuditCtx,
    id: &str,
    step: Lifecycle,
    reason: &str,
) -> ApiResult<EnterpriseView> {
    crate::db::write_tx(conn, |conn| {
        let before = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
        crate::auth::check(
            Some(actor),
            crate::auth::Action::VerifyEnterprise,
            crate::auth::Target::owned_by(&before.id, Some(before.status)),
        )?;
        let next = step
            .next(before.status)
            .ok_or_else(|| ApiError::InvalidState {
                resource: "enterprise",
                state: before.status.to_string(),
            })?;
        let mut after = before.clone();
        after.status = next;
        after.updated_at = crate::clock::now();
        after.version += 1;
        save_guarded(conn, &after, before.version)?;
        let (mut closed, mut disabled) = (Vec::new(), Vec::new());
        if step == Lifecycle::Deregister {
            closed = crate::applications::workflow::close_for_enterprise(conn, ctx, id, reason)?;
            disabled = crate::users::repo::disable_enterprise_users(conn, id)?;
            for user in &disabled {
                crate::auth::refresh::revoke_all_for_user(conn, user)?;
            }
        }
        let mut shown = views(conn, &[before, after], |_| true)?;
        let after_view = shown.pop().expect("two");
        let mut after_json = serde_json::to_value(&after_view).unwrap_or_default();
        if step == Lifecycle::Deregister {
            after_json["closed_applications"] = serde_json::json!(closed);
            after_json["disabled_users"] = serde_json::json!(disabled);
        }
        audit::record(
            conn,
            ctx,
            Change {
                action: step.action(),
                entity_type: "enterprise",
                entity_id: id,
                before: serde_json::to_value(shown.pop()).ok(),
                after: Some(after_json),
                reason: Some(reason),
            },
        )?;
        Ok(after_view)
    })
}
