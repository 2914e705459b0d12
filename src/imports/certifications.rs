//! Importing historical certificates (green food, organic, halal certificates that ended before
//! the register, kept by an agency in spreadsheets): each is registered as a certificate of its
//! kind, body and product with the dates the file gives, through the records' own registration
//! (history entry, audit entry `certification.register`, publication). Only ended certificates
//! are imported: one in force is registered through an application.

use std::collections::HashMap;

use diesel::QueryResult;

use super::historical::{Historical, Kinds, Plan, RowCheck};
use super::table::Table;
use super::RowError;
use crate::auth::Actor;
use crate::db::DbConn;
use crate::domain::{KindCategory, RecordNumber, RecordStatus, RecordType};
use crate::error::ApiResult;
use crate::records::bodies;
use crate::records::certificates::{self as repo, CertRow};

pub const COLUMNS: &[&str] = &[
    "kind",
    "certificate_number",
    "certification_body",
    "holder_uscc",
    "product_gtin",
    "product_name",
    "scope",
    "issued_on",
    "expires_on",
];
pub const REQUIRED: &[&str] = &[
    "kind",
    "certificate_number",
    "certification_body",
    "holder_uscc",
    "scope",
    "issued_on",
    "expires_on",
];

/// Validates every row. `actor` is `None` for the operator at the command line; a regulator
/// imports only kinds its agency decides.
pub fn validate(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    t: &Table,
    progress: &mut dyn FnMut(&mut DbConn, usize) -> ApiResult<()>,
) -> ApiResult<Plan<CertRow>> {
    let now = crate::clock::now();
    let mut kinds = Kinds::new(actor, KindCategory::Certification);
    let mut bodies_seen: HashMap<String, Option<bodies::CertificationBody>> = HashMap::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut plan = Plan::default();
    for (i, row) in t.rows.iter().enumerate() {
        if i > 0 && i % 1000 == 0 {
            progress(conn, i)?;
        }
        let mut check = RowCheck::new(t, row);
        let kind = kinds.check(conn, &mut check)?;
        let number = match RecordNumber::parse(check.cell("certificate_number")) {
            Ok(v) => Some(v.as_str().to_owned()),
            Err(e) => {
                check.bad("certificate_number", "invalid_value", e.to_string());
                None
            }
        };
        let body_ref = check.cell("certification_body");
        if !bodies_seen.contains_key(body_ref) {
            let found = bodies::find_body_by_key(conn, body_ref)?;
            bodies_seen.insert(body_ref.to_owned(), found);
        }
        let body = match (&bodies_seen[body_ref], kind) {
            (None, _) => {
                check.bad(
                    "certification_body",
                    "unknown_body",
                    format!("no certification body {body_ref:?} (its key or id; see GET /api/v1/certification-bodies)"),
                );
                None
            }
            (Some(b), Some(kind)) if !b.issues(kind) => {
                check.bad(
                    "certification_body",
                    "body_not_for_kind",
                    format!("{} does not issue {kind}", b.name_en),
                );
                None
            }
            (Some(b), _) => Some(b.id.clone()),
        };
        let holder = check.holder(conn, "holder_uscc")?;
        let product = match &holder {
            Some(h) => {
                let p = check.product(conn, h)?;
                if p.is_none()
                    && check.cell("product_gtin").is_empty()
                    && check.cell("product_name").is_empty()
                {
                    check.bad(
                        "product_gtin",
                        "required",
                        "a certificate certifies a product: give product_gtin or product_name",
                    );
                }
                p
            }
            None => None,
        };
        let scope = check.cell("scope").to_owned();
        if scope.is_empty() {
            check.bad("scope", "required", "what the certificate covers");
        }
        let issued_on = check.date("issued_on");
        let expires_on = check.date("expires_on");
        if let (Some(from), Some(until)) = (issued_on, expires_on) {
            check.ended("expires_on", from, until, true);
        }
        // A number is unique per body and per kind.
        if let (Some(body), Some(number)) = (&body, &number) {
            check.once(
                &mut seen,
                "certificate_number",
                format!("body {body} {number}"),
            );
        }
        if let (Some(kind), Some(number)) = (kind, &number) {
            check.once(
                &mut seen,
                "certificate_number",
                format!("kind {kind} {number}"),
            );
        }
        if !check.errors.is_empty() {
            plan.errors.append(&mut check.errors);
            continue;
        }
        let (
            Some(kind),
            Some(number),
            Some(body),
            Some(holder),
            Some(product),
            Some(from),
            Some(until),
        ) = (kind, number, body, holder, product, issued_on, expires_on)
        else {
            continue;
        };
        let mut certified = crate::records::certified::snapshot(conn, &holder, Some(&product))?;
        certified.scope = Some(scope.clone());
        let new = CertRow {
            id: uuid::Uuid::now_v7().to_string(),
            application_id: None,
            kind,
            enterprise_id: holder,
            product_id: product,
            certificate_number: number,
            certification_body_id: Some(body),
            scope,
            issued_on: from,
            expires_on: until,
            status: RecordStatus::Valid,
            created_at: now,
            updated_at: now,
            version: 1,
            certified: certified.to_json(),
        };
        match registered(conn, &new)? {
            None => plan.create.push(new),
            Some(old)
                if old.kind == new.kind
                    && old.enterprise_id == new.enterprise_id
                    && old.product_id == new.product_id
                    && old.certification_body_id == new.certification_body_id
                    && old.scope == new.scope
                    && old.issued_on == new.issued_on
                    && old.expires_on == new.expires_on =>
            {
                plan.unchanged += 1
            }
            Some(old) => plan.errors.push(RowError::new(
                row.number,
                "certificate_number",
                "differs_from_registered",
                format!(
                    "{} is registered already, for this body or this kind, with other details (id {})",
                    new.certificate_number, old.id
                ),
            )),
        }
    }
    Ok(plan)
}

/// The certificate registered under the row's number for its body or its kind (each pair is
/// unique), if any.
fn registered(conn: &mut DbConn, row: &CertRow) -> QueryResult<Option<CertRow>> {
    Ok(repo::find_by_number(conn, &row.certificate_number)?
        .into_iter()
        .find(|c| c.kind == row.kind || c.certification_body_id == row.certification_body_id))
}

impl Historical for CertRow {
    const TYPE: RecordType = RecordType::Certification;
    const STATUS: RecordStatus = RecordStatus::Valid;

    fn id(&self) -> &str {
        &self.id
    }

    fn created_at(&self) -> chrono::NaiveDateTime {
        self.created_at
    }

    fn registered(&self, conn: &mut DbConn) -> QueryResult<bool> {
        Ok(registered(conn, self)?.is_some())
    }

    fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        repo::insert(conn, self)?;
        repo::mark_expiry_published(conn, &self.id)
    }
}
