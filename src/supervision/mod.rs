//! Supervision of enterprises by market regulation: the dishonesty list (失信名单, "one
//! dishonesty, restricted everywhere") and the enterprise lifecycle (`lifecycle`). Market
//! regulation lists an enterprise for a period with its reason and legal basis, and removes a
//! listing (信用修复) with a reason; both are audited on the enterprise and public. While a
//! listing is in force the enterprise cannot submit an application, nor have one approved
//! (`enterprises::credit::ensure_not_listed`, called by `applications::workflow`), and its public
//! profile says it is listed. The list's rows and queries live with the enterprises
//! (`enterprises::credit`), so the features below can read them.

pub mod lifecycle;
pub mod routes;

use chrono::NaiveDate;

use crate::audit::{self, AuditCtx, Change};
use crate::auth::{check, Action, Actor, Target};
use crate::db::DbConn;
use crate::domain::EnterpriseStatus;
use crate::enterprises::credit::{self as repo, ListingRow, ListingView};
use crate::error::{ApiError, ApiResult};

/// What a new listing says.
pub struct NewListing {
    pub enterprise_id: String,
    pub reason: String,
    pub legal_basis: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

fn audited(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    action: &'static str,
    row: &ListingRow,
    reason: &str,
) -> ApiResult<ListingView> {
    let view = repo::views(conn, std::slice::from_ref(row))?.remove(0);
    audit::record(
        conn,
        ctx,
        Change {
            action,
            entity_type: "enterprise",
            entity_id: &row.enterprise_id,
            before: None,
            after: serde_json::to_value(&view).ok(),
            reason: Some(reason),
        },
    )?;
    Ok(view)
}

/// Lists an enterprise (market regulation). Only an enterprise that has been on the register
/// (active, suspended or deregistered) can be listed. Call inside `write_tx`.
pub fn list_enterprise(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &AuditCtx,
    new: NewListing,
) -> ApiResult<ListingView> {
    check(Some(actor), Action::KeepCredit, Target::default())?;
    let registered = matches!(
        crate::enterprises::repo::status(conn, &new.enterprise_id)?,
        Some(
            EnterpriseStatus::Active | EnterpriseStatus::Suspended | EnterpriseStatus::Deregistered
        )
    );
    if !registered {
        return Err(ApiError::field(
            "enterprise_id",
            "unknown_enterprise",
            "no enterprise on the register has this id",
        ));
    }
    let row = ListingRow {
        id: uuid::Uuid::now_v7().to_string(),
        enterprise_id: new.enterprise_id,
        reason: new.reason,
        legal_basis: new.legal_basis,
        starts_on: new.starts_on,
        ends_on: new.ends_on,
        agency_code: actor.agency.ok_or(ApiError::Forbidden)?,
        created_at: crate::clock::now(),
        removed_at: None,
        removal_reason: None,
        version: 1,
    };
    repo::insert(conn, &row)?;
    let reason = row.reason.clone();
    audited(conn, ctx, "enterprise.list_dishonest", &row, &reason)
}

/// Removes a listing (信用修复) with a reason (market regulation). The row stays, with when and
/// why. Call inside `write_tx`.
pub fn remove(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &AuditCtx,
    id: &str,
    reason: &str,
) -> ApiResult<ListingView> {
    check(Some(actor), Action::KeepCredit, Target::default())?;
    let before = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if before.removed_at.is_some() {
        return Err(ApiError::InvalidState {
            resource: "listing",
            state: "removed".into(),
        });
    }
    let now = crate::clock::now();
    if repo::remove_guarded(conn, id, before.version, reason, now)? == 0 {
        return Err(ApiError::conflict(
            "concurrent_update",
            "the listing changed meanwhile; reload and retry",
        ));
    }
    let after = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    audited(conn, ctx, "enterprise.delist_dishonest", &after, reason)
}
