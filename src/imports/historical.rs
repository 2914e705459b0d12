//! What the imports of historical records (designations and certificates) check alike: the kind
//! is of the right category and decided by the importing regulator's agency, the holder is a
//! registered enterprise, the product (when named) is the holder's, the dates are dates, and the
//! record has ended. A record in force is granted through an application, never loaded from a
//! file.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::QueryResult;

use super::table::{Row, Table};
use super::{cell, Counts, RowError};
use crate::audit::AuditCtx;
use crate::auth::policy::{decide, Decision};
use crate::auth::{Action, Actor, Target};
use crate::db::{write_tx, DbConn};
use crate::domain::{ApplicationKind, KindCategory, RecordStatus, RecordType};
use crate::error::{ApiError, ApiResult, HasCode};

/// The reason the history of an imported record gives for its registration.
pub const REASON: &str = "imported: historical record";

/// Records written per transaction.
const BATCH: usize = 500;

/// What validating a file found: the records to register, how many are registered already,
/// and what is wrong.
pub struct Plan<R> {
    pub create: Vec<R>,
    pub unchanged: i32,
    pub errors: Vec<RowError>,
}

impl<R> Default for Plan<R> {
    fn default() -> Self {
        Self {
            create: Vec::new(),
            unchanged: 0,
            errors: Vec::new(),
        }
    }
}

/// A record an import registers.
pub trait Historical {
    const TYPE: RecordType;
    /// The status it is stored with: as granted; its dates make it read as expired
    /// (`records::effective_status`).
    const STATUS: RecordStatus;
    fn id(&self) -> &str;
    fn created_at(&self) -> NaiveDateTime;
    /// Registered already under its natural key (by another import meanwhile).
    fn registered(&self, conn: &mut DbConn) -> QueryResult<bool>;
    /// Inserts it, its end already announced: history does not reach followers as news.
    fn insert(&self, conn: &mut DbConn) -> QueryResult<()>;
}

/// Registers the planned records in batches: each row, its history entry and its audit entry
/// (`<type>.register`, reason [`REASON`]), as a grant writes them.
pub fn write<R: Historical>(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    plan: Plan<R>,
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
                if row.registered(conn)? {
                    continue;
                }
                row.insert(conn)?;
                crate::records::log_status(
                    conn,
                    ctx,
                    R::TYPE,
                    row.id(),
                    None,
                    R::STATUS,
                    Some(REASON),
                    row.created_at(),
                )?;
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

/// One row's checks, collecting what is wrong with it.
pub struct RowCheck<'a> {
    pub table: &'a Table,
    pub row: &'a Row,
    pub errors: Vec<RowError>,
}

impl<'a> RowCheck<'a> {
    pub fn new(table: &'a Table, row: &'a Row) -> Self {
        Self {
            table,
            row,
            errors: Vec::new(),
        }
    }

    pub fn cell(&self, column: &str) -> &'a str {
        cell(self.table, self.row, column)
    }

    pub fn bad(&mut self, column: &str, code: &str, message: impl Into<String>) {
        self.errors
            .push(RowError::new(self.row.number, column, code, message));
    }

    /// The registered enterprise whose USCC the column holds.
    pub fn holder(&mut self, conn: &mut DbConn, column: &str) -> ApiResult<Option<String>> {
        match crate::domain::Uscc::parse(self.cell(column)) {
            Err(e) => {
                self.bad(column, e.code(), e.to_string());
                Ok(None)
            }
            Ok(uscc) => match crate::enterprises::repo::find_by_uscc(conn, uscc.as_str())? {
                // Only an active enterprise's records are public: loading one for another would
                // announce, in the change feed, an enterprise the register does not show.
                Some(e) if e.status == crate::domain::EnterpriseStatus::Active => Ok(Some(e.id)),
                Some(e) => {
                    self.bad(
                        column,
                        "enterprise_not_active",
                        format!(
                            "the enterprise with USCC {} is {}: only an active enterprise's records are loaded",
                            uscc.as_str(),
                            e.status
                        ),
                    );
                    Ok(None)
                }
                None => {
                    self.bad(
                        column,
                        "unknown_enterprise",
                        format!("no enterprise with USCC {}", uscc.as_str()),
                    );
                    Ok(None)
                }
            },
        }
    }

    /// The holder's product named by `product_gtin`, else by `product_name` (`None` when the
    /// row names none, or on an error).
    pub fn product(&mut self, conn: &mut DbConn, holder: &str) -> ApiResult<Option<String>> {
        let (gtin, name) = (self.cell("product_gtin"), self.cell("product_name"));
        let (column, found) = if !gtin.is_empty() {
            match crate::domain::Gtin::parse(gtin) {
                Err(e) => {
                    self.bad("product_gtin", e.code(), e.to_string());
                    return Ok(None);
                }
                Ok(g) => (
                    "product_gtin",
                    crate::products::repo::find_by_gtin(conn, g.as_str())?,
                ),
            }
        } else if !name.is_empty() {
            (
                "product_name",
                crate::products::repo::find_by_name(conn, holder, name)?,
            )
        } else {
            return Ok(None);
        };
        match found {
            Some(p) if p.enterprise_id == holder => Ok(Some(p.id)),
            _ => {
                self.bad(column, "unknown_product", "the holder has no such product");
                Ok(None)
            }
        }
    }

    pub fn date(&mut self, column: &str) -> Option<NaiveDate> {
        let raw = self.cell(column);
        match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.bad(
                    column,
                    "invalid_date",
                    format!("{raw:?} is not a date (YYYY-MM-DD)"),
                );
                None
            }
        }
    }

    /// The record ran from `from` to `until` (a later day when `later`) and has ended.
    pub fn ended(&mut self, until_column: &str, from: NaiveDate, until: NaiveDate, later: bool) {
        if until < from || (later && until == from) {
            self.bad(
                until_column,
                "ends_before_start",
                if later {
                    "the end must be after the start"
                } else {
                    "the end is before the start"
                },
            );
        } else if until >= crate::clock::today() {
            self.bad(
                until_column,
                "still_valid",
                "an import loads ended records only; one in force is granted through an \
                 application",
            );
        }
    }

    /// A natural key seen on an earlier row of the file.
    pub fn once(&mut self, seen: &mut HashMap<String, u32>, column: &str, key: String) {
        if let Some(first) = seen.insert(key, self.row.number) {
            self.bad(
                column,
                "duplicate_in_file",
                format!("row {first} has the same {column}"),
            );
        }
    }
}

/// The kinds a file names, each checked once: of the importer's category, and decided by the
/// importing regulator's agency (`actor` is `None` for the operator at the command line).
pub struct Kinds<'a> {
    actor: Option<&'a Actor>,
    category: KindCategory,
    seen: HashMap<ApplicationKind, Result<(), (&'static str, String)>>,
}

impl<'a> Kinds<'a> {
    pub fn new(actor: Option<&'a Actor>, category: KindCategory) -> Self {
        Self {
            actor,
            category,
            seen: HashMap::new(),
        }
    }

    pub fn check(
        &mut self,
        conn: &mut DbConn,
        row: &mut RowCheck<'_>,
    ) -> ApiResult<Option<ApplicationKind>> {
        let kind = match ApplicationKind::parse(row.cell("kind")) {
            Ok(kind) => kind,
            Err(e) => {
                row.bad("kind", "invalid_value", e.to_string());
                return Ok(None);
            }
        };
        if !self.seen.contains_key(&kind) {
            let verdict = self.verdict(conn, kind)?;
            self.seen.insert(kind, verdict);
        }
        match &self.seen[&kind] {
            Ok(()) => Ok(Some(kind)),
            Err((code, message)) => {
                row.bad("kind", code, message.clone());
                Ok(None)
            }
        }
    }

    fn verdict(
        &self,
        conn: &mut DbConn,
        kind: ApplicationKind,
    ) -> ApiResult<Result<(), (&'static str, String)>> {
        let Some(info) = crate::reference::kinds::find(conn, kind)? else {
            return Ok(Err(("invalid_value", format!("no kind {kind}"))));
        };
        if info.category != self.category {
            let code = match self.category {
                KindCategory::Designation => "not_a_designation",
                _ => "not_a_certification",
            };
            return Ok(Err((code, format!("{kind} is not a {}", self.category))));
        }
        let agency = crate::reference::kinds::deciding_agency(conn, kind)?;
        let allowed = self.actor.is_none_or(|a| {
            decide(
                Some(a),
                Action::Decide,
                Target::default().decided_by(agency),
            ) == Decision::Allow
        });
        Ok(if allowed {
            Ok(())
        } else {
            Err((
                "not_your_agency",
                format!("{kind} is decided by another agency"),
            ))
        })
    }
}
