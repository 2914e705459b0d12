//! Importing historical designations (titles granted before the register, such as the national
//! famous-brand titles that all ended by 2012): each is registered as a record of its kind with
//! the dates the file gives, through the records' own registration (history entry, audit entry
//! `designation.register`, publication). Only ended titles are imported: a title in force is
//! granted through an application, never loaded from a file.

use std::collections::HashMap;

use chrono::Datelike;

use diesel::QueryResult;

use super::historical::{Historical, Kinds, Plan, RowCheck};
use super::table::Table;
use super::RowError;
use crate::auth::Actor;
use crate::db::DbConn;
use crate::domain::{KindCategory, RecordNumber, RecordStatus, RecordType};
use crate::error::ApiResult;
use crate::records::designations::{self as repo, DesignationRow};

pub const COLUMNS: &[&str] = &[
    "kind",
    "number",
    "holder_uscc",
    "product_gtin",
    "product_name",
    "granted_year",
    "valid_from",
    "valid_until",
];
pub const REQUIRED: &[&str] = &[
    "kind",
    "number",
    "holder_uscc",
    "granted_year",
    "valid_from",
    "valid_until",
];

/// Validates every row. `actor` is `None` for the operator at the command line; a regulator
/// imports only kinds its agency decides.
pub fn validate(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    t: &Table,
    progress: &mut dyn FnMut(&mut DbConn, usize) -> ApiResult<()>,
) -> ApiResult<Plan<DesignationRow>> {
    let today = crate::clock::today();
    let now = crate::clock::now();
    let mut kinds = Kinds::new(actor, KindCategory::Designation);
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut plan = Plan::default();
    for (i, row) in t.rows.iter().enumerate() {
        if i > 0 && i % 1000 == 0 {
            progress(conn, i)?;
        }
        let mut check = RowCheck::new(t, row);
        let kind = kinds.check(conn, &mut check)?;
        let number = match RecordNumber::parse(check.cell("number")) {
            Ok(v) => Some(v.as_str().to_owned()),
            Err(e) => {
                check.bad("number", "invalid_value", e.to_string());
                None
            }
        };
        let holder = check.holder(conn, "holder_uscc")?;
        let product = match &holder {
            Some(h) => check.product(conn, h)?,
            None => None,
        };
        let valid_from = check.date("valid_from");
        let valid_until = check.date("valid_until");
        let granted_year = match check.cell("granted_year").parse::<i32>() {
            Ok(y) if (1949..=today.year()).contains(&y) => Some(y),
            _ => {
                check.bad(
                    "granted_year",
                    "invalid_value",
                    format!("a year from 1949 to {}", today.year()),
                );
                None
            }
        };
        if let (Some(from), Some(until)) = (valid_from, valid_until) {
            check.ended("valid_until", from, until, false);
        }
        if let Some(number) = &number {
            check.once(&mut seen, "number", number.clone());
        }
        if !check.errors.is_empty() {
            plan.errors.append(&mut check.errors);
            continue;
        }
        let (Some(kind), Some(number), Some(holder), Some(year), Some(from), Some(until)) =
            (kind, number, holder, granted_year, valid_from, valid_until)
        else {
            continue;
        };
        let mut certified = crate::records::certified::snapshot(conn, &holder, product.as_deref())?;
        certified.geographical_indication_id = None;
        let new = DesignationRow {
            id: uuid::Uuid::now_v7().to_string(),
            application_id: None,
            kind,
            enterprise_id: holder,
            product_id: product,
            geographical_indication_id: None,
            number,
            granted_year: year,
            valid_from: from,
            valid_until: Some(until),
            // Stored as granted; the dates make it read as expired (`records::effective_status`).
            status: RecordStatus::Active,
            created_at: now,
            updated_at: now,
            version: 1,
            certified: certified.to_json(),
        };
        match repo::find_by_number(conn, &new.number)? {
            None => plan.create.push(new),
            Some(old)
                if old.kind == new.kind
                    && old.enterprise_id == new.enterprise_id
                    && old.product_id == new.product_id
                    && old.granted_year == new.granted_year
                    && old.valid_from == new.valid_from
                    && old.valid_until == new.valid_until =>
            {
                plan.unchanged += 1
            }
            Some(old) => plan.errors.push(RowError::new(
                row.number,
                "number",
                if old.kind == new.kind {
                    "differs_from_registered"
                } else {
                    "duplicate_number"
                },
                format!(
                    "{} is registered already ({}, id {})",
                    new.number, old.kind, old.id
                ),
            )),
        }
    }
    Ok(plan)
}

impl Historical for DesignationRow {
    const TYPE: RecordType = RecordType::Designation;
    const STATUS: RecordStatus = RecordStatus::Active;

    fn id(&self) -> &str {
        &self.id
    }

    fn created_at(&self) -> chrono::NaiveDateTime {
        self.created_at
    }

    fn registered(&self, conn: &mut DbConn) -> QueryResult<bool> {
        Ok(repo::find_by_number(conn, &self.number)?.is_some())
    }

    fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        repo::insert(conn, self)?;
        repo::mark_expiry_published(conn, &self.id)
    }
}
