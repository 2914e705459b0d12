//! `GET /api/v1/stats/plan-progress` and `GET /api/v1/stats/summary`.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::repo::{plan_progress, summary};
use super::{PlanProgress, Summary};
use crate::error::{ApiResult, Errors, Problem};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressQuery {
    /// The year whose register activity is counted (default 2020, the plan's target year).
    pub year: Option<String>,
}

/// The plan's targets and progress
#[utoipa::path(
    get, path = "/api/v1/stats/plan-progress", tag = "statistics",
    params(ProgressQuery),
    responses((status = 200, body = PlanProgress), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[get("/stats/plan-progress")]
pub async fn get_plan_progress(
    state: web::Data<AppState>,
    q: web::Query<ProgressQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let year = match q.year.as_deref() {
        None => 2020,
        Some(y) => y
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .unwrap_or_else(|| {
                errors.push("year", "invalid_year", "a year from 2000 to 2100");
                2020
            }),
    };
    errors.finish()?;
    let p = state.db(move |conn| Ok(plan_progress(conn, year)?)).await?;
    Ok(HttpResponse::Ok().json(p))
}
/// Register-wide counts
#[utoipa::path(
    get, path = "/api/v1/stats/summary", tag = "statistics",
    responses((status = 200, description = "Counts by sector, region and kind", body = Summary))
)]
#[get("/stats/summary")]
pub async fn get_summary(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let s = state.db(|conn| Ok(summary(conn)?)).await?;
    Ok(HttpResponse::Ok().json(s))
}
