use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::identity::{self, Identity, IdentityChangeView};
use super::repo::{self, EnterpriseFilter};
use super::service::{self, EnterpriseInput, EnterpriseView, NewEnterprise};
use crate::audit::{self, AuditCtx, Change};
use crate::auth::{authorize, check, policy, Action, Actor, Caller, Target};
use crate::db::write_tx;
use crate::domain::{self, EnterpriseStatus, Role, Scale, Sector};
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::{check_if_match, created_versioned, if_match, ok_versioned, parse_param, Json};
use crate::pagination::PageRequest;
use crate::state::AppState;

crate::page_type!(EnterprisePage, EnterpriseView);

fn can_read_private(actor: Option<&Actor>, row: &repo::EnterpriseRow) -> bool {
    let target = Target::owned_by(&row.id, Some(row.status));
    policy::allows(actor, Action::ReadPrivate, target)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListEnterprisesQuery {
    /// GB/T 2260 code; a prefecture matches its counties too.
    pub region_code: Option<String>,
    /// `food`, `biomedicine`, `light_textile` or `ethnic_specialty`.
    pub sector: Option<String>,
    /// `pending`, `active`, `suspended`, `deregistered`, `rejected`, `expired` (the public sees active ones only).
    pub status: Option<String>,
    /// Text in the name.
    pub q: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListEnterprisesQuery {
    /// The filter and page asked for, each bad value named in `errors` (shared with the export).
    pub fn parse(&self, errors: &mut Errors) -> (EnterpriseFilter, PageRequest) {
        let page = PageRequest::parse(errors, self.limit.as_deref(), self.cursor.as_deref());
        let filter = EnterpriseFilter {
            region_code: self
                .region_code
                .as_deref()
                .and_then(|r| domain::region_code_shape(errors, "region_code", r)),
            sector: parse_param::<Sector>(errors, "sector", self.sector.as_deref()),
            status: parse_param::<EnterpriseStatus>(errors, "status", self.status.as_deref()),
            q: self.q.clone().filter(|s| !s.trim().is_empty()),
        };
        (filter, page)
    }
}

/// List enterprises
#[utoipa::path(
    get, path = "/api/v1/enterprises", tag = "enterprises",
    params(ListEnterprisesQuery),
    responses(
        (status = 200, body = EnterprisePage),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/enterprises")]
pub async fn list_enterprises(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListEnterprisesQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let (filter, page) = q.parse(&mut errors);
    errors.finish()?;
    let vis = policy::visibility(caller.actor.as_ref());
    let actor = caller.actor.clone();
    let p = page.clone();
    let (items, next_cursor) = state
        .db(move |conn| {
            let rows = repo::list(conn, &vis, &filter, &p)?;
            let (rows, next) = p.finish(rows, |r| &r.id);
            Ok((
                service::views(conn, &rows, |r| can_read_private(actor.as_ref(), r))?,
                next,
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(EnterprisePage { items, next_cursor }))
}

/// Get an enterprise
#[utoipa::path(
    get, path = "/api/v1/enterprises/{id}", tag = "enterprises",
    params(("id" = String, Path, description = "Enterprise id")),
    responses(
        (status = 200, body = EnterpriseView, headers(("ETag" = String))),
        (status = 404, description = "Unknown, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/enterprises/{id}")]
pub async fn get_enterprise(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let actor = caller.actor.clone();
    let view = state
        .db(move |conn| {
            let row = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            check(
                actor.as_ref(),
                Action::Read,
                Target::owned_by(&row.id, Some(row.status)),
            )?;
            let private = can_read_private(actor.as_ref(), &row);
            Ok(service::views(conn, &[row], |_| private)?.remove(0))
        })
        .await?;
    Ok(ok_versioned(&view, view.version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "enterprise": {"uscc": "91350211M0000XUF46", "name": "示例老字号有限公司", "legal_representative": "李示例",
        "region_code": "630100", "address": "西宁市示例街 2 号", "sectors": ["ethnic_specialty"], "scale": "micro",
        "contact_phone": "0971-0000000", "contact_email": "old@example.com"},
    "uscc_override_reason": "Code issued in 2016 by the Xiamen bureau; fails its own check character (verified against the business licence)"
}))]
pub struct RegisterByRegulatorRequest {
    pub enterprise: EnterpriseInput,
    /// Accepts a USCC that fails its check character (codes actually issued that way); audited.
    pub uscc_override_reason: Option<String>,
}

/// Register an enterprise directly (market regulation)
#[utoipa::path(
    post, path = "/api/v1/enterprises", tag = "enterprises",
    request_body = RegisterByRegulatorRequest,
    responses(
        (status = 201, description = "Registered and active", body = EnterpriseView, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a market-regulation regulator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "USCC already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/enterprises")]
pub async fn register_by_regulator(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<RegisterByRegulatorRequest>,
) -> ApiResult<HttpResponse> {
    check(
        caller.actor.as_ref(),
        Action::RegisterEnterprise,
        Target::default(),
    )?;
    let b = body.0;
    let mut errors = Errors::new();
    let new = NewEnterprise::parse(
        &mut errors,
        "enterprise.",
        &b.enterprise,
        b.uscc_override_reason.as_deref(),
    );
    errors.finish()?;
    let new = new.ok_or_else(|| ApiError::Internal("validated enterprise missing".into()))?;
    let ctx = AuditCtx::of(&caller);
    let view = state
        .db(move |conn| {
            let row = write_tx(conn, |conn| {
                service::create(
                    conn,
                    &ctx,
                    new,
                    EnterpriseStatus::Active,
                    "enterprise.",
                    service::Claim::Direct,
                )
            })?;
            Ok(service::views(conn, &[row], |_| true)?.remove(0))
        })
        .await?;
    let location = format!("/api/v1/enterprises/{}", view.id);
    Ok(created_versioned(&view, view.version, location))
}

/// Verify a pending enterprise (market regulation)
#[utoipa::path(
    post, path = "/api/v1/enterprises/{id}/verify", tag = "enterprises",
    params(("id" = String, Path, description = "Enterprise id")),
    responses(
        (status = 200, description = "Now active", body = EnterpriseView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a market-regulation regulator", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not pending (`current_state` says what it is)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/enterprises/{id}/verify")]
pub async fn verify_enterprise(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let ctx = AuditCtx::of(&caller);
    let id = id.into_inner();
    let view = state
        .db(move |conn| service::verify(conn, &actor, &ctx, &id))
        .await?;
    Ok(ok_versioned(&view, view.version))
}

/// Why market regulation rejects a registration.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "the business licence names another company; the applicant could not show it acts for it"}))]
pub struct RejectRegistrationRequest {
    pub reason: String,
}

#[utoipa::path(
    post, path = "/api/v1/enterprises/{id}/reject", tag = "enterprises",
    summary = "Reject a pending registration",
    description = "Market regulation rejects a self-registration with a reason: it no longer holds its USCC (the real company can then sign up), and its accounts are disabled with their sessions ended. Audited.",
    params(("id" = String, Path, description = "Enterprise id")),
    request_body = RejectRegistrationRequest,
    responses(
        (status = 200, description = "Now rejected", body = EnterpriseView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a market-regulation regulator", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not pending (`current_state` says what it is)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason given", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/enterprises/{id}/reject")]
pub async fn reject_registration(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<RejectRegistrationRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let reason = domain::required_reason(&body.0.reason, 1000)?;
    let ctx = AuditCtx::of(&caller);
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let before = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                check(
                    Some(&actor),
                    Action::VerifyEnterprise,
                    Target::owned_by(&before.id, Some(before.status)),
                )?;
                let after = service::close_pending(
                    conn,
                    &ctx,
                    &before,
                    service::Closing::Rejected,
                    &reason,
                )?;
                Ok(service::views(conn, &[after], |_| true)?.remove(0))
            })
        })
        .await?;
    Ok(ok_versioned(&view, view.version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"address": "德令哈市示例路 9 号", "contact_phone": "0977-8200001"}))]
pub struct UpdateEnterpriseRequest {
    /// Identity: an enterprise's change of its name, USCC, legal representative or region
    /// waits for market regulation (202 with the pending change).
    pub name: Option<String>,
    pub uscc: Option<String>,
    pub legal_representative: Option<String>,
    pub region_code: Option<String>,
    pub address: Option<String>,
    pub sectors: Option<Vec<String>>,
    pub scale: Option<String>,
    pub above_designated_size: Option<bool>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
}

/// Edit an enterprise
#[utoipa::path(
    patch, path = "/api/v1/enterprises/{id}", tag = "enterprises",
    params(("id" = String, Path, description = "Enterprise id"), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body = UpdateEnterpriseRequest,
    responses(
        (status = 200, description = "Applied", body = EnterpriseView, headers(("ETag" = String))),
        (status = 202, description = "An enterprise's identity change (name, USCC, legal representative, region) waits for market regulation; the other fields are applied", body = PendingIdentityChange),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the enterprise, nor a market-regulation regulator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another enterprise's", body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/enterprises/{id}")]
pub async fn update_enterprise(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UpdateEnterpriseRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let expected = if_match(&req)?;
    let b = body.0;
    let mut errors = Errors::new();
    let name = b
        .name
        .as_deref()
        .map(|v| domain::text(&mut errors, "name", v, 200));
    let legal = b
        .legal_representative
        .as_deref()
        .map(|v| domain::text(&mut errors, "legal_representative", v, 100));
    let region = b
        .region_code
        .as_deref()
        .map(|v| domain::region_code_shape(&mut errors, "region_code", v));
    let address = b
        .address
        .as_deref()
        .map(|v| domain::text(&mut errors, "address", v, 300));
    let sectors = b
        .sectors
        .as_deref()
        .map(|v| service::parse_sectors(&mut errors, "sectors", v));
    let scale = b
        .scale
        .as_deref()
        .map(|v| errors.take("scale", Scale::parse(v)));
    let phone = b
        .contact_phone
        .as_deref()
        .map(|v| domain::phone(&mut errors, "contact_phone", v));
    let email = b
        .contact_email
        .as_deref()
        .map(|v| domain::email(&mut errors, "contact_email", v));
    let uscc = b.uscc.as_deref().map(|v| {
        errors
            .take("uscc", domain::Uscc::parse(v))
            .map(|u| u.to_string())
    });
    errors.finish()?;
    let identity = Identity {
        name: name.flatten(),
        uscc: uscc.flatten(),
        legal_representative: legal.flatten(),
        region_code: region.flatten(),
    };
    let ctx = AuditCtx::of(&caller);
    let id = id.into_inner();
    let (view, pending) = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let before = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                authorize(
                    Some(&actor),
                    Action::UpdateEnterprise,
                    Target::owned_by(&before.id, Some(before.status)),
                )?;
                check_if_match(expected, before.version)?;
                let mut after = before.clone();
                // The enterprise asks; market regulation (the only regulators who edit) decides.
                let pending = if actor.role == Role::Enterprise && !identity.is_empty() {
                    Some(identity::request(conn, &ctx, &before, &identity)?)
                } else {
                    identity::apply(conn, &mut after, &identity)?;
                    None
                };
                if let Some(Some(v)) = address.clone() {
                    after.address = v;
                }
                if let Some(Some(v)) = scale {
                    after.scale = v;
                }
                if let Some(v) = b.above_designated_size {
                    after.above_designated_size = v;
                }
                if let Some(Some(v)) = phone.clone() {
                    after.contact_phone = v;
                }
                if let Some(Some(v)) = email.clone() {
                    after.contact_email = v;
                }
                after.updated_at = crate::clock::now();
                after.version += 1;
                let before_view =
                    service::views(conn, std::slice::from_ref(&before), |_| true)?.remove(0);
                service::save_guarded(conn, &after, before.version)?;
                if let Some(Some(s)) = &sectors {
                    repo::replace_sectors(conn, &id, s)?;
                }
                let after_view = service::views(conn, &[after], |_| true)?.remove(0);
                audit::record(
                    conn,
                    &ctx,
                    Change {
                        action: "enterprise.update",
                        entity_type: "enterprise",
                        entity_id: &id,
                        before: serde_json::to_value(&before_view).ok(),
                        after: serde_json::to_value(&after_view).ok(),
                        reason: None,
                    },
                )?;
                Ok((after_view, pending))
            })
        })
        .await?;
    Ok(match pending {
        Some(change) => HttpResponse::Accepted().json(PendingIdentityChange {
            enterprise: view,
            identity_change: IdentityChangeView::from(&change),
        }),
        None => ok_versioned(&view, view.version),
    })
}

/// The answer when an enterprise's identity change waits for market regulation.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingIdentityChange {
    /// The enterprise as it is now (other fields applied, identity unchanged).
    pub enterprise: EnterpriseView,
    pub identity_change: IdentityChangeView,
}
