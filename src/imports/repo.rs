//! The `import_jobs` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::import_jobs;
use crate::db::DbConn;
use crate::domain::{Agency, ImportKind, ImportStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_jobs)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub struct JobRow {
    pub id: String,
    pub kind: ImportKind,
    pub status: ImportStatus,
    pub created_by: Option<String>,
    pub agency_code: Option<Agency>,
    pub enterprise_id: Option<String>,
    pub file_name: Option<String>,
    pub total_rows: i32,
    pub processed_rows: i32,
    pub created_count: i32,
    pub unchanged_count: i32,
    pub error_count: i32,
    /// JSON array of `RowError`.
    pub report: Option<String>,
    pub failure: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, row: &JobRow) -> QueryResult<()> {
    diesel::insert_into(import_jobs::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<JobRow>> {
    import_jobs::table
        .find(id)
        .select(JobRow::as_select())
        .first(conn)
        .optional()
}

pub fn set_status(conn: &mut DbConn, id: &str, status: ImportStatus) -> QueryResult<()> {
    diesel::update(import_jobs::table.find(id))
        .set((
            import_jobs::status.eq(status),
            import_jobs::processed_rows.eq(0),
            import_jobs::updated_at.eq(crate::clock::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn set_progress(
    conn: &mut DbConn,
    id: &str,
    processed: i32,
    created: i32,
    unchanged: i32,
) -> QueryResult<()> {
    diesel::update(import_jobs::table.find(id))
        .set((
            import_jobs::processed_rows.eq(processed),
            import_jobs::created_count.eq(created),
            import_jobs::unchanged_count.eq(unchanged),
            import_jobs::updated_at.eq(crate::clock::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Ends a job: `done`, or `failed` with the bad rows (`report`) or what stopped it (`failure`).
pub fn finish(
    conn: &mut DbConn,
    id: &str,
    status: ImportStatus,
    error_count: i32,
    report: Option<String>,
    failure: Option<String>,
) -> QueryResult<()> {
    let now = crate::clock::now();
    diesel::update(import_jobs::table.find(id))
        .set((
            import_jobs::status.eq(status),
            import_jobs::error_count.eq(error_count),
            import_jobs::report.eq(report),
            import_jobs::failure.eq(failure),
            import_jobs::updated_at.eq(now),
            import_jobs::finished_at.eq(Some(now)),
        ))
        .execute(conn)
        .map(|_| ())
}
