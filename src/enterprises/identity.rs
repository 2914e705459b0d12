//! An enterprise's identity — name, USCC, legal representative, region — is what its records
//! certify and what the public relies on: it changes only when market regulation says so. An
//! enterprise's own request waits as a pending change for a market-regulation regulator to
//! approve or reject with a reason; market regulation may also correct it directly.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::repo::{self, EnterpriseRow};
use super::service;
use crate::audit::{self, AuditCtx, Change};
use crate::db::schema::enterprise_identity_changes as changes;
use crate::db::DbConn;
use crate::domain::{IdentityChangeState, Uscc};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = changes)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct IdentityChangeRow {
    pub id: String,
    pub enterprise_id: String,
    pub name: Option<String>,
    pub uscc: Option<String>,
    pub legal_representative: Option<String>,
    pub region_code: Option<String>,
    pub state: IdentityChangeState,
    pub requested_by: Option<String>,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub version: i32,
}

/// The identity fields of a request, each already checked in form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub name: Option<String>,
    pub uscc: Option<String>,
    pub legal_representative: Option<String>,
    pub region_code: Option<String>,
}

impl Identity {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// A requested identity change, as the enterprise and regulators see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IdentityChangeView {
    pub id: String,
    pub enterprise_id: String,
    #[schema(example = "柴达木示例枸杞股份有限公司")]
    pub name: Option<String>,
    pub uscc: Option<String>,
    pub legal_representative: Option<String>,
    pub region_code: Option<String>,
    pub state: IdentityChangeState,
    /// Why it was rejected (or a note on approval).
    pub reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    pub version: i32,
}

impl From<&IdentityChangeRow> for IdentityChangeView {
    fn from(r: &IdentityChangeRow) -> Self {
        Self {
            id: r.id.clone(),
            enterprise_id: r.enterprise_id.clone(),
            name: r.name.clone(),
            uscc: r.uscc.clone(),
            legal_representative: r.legal_representative.clone(),
            region_code: r.region_code.clone(),
            state: r.state,
            reason: r.reason.clone(),
            created_at: crate::clock::to_utc(r.created_at),
            decided_at: r.decided_at.map(crate::clock::to_utc),
            version: r.version,
        }
    }
}

pub fn list(conn: &mut DbConn, enterprise_id: &str) -> QueryResult<Vec<IdentityChangeRow>> {
    changes::table
        .filter(changes::enterprise_id.eq(enterprise_id))
        .order(changes::id.asc())
        .select(IdentityChangeRow::as_select())
        .load(conn)
}

fn find(
    conn: &mut DbConn,
    enterprise_id: &str,
    id: &str,
) -> QueryResult<Option<IdentityChangeRow>> {
    changes::table
        .find(id)
        .filter(changes::enterprise_id.eq(enterprise_id))
        .select(IdentityChangeRow::as_select())
        .first(conn)
        .optional()
}

/// Files the enterprise's request, checked as it would be applied (a region that exists, a
/// USCC that is free); one may be pending at a time. Call inside `write_tx`.
pub fn request(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    enterprise: &EnterpriseRow,
    identity: &Identity,
) -> ApiResult<IdentityChangeRow> {
    let enterprise_id = enterprise.id.as_str();
    let mut checked = enterprise.clone();
    apply(conn, &mut checked, identity)?;
    let pending: Vec<String> = changes::table
        .filter(changes::enterprise_id.eq(enterprise_id))
        .filter(changes::state.eq(IdentityChangeState::Pending))
        .select(changes::id)
        .load(conn)?;
    if !pending.is_empty() {
        return Err(ApiError::conflict_with(
            "identity_change_pending",
            "an identity change is already waiting for market regulation",
            pending,
        ));
    }
    let row = IdentityChangeRow {
        id: uuid::Uuid::now_v7().to_string(),
        enterprise_id: enterprise_id.to_owned(),
        name: identity.name.clone(),
        uscc: identity.uscc.clone(),
        legal_representative: identity.legal_representative.clone(),
        region_code: identity
            .region_code
            .as_ref()
            .map(|_| checked.region_code.clone()),
        state: IdentityChangeState::Pending,
        requested_by: ctx.actor_id.clone(),
        decided_by: None,
        reason: None,
        created_at: crate::clock::now(),
        decided_at: None,
        version: 1,
    };
    diesel::insert_into(changes::table)
        .values(&row)
        .execute(conn)?;
    audit::record(
        conn,
        ctx,
        Change {
            action: "enterprise.identity_change_requested",
            entity_type: "enterprise",
            entity_id: enterprise_id,
            before: None,
            after: serde_json::to_value(IdentityChangeView::from(&row)).ok(),
            reason: None,
        },
    )?;
    Ok(row)
}

/// Writes identity fields onto `after` (a new USCC must pass its check and be free; a region is
/// resolved to its current code). The caller saves and audits the enterprise.
pub fn apply(conn: &mut DbConn, after: &mut EnterpriseRow, identity: &Identity) -> ApiResult<()> {
    if let Some(v) = &identity.name {
        after.name = v.clone();
    }
    if let Some(v) = &identity.legal_representative {
        after.legal_representative = v.clone();
    }
    if let Some(v) = &identity.region_code {
        after.region_code = service::resolve_region(conn, "region_code", v)?;
    }
    if let Some(v) = &identity.uscc {
        let uscc =
            Uscc::parse(v).map_err(|e| ApiError::field("uscc", "invalid_value", e.to_string()))?;
        if let Some(other) = repo::find_by_uscc(conn, uscc.as_str())?.filter(|o| o.id != after.id) {
            return Err(ApiError::conflict_with(
                "uscc_taken",
                "another enterprise is registered with this USCC",
                vec![other.id],
            ));
        }
        after.uscc = uscc.as_str().to_owned();
    }
    Ok(())
}

/// Market regulation decides a pending change: approval applies it to the enterprise (audited
/// and published as an update). Call inside `write_tx`; the caller has checked who decides.
pub fn decide(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    enterprise_id: &str,
    change_id: &str,
    approve: bool,
    reason: Option<&str>,
) -> ApiResult<IdentityChangeRow> {
    let change = find(conn, enterprise_id, change_id)?.ok_or(ApiError::NotFound)?;
    if change.state != IdentityChangeState::Pending {
        return Err(ApiError::InvalidState {
            resource: "identity change",
            state: change.state.to_string(),
        });
    }
    let state = if approve {
        IdentityChangeState::Approved
    } else {
        IdentityChangeState::Rejected
    };
    if approve {
        let before = repo::find(conn, enterprise_id)?.ok_or(ApiError::NotFound)?;
        let mut after = before.clone();
        let identity = Identity {
            name: change.name.clone(),
            uscc: change.uscc.clone(),
            legal_representative: change.legal_representative.clone(),
            region_code: change.region_code.clone(),
        };
        apply(conn, &mut after, &identity)?;
        after.updated_at = crate::clock::now();
        after.version += 1;
        service::save_guarded(conn, &after, before.version)?;
        audit::record(
            conn,
            ctx,
            Change {
                action: "enterprise.update",
                entity_type: "enterprise",
                entity_id: enterprise_id,
                before: Some(serde_json::json!({"name": before.name, "uscc": before.uscc,
                    "legal_representative": before.legal_representative, "region_code": before.region_code})),
                after: Some(serde_json::json!({"name": after.name, "uscc": after.uscc,
                    "legal_representative": after.legal_representative, "region_code": after.region_code})),
                reason: Some("identity change approved by market regulation"),
            },
        )?;
    }
    let updated = diesel::update(
        changes::table
            .filter(changes::id.eq(&change.id))
            .filter(changes::version.eq(change.version)),
    )
    .set((
        changes::state.eq(state),
        changes::decided_by.eq(&ctx.actor_id),
        changes::reason.eq(reason),
        changes::decided_at.eq(crate::clock::now()),
        changes::version.eq(change.version + 1),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(ApiError::conflict(
            "concurrent_update",
            "the identity change was decided meanwhile",
        ));
    }
    audit::record(
        conn,
        ctx,
        Change {
            action: if approve {
                "enterprise.identity_change_approved"
            } else {
                "enterprise.identity_change_rejected"
            },
            entity_type: "enterprise",
            entity_id: enterprise_id,
            before: Some(serde_json::json!({"identity_change": change.id, "state": "pending"})),
            after: Some(serde_json::json!({"identity_change": change.id, "state": state})),
            reason,
        },
    )?;
    find(conn, enterprise_id, change_id)?.ok_or(ApiError::NotFound)
}
