//! Objections during a public notice (公示): anyone may file one; the deciding agency upholds
//! (the application is rejected) or dismisses it.

use super::machine::{self, Step};
use super::repo::{self, ApplicationRow, ObjectionRow};
use super::workflow::{commit, event, target, Ctx};
use crate::audit::{self, AuditCtx, Change};
use crate::auth::{authorize, Action};
use crate::db::DbConn;
use crate::domain::{ApplicationState, ObjectionStatus};
use crate::error::{ApiError, ApiResult};

/// Anyone may object while a public notice runs.
pub fn object(
    conn: &mut DbConn,
    audit_ctx: &AuditCtx,
    id: &str,
    name: String,
    contact: String,
    text: String,
) -> ApiResult<ObjectionRow> {
    let app = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let open = app.state == ApplicationState::InPublicNotice
        && app.notice_ends_at.is_some_and(|e| crate::clock::now() < e);
    if !open {
        // Drafts and decisions of other enterprises stay hidden.
        if !matches!(
            app.state,
            ApplicationState::InPublicNotice | ApplicationState::Granted
        ) {
            return Err(ApiError::NotFound);
        }
        return Err(ApiError::conflict(
            "public_notice_closed",
            "objections are taken only while the public notice runs",
        ));
    }
    let row = ObjectionRow {
        id: uuid::Uuid::now_v7().to_string(),
        application_id: app.id.clone(),
        name,
        contact,
        text,
        status: ObjectionStatus::Open,
        resolution_reason: None,
        resolved_by: None,
        created_at: crate::clock::now(),
        resolved_at: None,
    };
    repo::insert_objection(conn, &row)?;
    // The application's history shows it (not who objected).
    event(
        conn,
        audit_ctx,
        &app.id,
        Some(app.state),
        app.state,
        Some(&format!("objection {} filed", row.id)),
    )?;
    audit::record(
        conn,
        audit_ctx,
        Change {
            action: "application.objection",
            entity_type: "application",
            entity_id: &app.id,
            before: None,
            after: Some(serde_json::json!({"objection_id": row.id})),
            reason: None,
        },
    )?;
    Ok(row)
}

/// A regulator of the deciding agency upholds or dismisses an objection; an upheld one rejects
/// the application.
pub fn resolve(
    conn: &mut DbConn,
    ctx: &Ctx<'_>,
    id: &str,
    objection_id: &str,
    upheld: bool,
    reason: &str,
) -> ApiResult<ApplicationRow> {
    let app = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    authorize(ctx.actor, Action::Decide, target(&app))?;
    let objection = repo::objections_of(conn, id)?
        .into_iter()
        .find(|o| o.id == objection_id)
        .ok_or(ApiError::NotFound)?;
    if objection.status != ObjectionStatus::Open {
        return Err(ApiError::InvalidState {
            resource: "objection",
            state: objection.status.to_string(),
        });
    }
    let outcome = if upheld {
        ObjectionStatus::Upheld
    } else {
        ObjectionStatus::Dismissed
    };
    let by = ctx.actor.map(|a| a.user_id.clone()).unwrap_or_default();
    repo::resolve_objection(conn, objection_id, outcome, reason, &by)?;
    audit::record(
        conn,
        ctx.audit,
        Change {
            action: if upheld {
                "application.objection_upheld"
            } else {
                "application.objection_dismissed"
            },
            entity_type: "application",
            entity_id: id,
            before: Some(serde_json::json!({"objection_id": objection_id, "status": "open"})),
            after: Some(serde_json::json!({"objection_id": objection_id, "status": outcome})),
            reason: Some(reason),
        },
    )?;
    let Some(t) = machine::transition(app.state, Step::UpholdObjection).filter(|_| upheld) else {
        event(
            conn,
            ctx.audit,
            id,
            Some(app.state),
            app.state,
            Some(&format!("objection {objection_id} dismissed: {reason}")),
        )?;
        return Ok(app);
    };
    let now = crate::clock::now();
    let mut after = app.clone();
    after.state = t.to;
    after.decision_reason = Some(format!("objection upheld: {reason}"));
    after.decided_at = Some(now);
    after.updated_at = now;
    after.version += 1;
    commit(
        conn,
        ctx.audit,
        Step::UpholdObjection,
        &app,
        &after,
        &[t.to],
        after.decision_reason.as_deref(),
    )?;
    Ok(after)
}
