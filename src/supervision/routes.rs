//! `/api/v1/credit/dishonesty`: the public dishonesty list, which market regulation keeps; and
//! `/api/v1/enterprises/{id}/suspend|reinstate|deregister`, the enterprise lifecycle.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::lifecycle::{change_status, Lifecycle};
use super::NewListing;
use crate::audit::AuditCtx;
use crate::auth::Caller;
use crate::db::write_tx;
use crate::domain;
use crate::enterprises::credit::{self as repo, ListingView};
use crate::enterprises::service::EnterpriseView;
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::{created_versioned, ok_versioned, Json};
use crate::pagination::PageRequest;
use crate::state::AppState;

crate::page_type!(ListingPage, ListingView);

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"enterprise_id": "01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e5f", "reason": "以次充好，销售不合格枸杞产品，拒不整改", "legal_basis": "《市场监督管理严重违法失信名单管理办法》第九条", "starts_on": "2026-11-28", "ends_on": "2029-11-27"}))]
pub struct CreateListingRequest {
    pub enterprise_id: String,
    pub reason: String,
    pub legal_basis: String,
    /// YYYY-MM-DD.
    pub starts_on: String,
    /// YYYY-MM-DD, on or after `starts_on`; open-ended when absent.
    pub ends_on: Option<String>,
}

/// List an enterprise as dishonest (market regulation)
#[utoipa::path(
    post, path = "/api/v1/credit/dishonesty", tag = "credit",
    request_body = CreateListingRequest,
    responses(
        (status = 201, body = ListingView, headers(("ETag" = String), ("Location" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a market-regulation regulator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field missing or invalid, or an enterprise not on the register (`unknown_enterprise`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/credit/dishonesty")]
pub async fn create_listing(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateListingRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let b = body.0;
    let mut errors = Errors::new();
    let reason = domain::text(&mut errors, "reason", &b.reason, 1000);
    let basis = domain::text(&mut errors, "legal_basis", &b.legal_basis, 500);
    let starts_on = crate::http::parse_date(&mut errors, "starts_on", Some(&b.starts_on));
    let ends_on = b
        .ends_on
        .as_deref()
        .and_then(|d| crate::http::parse_date(&mut errors, "ends_on", Some(d)));
    if let (Some(s), Some(e)) = (starts_on, ends_on) {
        if e < s {
            errors.push(
                "ends_on",
                "before_start",
                "a listing cannot end before it starts",
            );
        }
    }
    errors.finish()?;
    let (Some(reason), Some(legal_basis), Some(starts_on)) = (reason, basis, starts_on) else {
        return Err(ApiError::Internal("validated listing missing".into()));
    };
    let new = NewListing {
        enterprise_id: b.enterprise_id,
        reason,
        legal_basis,
        starts_on,
        ends_on,
    };
    let ctx = AuditCtx::of(&caller);
    let view = state
        .db(move |conn| write_tx(conn, |conn| super::list_enterprise(conn, &actor, &ctx, new)))
        .await?;
    Ok(created_versioned(
        &view,
        view.version,
        format!("/api/v1/credit/dishonesty/{}", view.id),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListListingsQuery {
    pub enterprise_id: Option<String>,
    /// `true`: in force today; `false`: removed, ended or not yet started.
    pub in_force: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The dishonesty list (public)
#[utoipa::path(
    get, path = "/api/v1/credit/dishonesty", tag = "credit",
    params(ListListingsQuery),
    responses(
        (status = 200, body = ListingPage),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/credit/dishonesty")]
pub async fn list_listings(
    state: web::Data<AppState>,
    q: web::Query<ListListingsQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    let in_force = match q.in_force.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            errors.push("in_force", "invalid_value", "true or false");
            None
        }
    };
    errors.finish()?;
    let filter = repo::ListingFilter {
        enterprise_id: q.enterprise_id.clone(),
        in_force,
    };
    let p = page.clone();
    let (items, next_cursor) = state
        .db(move |conn| {
            let rows = repo::list(conn, &filter, &p)?;
            let (rows, next) = p.finish(rows, |r| &r.id);
            Ok((repo::views(conn, &rows)?, next))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ListingPage { items, next_cursor }))
}

/// One listing (public)
#[utoipa::path(
    get, path = "/api/v1/credit/dishonesty/{id}", tag = "credit",
    params(("id" = String, Path, description = "Listing id")),
    responses(
        (status = 200, body = ListingView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/credit/dishonesty/{id}")]
pub async fn get_listing(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            let row = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            Ok(repo::views(conn, &[row])?.remove(0))
        })
        .await?;
    Ok(ok_versioned(&view, view.version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "已履行行政处罚，完成信用修复"}))]
pub struct RemoveListingRequest {
    pub reason: String,
}

/// Remove a listing: credit repair (market regulation)
#[utoipa::path(
    post, path = "/api/v1/credit/dishonesty/{id}/remove", tag = "credit",
    params(("id" = String, Path, description = "Listing id")),
    request_body = RemoveListingRequest,
    responses(
        (status = 200, body = ListingView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Removed already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`reason` missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/credit/dishonesty/{id}/remove")]
pub async fn remove_listing(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<RemoveListingRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let reason = crate::domain::required_reason(&body.0.reason, 1000)?;
    let ctx = AuditCtx::of(&caller);
    let id = id.into_inner();
    let view = state
        .db(move |conn| write_tx(conn, |conn| super::remove(conn, &actor, &ctx, &id, &reason)))
        .await?;
    Ok(ok_versioned(&view, view.version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "2026 年第 3 批抽检发现严重质量问题，责令停业整顿"}))]
pub struct LifecycleRequest {
    /// Why: kept in the audit trail (and, when deregistering, in each closed application's
    /// timeline).
    pub reason: String,
}

async fn lifecycle(
    state: web::Data<AppState>,
    caller: Caller,
    id: String,
    step: Lifecycle,
    body: LifecycleRequest,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let reason = domain::required_reason(&body.reason, 1000)?;
    let ctx = AuditCtx::of(&caller);
    let view = state
        .db(move |conn| change_status(conn, &actor, &ctx, &id, step, &reason))
        .await?;
    Ok(ok_versioned(&view, view.version))
}

/// Market regulation's three lifecycle actions, each a documented handler.
macro_rules! lifecycle_actions {
    ($(($fn:ident, $step:expr, $path:literal, $summary:literal, $description:literal, $from:literal)),+ $(,)?) => {$(
        #[utoipa::path(
            post, path = concat!("/api/v1", $path), tag = "enterprises",
            summary = $summary, description = $description,
            params(("id" = String, Path, description = "Enterprise id")),
            request_body = LifecycleRequest,
            responses(
                (status = 200, body = EnterpriseView, headers(("ETag" = String))),
                (status = 401, body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not a market-regulation regulator", body = Problem, content_type = "application/problem+json"),
                (status = 404, body = Problem, content_type = "application/problem+json"),
                (status = 409, description = $from, body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "`reason` missing", body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        #[post($path)]
        pub async fn $fn(
            state: web::Data<AppState>,
            caller: Caller,
            id: web::Path<String>,
            body: Json<LifecycleRequest>,
        ) -> ApiResult<HttpResponse> {
            lifecycle(state, caller, id.into_inner(), $step, body.0).await
        }
    )+};
}

lifecycle_actions!(
    (
        suspend_enterprise,
        Lifecycle::Suspend,
        "/enterprises/{id}/suspend",
        "Suspend an enterprise",
        "Market regulation suspends an active enterprise with a reason: its profile and products leave public view and it cannot apply; its records stay and verify with the holder's status `suspended`. Audited.",
        "Not active (`current_state` says what it is)"
    ),
    (
        reinstate_enterprise,
        Lifecycle::Reinstate,
        "/enterprises/{id}/reinstate",
        "Reinstate a suspended enterprise",
        "Market regulation reinstates a suspended enterprise with a reason: it is active and public again. Audited.",
        "Not suspended (`current_state` says what it is)"
    ),
    (
        deregister_enterprise,
        Lifecycle::Deregister,
        "/enterprises/{id}/deregister",
        "Deregister an enterprise (注销)",
        "Market regulation deregisters an active or suspended enterprise with a reason. Final: its profile and products leave public view, its open applications are withdrawn with the reason, its accounts are disabled and their sessions ended; its records stay and verify with the holder's status `deregistered`. Audited.",
        "Neither active nor suspended (`current_state` says what it is)"
    ),
);
