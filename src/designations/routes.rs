use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::repo::{self, DesignationDetail, DesignationFilter, DesignationView};
use crate::auth::{check, Action, Caller, Target};
use crate::certifications::routes::{parse_date, parse_status};
use crate::db::write_tx;
use crate::domain;
use crate::enterprises::routes::visibility;
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::{ok_versioned, Json};
use crate::pagination::PageRequest;
use crate::records::{self, ActionRequest, RecordAction, StatusChange};
use crate::state::AppState;

crate::page_type!(DesignationPage, DesignationView);

pub const RECORD_STATUSES: &[&str] = &["active", "suspended", "revoked", "expired"];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListDesignationsQuery {
    /// `provincial_famous_brand`, `gi_product`, `national_famous_brand`, `provincial_famous_trademark`.
    pub kind: Option<String>,
    /// `active`, `suspended`, `revoked` or `expired`.
    pub status: Option<String>,
    pub enterprise_id: Option<String>,
    pub product_id: Option<String>,
    pub geographical_indication_id: Option<String>,
    /// Region of the holder (a prefecture matches its counties).
    pub region_code: Option<String>,
    /// Only designations whose validity covers this date (YYYY-MM-DD) and that are not revoked.
    pub valid_on: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/designations", tag = "designations",
    params(ListDesignationsQuery),
    responses((status = 200, body = DesignationPage), (status = 422, body = Problem, content_type = "application/problem+json")),
    security((), ("bearer" = []))
)]
#[get("/designations")]
pub async fn list_designations(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListDesignationsQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    let filter = DesignationFilter {
        kind: q.kind.clone(),
        status: parse_status(&mut errors, q.status.as_deref(), RECORD_STATUSES),
        enterprise_id: q.enterprise_id.clone(),
        product_id: q.product_id.clone(),
        geographical_indication_id: q.geographical_indication_id.clone(),
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
    Ok(HttpResponse::Ok().json(DesignationPage { items, next_cursor }))
}

#[utoipa::path(
    get, path = "/api/v1/designations/{id}", tag = "designations",
    params(("id" = String, Path, description = "Designation id")),
    responses(
        (status = 200, description = "The designation and every status it has had", body = DesignationDetail, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/designations/{id}")]
pub async fn get_designation(
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
            let history = records::history(conn, "designation", &row.id)?
                .iter()
                .map(StatusChange::from)
                .collect();
            Ok(DesignationDetail {
                designation: repo::views(conn, &[row])?.remove(0),
                history,
            })
        })
        .await?;
    let v = detail.designation.version;
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
                        record_type: "designation",
                        live: "active",
                        id: &row.id,
                        kind: &row.kind,
                        enterprise_id: &row.enterprise_id,
                        status: &row.status,
                        valid_until: row.valid_until,
                    },
                    action,
                    &reason,
                    |conn, next| repo::set_status_guarded(conn, &row.id, row.version, next),
                )?;
                let row = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                let history = records::history(conn, "designation", &row.id)?
                    .iter()
                    .map(StatusChange::from)
                    .collect();
                Ok(DesignationDetail {
                    designation: repo::views(conn, &[row])?.remove(0),
                    history,
                })
            })
        })
        .await?;
    let v = detail.designation.version;
    Ok(ok_versioned(&detail, v))
}

macro_rules! designation_action {
    ($fn:ident, $doc_path:literal, $route:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post, path = $doc_path, tag = "designations",
            params(("id" = String, Path, description = "Designation id")),
            request_body = ActionRequest,
            responses(
                (status = 200, body = DesignationDetail, headers(("ETag" = String))),
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

designation_action!(
    suspend_designation,
    "/api/v1/designations/{id}/suspend",
    "/designations/{id}/suspend",
    RecordAction::Suspend,
    "Suspends an active designation."
);
designation_action!(
    reinstate_designation,
    "/api/v1/designations/{id}/reinstate",
    "/designations/{id}/reinstate",
    RecordAction::Reinstate,
    "Reinstates a suspended designation."
);
designation_action!(
    revoke_designation,
    "/api/v1/designations/{id}/revoke",
    "/designations/{id}/revoke",
    RecordAction::Revoke,
    "Revokes a designation for good (audited with its reason)."
);
