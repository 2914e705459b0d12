//! `/api/v1/enterprises/{id}/identity-changes`: the enterprise's requests to change its identity,
//! and market regulation's decisions on them.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::identity::{self, IdentityChangeView};
use super::repo;
use crate::audit::AuditCtx;
use crate::auth::{authorize, Action, Caller, Target};
use crate::db::write_tx;
use crate::domain;
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::Json;
use crate::state::AppState;

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct IdentityChangeList {
    /// Oldest first (an enterprise has few).
    pub items: Vec<IdentityChangeView>,
}

/// List an enterprise's identity changes
#[utoipa::path(
    get, path = "/api/v1/enterprises/{id}/identity-changes", tag = "enterprises",
    params(("id" = String, Path, description = "Enterprise id")),
    responses(
        (status = 200, description = "Every identity change asked for, with its decision", body = IdentityChangeList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A signed-in caller with no right to private data (an app developer)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another enterprise's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/enterprises/{id}/identity-changes")]
pub async fn list_identity_changes(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let id = id.into_inner();
    let items = state
        .db(move |conn| {
            let ent = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            authorize(
                Some(&actor),
                Action::ReadPrivate,
                Target::owned_by(&ent.id, Some(ent.status)),
            )?;
            Ok(identity::list(conn, &id)?
                .iter()
                .map(IdentityChangeView::from)
                .collect())
        })
        .await?;
    Ok(HttpResponse::Ok().json(IdentityChangeList { items }))
}

/// A market-regulation regulator's decision; a rejection says why.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "the business licence still shows the old name"}))]
pub struct IdentityDecision {
    pub reason: Option<String>,
}

async fn decide(
    state: web::Data<AppState>,
    caller: Caller,
    path: (String, String),
    approve: bool,
    body: IdentityDecision,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let mut errors = Errors::new();
    let reason = domain::opt_text(&mut errors, "reason", body.reason.as_deref(), 1000).flatten();
    if !approve && reason.is_none() {
        errors.push("reason", "required", "say why it is rejected");
    }
    errors.finish()?;
    let ctx = AuditCtx::of(&caller);
    let (id, change_id) = path;
    let change = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let ent = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                authorize(
                    Some(&actor),
                    Action::VerifyEnterprise,
                    Target::owned_by(&ent.id, Some(ent.status)),
                )?;
                identity::decide(conn, &ctx, &id, &change_id, approve, reason.as_deref())
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(IdentityChangeView::from(&change)))
}

macro_rules! decision_endpoint {
    ($fn:ident, $path:literal, $approve:expr, $desc:literal) => {
        #[doc = $desc]
        #[utoipa::path(
            post, path = concat!("/api/v1", $path), tag = "enterprises",
            params(("id" = String, Path, description = "Enterprise id"), ("change_id" = String, Path, description = "Identity change id")),
            request_body = IdentityDecision,
            responses(
                (status = 200, body = IdentityChangeView),
                (status = 401, body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not a market-regulation regulator", body = Problem, content_type = "application/problem+json"),
                (status = 404, body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Already decided (`current_state`), or the new USCC is taken", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "A rejection without a reason, or an invalid field", body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        #[post($path)]
        pub async fn $fn(
            state: web::Data<AppState>,
            caller: Caller,
            path: web::Path<(String, String)>,
            body: Json<IdentityDecision>,
        ) -> ApiResult<HttpResponse> {
            decide(state, caller, path.into_inner(), $approve, body.0).await
        }
    };
}

decision_endpoint!(
    approve_identity_change,
    "/enterprises/{id}/identity-changes/{change_id}/approve",
    true,
    "Approves an identity change: the enterprise's name, USCC, legal representative or region change now."
);
decision_endpoint!(
    reject_identity_change,
    "/enterprises/{id}/identity-changes/{change_id}/reject",
    false,
    "Rejects an identity change, with the reason."
);
