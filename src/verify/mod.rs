//! Public verification: "is this certificate or designation real, and valid (on that date)?"

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::certifications::repo as certs;
use crate::certifications::routes::parse_date;
use crate::db::DbConn;
use crate::designations::repo as designations;
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::records;
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
    pub record_type: String,
    #[schema(example = "provincial_famous_brand")]
    pub kind: String,
    pub record_id: String,
    /// Now (or on `at`): `valid`/`active`, `suspended`, `revoked`, `expired`, or `not_yet_valid`.
    #[schema(example = "active")]
    pub status: String,
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
    pub kind: Option<String>,
}

/// Verification answers in memory, stamped with the write generation read before the database
/// was asked: an entry is served only while no write has ended since, so a revocation made
/// through this process is never answered from a stale entry once its request has returned.
pub struct Cache {
    capacity: usize,
    entries: std::sync::Mutex<std::collections::HashMap<String, (u64, Verification)>>,
}

impl Cache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Default::default(),
        }
    }

    fn generation() -> u64 {
        crate::db::WRITE_GENERATION.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Answers from memory, or through `load` (which is then remembered).
    pub fn get_or_load(
        &self,
        key: String,
        load: impl FnOnce() -> ApiResult<Verification>,
    ) -> ApiResult<Verification> {
        if self.capacity == 0 {
            return load();
        }
        let generation = Self::generation();
        if let Some((g, v)) = self.entries.lock().expect("verify cache").get(&key) {
            if *g == generation {
                let mut v = v.clone();
                v.checked_at = chrono::Utc::now();
                return Ok(v);
            }
        }
        let v = load()?;
        let mut map = self.entries.lock().expect("verify cache");
        if map.len() >= self.capacity {
            // Stale entries go first; if all are fresh, start over (cheap, and rare).
            let current = Self::generation();
            map.retain(|_, (g, _)| *g == current);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(key, (generation, v.clone()));
        Ok(v)
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
    kind: Option<&str>,
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
                &records::history(conn, "certification", &c.id)?,
                c.issued_on,
                Some(c.expires_on),
                d,
            ),
            None => records::effective_status(&c.status, Some(c.expires_on), today),
        };
        found.push(Verification {
            number: c.certificate_number.clone(),
            record_type: "certification".into(),
            kind: c.kind.clone(),
            record_id: c.id.clone(),
            valid: status == "valid",
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
                &records::history(conn, "designation", &d.id)?,
                d.valid_from,
                d.valid_until,
                date,
            ),
            None => records::effective_status(&d.status, d.valid_until, today),
        };
        found.push(Verification {
            number: d.number.clone(),
            record_type: "designation".into(),
            kind: d.kind.clone(),
            record_id: d.id.clone(),
            valid: status == "active",
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
    number: web::Path<String>,
    q: web::Query<VerifyQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let at = parse_date(&mut errors, "at", q.at.as_deref());
    errors.finish()?;
    let number = number.into_inner().trim().to_owned();
    let kind = q.kind.clone();
    let cache = state.verify_cache.clone();
    let v = state
        .db(move |conn| match at {
            // Answers about a past date come from the history; only "now" is cached.
            Some(_) => verify_number(conn, &number, kind.as_deref(), at),
            None => {
                let key = format!("{number}\u{0}{}", kind.as_deref().unwrap_or(""));
                cache.get_or_load(key, || verify_number(conn, &number, kind.as_deref(), None))
            }
        })
        .await?;
    // The answer says when it was given: HTTP caches must not keep it.
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(v))
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
    let cache = state.verify_cache.clone();
    let results = state
        .db(move |conn| {
            let mut out = Vec::with_capacity(b.numbers.len());
            for n in b.numbers {
                let number = n.trim().to_owned();
                let answer = match at {
                    Some(_) => verify_number(conn, &number, None, at),
                    None => cache.get_or_load(format!("{number}\u{0}"), || {
                        verify_number(conn, &number, None, None)
                    }),
                };
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
            record_type: "certification".into(),
            kind: "organic".into(),
            record_id: "r".into(),
            status: "valid".into(),
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
    fn the_cache_serves_until_any_write_ends() {
        let cache = Cache::new(10);
        let loads = Cell::new(0);
        let load = || {
            loads.set(loads.get() + 1);
            Ok(sample())
        };
        cache.get_or_load("N".into(), load).unwrap();
        cache.get_or_load("N".into(), load).unwrap();
        assert_eq!(loads.get(), 1, "second answer from memory");
        crate::db::WRITE_GENERATION.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        cache.get_or_load("N".into(), load).unwrap();
        assert_eq!(loads.get(), 2, "a write invalidates");
        let off = Cache::new(0);
        off.get_or_load("N".into(), load).unwrap();
        off.get_or_load("N".into(), load).unwrap();
        assert_eq!(loads.get(), 4, "size 0 is off");
    }
}
