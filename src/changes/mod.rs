//! `GET /api/v1/changes`: the public change feed, so apps can stay in sync.
//!
//! Built on the publication log (`crate::publication`), written in each change's own
//! transaction and numbered under the lock every write transaction takes first: sequence order
//! is commit order, and something that becomes public later (a verified enterprise's products)
//! is published then, after every cursor already handed out. Only which record changed and how
//! is served — never its contents.

mod repo;
pub mod routes;

pub use crate::publication::PUBLIC_ACTIONS;
pub use repo::{feed, href};

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
    /// `enterprise.verify` (published), `product.publish` (its enterprise was verified or
    /// reinstated), `enterprise.suspend` / `enterprise.deregister` with `product.withdraw` for
    /// each of its products (no longer public: drop them), `enterprise.list_dishonest`,
    /// `product.update`.
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
