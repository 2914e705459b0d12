//! Designations the province or state grants: famous-brand products, famous trademarks, and the
//! right to use a geographical-indication mark.

pub mod repo;
pub mod routes;
