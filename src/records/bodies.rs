//! Certification bodies: the external bodies that issue the certificates the register records.

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::certification_bodies;
use crate::db::DbConn;
use crate::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = certification_bodies)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CertificationBody {
    pub id: String,
    #[schema(example = "cgfdc")]
    pub key: String,
    #[schema(example = "中国绿色食品发展中心")]
    pub name_zh: String,
    #[schema(example = "China Green Food Development Center")]
    pub name_en: String,
    pub abbreviation: Option<String>,
    pub approval_number: Option<String>,
    /// `;`-separated certification kinds it issues.
    #[schema(example = "green_food")]
    pub kinds: String,
    pub website: Option<String>,
    /// Operator metadata (provenance), never in a public answer.
    #[serde(skip)]
    pub notes: Option<String>,
    #[serde(skip)]
    pub confidence: Option<String>,
}

pub fn list_bodies(
    conn: &mut DbConn,
    kind: Option<crate::domain::ApplicationKind>,
    page: &PageRequest,
) -> QueryResult<Vec<CertificationBody>> {
    let mut q = certification_bodies::table
        .select(CertificationBody::as_select())
        .order(certification_bodies::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(k) = kind {
        q = q.filter(certification_bodies::kinds.like(format!("%{k}%")));
    }
    if let Some(after) = &page.after {
        q = q.filter(certification_bodies::id.gt(after.clone()));
    }
    q.load(conn)
}

impl CertificationBody {
    /// Whether it issues certificates of this kind.
    pub fn issues(&self, kind: crate::domain::ApplicationKind) -> bool {
        self.kinds.split(';').any(|k| k.trim() == kind.as_str())
    }
}

/// A body by its key (`cgfdc`) or its id.
pub fn find_body_by_key(
    conn: &mut DbConn,
    key_or_id: &str,
) -> QueryResult<Option<CertificationBody>> {
    certification_bodies::table
        .filter(
            certification_bodies::key
                .eq(key_or_id)
                .or(certification_bodies::id.eq(key_or_id)),
        )
        .select(CertificationBody::as_select())
        .first(conn)
        .optional()
}

pub fn find_body(conn: &mut DbConn, id: &str) -> QueryResult<Option<CertificationBody>> {
    certification_bodies::table
        .find(id)
        .select(CertificationBody::as_select())
        .first(conn)
        .optional()
}
