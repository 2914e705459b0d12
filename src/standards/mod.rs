//! The standards catalogue: codes parsed to one canonical form, levels, status and succession.

pub mod repo;
pub mod routes;
pub mod service;
