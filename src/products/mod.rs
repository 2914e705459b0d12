//! Products: label disclosure, GTINs, sector and category, and the standards they execute.

pub mod profile;
pub mod repo;
pub mod routes;
pub mod service;
pub mod standards_routes;
