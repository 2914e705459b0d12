//! Public verification: "is this certificate or designation real, and valid (on that date)?"

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::DbConn;
use crate::domain::{ApplicationKind, RecordStatus, RecordType};
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::parse_date;
use crate::records::{self, certificates as certs, designations};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Holder {
    pub enterprise_id: String,
    #[schema(example = "柴达木红果枸杞科技有限公司")]
    pub name: String,
    #[schema(example = "91632800MA752K3R1C")]
    pub uscc: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductRef {
    pub id: String,
    pub name: String,
}

/// The answer about one number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    #[schema(example = "QHMP-2026-0001")]
    pub number: String,
    /// `certification` or `designation`.
    #[schema(example = "designation")]
    pub record_type: RecordType,
    #[schema(example = "provincial_famous_brand")]
    pub kind: ApplicationKind,
    pub record_id: String,
    /// Now (or on `at`): `valid`/`active`, `suspended`, `revoked`, `expired`, or `not_yet_valid`.
    #[schema(example = "active")]
    pub status: RecordStatus,
    /// True when the status is `valid` or `active`.
    pub valid: bool,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub holder: Holder,
    pub product: Option<ProductRef>,
    pub geographical_indication_id: Option<String>,
    /// The date asked about, when `at` was given.
    pub at: Option<NaiveDate>,
    /// When this answer was computed.
    pub checked_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// Answer for the end of this date (YYYY-MM-DD) from the status history, instead of now.
    pub at: Option<String>,
    /// Disambiguates a certificate number used by two kinds.
    #[param(value_type = Option<ApplicationKind>)]
    pub kind: Option<String>,
}

/// Verification answers in memory, as JSON without `checked_at`, stamped with the audit chain's
/// head sequence read before the database was asked. Every committed write, by any instance,
/// advances that sequence, so an entry is served only while nothing at all has changed since it
/// was loaded: a revoked certificate is never answered from memory once the revocation committed.
pub struct Cache {
    capacity: usize,
    entries: std::sync::Mutex<std::collections::HashMap<String, (i64, std::sync::Arc<str>)>>,
}

impl Cache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Default::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// The answer for `key` as of `generation`, from memory or through `load`.
    pub fn get_or_load(
        &self,
        key: &str,
        generation: i64,
        load: impl FnOnce() -> ApiResult<Verification>,
    ) -> ApiResult<std::sync::Arc<str>> {
        if let Some((g, json)) = self.entries.lock().expect("verify cache").get(key) {
            if *g == generation {
                return Ok(json.clone());
            }
        }
        let mut value =
            serde_json::to_value(load()?).map_err(|e| ApiError::Internal(e.to_string()))?;
        if let Some(o) = value.as_object_mut() {
            o.remove("checked_at");
        }
        let json: std::sync::Arc<str> = value.to_string().into();
        let mut map = self.entries.lock().expect("verify cache");
        if map.len() >= self.capacity {
            // Entries of older generations go first; if all are current, start over (rare).
            map.retain(|_, (g, _)| *g == generation);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(key.to_owned(), (generation, json.clone()));
        Ok(json)
    }
}

/// Adds the time of the answer to a cached body (a JSON object without `checked_at`).
fn with_checked_at(json: &str) -> String {
    let now = serde_json::to_string(&chrono::Utc::now()).unwrap_or_default();
    match json.strip_suffix('}') {
        Some(body) if body.len() > 1 => format!("{body},\"checked_at\":{now}}}"),
        _ => json.to_owned(),
    }
}

/// A certificate with its holder (id, name, USCC) and product name.
type CertHit = (certs::CertRow, (String, String, String), String);
/// A designation with its holder and, when it names one, its product's name.
type DesignationHit = (
    designations::DesignationRow,
    (String, String, String),
    Option<String>,
);

/// What the register holds for a number. Two round trips: certificates and designations, each
/// joined to its holder and product (this is the hot path of third-party apps).
pub fn verify_number(
    conn: &mut DbConn,
    number: &str,
    kind: Option<ApplicationKind>,
    at: Option<NaiveDate>,
) -> ApiResult<Verification> {
    use crate::db::schema::{
        certifications as c, designations as d, enterprises as e, products as p,
    };
    use diesel::prelude::*;
    let today = crate::clock::today();
    let mut found: Vec<Verification> = Vec::new();
    let certs: Vec<CertHit> = c::table
        .inner_join(e::table)
        .inner_join(p::table)
        .filter(c::certificate_number.eq(number))
        .select((
            certs::CertRow::as_select(),
            (e::id, e::name, e::uscc),
            p::name,
        ))
        .load(conn)?;
    for (c, (eid, ename, uscc), pname) in certs
        .into_iter()
        .filter(|(c, _, _)| kind.is_none_or(|k| k == c.kind))
    {
        let status = match at {
            Some(d) => records::status_on(
                &records::history::history(conn, RecordType::Certification, &c.id)?,
                c.issued_on,
                Some(c.expires_on),
                d,
            ),
            None => records::effective_status(c.status, Some(c.expires_on), today),
        };
        found.push(Verification {
            number: c.certificate_number.clone(),
            record_type: RecordType::Certification,
            kind: c.kind,
            record_id: c.id.clone(),
            valid: status == RecordStatus::Valid,
            status,
            valid_from: c.issued_on,
            valid_until: Some(c.expires_on),
            holder: Holder {
                enterprise_id: eid,
                name: ename,
                uscc,
            },
            product: Some(ProductRef {
                id: c.product_id.clone(),
                name: pname,
            }),
            geographical_indication_id: None,
            at,
            checked_at: chrono::Utc::now(),
        });
    }
    let des: Option<DesignationHit> = d::table
        .inner_join(e::table)
        .left_join(p::table)
        .filter(d::number.eq(number))
        .select((
            designations::DesignationRow::as_select(),
            (e::id, e::name, e::uscc),
            p::name.nullable(),
        ))
        .first(conn)
        .optional()?;
    if let Some((d, (eid, ename, uscc), pname)) =
        des.filter(|(d, _, _)| kind.is_none_or(|k| k == d.kind))
    {
        let status = match at {
            Some(date) => records::status_on(
                &records::history::history(conn, RecordType::Designation, &d.id)?,
                d.valid_from,
                d.valid_until,
                date,
            ),
            None => records::effective_status(d.status, d.valid_until, today),
        };
        found.push(Verification {
            number: d.number.clone(),
            record_type: RecordType::Designation,
            kind: d.kind,
            record_id: d.id.clone(),
            valid: status == RecordStatus::Active,
            status,
            valid_from: d.valid_from,
            valid_until: d.valid_until,
            holder: Holder {
                enterprise_id: eid,
                name: ename,
                uscc,
            },
            product: d
                .product_id
                .clone()
                .zip(pname)
                .map(|(id, name)| ProductRef { id, name }),
            geographical_indication_id: d.geographical_indication_id.clone(),
            at,
            checked_at: chrono::Utc::now(),
        });
    }
    match found.len() {
        0 => Err(ApiError::NotFound),
        1 => Ok(found.remove(0)),
        _ => Err(ApiError::conflict(
            "ambiguous_number",
            format!(
                "{number} is used by several kinds ({}); pass ?kind=",
                found
                    .iter()
                    .map(|f| f.kind.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

#[utoipa::path(
    get, path = "/api/v1/verify/{number}", tag = "verification",
    params(("number" = String, Path, description = "Certificate or designation number", example = "QHMP-2026-0001"), VerifyQuery),
    responses(
        (status = 200, description = "What the register holds for this number, and whether it is valid", body = Verification),
        (status = 404, description = "No certificate or designation has this number", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The number is used by several kinds: pass `kind`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`at` is not a date", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/verify/{number}")]
pub async fn verify(
    state: web::Data<AppState>,
    cache: web::Data<Cache>,
    number: web::Path<String>,
    q: web::Query<VerifyQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let at = parse_date(&mut errors, "at", q.at.as_deref());
    let kind = q
        .kind
        .as_deref()
        .and_then(|k| errors.take("kind", ApplicationKind::parse(k)));
    errors.finish()?;
    let number = number.into_inner().trim().to_owned();
    let cache = cache.into_inner();
    let body = state
        .db(move |conn| {
            if at.is_some() || !cache.enabled() {
                // Answers about a past date come from the history; they are not cached.
                let v = verify_number(conn, &number, kind, at)?;
                return serde_json::to_string(&v).map_err(|e| ApiError::Internal(e.to_string()));
            }
            let generation = crate::audit::head_seq(conn)?;
            let key = format!("{number}\u{0}{}", kind.map_or("", ApplicationKind::as_str));
            let json = cache.get_or_load(&key, generation, || {
                verify_number(conn, &number, kind, None)
            })?;
            Ok(with_checked_at(&json))
        })
        .await?;
    // The answer says when it was given: HTTP caches must not keep it.
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("application/json")
        .body(body))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"numbers": ["QHGI-2026-0001", "LB-18-2401016301A", "NO-SUCH"]}))]
pub struct BatchRequest {
    /// Up to 100 certificate or designation numbers.
    pub numbers: Vec<String>,
    /// Answer for the end of this date instead of now.
    pub at: Option<String>,
}

/// One number's answer in a batch: the same as the single endpoint, or why there is none.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchItem {
    pub number: String,
    /// 200, 404 or 409, as the single endpoint would answer.
    #[schema(example = 200)]
    pub status: u16,
    pub verification: Option<Verification>,
    /// The problem code when there is no verification (`not_found`, `ambiguous_number`).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResponse {
    /// In the order asked.
    pub results: Vec<BatchItem>,
}

pub const MAX_BATCH: usize = 100;

#[utoipa::path(
    post, path = "/api/v1/verify/batch", tag = "verification",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "Each number answered as `GET /verify/{number}` would", body = BatchResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than 100 numbers, none, or a bad `at`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[actix_web::post("/verify/batch")]
pub async fn verify_batch(
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
    for (i, n) in b.numbers.iter().enumerate() {
        if n.trim().is_empty() || n.len() > 64 {
            errors.push(format!("numbers[{i}]"), "invalid_value", "1-64 characters");
        }
    }
    let at = parse_date(&mut errors, "at", b.at.as_deref());
    errors.finish()?;
    let results = state
        .db(move |conn| {
            let mut out = Vec::with_capacity(b.numbers.len());
            for n in b.numbers {
                let number = n.trim().to_owned();
                let answer = verify_number(conn, &number, None, at);
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
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(BatchResponse { results }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn sample() -> Verification {
        Verification {
            number: "N".into(),
            record_type: RecordType::Certification,
            kind: ApplicationKind::Organic,
            record_id: "r".into(),
            status: RecordStatus::Valid,
            valid: true,
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            valid_until: None,
            holder: Holder {
                enterprise_id: "e".into(),
                name: "n".into(),
                uscc: "u".into(),
            },
            product: None,
            geographical_indication_id: None,
            at: None,
            checked_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_cache_serves_only_the_generation_it_loaded() {
        let cache = Cache::new(10);
        let loads = Cell::new(0);
        let load = || {
            loads.set(loads.get() + 1);
            Ok(sample())
        };
        let first = cache.get_or_load("N", 7, load).unwrap();
        cache.get_or_load("N", 7, load).unwrap();
        assert_eq!(loads.get(), 1, "second answer from memory");
        cache.get_or_load("N", 8, load).unwrap();
        assert_eq!(
            loads.get(),
            2,
            "a write anywhere (a new generation) invalidates"
        );
        assert!(!first.contains("checked_at"));
        let body = with_checked_at(&first);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["number"], "N");
        assert!(v["checked_at"].is_string());
        assert!(!Cache::new(0).enabled());
    }
}
