//! The look-up of one number across certificates and designations.

use chrono::NaiveDate;

use super::{Holder, ProductRef, Verification};
use crate::db::DbConn;
use crate::domain::{ApplicationKind, EnterpriseStatus, RecordStatus, RecordType};
use crate::error::{ApiError, ApiResult};
use crate::records::certified::Certified;
use crate::records::{self, certificates as certs, designations};

/// A product's certified fields as they are now: name, brand, GTIN, sector, category, origin.
type LiveProduct = (String, String, Option<String>, String, String, String);
/// The holder as it is now: id, name, USCC, status.
type LiveHolder = (String, String, String, EnterpriseStatus);
/// A certificate with its holder and product as they are now.
type CertHit = (certs::CertRow, LiveHolder, LiveProduct);
/// A designation with its holder and, when it names one, its product as they are now.
type DesignationHit = (
    designations::DesignationRow,
    LiveHolder,
    Option<LiveProduct>,
);

/// The facts as they are now, to compare with what was certified.
fn now_facts(holder: &LiveHolder, product: Option<&LiveProduct>) -> Certified {
    Certified {
        holder_name: holder.1.clone(),
        holder_uscc: holder.2.clone(),
        product_name: product.map(|p| p.0.clone()),
        brand: product.map(|p| p.1.clone()),
        gtin: product.and_then(|p| p.2.clone()),
        sector: product.map(|p| p.3.clone()),
        category: product.map(|p| p.4.clone()),
        origin_region_code: product.map(|p| p.5.clone()),
        ..Default::default()
    }
}

/// The holder as certified, with its status on the register now.
fn holder(now: &LiveHolder, certified: &Certified) -> Holder {
    Holder {
        enterprise_id: now.0.clone(),
        name: certified.holder_name.clone(),
        uscc: certified.holder_uscc.clone(),
        status: now.3,
    }
}

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
            (e::id, e::name, e::uscc, e::status),
            (
                p::name,
                p::brand,
                p::gtin,
                p::sector_code,
                p::category_code,
                p::origin_region_code,
            ),
        ))
        .load(conn)?;
    for (c, ent, live) in certs
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
        let certified = Certified::parse(&c.certified);
        let current_differs = certified.differences(&now_facts(&ent, Some(&live)));
        found.push(Verification {
            current_differs,
            number: c.certificate_number.clone(),
            record_type: RecordType::Certification,
            kind: c.kind,
            record_id: c.id.clone(),
            valid: status == RecordStatus::Valid,
            status,
            valid_from: c.issued_on,
            valid_until: Some(c.expires_on),
            holder: holder(&ent, &certified),
            product: Some(ProductRef {
                href: format!("/api/v1/products/{}", c.product_id),
                id: c.product_id.clone(),
                name: certified.product_name.clone().unwrap_or_default(),
            }),
            geographical_indication_id: None,
            certified,
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
            (e::id, e::name, e::uscc, e::status),
            (
                p::name,
                p::brand,
                p::gtin,
                p::sector_code,
                p::category_code,
                p::origin_region_code,
            )
                .nullable(),
        ))
        .first(conn)
        .optional()?;
    if let Some((d, ent, live)) = des.filter(|(d, _, _)| kind.is_none_or(|k| k == d.kind)) {
        let status = match at {
            Some(date) => records::status_on(
                &records::history::history(conn, RecordType::Designation, &d.id)?,
                d.valid_from,
                d.valid_until,
                date,
            ),
            None => records::effective_status(d.status, d.valid_until, today),
        };
        let certified = Certified::parse(&d.certified);
        let current_differs = certified.differences(&now_facts(&ent, live.as_ref()));
        found.push(Verification {
            current_differs,
            number: d.number.clone(),
            record_type: RecordType::Designation,
            kind: d.kind,
            record_id: d.id.clone(),
            valid: status == RecordStatus::Active,
            status,
            valid_from: d.valid_from,
            valid_until: d.valid_until,
            holder: holder(&ent, &certified),
            product: d.product_id.clone().map(|id| ProductRef {
                href: format!("/api/v1/products/{id}"),
                id,
                name: certified.product_name.clone().unwrap_or_default(),
            }),
            geographical_indication_id: d.geographical_indication_id.clone(),
            certified,
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
