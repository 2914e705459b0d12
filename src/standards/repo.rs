use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::standards;
use crate::db::{contains_pattern, lower, DbConn};
use crate::domain::{StandardLevel, StandardStatus};
use crate::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = standards)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct StandardRow {
    pub id: String,
    pub code: String,
    pub prefix: String,
    pub number: String,
    pub year: Option<i32>,
    pub title_zh: String,
    pub title_en: Option<String>,
    pub level: StandardLevel,
    pub status: StandardStatus,
    pub replaced_by_id: Option<String>,
    pub effective_on: Option<NaiveDate>,
    /// Operator metadata (provenance), never in a public answer.
    pub notes: Option<String>,
    pub confidence: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
    /// An enterprise standard's (Q/) owner: only its products may declare it.
    pub owner_enterprise_id: Option<String>,
    /// Lower-case hex SHA-256 of the published text (enterprise and group standards).
    pub text_sha256: Option<String>,
    /// The association that issued a group standard (T/).
    pub issuer: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct StandardFilter {
    pub code: Option<String>,
    pub level: Option<StandardLevel>,
    pub status: Option<StandardStatus>,
    pub q: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    f: &StandardFilter,
    page: &PageRequest,
) -> QueryResult<Vec<StandardRow>> {
    let mut q = standards::table
        .select(StandardRow::as_select())
        .order(standards::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(c) = &f.code {
        q = q.filter(standards::code.eq(c.clone()));
    }
    if let Some(l) = f.level {
        q = q.filter(standards::level.eq(l));
    }
    if let Some(s) = f.status {
        q = q.filter(standards::status.eq(s));
    }
    if let Some(text) = &f.q {
        let p = contains_pattern(text);
        q = q.filter(
            lower(standards::title_zh)
                .like(p.clone())
                .escape('\\')
                .or(lower(standards::code).like(p.clone()).escape('\\'))
                .or(lower(standards::title_en.assume_not_null())
                    .like(p)
                    .escape('\\')),
        );
    }
    if let Some(after) = &page.after {
        q = q.filter(standards::id.gt(after.clone()));
    }
    q.load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<StandardRow>> {
    standards::table
        .find(id)
        .select(StandardRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<StandardRow>> {
    standards::table
        .filter(standards::code.eq(code))
        .select(StandardRow::as_select())
        .first(conn)
        .optional()
}

/// Codes of the given ids (for `replaced_by`).
pub fn codes_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    standards::table
        .filter(standards::id.eq_any(ids))
        .select((standards::id, standards::code))
        .load(conn)
}

pub fn insert(conn: &mut DbConn, row: &StandardRow) -> QueryResult<()> {
    diesel::insert_into(standards::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = standards)]
#[diesel(treat_none_as_null = true)]
pub struct StandardChanges {
    pub title_zh: String,
    pub title_en: Option<String>,
    pub status: StandardStatus,
    pub replaced_by_id: Option<String>,
    pub effective_on: Option<NaiveDate>,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

/// Writes the changes if the row is still at `version`; returns rows changed (0: lost a race).
/// Records who published an enterprise or group standard, and its text's fingerprint.
pub fn set_publisher(conn: &mut DbConn, row: &StandardRow) -> QueryResult<usize> {
    diesel::update(standards::table.find(&row.id))
        .set((
            standards::owner_enterprise_id.eq(&row.owner_enterprise_id),
            standards::text_sha256.eq(&row.text_sha256),
            standards::issuer.eq(&row.issuer),
        ))
        .execute(conn)
}

pub fn update_guarded(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    changes: &StandardChanges,
) -> QueryResult<usize> {
    diesel::update(
        standards::table
            .filter(standards::id.eq(id))
            .filter(standards::version.eq(version)),
    )
    .set(changes)
    .execute(conn)
}

/// A standard as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StandardView {
    pub id: String,
    /// Canonical code: ASCII hyphen before the year, one space after the prefix.
    #[schema(example = "GB/T 19630-2019")]
    pub code: String,
    #[schema(example = "GB/T")]
    pub prefix: String,
    #[schema(example = "19630")]
    pub number: String,
    #[schema(example = 2019)]
    pub year: Option<i32>,
    #[schema(example = "有机产品 生产、加工、标识与管理体系要求")]
    pub title: String,
    #[schema(
        example = "Organic products - Requirements for production, processing, labeling and management system"
    )]
    pub title_en: Option<String>,
    pub level: crate::domain::StandardLevel,
    pub status: crate::domain::StandardStatus,
    /// The standard that replaced this one, when superseded.
    pub replaced_by: Option<StandardRef>,
    #[schema(example = "2020-01-01")]
    pub effective_on: Option<NaiveDate>,
    /// Current and already in effect today (a published standard may take effect later).
    pub in_force: bool,
    /// An enterprise standard's (Q/) owner: only its products may declare it.
    pub owner_enterprise_id: Option<String>,
    /// SHA-256 of the published text (enterprise and group standards).
    pub text_sha256: Option<String>,
    /// The association that issued a group standard (T/).
    #[schema(example = "青海省枸杞产业协会")]
    pub issuer: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StandardRef {
    pub id: String,
    #[schema(example = "GB/T 19630-2019")]
    pub code: String,
}

impl StandardView {
    pub fn build(row: &StandardRow, replaced_by_code: Option<String>) -> Self {
        let status = row.status;
        Self {
            id: row.id.clone(),
            code: row.code.clone(),
            prefix: row.prefix.clone(),
            number: row.number.clone(),
            year: row.year,
            title: row.title_zh.clone(),
            title_en: row.title_en.clone(),
            level: row.level,
            status,
            replaced_by: row
                .replaced_by_id
                .clone()
                .zip(replaced_by_code)
                .map(|(id, code)| StandardRef { id, code }),
            effective_on: row.effective_on,
            in_force: status == StandardStatus::Current
                && row.effective_on.is_none_or(|d| d <= crate::clock::today()),
            owner_enterprise_id: row.owner_enterprise_id.clone(),
            text_sha256: row.text_sha256.clone(),
            issuer: row.issuer.clone(),
            created_at: crate::clock::to_utc(row.created_at),
            updated_at: crate::clock::to_utc(row.updated_at),
            version: row.version,
        }
    }
}

/// Views for a batch of rows, with their successors' codes in one query.
pub fn views(conn: &mut DbConn, rows: &[StandardRow]) -> QueryResult<Vec<StandardView>> {
    let ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.replaced_by_id.clone())
        .collect();
    let codes = codes_of(conn, &ids)?;
    Ok(rows
        .iter()
        .map(|r| {
            let code = r
                .replaced_by_id
                .as_ref()
                .and_then(|id| codes.iter().find(|(i, _)| i == id).map(|(_, c)| c.clone()));
            StandardView::build(r, code)
        })
        .collect())
}
