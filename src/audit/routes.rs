//! `/api/v1/audit-log`: reading the trail (admins, regulators) and verifying its chain (admins).

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::checkpoints::{self, Checkpoint};
use super::{verify_chain, AuditRow, ChainReport};
use crate::auth::{check, Action, Caller, Target};
use crate::db::schema::audit_log;
use crate::error::{ApiResult, Errors, Problem};
use crate::pagination::PageRequest;
use crate::signing::Jwk;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub id: String,
    pub actor_id: Option<String>,
    #[schema(example = "regulator:market")]
    pub actor: String,
    #[schema(example = "enterprise.verify")]
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        Self {
            seq: r.seq,
            id: r.id,
            actor_id: r.actor_id,
            actor: r.actor_label,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            before: r.before.and_then(|b| serde_json::from_str(&b).ok()),
            after: r.after.and_then(|a| serde_json::from_str(&a).ok()),
            reason: r.reason,
            request_id: r.request_id,
            created_at: crate::clock::to_utc(r.created_at),
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

crate::page_type!(AuditPage, AuditEntry);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `enterprise`, `product`, `standard`, `user`, `application`, `certification`, `designation` …
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Read the audit trail
#[utoipa::path(
    get, path = "/api/v1/audit-log", tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "Entries in order (oldest first)", body = AuditPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and regulators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/audit-log")]
pub async fn list_audit(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    check(caller.actor.as_ref(), Action::ReadAudit, Target::default())?;
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    let after: Option<i64> = match &page.after {
        Some(c) => match c.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(
                    "cursor",
                    "invalid_cursor",
                    "use the next_cursor of a previous page",
                );
                None
            }
        },
        None => None,
    };
    errors.finish()?;
    let (et, eid, limit) = (q.entity_type.clone(), q.entity_id.clone(), page.fetch());
    let rows: Vec<AuditRow> = state
        .db(move |conn| {
            let mut query = audit_log::table
                .select(AuditRow::as_select())
                .order(audit_log::seq.asc())
                .limit(limit)
                .into_boxed();
            if let Some(t) = et {
                query = query.filter(audit_log::entity_type.eq(t));
            }
            if let Some(i) = eid {
                query = query.filter(audit_log::entity_id.eq(i));
            }
            if let Some(a) = after {
                query = query.filter(audit_log::seq.gt(a));
            }
            Ok(query.load(conn)?)
        })
        .await?;
    let (rows, _) = page.finish(rows, |r| &r.id);
    let more = rows.len() as i64 == page.limit;
    let next_cursor = if more {
        rows.last()
            .map(|r| crate::pagination::encode_cursor(&r.seq.to_string()))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(AuditPage {
        items: rows.into_iter().map(AuditEntry::from).collect(),
        next_cursor,
    }))
}

/// Check the audit chain (admins)
#[utoipa::path(
    get, path = "/api/v1/audit-log/verify", tag = "audit",
    responses(
        (status = 200, description = "The chain walked: intact, or the first broken entry", body = ChainReport),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/audit-log/verify")]
pub async fn verify_audit(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    check(
        caller.actor.as_ref(),
        Action::VerifyAudit,
        Target::default(),
    )?;
    let report = state.db(|conn| Ok(verify_chain(conn)?)).await?;
    Ok(HttpResponse::Ok().json(report))
}

crate::page_type!(CheckpointPage, Checkpoint);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckpointsQuery {
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Every signed checkpoint of the audit chain, oldest first. Keep copies: `registry audit verify
/// --checkpoint FILE` checks the register against one.
#[utoipa::path(
    get, path = "/api/v1/audit/checkpoints", tag = "audit",
    params(CheckpointsQuery),
    responses(
        (status = 200, body = CheckpointPage),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit/checkpoints")]
pub async fn list_checkpoints(
    state: web::Data<AppState>,
    q: web::Query<CheckpointsQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    errors.finish()?;
    let p = page.clone();
    let rows = state
        .db(move |conn| Ok(checkpoints::list(conn, &p)?))
        .await?;
    let keyed: Vec<(String, Checkpoint)> =
        rows.into_iter().map(|c| (c.seq.to_string(), c)).collect();
    let (keyed, next_cursor) = page.finish(keyed, |(k, _)| k);
    Ok(HttpResponse::Ok().json(CheckpointPage {
        items: keyed.into_iter().map(|(_, c)| c).collect(),
        next_cursor,
    }))
}

/// A JSON Web Key Set (RFC 7517).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// The public keys the registry signs checkpoints and verification answers with, old ones
/// included after a rotation: verify a signed answer offline with any JOSE library.
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "audit",
    responses((status = 200, body = Jwks))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let keys = state
        .db(|conn| Ok(checkpoints::published_keys(conn)?))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(Jwks { keys }))
}
