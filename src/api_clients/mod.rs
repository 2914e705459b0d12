//! Registered third-party apps: API keys (shown once, stored as SHA-256) with their own quota,
//! and the rate limits every caller of the public API is held to.

pub mod developers;
pub mod limits;
pub mod repo;
pub mod routes;

pub use repo::{find_active_by_key, hash_key};
