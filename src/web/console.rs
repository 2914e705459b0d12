//! The console (`/console/`): the same service for people who work in it. A sign-in form opens a
//! session held in an HttpOnly, SameSite=Strict cookie (`auth::extract::SESSION_COOKIE`); every
//! form carries a token derived from that cookie, which another site can neither read nor
//! guess, so a forged post is refused. What a role may not do is not offered, and whatever is
//! posted goes through the same policy and services as the API.

use actix_web::cookie::{time::Duration as CookieAge, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::i18n::Tr;
use super::Reader;
use crate::applications::repo::{self as applications, AppFilter, ApplicationRow};
use crate::audit::{AuditCtx, ChainReport};
use crate::auth::extract::SESSION_COOKIE;
use crate::auth::policy::{visibility, Visibility};
use crate::auth::{Actor, Caller};
use crate::domain::{ApplicationKind, ApplicationState, EnterpriseStatus, Role};
use crate::enterprises::repo::EnterpriseRow;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::pagination::PageRequest;
use crate::products::repo::{ProductFilter, ProductRow};
use crate::records::certificates::{CertFilter, CertRow};
use crate::records::designations::{DesignationFilter, DesignationRow};
use crate::state::AppState;
use crate::users::repo::UserRow;

/// The cookie holding the sign-in form's own token (before there is a session to derive one
/// from).
const LOGIN_CSRF_COOKIE: &str = "registry_login_csrf";

/// The token every console form carries: derived from the session's secret cookie.
pub(super) fn form_token(session: &str) -> String {
    hex::encode(&Sha256::digest(format!("console-form\u{0}{session}"))[..16])
}

/// The session cookie's value, if any.
pub(super) fn session_of(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned())
}

/// A form token matches the session it was issued for (compared in constant time).
pub(super) fn token_matches(expected: &str, given: Option<&str>) -> bool {
    let Some(given) = given else { return false };
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The signed-in user and their session, or the way to the sign-in form.
pub(super) fn signed_in(
    req: &HttpRequest,
    caller: &Caller,
) -> Result<(Actor, String), Box<HttpResponse>> {
    match (caller.actor.clone(), session_of(req)) {
        (Some(actor), Some(session)) => Ok((actor, session)),
        _ => Err(Box::new(see_other("/console/login"))),
    }
}

/// As [`signed_in`], for a posted form: its token must be the session's (403 otherwise).
pub(super) fn posted(
    req: &HttpRequest,
    caller: &Caller,
    reader: &Reader,
    csrf: Option<&str>,
) -> Result<(Actor, String), Box<HttpResponse>> {
    let (actor, session) = signed_in(req, caller)?;
    if !token_matches(&form_token(&session), csrf) {
        return Err(Box::new(reader.failure(ApiError::Forbidden)));
    }
    Ok((actor, session))
}

/// Cookies are `Secure` when the registry is reached over TLS.
pub(super) fn secure(req: &HttpRequest, state: &AppState) -> bool {
    state.settings.hsts || req.connection_info().scheme() == "https"
}

/// A console cookie: HttpOnly, SameSite=Strict, for `/console` only.
pub(super) fn console_cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/console")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish()
}

/// The message of the error at `field` of a form (or inside it, `field[0]`, or in the
/// application's `details.field`), if there is one.
pub(super) fn field_error<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| {
            e.field == field
                || e.field.starts_with(&format!("{field}["))
                || e.field == format!("details.{field}")
        })
        .map(|e| e.message.as_str())
}

/// What a refused form says above itself — each field's message, a conflict's detail, the
/// state that forbids the step — with the status to answer; `Err` gives back the failures that
/// get a page of their own (not found, forbidden, unavailable).
pub(super) fn refusal(e: ApiError) -> Result<(String, StatusCode), ApiError> {
    use actix_web::ResponseError;
    let status = e.status_code();
    let said = match &e {
        ApiError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        ApiError::Conflict { detail, .. } | ApiError::Refused { detail, .. } => detail.clone(),
        ApiError::InvalidState { .. } => e.to_string(),
        _ => return Err(e),
    };
    Ok((said, status))
}

pub(super) fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A console page is private: no cache keeps it.
pub(super) fn private(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

#[derive(askama::Template)]
#[template(path = "web/console/login.html")]
struct LoginPage {
    t: Tr,
    csrf: String,
    username: String,
    error_key: Option<&'static str>,
}

#[get("/console/login")]
pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
) -> HttpResponse {
    login_page(&req, &state, &reader, StatusCode::OK, String::new(), None)
}

fn login_page(
    req: &HttpRequest,
    state: &AppState,
    reader: &Reader,
    status: StatusCode,
    username: String,
    error_key: Option<&'static str>,
) -> HttpResponse {
    let csrf = crate::auth::token::new_refresh_token();
    let mut res = reader.page(
        status,
        &LoginPage {
            t: reader.t,
            csrf: csrf.clone(),
            username,
            error_key,
        },
    );
    let _ = res.add_cookie(&console_cookie(LOGIN_CSRF_COOKIE, csrf, secure(req, state)));
    private(res)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: Option<String>,
    password: Option<String>,
    csrf: Option<String>,
}

/// Signs in with the API's own sign-in (throttle, audit) and opens a console session.
#[post("/console/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let username = form.username.unwrap_or_default();
    let expected = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned());
    if !expected.is_some_and(|e| token_matches(&e, form.csrf.as_deref())) {
        return login_page(
            &req,
            &state,
            &reader,
            StatusCode::FORBIDDEN,
            username,
            Some("console.form_expired"),
        );
    }
    let signed_in = crate::sessions::routes::sign_in(
        &state,
        &caller,
        username.clone(),
        form.password.unwrap_or_default(),
    )
    .await;
    match signed_in {
        Ok(tokens) => {
            let mut res = see_other("/console/");
            let age = CookieAge::seconds(
                i64::try_from(state.settings.session_max_age.as_secs()).unwrap_or(i64::MAX),
            );
            let mut session =
                console_cookie(SESSION_COOKIE, tokens.refresh_token, secure(&req, &state));
            session.set_max_age(age);
            let _ = res.add_cookie(&session);
            let mut used = Cookie::new(LOGIN_CSRF_COOKIE, "");
            used.set_path("/console");
            used.make_removal();
            let _ = res.add_cookie(&used);
            res
        }
        Err(ApiError::TooManyRequests { .. }) => login_page(
            &req,
            &state,
            &reader,
            StatusCode::TOO_MANY_REQUESTS,
            username,
            Some("console.too_many_attempts"),
        ),
        Err(ApiError::InvalidCredentials) => login_page(
            &req,
            &state,
            &reader,
            StatusCode::UNAUTHORIZED,
            username,
            Some("console.wrong_password"),
        ),
        Err(e) => reader.failure(e),
    }
}

/// A form that carries nothing but its token.
#[derive(Deserialize)]
pub struct TokenForm {
    pub(super) csrf: Option<String>,
}

/// Ends this console session (its refresh-token family), audited like an API sign-out.
#[post("/console/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    let Some(session) = session_of(&req) else {
        return see_other("/console/login");
    };
    if !token_matches(&form_token(&session), form.csrf.as_deref()) {
        return reader.failure(ApiError::Forbidden);
    }
    if let Some(actor) = caller.actor.clone() {
        let ctx = AuditCtx::of(&caller);
        let ended = state
            .db(move |conn| {
                crate::sessions::routes::end_session(conn, &ctx, &actor, Some(&session))
            })
            .await;
        if let Err(e) = ended {
            return reader.failure(e);
        }
    }
    let mut res = see_other("/console/login");
    let mut gone = Cookie::new(SESSION_COOKIE, "");
    gone.set_path("/console");
    gone.make_removal();
    let _ = res.add_cookie(&gone);
    res
}

/// What the console shows a signed-in user, by role.
#[derive(askama::Template)]
#[template(path = "web/console/home.html")]
struct HomePage {
    t: Tr,
    csrf: String,
    username: String,
    /// The signed-in user's id: the queue marks the reviews assigned to them.
    me: String,
    role: Role,
    enterprise: Option<EnterpriseRow>,
    products: Vec<ProductRow>,
    applications: Vec<ApplicationRow>,
    certificates: Vec<CertRow>,
    designations: Vec<DesignationRow>,
    /// The agency's applications in public notice, the soonest to end first.
    notices: Vec<ApplicationRow>,
    /// The agency's records ending within 90 days, the soonest first.
    expiring: Vec<Expiring>,
    today: chrono::NaiveDate,
    users: Vec<UserRow>,
    chain: Option<ChainReport>,
    /// May this user register products (the policy says so for their enterprise)?
    can_add_products: bool,
    /// The certification kinds this user may apply for (none unless the policy allows).
    apply_kinds: Vec<ApplicationKind>,
    /// Self-registrations waiting for market regulation, with their enterprises' names.
    pending: Vec<EnterpriseRow>,
}

/// A record that ends soon, for the deciding agency's list.
struct Expiring {
    id: String,
    kind: ApplicationKind,
    number: String,
    holder: String,
    until: chrono::NaiveDate,
}

/// How far ahead the console warns of an expiry.
const EXPIRY_HORIZON_DAYS: u64 = 90;

impl HomePage {
    /// Whether this application's review is the signed-in regulator's own.
    fn mine(&self, a: &ApplicationRow) -> bool {
        a.assigned_regulator_id.as_deref() == Some(self.me.as_str())
    }

    /// The expiry band a date falls in, as a message key: within 7, 30 or 90 days.
    fn expiry_band(&self, until: &chrono::NaiveDate) -> Option<&'static str> {
        match (*until - self.today).num_days() {
            0..=7 => Some("console.expires_7"),
            8..=30 => Some("console.expires_30"),
            31..=90 => Some("console.expires_90"),
            _ => None,
        }
    }
}

/// The agency's certificates and designations in force that end within the horizon.
fn expiring(
    conn: &mut crate::db::DbConn,
    vis: &Visibility,
    agency: crate::domain::Agency,
) -> ApiResult<Vec<Expiring>> {
    let by = crate::clock::today() + chrono::Days::new(EXPIRY_HORIZON_DAYS);
    let mut out = Vec::new();
    for kind in crate::reference::kinds::decided_by(conn, agency)? {
        let certs = crate::records::certificates::list(
            conn,
            vis,
            &CertFilter {
                kind: Some(kind),
                expiring_by: Some(by),
                ..CertFilter::default()
            },
            &first_page(),
        )?;
        out.extend(certs.into_iter().map(|c| Expiring {
            holder: crate::records::certified::Certified::parse(&c.certified).holder_name,
            id: c.id,
            kind: c.kind,
            number: c.certificate_number,
            until: c.expires_on,
        }));
        let designations = crate::records::designations::list(
            conn,
            vis,
            &DesignationFilter {
                kind: Some(kind),
                expiring_by: Some(by),
                ..DesignationFilter::default()
            },
            &first_page(),
        )?;
        out.extend(designations.into_iter().filter_map(|d| {
            Some(Expiring {
                holder: crate::records::certified::Certified::parse(&d.certified).holder_name,
                until: d.valid_until?,
                id: d.id,
                kind: d.kind,
                number: d.number,
            })
        }));
    }
    out.sort_by(|a, b| a.until.cmp(&b.until).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

/// The console's front page: an enterprise's own register, a regulator's work queue, an
/// admin's users and the audit chain's state.
#[get("/console/")]
pub async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
) -> HttpResponse {
    let (actor, session) = or_answer!(signed_in(&req, &caller));
    let loaded = state.db(move |conn| dashboard(conn, &actor)).await;
    match loaded {
        Ok(mut page) => {
            page.t = reader.t;
            page.csrf = form_token(&session);
            private(reader.page(StatusCode::OK, &page))
        }
        Err(e) => reader.failure(e),
    }
}

/// Market regulation verifies a pending self-registration from its queue.
#[post("/console/enterprises/{id}/verify")]
pub async fn verify_enterprise(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    let (actor, _) = or_answer!(posted(&req, &caller, &reader, form.csrf.as_deref()));
    let ctx = AuditCtx::of(&caller);
    let id = id.into_inner();
    match state
        .db(move |conn| crate::enterprises::service::verify(conn, &actor, &ctx, &id))
        .await
    {
        Ok(_) => see_other("/console/"),
        Err(e) => reader.failure(e),
    }
}

#[get("/console")]
pub async fn home_redirect() -> HttpResponse {
    see_other("/console/")
}

/// The console shows the first hundred of each list (the API pages through the rest).
fn first_page() -> PageRequest {
    PageRequest {
        limit: 99,
        after: None,
    }
}

fn dashboard(conn: &mut crate::db::DbConn, actor: &Actor) -> ApiResult<HomePage> {
    use crate::auth::{check, Action, Target};
    let mut page = HomePage {
        t: Tr::new(super::i18n::Lang::Zh),
        csrf: String::new(),
        username: actor.username.clone(),
        me: actor.user_id.clone(),
        role: actor.role,
        enterprise: None,
        products: Vec::new(),
        applications: Vec::new(),
        certificates: Vec::new(),
        designations: Vec::new(),
        notices: Vec::new(),
        expiring: Vec::new(),
        today: crate::clock::today(),
        users: Vec::new(),
        chain: None,
        can_add_products: false,
        apply_kinds: Vec::new(),
        pending: Vec::new(),
    };
    let vis: Visibility = visibility(Some(actor));
    match actor.role {
        Role::Enterprise => {
            let Some(own) = actor.enterprise_id.clone() else {
                return Ok(page);
            };
            page.enterprise = crate::enterprises::repo::find(conn, &own)?;
            let status = page.enterprise.as_ref().map(|e| e.status);
            page.can_add_products = check(
                Some(actor),
                Action::ManageProducts,
                Target::owned_by(&own, status),
            )
            .is_ok();
            if check(
                Some(actor),
                Action::ManageApplication,
                Target::owned_by(&own, status),
            )
            .is_ok()
            {
                page.apply_kinds = super::console_applications::offered_kinds(conn)?;
            }
            page.products = crate::products::repo::list(
                conn,
                &vis,
                &ProductFilter {
                    enterprise_id: Some(own.clone()),
                    ..ProductFilter::default()
                },
                &first_page(),
            )?;
            page.applications = applications::list(
                conn,
                &vis,
                &AppFilter {
                    enterprise_id: Some(own.clone()),
                    ..AppFilter::default()
                },
                &first_page(),
            )?;
            page.certificates = crate::records::certificates::list(
                conn,
                &vis,
                &CertFilter {
                    enterprise_id: Some(own.clone()),
                    ..CertFilter::default()
                },
                &first_page(),
            )?;
            page.designations = crate::records::designations::list(
                conn,
                &vis,
                &DesignationFilter {
                    enterprise_id: Some(own),
                    ..DesignationFilter::default()
                },
                &first_page(),
            )?;
        }
        Role::Regulator => {
            if check(Some(actor), Action::VerifyEnterprise, Target::default()).is_ok() {
                page.pending = crate::enterprises::repo::list(
                    conn,
                    &vis,
                    &crate::enterprises::repo::EnterpriseFilter {
                        status: Some(EnterpriseStatus::Pending),
                        ..Default::default()
                    },
                    &first_page(),
                )?;
            }
            // The agency's queue: what waits for a decision.
            for waiting in [ApplicationState::Submitted, ApplicationState::UnderReview] {
                page.applications.extend(applications::list(
                    conn,
                    &vis,
                    &AppFilter {
                        state: Some(waiting),
                        agency: actor.agency,
                        ..AppFilter::default()
                    },
                    &first_page(),
                )?);
            }
            page.notices = applications::list(
                conn,
                &vis,
                &AppFilter {
                    state: Some(ApplicationState::InPublicNotice),
                    agency: actor.agency,
                    ..AppFilter::default()
                },
                &first_page(),
            )?;
            page.notices.sort_by_key(|a| a.notice_ends_at);
            if let Some(agency) = actor.agency {
                page.expiring = expiring(conn, &vis, agency)?;
            }
        }
        // A developer's console is its API clients (`/console/api-clients`), linked from home.
        Role::Developer => {}
        Role::Admin => {
            check(Some(actor), Action::ManageUsers, Target::default())?;
            page.users = crate::users::repo::list(conn, None, &first_page())?;
            page.chain = Some(crate::audit::verify_chain(conn)?);
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_token_belongs_to_its_session() {
        let a = form_token("session-a");
        assert!(token_matches(&a, Some(&a)));
        assert!(!token_matches(&a, Some(&form_token("session-b"))));
        assert!(!token_matches(&a, None));
        assert!(!token_matches(&a, Some("")));
    }
}
