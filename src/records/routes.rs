//! `/api/v1/certifications`, `/api/v1/designations`, `/api/v1/certification-bodies`: thin
//! handlers over the shared record path.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::bodies::{self, CertificationBody};
use super::certificates::{CertDetail, CertFilter, CertRow, CertView};
use super::designations::{DesignationDetail, DesignationFilter, DesignationRow, DesignationView};
use super::{ActionRequest, Record, RecordAction};
use crate::audit::AuditCtx;
use crate::auth::Caller;
use crate::db::write_tx;
use crate::domain::{self, ApplicationKind, RecordStatus};
use crate::error::{ApiResult, Errors, Problem};
use crate::http::{ok_versioned, parse_date, parse_param, Json};
use crate::pagination::PageRequest;
use crate::state::AppState;

crate::page_type!(CertPage, CertView);
crate::page_type!(DesignationPage, DesignationView);
crate::page_type!(CertificationBodyPage, CertificationBody);

/// The `status` filter of a list: the record's stored statuses, plus `expired`.
fn status_filter<R: Record>(errors: &mut Errors, v: Option<&str>) -> Option<RecordStatus> {
    let allowed = [
        R::LIVE,
        RecordStatus::Suspended,
        RecordStatus::Revoked,
        RecordStatus::Expired,
    ];
    let status = errors.take("status", RecordStatus::parse(v?))?;
    if allowed.contains(&status) {
        Some(status)
    } else {
        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        errors.push(
            "status",
            "invalid_value",
            format!("must be one of: {}", names.join(", ")),
        );
        None
    }
}

/// `expiring_within=DAYS` as the last day it covers.
fn expiring_by(errors: &mut Errors, days: Option<&str>) -> Option<chrono::NaiveDate> {
    let days = days?;
    match days.parse::<u64>() {
        Ok(n @ 1..=3650) => crate::clock::today().checked_add_days(chrono::Days::new(n)),
        _ => {
            errors.push(
                "expiring_within",
                "invalid_value",
                "a number of days from 1 to 3650",
            );
            None
        }
    }
}

async fn list_page<R: Record>(
    state: web::Data<AppState>,
    caller: Caller,
    filter: R::Filter,
    page: PageRequest,
) -> ApiResult<(Vec<R::View>, Option<String>)> {
    state
        .db(move |conn| super::list::<R>(conn, caller.actor.as_ref(), &filter, &page))
        .await
}

async fn get_one<R: Record>(
    state: web::Data<AppState>,
    caller: Caller,
    id: String,
) -> ApiResult<HttpResponse> {
    let detail = state
        .db(move |conn| super::get::<R>(conn, caller.actor.as_ref(), &id))
        .await?;
    let v = R::detail_version(&detail);
    Ok(ok_versioned(&detail, v))
}

async fn act<R: Record>(
    state: web::Data<AppState>,
    caller: Caller,
    id: String,
    action: RecordAction,
    body: ActionRequest,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let reason = domain::required_reason(&body.reason, 1000)?;
    let ctx = AuditCtx::of(&caller);
    let detail = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                super::act::<R>(conn, &actor, &ctx, &id, action, &reason)
            })
        })
        .await?;
    let v = R::detail_version(&detail);
    Ok(ok_versioned(&detail, v))
}

/// The three regulator actions of one kind of record, each a documented handler.
macro_rules! record_actions {
    ($record:ty, $detail:ty, $tag:literal, $what:literal, $(($fn:ident, $action:expr, $path:literal, $doc:literal)),+ $(,)?) => {$(
        #[doc = $doc]
        #[utoipa::path(
            post, path = concat!("/api/v1", $path), tag = $tag,
            params(("id" = String, Path, description = $what)),
            request_body = ActionRequest,
            responses(
                (status = 200, body = $detail, headers(("ETag" = String))),
                (status = 401, body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not a regulator of the agency responsible for this kind", body = Problem, content_type = "application/problem+json"),
                (status = 404, body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Not allowed from the current status (`current_state`)", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "`reason` missing", body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        #[post($path)]
        pub async fn $fn(
            state: web::Data<AppState>,
            caller: Caller,
            id: web::Path<String>,
            body: Json<ActionRequest>,
        ) -> ApiResult<HttpResponse> {
            act::<$record>(state, caller, id.into_inner(), $action, body.0).await
        }
    )+};
}

// ---------------------------------------------------------------------------------------------
// Certificates

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCertsQuery {
    #[param(value_type = Option<ApplicationKind>, example = "green_food")]
    pub kind: Option<String>,
    /// `valid`, `suspended`, `revoked` or `expired`.
    #[param(value_type = Option<RecordStatus>)]
    pub status: Option<String>,
    pub enterprise_id: Option<String>,
    pub product_id: Option<String>,
    /// Origin of the product (a prefecture matches its counties).
    pub region_code: Option<String>,
    /// Only certificates whose validity covers this date (YYYY-MM-DD) and that are not revoked.
    pub valid_on: Option<String>,
    /// Only records in force today that end within this many days (1-3650): what must be
    /// renewed soon (e.g. 90, 30, 7).
    pub expiring_within: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListCertsQuery {
    /// The filter and page asked for, each bad value named in `errors` (shared with the export).
    pub fn parse(&self, errors: &mut Errors) -> (CertFilter, PageRequest) {
        let page = PageRequest::parse(errors, self.limit.as_deref(), self.cursor.as_deref());
        let filter = CertFilter {
            kind: parse_param::<ApplicationKind>(errors, "kind", self.kind.as_deref()),
            status: status_filter::<CertRow>(errors, self.status.as_deref()),
            enterprise_id: self.enterprise_id.clone(),
            product_id: self.product_id.clone(),
            region_code: self
                .region_code
                .as_deref()
                .and_then(|r| domain::region_code_shape(errors, "region_code", r)),
            valid_on: parse_date(errors, "valid_on", self.valid_on.as_deref()),
            expiring_by: expiring_by(errors, self.expiring_within.as_deref()),
        };
        (filter, page)
    }
}

/// List certificates
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
    let (filter, page) = q.parse(&mut errors);
    errors.finish()?;
    let (items, next_cursor) = list_page::<CertRow>(state, caller, filter, page).await?;
    Ok(HttpResponse::Ok().json(CertPage { items, next_cursor }))
}

/// Get a certificate with its history
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
    get_one::<CertRow>(state, caller, id.into_inner()).await
}

record_actions!(
    CertRow,
    CertDetail,
    "certifications",
    "Certification id",
    (
        suspend_certification,
        RecordAction::Suspend,
        "/certifications/{id}/suspend",
        "Suspends a valid certificate."
    ),
    (
        reinstate_certification,
        RecordAction::Reinstate,
        "/certifications/{id}/reinstate",
        "Reinstates a suspended certificate."
    ),
    (
        revoke_certification,
        RecordAction::Revoke,
        "/certifications/{id}/revoke",
        "Revokes a certificate for good."
    ),
);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListBodiesQuery {
    /// Only bodies issuing this kind.
    #[param(value_type = Option<ApplicationKind>, example = "organic")]
    pub kind: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List certification bodies
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
    let kind = parse_param::<ApplicationKind>(&mut errors, "kind", q.kind.as_deref());
    errors.finish()?;
    let p = page.clone();
    let rows = state
        .db(move |conn| Ok(bodies::list_bodies(conn, kind, &p)?))
        .await?;
    let (items, next_cursor) = page.finish(rows, |r| &r.id);
    Ok(HttpResponse::Ok().json(CertificationBodyPage { items, next_cursor }))
}

// ---------------------------------------------------------------------------------------------
// Designations

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListDesignationsQuery {
    #[param(value_type = Option<ApplicationKind>, example = "provincial_famous_brand")]
    pub kind: Option<String>,
    /// `active`, `suspended`, `revoked` or `expired`.
    #[param(value_type = Option<RecordStatus>)]
    pub status: Option<String>,
    pub enterprise_id: Option<String>,
    pub product_id: Option<String>,
    pub geographical_indication_id: Option<String>,
    /// Region of the holder (a prefecture matches its counties).
    pub region_code: Option<String>,
    /// Only designations whose validity covers this date (YYYY-MM-DD) and that are not revoked.
    pub valid_on: Option<String>,
    /// Only records in force today that end within this many days (1-3650): what must be
    /// renewed soon (e.g. 90, 30, 7).
    pub expiring_within: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListDesignationsQuery {
    /// The filter and page asked for, each bad value named in `errors` (shared with the export).
    pub fn parse(&self, errors: &mut Errors) -> (DesignationFilter, PageRequest) {
        let page = PageRequest::parse(errors, self.limit.as_deref(), self.cursor.as_deref());
        let filter = DesignationFilter {
            kind: parse_param::<ApplicationKind>(errors, "kind", self.kind.as_deref()),
            status: status_filter::<DesignationRow>(errors, self.status.as_deref()),
            enterprise_id: self.enterprise_id.clone(),
            product_id: self.product_id.clone(),
            geographical_indication_id: self.geographical_indication_id.clone(),
            region_code: self
                .region_code
                .as_deref()
                .and_then(|r| domain::region_code_shape(errors, "region_code", r)),
            valid_on: parse_date(errors, "valid_on", self.valid_on.as_deref()),
            expiring_by: expiring_by(errors, self.expiring_within.as_deref()),
        };
        (filter, page)
    }
}

/// List designations
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
    let (filter, page) = q.parse(&mut errors);
    errors.finish()?;
    let (items, next_cursor) = list_page::<DesignationRow>(state, caller, filter, page).await?;
    Ok(HttpResponse::Ok().json(DesignationPage { items, next_cursor }))
}

/// Get a designation with its history
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
    get_one::<DesignationRow>(state, caller, id.into_inner()).await
}

record_actions!(
    DesignationRow,
    DesignationDetail,
    "designations",
    "Designation id",
    (
        suspend_designation,
        RecordAction::Suspend,
        "/designations/{id}/suspend",
        "Suspends an active designation."
    ),
    (
        reinstate_designation,
        RecordAction::Reinstate,
        "/designations/{id}/reinstate",
        "Reinstates a suspended designation."
    ),
    (
        revoke_designation,
        RecordAction::Revoke,
        "/designations/{id}/revoke",
        "Revokes a designation for good (audited with its reason)."
    ),
);
