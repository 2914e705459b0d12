//! Geographical indications (地理标志): protected areas, defining standards, authorised users.

pub mod repo;
pub mod routes;
