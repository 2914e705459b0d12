use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{designations, enterprises, products};
use crate::db::{region_prefix_pattern, DbConn};
use crate::enterprises::repo::Visibility;
use crate::pagination::PageRequest;
use crate::records::StatusChange;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = designations)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DesignationRow {
    pub id: String,
    pub application_id: Option<String>,
    pub kind: String,
    pub enterprise_id: String,
    pub product_id: Option<String>,
    pub geographical_indication_id: Option<String>,
    pub number: String,
    pub granted_year: i32,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

#[derive(Debug, Default, Clone)]
pub struct DesignationFilter {
    pub kind: Option<String>,
    /// active / suspended / revoked / expired (expired and active are derived from the date).
    pub status: Option<String>,
    pub enterprise_id: Option<String>,
    pub product_id: Option<String>,
    pub geographical_indication_id: Option<String>,
    pub region_code: Option<String>,
    pub valid_on: Option<NaiveDate>,
}

pub fn list(
    conn: &mut DbConn,
    vis: &Visibility,
    f: &DesignationFilter,
    page: &PageRequest,
) -> QueryResult<Vec<DesignationRow>> {
    let today = crate::clock::today();
    let mut q = designations::table
        .select(DesignationRow::as_select())
        .order(designations::id.asc())
        .limit(page.fetch())
        .into_boxed();
    // A correlated EXISTS (not IN): both planners can then walk the id order and stop at the
    // page size, instead of collecting every row of every active enterprise first.
    let active = || {
        diesel::dsl::exists(
            enterprises::table
                .filter(enterprises::id.eq(designations::enterprise_id))
                .filter(enterprises::status.eq("active")),
        )
    };
    match vis {
        Visibility::All => {}
        Visibility::Active => q = q.filter(active()),
        Visibility::ActiveOr(own) => {
            q = q.filter(active().or(designations::enterprise_id.eq(own.clone())))
        }
    }
    if let Some(k) = &f.kind {
        q = q.filter(designations::kind.eq(k.clone()));
    }
    let live = designations::valid_until
        .is_null()
        .or(designations::valid_until.ge(today));
    match f.status.as_deref() {
        Some("active") => q = q.filter(designations::status.eq("active")).filter(live),
        Some("expired") => {
            q = q
                .filter(designations::status.eq("active"))
                .filter(designations::valid_until.lt(today))
        }
        Some(s) => q = q.filter(designations::status.eq(s.to_owned())),
        None => {}
    }
    if let Some(e) = &f.enterprise_id {
        q = q.filter(designations::enterprise_id.eq(e.clone()));
    }
    if let Some(p) = &f.product_id {
        q = q.filter(designations::product_id.eq(p.clone()));
    }
    if let Some(g) = &f.geographical_indication_id {
        q = q.filter(designations::geographical_indication_id.eq(g.clone()));
    }
    if let Some(r) = &f.region_code {
        let in_region = enterprises::table
            .filter(enterprises::region_code.like(region_prefix_pattern(r)))
            .select(enterprises::id);
        q = q.filter(designations::enterprise_id.eq_any(in_region));
    }
    if let Some(d) = f.valid_on {
        q = q
            .filter(designations::valid_from.le(d))
            .filter(
                designations::valid_until
                    .is_null()
                    .or(designations::valid_until.ge(d)),
            )
            .filter(designations::status.ne("revoked"));
    }
    if let Some(after) = &page.after {
        q = q.filter(designations::id.gt(after.clone()));
    }
    q.load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<DesignationRow>> {
    designations::table
        .find(id)
        .select(DesignationRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_number(conn: &mut DbConn, number: &str) -> QueryResult<Option<DesignationRow>> {
    designations::table
        .filter(designations::number.eq(number))
        .select(DesignationRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &DesignationRow) -> QueryResult<()> {
    diesel::insert_into(designations::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// How many designations of a number prefix and year exist (for the next serial).
pub fn count_numbers(conn: &mut DbConn, prefix: &str) -> QueryResult<i64> {
    designations::table
        .filter(designations::number.like(format!("{prefix}%")))
        .count()
        .get_result(conn)
}

pub fn set_status_guarded(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    status: &str,
) -> QueryResult<usize> {
    diesel::update(
        designations::table
            .filter(designations::id.eq(id))
            .filter(designations::version.eq(version)),
    )
    .set((
        designations::status.eq(status),
        designations::updated_at.eq(crate::clock::now()),
        designations::version.eq(version + 1),
    ))
    .execute(conn)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DesignationView {
    pub id: String,
    #[schema(example = "provincial_famous_brand")]
    pub kind: String,
    #[schema(example = "QHMP-2026-0001")]
    pub number: String,
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub product_id: Option<String>,
    pub product_name: Option<String>,
    pub geographical_indication_id: Option<String>,
    #[schema(example = 2026)]
    pub granted_year: i32,
    pub valid_from: NaiveDate,
    /// `null`: no fixed expiry (GI mark use).
    pub valid_until: Option<NaiveDate>,
    /// `active`, `suspended`, `revoked`, or `expired` (derived from `valid_until`).
    #[schema(example = "active")]
    pub status: String,
    pub application_id: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DesignationDetail {
    #[serde(flatten)]
    pub designation: DesignationView,
    pub history: Vec<StatusChange>,
}

pub fn views(conn: &mut DbConn, rows: &[DesignationRow]) -> QueryResult<Vec<DesignationView>> {
    let e: Vec<String> = rows.iter().map(|r| r.enterprise_id.clone()).collect();
    let p: Vec<String> = rows.iter().filter_map(|r| r.product_id.clone()).collect();
    let names = crate::certifications::repo::names(conn, &e, &p)?;
    let today = crate::clock::today();
    Ok(rows
        .iter()
        .map(|r| DesignationView {
            id: r.id.clone(),
            kind: r.kind.clone(),
            number: r.number.clone(),
            enterprise_id: r.enterprise_id.clone(),
            enterprise_name: names
                .enterprise(&r.enterprise_id)
                .map(|e| e.1.clone())
                .unwrap_or_default(),
            product_id: r.product_id.clone(),
            product_name: r.product_id.as_deref().and_then(|p| names.product(p)),
            geographical_indication_id: r.geographical_indication_id.clone(),
            granted_year: r.granted_year,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            status: crate::records::effective_status(&r.status, r.valid_until, today),
            application_id: r.application_id.clone(),
            created_at: crate::clock::to_utc(r.created_at),
            updated_at: crate::clock::to_utc(r.updated_at),
            version: r.version,
        })
        .collect())
}

/// Products referenced by designations exist in `products`; used by the GI users list.
pub fn product_name(conn: &mut DbConn, id: &str) -> QueryResult<Option<String>> {
    products::table
        .find(id)
        .select(products::name)
        .first(conn)
        .optional()
}
