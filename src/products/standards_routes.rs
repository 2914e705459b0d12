//! The standards a product executes (执行标准): `/api/v1/products/{id}/standards`.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::repo;
use super::routes::load_checked;
use super::service;
use crate::audit::{self, AuditCtx, Change};
use crate::auth::{Action, Actor, Caller};
use crate::db::{write_tx, DbConn};
use crate::domain::StandardCode;
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::standards::repo::{views, StandardView};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct DeclaredStandard {
    pub standard: StandardView,
    #[schema(example = "2026-11-26")]
    pub declared_on: NaiveDate,
    /// Set when the standard is superseded: the declaration stands, but the product should move
    /// to the standard that replaced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "GB 2760-2014 is superseded by GB 2760-2024")]
    pub warning: Option<String>,
}

/// What to tell a declarer about a superseded standard.
fn superseded_warning(s: &StandardView) -> Option<String> {
    (s.status == crate::domain::StandardStatus::Superseded).then(|| match &s.replaced_by {
        Some(r) => format!("{} is superseded by {}", s.code, r.code),
        None => format!("{} is superseded", s.code),
    })
}

crate::page_type!(DeclaredStandardPage, DeclaredStandard);

/// List the standards a product declares
#[utoipa::path(
    get, path = "/api/v1/products/{id}/standards", tag = "products",
    params(("id" = String, Path, description = "Product id")),
    responses(
        (status = 200, description = "All declared standards (one page)", body = DeclaredStandardPage),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/products/{id}/standards")]
pub async fn list_declared(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let actor = caller.actor.clone();
    let items = state
        .db(move |conn| declared(conn, actor.as_ref(), &id))
        .await?;
    Ok(HttpResponse::Ok().json(DeclaredStandardPage {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"standard_code": "GB/T 18672—2014"}))]
pub struct DeclareStandardRequest {
    /// Any accepted spelling of a catalogued standard's code.
    pub standard_code: String,
}

/// Declare a standard for a product
#[utoipa::path(
    post, path = "/api/v1/products/{id}/standards", tag = "products",
    params(("id" = String, Path, description = "Product id")),
    request_body = DeclareStandardRequest,
    responses(
        (status = 201, body = DeclaredStandard),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already declared", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or withdrawn standard", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/products/{id}/standards")]
pub async fn declare(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: crate::http::Json<DeclareStandardRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let mut errors = Errors::new();
    let code = errors.take("standard_code", StandardCode::parse(&body.0.standard_code));
    errors.finish()?;
    let code = code.ok_or_else(|| ApiError::Internal("validated code missing".into()))?;
    let ctx = AuditCtx::of(&caller);
    let id = id.into_inner();
    let item = state
        .db(move |conn| write_tx(conn, |conn| declare_as(conn, &actor, &ctx, &id, &code)))
        .await?;
    Ok(HttpResponse::Created().json(item))
}

/// Withdraw a declared standard
#[utoipa::path(
    delete, path = "/api/v1/products/{id}/standards/{standard_id}", tag = "products",
    params(("id" = String, Path, description = "Product id"), ("standard_id" = String, Path, description = "Standard id")),
    responses(
        (status = 204, description = "No longer declared"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown product, or the standard is not declared", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/products/{id}/standards/{standard_id}")]
pub async fn undeclare(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let ctx = AuditCtx::of(&caller);
    let (id, standard_id) = path.into_inner();
    state
        .db(move |conn| {
            write_tx(conn, |conn| {
                undeclare_as(conn, &actor, &ctx, &id, &standard_id)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The standards declared for a product the caller may see.
pub fn declared(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    id: &str,
) -> ApiResult<Vec<DeclaredStandard>> {
    load_checked(conn, actor, id, Action::Read)?;
    let rows = repo::declared_standards(conn, id)?;
    let (stds, dates): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
    let views = views(conn, &stds)?;
    Ok(views
        .into_iter()
        .zip(dates)
        .map(|(standard, declared_on)| DeclaredStandard {
            warning: superseded_warning(&standard),
            standard,
            declared_on,
        })
        .collect())
}

/// Declares a catalogued standard for a product the actor manages. Call inside `write_tx`.
pub fn declare_as(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &AuditCtx,
    id: &str,
    code: &StandardCode,
) -> ApiResult<DeclaredStandard> {
    load_checked(conn, Some(actor), id, Action::ManageProducts)?;
    let std = service::declare_standard(conn, ctx, id, code)?;
    let standard = views(conn, &[std])?.remove(0);
    Ok(DeclaredStandard {
        warning: superseded_warning(&standard),
        standard,
        declared_on: crate::clock::today(),
    })
}

/// No longer declares a standard (404 when it was not declared). Call inside `write_tx`.
pub fn undeclare_as(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &AuditCtx,
    id: &str,
    standard_id: &str,
) -> ApiResult<()> {
    load_checked(conn, Some(actor), id, Action::ManageProducts)?;
    if repo::undeclare(conn, id, standard_id)? == 0 {
        return Err(ApiError::NotFound);
    }
    audit::record(
        conn,
        ctx,
        Change {
            action: "product.undeclare_standard",
            entity_type: "product",
            entity_id: id,
            before: Some(serde_json::json!({"standard_id": standard_id})),
            after: None,
            reason: None,
        },
    )?;
    Ok(())
}
