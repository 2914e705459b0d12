use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::DbConn;
use crate::domain::{Agency, Role};
use crate::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub agency_code: Option<Agency>,
    pub enterprise_id: Option<String>,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// How many enabled admins there are besides `except`.
pub fn active_admins_except(conn: &mut DbConn, except: &str) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(Role::Admin))
        .filter(users::disabled.eq(false))
        .filter(users::id.ne(except))
        .count()
        .get_result(conn)
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &UserRow) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn list(
    conn: &mut DbConn,
    role: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<UserRow>> {
    let mut q = users::table
        .select(UserRow::as_select())
        .order(users::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(r) = role {
        q = q.filter(users::role.eq(r.to_owned()));
    }
    if let Some(after) = &page.after {
        q = q.filter(users::id.gt(after.clone()));
    }
    q.load(conn)
}

/// Applies a change guarded by the version read; 0 rows means someone else changed it first.
pub fn update_guarded(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    disabled: bool,
    password_hash: &str,
) -> QueryResult<usize> {
    diesel::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::version.eq(version)),
    )
    .set((
        users::disabled.eq(disabled),
        users::password_hash.eq(password_hash),
        users::updated_at.eq(crate::clock::now()),
        users::version.eq(version + 1),
    ))
    .execute(conn)
}

/// Disables every enabled account of an enterprise; returns their ids.
pub fn disable_enterprise_users(
    conn: &mut DbConn,
    enterprise_id: &str,
) -> QueryResult<Vec<String>> {
    let ids: Vec<String> = users::table
        .filter(users::enterprise_id.eq(enterprise_id))
        .filter(users::disabled.eq(false))
        .select(users::id)
        .load(conn)?;
    diesel::update(users::table.filter(users::id.eq_any(&ids)))
        .set((
            users::disabled.eq(true),
            users::updated_at.eq(crate::clock::now()),
            users::version.eq(users::version + 1),
        ))
        .execute(conn)?;
    Ok(ids)
}
