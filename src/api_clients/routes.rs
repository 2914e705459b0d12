//! `/api/v1/api-clients`: any signed-in user registers its apps and gets each key once, lists and
//! revokes its own; admins see and revoke all, and set a client's quota.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::limits::Limits;
use super::repo::{self, hash_key, ApiClientRow};
use crate::audit::{self, AuditCtx, Change};
use crate::auth::{Actor, Caller};
use crate::db::{write_tx, DbConn};
use crate::domain::Role;
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::Json;
use crate::pagination::PageRequest;
use crate::state::AppState;

/// How many live clients one user may hold; an admin registers more on request.
pub const CLIENTS_PER_USER: i64 = 10;
/// The highest quota an admin may set (requests per minute).
const MAX_QUOTA: i32 = 1_000_000;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiClientView {
    pub id: String,
    #[schema(example = "青海消费品扫码查询 App")]
    pub name: String,
    pub contact: String,
    #[schema(example = "Shows shoppers whether a product's certificate is valid")]
    pub purpose: String,
    /// The first characters of the key, to recognise it.
    #[schema(example = "rk_Q3xv")]
    pub key_prefix: String,
    /// Requests per minute this key may make; `null` for the default quota of keys.
    #[schema(example = 600)]
    pub quota_per_min: Option<i32>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&ApiClientRow> for ApiClientView {
    fn from(r: &ApiClientRow) -> Self {
        Self {
            id: r.id.clone(),
            name: r.name.clone(),
            contact: r.contact.clone(),
            purpose: r.purpose.clone(),
            key_prefix: r.key_prefix.clone(),
            quota_per_min: r.quota_per_min,
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
#[schema(example = json!({"name": "青海消费品扫码查询 App", "contact": "dev@example.com",
    "purpose": "Shows shoppers whether a product's certificate is valid"}))]
pub struct CreateApiClientRequest {
    pub name: String,
    /// How the registry reaches the app's developers (an e-mail address or a telephone number).
    pub contact: String,
    /// What the app does with the register's data.
    #[serde(default)]
    pub purpose: String,
    /// Admins only: requests per minute for this key (default: the keys' default quota).
    #[serde(default)]
    pub quota_per_min: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"quota_per_min": 6000}))]
pub struct UpdateApiClientRequest {
    /// Requests per minute, 1 to 1,000,000; `null` returns the key to the default quota.
    pub quota_per_min: Option<i32>,
}

crate::page_type!(ApiClientPage, ApiClientView);

fn is_admin(actor: &Actor) -> bool {
    actor.role == Role::Admin
}

fn quota(errors: &mut Errors, q: Option<i32>) -> Option<i32> {
    let q = q?;
    if (1..=MAX_QUOTA).contains(&q) {
        Some(q)
    } else {
        errors.push(
            "quota_per_min",
            "out_of_range",
            "1 to 1000000 requests per minute",
        );
        None
    }
}

/// A client the actor may see: its own, or any for an admin. Others do not exist for it (404).
fn visible_client(conn: &mut DbConn, actor: &Actor, id: &str) -> ApiResult<ApiClientRow> {
    repo::find(conn, id)?
        .filter(|c| is_admin(actor) || c.created_by.as_deref() == Some(actor.user_id.as_str()))
        .ok_or(ApiError::NotFound)
}

/// Register an API client and get its key (any signed-in user)
///
/// The key is in this answer only. Each user holds at most ten live clients; only admins set
/// `quota_per_min`.
#[utoipa::path(
    post, path = "/api/v1/api-clients", tag = "api clients",
    request_body = CreateApiClientRequest,
    responses(
        (status = 201, description = "Registered; the key is in this answer only", body = CreatedApiClient),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`quota_per_min` set by a non-admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or too long, or the user already holds ten live clients (`too_many_clients`)", body = Problem, content_type = "application/problem+json"),
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

/// A client's fields, checked; `prefix` names them in errors (`client.` inside a sign-up).
pub struct NewClient {
    name: String,
    contact: String,
    purpose: String,
    quota: Option<i32>,
}

impl NewClient {
    pub fn parse(errors: &mut Errors, prefix: &str, body: &CreateApiClientRequest) -> Option<Self> {
        let name = crate::domain::text(errors, &format!("{prefix}name"), &body.name, 200);
        let contact = crate::domain::text(errors, &format!("{prefix}contact"), &body.contact, 200);
        let purpose = body.purpose.trim();
        if purpose.chars().count() > 1000 {
            errors.push(
                format!("{prefix}purpose"),
                "too_long",
                "at most 1000 characters",
            );
        }
        let quota = quota(errors, body.quota_per_min);
        Some(Self {
            name: name?,
            contact: contact?,
            purpose: purpose.to_owned(),
            quota,
        })
    }

    /// The row for `owner`, and its key (the registry keeps only the hash).
    pub fn mint(self, owner: &str) -> (ApiClientRow, String) {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let key = format!(
            "rk_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let row = ApiClientRow {
            id: uuid::Uuid::now_v7().to_string(),
            name: self.name,
            contact: self.contact,
            key_prefix: key[..7].to_owned(),
            key_hash: hash_key(&key),
            created_by: Some(owner.to_owned()),
            created_at: crate::clock::now(),
            revoked_at: None,
            purpose: self.purpose,
            quota_per_min: self.quota,
        };
        (row, key)
    }
}

/// Inserts a minted client and its audit entry, within the owner's limit of live clients
/// (admins have none). Call inside `write_tx`.
pub fn insert_client(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    row: &ApiClientRow,
    limited: bool,
) -> ApiResult<()> {
    let owner = row.created_by.as_deref().unwrap_or_default();
    if limited && repo::count_live_of(conn, owner)? >= CLIENTS_PER_USER {
        return Err(ApiError::Refused {
            code: "too_many_clients",
            field: "name",
            detail: format!(
                "a user holds at most {CLIENTS_PER_USER} live API clients: revoke one first"
            ),
        });
    }
    repo::insert(conn, row)?;
    audit::record(
        conn,
        ctx,
        Change {
            action: "api_client.create",
            entity_type: "api_client",
            entity_id: &row.id,
            before: None,
            after: serde_json::to_value(ApiClientView::from(row)).ok(),
            reason: None,
        },
    )?;
    Ok(())
}

/// Registers an app for the signed-in user and mints its key (shown in this answer only).
pub async fn register(
    state: &AppState,
    caller: &Caller,
    body: &CreateApiClientRequest,
) -> ApiResult<CreatedApiClient> {
    let actor = caller.actor()?.clone();
    if body.quota_per_min.is_some() && !is_admin(&actor) {
        return Err(ApiError::Forbidden);
    }
    let mut errors = Errors::new();
    let new = NewClient::parse(&mut errors, "", body);
    errors.finish()?;
    let new = new.ok_or_else(|| ApiError::Internal("validated".into()))?;
    let (row, key) = new.mint(&actor.user_id);
    let ctx = AuditCtx::of(caller);
    let r = row.clone();
    let limited = !is_admin(&actor);
    state
        .db(move |conn| write_tx(conn, |conn| insert_client(conn, &ctx, &r, limited)))
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

/// List API clients: one's own (admins: all)
#[utoipa::path(
    get, path = "/api/v1/api-clients", tag = "api clients",
    params(ListClientsQuery),
    responses(
        (status = 200, body = ApiClientPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api-clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListClientsQuery>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    errors.finish()?;
    let p = page.clone();
    let rows: Vec<ApiClientRow> = state
        .db(move |conn| {
            let owner = (!is_admin(&actor)).then_some(actor.user_id.as_str());
            Ok(repo::list(conn, owner, &p)?)
        })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| &r.id);
    Ok(HttpResponse::Ok().json(ApiClientPage {
        items: rows.iter().map(ApiClientView::from).collect(),
        next_cursor,
    }))
}

/// One API client (its owner, admins)
#[utoipa::path(
    get, path = "/api/v1/api-clients/{id}", tag = "api clients",
    params(("id" = String, Path, description = "API client id")),
    responses(
        (status = 200, body = ApiClientView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another user's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api-clients/{id}")]
pub async fn get_client(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let id = id.into_inner();
    let row = state
        .db(move |conn| visible_client(conn, &actor, &id))
        .await?;
    Ok(HttpResponse::Ok().json(ApiClientView::from(&row)))
}

/// Set an API client's quota (admins)
#[utoipa::path(
    patch, path = "/api/v1/api-clients/{id}", tag = "api clients",
    params(("id" = String, Path, description = "API client id")),
    request_body = UpdateApiClientRequest,
    responses(
        (status = 200, description = "The quota applies from the next request", body = ApiClientView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The owner, not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/api-clients/{id}")]
pub async fn update_client(
    state: web::Data<AppState>,
    limits: web::Data<Limits>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<UpdateApiClientRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let mut errors = Errors::new();
    let q = quota(&mut errors, body.0.quota_per_min);
    errors.finish()?;
    let id = id.into_inner();
    let ctx = AuditCtx::of(&caller);
    let row = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let before = visible_client(conn, &actor, &id)?;
                if !is_admin(&actor) {
                    return Err(ApiError::Forbidden);
                }
                repo::set_quota(conn, &id, q)?;
                let after = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                audit::record(
                    conn,
                    &ctx,
                    Change {
                        action: "api_client.set_quota",
                        entity_type: "api_client",
                        entity_id: &id,
                        before: serde_json::to_value(ApiClientView::from(&before)).ok(),
                        after: serde_json::to_value(ApiClientView::from(&after)).ok(),
                        reason: None,
                    },
                )?;
                Ok(after)
            })
        })
        .await?;
    limits.forget_key(&row.key_hash);
    Ok(HttpResponse::Ok().json(ApiClientView::from(&row)))
}

/// Revoke an API client's key (its owner, admins)
#[utoipa::path(
    delete, path = "/api/v1/api-clients/{id}", tag = "api clients",
    params(("id" = String, Path, description = "API client id")),
    responses(
        (status = 204, description = "Revoked: the key gets 401 from now on, and its webhooks stop"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, another user's, or already revoked", body = Problem, content_type = "application/problem+json"),
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

/// Revokes a key: it answers 401 from now on. Its owner or an admin.
pub async fn revoke(
    state: &AppState,
    limits: &Limits,
    caller: &Caller,
    id: String,
) -> ApiResult<()> {
    let actor = caller.actor()?.clone();
    let ctx = AuditCtx::of(caller);
    let hash = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                visible_client(conn, &actor, &id)?;
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
