//! `/api/v1/api-clients` (admins): register an app and show its key once, list, revoke.

use actix_web::{delete, get, post, web, HttpResponse};
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::limits::Limits;
use super::repo::{self, hash_key, ApiClientRow};
use crate::audit::{self, AuditCtx, Change};
use crate::auth::{check, Action, Caller, Target};
use crate::db::write_tx;
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::Json;
use crate::pagination::PageRequest;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiClientView {
    pub id: String,
    #[schema(example = "青海消费品扫码查询 App")]
    pub name: String,
    pub contact: String,
    /// The first characters of the key, to recognise it.
    #[schema(example = "rk_Q3xv")]
    pub key_prefix: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&ApiClientRow> for ApiClientView {
    fn from(r: &ApiClientRow) -> Self {
        Self {
            id: r.id.clone(),
            name: r.name.clone(),
            contact: r.contact.clone(),
            key_prefix: r.key_prefix.clone(),
            created_at: crate::clock::to_utc(r.created_at),
            revoked_at: r.revoked_at.map(crate::clock::to_utc),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedApiClient {
    #[serde(flatten)]
    pub client: ApiClientView,
    /// Send as `X-API-Key`. Shown only now: the registry keeps only its hash.
    pub key: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "青海消费品扫码查询 App", "contact": "dev@example.com"}))]
pub struct CreateApiClientRequest {
    pub name: String,
    pub contact: String,
}

crate::page_type!(ApiClientPage, ApiClientView);

/// Create an API client and its key (admins)
#[utoipa::path(
    post, path = "/api/v1/api-clients", tag = "api clients",
    request_body = CreateApiClientRequest,
    responses(
        (status = 201, description = "Registered; the key is in this answer only", body = CreatedApiClient),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api-clients")]
pub async fn create_client(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateApiClientRequest>,
) -> ApiResult<HttpResponse> {
    let created = register(&state, &caller, &body.0).await?;
    let row = &created.client;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/api-clients/{}", row.id)))
        .insert_header(("Cache-Control", "no-store"))
        .json(created))
}

/// Registers an app and mints its key (shown in this answer only). Admins only.
pub async fn register(
    state: &AppState,
    caller: &Caller,
    body: &CreateApiClientRequest,
) -> ApiResult<CreatedApiClient> {
    check(
        caller.actor.as_ref(),
        Action::ManageUsers,
        Target::default(),
    )?;
    let mut errors = Errors::new();
    let name = crate::domain::text(&mut errors, "name", &body.name, 200);
    let contact = crate::domain::text(&mut errors, "contact", &body.contact, 200);
    errors.finish()?;
    let (Some(name), Some(contact)) = (name, contact) else {
        return Err(ApiError::Internal("validated".into()));
    };
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let key = format!(
        "rk_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let row = ApiClientRow {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        contact,
        key_prefix: key[..7].to_owned(),
        key_hash: hash_key(&key),
        created_by: caller.actor.as_ref().map(|a| a.user_id.clone()),
        created_at: crate::clock::now(),
        revoked_at: None,
    };
    let ctx = AuditCtx::of(caller);
    let r = row.clone();
    state
        .db(move |conn| {
            write_tx(conn, |conn| {
                repo::insert(conn, &r)?;
                audit::record(
                    conn,
                    &ctx,
                    Change {
                        action: "api_client.create",
                        entity_type: "api_client",
                        entity_id: &r.id,
                        before: None,
                        after: serde_json::to_value(ApiClientView::from(&r)).ok(),
                        reason: None,
                    },
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(CreatedApiClient {
        client: ApiClientView::from(&row),
        key,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListClientsQuery {
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List API clients (admins)
#[utoipa::path(
    get, path = "/api/v1/api-clients", tag = "api clients",
    params(ListClientsQuery),
    responses(
        (status = 200, body = ApiClientPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api-clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListClientsQuery>,
) -> ApiResult<HttpResponse> {
    check(
        caller.actor.as_ref(),
        Action::ManageUsers,
        Target::default(),
    )?;
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    errors.finish()?;
    let p = page.clone();
    let rows: Vec<ApiClientRow> = state.db(move |conn| Ok(repo::list(conn, &p)?)).await?;
    let (rows, next_cursor) = page.finish(rows, |r| &r.id);
    Ok(HttpResponse::Ok().json(ApiClientPage {
        items: rows.iter().map(ApiClientView::from).collect(),
        next_cursor,
    }))
}

/// Revoke an API client's key (admins)
#[utoipa::path(
    delete, path = "/api/v1/api-clients/{id}", tag = "api clients",
    params(("id" = String, Path, description = "API client id")),
    responses(
        (status = 204, description = "Revoked: the key gets 401 from now on"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or already revoked", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/api-clients/{id}")]
pub async fn revoke_client(
    state: web::Data<AppState>,
    limits: web::Data<Limits>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    revoke(&state, &limits, &caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revokes a key: it answers 401 from now on. Admins only.
pub async fn revoke(
    state: &AppState,
    limits: &Limits,
    caller: &Caller,
    id: String,
) -> ApiResult<()> {
    check(
        caller.actor.as_ref(),
        Action::ManageUsers,
        Target::default(),
    )?;
    let ctx = AuditCtx::of(caller);
    let hash = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let row = repo::revoke(conn, &id)?.ok_or(ApiError::NotFound)?;
                audit::record(
                    conn,
                    &ctx,
                    Change {
                        action: "api_client.revoke",
                        entity_type: "api_client",
                        entity_id: &id,
                        before: None,
                        after: None,
                        reason: None,
                    },
                )?;
                Ok(row.key_hash)
            })
        })
        .await?;
    limits.forget_key(&hash);
    Ok(())
}
