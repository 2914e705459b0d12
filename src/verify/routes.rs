//! `GET /api/v1/verify/{number}` and `POST /api/v1/verify/batch`.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::cache::{cached_form, depends_on, with_checked_at};
use super::repo::verify_number;
use super::{BatchItem, BatchResponse, Verification};
use crate::cache::{Answers, Kept, Loaded};
use crate::domain::{ApplicationKind, RecordNumber};
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::{parse_date, parse_param};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// Answer for the end of this date (YYYY-MM-DD) from the status history, instead of now.
    pub at: Option<String>,
    /// Disambiguates a certificate number used by two kinds.
    #[param(value_type = Option<ApplicationKind>)]
    pub kind: Option<String>,
}
/// Verify a certificate or designation number
#[utoipa::path(
    get, path = "/api/v1/verify/{number}", tag = "verification",
    params(("number" = String, Path, description = "Certificate or designation number", example = "QHMP-2026-0001"), VerifyQuery),
    responses(
        (status = 200, description = "What the register holds for this number, and whether it is valid. With `Accept: application/jose`, the same answer as a compact JWS (EdDSA, `kid` in `/.well-known/jwks.json`) that anyone can verify offline.",
            content((Verification = "application/json"), (String = "application/jose"))),
        (status = 404, description = "No certificate or designation has this number", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The number is used by several kinds: pass `kind`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`at` is not a date", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/verify/{number}")]
pub async fn verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    number: web::Path<String>,
    q: web::Query<VerifyQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let at = parse_date(&mut errors, "at", q.at.as_deref());
    let kind = parse_param::<ApplicationKind>(&mut errors, "kind", q.kind.as_deref());
    // Typed as people type it (lower case, full width, spaces around); answered canonically.
    let number = errors.take("number", RecordNumber::parse(&number));
    errors.finish()?;
    let number = number.map(|n| n.to_string()).unwrap_or_default();
    if at.is_some() || !state.answers.enabled() {
        // Answers about a past date come from the history; they are not kept.
        let v = state
            .db(move |conn| verify_number(conn, &number, kind, at))
            .await?;
        let body = serde_json::to_string(&v).map_err(|e| ApiError::Internal(e.to_string()))?;
        return Ok(answer(&req, &state, body));
    }
    // Today is in the key: an answer says whether the record is valid today.
    let key = format!(
        "verify\u{0}{number}\u{0}{}\u{0}{}",
        kind.map_or("", ApplicationKind::as_str),
        crate::clock::today()
    );
    let kept = Answers::through(&state, "verify", key, move |conn| {
        let v = verify_number(conn, &number, kind, None)?;
        Ok(Loaded {
            answer: Kept {
                json: cached_form(&v)?,
                version: None,
            },
            depends_on: depends_on(&v),
        })
    })
    .await?;
    Ok(answer(&req, &state, with_checked_at(&kept.json)))
}

/// The answer as JSON, or signed as a compact JWS when the caller asks for `application/jose`.
/// It says when it was given, so HTTP caches must not keep it.
fn answer(req: &HttpRequest, state: &AppState, json: String) -> HttpResponse {
    let wants_jws = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .any(|t| t.split(';').next().unwrap_or("").trim() == JOSE)
        });
    let mut res = HttpResponse::Ok();
    res.insert_header(("Cache-Control", "no-store"))
        .insert_header((header::VARY, "Accept"));
    if wants_jws {
        res.content_type(JOSE)
            .body(state.keyring.current.jws(json.as_bytes()))
    } else {
        res.content_type("application/json").body(json)
    }
}

/// The media type of a compact JWS (RFC 7515).
const JOSE: &str = "application/jose";
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"numbers": ["QHGI-2026-0001", "LB-18-2401016301A", "NO-SUCH"]}))]
pub struct BatchRequest {
    /// Up to 100 certificate or designation numbers.
    pub numbers: Vec<String>,
    /// Answer for the end of this date instead of now.
    pub at: Option<String>,
}
pub const MAX_BATCH: usize = 100;

/// Verify many numbers at once
#[utoipa::path(
    post, path = "/api/v1/verify/batch", tag = "verification",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "Each number answered as `GET /verify/{number}` would; with `Accept: application/jose`, the whole answer as a compact JWS",
            content((BatchResponse = "application/json"), (String = "application/jose"))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than 100 numbers, none, or a bad `at`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[actix_web::post("/verify/batch")]
pub async fn verify_batch(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: crate::http::Json<BatchRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let mut errors = Errors::new();
    if b.numbers.is_empty() || b.numbers.len() > MAX_BATCH {
        errors.push(
            "numbers",
            "out_of_range",
            format!("1 to {MAX_BATCH} numbers"),
        );
    }
    let canonical: Vec<Option<RecordNumber>> = b
        .numbers
        .iter()
        .enumerate()
        .map(|(i, n)| errors.take(&format!("numbers[{i}]"), RecordNumber::parse(n)))
        .collect();
    let at = parse_date(&mut errors, "at", b.at.as_deref());
    errors.finish()?;
    let results = state
        .db(move |conn| {
            let mut out = Vec::with_capacity(b.numbers.len());
            for (n, canonical) in b.numbers.into_iter().zip(canonical) {
                // Each item names the number as asked, so an app can match it up.
                let number = n.trim().to_owned();
                let canonical = canonical.map(|c| c.to_string()).unwrap_or_default();
                let answer = verify_number(conn, &canonical, None, at);
                out.push(match answer {
                    Ok(v) => BatchItem {
                        number,
                        status: 200,
                        verification: Some(v),
                        error: None,
                    },
                    Err(e @ (ApiError::NotFound | ApiError::Conflict { .. })) => {
                        use actix_web::ResponseError;
                        BatchItem {
                            number,
                            status: e.status_code().as_u16(),
                            verification: None,
                            error: Some(e.code().to_owned()),
                        }
                    }
                    Err(e) => return Err(e),
                });
            }
            Ok(out)
        })
        .await?;
    let json = serde_json::to_string(&BatchResponse { results })
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(answer(&req, &state, json))
}
