//! The look-up of one number across certificates and designations.

use chrono::NaiveDate;

use super::{Holder, ProductRef, Verification};
use crate::db::DbConn;
use crate::domain::{ApplicationKind, RecordStatus, RecordType};
use crate::error::{ApiError, ApiResult};
use crate::records::{self, certificates as certs, designations};

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
