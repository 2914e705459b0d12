use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{
    agencies, agency_responsibilities, categories, regions, sectors, standard_prefixes,
};
use crate::db::DbConn;
use crate::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = regions)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Region {
    #[schema(example = "632800")]
    pub code: String,
    #[schema(example = "海西蒙古族藏族自治州")]
    pub name_zh: String,
    #[schema(example = "Haixi Mongol and Tibetan Autonomous Prefecture")]
    pub name_en: String,
    /// `province`, `prefecture` or `county`.
    #[schema(example = "prefecture")]
    pub level: String,
    #[schema(example = "630000")]
    pub parent_code: Option<String>,
    /// For legacy codes (e.g. 632100, Haidong before 2013): the code now in use.
    pub alias_of: Option<String>,
}

pub fn list_regions(
    conn: &mut DbConn,
    parent: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<Region>> {
    let mut q = regions::table
        .select(Region::as_select())
        .order(regions::code.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(p) = parent {
        q = q.filter(regions::parent_code.eq(p.to_owned()));
    }
    if let Some(after) = &page.after {
        q = q.filter(regions::code.gt(after.clone()));
    }
    q.load(conn)
}

pub fn find_region(conn: &mut DbConn, code: &str) -> QueryResult<Option<Region>> {
    regions::table
        .find(code)
        .select(Region::as_select())
        .first(conn)
        .optional()
}

/// Resolves a legacy code to the code in use (632100 → 630200); `None` if unknown.
pub fn resolve_region(conn: &mut DbConn, code: &str) -> QueryResult<Option<String>> {
    Ok(find_region(conn, code)?.map(|r| r.alias_of.unwrap_or(r.code)))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgencyInfo {
    #[schema(example = "agriculture")]
    pub code: String,
    #[schema(example = "青海省农业农村厅")]
    pub name_zh: String,
    #[schema(example = "Qinghai Provincial Department of Agriculture and Rural Affairs")]
    pub name_en: String,
    /// Application kinds this agency decides.
    #[schema(example = json!(["green_food", "organic"]))]
    pub decides: Vec<String>,
}

pub fn list_agencies(conn: &mut DbConn) -> QueryResult<Vec<AgencyInfo>> {
    let rows: Vec<(String, String, String)> = agencies::table
        .select((agencies::code, agencies::name_zh, agencies::name_en))
        .order(agencies::code.asc())
        .load(conn)?;
    let resp: Vec<(String, String)> = agency_responsibilities::table
        .select((
            agency_responsibilities::agency_code,
            agency_responsibilities::application_kind,
        ))
        .order(agency_responsibilities::application_kind.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(code, name_zh, name_en)| {
            let decides = resp
                .iter()
                .filter(|(a, _)| *a == code)
                .map(|(_, k)| k.clone())
                .collect();
            AgencyInfo {
                code,
                name_zh,
                name_en,
                decides,
            }
        })
        .collect())
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = categories)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Category {
    #[schema(example = "goji")]
    pub code: String,
    #[serde(skip)]
    pub sector_code: String,
    #[schema(example = "枸杞")]
    pub name_zh: String,
    #[schema(example = "Goji (wolfberry)")]
    pub name_en: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SectorView {
    #[schema(example = "food")]
    pub code: String,
    #[schema(example = "食品")]
    pub name_zh: String,
    #[schema(example = "Food")]
    pub name_en: String,
    pub categories: Vec<Category>,
}

pub fn list_sectors(conn: &mut DbConn) -> QueryResult<Vec<SectorView>> {
    let rows: Vec<(String, String, String)> = sectors::table
        .select((sectors::code, sectors::name_zh, sectors::name_en))
        .load(conn)?;
    let cats: Vec<Category> = categories::table
        .select(Category::as_select())
        .order(categories::code.asc())
        .load(conn)?;
    // The plan's order, not alphabetical.
    let order = |c: &str| {
        crate::domain::Sector::parse(c)
            .map(|s| s as usize)
            .unwrap_or(usize::MAX)
    };
    let mut out: Vec<SectorView> = rows
        .into_iter()
        .map(|(code, name_zh, name_en)| {
            let categories = cats
                .iter()
                .filter(|c| c.sector_code == code)
                .cloned()
                .collect();
            SectorView {
                code,
                name_zh,
                name_en,
                categories,
            }
        })
        .collect();
    out.sort_by_key(|s| order(&s.code));
    Ok(out)
}

/// The sector a category belongs to, if the category exists.
pub fn category_sector(conn: &mut DbConn, category: &str) -> QueryResult<Option<String>> {
    categories::table
        .find(category)
        .select(categories::sector_code)
        .first(conn)
        .optional()
}

pub fn all_prefix_levels(
    conn: &mut DbConn,
) -> QueryResult<Vec<(String, crate::domain::StandardLevel)>> {
    standard_prefixes::table
        .select((standard_prefixes::prefix, standard_prefixes::level))
        .load(conn)
}
