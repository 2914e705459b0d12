//! One error type for the whole API, turned into RFC 9457 `application/problem+json` at the edge.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `enterprise.uscc` or `ingredients[0].name`.
    #[schema(example = "enterprise.uscc")]
    pub field: String,
    /// Stable machine-readable code, e.g. `invalid_check_character`, `required`, `unknown_region`.
    #[schema(example = "invalid_check_character")]
    pub code: String,
    #[schema(example = "the check character should be 6")]
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details, as every error of this API is served.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI reference naming the problem kind: `/problems/{code}`.
    #[schema(example = "/problems/validation_failed")]
    #[serde(rename = "type")]
    pub type_: String,
    #[schema(example = "Invalid request")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    #[schema(example = "1 field is invalid")]
    pub detail: String,
    /// Stable snake_case code of the problem (the last segment of `type`).
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Present on `validation_failed`: one entry per invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Present on `invalid_state`: the state the resource is in now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
    /// Present on some conflicts (`duplicate_application` …): the ids of the resources this
    /// request conflicts with.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts_with: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("{} field(s) invalid", .0.len())]
    Validation(Vec<FieldError>),
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("invalid or expired token")]
    InvalidToken,
    #[error("unknown or revoked API key")]
    InvalidApiKey,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        /// The resources it conflicts with (an existing application, live records …).
        with: Vec<String>,
    },
    /// A well-formed request the register refuses for what it knows (an enterprise on the
    /// dishonesty list may not apply): 422 with its own code, naming the field it concerns.
    #[error("{detail}")]
    Refused {
        code: &'static str,
        field: &'static str,
        detail: String,
    },
    #[error("{resource} is {state}")]
    InvalidState {
        resource: &'static str,
        state: String,
    },
    #[error("the resource changed since it was read (If-Match does not match)")]
    PreconditionFailed,
    #[error("the cursor {since} is beyond the newest change ({head})")]
    CursorAhead { since: i64, head: i64 },
    #[error("too many attempts; retry after {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
            with: Vec::new(),
        }
    }

    /// A conflict with existing resources, named by id in the problem's `conflicts_with`.
    pub fn conflict_with(code: &'static str, detail: impl Into<String>, ids: Vec<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
            with: ids,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "malformed_request",
            Self::Validation(_) => "validation_failed",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidToken => "invalid_token",
            Self::InvalidApiKey => "invalid_api_key",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict { code, .. } | Self::Refused { code, .. } => code,
            Self::InvalidState { .. } => "invalid_state",
            Self::PreconditionFailed => "precondition_failed",
            Self::CursorAhead { .. } => "cursor_ahead",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "Malformed request",
            Self::Validation(_) => "Invalid request",
            Self::Unauthenticated => "Authentication required",
            Self::InvalidCredentials => "Invalid credentials",
            Self::InvalidToken => "Invalid token",
            Self::InvalidApiKey => "Invalid API key",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "Not found",
            Self::Conflict { .. } => "Conflict",
            Self::Refused { .. } => "Refused",
            Self::InvalidState { .. } => "Conflict with the resource's state",
            Self::PreconditionFailed => "Precondition failed",
            Self::CursorAhead { .. } => "Cursor ahead of the feed",
            Self::TooManyRequests { .. } => "Too many requests",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal error",
        }
    }

    pub fn to_problem(&self) -> Problem {
        let code = self.code();
        let detail = match self {
            // Never leak internals; the log has them.
            Self::Internal(_) => "an unexpected error occurred; it has been logged".to_owned(),
            Self::Unavailable(_) => "the database is unavailable; try again shortly".to_owned(),
            other => other.to_string(),
        };
        Problem {
            type_: format!("/problems/{code}"),
            title: self.title().to_owned(),
            status: self.status_code().as_u16(),
            detail,
            code: code.to_owned(),
            errors: match self {
                Self::Validation(errors) => errors.clone(),
                Self::Refused {
                    code,
                    field,
                    detail,
                } => vec![FieldError::new(*field, *code, detail.clone())],
                _ => Vec::new(),
            },
            current_state: match self {
                Self::InvalidState { state, .. } => Some(state.clone()),
                _ => None,
            },
            conflicts_with: match self {
                Self::Conflict { with, .. } => with.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::CursorAhead { .. } => StatusCode::BAD_REQUEST,
            Self::Validation(_) | Self::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated
            | Self::InvalidCredentials
            | Self::InvalidToken
            | Self::InvalidApiKey => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::InvalidState { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(msg) = self {
            tracing::error!(error = %msg, "internal error");
        }
        let mut resp = HttpResponse::build(self.status_code());
        resp.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if matches!(
            self,
            Self::Unauthenticated | Self::InvalidToken | Self::InvalidCredentials
        ) {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Self::TooManyRequests { retry_after_secs } = self {
            resp.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        // A pool that timed out usually frees up within seconds; say when to come back.
        if let Self::Unavailable(_) = self {
            resp.insert_header((header::RETRY_AFTER, "5"));
        }
        resp.body(serde_json::to_string(&self.to_problem()).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => Self::NotFound,
            E::DatabaseError(K::UniqueViolation, info) => Self::conflict(
                "duplicate",
                format!("a record with the same key exists ({})", info.message()),
            ),
            E::DatabaseError(K::SerializationFailure, _) => Self::conflict(
                "concurrent_update",
                "a concurrent change won; reload and retry",
            ),
            // The server went away mid-request (a primary stopped or failed over).
            E::DatabaseError(K::ClosedConnection, info) => Self::Unavailable(info.message().into()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// Collects field errors while parsing a request; `finish` fails with all of them at once.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(
        &mut self,
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.0.push(FieldError::new(field, code, message));
    }
    /// Records a parse failure and returns the value when it parsed.
    pub fn take<T, E: std::fmt::Display + HasCode>(
        &mut self,
        field: &str,
        r: Result<T, E>,
    ) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(field, e.code(), e.to_string());
                None
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

/// A validation error with a stable code (implemented by every domain parse error).
pub trait HasCode {
    fn code(&self) -> &'static str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_says_when_to_come_back() {
        let resp = ApiError::Unavailable("pool timed out".into()).error_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            resp.headers().get(header::RETRY_AFTER).unwrap(),
            &header::HeaderValue::from_static("5")
        );
    }

    #[test]
    fn only_throttling_and_unavailability_carry_retry_after() {
        let resp = ApiError::InvalidApiKey.error_response();
        assert!(resp.headers().get(header::RETRY_AFTER).is_none());
    }
}
