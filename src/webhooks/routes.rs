//! `/api/v1/webhooks`: an app, calling with its `X-API-Key`, subscribes to events, reads its
//! deliveries, replays from a sequence number, resumes a paused subscription, rotates the secret.

use actix_web::{delete, get, post, web, HttpMessage, HttpRequest, HttpResponse};
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::repo::{self, DeliveryRow, WebhookRow};
use crate::api_clients::repo::KeyHolder;
use crate::audit::{self, AuditCtx, Change};
use crate::auth::Caller;
use crate::db::{write_tx, DbConn};
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::Json;
use crate::pagination::PageRequest;
use crate::state::AppState;

/// Subscriptions one app may hold.
pub const WEBHOOKS_PER_CLIENT: i64 = 20;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    #[schema(example = "https://shop.example.com/hooks/registry")]
    pub url: String,
    #[schema(example = json!(["record.revoked", "record.suspended"]))]
    pub event_types: Vec<String>,
    pub enterprise_id: Option<String>,
    pub product_id: Option<String>,
    #[schema(example = "organic")]
    pub kind: Option<String>,
    /// The last sequence number handled: every event up to it was delivered or was not asked for.
    #[schema(example = 1841)]
    pub cursor: i64,
    /// `active`, or `paused` (see `paused_reason`; resume or replay to go on).
    #[schema(example = "active")]
    pub status: String,
    #[schema(example = json!(null))]
    pub paused_reason: Option<String>,
    /// Failed attempts in a row at the current event.
    pub consecutive_failures: i32,
    /// When the next attempt is due.
    pub next_attempt_at: chrono::DateTime<chrono::Utc>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&WebhookRow> for WebhookView {
    fn from(w: &WebhookRow) -> Self {
        Self {
            id: w.id.clone(),
            url: w.url.clone(),
            event_types: w.types().map(str::to_owned).collect(),
            enterprise_id: w.enterprise_id.clone(),
            product_id: w.product_id.clone(),
            kind: w.kind.clone(),
            cursor: w.cursor,
            status: w.status.clone(),
            paused_reason: w.paused_reason.clone(),
            consecutive_failures: w.failures,
            next_attempt_at: crate::clock::to_utc(w.next_attempt_at),
            created_at: crate::clock::to_utc(w.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// Verifies `X-Registry-Signature`. Shown only now (and at each rotation).
    #[schema(example = "whsec_3q2-7wXl0H5yQmJ3c9bG8Zf1aVt4nK6eR2uS0pD7xY")]
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    /// The new secret: deliveries from now on are signed with it.
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"url": "https://shop.example.com/hooks/registry",
    "event_types": ["record.revoked", "record.suspended"], "kind": "organic"}))]
pub struct CreateWebhookRequest {
    /// `https://` (or `http://`) address that takes a POST of each event.
    pub url: String,
    /// One or more of `record.registered`, `record.granted`, `record.suspended`,
    /// `record.reinstated`, `record.revoked`, `record.expired`, `record.amended`,
    /// `product.published`, `product.changed`, `enterprise.status_changed`.
    pub event_types: Vec<String>,
    /// Only events of this enterprise (its records, products and status).
    #[serde(default)]
    pub enterprise_id: Option<String>,
    /// Only events of this product (its records and changes).
    #[serde(default)]
    pub product_id: Option<String>,
    /// Only records of this kind (`green_food`, `organic`, `halal`, …).
    #[serde(default)]
    pub kind: Option<String>,
    /// Deliver events after this sequence number (default: the newest now, so only new ones).
    #[serde(default)]
    pub since: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"since": 1800}))]
pub struct ReplayRequest {
    /// Deliver again every event after this sequence number (0: from the beginning).
    pub since: i64,
}

crate::page_type!(WebhookPage, WebhookView);

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub seq: i64,
    #[schema(example = "record.revoked")]
    pub event_type: String,
    /// 1 for the first try of this event, counting up while it fails.
    pub attempt: i32,
    /// The receiver's HTTP status, if it answered.
    #[schema(example = 200)]
    pub status_code: Option<i32>,
    /// Why there was no answer (timeout, refused address, connection error).
    pub error: Option<String>,
    pub succeeded: bool,
    pub duration_ms: i32,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl From<&DeliveryRow> for DeliveryView {
    fn from(d: &DeliveryRow) -> Self {
        Self {
            id: d.id.clone(),
            seq: d.seq,
            event_type: d.event_type.clone(),
            attempt: d.attempt,
            status_code: d.status_code,
            error: d.error.clone(),
            succeeded: d.succeeded,
            duration_ms: d.duration_ms,
            at: crate::clock::to_utc(d.at),
        }
    }
}

crate::page_type!(DeliveryPage, DeliveryView);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The app calling: the client its `X-API-Key` belongs to (resolved by the rate limiter).
fn app(req: &HttpRequest) -> ApiResult<String> {
    req.extensions()
        .get::<KeyHolder>()
        .map(|h| h.client_id.clone())
        .ok_or(ApiError::Unauthenticated)
}

fn secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn audit_ctx(caller: &Caller, client: &str) -> AuditCtx {
    let mut ctx = AuditCtx::of(caller);
    ctx.actor_label = format!("api_client:{client}");
    ctx
}

fn audited(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    action: &'static str,
    w: &WebhookRow,
) -> ApiResult<()> {
    audit::record(
        conn,
        ctx,
        Change {
            action,
            entity_type: "webhook",
            entity_id: &w.id,
            before: None,
            after: serde_json::to_value(WebhookView::from(w)).ok(),
            reason: None,
        },
    )?;
    Ok(())
}

fn own(conn: &mut DbConn, client: &str, id: &str) -> ApiResult<WebhookRow> {
    repo::find_of(conn, client, id)?.ok_or(ApiError::NotFound)
}

fn optional_id(errors: &mut Errors, field: &str, v: &Option<String>) -> Option<String> {
    let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if v.len() > 64 {
        errors.push(field, "too_long", "an id of at most 64 characters");
        return None;
    }
    Some(v.to_owned())
}

/// Checks a subscription's target: an absolute http(s) URL whose host, if an address, may be
/// reached (names are checked again after each DNS answer, at delivery).
fn target_url(errors: &mut Errors, url: &str, allow_private: bool) -> Option<String> {
    let url = url.trim();
    let parsed: Option<awc::http::Uri> = url.parse().ok();
    let Some(uri) = parsed.filter(|u| {
        matches!(u.scheme_str(), Some("https" | "http")) && u.host().is_some_and(|h| !h.is_empty())
    }) else {
        errors.push("url", "invalid_url", "an absolute http:// or https:// URL");
        return None;
    };
    if url.len() > 2000 {
        errors.push("url", "too_long", "at most 2000 characters");
        return None;
    }
    if let Err(e) = super::guard::check_literal(uri.host().unwrap_or(""), allow_private) {
        errors.push("url", "address_not_allowed", e.to_string());
        return None;
    }
    Some(url.to_owned())
}

/// Subscribe to events (an app, with its `X-API-Key`)
///
/// Each event is POSTed as JSON (`WebhookEvent`) with `X-Registry-Signature: t=UNIX_SECONDS,v1=HEX`,
/// HEX being the HMAC-SHA256 of `UNIX_SECONDS + "." + body` under the secret, and
/// `X-Registry-Event-Id`. Events come in publication-log order, at least once; a non-2xx answer
/// or no answer within 5 s is retried with exponential backoff, and after 50 failures in a row
/// (or 24 hours of them) the subscription pauses.
#[utoipa::path(
    post, path = "/api/v1/webhooks", tag = "webhooks",
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Subscribed; the secret is in this answer only", body = CreatedWebhook),
        (status = 401, description = "No valid `X-API-Key`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad field, or the app holds 20 subscriptions (`too_many_webhooks`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Json<CreateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    let client = app(&req)?;
    let body = body.0;
    let mut errors = Errors::new();
    let url = target_url(&mut errors, &body.url, state.settings.webhook_allow_private);
    let mut types: Vec<String> = Vec::new();
    for t in &body.event_types {
        let t = t.trim();
        if !super::is_event_type(t) {
            let names: Vec<&str> = super::EVENT_TYPES.iter().map(|(n, _)| *n).collect();
            errors.push(
                "event_types",
                "invalid_value",
                format!("each one of: {}", names.join(", ")),
            );
            break;
        }
        if !types.iter().any(|x| x == t) {
            types.push(t.to_owned());
        }
    }
    if body.event_types.is_empty() {
        errors.push("event_types", "required", "at least one event type");
    }
    let enterprise_id = optional_id(&mut errors, "enterprise_id", &body.enterprise_id);
    let product_id = optional_id(&mut errors, "product_id", &body.product_id);
    let kind = body
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .and_then(|k| {
            errors
                .take("kind", crate::domain::ApplicationKind::parse(k))
                .map(|k| k.as_str().to_owned())
        });
    if body.since.is_some_and(|s| s < 0) {
        errors.push("since", "out_of_range", "a sequence number, 0 or more");
    }
    errors.finish()?;
    let Some(url) = url else {
        return Err(ApiError::Internal("validated".into()));
    };
    let now = crate::clock::now();
    let mut row = WebhookRow {
        id: uuid::Uuid::now_v7().to_string(),
        client_id: client.clone(),
        url,
        secret: secret(),
        event_types: types.join(","),
        enterprise_id,
        product_id,
        kind,
        cursor: 0,
        status: "active".into(),
        paused_reason: None,
        failures: 0,
        failing_since: None,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
    };
    let ctx = audit_ctx(&caller, &client);
    let since = body.since;
    let row = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                if repo::count_of(conn, &row.client_id)? >= WEBHOOKS_PER_CLIENT {
                    return Err(ApiError::Refused {
                        code: "too_many_webhooks",
                        field: "url",
                        detail: format!(
                            "an app holds at most {WEBHOOKS_PER_CLIENT} subscriptions: delete one first"
                        ),
                    });
                }
                let head = crate::publication::head(conn)?;
                row.cursor = match since {
                    Some(s) if s > head => {
                        return Err(ApiError::Refused {
                            code: "cursor_ahead",
                            field: "since",
                            detail: format!("the newest sequence number is {head}"),
                        })
                    }
                    Some(s) => s,
                    None => head,
                };
                repo::insert(conn, &row)?;
                audited(conn, &ctx, "webhook.create", &row)?;
                Ok(row)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/webhooks/{}", row.id)))
        .insert_header(("Cache-Control", "no-store"))
        .json(CreatedWebhook {
            webhook: WebhookView::from(&row),
            secret: row.secret.clone(),
        }))
}

/// List the app's subscriptions
#[utoipa::path(
    get, path = "/api/v1/webhooks", tag = "webhooks",
    params(PageQuery),
    responses(
        (status = 200, body = WebhookPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let client = app(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    errors.finish()?;
    let p = page.clone();
    let rows = state
        .db(move |conn| Ok(repo::list_of(conn, &client, &p)?))
        .await?;
    let (rows, next_cursor) = page.finish(rows, |w| &w.id);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(WebhookPage {
            items: rows.iter().map(WebhookView::from).collect(),
            next_cursor,
        }))
}

/// One subscription: its state, and why it paused
#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, body = WebhookView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another app's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let client = app(&req)?;
    let id = id.into_inner();
    let row = state.db(move |conn| own(conn, &client, &id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(WebhookView::from(&row)))
}

/// Delete a subscription and its delivery log
#[utoipa::path(
    delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Deleted: nothing more is sent"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let client = app(&req)?;
    let id = id.into_inner();
    let ctx = audit_ctx(&caller, &client);
    state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let row = own(conn, &client, &id)?;
                repo::delete(conn, &id)?;
                audited(conn, &ctx, "webhook.delete", &row)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a subscription's secret
#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The new secret, shown this once", body = RotatedSecret),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let client = app(&req)?;
    let id = id.into_inner();
    let ctx = audit_ctx(&caller, &client);
    let fresh = secret();
    let s = fresh.clone();
    state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let row = own(conn, &client, &id)?;
                repo::set_secret(conn, &id, &s)?;
                audited(conn, &ctx, "webhook.rotate_secret", &row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(RotatedSecret { secret: fresh }))
}

async fn restart(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    id: String,
    since: Option<i64>,
    action: &'static str,
) -> ApiResult<HttpResponse> {
    let client = app(req)?;
    if since.is_some_and(|s| s < 0) {
        let mut errors = Errors::new();
        errors.push("since", "out_of_range", "a sequence number, 0 or more");
        errors.finish()?;
    }
    let ctx = audit_ctx(caller, &client);
    let row = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let row = own(conn, &client, &id)?;
                let head = crate::publication::head(conn)?;
                let cursor = since.unwrap_or(row.cursor);
                if cursor > head {
                    return Err(ApiError::Refused {
                        code: "cursor_ahead",
                        field: "since",
                        detail: format!("the newest sequence number is {head}"),
                    });
                }
                repo::restart(conn, &row, cursor, super::deliver::IN_FLIGHT)?;
                let row = own(conn, &client, &id)?;
                audited(conn, &ctx, action, &row)?;
                Ok(row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(&row)))
}

/// Replay events after a sequence number
///
/// The subscription (paused or not) goes back to `since` and delivers every event after it
/// again, in order.
#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/replay", tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id")),
    request_body = ReplayRequest,
    responses(
        (status = 200, description = "Active from `since`", body = WebhookView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`since` is negative or beyond the newest event", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[post("/webhooks/{id}/replay")]
pub async fn replay_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ReplayRequest>,
) -> ApiResult<HttpResponse> {
    restart(
        &state,
        &req,
        &caller,
        id.into_inner(),
        Some(body.0.since),
        "webhook.replay",
    )
    .await
}

/// Resume a paused subscription where it stopped
#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/resume", tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "Active again; the event that failed is tried first", body = WebhookView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[post("/webhooks/{id}/resume")]
pub async fn resume_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    restart(
        &state,
        &req,
        &caller,
        id.into_inner(),
        None,
        "webhook.resume",
    )
    .await
}

/// A subscription's delivery log, newest first
#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id"), PageQuery),
    responses(
        (status = 200, body = DeliveryPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let client = app(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    errors.finish()?;
    let id = id.into_inner();
    let p = page.clone();
    let rows = state
        .db(move |conn| {
            own(conn, &client, &id)?;
            Ok(repo::deliveries(conn, &id, &p)?)
        })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |d| &d.id);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(DeliveryPage {
            items: rows.iter().map(DeliveryView::from).collect(),
            next_cursor,
        }))
}
