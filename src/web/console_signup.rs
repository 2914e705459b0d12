//! The console's sign-up form: an enterprise registers itself and its first user, pending until
//! market regulation verifies it — the API's own sign-up (`enterprises::registration::sign_up`).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::console::{console_cookie, field_error, private, secure, token_matches};
use super::i18n::Tr;
use super::Reader;
use crate::auth::Caller;
use crate::domain::{Scale, Sector};
use crate::enterprises::registration::{sign_up, RegisterRequest};
use crate::enterprises::service::EnterpriseInput;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// The sign-up form's own token, matched against its cookie (there is no session yet).
const SIGNUP_CSRF_COOKIE: &str = "registry_signup_csrf";

/// The form as typed; `sector` may repeat (one checkbox per sector).
#[derive(Debug, Default)]
pub struct SignupForm {
    values: Vec<(String, String)>,
}

impl SignupForm {
    fn get(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

#[derive(askama::Template)]
#[template(path = "web/console/signup.html")]
struct SignupPage {
    t: Tr,
    csrf: String,
    form: SignupForm,
    errors: Vec<FieldError>,
    sectors: Vec<(&'static str, &'static str)>,
    scales: Vec<&'static str>,
    done: bool,
}

impl SignupPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }

    fn checked(&self, sector: &str) -> bool {
        self.form.all("sector").iter().any(|s| s == sector)
    }

    /// The text fields: form name, label key, input type, autocomplete.
    fn text_fields(&self) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
        vec![
            ("username", "console.username", "text", "username"),
            ("password", "console.password", "password", "new-password"),
            ("enterprise.uscc", "verify.uscc", "text", "off"),
            (
                "enterprise.name",
                "console.enterprise_name",
                "text",
                "organization",
            ),
            (
                "enterprise.legal_representative",
                "console.legal_representative",
                "text",
                "name",
            ),
            ("enterprise.region_code", "home.region_label", "text", "off"),
            (
                "enterprise.address",
                "console.address",
                "text",
                "street-address",
            ),
            (
                "enterprise.contact_phone",
                "console.contact_phone",
                "tel",
                "tel",
            ),
            (
                "enterprise.contact_email",
                "console.contact_email",
                "email",
                "email",
            ),
        ]
    }

    fn scale_key(&self, scale: &str) -> &'static str {
        match scale {
            "large" => "console.scale_large",
            "medium" => "console.scale_medium",
            "small" => "console.scale_small",
            _ => "console.scale_micro",
        }
    }

    fn value(&self, name: &str) -> &str {
        if name == "password" {
            return "";
        }
        self.form.get(name)
    }
}

fn page(reader: &Reader, csrf: String, form: SignupForm, errors: Vec<FieldError>) -> SignupPage {
    SignupPage {
        t: reader.t,
        csrf,
        form,
        errors,
        sectors: Sector::ALL
            .iter()
            .map(|s| (s.as_str(), reader.t.sector(s)))
            .collect(),
        scales: Scale::ALL.iter().map(|s| s.as_str()).collect(),
        done: false,
    }
}

fn render(reader: &Reader, status: StatusCode, page: &SignupPage, secure: bool) -> HttpResponse {
    let mut res = reader.page(status, page);
    let _ = res.add_cookie(&console_cookie(
        SIGNUP_CSRF_COOKIE,
        page.csrf.clone(),
        secure,
    ));
    private(res)
}

#[get("/console/signup")]
pub async fn signup_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
) -> HttpResponse {
    let csrf = crate::auth::token::new_refresh_token();
    let p = page(&reader, csrf, SignupForm::default(), Vec::new());
    render(&reader, StatusCode::OK, &p, secure(&req, &state))
}

#[post("/console/signup")]
pub async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    body: web::Bytes,
) -> HttpResponse {
    let values: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let form = SignupForm { values };
    let expected = req.cookie(SIGNUP_CSRF_COOKIE).map(|c| c.value().to_owned());
    if !expected.is_some_and(|e| token_matches(&e, Some(form.get("csrf")))) {
        return reader.failure(ApiError::Forbidden);
    }
    let request = RegisterRequest {
        username: form.get("username").to_owned(),
        password: form.get("password").to_owned(),
        enterprise: EnterpriseInput {
            uscc: form.get("enterprise.uscc").to_owned(),
            name: form.get("enterprise.name").to_owned(),
            legal_representative: form.get("enterprise.legal_representative").to_owned(),
            region_code: form.get("enterprise.region_code").to_owned(),
            address: form.get("enterprise.address").to_owned(),
            sectors: form.all("sector"),
            scale: form.get("enterprise.scale").to_owned(),
            above_designated_size: !form.get("enterprise.above_designated_size").is_empty(),
            contact_phone: form.get("enterprise.contact_phone").to_owned(),
            contact_email: form.get("enterprise.contact_email").to_owned(),
        },
    };
    let errors = match sign_up(&state, &caller, request).await {
        Ok(_) => {
            let mut done = page(&reader, String::new(), SignupForm::default(), Vec::new());
            done.done = true;
            return private(reader.page(StatusCode::CREATED, &done));
        }
        Err(ApiError::Validation(fields)) => fields,
        Err(ApiError::Conflict { code, detail, .. }) => {
            let field = if code.contains("uscc") {
                "enterprise.uscc"
            } else {
                "username"
            };
            vec![FieldError::new(field, code, detail)]
        }
        Err(e) => return reader.failure(e),
    };
    let csrf = form.get("csrf").to_owned();
    let p = page(&reader, csrf, form, errors);
    render(
        &reader,
        StatusCode::UNPROCESSABLE_ENTITY,
        &p,
        secure(&req, &state),
    )
}
