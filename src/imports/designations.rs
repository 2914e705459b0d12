//! Importing historical designations (titles granted before the register, such as the national
//! famous-brand titles that all ended by 2012): each is registered as a record of its kind with
//! the dates the file gives, through the records' own registration (history entry, audit entry
//! `designation.register`, publication). Only ended titles are imported: a title in force is
//! granted through an application, never loaded from a file.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use super::table::Table;
use super::{cell, Counts, RowError};
use crate::audit::AuditCtx;
use crate::auth::policy::{decide, Decision};
use crate::auth::{Action, Actor, Target};
use crate::db::{write_tx, DbConn};
use crate::domain::{ApplicationKind, KindCategory, RecordNumber, RecordStatus, RecordType, Uscc};
use crate::error::{ApiError, ApiResult};
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

const BATCH: usize = 500;

/// The reason the history of an imported record gives for its registration.
pub const REASON: &str = "imported: historical record";

pub struct Plan {
    pub create: Vec<DesignationRow>,
    pub unchanged: i32,
    pub errors: Vec<RowError>,
}

/// Validates every row. `actor` is `None` for the operator at the command line; a regulator
/// imports only kinds its agency decides.
pub fn validate(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    t: &Table,
    progress: &mut dyn FnMut(&mut DbConn, usize) -> ApiResult<()>,
) -> ApiResult<Plan> {
    let today = crate::clock::today();
    let now = crate::clock::now();
    let mut kinds: HashMap<ApplicationKind, Result<(), (String, String)>> = HashMap::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut plan = Plan {
        create: Vec::new(),
        unchanged: 0,
        errors: Vec::new(),
    };
    for (i, row) in t.rows.iter().enumerate() {
        let n = row.number;
        let before = plan.errors.len();
        let mut bad = |column: &str, code: &str, message: String| {
            plan.errors.push(RowError::new(n, column, code, message))
        };
        let kind = match ApplicationKind::parse(cell(t, row, "kind")) {
            Err(e) => {
                bad("kind", "invalid_value", e.to_string());
                None
            }
            Ok(kind) => {
                if let std::collections::hash_map::Entry::Vacant(slot) = kinds.entry(kind) {
                    let info = crate::reference::kinds::find(conn, kind)?;
                    let agency = crate::reference::kinds::deciding_agency(conn, kind)?;
                    let allowed = match actor {
                        None => true,
                        Some(a) => {
                            decide(
                                Some(a),
                                Action::Decide,
                                Target::default().decided_by(agency),
                            ) == Decision::Allow
                        }
                    };
                    let verdict = match info {
                        Some(k) if k.category != KindCategory::Designation => Err((
                            "not_a_designation".into(),
                            format!("{kind} is not a designation"),
                        )),
                        None => Err(("invalid_value".into(), format!("no kind {kind}"))),
                        Some(_) if !allowed => Err((
                            "not_your_agency".into(),
                            format!("{kind} is decided by another agency"),
                        )),
                        Some(_) => Ok(()),
                    };
                    slot.insert(verdict);
                }
                match &kinds[&kind] {
                    Ok(()) => Some(kind),
                    Err((code, message)) => {
                        bad("kind", code, message.clone());
                        None
                    }
                }
            }
        };
        let number = match RecordNumber::parse(cell(t, row, "number")) {
            Ok(v) => Some(v.as_str().to_owned()),
            Err(e) => {
                bad("number", "invalid_value", e.to_string());
                None
            }
        };
        let holder = match Uscc::parse(cell(t, row, "holder_uscc")) {
            Err(e) => {
                bad(
                    "holder_uscc",
                    crate::error::HasCode::code(&e),
                    e.to_string(),
                );
                None
            }
            Ok(uscc) => match crate::enterprises::repo::find_by_uscc(conn, uscc.as_str())? {
                Some(e) => Some(e.id),
                None => {
                    bad(
                        "holder_uscc",
                        "unknown_enterprise",
                        format!("no enterprise with USCC {}", uscc.as_str()),
                    );
                    None
                }
            },
        };
        let product = match (
            &holder,
            cell(t, row, "product_gtin"),
            cell(t, row, "product_name"),
        ) {
            (_, "", "") | (None, _, _) => None,
            (Some(holder), gtin, name) => {
                let (column, found) = if !gtin.is_empty() {
                    match crate::domain::Gtin::parse(gtin) {
                        Err(e) => {
                            bad(
                                "product_gtin",
                                crate::error::HasCode::code(&e),
                                e.to_string(),
                            );
                            ("product_gtin", None)
                        }
                        Ok(g) => (
                            "product_gtin",
                            Some(crate::products::repo::find_by_gtin(conn, g.as_str())?),
                        ),
                    }
                } else {
                    (
                        "product_name",
                        Some(crate::products::repo::find_by_name(conn, holder, name)?),
                    )
                };
                match found {
                    None => None,
                    Some(Some(p)) if &p.enterprise_id == holder => Some(p.id),
                    Some(_) => {
                        bad(
                            column,
                            "unknown_product",
                            "the holder has no such product".into(),
                        );
                        None
                    }
                }
            }
        };
        let date = |bad: &mut dyn FnMut(&str, &str, String), column: &str| {
            let raw = cell(t, row, column);
            match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    bad(
                        column,
                        "invalid_date",
                        format!("{raw:?} is not a date (YYYY-MM-DD)"),
                    );
                    None
                }
            }
        };
        let valid_from = date(&mut bad, "valid_from");
        let valid_until = date(&mut bad, "valid_until");
        let granted_year = match cell(t, row, "granted_year").parse::<i32>() {
            Ok(y) if (1949..=today.year()).contains(&y) => Some(y),
            _ => {
                bad(
                    "granted_year",
                    "invalid_value",
                    format!("a year from 1949 to {}", today.year()),
                );
                None
            }
        };
        if let (Some(from), Some(until)) = (valid_from, valid_until) {
            if until < from {
                bad(
                    "valid_until",
                    "ends_before_start",
                    "valid_until is before valid_from".into(),
                );
            } else if until >= today {
                bad(
                    "valid_until",
                    "still_valid",
                    "an import loads ended titles only; a title in force is granted through an \
                     application"
                        .into(),
                );
            }
        }
        if let Some(number) = &number {
            if let Some(first) = seen.insert(number.clone(), n) {
                bad(
                    "number",
                    "duplicate_in_file",
                    format!("row {first} has the same number"),
                );
            }
        }
        if plan.errors.len() > before {
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
                n,
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
        if i % 1000 == 999 {
            progress(conn, i + 1)?;
        }
    }
    Ok(plan)
}

/// Registers the planned records in batches: each row, its history entry and its audit entry
/// (`designation.register`, reason [`REASON`]), as a grant writes them.
pub fn write(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    plan: Plan,
    progress: &mut dyn FnMut(&mut DbConn, usize, Counts) -> ApiResult<()>,
) -> ApiResult<Counts> {
    let mut counts = Counts {
        created: 0,
        unchanged: plan.unchanged,
    };
    let mut done = plan.unchanged as usize;
    for batch in plan.create.chunks(BATCH) {
        let written = write_tx(conn, |conn| {
            let mut written = 0;
            for row in batch {
                // Another import may have registered it meanwhile.
                if repo::find_by_number(conn, &row.number)?.is_some() {
                    continue;
                }
                repo::insert(conn, row)?;
                crate::records::log_status(
                    conn,
                    ctx,
                    RecordType::Designation,
                    &row.id,
                    None,
                    RecordStatus::Active,
                    Some(REASON),
                    row.created_at,
                )?;
                repo::mark_expiry_published(conn, &row.id)?;
                written += 1;
            }
            Ok::<_, ApiError>(written)
        })?;
        counts.created += written;
        counts.unchanged += batch.len() as i32 - written;
        done += batch.len();
        progress(conn, done, counts)?;
    }
    progress(conn, done, counts)?;
    Ok(counts)
}
