//! The handler.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::repo::feed;
use super::ChangeFeed;
use crate::error::{ApiResult, Errors, Problem};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `next_cursor` of the previous call; omit (or 0) to start from the beginning.
    pub since: Option<String>,
    /// Page size, 1-1000 (default 100).
    pub limit: Option<String>,
}
#[utoipa::path(
    get, path = "/api/v1/changes", tag = "changes",
    params(ChangesQuery),
    responses(
        (status = 200, description = "Public changes after `since`, oldest first", body = ChangeFeed),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/changes")]
pub async fn changes(
    state: web::Data<AppState>,
    q: web::Query<ChangesQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let since = match q.since.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .unwrap_or_else(|| {
                errors.push(
                    "since",
                    "invalid_cursor",
                    "the next_cursor of a previous call",
                );
                0
            }),
    };
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .unwrap_or_else(|| {
                errors.push("limit", "out_of_range", "1 to 1000");
                100
            }),
    };
    errors.finish()?;
    let feed = state.db(move |conn| Ok(feed(conn, since, limit)?)).await?;
    Ok(HttpResponse::Ok().json(feed))
}
