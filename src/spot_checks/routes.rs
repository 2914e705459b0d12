//! `/api/v1/spot-checks`: campaigns, their draw, results and publication;
//! `/api/v1/inspector-conflicts`: an inspector's declared conflicts.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::repo::{self, Scope};
use super::{CampaignView, NewCampaign, NewResult};
use crate::audit::AuditCtx;
use crate::auth::Caller;
use crate::db::write_tx;
use crate::domain::{self, Agency, CheckResult, TargetType};
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::{created_versioned, ok_versioned, parse_param, Json};
use crate::pagination::PageRequest;
use crate::state::AppState;

crate::page_type!(CampaignPage, CampaignView);
crate::page_type!(CandidatePage, String);

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "2026 年枸杞制品质量双随机抽查", "legal_basis": "《市场监督管理行政执法双随机抽查工作细则》",
    "target_type": "product", "scope": {"sector": "food", "region_code": "632800", "holds_kind": "green_food"},
    "sample_size": 20, "inspector_pool": ["01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e70", "01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e71"]
}))]
pub struct CreateCampaignRequest {
    pub title: String,
    pub legal_basis: String,
    /// `enterprise` or `product`.
    #[schema(value_type = TargetType)]
    pub target_type: String,
    #[serde(default)]
    pub scope: Scope,
    /// 1-1000.
    pub sample_size: i32,
    /// User ids of regulators of your agency (at least two).
    pub inspector_pool: Vec<String>,
}

const NOT_A_REGULATOR: &str = "Not a regulator of the campaign's agency";

/// Create a spot-check campaign (regulators, for their agency)
#[utoipa::path(
    post, path = "/api/v1/spot-checks", tag = "spot checks",
    description = "The service draws a 32-byte secret seed and publishes only `seed_commitment` = sha256(seed) in hex; the draw reveals it.",
    request_body = CreateCampaignRequest,
    responses(
        (status = 201, body = CampaignView, headers(("ETag" = String), ("Location" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a regulator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field invalid; an inspector not an active regulator of your agency (`not_an_inspector`); fewer than two (`too_small`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/spot-checks")]
pub async fn create_campaign(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateCampaignRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let b = body.0;
    let mut errors = Errors::new();
    let title = domain::text(&mut errors, "title", &b.title, 200);
    let legal_basis = domain::text(&mut errors, "legal_basis", &b.legal_basis, 500);
    let target_type = errors.take("target_type", TargetType::parse(&b.target_type));
    if !(1..=1000).contains(&b.sample_size) {
        errors.push("sample_size", "out_of_range", "from 1 to 1000");
    }
    if let Some(r) = &b.scope.region_code {
        domain::region_code_shape(&mut errors, "scope.region_code", r);
    }
    errors.finish()?;
    let (Some(title), Some(legal_basis), Some(target_type)) = (title, legal_basis, target_type)
    else {
        return Err(ApiError::Internal("validated campaign missing".into()));
    };
    let new = NewCampaign {
        title,
        legal_basis,
        target_type,
        scope: b.scope,
        sample_size: b.sample_size,
        inspector_pool: b.inspector_pool,
    };
    let ctx = AuditCtx::of(&caller);
    let view = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let row = super::create(conn, &actor, &ctx, new)?;
                super::view(conn, Some(&actor), &row)
            })
        })
        .await?;
    Ok(created_versioned(
        &view,
        view.version,
        format!("/api/v1/spot-checks/{}", view.id),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCampaignsQuery {
    /// Only this agency's campaigns.
    #[param(value_type = Option<Agency>)]
    pub agency: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List spot-check campaigns (public)
#[utoipa::path(
    get, path = "/api/v1/spot-checks", tag = "spot checks",
    params(ListCampaignsQuery),
    responses((status = 200, body = CampaignPage), (status = 422, body = Problem, content_type = "application/problem+json")),
    security((), ("bearer" = []))
)]
#[get("/spot-checks")]
pub async fn list_campaigns(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListCampaignsQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    let agency = parse_param::<Agency>(&mut errors, "agency", q.agency.as_deref());
    errors.finish()?;
    let actor = caller.actor.clone();
    let p = page.clone();
    let (items, next_cursor) = state
        .db(move |conn| {
            let rows = repo::list(conn, agency, &p)?;
            let (rows, next) = p.finish(rows, |r| &r.id);
            let views = rows
                .iter()
                .map(|r| super::view(conn, actor.as_ref(), r))
                .collect::<ApiResult<Vec<_>>>()?;
            Ok((views, next))
        })
        .await?;
    Ok(HttpResponse::Ok().json(CampaignPage { items, next_cursor }))
}

/// A campaign: scope, commitment, and after the draw the seed, targets and inspectors; results
/// once it is closed (public)
#[utoipa::path(
    get, path = "/api/v1/spot-checks/{id}", tag = "spot checks",
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, body = CampaignView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/spot-checks/{id}")]
pub async fn get_campaign(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let actor = caller.actor.clone();
    let view = state
        .db(move |conn| {
            let row = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            super::view(conn, actor.as_ref(), &row)
        })
        .await?;
    Ok(ok_versioned(&view, view.version))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidatesQuery {
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The candidates frozen by the draw, in id order (public)
#[utoipa::path(
    get, path = "/api/v1/spot-checks/{id}/candidates", tag = "spot checks",
    params(("id" = String, Path, description = "Campaign id"), CandidatesQuery),
    responses(
        (status = 200, body = CandidatePage),
        (status = 404, description = "Unknown campaign", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not drawn yet", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/spot-checks/{id}/candidates")]
pub async fn list_candidates(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<CandidatesQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    errors.finish()?;
    let id = id.into_inner();
    let p = page.clone();
    let rows = state
        .db(move |conn| {
            let c = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            if c.state == crate::domain::SpotCheckState::Open {
                return Err(ApiError::InvalidState {
                    resource: "spot_check",
                    state: c.state.to_string(),
                });
            }
            Ok(repo::candidates_of(conn, &id, &p)?)
        })
        .await?;
    let (items, next_cursor) = page.finish(rows, |r| r);
    Ok(HttpResponse::Ok().json(CandidatePage { items, next_cursor }))
}

/// Draw: freeze the candidates, reveal the seed, pick targets and inspectors
#[utoipa::path(
    post, path = "/api/v1/spot-checks/{id}/draw", tag = "spot checks",
    description = "Each candidate's score is sha256(seed || candidate_id) in hex; the `sample_size` smallest are drawn. Each target's inspectors: the pool ordered by sha256(seed || target_id || \":\" || inspector_id), skipping anyone who declared a conflict with the enterprise or reviewed one of its applications in the last 12 months (recorded in `recusals`), until two are found.",
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, body = CampaignView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = NOT_A_REGULATOR, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Drawn already (`current_state`), or too few inspectors left after recusals (`not_enough_inspectors`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/spot-checks/{id}/draw")]
pub async fn draw_campaign(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let ctx = AuditCtx::of(&caller);
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let row = super::run_draw(conn, &actor, &ctx, &id)?;
                super::view(conn, Some(&actor), &row)
            })
        })
        .await?;
    Ok(ok_versioned(&view, view.version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"result": "failed", "findings": "枸杞多糖含量低于标签标示值", "checked_on": "2026-11-28"}))]
pub struct RecordResultRequest {
    /// `passed`, `failed` or `not_found`.
    #[schema(value_type = CheckResult)]
    pub result: String,
    /// Required when failed.
    pub findings: Option<String>,
    /// YYYY-MM-DD.
    pub checked_on: String,
}

/// Record a target's result (one of its drawn inspectors)
#[utoipa::path(
    post, path = "/api/v1/spot-checks/{id}/targets/{target_id}/result", tag = "spot checks",
    params(("id" = String, Path, description = "Campaign id"), ("target_id" = String, Path, description = "The drawn enterprise or product")),
    request_body = RecordResultRequest,
    responses(
        (status = 200, body = CampaignView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not one of this target's drawn inspectors", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown campaign or target", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Recorded already (`result_recorded`), or the campaign is not drawn", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field invalid; a failure without findings", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/spot-checks/{id}/targets/{target_id}/result")]
pub async fn record_result(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: Json<RecordResultRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let b = body.0;
    let mut errors = Errors::new();
    let result = errors.take("result", CheckResult::parse(&b.result));
    let findings = domain::opt_text(&mut errors, "findings", b.findings.as_deref(), 2000).flatten();
    let checked_on = crate::http::parse_date(&mut errors, "checked_on", Some(&b.checked_on));
    errors.finish()?;
    let (Some(result), Some(checked_on)) = (result, checked_on) else {
        return Err(ApiError::Internal("validated result missing".into()));
    };
    let ctx = AuditCtx::of(&caller);
    let (id, target) = path.into_inner();
    let view = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let row = super::record_result(
                    conn,
                    &actor,
                    &ctx,
                    &id,
                    &target,
                    NewResult {
                        result,
                        findings,
                        checked_on,
                    },
                )?;
                super::view(conn, Some(&actor), &row)
            })
        })
        .await?;
    Ok(ok_versioned(&view, view.version))
}

/// Close a campaign and publish its results (every target needs its result)
#[utoipa::path(
    post, path = "/api/v1/spot-checks/{id}/close", tag = "spot checks",
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, body = CampaignView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = NOT_A_REGULATOR, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not drawn (`current_state`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A target has no result yet (`results_missing`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/spot-checks/{id}/close")]
pub async fn close_campaign(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let ctx = AuditCtx::of(&caller);
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let row = super::close(conn, &actor, &ctx, &id)?;
                super::view(conn, Some(&actor), &row)
            })
        })
        .await?;
    Ok(ok_versioned(&view, view.version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"enterprise_id": "01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e5f", "reason": "配偶在该企业任职"}))]
pub struct DeclareConflictRequest {
    pub enterprise_id: String,
    pub reason: String,
}

/// Declare a conflict of interest with an enterprise (the signed-in regulator)
#[utoipa::path(
    post, path = "/api/v1/inspector-conflicts", tag = "spot checks",
    description = "The declaring regulator is never drawn to inspect that enterprise; a draw records the recusal.",
    request_body = DeclareConflictRequest,
    responses(
        (status = 204, description = "Declared"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a regulator", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/inspector-conflicts")]
pub async fn declare_conflict(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<DeclareConflictRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let b = body.0;
    let reason = domain::required_reason(&b.reason, 500)?;
    let ctx = AuditCtx::of(&caller);
    state
        .db(move |conn| {
            write_tx(conn, |conn| {
                super::declare_conflict(conn, &actor, &ctx, &b.enterprise_id, &reason)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
