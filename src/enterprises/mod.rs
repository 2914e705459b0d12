//! Enterprises: self-registration, verification by market regulation, profiles.

pub mod registration;
pub mod repo;
pub mod routes;
pub mod service;
