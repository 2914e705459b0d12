use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::repo::{self, GiDetail, GiView};
use crate::error::{ApiResult, Errors, Problem};
use crate::pagination::PageRequest;
use crate::state::AppState;

crate::page_type!(GiPage, GiView);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListGisQuery {
    /// Text in the Chinese or English name.
    pub q: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List geographical indications
#[utoipa::path(
    get, path = "/api/v1/geographical-indications", tag = "geographical indications",
    params(ListGisQuery),
    responses((status = 200, body = GiPage), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[get("/geographical-indications")]
pub async fn list_gis(
    state: web::Data<AppState>,
    q: web::Query<ListGisQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    errors.finish()?;
    let text = q.q.clone().filter(|s| !s.trim().is_empty());
    let p = page.clone();
    let (items, next_cursor) = state
        .db(move |conn| {
            let rows = repo::list(conn, text.as_deref(), &p)?;
            let (rows, next) = p.finish(rows, |r| &r.id);
            Ok((repo::views(conn, rows)?, next))
        })
        .await?;
    Ok(HttpResponse::Ok().json(GiPage { items, next_cursor }))
}

/// Get a geographical indication and its authorised users
#[utoipa::path(
    get, path = "/api/v1/geographical-indications/{id}", tag = "geographical indications",
    params(("id" = String, Path, description = "GI id")),
    responses(
        (status = 200, description = "The GI and the enterprises authorised to use its mark", body = GiDetail),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/geographical-indications/{id}")]
pub async fn get_gi(state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let detail = state.db(move |conn| repo::detail(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(detail))
}
