//! Enterprises: self-registration, verification by market regulation, profiles.

pub mod credit;
pub mod identity;
pub mod identity_routes;
pub mod registration;
pub mod repo;
pub mod routes;
pub mod service;
