//! `POST /api/v1/auth/register`: an enterprise signs itself up (pending until verified).

use actix_web::{post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::AuditCtx;
use crate::auth::{password, Caller};
use crate::db::write_tx;
use crate::domain::{EnterpriseStatus, Role};
use crate::enterprises::service::{
    self as enterprises, EnterpriseInput, EnterpriseView, NewEnterprise,
};
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::Json;
use crate::state::AppState;
use crate::users::service::{self as user_service, NewUser, UserView};

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "username": "chaidamu_goji", "password": "a long passphrase",
    "enterprise": {"uscc": "914403001922038216", "name": "柴达木示例枸杞有限公司", "legal_representative": "王示例",
        "region_code": "632800", "address": "德令哈市示例路 1 号", "sectors": ["food"], "scale": "small",
        "contact_phone": "0977-8200000", "contact_email": "contact@example.com"}
}))]
pub struct RegisterRequest {
    pub username: String,
    /// At least 10 characters.
    pub password: String,
    pub enterprise: EnterpriseInput,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    pub user: UserView,
    /// In status `pending` until the market-regulation agency verifies it.
    pub enterprise: EnterpriseView,
}

/// Signs an enterprise up: its user and its pending record, checked like every write (the API's
/// `POST /auth/register` and the console's sign-up form both come here).
pub async fn sign_up(
    state: &web::Data<AppState>,
    caller: &Caller,
    b: RegisterRequest,
) -> ApiResult<(crate::users::repo::UserRow, EnterpriseView)> {
    let mut errors = Errors::new();
    password::check_new(&mut errors, "password", &b.password);
    let user = NewUser::parse(
        &mut errors,
        &b.username,
        Role::Enterprise.as_str(),
        None,
        Some("pending"),
    );
    let ent = NewEnterprise::parse(&mut errors, "enterprise.", &b.enterprise, None);
    errors.finish()?;
    let (Some(user), Some(ent)) = (user, ent) else {
        return Err(ApiError::Internal("validated input missing".into()));
    };
    // Cheap refusals first: a taken name or code must not cost a password hash.
    let (username, uscc) = (user.username.clone(), ent.uscc.clone());
    let claim = enterprises::Claim::SelfRegistration {
        stale_before: state.settings.pending_stale_before(),
    };
    state
        .db(move |conn| {
            user_service::ensure_username_free(conn, &username)?;
            enterprises::ensure_uscc_free(conn, &uscc, claim).map(drop)
        })
        .await?;
    let pw = b.password;
    let hash = web::block(move || password::hash(&pw)).await?;
    let ctx = AuditCtx::of(caller).as_actor(None, format!("self-registration:{}", user.username));
    let (user, ent) = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let ent = enterprises::create(
                    conn,
                    &ctx,
                    ent,
                    EnterpriseStatus::Pending,
                    "enterprise.",
                    claim,
                )?;
                let user = user_service::create(
                    conn,
                    &ctx,
                    NewUser {
                        enterprise_id: Some(ent.id.clone()),
                        ..user
                    },
                    hash,
                )?;
                let ent = enterprises::views(conn, &[ent], |_| true)?.remove(0);
                Ok((user, ent))
            })
        })
        .await?;
    Ok((user, ent))
}

/// Sign up an enterprise
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = RegisterResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Username or USCC taken (checked before the password is hashed)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (e.g. `enterprise.uscc` failing its check character)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Past REGISTRY_FILING_RATE_PER_MIN for this address; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let (user, ent) = sign_up(&state, &caller, body.0).await?;
    let location = format!("/api/v1/enterprises/{}", ent.id);
    Ok(HttpResponse::Created()
        .insert_header(("Location", location))
        .json(RegisterResponse {
            user: UserView::from(&user),
            enterprise: ent,
        }))
}
