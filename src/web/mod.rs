//! The human side of the service: public pages (search, verification with a QR code, product
//! and geographical-indication pages), server-rendered from `templates/` with askama, in
//! Chinese or English (`i18n`). They read through the same repository, policy and cache-free
//! loaders as the API; nothing here decides a rule of its own. No JavaScript is needed.

/// The value of a console check (`signed_in`, `posted`), or, when it fails, the answer it
/// gives instead (the way to the sign-in form, or 403 for a forged form).
macro_rules! or_answer {
    ($check:expr) => {
        match $check {
            Ok(value) => value,
            Err(answer) => return *answer,
        }
    };
}

mod console;
mod console_admin;
mod console_applications;
mod console_products;
mod console_records;
mod console_signup;
pub mod i18n;
mod public;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::error::ApiError;
use i18n::{Lang, Tr};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(public::stylesheet)
        .service(public::console_script)
        .service(public::home)
        .service(public::verify_form)
        .service(public::verify_qr)
        .service(public::verify_page)
        .service(public::product_page)
        .service(public::gi_page)
        .service(console::login_form)
        .service(console::login)
        .service(console::logout)
        .service(console::home)
        .service(console::home_redirect)
        .service(console_products::product_form)
        .service(console_products::create_product)
        .service(console_products::edit_form)
        .service(console_products::edit_product)
        .service(console_products::request_change)
        .service(console_products::standards_page)
        .service(console_products::declare_standard)
        .service(console_products::undeclare_standard)
        .service(console::verify_enterprise)
        .service(console_signup::signup_form)
        .service(console_signup::signup)
        .service(console_applications::apply_form)
        .service(console_applications::apply)
        .service(console_applications::application)
        .service(console_applications::take_step)
        .service(console_applications::amend)
        .service(console_records::find_record)
        .service(console_records::record)
        .service(console_records::act)
        .service(console_admin::users_list)
        .service(console_admin::create_user)
        .service(console_admin::update_user)
        .service(console_admin::clients_list)
        .service(console_admin::create_client)
        .service(console_admin::revoke_client);
}

/// What every page knows about its reader: the language, and whether to remember it.
pub struct Reader {
    pub t: Tr,
    /// Set when `?lang=` chose a language, so the next page keeps it.
    remember: Option<Lang>,
    /// A console page (even its error pages) is private: no cache keeps it.
    private: bool,
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

impl FromRequest for Reader {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let asked = web::Query::<LangQuery>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.into_inner().lang);
        let cookie = req.cookie(i18n::COOKIE).map(|c| c.value().to_owned());
        let accept = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        let lang = Lang::negotiate(asked.as_deref(), cookie.as_deref(), accept);
        let remember = asked.as_deref().and_then(Lang::from_code);
        std::future::ready(Ok(Reader {
            t: Tr::new(lang),
            remember,
            private: req.path().starts_with("/console"),
        }))
    }
}

impl Reader {
    /// A rendered page. Pages vary with the reader's language.
    pub fn page(&self, status: StatusCode, page: &impl askama::Template) -> HttpResponse {
        let body = match page.render() {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "rendering a page failed");
                return HttpResponse::InternalServerError()
                    .content_type("text/plain; charset=utf-8")
                    .body("the page could not be rendered");
            }
        };
        let mut res = HttpResponse::build(status);
        res.content_type("text/html; charset=utf-8")
            .insert_header((header::VARY, "Accept-Language, Cookie"))
            .insert_header((header::CONTENT_LANGUAGE, self.t.tag()));
        if let Some(lang) = self.remember {
            let code = match lang {
                Lang::Zh => "zh",
                Lang::En => "en",
            };
            res.cookie(
                Cookie::build(i18n::COOKIE, code)
                    .path("/")
                    .same_site(SameSite::Lax)
                    .max_age(actix_web::cookie::time::Duration::days(365))
                    .finish(),
            );
        }
        if self.private {
            res.insert_header((header::CACHE_CONTROL, "no-store"));
        }
        res.body(body)
    }

    /// The page for a failure: not found, bad input (with each field's message), or the service
    /// being unavailable — never a stack of JSON.
    pub fn failure(&self, err: ApiError) -> HttpResponse {
        use actix_web::ResponseError;
        let status = err.status_code();
        let (title_key, lines) = match &err {
            ApiError::NotFound => (
                "error.not_found_title",
                vec![self.t.get("error.not_found_body").to_owned()],
            ),
            ApiError::Validation(fields) => (
                "error.invalid_title",
                fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect(),
            ),
            ApiError::BadRequest(detail) | ApiError::Refused { detail, .. } => {
                ("error.invalid_title", vec![detail.clone()])
            }
            other => {
                if let ApiError::Internal(msg) = other {
                    tracing::error!(error = %msg, "internal error on a page");
                }
                (
                    "error.server_title",
                    vec![self.t.get("error.server_body").to_owned()],
                )
            }
        };
        self.page(
            status,
            &ErrorPage {
                t: self.t,
                title_key,
                lines,
            },
        )
    }
}

#[derive(askama::Template)]
#[template(path = "web/error.html")]
struct ErrorPage {
    t: Tr,
    title_key: &'static str,
    lines: Vec<String>,
}

/// What a path segment must not hold as is (RFC 3986: the path set, plus `/` and `%`).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A path segment, percent-encoded (a number typed by a reader may hold `/` or spaces).
pub fn path_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// A time as the pages show it, and as `<time datetime>` wants it.
pub fn shown_time(t: chrono::DateTime<chrono::Utc>) -> (String, String) {
    (
        t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// The service's address as the public reaches it (`REGISTRY_PUBLIC_URL`), for QR codes and
/// links that leave the page. Without it (development only), the address the request came to.
pub fn public_base(req: &HttpRequest, configured: Option<&str>) -> String {
    match configured {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}
