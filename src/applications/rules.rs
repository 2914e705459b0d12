//! The rules an application must meet for its kind: the product, food-only kinds, the
//! certificate's details and validity, the GI's protected area, the documents. Every problem is
//! reported together (422).

use chrono::Months;
use serde::Deserialize;
use serde_json::Value;

use super::repo::{ApplicationRow, DocumentRef};
use crate::db::DbConn;
use crate::domain::{ApplicationKind, KindCategory, RecordNumber, Sector};
use crate::error::{ApiError, ApiResult, Errors};
use crate::gis::repo as gis;
use crate::products::repo as products;
use crate::records::certificates::{self, CertDetails};
use crate::records::{bodies, designations};
use crate::reference::kinds::KindRow;

/// The details a designation application carries (free-form supporting facts).
#[derive(Debug, Deserialize)]
pub struct DesignationDetails {
    /// A short statement of why the product merits the designation.
    pub summary: Option<String>,
}

/// Parses an application's `details` as `T`, naming a failing field `details.…`.
fn parse_details<T: serde::de::DeserializeOwned>(
    errors: &mut Errors,
    details: &Value,
) -> Option<T> {
    match crate::http::parse_value::<T>(details.clone(), "details") {
        Ok(v) => Some(v),
        Err(crate::error::ApiError::Validation(fields)) => {
            for f in fields {
                errors.push(f.field, "invalid_value", f.message);
            }
            None
        }
        Err(e) => {
            errors.push("details", "invalid_value", e.to_string());
            None
        }
    }
}

pub fn check_documents(errors: &mut Errors, docs: &mut [DocumentRef]) {
    if docs.len() > 50 {
        errors.push("documents", "too_many", "at most 50 documents");
    }
    for (i, d) in docs.iter_mut().enumerate() {
        if d.name.trim().is_empty() || d.name.chars().count() > 200 {
            errors.push(
                format!("documents[{i}].name"),
                "invalid_value",
                "1-200 characters",
            );
        }
        d.sha256 = d.sha256.trim().to_ascii_lowercase();
        if d.sha256.len() != 64 || !d.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            errors.push(
                format!("documents[{i}].sha256"),
                "invalid_sha256",
                "64 hexadecimal characters",
            );
        }
        if d.size_bytes <= 0 {
            errors.push(
                format!("documents[{i}].size_bytes"),
                "out_of_range",
                "a positive number of bytes",
            );
        }
    }
}

/// Checks an application against its kind's rules. All problems are reported together (422).
pub fn validate(conn: &mut DbConn, kind: &KindRow, app: &ApplicationRow) -> ApiResult<()> {
    let mut errors = Errors::new();
    if kind.category == crate::domain::KindCategory::Change {
        super::record_change::validate(conn, app, &mut errors)?;
        if app.geographical_indication_id.is_some() {
            errors.push(
                "geographical_indication_id",
                "not_allowed",
                "only gi_product applications name a GI",
            );
        }
        return errors.finish();
    }
    let details: Value = match serde_json::from_str(&app.details) {
        Ok(Value::Null) | Err(_) => Value::Object(Default::default()),
        Ok(v) => v,
    };
    let product = match &app.product_id {
        Some(p) => match products::find(conn, p)? {
            Some(row) if row.enterprise_id == app.enterprise_id => Some(row),
            _ => {
                errors.push(
                    "product_id",
                    "unknown_product",
                    "no such product of this enterprise",
                );
                None
            }
        },
        None => {
            if kind.code != ApplicationKind::ProvincialFamousTrademark {
                errors.push(
                    "product_id",
                    "required",
                    format!("a {} application names the product", kind.code),
                );
            }
            None
        }
    };
    if kind.food_only {
        if let Some(p) = &product {
            if p.sector_code != Sector::Food {
                errors.push(
                    "product_id",
                    "not_food",
                    format!(
                        "{} applies to food products only; this product is {}",
                        kind.code, p.sector_code
                    ),
                );
            }
        }
    }
    if kind.is_certification() {
        if let Some(d) = parse_details::<CertDetails>(&mut errors, &details) {
            errors.take(
                "details.certificate_number",
                RecordNumber::parse(&d.certificate_number),
            );
            match bodies::find_body(conn, &d.certification_body_id)? {
                None => errors.push(
                    "details.certification_body_id",
                    "unknown_body",
                    "see GET /api/v1/certification-bodies",
                ),
                Some(b) if !b.issues(kind.code) => errors.push(
                    "details.certification_body_id",
                    "body_not_for_kind",
                    format!("{} does not issue {}", b.name_en, kind.code),
                ),
                Some(_) => {}
            }
            if d.expires_on <= d.issued_on {
                errors.push(
                    "details.expires_on",
                    "before_issue",
                    "must be after issued_on",
                );
            } else if let Some(months) = kind.validity_months {
                let limit = d
                    .issued_on
                    .checked_add_months(Months::new(months as u32))
                    .unwrap_or(d.issued_on);
                if d.expires_on > limit {
                    errors.push(
                        "details.expires_on",
                        "beyond_validity",
                        format!(
                            "a {} certificate is valid for at most {months} months (until {limit})",
                            kind.code
                        ),
                    );
                }
            }
            if d.scope.trim().is_empty() {
                errors.push("details.scope", "required", "what the certificate covers");
            }
        }
    } else {
        parse_details::<DesignationDetails>(&mut errors, &details);
    }
    if kind.code == ApplicationKind::GiProduct {
        match &app.geographical_indication_id {
            None => errors.push(
                "geographical_indication_id",
                "required",
                "name the geographical indication",
            ),
            Some(g) if gis::find(conn, g)?.is_none() => errors.push(
                "geographical_indication_id",
                "unknown_gi",
                "no such geographical indication",
            ),
            Some(g) => {
                if let Some(p) = &product {
                    if !gis::covers(conn, g, &p.origin_region_code)? {
                        errors.push(
                            "product_id",
                            "origin_outside_protected_area",
                            format!(
                                "the product's origin {} is outside the GI's protected area",
                                p.origin_region_code
                            ),
                        );
                    }
                }
            }
        }
    } else if app.geographical_indication_id.is_some() {
        errors.push(
            "geographical_indication_id",
            "not_allowed",
            "only gi_product applications name a GI",
        );
    }
    errors.finish()
}

/// One application at a time per product and kind, and none while a record of that kind is
/// live; a certificate number its body issued is registered once. 409 naming what exists.
pub fn ensure_no_duplicate(
    conn: &mut DbConn,
    kind: &KindRow,
    app: &ApplicationRow,
    renews: Option<&str>,
) -> ApiResult<()> {
    let Some(product) = app.product_id.as_deref() else {
        return Ok(());
    };
    let open = super::repo::open_for(conn, product, app.kind, &app.id)?;
    if !open.is_empty() {
        return Err(ApiError::conflict_with(
            "duplicate_application",
            format!("this product has a {} application in progress", app.kind),
            open,
        ));
    }
    if kind.category == KindCategory::Change {
        return Ok(());
    }
    let today = crate::clock::today();
    let mut live = if kind.is_certification() {
        certificates::live_of_kind(conn, product, Some(app.kind), today)?
    } else {
        designations::live_of_kind(conn, product, Some(app.kind), today)?
    };
    // A renewal is filed while the record it renews is still in force.
    live.retain(|id| Some(id.as_str()) != renews);
    if !live.is_empty() {
        return Err(ApiError::conflict_with(
            "duplicate_application",
            format!("this product holds a live {} record", app.kind),
            live,
        ));
    }
    if kind.is_certification() {
        if let Ok(d) = serde_json::from_str::<certificates::CertDetails>(&app.details) {
            if let Ok(number) = crate::domain::RecordNumber::parse(&d.certificate_number) {
                certificates::ensure_unregistered(conn, &d.certification_body_id, number.as_str())?;
            }
        }
    }
    Ok(())
}
