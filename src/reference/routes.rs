use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::repo::{self, AgencyInfo, Region, SectorView};
use crate::error::{ApiResult, Errors, Problem};
use crate::pagination::PageRequest;
use crate::state::AppState;

crate::page_type!(RegionPage, Region);
crate::page_type!(AgencyPage, AgencyInfo);
crate::page_type!(SectorPage, SectorView);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListRegionsQuery {
    /// Only the divisions directly under this code (e.g. `632800` for Haixi's counties).
    pub parent_code: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List Qinghai's administrative divisions
#[utoipa::path(
    get, path = "/api/v1/regions", tag = "reference",
    params(ListRegionsQuery),
    responses((status = 200, body = RegionPage), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[get("/regions")]
pub async fn list_regions(
    state: web::Data<AppState>,
    q: web::Query<ListRegionsQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    errors.finish()?;
    let (p, parent) = (page.clone(), q.parent_code.clone());
    let rows = state
        .db(move |conn| Ok(repo::list_regions(conn, parent.as_deref(), &p)?))
        .await?;
    let (items, next_cursor) = page.finish(rows, |r| &r.code);
    Ok(HttpResponse::Ok().json(RegionPage { items, next_cursor }))
}

/// List the agencies and what they decide
#[utoipa::path(
    get, path = "/api/v1/agencies", tag = "reference",
    responses((status = 200, description = "All agencies (a short list: one page)", body = AgencyPage))
)]
#[get("/agencies")]
pub async fn list_agencies(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let items = state.db(|conn| Ok(repo::list_agencies(conn)?)).await?;
    Ok(HttpResponse::Ok().json(AgencyPage {
        items,
        next_cursor: None,
    }))
}

/// List sectors and categories
#[utoipa::path(
    get, path = "/api/v1/sectors", tag = "reference",
    responses((status = 200, description = "The plan's four sectors with their product categories (one page)", body = SectorPage))
)]
#[get("/sectors")]
pub async fn list_sectors(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let items = state.db(|conn| Ok(repo::list_sectors(conn)?)).await?;
    Ok(HttpResponse::Ok().json(SectorPage {
        items,
        next_cursor: None,
    }))
}
