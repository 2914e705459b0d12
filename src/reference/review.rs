//! `GET /api/v1/reference/review`: the operator's view of reference data provenance. Public
//! answers carry the facts only; the notes on where a fact comes from, and whether it is
//! confirmed, are for admins, who check the uncertain rows against the official registers.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{check, Action, Caller, Target};
use crate::db::DbConn;
use crate::error::{ApiResult, Errors, Problem};
use crate::pagination::PageRequest;
use crate::state::AppState;

/// One reference row with its provenance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewItem {
    /// `application_kind`, `certification_body`, `geographical_indication` or `standard`.
    #[schema(example = "application_kind")]
    pub table: &'static str,
    /// The row's stable key: a kind's code, a body's or GI's key, a standard's code.
    #[schema(example = "halal")]
    pub key: String,
    #[schema(example = "清真食品")]
    pub name: String,
    /// Where the fact comes from (issuing body, announcement) and what remains to check.
    #[schema(
        example = "Validity is set by local rule: 24 months is a placeholder to confirm against the Qinghai rule"
    )]
    pub notes: Option<String>,
    /// `confirmed` or `uncertain`.
    #[schema(example = "uncertain")]
    pub confidence: Option<String>,
}

impl ReviewItem {
    fn cursor(&self) -> String {
        format!("{}/{}", self.table, self.key)
    }
}

crate::page_type!(ReviewPage, ReviewItem);

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReviewQuery {
    /// `uncertain` (default), `confirmed`, or `all`.
    #[param(example = "uncertain")]
    pub confidence: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

type Row = (String, String, Option<String>, Option<String>);

/// Every reference row with its provenance, ordered by table then key.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<ReviewItem>> {
    use crate::db::schema::{
        application_kinds as k, certification_bodies as b, geographical_indications as g,
        standards as s,
    };
    let kinds: Vec<Row> = k::table
        .select((k::code, k::name_zh, k::notes, k::confidence))
        .load(conn)?;
    let bodies: Vec<Row> = b::table
        .select((b::key, b::name_zh, b::notes, b::confidence))
        .load(conn)?;
    let gis: Vec<Row> = g::table
        .select((g::key, g::name_zh, g::notes, g::confidence))
        .load(conn)?;
    let standards: Vec<Row> = s::table
        .select((s::code, s::title_zh, s::notes, s::confidence))
        .load(conn)?;
    let mut items: Vec<ReviewItem> = [
        ("application_kind", kinds),
        ("certification_body", bodies),
        ("geographical_indication", gis),
        ("standard", standards),
    ]
    .into_iter()
    .flat_map(|(table, rows)| {
        rows.into_iter()
            .map(move |(key, name, notes, confidence)| ReviewItem {
                table,
                key,
                name,
                notes,
                confidence,
            })
    })
    .collect();
    items.sort_by_key(ReviewItem::cursor);
    Ok(items)
}

#[utoipa::path(
    get, path = "/api/v1/reference/review", tag = "reference",
    summary = "Reference rows to confirm (admins)",
    description = "Reference data with its provenance notes and confidence, which public answers never carry. By default the rows still `uncertain`, for an operator to check against the official registers. Ordered by table, then key.",
    params(ReviewQuery),
    responses(
        (status = 200, description = "One page of rows", body = ReviewPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `confidence`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/reference/review")]
pub async fn review(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ReviewQuery>,
) -> ApiResult<HttpResponse> {
    check(
        caller.actor.as_ref(),
        Action::ManageReference,
        Target::default(),
    )?;
    let mut errors = Errors::new();
    let wanted = match q.confidence.as_deref().map(str::trim) {
        None | Some("") | Some("uncertain") => Some("uncertain"),
        Some("confirmed") => Some("confirmed"),
        Some("all") => None,
        Some(_) => {
            errors.push("confidence", "invalid_value", "uncertain, confirmed or all");
            None
        }
    };
    let page = PageRequest::parse(&mut errors, q.limit.as_deref(), q.cursor.as_deref());
    errors.finish()?;
    let items = state.db(|conn| Ok(all(conn)?)).await?;
    let mut items: Vec<ReviewItem> = items
        .into_iter()
        .filter(|i| wanted.is_none_or(|w| i.confidence.as_deref() == Some(w)))
        .filter(|i| page.after.as_ref().is_none_or(|a| i.cursor() > *a))
        .take(page.fetch() as usize)
        .collect();
    let more = items.len() as i64 > page.limit;
    items.truncate(page.limit as usize);
    let next_cursor = items
        .last()
        .filter(|_| more)
        .map(|i| crate::pagination::encode_cursor(&i.cursor()));
    Ok(HttpResponse::Ok().json(ReviewPage { items, next_cursor }))
}
