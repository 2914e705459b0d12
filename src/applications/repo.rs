use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::policy::Visibility;
use crate::db::schema::{application_events, applications, objections};
use crate::db::DbConn;
use crate::domain::{Agency, ApplicationKind, ApplicationState, ObjectionStatus};
use crate::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = applications)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub struct ApplicationRow {
    pub id: String,
    pub kind: ApplicationKind,
    pub enterprise_id: String,
    pub product_id: Option<String>,
    pub geographical_indication_id: Option<String>,
    pub details: String,
    pub documents: String,
    pub state: ApplicationState,
    pub agency_code: Agency,
    pub assigned_regulator_id: Option<String>,
    pub decision_reason: Option<String>,
    pub notice_ends_at: Option<NaiveDateTime>,
    pub submitted_at: Option<NaiveDateTime>,
    pub decided_at: Option<NaiveDateTime>,
    pub record_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

#[derive(Debug, Default, Clone)]
pub struct AppFilter {
    pub kind: Option<ApplicationKind>,
    pub state: Option<ApplicationState>,
    pub enterprise_id: Option<String>,
    pub agency: Option<Agency>,
}

pub fn list(
    conn: &mut DbConn,
    vis: &Visibility,
    f: &AppFilter,
    page: &PageRequest,
) -> QueryResult<Vec<ApplicationRow>> {
    let mut q = applications::table
        .select(ApplicationRow::as_select())
        .order(applications::id.asc())
        .limit(page.fetch())
        .into_boxed();
    match vis {
        Visibility::All => {}
        Visibility::Public => {
            q = q.filter(applications::state.eq(ApplicationState::InPublicNotice))
        }
        Visibility::PublicOr(own) => {
            q = q.filter(
                applications::enterprise_id
                    .eq(own.clone())
                    .or(applications::state.eq(ApplicationState::InPublicNotice)),
            )
        }
    }
    if let Some(k) = f.kind {
        q = q.filter(applications::kind.eq(k));
    }
    if let Some(s) = f.state {
        q = q.filter(applications::state.eq(s));
    }
    if let Some(e) = &f.enterprise_id {
        q = q.filter(applications::enterprise_id.eq(e.clone()));
    }
    if let Some(a) = f.agency {
        q = q.filter(applications::agency_code.eq(a));
    }
    if let Some(after) = &page.after {
        q = q.filter(applications::id.gt(after.clone()));
    }
    q.load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ApplicationRow>> {
    applications::table
        .find(id)
        .select(ApplicationRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &ApplicationRow) -> QueryResult<()> {
    diesel::insert_into(applications::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Applications for this product and kind still in progress (not final, no record yet), other
/// than `except`.
pub fn open_for(
    conn: &mut DbConn,
    product_id: &str,
    kind: ApplicationKind,
    except: &str,
) -> QueryResult<Vec<String>> {
    use ApplicationState::*;
    applications::table
        .filter(applications::product_id.eq(product_id))
        .filter(applications::kind.eq(kind))
        .filter(applications::id.ne(except))
        .filter(applications::state.ne_all([Rejected, Withdrawn, Granted]))
        .filter(applications::record_id.is_null())
        // An approved record_change is done: it produces no record.
        .filter(
            applications::kind
                .ne(ApplicationKind::RecordChange)
                .or(applications::state.ne(Approved)),
        )
        .select(applications::id)
        .order(applications::id.asc())
        .load(conn)
}

/// An enterprise's applications still open: a draft, or waiting for a step (not decided, not
/// closed), in id order.
pub fn open_of_enterprise(
    conn: &mut DbConn,
    enterprise_id: &str,
) -> QueryResult<Vec<ApplicationRow>> {
    use ApplicationState::*;
    applications::table
        .filter(applications::enterprise_id.eq(enterprise_id))
        .filter(applications::state.eq_any([
            Draft,
            Submitted,
            UnderReview,
            ChangesRequested,
            InPublicNotice,
        ]))
        .select(ApplicationRow::as_select())
        .order(applications::id.asc())
        .load(conn)
}

/// Writes the row only if it is still in `state` at `version`: of two regulators deciding at
/// once, exactly one matches.
pub fn update_guarded(
    conn: &mut DbConn,
    row: &ApplicationRow,
    state: ApplicationState,
    version: i32,
) -> QueryResult<usize> {
    diesel::update(
        applications::table
            .filter(applications::id.eq(&row.id))
            .filter(applications::state.eq(state))
            .filter(applications::version.eq(version)),
    )
    .set(row)
    .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = application_events)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct EventRow {
    pub id: String,
    pub application_id: String,
    pub from_state: Option<ApplicationState>,
    pub to_state: ApplicationState,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub reason: Option<String>,
    pub at: NaiveDateTime,
}

pub fn insert_event(conn: &mut DbConn, row: &EventRow) -> QueryResult<()> {
    diesel::insert_into(application_events::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn events(conn: &mut DbConn, application_id: &str) -> QueryResult<Vec<EventRow>> {
    application_events::table
        .filter(application_events::application_id.eq(application_id))
        .order(application_events::id.asc())
        .select(EventRow::as_select())
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = objections)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ObjectionRow {
    pub id: String,
    pub application_id: String,
    pub name: String,
    pub contact: String,
    pub text: String,
    pub status: ObjectionStatus,
    pub resolution_reason: Option<String>,
    pub resolved_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub resolved_at: Option<NaiveDateTime>,
}

pub fn insert_objection(conn: &mut DbConn, row: &ObjectionRow) -> QueryResult<()> {
    diesel::insert_into(objections::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn objections_of(conn: &mut DbConn, application_id: &str) -> QueryResult<Vec<ObjectionRow>> {
    objections::table
        .filter(objections::application_id.eq(application_id))
        .order(objections::id.asc())
        .select(ObjectionRow::as_select())
        .load(conn)
}

pub fn resolve_objection(
    conn: &mut DbConn,
    id: &str,
    status: ObjectionStatus,
    reason: &str,
    by: &str,
) -> QueryResult<usize> {
    diesel::update(
        objections::table
            .filter(objections::id.eq(id))
            .filter(objections::status.eq(ObjectionStatus::Open)),
    )
    .set((
        objections::status.eq(status),
        objections::resolution_reason.eq(reason),
        objections::resolved_by.eq(by),
        objections::resolved_at.eq(crate::clock::now()),
    ))
    .execute(conn)
}

/// A supporting document, referenced by name, SHA-256 and size (the file itself is kept by the
/// applicant or a document store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DocumentRef {
    #[schema(example = "绿色食品证书扫描件.pdf")]
    pub name: String,
    /// Lower-case hex SHA-256 of the file.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
    #[schema(example = 482113)]
    pub size_bytes: i64,
}
