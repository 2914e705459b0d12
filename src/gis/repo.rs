use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{
    designations, enterprises, geographical_indications, gi_protected_areas, products,
};
use crate::db::DbConn;
use crate::domain::{ApplicationKind, RecordStatus};
use crate::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = geographical_indications)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct GiRow {
    pub id: String,
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    pub system: String,
    pub product_category: String,
    pub announcement: Option<String>,
    pub defining_standard_code: Option<String>,
    /// Operator metadata (provenance), never in a public answer.
    pub notes: Option<String>,
    pub confidence: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GiView {
    pub id: String,
    /// Stable short name used in the seeds.
    #[schema(example = "qaidam_goji_protected_product")]
    pub key: String,
    #[schema(example = "柴达木枸杞")]
    pub name_zh: String,
    #[schema(example = "Qaidam goji (wolfberry)")]
    pub name_en: String,
    /// `protected_product`, `agricultural_gi` or `gi_trademark`.
    #[schema(example = "protected_product")]
    pub system: String,
    pub product_category: String,
    /// GB/T 2260 codes of the protected area (a prefecture covers its counties).
    #[schema(example = json!(["632800"]))]
    pub protected_area: Vec<String>,
    pub announcement: Option<String>,
    /// The standard that defines its quality.
    #[schema(example = "DB63/T 1759-2019")]
    pub defining_standard_code: Option<String>,
}

/// An enterprise allowed to use the GI mark (holder of an active `gi_product` designation).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthorisedUser {
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub uscc: String,
    pub product_id: Option<String>,
    pub product_name: Option<String>,
    pub designation_number: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GiDetail {
    #[serde(flatten)]
    pub gi: GiView,
    pub authorised_users: Vec<AuthorisedUser>,
}

/// A geographical indication with its protected area and authorised users (404 if unknown).
pub fn detail(conn: &mut DbConn, id: &str) -> crate::error::ApiResult<GiDetail> {
    let row = find(conn, id)?.ok_or(crate::error::ApiError::NotFound)?;
    let gi = views(conn, vec![row])?.remove(0);
    let authorised_users = authorised_users(conn, id)?;
    Ok(GiDetail {
        gi,
        authorised_users,
    })
}

pub fn areas(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    gi_protected_areas::table
        .filter(gi_protected_areas::gi_id.eq_any(ids))
        .select((gi_protected_areas::gi_id, gi_protected_areas::region_code))
        .order(gi_protected_areas::region_code.asc())
        .load(conn)
}

pub fn views(conn: &mut DbConn, rows: Vec<GiRow>) -> QueryResult<Vec<GiView>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let areas = areas(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| GiView {
            protected_area: areas
                .iter()
                .filter(|(g, _)| *g == r.id)
                .map(|(_, c)| c.clone())
                .collect(),
            id: r.id,
            key: r.key,
            name_zh: r.name_zh,
            name_en: r.name_en,
            system: r.system,
            product_category: r.product_category,
            announcement: r.announcement,
            defining_standard_code: r.defining_standard_code,
        })
        .collect())
}

pub fn list(conn: &mut DbConn, q: Option<&str>, page: &PageRequest) -> QueryResult<Vec<GiRow>> {
    let mut query = geographical_indications::table
        .select(GiRow::as_select())
        .order(geographical_indications::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(text) = q {
        let p = crate::db::contains_pattern(text);
        query = query.filter(
            crate::db::lower(geographical_indications::name_zh)
                .like(p.clone())
                .escape('\\')
                .or(crate::db::lower(geographical_indications::name_en)
                    .like(p)
                    .escape('\\')),
        );
    }
    if let Some(after) = &page.after {
        query = query.filter(geographical_indications::id.gt(after.clone()));
    }
    query.load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<GiRow>> {
    geographical_indications::table
        .find(id)
        .select(GiRow::as_select())
        .first(conn)
        .optional()
}

/// Whether `region` (a county or prefecture code) lies inside the GI's protected area.
pub fn covers(conn: &mut DbConn, gi_id: &str, region: &str) -> QueryResult<bool> {
    let codes = areas(conn, &[gi_id.to_owned()])?;
    Ok(codes.iter().any(|(_, area)| {
        let prefix = crate::db::region_prefix_pattern(area);
        region.starts_with(prefix.trim_end_matches('%'))
    }))
}

/// Holders of active, unexpired `gi_product` designations for this GI.
pub fn authorised_users(conn: &mut DbConn, gi_id: &str) -> QueryResult<Vec<AuthorisedUser>> {
    let today = crate::clock::today();
    let rows: Vec<(String, String, String, Option<String>, String)> = designations::table
        .inner_join(enterprises::table)
        .filter(designations::geographical_indication_id.eq(gi_id))
        .filter(designations::kind.eq(ApplicationKind::GiProduct))
        .filter(designations::status.eq(RecordStatus::Active))
        .filter(
            designations::valid_until
                .is_null()
                .or(designations::valid_until.ge(today)),
        )
        .select((
            enterprises::id,
            enterprises::name,
            enterprises::uscc,
            designations::product_id,
            designations::number,
        ))
        .order(designations::number.asc())
        .load(conn)?;
    let product_ids: Vec<String> = rows.iter().filter_map(|r| r.3.clone()).collect();
    let names: Vec<(String, String)> = products::table
        .filter(products::id.eq_any(&product_ids))
        .select((products::id, products::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(enterprise_id, enterprise_name, uscc, product_id, number)| AuthorisedUser {
                product_name: product_id
                    .as_ref()
                    .and_then(|p| names.iter().find(|(i, _)| i == p).map(|(_, n)| n.clone())),
                enterprise_id,
                enterprise_name,
                uscc,
                product_id,
                designation_number: number,
            },
        )
        .collect())
}
