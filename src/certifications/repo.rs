use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{certification_bodies, certifications, enterprises, products};
use crate::db::{region_prefix_pattern, DbConn};
use crate::enterprises::repo::Visibility;
use crate::pagination::PageRequest;
use crate::records::StatusChange;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = certifications)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CertRow {
    pub id: String,
    pub application_id: Option<String>,
    pub kind: String,
    pub enterprise_id: String,
    pub product_id: String,
    pub certificate_number: String,
    pub certification_body_id: Option<String>,
    pub scope: String,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

#[derive(Debug, Default, Clone)]
pub struct CertFilter {
    pub kind: Option<String>,
    /// valid / suspended / revoked / expired (expired and valid are derived from the date).
    pub status: Option<String>,
    pub enterprise_id: Option<String>,
    pub product_id: Option<String>,
    pub region_code: Option<String>,
    pub valid_on: Option<NaiveDate>,
}

pub fn list(
    conn: &mut DbConn,
    vis: &Visibility,
    f: &CertFilter,
    page: &PageRequest,
) -> QueryResult<Vec<CertRow>> {
    let today = crate::clock::today();
    let mut q = certifications::table
        .select(CertRow::as_select())
        .order(certifications::id.asc())
        .limit(page.fetch())
        .into_boxed();
    // A correlated EXISTS (not IN): both planners can then walk the id order and stop at the
    // page size, instead of collecting every row of every active enterprise first.
    let active = || {
        diesel::dsl::exists(
            enterprises::table
                .filter(enterprises::id.eq(certifications::enterprise_id))
                .filter(enterprises::status.eq("active")),
        )
    };
    match vis {
        Visibility::All => {}
        Visibility::Active => q = q.filter(active()),
        Visibility::ActiveOr(own) => {
            q = q.filter(active().or(certifications::enterprise_id.eq(own.clone())))
        }
    }
    if let Some(k) = &f.kind {
        q = q.filter(certifications::kind.eq(k.clone()));
    }
    match f.status.as_deref() {
        Some("valid") => {
            q = q
                .filter(certifications::status.eq("valid"))
                .filter(certifications::expires_on.ge(today))
        }
        Some("expired") => {
            q = q
                .filter(certifications::status.eq("valid"))
                .filter(certifications::expires_on.lt(today))
        }
        Some(s) => q = q.filter(certifications::status.eq(s.to_owned())),
        None => {}
    }
    if let Some(e) = &f.enterprise_id {
        q = q.filter(certifications::enterprise_id.eq(e.clone()));
    }
    if let Some(p) = &f.product_id {
        q = q.filter(certifications::product_id.eq(p.clone()));
    }
    if let Some(r) = &f.region_code {
        let in_region = products::table
            .filter(products::origin_region_code.like(region_prefix_pattern(r)))
            .select(products::id);
        q = q.filter(certifications::product_id.eq_any(in_region));
    }
    if let Some(d) = f.valid_on {
        q = q
            .filter(certifications::issued_on.le(d))
            .filter(certifications::expires_on.ge(d))
            .filter(certifications::status.ne("revoked"));
    }
    if let Some(after) = &page.after {
        q = q.filter(certifications::id.gt(after.clone()));
    }
    q.load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<CertRow>> {
    certifications::table
        .find(id)
        .select(CertRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_number(conn: &mut DbConn, number: &str) -> QueryResult<Vec<CertRow>> {
    certifications::table
        .filter(certifications::certificate_number.eq(number))
        .select(CertRow::as_select())
        .load(conn)
}

pub fn insert(conn: &mut DbConn, row: &CertRow) -> QueryResult<()> {
    diesel::insert_into(certifications::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn set_status_guarded(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    status: &str,
) -> QueryResult<usize> {
    diesel::update(
        certifications::table
            .filter(certifications::id.eq(id))
            .filter(certifications::version.eq(version)),
    )
    .set((
        certifications::status.eq(status),
        certifications::updated_at.eq(crate::clock::now()),
        certifications::version.eq(version + 1),
    ))
    .execute(conn)
}

/// Names of enterprises and products, for views.
pub fn names(
    conn: &mut DbConn,
    enterprise_ids: &[String],
    product_ids: &[String],
) -> QueryResult<Names> {
    Ok(Names {
        enterprises: enterprises::table
            .filter(enterprises::id.eq_any(enterprise_ids))
            .select((
                enterprises::id,
                enterprises::name,
                enterprises::uscc,
                enterprises::status,
            ))
            .load(conn)?,
        products: products::table
            .filter(products::id.eq_any(product_ids))
            .select((products::id, products::name))
            .load(conn)?,
    })
}

pub struct Names {
    pub enterprises: Vec<(String, String, String, String)>,
    pub products: Vec<(String, String)>,
}

impl Names {
    pub fn enterprise(&self, id: &str) -> Option<&(String, String, String, String)> {
        self.enterprises.iter().find(|e| e.0 == id)
    }
    pub fn product(&self, id: &str) -> Option<String> {
        self.products
            .iter()
            .find(|p| p.0 == id)
            .map(|p| p.1.clone())
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertView {
    pub id: String,
    #[schema(example = "green_food")]
    pub kind: String,
    #[schema(example = "GF632801260012")]
    pub certificate_number: String,
    pub enterprise_id: String,
    #[schema(example = "柴达木红果枸杞科技有限公司")]
    pub enterprise_name: String,
    pub product_id: String,
    #[schema(example = "柴达木枸杞原浆")]
    pub product_name: String,
    pub certification_body_id: Option<String>,
    pub scope: String,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    /// `valid`, `suspended`, `revoked`, or `expired` (derived from `expires_on`, never stale).
    #[schema(example = "valid")]
    pub status: String,
    pub application_id: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertDetail {
    #[serde(flatten)]
    pub certification: CertView,
    pub history: Vec<StatusChange>,
}

pub fn views(conn: &mut DbConn, rows: &[CertRow]) -> QueryResult<Vec<CertView>> {
    let e: Vec<String> = rows.iter().map(|r| r.enterprise_id.clone()).collect();
    let p: Vec<String> = rows.iter().map(|r| r.product_id.clone()).collect();
    let names = names(conn, &e, &p)?;
    let today = crate::clock::today();
    Ok(rows
        .iter()
        .map(|r| CertView {
            id: r.id.clone(),
            kind: r.kind.clone(),
            certificate_number: r.certificate_number.clone(),
            enterprise_id: r.enterprise_id.clone(),
            enterprise_name: names
                .enterprise(&r.enterprise_id)
                .map(|e| e.1.clone())
                .unwrap_or_default(),
            product_id: r.product_id.clone(),
            product_name: names.product(&r.product_id).unwrap_or_default(),
            certification_body_id: r.certification_body_id.clone(),
            scope: r.scope.clone(),
            issued_on: r.issued_on,
            expires_on: r.expires_on,
            status: crate::records::effective_status(&r.status, Some(r.expires_on), today),
            application_id: r.application_id.clone(),
            created_at: crate::clock::to_utc(r.created_at),
            updated_at: crate::clock::to_utc(r.updated_at),
            version: r.version,
        })
        .collect())
}

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
    pub source: Option<String>,
    /// `confirmed` or `uncertain`.
    pub confidence: Option<String>,
}

pub fn list_bodies(
    conn: &mut DbConn,
    kind: Option<&str>,
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

pub fn find_body(conn: &mut DbConn, id: &str) -> QueryResult<Option<CertificationBody>> {
    certification_bodies::table
        .find(id)
        .select(CertificationBody::as_select())
        .first(conn)
        .optional()
}
