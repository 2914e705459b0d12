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
    /// Only these entity types, comma-separated: `certification`, `designation`, `enterprise`,
    /// `product`, `standard`.
    #[param(example = "certification,designation")]
    pub types: Option<String>,
}
/// Follow the public change feed
#[utoipa::path(
    get, path = "/api/v1/changes", tag = "changes",
    params(ChangesQuery),
    responses(
        (status = 200, description = "Public changes after `since`, oldest first", body = ChangeFeed),
        (status = 400, description = "`since` is beyond the newest change (`cursor_ahead`)", body = Problem, content_type = "application/problem+json"),
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
    let types: Vec<String> = q
        .types
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = types
        .iter()
        .find(|t| !crate::publication::ENTITY_TYPES.contains(&t.as_str()))
    {
        errors.push(
            "types",
            "invalid_value",
            format!(
                "{bad} is not one of: {}",
                crate::publication::ENTITY_TYPES.join(", ")
            ),
        );
    }
    errors.finish()?;
    let feed = state
        .db(move |conn| feed(conn, since, limit, &types))
        .await?;
    Ok(HttpResponse::Ok().json(feed))
}
