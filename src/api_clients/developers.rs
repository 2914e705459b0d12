//! `POST /api/v1/auth/register-developer`: an app developer with no enterprise and no agency
//! signs up for API keys. The account may sign in and manage its own API clients and webhooks;
//! for everything else it is an anonymous caller (the policy has no other rights for the
//! `developer` role).

use actix_web::{post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::routes::{
    insert_client, ApiClientView, CreateApiClientRequest, CreatedApiClient, NewClient,
};
use crate::audit::AuditCtx;
use crate::auth::{password, Caller};
use crate::db::write_tx;
use crate::domain::Role;
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::Json;
use crate::state::AppState;
use crate::users::service::{self as user_service, NewUser, UserView};

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "username": "scan_app_dev", "password": "a long passphrase",
    "client": {"name": "青海消费品扫码查询 App", "contact": "dev@example.com",
               "purpose": "Shows shoppers whether a product's certificate is valid"}
}))]
pub struct DeveloperSignUp {
    pub username: String,
    /// At least 10 characters.
    pub password: String,
    /// The first app, whose key this answer carries (`quota_per_min` is for admins only).
    pub client: CreateApiClientRequest,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeveloperSignedUp {
    /// The account (role `developer`): sign in with it to register more apps, rotate keys and
    /// manage webhooks.
    pub user: UserView,
    /// The first app and its key, shown only now.
    pub client: CreatedApiClient,
}

/// Sign up as an app developer and get a first API key
///
/// No enterprise or agency is involved: the account is active at once, may hold ten live API
/// clients like any user, and has no other rights than an anonymous caller's. Held to the same
/// per-address limit as enterprise sign-up.
#[utoipa::path(
    post, path = "/api/v1/auth/register-developer", tag = "auth",
    request_body = DeveloperSignUp,
    responses(
        (status = 201, description = "Signed up; the key is in this answer only", body = DeveloperSignedUp),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`client.quota_per_min` given (admins set quotas)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Username taken (checked before the password is hashed)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`username`, `password`, `client.name`, `client.contact`, `client.purpose`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Past REGISTRY_FILING_RATE_PER_MIN for this address; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/register-developer")]
pub async fn register_developer(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<DeveloperSignUp>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    if b.client.quota_per_min.is_some() {
        return Err(ApiError::Forbidden);
    }
    let mut errors = Errors::new();
    password::check_new(&mut errors, "password", &b.password);
    let user = NewUser::parse(
        &mut errors,
        &b.username,
        Role::Developer.as_str(),
        None,
        None,
    );
    let client = NewClient::parse(&mut errors, "client.", &b.client);
    errors.finish()?;
    let (Some(user), Some(client)) = (user, client) else {
        return Err(ApiError::Internal("validated input missing".into()));
    };
    // A taken name must not cost a password hash.
    let username = user.username.clone();
    state
        .db(move |conn| user_service::ensure_username_free(conn, &username))
        .await?;
    let pw = b.password;
    let hash = web::block(move || password::hash(&pw)).await?;
    let ctx = AuditCtx::of(&caller).as_actor(None, format!("self-registration:{}", user.username));
    let (user, row, key) = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let user = user_service::create(conn, &ctx, user, hash)?;
                let (row, key) = client.mint(&user.id);
                insert_client(conn, &ctx, &row, true)?;
                Ok((user, row, key))
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/api-clients/{}", row.id)))
        .insert_header(("Cache-Control", "no-store"))
        .json(DeveloperSignedUp {
            user: UserView::from(&user),
            client: CreatedApiClient {
                client: ApiClientView::from(&row),
                key,
            },
        }))
}
