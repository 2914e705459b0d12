use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::repo::{
    self, AppFilter, AppVisibility, ApplicationRow, DocumentRef, EventRow, ObjectionRow,
};
use super::workflow::{self, Ctx, NewApplication, Step};
use crate::auth::{policy, Action, Actor, Caller, Target};
use crate::db::{write_tx, DbConn};
use crate::domain::{self, Role};
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::{created_versioned, if_match, ok_versioned, Json};
use crate::pagination::PageRequest;
use crate::state::AppState;

pub const STATES: &[&str] = &[
    "draft",
    "submitted",
    "under_review",
    "changes_requested",
    "approved",
    "rejected",
    "withdrawn",
    "in_public_notice",
    "granted",
];

/// An application as the API shows it. `details` and `documents` are private to the applicant
/// and regulators; the public sees applications in public notice without them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: String,
    #[schema(example = "green_food")]
    pub kind: String,
    pub enterprise_id: String,
    pub product_id: Option<String>,
    pub geographical_indication_id: Option<String>,
    /// One of: draft, submitted, under_review, changes_requested, approved, rejected, withdrawn,
    /// in_public_notice, granted.
    #[schema(example = "under_review")]
    pub state: String,
    /// The agency whose regulators decide it.
    #[schema(example = "agriculture")]
    pub agency_code: String,
    pub assigned_regulator_id: Option<String>,
    pub decision_reason: Option<String>,
    /// End of the public notice (designations).
    pub notice_ends_at: Option<chrono::DateTime<chrono::Utc>>,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The certificate registered or the designation granted.
    pub record_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<DocumentRef>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor: String,
    pub reason: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: String,
    pub name: String,
    /// Private: the applicant and regulators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    pub text: String,
    /// `open`, `upheld` or `dismissed`.
    pub status: String,
    pub resolution_reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationDetail {
    #[serde(flatten)]
    pub application: ApplicationView,
    pub history: Vec<EventView>,
    pub objections: Vec<ObjectionView>,
}

crate::page_type!(ApplicationPage, ApplicationView);

fn private(actor: Option<&Actor>, row: &ApplicationRow) -> bool {
    let t = Target {
        enterprise_id: Some(&row.enterprise_id),
        published: false,
        agency: None,
    };
    policy::decide(actor, Action::ReadPrivate, t) == policy::Decision::Allow
}

fn view(row: &ApplicationRow, private: bool) -> ApplicationView {
    ApplicationView {
        id: row.id.clone(),
        kind: row.kind.clone(),
        enterprise_id: row.enterprise_id.clone(),
        product_id: row.product_id.clone(),
        geographical_indication_id: row.geographical_indication_id.clone(),
        state: row.state.clone(),
        agency_code: row.agency_code.clone(),
        assigned_regulator_id: if private {
            row.assigned_regulator_id.clone()
        } else {
            None
        },
        decision_reason: row.decision_reason.clone(),
        notice_ends_at: row.notice_ends_at.map(crate::clock::to_utc),
        submitted_at: row.submitted_at.map(crate::clock::to_utc),
        decided_at: row.decided_at.map(crate::clock::to_utc),
        record_id: row.record_id.clone(),
        details: private.then(|| serde_json::from_str(&row.details).unwrap_or(Value::Null)),
        documents: private.then(|| serde_json::from_str(&row.documents).unwrap_or_default()),
        created_at: crate::clock::to_utc(row.created_at),
        updated_at: crate::clock::to_utc(row.updated_at),
        version: row.version,
    }
}

fn detail(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    row: &ApplicationRow,
) -> ApiResult<ApplicationDetail> {
    let private = private(actor, row);
    let history = repo::events(conn, &row.id)?
        .iter()
        .map(|e: &EventRow| EventView {
            from_state: e.from_state.clone(),
            to_state: e.to_state.clone(),
            actor: e.actor_label.clone(),
            reason: e.reason.clone(),
            at: crate::clock::to_utc(e.at),
        })
        .collect();
    let objections = repo::objections_of(conn, &row.id)?
        .iter()
        .map(|o: &ObjectionRow| ObjectionView {
            id: o.id.clone(),
            name: o.name.clone(),
            contact: private.then(|| o.contact.clone()),
            text: o.text.clone(),
            status: o.status.clone(),
            resolution_reason: o.resolution_reason.clone(),
            created_at: crate::clock::to_utc(o.created_at),
        })
        .collect();
    Ok(ApplicationDetail {
        application: view(row, private),
        history,
        objections,
    })
}

fn load_visible(conn: &mut DbConn, actor: Option<&Actor>, id: &str) -> ApiResult<ApplicationRow> {
    let row = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let t = Target {
        enterprise_id: Some(&row.enterprise_id),
        published: row.state == "in_public_notice",
        agency: Some(&row.agency_code),
    };
    crate::auth::check(actor, Action::Read, t)?;
    Ok(row)
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "kind": "green_food", "enterprise_id": "01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e5f", "product_id": "01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e60",
    "details": {"certificate_number": "LB-18-26010112345A", "certification_body_id": "01936f4e-0000-7000-8000-000000000001",
        "issued_on": "2026-01-10", "expires_on": "2029-01-09", "scope": "枸杞原浆 500 吨/年"},
    "documents": [{"name": "证书扫描件.pdf", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "size_bytes": 482113}]
}))]
pub struct CreateApplicationRequest {
    /// See `GET /api/v1/application-kinds`.
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
}

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
    let audit = caller.audit();
    let row = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let ctx = Ctx {
                    actor: Some(&actor),
                    audit: &audit,
                    notice_days_override: None,
                };
                let new = NewApplication {
                    kind: b.kind,
                    enterprise_id: b.enterprise_id,
                    product_id: b.product_id,
                    geographical_indication_id: b.geographical_indication_id,
                    details: b.details,
                    documents: b.documents,
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
    pub kind: Option<String>,
    /// One of the states.
    pub state: Option<String>,
    pub enterprise_id: Option<String>,
    /// The deciding agency.
    pub agency: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

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
    let st = crate::certifications::routes::parse_status(&mut errors, q.state.as_deref(), STATES);
    errors.finish()?;
    let filter = AppFilter {
        kind: q.kind.clone(),
        state: st,
        enterprise_id: q.enterprise_id.clone(),
        agency: q.agency.clone(),
    };
    let actor = caller.actor.clone();
    let vis = match &actor {
        Some(a) if matches!(a.role, Role::Regulator | Role::Admin) => AppVisibility::All,
        Some(Actor {
            enterprise_id: Some(e),
            ..
        }) => AppVisibility::OwnOrNotice(e.clone()),
        _ => AppVisibility::Notice,
    };
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
    let audit = caller.audit();
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
    let audit = caller.audit();
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
    ($fn:ident, $doc_path:literal, $route:literal, $step:expr, $desc:literal, $who:literal) => {
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
    "Submitted (the enterprise must be active)",
    "Not the applicant"
);
step_endpoint!(
    withdraw_application,
    "/api/v1/applications/{id}/withdraw",
    "/applications/{id}/withdraw",
    Step::Withdraw,
    "Withdrawn (before a decision)",
    "Not the applicant"
);
step_endpoint!(
    start_review,
    "/api/v1/applications/{id}/start-review",
    "/applications/{id}/start-review",
    Step::StartReview,
    "Under review, assigned to the caller",
    "Not a regulator of the deciding agency"
);
step_endpoint!(grant_application, "/api/v1/applications/{id}/grant", "/applications/{id}/grant", Step::Grant,
    "Granted: the designation exists, with its number (after the public notice, with no open or upheld objection)", "Not a regulator of the deciding agency");

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"decision": "request_changes", "reason": "the certificate scan is illegible"}))]
pub struct DecideRequest {
    /// `approve`, `reject` or `request_changes`.
    pub decision: String,
    /// Required to reject or request changes.
    pub reason: Option<String>,
}

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
    let step = match body.0.decision.as_str() {
        "approve" => Step::Approve,
        "reject" => Step::Reject,
        "request_changes" => Step::RequestChanges,
        _ => {
            return Err(ApiError::field(
                "decision",
                "invalid_value",
                "must be one of: approve, reject, request_changes",
            ))
        }
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
    /// Phone or e-mail; shown only to the applicant and regulators.
    pub contact: String,
    pub text: String,
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/objections", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    request_body = ObjectionRequest,
    responses(
        (status = 201, description = "Recorded; a regulator will uphold or dismiss it", body = ObjectionView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No public notice is running", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
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
    let contact = domain::text(&mut errors, "contact", &b.contact, 200);
    let text = domain::text(&mut errors, "text", &b.text, 5000);
    errors.finish()?;
    let (Some(name), Some(contact), Some(text)) = (name, contact, text) else {
        return Err(ApiError::Internal("validated".into()));
    };
    let audit = caller.audit();
    let id = id.into_inner();
    let row = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                workflow::object(conn, &audit, &id, name, contact, text)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(ObjectionView {
        id: row.id,
        name: row.name,
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
    let mut errors = Errors::new();
    let reason = domain::text(&mut errors, "reason", &b.reason, 2000);
    errors.finish()?;
    let reason = reason.unwrap_or_default();
    let audit = caller.audit();
    let (id, oid) = path.into_inner();
    let d = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let ctx = Ctx {
                    actor: Some(&actor),
                    audit: &audit,
                    notice_days_override: None,
                };
                let row = workflow::resolve(conn, &ctx, &id, &oid, b.upheld, &reason)?;
                detail(conn, Some(&actor), &row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(d))
}
