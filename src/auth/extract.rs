//! The `Caller` extractor: who is calling (if anyone), the request id, the client address.

use actix_web::dev::Payload;
use actix_web::{http::header, web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::policy::Actor;
use crate::audit::AuditCtx;
use crate::domain::Role;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::users::repo as users_repo;

/// The id of this request: the caller's `X-Request-Id` when sane, else a new UUIDv7.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub struct Caller {
    pub actor: Option<Actor>,
    pub request_id: String,
    pub client: String,
}

impl Caller {
    /// The authenticated actor, or 401.
    pub fn actor(&self) -> ApiResult<&Actor> {
        self.actor.as_ref().ok_or(ApiError::Unauthenticated)
    }

    pub fn audit(&self) -> AuditCtx {
        match &self.actor {
            Some(a) => AuditCtx {
                actor_id: Some(a.user_id.clone()),
                actor_label: format!("{}:{}", a.role, a.username),
                request_id: Some(self.request_id.clone()),
            },
            None => AuditCtx {
                actor_id: None,
                actor_label: "anonymous".into(),
                request_id: Some(self.request_id.clone()),
            },
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        // The TCP peer, not X-Forwarded-For, which any client can forge.
        let client = req
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
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
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            let Some(token) = bearer? else {
                return Ok(Caller {
                    actor: None,
                    request_id,
                    client,
                });
            };
            // A bad token is an error even on public endpoints: silently serving the public view
            // would hide an expired session from the client.
            let claims = state
                .keys
                .verify_access(&token)
                .ok_or(ApiError::InvalidToken)?;
            let user = state
                .db(move |conn| Ok(users_repo::find(conn, &claims.sub)?))
                .await?;
            let user = user.filter(|u| !u.disabled).ok_or(ApiError::InvalidToken)?;
            let role = Role::parse(&user.role).map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(Caller {
                actor: Some(Actor {
                    user_id: user.id,
                    username: user.username,
                    role,
                    agency_code: user.agency_code,
                    enterprise_id: user.enterprise_id,
                }),
                request_id,
                client,
            })
        })
    }
}
