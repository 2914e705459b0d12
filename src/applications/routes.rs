use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::machine::Step;
use super::objections;
use super::repo::{self, AppFilter, DocumentRef};
use super::views::{
    detail, load_visible, private, view, ApplicationDetail, ApplicationPage, ApplicationView,
    ObjectionView,
};
use super::workflow::{self, Ctx, NewApplication};
use crate::audit::AuditCtx;
use crate::auth::{policy, Caller};
use crate::db::write_tx;
use crate::domain::{self, Agency, ApplicationKind, ApplicationState, ReviewDecision};
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::{created_versioned, if_match, ok_versioned, parse_param, Json};
use crate::pagination::PageRequest;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "kind": "green_food", "enterprise_id": "01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e5f", "product_id": "01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e60",
    "details": {"certificate_number": "LB-18-26010112345A", "certification_body_id": "01936f4e-0000-7000-8000-000000000001",
        "issued_on": "2026-01-10", "expires_on": "2029-01-09", "scope": "枸杞原浆 500 吨/年"},
    "documents": [{"name": "证书扫描件.pdf", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "size_bytes": 482113}]
}))]
pub struct CreateApplicationRequest {
    /// See `GET /api/v1/application-kinds`.
    #[schema(value_type = ApplicationKind)]
    pub kind: String,
    pub enterprise_id: String,
    pub product_id: Option<String>,
    /// `gi_product` only.
    pub geographical_indication_id: Option<String>,
    /// Per kind. Certifications: `certificate_number`, `certification_body_id`, `issued_on`,
    /// `expires_on`, `scope`. Designations: optional `summary`.
    #[schema(value_type = Object)]
    #[serde(default)]
    pub details: Value,
    #[serde(default)]
    pub documents: Vec<DocumentRef>,
    /// A renewal: the id of the record (of this kind, product and enterprise) it renews, filed
    /// within the kind's `renewal_window_days` before that record ends. Its approval registers
    /// a successor record linked both ways (`renews` / `renewed_by`).
    pub renews: Option<String>,
}

/// Draft an application
#[utoipa::path(
    post, path = "/api/v1/applications", tag = "applications",
    request_body = CreateApplicationRequest,
    responses(
        (status = 201, description = "A draft owned by the enterprise", body = ApplicationView, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only enterprise users apply", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not the caller's enterprise", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid per the kind's rules (halal on non-food, GI origin outside the protected area, validity …)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/applications")]
pub async fn create_application(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateApplicationRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let b = body.0;
    let kind = ApplicationKind::parse(&b.kind).map_err(|_| {
        ApiError::field("kind", "unknown_kind", "see GET /api/v1/application-kinds")
    })?;
    let audit = AuditCtx::of(&caller);
    let row = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let ctx = Ctx {
                    actor: Some(&actor),
                    audit: &audit,
                    notice_days_override: None,
                };
                let new = NewApplication {
                    kind,
                    enterprise_id: b.enterprise_id,
                    product_id: b.product_id,
                    geographical_indication_id: b.geographical_indication_id,
                    details: b.details,
                    documents: b.documents,
                    renews: b.renews,
                };
                workflow::create(conn, &ctx, new)
            })
        })
        .await?;
    Ok(created_versioned(
        &view(&row, true),
        row.version,
        format!("/api/v1/applications/{}", row.id),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListApplicationsQuery {
    #[param(value_type = Option<ApplicationKind>)]
    pub kind: Option<String>,
    #[param(value_type = Option<ApplicationState>)]
    pub state: Option<String>,
    pub enterprise_id: Option<String>,
    /// The deciding agency.
    #[param(value_type = Option<Agency>)]
    pub agency: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List applications
#[utoipa::path(
    get, path = "/api/v1/applications", tag = "applications",
    params(ListApplicationsQuery),
    responses(
        (status = 200, description = "Regulators see all; enterprise users their own (and, like the public, those in public notice)", body = ApplicationPage),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/applications")]
pub async fn list_applications(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListApplicationsQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    let filter = AppFilter {
        kind: parse_param::<ApplicationKind>(&mut errors, "kind", q.kind.as_deref()),
        state: parse_param::<ApplicationState>(&mut errors, "state", q.state.as_deref()),
        enterprise_id: q.enterprise_id.clone(),
        agency: parse_param::<Agency>(&mut errors, "agency", q.agency.as_deref()),
    };
    errors.finish()?;
    let actor = caller.actor.clone();
    let vis = policy::visibility(actor.as_ref());
    let p = page.clone();
    let rows = state
        .db(move |conn| Ok(repo::list(conn, &vis, &filter, &p)?))
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| &r.id);
    let items = rows
        .iter()
        .map(|r| view(r, private(actor.as_ref(), r)))
        .collect();
    Ok(HttpResponse::Ok().json(ApplicationPage { items, next_cursor }))
}

/// Get an application with its history
#[utoipa::path(
    get, path = "/api/v1/applications/{id}", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "With its history and objections", body = ApplicationDetail, headers(("ETag" = String))),
        (status = 404, description = "Unknown, or another enterprise's", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/applications/{id}")]
pub async fn get_application(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let actor = caller.actor.clone();
    let d = state
        .db(move |conn| {
            let row = load_visible(conn, actor.as_ref(), &id)?;
            detail(conn, actor.as_ref(), &row)
        })
        .await?;
    let v = d.application.version;
    Ok(ok_versioned(&d, v))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AmendApplicationRequest {
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
    pub documents: Option<Vec<DocumentRef>>,
    pub product_id: Option<String>,
}

/// Amend a draft or answer a change request
#[utoipa::path(
    patch, path = "/api/v1/applications/{id}", tag = "applications",
    params(("id" = String, Path, description = "Application id"), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body = AmendApplicationRequest,
    responses(
        (status = 200, description = "Amended (drafts and applications sent back for changes)", body = ApplicationView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/applications/{id}")]
pub async fn amend_application(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<AmendApplicationRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let expected = if_match(&req)?;
    let b = body.0;
    let audit = AuditCtx::of(&caller);
    let id = id.into_inner();
    let row = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let ctx = Ctx {
                    actor: Some(&actor),
                    audit: &audit,
                    notice_days_override: None,
                };
                workflow::amend(
                    conn,
                    &ctx,
                    &id,
                    expected,
                    b.details,
                    b.documents,
                    b.product_id,
                )
            })
        })
        .await?;
    Ok(ok_versioned(&view(&row, true), row.version))
}

async fn run_step(
    state: web::Data<AppState>,
    caller: Caller,
    id: String,
    step: Step,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let audit = AuditCtx::of(&caller);
    let notice = state.settings.public_notice_days;
    let d = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let ctx = Ctx {
                    actor: Some(&actor),
                    audit: &audit,
                    notice_days_override: notice,
                };
                let row = workflow::step(conn, &ctx, &id, step, reason.as_deref())?;
                detail(conn, Some(&actor), &row)
            })
        })
        .await?;
    let v = d.application.version;
    Ok(ok_versioned(&d, v))
}

macro_rules! step_endpoint {
    ($fn:ident, $doc_path:literal, $route:literal, $step:expr, $summary:literal, $desc:literal, $who:literal) => {
        #[doc = $summary]
        #[utoipa::path(
            post, path = $doc_path, tag = "applications",
            params(("id" = String, Path, description = "Application id")),
            responses(
                (status = 200, description = $desc, body = ApplicationDetail, headers(("ETag" = String))),
                (status = 401, body = Problem, content_type = "application/problem+json"),
                (status = 403, description = $who, body = Problem, content_type = "application/problem+json"),
                (status = 404, body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Not allowed from the current state (`current_state`), or lost a race", body = Problem, content_type = "application/problem+json"),
                (status = 422, body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        #[post($route)]
        pub async fn $fn(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
            run_step(state, caller, id.into_inner(), $step, None).await
        }
    };
}

step_endpoint!(
    submit_application,
    "/api/v1/applications/{id}/submit",
    "/applications/{id}/submit",
    Step::Submit,
    "Submit an application",
    "Submitted (the enterprise must be active)",
    "Not the applicant"
);
step_endpoint!(
    withdraw_application,
    "/api/v1/applications/{id}/withdraw",
    "/applications/{id}/withdraw",
    Step::Withdraw,
    "Withdraw an application",
    "Withdrawn (before a decision)",
    "Not the applicant"
);
step_endpoint!(
    start_review,
    "/api/v1/applications/{id}/start-review",
    "/applications/{id}/start-review",
    Step::StartReview,
    "Start reviewing a submitted application",
    "Under review, assigned to the caller",
    "Not a regulator of the deciding agency"
);
step_endpoint!(grant_application, "/api/v1/applications/{id}/grant", "/applications/{id}/grant", Step::Grant,
    "Grant a designation after its public notice",
    "Granted: the designation exists, with its number (after the public notice, with no open or upheld objection)", "Not a regulator of the deciding agency");

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"decision": "request_changes", "reason": "the certificate scan is illegible"}))]
pub struct DecideRequest {
    pub decision: ReviewDecision,
    /// Required to reject or request changes.
    pub reason: Option<String>,
}

/// Decide an application under review
#[utoipa::path(
    post, path = "/api/v1/applications/{id}/decide", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    request_body = DecideRequest,
    responses(
        (status = 200, description = "Decided. Approving a certification registers the certificate; approving a designation opens its public notice.", body = ApplicationDetail, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a regulator of the deciding agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not under review (`current_state`), lost a race, or the enterprise is no longer active", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/decide")]
pub async fn decide_application(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<DecideRequest>,
) -> ApiResult<HttpResponse> {
    let step = match body.0.decision {
        ReviewDecision::Approve => Step::Approve,
        ReviewDecision::Reject => Step::Reject,
        ReviewDecision::RequestChanges => Step::RequestChanges,
    };
    let mut errors = Errors::new();
    let reason = domain::opt_text(&mut errors, "reason", body.0.reason.as_deref(), 2000);
    errors.finish()?;
    run_step(state, caller, id.into_inner(), step, reason.flatten()).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "王某", "contact": "0977-0000000", "text": "该企业产地不在保护范围内"}))]
pub struct ObjectionRequest {
    pub name: String,
    /// Phone or e-mail; shown only to the deciding agency, like the name.
    pub contact: String,
    pub text: String,
}

/// Object to a designation during its public notice
#[utoipa::path(
    post, path = "/api/v1/applications/{id}/objections", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    request_body = ObjectionRequest,
    responses(
        (status = 201, description = "Recorded; a regulator will uphold or dismiss it", body = ObjectionView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No public notice is running", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Past REGISTRY_FILING_RATE_PER_MIN for this address; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security((), ("bearer" = []))
)]
#[post("/applications/{id}/objections")]
pub async fn file_objection(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ObjectionRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let mut errors = Errors::new();
    let name = domain::text(&mut errors, "name", &b.name, 100);
    // A way to reach the objector: a phone number or an e-mail address.
    let contact = if b.contact.contains('@') {
        domain::email(&mut errors, "contact", &b.contact)
    } else {
        domain::phone(&mut errors, "contact", &b.contact)
    };
    let text = domain::text(&mut errors, "text", &b.text, 5000);
    errors.finish()?;
    let (Some(name), Some(contact), Some(text)) = (name, contact, text) else {
        return Err(ApiError::Internal("validated".into()));
    };
    let audit = AuditCtx::of(&caller);
    let id = id.into_inner();
    let row = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                objections::object(conn, &audit, &id, name, contact, text)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(ObjectionView {
        id: row.id,
        name: None,
        contact: None,
        text: row.text,
        status: row.status,
        resolution_reason: None,
        created_at: crate::clock::to_utc(row.created_at),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"upheld": false, "reason": "the origin was verified on site"}))]
pub struct ResolveObjectionRequest {
    /// `true` upholds it (the application is rejected); `false` dismisses it.
    pub upheld: bool,
    pub reason: String,
}

/// Resolve an objection
#[utoipa::path(
    post, path = "/api/v1/applications/{id}/objections/{objection_id}/resolve", tag = "applications",
    params(("id" = String, Path, description = "Application id"), ("objection_id" = String, Path, description = "Objection id")),
    request_body = ResolveObjectionRequest,
    responses(
        (status = 200, body = ApplicationDetail),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a regulator of the deciding agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already resolved", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/objections/{objection_id}/resolve")]
pub async fn resolve_objection(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: Json<ResolveObjectionRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let b = body.0;
    let reason = domain::required_reason(&b.reason, 2000)?;
    let audit = AuditCtx::of(&caller);
    let (id, oid) = path.into_inner();
    let d = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let ctx = Ctx {
                    actor: Some(&actor),
                    audit: &audit,
                    notice_days_override: None,
                };
                let row = objections::resolve(conn, &ctx, &id, &oid, b.upheld, &reason)?;
                detail(conn, Some(&actor), &row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(d))
}
