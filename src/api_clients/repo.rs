//! Queries on `api_clients`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::api_clients;
use crate::db::DbConn;
use crate::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_clients)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ApiClientRow {
    pub id: String,
    pub name: String,
    pub contact: String,
    pub key_prefix: String,
    pub key_hash: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub purpose: String,
    pub quota_per_min: Option<i32>,
}

/// What a request's key stands for: the client, and its own quota if an admin set one.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct KeyHolder {
    pub client_id: String,
    pub quota_per_min: Option<i32>,
}

pub fn hash_key(key: &str) -> String {
    crate::auth::token::hash_refresh_token(key)
}

/// The client a key belongs to, if the key exists and is not revoked.
pub fn find_active_by_key(conn: &mut DbConn, key: &str) -> QueryResult<Option<KeyHolder>> {
    api_clients::table
        .filter(api_clients::key_hash.eq(hash_key(key)))
        .filter(api_clients::revoked_at.is_null())
        .select((api_clients::id, api_clients::quota_per_min))
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &ApiClientRow) -> QueryResult<()> {
    diesel::insert_into(api_clients::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ApiClientRow>> {
    api_clients::table
        .find(id)
        .select(ApiClientRow::as_select())
        .first(conn)
        .optional()
}

/// Clients in id order; only those `owner` created when given (`None`: all, for admins).
pub fn list(
    conn: &mut DbConn,
    owner: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<ApiClientRow>> {
    let mut query = api_clients::table
        .select(ApiClientRow::as_select())
        .order(api_clients::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(owner) = owner {
        query = query.filter(api_clients::created_by.eq(owner.to_owned()));
    }
    if let Some(a) = &page.after {
        query = query.filter(api_clients::id.gt(a.clone()));
    }
    query.load(conn)
}

/// How many live clients a user holds (self-service is capped per user).
pub fn count_live_of(conn: &mut DbConn, owner: &str) -> QueryResult<i64> {
    api_clients::table
        .filter(api_clients::created_by.eq(owner))
        .filter(api_clients::revoked_at.is_null())
        .count()
        .get_result(conn)
}

pub fn set_quota(conn: &mut DbConn, id: &str, quota: Option<i32>) -> QueryResult<usize> {
    diesel::update(api_clients::table.find(id))
        .set(api_clients::quota_per_min.eq(quota))
        .execute(conn)
}

/// Revokes a client that is not revoked yet; `None` when there is none.
pub fn revoke(conn: &mut DbConn, id: &str) -> QueryResult<Option<ApiClientRow>> {
    let row: Option<ApiClientRow> = api_clients::table
        .find(id)
        .filter(api_clients::revoked_at.is_null())
        .select(ApiClientRow::as_select())
        .first(conn)
        .optional()?;
    if row.is_some() {
        diesel::update(api_clients::table.find(id))
            .set(api_clients::revoked_at.eq(crate::clock::now()))
            .execute(conn)?;
    }
    Ok(row)
}
