//! Admin management of accounts: `/api/v1/users`.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::repo;
use super::service::{self, NewUser, UserView};
use crate::audit::{self, AuditCtx, Change};
use crate::auth::{check, password, Action, Caller, Target};
use crate::db::write_tx;
use crate::domain::Role;
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::{check_if_match, created_versioned, if_match, ok_versioned, Json};
use crate::pagination::PageRequest;
use crate::state::AppState;

crate::page_type!(UserPage, UserView);

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "qh_agri_02", "password": "a long passphrase", "role": "regulator", "agency_code": "agriculture"}))]
pub struct CreateUserRequest {
    pub username: String,
    /// At least 10 characters.
    pub password: String,
    /// `admin`, `regulator` or `enterprise`.
    pub role: String,
    /// Required for regulators.
    pub agency_code: Option<String>,
    /// Required for enterprise users.
    pub enterprise_id: Option<String>,
}

/// Create an account (admins)
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Username taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateUserRequest>,
) -> ApiResult<HttpResponse> {
    let row = create(&state, &caller, body.0).await?;
    Ok(created_versioned(
        &UserView::from(&row),
        row.version,
        format!("/api/v1/users/{}", row.id),
    ))
}

/// Creates an account (admins): the password is checked and hashed off the async threads.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    body: CreateUserRequest,
) -> ApiResult<repo::UserRow> {
    check(
        caller.actor.as_ref(),
        Action::ManageUsers,
        Target::default(),
    )?;
    let mut errors = Errors::new();
    password::check_new(&mut errors, "password", &body.password);
    let new = NewUser::parse(
        &mut errors,
        &body.username,
        &body.role,
        body.agency_code.as_deref(),
        body.enterprise_id.as_deref(),
    );
    errors.finish()?;
    let new =
        new.ok_or_else(|| ApiError::Internal("parse returned nothing without errors".into()))?;
    let hash = web::block(move || password::hash(&body.password)).await?;
    let ctx = AuditCtx::of(caller);
    let row = state
        .db(move |conn| write_tx(conn, |conn| service::create(conn, &ctx, new, hash)))
        .await?;
    Ok(row)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// Only users of this role.
    pub role: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List accounts (admins)
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    params(ListUsersQuery),
    responses(
        (status = 200, body = UserPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListUsersQuery>,
) -> ApiResult<HttpResponse> {
    check(
        caller.actor.as_ref(),
        Action::ManageUsers,
        Target::default(),
    )?;
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    let role = match q.role.as_deref() {
        Some(r) => errors
            .take("role", crate::domain::Role::parse(r))
            .map(|r| r.as_str()),
        None => None,
    };
    errors.finish()?;
    let p = page.clone();
    let rows = state
        .db(move |conn| Ok(repo::list(conn, role, &p)?))
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| &r.id);
    Ok(HttpResponse::Ok().json(UserPage {
        items: rows.iter().map(UserView::from).collect(),
        next_cursor,
    }))
}

/// Get an account
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, body = UserView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    check(
        caller.actor.as_ref(),
        Action::ManageUsers,
        Target::default(),
    )?;
    let id = id.into_inner();
    let row = state
        .db(move |conn| Ok(repo::find(conn, &id)?))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(ok_versioned(&UserView::from(&row), row.version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"disabled": true}))]
pub struct UpdateUserRequest {
    /// `true` disables the account: its tokens stop working at once.
    pub disabled: Option<bool>,
    /// Sets a new password (at least 10 characters).
    pub password: Option<String>,
}

/// Disable, re-enable or reset an account (admins)
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id"), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = UserView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed concurrently", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UpdateUserRequest>,
) -> ApiResult<HttpResponse> {
    let expected = if_match(&req)?;
    let row = update(&state, &caller, id.into_inner(), expected, body.0).await?;
    Ok(ok_versioned(&UserView::from(&row), row.version))
}

/// Disables, re-enables or resets an account (admins). Sessions end with the account and with
/// a reset; an admin cannot disable themselves, nor the last active admin.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: String,
    expected: Option<i32>,
    body: UpdateUserRequest,
) -> ApiResult<repo::UserRow> {
    check(
        caller.actor.as_ref(),
        Action::ManageUsers,
        Target::default(),
    )?;
    let mut errors = Errors::new();
    if let Some(p) = &body.password {
        password::check_new(&mut errors, "password", p);
    }
    errors.finish()?;
    let new_hash = match body.password {
        Some(p) => Some(web::block(move || password::hash(&p)).await?),
        None => None,
    };
    let ctx = AuditCtx::of(caller);
    let acting = caller.actor.as_ref().map(|a| a.user_id.clone());
    let row = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let before = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                check_if_match(expected, before.version)?;
                let disabled = body.disabled.unwrap_or(before.disabled);
                if disabled && !before.disabled {
                    // Someone must always be able to manage accounts.
                    if acting.as_deref() == Some(id.as_str()) {
                        return Err(ApiError::conflict(
                            "cannot_disable_self",
                            "an admin cannot disable their own account",
                        ));
                    }
                    if before.role == Role::Admin && repo::active_admins_except(conn, &id)? == 0 {
                        return Err(ApiError::conflict(
                            "last_admin",
                            "the last active admin cannot be disabled",
                        ));
                    }
                }
                let hash = new_hash
                    .clone()
                    .unwrap_or_else(|| before.password_hash.clone());
                if repo::update_guarded(conn, &id, before.version, disabled, &hash)? == 0 {
                    return Err(ApiError::conflict(
                        "concurrent_update",
                        "the user changed meanwhile; reload and retry",
                    ));
                }
                if disabled || new_hash.is_some() {
                    // Sessions end with the account, and with a password reset; access tokens
                    // of a disabled account fail at the next request.
                    crate::auth::refresh::revoke_all_for_user(conn, &id)?;
                }
                let after = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                let action = match (before.disabled, after.disabled) {
                    (false, true) => "user.disable",
                    (true, false) => "user.enable",
                    _ => "user.update",
                };
                audit::record(
                    conn,
                    &ctx,
                    Change {
                        action,
                        entity_type: "user",
                        entity_id: &id,
                        before: serde_json::to_value(UserView::from(&before)).ok(),
                        after: serde_json::to_value(UserView::from(&after)).ok(),
                        reason: new_hash.is_some().then_some("password changed"),
                    },
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(row)
}
