use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::repo::{self, CertDetail, CertFilter, CertView, CertificationBody};
use crate::auth::{check, Action, Caller, Target};
use crate::db::write_tx;
use crate::domain;
use crate::enterprises::routes::visibility;
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::{ok_versioned, Json};
use crate::pagination::PageRequest;
use crate::records::{self, ActionRequest, RecordAction, StatusChange};
use crate::state::AppState;

crate::page_type!(CertPage, CertView);
crate::page_type!(CertificationBodyPage, CertificationBody);

pub const RECORD_STATUSES: &[&str] = &["valid", "suspended", "revoked", "expired"];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCertsQuery {
    /// `green_food`, `organic`, `halal`.
    pub kind: Option<String>,
    /// `valid`, `suspended`, `revoked` or `expired`.
    pub status: Option<String>,
    pub enterprise_id: Option<String>,
    pub product_id: Option<String>,
    /// Origin of the product (a prefecture matches its counties).
    pub region_code: Option<String>,
    /// Only certificates whose validity covers this date (YYYY-MM-DD) and that are not revoked.
    pub valid_on: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub fn parse_date(errors: &mut Errors, field: &str, v: Option<&str>) -> Option<NaiveDate> {
    let v = v?.trim();
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(field, "invalid_date", "a date as YYYY-MM-DD");
            None
        }
    }
}

pub fn parse_status(errors: &mut Errors, v: Option<&str>, allowed: &[&str]) -> Option<String> {
    let v = v?.trim();
    if allowed.contains(&v) {
        Some(v.to_owned())
    } else {
        errors.push(
            "status",
            "invalid_value",
            format!("must be one of: {}", allowed.join(", ")),
        );
        None
    }
}

#[utoipa::path(
    get, path = "/api/v1/certifications", tag = "certifications",
    params(ListCertsQuery),
    responses((status = 200, body = CertPage), (status = 422, body = Problem, content_type = "application/problem+json")),
    security((), ("bearer" = []))
)]
#[get("/certifications")]
pub async fn list_certifications(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListCertsQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    let filter = CertFilter {
        kind: q.kind.clone(),
        status: parse_status(&mut errors, q.status.as_deref(), RECORD_STATUSES),
        enterprise_id: q.enterprise_id.clone(),
        product_id: q.product_id.clone(),
        region_code: q
            .region_code
            .as_deref()
            .and_then(|r| domain::region_code_shape(&mut errors, "region_code", r)),
        valid_on: parse_date(&mut errors, "valid_on", q.valid_on.as_deref()),
    };
    errors.finish()?;
    let vis = visibility(caller.actor.as_ref());
    let p = page.clone();
    let (items, next_cursor) = state
        .db(move |conn| {
            let rows = repo::list(conn, &vis, &filter, &p)?;
            let (rows, next) = p.finish(rows, |r| &r.id);
            Ok((repo::views(conn, &rows)?, next))
        })
        .await?;
    Ok(HttpResponse::Ok().json(CertPage { items, next_cursor }))
}

#[utoipa::path(
    get, path = "/api/v1/certifications/{id}", tag = "certifications",
    params(("id" = String, Path, description = "Certification id")),
    responses(
        (status = 200, description = "The certificate and every status it has had", body = CertDetail, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/certifications/{id}")]
pub async fn get_certification(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let actor = caller.actor.clone();
    let detail = state
        .db(move |conn| {
            let row = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            let ent_status = crate::products::repo::enterprise_status(conn, &row.enterprise_id)?;
            check(
                actor.as_ref(),
                Action::Read,
                Target {
                    enterprise_id: Some(&row.enterprise_id),
                    published: ent_status.as_deref() == Some("active"),
                    agency: None,
                },
            )?;
            let history = records::history(conn, "certification", &row.id)?
                .iter()
                .map(StatusChange::from)
                .collect();
            Ok(CertDetail {
                certification: repo::views(conn, &[row])?.remove(0),
                history,
            })
        })
        .await?;
    let v = detail.certification.version;
    Ok(ok_versioned(&detail, v))
}

async fn act(
    state: web::Data<AppState>,
    caller: Caller,
    id: String,
    action: RecordAction,
    body: ActionRequest,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let mut errors = Errors::new();
    let reason = domain::text(&mut errors, "reason", &body.reason, 1000);
    errors.finish()?;
    let reason = reason.unwrap_or_default();
    let ctx = caller.audit();
    let detail = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let row = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                records::apply_action(
                    conn,
                    &actor,
                    &ctx,
                    records::ActionTarget {
                        record_type: "certification",
                        live: "valid",
                        id: &row.id,
                        kind: &row.kind,
                        enterprise_id: &row.enterprise_id,
                        status: &row.status,
                        valid_until: Some(row.expires_on),
                    },
                    action,
                    &reason,
                    |conn, next| repo::set_status_guarded(conn, &row.id, row.version, next),
                )?;
                let row = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                let history = records::history(conn, "certification", &row.id)?
                    .iter()
                    .map(StatusChange::from)
                    .collect();
                Ok(CertDetail {
                    certification: repo::views(conn, &[row])?.remove(0),
                    history,
                })
            })
        })
        .await?;
    let v = detail.certification.version;
    Ok(ok_versioned(&detail, v))
}

macro_rules! cert_action {
    ($fn:ident, $doc_path:literal, $route:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post, path = $doc_path, tag = "certifications",
            params(("id" = String, Path, description = "Certification id")),
            request_body = ActionRequest,
            responses(
                (status = 200, body = CertDetail, headers(("ETag" = String))),
                (status = 401, body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not a regulator of the agency responsible for this kind", body = Problem, content_type = "application/problem+json"),
                (status = 404, body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Not allowed from the current status (`current_state`)", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "`reason` missing", body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        #[post($route)]
        pub async fn $fn(state: web::Data<AppState>, caller: Caller, id: web::Path<String>, body: Json<ActionRequest>) -> ApiResult<HttpResponse> {
            act(state, caller, id.into_inner(), $action, body.0).await
        }
    };
}

cert_action!(
    suspend_certification,
    "/api/v1/certifications/{id}/suspend",
    "/certifications/{id}/suspend",
    RecordAction::Suspend,
    "Suspends a valid certificate."
);
cert_action!(
    reinstate_certification,
    "/api/v1/certifications/{id}/reinstate",
    "/certifications/{id}/reinstate",
    RecordAction::Reinstate,
    "Reinstates a suspended certificate."
);
cert_action!(
    revoke_certification,
    "/api/v1/certifications/{id}/revoke",
    "/certifications/{id}/revoke",
    RecordAction::Revoke,
    "Revokes a certificate for good."
);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListBodiesQuery {
    /// Only bodies issuing this kind.
    pub kind: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/certification-bodies", tag = "certifications",
    params(ListBodiesQuery),
    responses((status = 200, body = CertificationBodyPage), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[get("/certification-bodies")]
pub async fn list_bodies(
    state: web::Data<AppState>,
    q: web::Query<ListBodiesQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    errors.finish()?;
    let (p, kind) = (page.clone(), q.kind.clone());
    let rows = state
        .db(move |conn| Ok(repo::list_bodies(conn, kind.as_deref(), &p)?))
        .await?;
    let (items, next_cursor) = page.finish(rows, |r| &r.id);
    Ok(HttpResponse::Ok().json(CertificationBodyPage { items, next_cursor }))
}
