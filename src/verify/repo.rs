//! The look-up of one number across certificates and designations.

use chrono::NaiveDate;

use super::{Holder, ProductRef, Verification};
use crate::db::DbConn;
use crate::domain::{ApplicationKind, EnterpriseStatus, RecordStatus, RecordType};
use crate::error::{ApiError, ApiResult};
use crate::records;
use crate::records::certified::Certified;
use diesel::Queryable;

/// A product's certified fields as they are now: name, brand, GTIN, sector, category, origin.
type LiveProduct = (String, String, Option<String>, String, String, String);
/// The holder as it is now: id, name, USCC, status.
type LiveHolder = (String, String, String, EnterpriseStatus);

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

/// One record a number names, from either table: what verification reads of it, in the
/// order of the look-up's select.
#[derive(Queryable)]
struct Hit {
    record_type: RecordType,
    id: String,
    kind: ApplicationKind,
    product_id: Option<String>,
    number: String,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    status: RecordStatus,
    certified: String,
    geographical_indication_id: Option<String>,
    holder: LiveHolder,
    product: Option<LiveProduct>,
}

/// Every certificate and designation with this number, each joined to its holder and product,
/// in one statement: this is the hot path of third-party apps, and a second round trip for the
/// designations doubled the database's cost of a verification. Constants are bound, not
/// literal SQL, so that diesel keeps the statement prepared (planning it took longer than
/// running it).
fn hits(conn: &mut DbConn, number: &str) -> diesel::QueryResult<Vec<Hit>> {
    use crate::db::schema::{
        certifications as c, designations as d, enterprises as e, products as p,
    };
    use diesel::prelude::*;
    use diesel::sql_types::{Nullable, Text};
    let live_product = (
        p::name,
        p::brand,
        p::gtin,
        p::sector_code,
        p::category_code,
        p::origin_region_code,
    );
    let holder = (e::id, e::name, e::uscc, e::status);
    let certs = c::table
        .inner_join(e::table)
        .inner_join(p::table)
        .filter(c::certificate_number.eq(number))
        .select((
            RecordType::Certification.into_sql::<Text>(),
            c::id,
            c::kind,
            c::product_id.nullable(),
            c::certificate_number,
            c::issued_on,
            c::expires_on.nullable(),
            c::status,
            c::certified,
            None::<String>.into_sql::<Nullable<Text>>(),
            holder,
            live_product.nullable(),
        ));
    let des = d::table
        .inner_join(e::table)
        .left_join(p::table)
        .filter(d::number.eq(number))
        .select((
            RecordType::Designation.into_sql::<Text>(),
            d::id,
            d::kind,
            d::product_id,
            d::number,
            d::valid_from,
            d::valid_until,
            d::status,
            d::certified,
            d::geographical_indication_id,
            holder,
            live_product.nullable(),
        ));
    // diesel's multi-backend connection has no UNION: each backend runs the same statement.
    let mut hits: Vec<Hit> = match conn {
        DbConn::Pg(c) => certs.union_all(des).load(c)?,
        DbConn::Sqlite(c) => certs.union_all(des).load(c)?,
    };
    // Certificates first, each table's rows as stored: the order a conflict names the kinds in.
    hits.sort_by_key(|h| h.record_type == RecordType::Designation);
    Ok(hits)
}

/// What the register holds for a number: one statement for today, and each record's status
/// history when asked about a past date.
pub fn verify_number(
    conn: &mut DbConn,
    number: &str,
    kind: Option<ApplicationKind>,
    at: Option<NaiveDate>,
) -> ApiResult<Verification> {
    let today = crate::clock::today();
    let mut found: Vec<Verification> = Vec::new();
    for h in hits(conn, number)?
        .into_iter()
        .filter(|h| kind.is_none_or(|k| k == h.kind))
    {
        let status = match at {
            Some(date) => records::status_on(
                &records::history::history(conn, h.record_type, &h.id)?,
                h.valid_from,
                h.valid_until,
                date,
            ),
            None => records::effective_status(h.status, h.valid_until, today),
        };
        let valid = match h.record_type {
            RecordType::Certification => status == RecordStatus::Valid,
            RecordType::Designation => status == RecordStatus::Active,
        };
        let certified = Certified::parse(&h.certified);
        let current_differs = certified.differences(&now_facts(&h.holder, h.product.as_ref()));
        found.push(Verification {
            current_differs,
            number: h.number,
            record_type: h.record_type,
            kind: h.kind,
            record_id: h.id,
            valid,
            status,
            valid_from: h.valid_from,
            valid_until: h.valid_until,
            holder: holder(&h.holder, &certified),
            product: h.product_id.map(|id| ProductRef {
                href: format!("/api/v1/products/{id}"),
                name: certified.product_name.clone().unwrap_or_default(),
                id,
            }),
            geographical_indication_id: h.geographical_indication_id,
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
