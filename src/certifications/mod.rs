//! Certificates (green food, organic, halal …) registered through approved applications.

pub mod repo;
pub mod routes;
