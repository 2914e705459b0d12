//! Accounts: admin management, lookups for authentication, refresh tokens.

pub mod repo;
pub mod routes;
pub mod service;
