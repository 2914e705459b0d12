//! Applications for certifications and designations, and their review. The states and who may
//! move an application between them are one table (`machine`); `workflow` takes the steps,
//! `rules` checks an application against its kind, `objections` handles the public notice.

pub mod machine;
pub mod objections;
pub mod record_change;
pub mod renewal;
pub mod repo;
pub mod routes;
pub mod rules;
pub mod views;
pub mod workflow;
