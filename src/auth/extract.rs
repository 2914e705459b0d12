//! The `Caller` extractor: who is calling (if anyone), the request id, the client address.

use actix_web::dev::Payload;
use actix_web::{http::header, web, FromRequest, HttpMessage, HttpRequest};
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;

use std::sync::Arc;

use super::policy::Actor;
use super::token::Keys;
use crate::db::schema::{refresh_tokens, users};
use crate::db::{DbConn, DbPool};
use crate::error::{ApiError, ApiResult};
use crate::signing::Checkpointer;

/// The id of this request: the caller's `X-Request-Id` when sane, else a new UUIDv7.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub struct Caller {
    pub actor: Option<Actor>,
    pub request_id: String,
    pub client: String,
    /// Signs audit checkpoints for what this request writes (registered by `startup`).
    pub checkpointer: Option<Arc<Checkpointer>>,
}

impl Caller {
    /// The authenticated actor, or 401.
    pub fn actor(&self) -> ApiResult<&Actor> {
        self.actor.as_ref().ok_or(ApiError::Unauthenticated)
    }
}

/// The signed-in user behind a token, unless disabled or the token's session was ended: read
/// on every request, so disabling a user, changing their role, signing out or changing a
/// password takes effect at once, on every instance.
fn load_actor(
    conn: &mut DbConn,
    user_id: &str,
    session_id: &str,
) -> diesel::QueryResult<Option<Actor>> {
    let session_ended = refresh_tokens::table
        .filter(refresh_tokens::family_id.eq(session_id.to_owned()))
        .filter(refresh_tokens::revoked_at.is_not_null());
    users::table
        .find(user_id)
        .filter(users::disabled.eq(false))
        .filter(diesel::dsl::not(diesel::dsl::exists(session_ended)))
        .select((
            users::id,
            users::username,
            users::role,
            users::agency_code,
            users::enterprise_id,
        ))
        .first::<Actor>(conn)
        .optional()
}

/// The console's session cookie: a refresh token of a session opened by the sign-in form. The
/// console never rotates it; it holds while the token is unused, unrevoked and unexpired, so
/// signing out, a password change or disabling the user ends it like any API session.
pub const SESSION_COOKIE: &str = "registry_session";

/// The signed-in user behind a console session cookie, if the session still holds.
fn load_console_actor(conn: &mut DbConn, token: &str) -> diesel::QueryResult<Option<Actor>> {
    let hash = super::token::hash_refresh_token(token);
    let Some(row) = super::refresh::find_refresh(conn, &hash)? else {
        return Ok(None);
    };
    if row.revoked_at.is_some() || row.used_at.is_some() || row.expires_at <= crate::clock::now() {
        return Ok(None);
    }
    load_actor(conn, &row.user_id, &row.family_id)
}

/// The client's address as resolved on arrival (`crate::net`), else the TCP peer.
pub fn client_addr(req: &HttpRequest) -> std::net::IpAddr {
    req.extensions()
        .get::<crate::net::ClientAddr>()
        .map(|c| c.0)
        .or_else(|| req.peer_addr().map(|a| a.ip()))
        .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Registered by `startup` beside the application state, so this core module needs no
        // feature's types.
        let keys = req.app_data::<web::Data<Keys>>().cloned();
        let pool = req.app_data::<web::Data<DbPool>>().cloned();
        let checkpointer = req
            .app_data::<web::Data<Checkpointer>>()
            .map(|c| c.clone().into_inner());
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        // Set on arrival from the TCP peer and, behind a trusted proxy only, its forwarding
        // headers (`crate::net`).
        let client = client_addr(req).to_string();
        let bearer = match req.headers().get(header::AUTHORIZATION).map(|v| v.to_str()) {
            None => Ok(None),
            Some(Ok(v)) => match v.split_once(' ') {
                Some((scheme, token))
                    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
                {
                    Ok(Some(token.trim().to_owned()))
                }
                _ => Err(ApiError::InvalidToken),
            },
            Some(Err(_)) => Err(ApiError::InvalidToken),
        };
        // Only the console's pages read the session cookie: the API is never driven by a
        // cookie, so no other site can make a browser call it on someone's behalf.
        let session = (req.path() == "/console" || req.path().starts_with("/console/"))
            .then(|| req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()))
            .flatten();
        Box::pin(async move {
            let (Some(keys), Some(pool)) = (keys, pool) else {
                return Err(ApiError::Internal("token keys or pool missing".into()));
            };
            if let (Ok(None), Some(session)) = (&bearer, session) {
                let actor = web::block(move || -> ApiResult<Option<Actor>> {
                    let mut conn = pool.get()?;
                    Ok(load_console_actor(&mut conn, &session)?)
                })
                .await??;
                return Ok(Caller {
                    actor,
                    request_id,
                    client,
                    checkpointer,
                });
            }
            let Some(token) = bearer? else {
                return Ok(Caller {
                    actor: None,
                    request_id,
                    client,
                    checkpointer,
                });
            };
            // A bad token is an error even on public endpoints: silently serving the public view
            // would hide an expired session from the client.
            let claims = keys.verify_access(&token).ok_or(ApiError::InvalidToken)?;
            let actor = web::block(move || -> ApiResult<Option<Actor>> {
                let mut conn = pool.get()?;
                Ok(load_actor(&mut conn, &claims.sub, &claims.sid)?)
            })
            .await??
            .ok_or(ApiError::InvalidToken)?;
            Ok(Caller {
                actor: Some(actor),
                request_id,
                client,
                checkpointer,
            })
        })
    }
}
