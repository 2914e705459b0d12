//! Exports of the public register: each public list as one download (CSV, XLSX or JSON Lines),
//! streamed page by page, and signed snapshots of the whole register (`registry export`), from
//! which a mirror follows the change feed.
//!
//! No SQL of its own: every page comes from the list queries of the features it exports, with
//! the visibility of an anonymous caller, so an export shows exactly what the lists show.

pub mod encode;
pub mod routes;
pub mod snapshot;
pub mod sources;
