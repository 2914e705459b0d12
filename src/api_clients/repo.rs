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
}

pub fn hash_key(key: &str) -> String {
    crate::auth::token::hash_refresh_token(key)
}

/// The client a key belongs to, if the key exists and is not revoked.
pub fn find_active_by_key(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    api_clients::table
        .filter(api_clients::key_hash.eq(hash_key(key)))
        .filter(api_clients::revoked_at.is_null())
        .select(api_clients::id)
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &ApiClientRow) -> QueryResult<()> {
    diesel::insert_into(api_clients::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn list(conn: &mut DbConn, page: &PageRequest) -> QueryResult<Vec<ApiClientRow>> {
    let mut query = api_clients::table
        .select(ApiClientRow::as_select())
        .order(api_clients::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(a) = &page.after {
        query = query.filter(api_clients::id.gt(a.clone()));
    }
    query.load(conn)
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
