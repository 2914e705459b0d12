//! `GET /api/v1/changes`: the public change feed, so apps can stay in sync.
//!
//! Built on the audit trail: entries are numbered under the lock every write transaction takes
//! first, so sequence order is commit order and a reader never sees a later change before an
//! earlier one. Only public changes are served, and only which record changed and how — never
//! the before/after contents.

mod repo;
pub mod routes;

pub use repo::{feed, PUBLIC_ACTIONS};

use serde::Serialize;
use utoipa::ToSchema;

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
