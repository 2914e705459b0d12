//! `/api/v1/auth/*`: sign-in, token refresh and logout, the current user.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, AuditCtx, Change};
use crate::auth::refresh::{self as tokens, RefreshRow};
use crate::auth::{password, token, Caller};
use crate::db::{write_tx, DbConn};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::Json;
use crate::state::AppState;
use crate::users::repo::{self as users, UserRow};
use crate::users::service::UserView;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "regulator", "password": "regulator-demo-2026"}))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// JWT (HS256) for `Authorization: Bearer …`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires (at most 900).
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Opaque; exchange it once at `/auth/refresh` for a new pair.
    pub refresh_token: String,
}

/// Issues an access token and a refresh token of `family` (a new family at sign-in).
/// The session a new pair continues: its family and when it began (sign-in).
struct Session {
    family_id: String,
    started: chrono::NaiveDateTime,
}

impl Session {
    fn ends(&self, state: &AppState) -> chrono::NaiveDateTime {
        self.started
            + chrono::Duration::from_std(state.settings.session_max_age)
                .unwrap_or(chrono::Duration::days(30))
    }
}

fn issue(
    state: &AppState,
    conn: &mut DbConn,
    user: &UserRow,
    session: Option<Session>,
) -> ApiResult<TokenResponse> {
    let refresh_token = token::new_refresh_token();
    let now = crate::clock::now();
    let ttl = chrono::Duration::from_std(state.settings.refresh_token_ttl)
        .unwrap_or(chrono::Duration::days(30));
    let session = session.unwrap_or_else(|| Session {
        family_id: uuid::Uuid::now_v7().to_string(),
        started: now,
    });
    // Rotation renews the token, never the session: no refresh token outlives its session.
    let expires_at = (now + ttl).min(session.ends(state));
    tokens::insert_refresh(
        conn,
        &RefreshRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user.id.clone(),
            family_id: session.family_id.clone(),
            token_hash: token::hash_refresh_token(&refresh_token),
            expires_at,
            used_at: None,
            revoked_at: None,
            created_at: now,
        },
    )?;
    Ok(TokenResponse {
        access_token: state
            .keys
            .issue_access(&user.id, user.role.as_str(), &session.family_id),
        token_type: "Bearer",
        expires_in: state.keys.access_ttl_secs,
        refresh_token,
    })
}

fn session_change<'a>(action: &'a str, user: &'a UserRow) -> Change<'a> {
    Change {
        action,
        entity_type: "user",
        entity_id: &user.id,
        before: None,
        after: None,
        reason: None,
    }
}

/// Checks a password and opens a session: the sign-in throttle, the slow hash off the async
/// threads, an audit entry. The API's `POST /auth/login` and the console's sign-in form both
/// come here.
pub async fn sign_in(
    state: &web::Data<AppState>,
    caller: &Caller,
    username: String,
    pw: String,
) -> ApiResult<TokenResponse> {
    let username = username.trim().to_lowercase();
    state
        .login_throttle
        .begin(&username, &caller.client)
        .map_err(|retry_after_secs| {
            state.metrics.rate_limited("sign_in_throttle");
            ApiError::TooManyRequests { retry_after_secs }
        })?;
    let lookup = username.clone();
    // Hashing is slow on purpose: off the async threads, on the blocking pool.
    let user = state
        .db(move |conn| {
            let user = users::find_by_username(conn, &lookup)?;
            Ok(match user {
                Some(u) if password::verify(&u.password_hash, &pw) && !u.disabled => Some(u),
                Some(_) => None,
                None => {
                    password::verify_dummy(&pw);
                    None
                }
            })
        })
        .await?;
    let Some(user) = user else {
        return Err(ApiError::InvalidCredentials);
    };
    state.login_throttle.succeeded(&username, &caller.client);
    let ctx = AuditCtx::of(caller).as_actor(
        Some(user.id.clone()),
        format!("{}:{}", user.role, user.username),
    );
    let st = state.clone();
    let tokens = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let t = issue(&st, conn, &user, None)?;
                audit::record(conn, &ctx, session_change("auth.login", &user))?;
                Ok(t)
            })
        })
        .await?;
    Ok(tokens)
}

/// Sign in
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password (which one is not said)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { username, password } = body.0;
    let tokens = sign_in(&state, &caller, username, password).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(tokens))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

enum RefreshOutcome {
    Issued(TokenResponse),
    Refused,
}

/// Exchange a refresh token for new tokens
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair; the old refresh token is spent", body = TokenResponse),
        (status = 401, description = "Unknown, expired or already used (reuse revokes the whole family), or the session is older than REGISTRY_SESSION_MAX_DAYS", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let hash = token::hash_refresh_token(body.0.refresh_token.trim());
    let st = state.clone();
    let base = AuditCtx::of(&caller);
    let outcome = state
        .db(move |conn| {
            // Refusals commit too: a reused token's family must stay revoked.
            write_tx(conn, |conn| {
                let Some(row) = tokens::find_refresh(conn, &hash)? else {
                    return Ok(RefreshOutcome::Refused);
                };
                let user = users::find(conn, &row.user_id)?.filter(|u| !u.disabled);
                let ctx = base
                    .clone()
                    .as_actor(Some(row.user_id.clone()), "refresh".into());
                let reused = row.used_at.is_some()
                    || row.revoked_at.is_some()
                    || tokens::mark_refresh_used(conn, &row.id)? == 0;
                if reused {
                    // A spent token came back: someone holds a copy. End the whole session.
                    tokens::revoke_family(conn, &row.family_id)?;
                    if let Some(u) = &user {
                        audit::record(
                            conn,
                            &ctx,
                            Change {
                                reason: Some("refresh token reused; family revoked"),
                                ..session_change("auth.refresh_reuse", u)
                            },
                        )?;
                    }
                    return Ok(RefreshOutcome::Refused);
                }
                let Some(user) = user else {
                    return Ok(RefreshOutcome::Refused);
                };
                let session = Session {
                    started: tokens::family_started(conn, &row.family_id)?
                        .unwrap_or(row.created_at),
                    family_id: row.family_id.clone(),
                };
                let now = crate::clock::now();
                if row.expires_at < now || session.ends(&st) <= now {
                    return Ok(RefreshOutcome::Refused);
                }
                let t = issue(&st, conn, &user, Some(session))?;
                audit::record(conn, &ctx, session_change("auth.refresh", &user))?;
                Ok(RefreshOutcome::Issued(t))
            })
        })
        .await?;
    match outcome {
        RefreshOutcome::Issued(t) => Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(t)),
        RefreshOutcome::Refused => Err(ApiError::InvalidToken),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LogoutRequest {
    /// Ends this session only; without it every session of the user ends.
    pub refresh_token: Option<String>,
}

/// Sign out
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    request_body(content = Option<LogoutRequest>, description = "Optional"),
    responses(
        (status = 204, description = "Refresh tokens revoked"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let req: Option<LogoutRequest> = if body.is_empty() {
        None
    } else {
        Some(crate::http::parse_json(&body)?)
    };
    let ctx = AuditCtx::of(&caller);
    let token = req.and_then(|r| r.refresh_token);
    state
        .db(move |conn| end_session(conn, &ctx, &actor, token.as_deref()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends the session a refresh token belongs to (if it is `actor`'s), or without a token every
/// session of the actor; audited as a sign-out. The API's logout and the console's come here.
pub fn end_session(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    actor: &crate::auth::Actor,
    refresh_token: Option<&str>,
) -> ApiResult<()> {
    write_tx(conn, |conn| {
        match refresh_token {
            Some(t) => {
                if let Some(row) = tokens::find_refresh(conn, &token::hash_refresh_token(t.trim()))?
                {
                    if row.user_id == actor.user_id {
                        tokens::revoke_family(conn, &row.family_id)?;
                    }
                }
            }
            None => {
                tokens::revoke_all_for_user(conn, &actor.user_id)?;
            }
        }
        audit::record(
            conn,
            ctx,
            Change {
                action: "auth.logout",
                entity_type: "user",
                entity_id: &actor.user_id,
                before: None,
                after: None,
                reason: None,
            },
        )?;
        Ok(())
    })
}

/// Who am I
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = UserView), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/auth/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let id = caller.actor()?.user_id.clone();
    let user = state
        .db(move |conn| Ok(users::find(conn, &id)?))
        .await?
        .ok_or(ApiError::InvalidToken)?;
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"current_password": "regulator-demo-2026", "new_password": "a much longer passphrase"}))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Change your own password. Every session of the account ends, this one included: its
/// refresh tokens are revoked and its access tokens are refused from the next request; sign in
/// again with the new password.
#[utoipa::path(
    post, path = "/api/v1/auth/password", tag = "auth",
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; all sessions of the account ended"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`current_password` is wrong, or `new_password` breaks the length rules", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong current passwords (the sign-in throttle)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let ChangePasswordRequest {
        current_password,
        new_password,
    } = body.0;
    let mut errors = crate::error::Errors::default();
    password::check_new(&mut errors, "new_password", &new_password);
    errors.finish()?;
    // Guessing the current password here is no way around the sign-in throttle.
    state
        .login_throttle
        .begin(&actor.username, &caller.client)
        .map_err(|retry_after_secs| {
            state.metrics.rate_limited("sign_in_throttle");
            ApiError::TooManyRequests { retry_after_secs }
        })?;
    let id = actor.user_id.clone();
    let user = state
        .db(move |conn| users::find(conn, &id)?.ok_or(ApiError::InvalidToken))
        .await?;
    let hash = web::block(move || {
        password::verify(&user.password_hash, &current_password)
            .then(|| password::hash(&new_password))
            .map(|h| (user, h))
    })
    .await?;
    let Some((user, hash)) = hash else {
        return Err(ApiError::Validation(vec![crate::error::FieldError::new(
            "current_password",
            "wrong_password",
            "this is not the account's current password",
        )]));
    };
    state
        .login_throttle
        .succeeded(&actor.username, &caller.client);
    let ctx = AuditCtx::of(&caller);
    state
        .db(move |conn| {
            write_tx(conn, |conn| {
                if users::update_guarded(conn, &user.id, user.version, user.disabled, &hash)? == 0 {
                    return Err(ApiError::conflict(
                        "concurrent_update",
                        "the account changed meanwhile; retry",
                    ));
                }
                tokens::revoke_all_for_user(conn, &user.id)?;
                audit::record(
                    conn,
                    &ctx,
                    Change {
                        reason: Some("password changed by its owner; all sessions ended"),
                        ..session_change("user.password_change", &user)
                    },
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
