//! The dishonesty list's rows (`credit_listings`): its queries, its public view, and the check
//! every application makes. Market regulation's actions on it are in `supervision`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::credit_listings;
use crate::db::{DbConn, MultiBackend};
use crate::domain::Agency;
use crate::error::{ApiError, ApiResult};
use crate::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credit_listings)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ListingRow {
    pub id: String,
    pub enterprise_id: String,
    pub reason: String,
    pub legal_basis: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub agency_code: Agency,
    pub created_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
    pub removal_reason: Option<String>,
    pub version: i32,
}

impl ListingRow {
    /// In force on `day`: started, not ended, not removed.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.removed_at.is_none() && self.starts_on <= day && self.ends_on.is_none_or(|e| e >= day)
    }
}

#[derive(Debug, Default, Clone)]
pub struct ListingFilter {
    pub enterprise_id: Option<String>,
    /// `Some(true)`: in force today; `Some(false)`: removed, ended or not yet started.
    pub in_force: Option<bool>,
}

pub fn insert(conn: &mut DbConn, row: &ListingRow) -> QueryResult<()> {
    diesel::insert_into(credit_listings::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ListingRow>> {
    credit_listings::table
        .find(id)
        .select(ListingRow::as_select())
        .first(conn)
        .optional()
}

/// The listings in force today, in id order.
fn in_force_today(
) -> Box<dyn BoxableExpression<credit_listings::table, MultiBackend, SqlType = Bool>> {
    let today = crate::clock::today();
    Box::new(
        credit_listings::removed_at
            .is_null()
            .and(credit_listings::starts_on.le(today))
            .and(
                credit_listings::ends_on
                    .is_null()
                    .or(credit_listings::ends_on.assume_not_null().ge(today)),
            ),
    )
}

pub fn list(
    conn: &mut DbConn,
    f: &ListingFilter,
    page: &PageRequest,
) -> QueryResult<Vec<ListingRow>> {
    let mut q = credit_listings::table
        .select(ListingRow::as_select())
        .order(credit_listings::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(e) = &f.enterprise_id {
        q = q.filter(credit_listings::enterprise_id.eq(e.clone()));
    }
    match f.in_force {
        Some(true) => q = q.filter(in_force_today()),
        Some(false) => q = q.filter(diesel::dsl::not(in_force_today())),
        None => {}
    }
    if let Some(after) = &page.after {
        q = q.filter(credit_listings::id.gt(after.clone()));
    }
    q.load(conn)
}

/// The enterprise's listing in force today, if any.
pub fn in_force_for(conn: &mut DbConn, enterprise_id: &str) -> QueryResult<Option<ListingRow>> {
    credit_listings::table
        .filter(credit_listings::enterprise_id.eq(enterprise_id))
        .filter(in_force_today())
        .select(ListingRow::as_select())
        .order(credit_listings::id.asc())
        .first(conn)
        .optional()
}

/// Which of these enterprises are listed today.
pub fn listed_among(conn: &mut DbConn, enterprise_ids: &[String]) -> QueryResult<Vec<String>> {
    credit_listings::table
        .filter(credit_listings::enterprise_id.eq_any(enterprise_ids))
        .filter(in_force_today())
        .select(credit_listings::enterprise_id)
        .distinct()
        .load(conn)
}

/// Marks a listing removed if it is still at `version` and not removed; 0 rows otherwise.
pub fn remove_guarded(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    reason: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        credit_listings::table
            .find(id)
            .filter(credit_listings::version.eq(version))
            .filter(credit_listings::removed_at.is_null()),
    )
    .set((
        credit_listings::removed_at.eq(Some(at)),
        credit_listings::removal_reason.eq(Some(reason)),
        credit_listings::version.eq(version + 1),
    ))
    .execute(conn)
}

/// A listing as the public sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListingView {
    pub id: String,
    pub enterprise_id: String,
    #[schema(example = "柴达木示例枸杞有限公司")]
    pub enterprise_name: String,
    #[schema(example = "91632800MA752K3R1C")]
    pub uscc: String,
    #[schema(example = "以次充好，销售不合格枸杞产品，拒不整改")]
    pub reason: String,
    #[schema(example = "《市场监督管理严重违法失信名单管理办法》第九条")]
    pub legal_basis: String,
    pub starts_on: NaiveDate,
    /// Open-ended when absent.
    pub ends_on: Option<NaiveDate>,
    /// The agency that listed it.
    #[schema(example = "market_regulation")]
    pub agency_code: Agency,
    pub listed_at: chrono::DateTime<chrono::Utc>,
    /// In force today: started, not ended, not removed.
    pub in_force: bool,
    /// When it was removed (信用修复), and why.
    pub removed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub removal_reason: Option<String>,
    pub version: i32,
}

pub fn views(conn: &mut DbConn, rows: &[ListingRow]) -> ApiResult<Vec<ListingView>> {
    let today = crate::clock::today();
    let ids: Vec<String> = rows.iter().map(|r| r.enterprise_id.clone()).collect();
    let names = super::repo::names_of(conn, &ids)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (name, uscc) = names
            .get(&r.enterprise_id)
            .cloned()
            .ok_or_else(|| ApiError::Internal(format!("listing {} names no enterprise", r.id)))?;
        out.push(ListingView {
            id: r.id.clone(),
            enterprise_id: r.enterprise_id.clone(),
            enterprise_name: name,
            uscc,
            reason: r.reason.clone(),
            legal_basis: r.legal_basis.clone(),
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            agency_code: r.agency_code,
            listed_at: crate::clock::to_utc(r.created_at),
            in_force: r.in_force(today),
            removed_at: r.removed_at.map(crate::clock::to_utc),
            removal_reason: r.removal_reason.clone(),
            version: r.version,
        });
    }
    Ok(out)
}

/// 422 `enterprise_on_dishonesty_list` while a listing is in force: applications are neither
/// submitted nor approved.
pub fn ensure_not_listed(conn: &mut DbConn, enterprise_id: &str) -> ApiResult<()> {
    match in_force_for(conn, enterprise_id)? {
        Some(listing) => Err(ApiError::Refused {
            code: "enterprise_on_dishonesty_list",
            field: "enterprise_id",
            detail: format!(
                "the enterprise is on the dishonesty list (listing {}, since {}): it may not apply",
                listing.id, listing.starts_on
            ),
        }),
        None => Ok(()),
    }
}
