//! Applications for certifications and designations, and the review workflow:
//! `draft → submitted → under_review → approved | rejected | changes_requested`,
//! `changes_requested → submitted`, `withdrawn`; designations with a public notice go
//! `approved → in_public_notice → granted`.

pub mod kinds;
pub mod repo;
pub mod routes;
pub mod workflow;
