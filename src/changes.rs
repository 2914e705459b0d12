//! `GET /api/v1/changes`: the public change feed, so apps can stay in sync.
//!
//! Built on the audit trail: entries are numbered under the lock every write transaction takes
//! first, so sequence order is commit order and a reader never sees a later change before an
//! earlier one. Only public changes are served, and only which record changed and how — never
//! the before/after contents.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::schema::{audit_log, enterprises, products};
use crate::db::DbConn;
use crate::error::{ApiResult, Errors, Problem};
use crate::state::AppState;

/// Actions that change public data, and the entity types they touch.
pub const PUBLIC_ACTIONS: &[&str] = &[
    "certification.register",
    "certification.suspend",
    "certification.reinstate",
    "certification.revoke",
    "designation.register",
    "designation.suspend",
    "designation.reinstate",
    "designation.revoke",
    "enterprise.verify",
    "enterprise.create",
    "enterprise.create_with_uscc_override",
    "enterprise.update",
    "product.create",
    "product.update",
    "product.declare_standard",
    "product.undeclare_standard",
    "standard.create",
    "standard.update",
    "standard.withdraw",
    "standard.supersede",
];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangeEntry {
    /// Position in the feed; pass the last one you processed as `since`.
    #[schema(example = 1042)]
    pub seq: i64,
    /// `certification`, `designation`, `enterprise`, `product`, `standard`.
    #[schema(example = "certification")]
    pub entity_type: String,
    pub entity_id: String,
    /// What happened, e.g. `certification.revoke`, `designation.register` (granted),
    /// `enterprise.verify` (published), `product.update`.
    #[schema(example = "certification.revoke")]
    pub change: String,
    pub at: chrono::DateTime<chrono::Utc>,
    /// Where to read the record now.
    #[schema(example = "/api/v1/certifications/01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e5f")]
    pub href: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangeFeed {
    pub items: Vec<ChangeEntry>,
    /// Pass as `since` to continue; equal to `since` when nothing new has happened.
    #[schema(example = "1042")]
    pub next_cursor: String,
    /// False when the page was full and more changes follow at once.
    pub up_to_date: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `next_cursor` of the previous call; omit (or 0) to start from the beginning.
    pub since: Option<String>,
    /// Page size, 1-1000 (default 100).
    pub limit: Option<String>,
}

fn href(entity_type: &str, id: &str) -> String {
    let collection = match entity_type {
        "certification" => "certifications",
        "designation" => "designations",
        "enterprise" => "enterprises",
        "product" => "products",
        "standard" => "standards",
        other => other,
    };
    format!("/api/v1/{collection}/{id}")
}

/// Public changes after `since`, in order. An entity of an enterprise that is not active (now)
/// is left out: its data is not public.
pub fn feed(conn: &mut DbConn, since: i64, limit: i64) -> QueryResult<ChangeFeed> {
    // Scan a bounded window of the log: private entries between public ones must not make a
    // page arbitrarily expensive.
    let scan = limit * 4;
    let rows: Vec<(i64, String, String, String, chrono::NaiveDateTime)> = audit_log::table
        .filter(audit_log::seq.gt(since))
        .order(audit_log::seq.asc())
        .limit(scan)
        .select((
            audit_log::seq,
            audit_log::entity_type,
            audit_log::entity_id,
            audit_log::action,
            audit_log::created_at,
        ))
        .load(conn)?;
    let scanned_full = rows.len() as i64 == scan;
    let candidates: Vec<_> = rows
        .iter()
        .filter(|r| PUBLIC_ACTIONS.contains(&r.3.as_str()))
        .collect();
    // Which of the touched enterprises and products are public now.
    let ent_ids: Vec<&String> = candidates
        .iter()
        .filter(|r| r.1 == "enterprise")
        .map(|r| &r.2)
        .collect();
    let prod_ids: Vec<&String> = candidates
        .iter()
        .filter(|r| r.1 == "product")
        .map(|r| &r.2)
        .collect();
    let active_ents: Vec<String> = enterprises::table
        .filter(enterprises::id.eq_any(&ent_ids))
        .filter(enterprises::status.eq("active"))
        .select(enterprises::id)
        .load(conn)?;
    let public_products: Vec<String> = products::table
        .inner_join(enterprises::table)
        .filter(products::id.eq_any(&prod_ids))
        .filter(enterprises::status.eq("active"))
        .select(products::id)
        .load(conn)?;
    let mut items = Vec::new();
    let mut next = since;
    let mut page_full = false;
    for (seq, entity_type, entity_id, action, at) in &rows {
        next = *seq;
        let public = PUBLIC_ACTIONS.contains(&action.as_str())
            && match entity_type.as_str() {
                "enterprise" => active_ents.contains(entity_id),
                "product" => public_products.contains(entity_id),
                _ => true,
            };
        if public {
            items.push(ChangeEntry {
                seq: *seq,
                href: href(entity_type, entity_id),
                entity_type: entity_type.clone(),
                entity_id: entity_id.clone(),
                change: action.clone(),
                at: crate::clock::to_utc(*at),
            });
            if items.len() as i64 == limit {
                page_full = true;
                break;
            }
        }
    }
    Ok(ChangeFeed {
        items,
        next_cursor: next.to_string(),
        up_to_date: !page_full && !scanned_full,
    })
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
