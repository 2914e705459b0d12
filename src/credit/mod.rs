//! Credit: the dishonesty list (失信名单, "one dishonesty, restricted everywhere"). Market
//! regulation lists an enterprise for a period with its reason and legal basis, and removes a
//! listing (信用修复) with a reason; both are audited on the enterprise and public. While a
//! listing is in force the enterprise cannot submit an application, nor have one approved
//! (`applications::workflow`), and its public profile says it is listed.

pub mod repo;
pub mod routes;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{self, AuditCtx, Change};
use crate::auth::{check, Action, Actor, Target};
use crate::db::DbConn;
use crate::domain::{Agency, EnterpriseStatus};
use crate::error::{ApiError, ApiResult};
use repo::ListingRow;

/// A listing as the public sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListingView {
    pub id: String,
    pub enterprise_id: String,
    #[schema(example = "柴达木示例枸杞有限公司")]
    pub enterprise_name: String,
    #[schema(example = "91632800MA752K3R1C")]
    pub uscc: String,
    #[schema(example = "以次充好，销售不合格枸杞产品，拒不整改")]
    pub reason: String,
    #[schema(example = "《市场监督管理严重违法失信名单管理办法》第九条")]
    pub legal_basis: String,
    pub starts_on: NaiveDate,
    /// Open-ended when absent.
    pub ends_on: Option<NaiveDate>,
    /// The agency that listed it.
    #[schema(example = "market_regulation")]
    pub agency_code: Agency,
    pub listed_at: chrono::DateTime<chrono::Utc>,
    /// In force today: started, not ended, not removed.
    pub in_force: bool,
    /// When it was removed (信用修复), and why.
    pub removed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub removal_reason: Option<String>,
    pub version: i32,
}

pub fn views(conn: &mut DbConn, rows: &[ListingRow]) -> ApiResult<Vec<ListingView>> {
    let today = crate::clock::today();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let e = crate::enterprises::repo::find(conn, &r.enterprise_id)?
            .ok_or_else(|| ApiError::Internal(format!("listing {} names no enterprise", r.id)))?;
        out.push(ListingView {
            id: r.id.clone(),
            enterprise_id: r.enterprise_id.clone(),
            enterprise_name: e.name,
            uscc: e.uscc,
            reason: r.reason.clone(),
            legal_basis: r.legal_basis.clone(),
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            agency_code: r.agency_code,
            listed_at: crate::clock::to_utc(r.created_at),
            in_force: r.in_force(today),
            removed_at: r.removed_at.map(crate::clock::to_utc),
            removal_reason: r.removal_reason.clone(),
            version: r.version,
        });
    }
    Ok(out)
}

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
    let view = views(conn, std::slice::from_ref(row))?.remove(0);
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

/// 422 `enterprise_on_dishonesty_list` while a listing is in force: applications are neither
/// submitted nor approved.
pub fn ensure_not_listed(conn: &mut DbConn, enterprise_id: &str) -> ApiResult<()> {
    match repo::in_force_for(conn, enterprise_id)? {
        Some(listing) => Err(ApiError::field(
            "enterprise_id",
            "enterprise_on_dishonesty_list",
            format!(
                "the enterprise is on the dishonesty list (listing {}, since {}): it may not apply",
                listing.id, listing.starts_on
            ),
        )),
        None => Ok(()),
    }
}
