//! Small HTTP helpers shared by the features: ETags, If-Match, the JSON body extractor.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ApiError, Errors, FieldError};

/// The strong validator of a versioned resource.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The version named by `If-Match`, if the header is present. `*` matches any version.
pub fn if_match(req: &HttpRequest) -> Result<Option<i32>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let v = value
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed)?
        .trim();
    if v == "*" {
        return Ok(None);
    }
    let v = v.strip_prefix("W/").unwrap_or(v).trim_matches('"');
    // GET answers carry `"{version}-{content hash}"`; a write is checked against the version.
    v.split('-')
        .next()
        .unwrap_or(v)
        .parse::<i32>()
        .map(Some)
        .map_err(|_| ApiError::PreconditionFailed)
}

/// Fails with 412 when `If-Match` names another version than the current one.
pub fn check_if_match(expected: Option<i32>, current: i32) -> Result<(), ApiError> {
    match expected {
        Some(v) if v != current => Err(ApiError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// 200 with the body and its `ETag`.
pub fn ok_versioned<T: Serialize>(body: &T, version: i32) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// A kept answer (`crate::cache`) as `ok_versioned` would have sent it.
pub fn ok_kept(kept: &crate::cache::Kept) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Some(v) = kept.version {
        res.insert_header((header::ETAG, etag(v)));
    }
    res.content_type("application/json")
        .body(kept.json.as_bytes().to_vec())
}

pub fn created_versioned<T: Serialize>(body: &T, version: i32, location: String) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::ETAG, etag(version)))
        .insert_header((header::LOCATION, location))
        .json(body)
}

/// A JSON body. Syntax errors are 400; a well-formed body with a wrong or missing field is
/// 422 naming the field (`enterprise.uscc`, `ingredients[1].name`).
pub struct Json<T>(pub T);

const MAX_BODY: usize = 256 * 1024;

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::BadRequest(
                    "send the body as Content-Type: application/json".into(),
                ));
            }
            let bytes = body
                .await
                .map_err(|e| ApiError::BadRequest(e.to_string()))?;
            if bytes.len() > MAX_BODY {
                return Err(ApiError::BadRequest(format!(
                    "the body is larger than {MAX_BODY} bytes"
                )));
            }
            parse_json(&bytes).map(Json)
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // PostgreSQL text cannot hold NUL; refuse it here rather than fail deep in a query.
    if bytes.windows(6).any(|w| w == b"\\u0000") {
        return Err(ApiError::field(
            "body",
            "invalid_character",
            "NUL characters (\\u0000) are not allowed",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(err) => Err(json_error(err, None)),
    }
}

/// Deserialises a JSON value held inside a body (an application's `details`), naming a failing
/// field under `prefix` (`details.issued_on`).
pub fn parse_value<T: DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, ApiError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| json_error(e, Some(prefix)))
}

/// A serde error as the API states it: a data error names the field (422), anything else is
/// malformed JSON (400).
fn json_error(
    err: serde_path_to_error::Error<serde_json::Error>,
    prefix: Option<&str>,
) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    if inner.classify() != serde_json::error::Category::Data {
        return ApiError::BadRequest(format!("malformed JSON: {inner}"));
    }
    let msg = inner.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    let under = |rest: &str| match (prefix, rest) {
        (None, "") => "body".to_owned(),
        (None, r) => r.to_owned(),
        (Some(p), "") => p.to_owned(),
        (Some(p), r) => format!("{p}.{r}"),
    };
    let path = if path == "." { String::new() } else { path };
    // serde names a missing field in its message, not in the path.
    let (field, code) = match msg.strip_prefix("missing field `") {
        Some(rest) => {
            let name = rest.split('`').next().unwrap_or("");
            let rel = if path.is_empty() {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            };
            (under(&rel), "required")
        }
        None => (under(&path), "invalid_type"),
    };
    ApiError::Validation(vec![FieldError::new(field, code, msg)])
}

/// A query parameter that must be one value of a closed set (any `FromStr` with a coded
/// error, e.g. the `domain` enums); a bad one is pushed to `errors` under `field`.
pub fn parse_param<T>(errors: &mut Errors, field: &str, v: Option<&str>) -> Option<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display + crate::error::HasCode,
{
    v.and_then(|s| errors.take(field, s.trim().parse::<T>()))
}

/// A `YYYY-MM-DD` query parameter; a bad one is pushed to `errors` under `field`.
pub fn parse_date(errors: &mut Errors, field: &str, v: Option<&str>) -> Option<NaiveDate> {
    let v = v?.trim();
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) if crate::domain::dates::in_range(d) => Some(d),
        Ok(_) => {
            errors.push(field, "out_of_range", crate::domain::dates::OUT_OF_RANGE);
            None
        }
        Err(_) => {
            errors.push(field, "invalid_date", "a date as YYYY-MM-DD");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Outer {
        items: Vec<Inner>,
        count: i32,
    }

    #[test]
    fn names_the_failing_field() {
        let e =
            parse_json::<Outer>(br#"{"items":[{"name":"a"},{"name":5}],"count":1}"#).unwrap_err();
        match e {
            ApiError::Validation(v) => assert_eq!(v[0].field, "items[1].name"),
            other => panic!("{other:?}"),
        }
        let e = parse_json::<Outer>(br#"{"items":[]}"#).unwrap_err();
        match e {
            ApiError::Validation(v) => assert_eq!(
                (v[0].field.as_str(), v[0].code.as_str()),
                ("count", "required")
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_json::<Outer>(b"{not json"),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn if_match_versions() {
        assert!(matches!(
            check_if_match(Some(2), 3),
            Err(ApiError::PreconditionFailed)
        ));
        assert!(check_if_match(Some(3), 3).is_ok());
        assert!(check_if_match(None, 3).is_ok());
        assert_eq!(etag(7), "\"7\"");
        let req = actix_web::test::TestRequest::default()
            .insert_header(("If-Match", "\"4-0a1b2c3d\""))
            .to_http_request();
        assert_eq!(if_match(&req).unwrap(), Some(4));
    }
}
