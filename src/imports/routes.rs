//! `POST /api/v1/imports` (a CSV or XLSX file as the raw body) and `GET /api/v1/imports/{id}`.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::repo::{self, JobRow};
use super::run::{self, Request};
use super::table::{self, FileFormat};
use super::RowError;
use crate::audit::AuditCtx;
use crate::auth::{Actor, Caller};
use crate::domain::{ImportKind, ImportStatus, Role};
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::parse_param;
use crate::state::AppState;

/// The largest file taken (a 100,000-row product file is about 15 MB as CSV).
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// An import and how far it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportJob {
    pub id: String,
    pub kind: ImportKind,
    /// `queued`, `validating`, `importing`, then `done`, or `failed` (`errors` lists the bad
    /// rows and nothing was written; or `failure` says what stopped the work).
    pub status: ImportStatus,
    pub file_name: Option<String>,
    /// Products: the enterprise they were imported for.
    pub enterprise_id: Option<String>,
    /// Data rows in the file (the header and empty rows not counted).
    #[schema(example = 120)]
    pub total_rows: i32,
    /// Rows validated (while `validating`) or written (while `importing`) so far.
    #[schema(example = 120)]
    pub processed_rows: i32,
    /// Records created.
    #[schema(example = 118)]
    pub created: i32,
    /// Rows already registered, just as the file has them (natural keys), left unchanged.
    #[schema(example = 2)]
    pub unchanged: i32,
    /// How many rows are invalid.
    #[schema(example = 0)]
    pub invalid_rows: i32,
    /// Every bad cell, by row (as a spreadsheet numbers it: the header is row 1) and column.
    pub errors: Vec<RowError>,
    pub failure: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&JobRow> for ImportJob {
    fn from(r: &JobRow) -> Self {
        Self {
            id: r.id.clone(),
            kind: r.kind,
            status: r.status,
            file_name: r.file_name.clone(),
            enterprise_id: r.enterprise_id.clone(),
            total_rows: r.total_rows,
            processed_rows: r.processed_rows,
            created: r.created_count,
            unchanged: r.unchanged_count,
            invalid_rows: r.error_count,
            errors: r
                .report
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
                .unwrap_or_default(),
            failure: r.failure.clone(),
            created_at: crate::clock::to_utc(r.created_at),
            updated_at: crate::clock::to_utc(r.updated_at),
            finished_at: r.finished_at.map(crate::clock::to_utc),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `products`, `designations` or `certifications`.
    #[param(example = "products")]
    pub kind: Option<String>,
    /// Products: the enterprise whose products these are (required for market regulators and
    /// admins; an enterprise user's own by default).
    pub enterprise_id: Option<String>,
    /// A name to remember the file by (shown in the job).
    pub file_name: Option<String>,
}

/// An uploaded spreadsheet, for the OpenAPI document.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ImportFile(#[allow(dead_code)] Vec<u8>);

/// Import products, or historical designations or certificates, from a file
///
/// The body is the file itself: `Content-Type: text/csv` (UTF-8, a BOM is accepted) or the XLSX
/// type (the first sheet is read). The first row names the columns. Products (`kind=products`):
/// `name`, `brand`, `sector`, `category`, `origin_region_code`, `ingredients` (`枸杞:99; 水:1`),
/// optional `gtin`, `suitable_for`, `unsuitable_for`, `is_new_product` (true/false),
/// `launched_on`; each row is checked exactly as `POST /api/v1/products` checks a body.
/// Designations (`kind=designations`, regulators of the agency deciding each kind; ended titles
/// only): `kind`, `number`, `holder_uscc`, `granted_year`, `valid_from`, `valid_until`, and
/// optionally `product_gtin` or `product_name`. Certificates (`kind=certifications`, likewise):
/// `kind`, `certificate_number`, `certification_body` (its key, such as `cgfdc`, or its id),
/// `holder_uscc`, `product_gtin` or `product_name`, `scope`, `issued_on`, `expires_on`.
/// Nothing is written unless every row is valid;
/// rows already registered under their natural key are left unchanged. The work runs as a job:
/// follow it at the `Location`.
#[utoipa::path(
    post, path = "/api/v1/imports", tag = "imports",
    params(ImportQuery),
    request_body(
        description = "The file: CSV or XLSX, with a header row",
        content(
            (String = "text/csv"),
            (ImportFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )
    ),
    responses(
        (status = 202, description = "Accepted: the job, queued", body = ImportJob, headers(("Location" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role may not import this kind", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The enterprise is unknown, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `kind`, a body neither CSV nor XLSX (`content_type`), a file that cannot be read, or a header with a missing, unknown or repeated column (`file.<column>`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/imports")]
pub async fn create_import(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<ImportQuery>,
    mut payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let mut errors = Errors::new();
    let kind = match q.kind.as_deref() {
        None => {
            errors.push(
                "kind",
                "required",
                "products, designations or certifications",
            );
            None
        }
        some => parse_param::<ImportKind>(&mut errors, "kind", some),
    };
    errors.finish()?;
    let kind = kind.ok_or_else(|| ApiError::Internal("validated kind missing".into()))?;
    let format = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(FileFormat::of_content_type)
        .ok_or_else(|| {
            ApiError::field(
                "content_type",
                "unsupported_media_type",
                format!("send text/csv or {}", table::XLSX_TYPE),
            )
        })?;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(ApiError::field(
                "file",
                "file_too_large",
                format!("at most {} MB", MAX_BYTES / 1024 / 1024),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let table = web::block(move || table::read(format, &body))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let request = Request {
        kind,
        enterprise_id: q.enterprise_id.clone(),
        file_name: q.file_name.clone(),
        table,
    };
    let ctx = AuditCtx::of(&caller);
    let started = actor.clone();
    let (job, request) = state
        .db(move |conn| Ok((run::start(conn, Some(&started), &request)?, request)))
        .await?;
    let view = ImportJob::from(&job);
    let work = state.clone();
    actix_web::rt::spawn(async move {
        let id = job.id.clone();
        let done = work
            .db(move |conn| run::run(conn, &job, Some(&actor), &ctx, request.table, &|_, _, _| {}))
            .await;
        if let Err(e) = done {
            tracing::info!(job = %id, error = %e, "import ended without writing");
        }
    });
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/api/v1/imports/{}", view.id)))
        .json(view))
}

/// Who may read a job: whoever started it, admins, and the regulators of its agency.
fn may_read(actor: &Actor, job: &JobRow) -> bool {
    job.created_by.as_deref() == Some(actor.user_id.as_str())
        || actor.role == Role::Admin
        || (actor.role == Role::Regulator
            && job.agency_code.is_some()
            && actor.agency == job.agency_code)
}

/// Follow an import
#[utoipa::path(
    get, path = "/api/v1/imports/{id}", tag = "imports",
    params(("id" = String, Path, description = "Import job id")),
    responses(
        (status = 200, description = "The job: status, progress, counts, and when it failed on bad rows, every bad row", body = ImportJob),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or not the caller's (only whoever started it, admins and its agency's regulators read it)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/imports/{id}")]
pub async fn get_import(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let id = id.into_inner();
    let job = state
        .db(move |conn| Ok(repo::find(conn, &id)?))
        .await?
        .filter(|job| may_read(&actor, job))
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ImportJob::from(&job)))
}
