//! The console's administration: accounts (create, disable, re-enable, reset a password) and
//! API clients (register with the key shown once, revoke), through the same functions as
//! `/api/v1/users` and `/api/v1/api-clients` — the policy (admins only), the password rules,
//! the last-admin guard and the audit trail are theirs.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::console::{
    field_error, form_token, posted, private, refusal, see_other, signed_in, TokenForm,
};
use super::i18n::Tr;
use super::Reader;
use crate::api_clients::limits::Limits;
use crate::api_clients::repo::ApiClientRow;
use crate::api_clients::routes::{self as clients, CreateApiClientRequest, CreatedApiClient};
use crate::auth::{check, Action, Caller, Target};
use crate::domain::{Agency, Role};
use crate::error::{ApiError, ApiResult, Errors, FieldError};
use crate::pagination::PageRequest;
use crate::state::AppState;
use crate::users::repo::UserRow;
use crate::users::routes::{self as users, CreateUserRequest, UpdateUserRequest};

#[derive(Deserialize)]
pub struct PageQuery {
    cursor: Option<String>,
}

/// A page of a list and the link to the next, as the API pages it.
fn page_of(cursor: Option<&str>) -> ApiResult<PageRequest> {
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, Some("50"), cursor);
    errors.finish()?;
    Ok(page)
}

#[derive(Debug, Default, Deserialize)]
pub struct NewUserForm {
    csrf: Option<String>,
    username: Option<String>,
    password: Option<String>,
    role: Option<String>,
    agency_code: Option<String>,
    enterprise_id: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/console/users.html")]
struct UsersPage {
    t: Tr,
    csrf: String,
    users: Vec<UserRow>,
    next: Option<String>,
    form: NewUserForm,
    errors: Vec<FieldError>,
    /// What happened to one account (or why it could not), shown above the list.
    notice: Option<String>,
    roles: &'static [Role],
    agencies: &'static [Agency],
}

impl UsersPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }

    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

#[allow(clippy::too_many_arguments)]
async fn users_page(
    state: &AppState,
    reader: &Reader,
    caller: &Caller,
    session: &str,
    cursor: Option<String>,
    form: NewUserForm,
    errors: Vec<FieldError>,
    notice: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let actor = caller.actor.clone();
    let listed = state
        .db(move |conn| {
            check(actor.as_ref(), Action::ManageUsers, Target::default())?;
            let page = page_of(cursor.as_deref())?;
            let rows = crate::users::repo::list(conn, None, &page)?;
            Ok(page.finish(rows, |u| &u.id))
        })
        .await;
    match listed {
        Ok((users, next)) => private(reader.page(
            status,
            &UsersPage {
                t: reader.t,
                csrf: form_token(session),
                users,
                next,
                form,
                errors,
                notice,
                roles: Role::ALL,
                agencies: Agency::ALL,
            },
        )),
        Err(e) => reader.failure(e),
    }
}

/// The accounts, a form to create one, and each account's actions.
#[get("/console/users")]
pub async fn users_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    q: web::Query<PageQuery>,
) -> HttpResponse {
    let (_, session) = or_answer!(signed_in(&req, &caller));
    users_page(
        &state,
        &reader,
        &caller,
        &session,
        q.into_inner().cursor,
        NewUserForm::default(),
        Vec::new(),
        None,
        StatusCode::OK,
    )
    .await
}

#[post("/console/users")]
pub async fn create_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    form: web::Form<NewUserForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (_, session) = or_answer!(posted(&req, &caller, &reader, form.csrf.as_deref()));
    let blank_none = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let request = CreateUserRequest {
        username: form.username.clone().unwrap_or_default(),
        password: form.password.clone().unwrap_or_default(),
        role: form.role.clone().unwrap_or_default(),
        agency_code: blank_none(&form.agency_code),
        enterprise_id: blank_none(&form.enterprise_id),
    };
    let (errors, notice, status) = match users::create(&state, &caller, request).await {
        Ok(_) => return see_other("/console/users"),
        Err(ApiError::Validation(fields)) => (fields, None, StatusCode::UNPROCESSABLE_ENTITY),
        Err(ApiError::Conflict { detail, .. }) => (
            vec![FieldError::new("username", "taken", detail)],
            None,
            StatusCode::CONFLICT,
        ),
        Err(e) => return reader.failure(e),
    };
    // The password is never shown back.
    let kept = NewUserForm {
        password: None,
        ..form
    };
    users_page(
        &state, &reader, &caller, &session, None, kept, errors, notice, status,
    )
    .await
}

#[derive(Deserialize)]
pub struct AccountForm {
    csrf: Option<String>,
    /// `disable`, `enable` or `reset`.
    action: Option<String>,
    password: Option<String>,
}

/// Disables, re-enables, or resets the password of an account.
#[post("/console/users/{id}")]
pub async fn update_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
    form: web::Form<AccountForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (_, session) = or_answer!(posted(&req, &caller, &reader, form.csrf.as_deref()));
    let request = match form.action.as_deref() {
        Some("disable") => UpdateUserRequest {
            disabled: Some(true),
            password: None,
        },
        Some("enable") => UpdateUserRequest {
            disabled: Some(false),
            password: None,
        },
        Some("reset") => UpdateUserRequest {
            disabled: None,
            password: Some(form.password.unwrap_or_default()),
        },
        _ => {
            return reader.failure(ApiError::field(
                "action",
                "invalid_value",
                "disable, enable or reset",
            ))
        }
    };
    let t = reader.t;
    let (notice, status) =
        match users::update(&state, &caller, id.into_inner(), None, request).await {
            Ok(row) => (
                format!("{} · {}", row.username, t.get("console.account_updated")),
                StatusCode::OK,
            ),
            Err(e) => match refusal(e) {
                Ok(said) => said,
                Err(e) => return reader.failure(e),
            },
        };
    users_page(
        &state,
        &reader,
        &caller,
        &session,
        None,
        NewUserForm::default(),
        Vec::new(),
        Some(notice),
        status,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct NewClientForm {
    csrf: Option<String>,
    name: Option<String>,
    contact: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/console/api_clients.html")]
struct ClientsPage {
    t: Tr,
    csrf: String,
    clients: Vec<ApiClientRow>,
    next: Option<String>,
    form: NewClientForm,
    errors: Vec<FieldError>,
    /// A client just registered, with its key: shown this once.
    created: Option<CreatedApiClient>,
}

impl ClientsPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }

    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

#[allow(clippy::too_many_arguments)]
async fn clients_page(
    state: &AppState,
    reader: &Reader,
    caller: &Caller,
    session: &str,
    cursor: Option<String>,
    form: NewClientForm,
    errors: Vec<FieldError>,
    created: Option<CreatedApiClient>,
    status: StatusCode,
) -> HttpResponse {
    let actor = caller.actor.clone();
    let listed = state
        .db(move |conn| {
            // Admins see every app; anyone else its own (as `GET /api/v1/api-clients`).
            let actor = actor.ok_or(ApiError::Unauthenticated)?;
            let owner = check(Some(&actor), Action::ManageUsers, Target::default())
                .is_err()
                .then_some(actor.user_id.as_str());
            let page = page_of(cursor.as_deref())?;
            let rows = crate::api_clients::repo::list(conn, owner, &page)?;
            Ok(page.finish(rows, |c| &c.id))
        })
        .await;
    match listed {
        Ok((clients, next)) => private(reader.page(
            status,
            &ClientsPage {
                t: reader.t,
                csrf: form_token(session),
                clients,
                next,
                form,
                errors,
                created,
            },
        )),
        Err(e) => reader.failure(e),
    }
}

#[get("/console/api-clients")]
pub async fn clients_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    q: web::Query<PageQuery>,
) -> HttpResponse {
    let (_, session) = or_answer!(signed_in(&req, &caller));
    clients_page(
        &state,
        &reader,
        &caller,
        &session,
        q.into_inner().cursor,
        NewClientForm::default(),
        Vec::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// Registers an app; the page that answers shows its key, once.
#[post("/console/api-clients")]
pub async fn create_client(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    form: web::Form<NewClientForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (_, session) = or_answer!(posted(&req, &caller, &reader, form.csrf.as_deref()));
    let request = CreateApiClientRequest {
        name: form.name.clone().unwrap_or_default(),
        contact: form.contact.clone().unwrap_or_default(),
        purpose: String::new(),
        quota_per_min: None,
    };
    let (form, errors, created, status) = match clients::register(&state, &caller, &request).await {
        Ok(created) => (
            NewClientForm::default(),
            Vec::new(),
            Some(created),
            StatusCode::CREATED,
        ),
        Err(ApiError::Validation(fields)) => (form, fields, None, StatusCode::UNPROCESSABLE_ENTITY),
        Err(e) => return reader.failure(e),
    };
    clients_page(
        &state, &reader, &caller, &session, None, form, errors, created, status,
    )
    .await
}

#[post("/console/api-clients/{id}/revoke")]
pub async fn revoke_client(
    req: HttpRequest,
    state: web::Data<AppState>,
    limits: web::Data<Limits>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    if let Err(res) = posted(&req, &caller, &reader, form.csrf.as_deref()) {
        return *res;
    }
    match clients::revoke(&state, &limits, &caller, id.into_inner()).await {
        Ok(()) => see_other("/console/api-clients"),
        Err(e) => reader.failure(e),
    }
}
