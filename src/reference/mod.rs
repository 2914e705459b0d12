//! Reference data: regions (GB/T 2260), agencies and what they decide, application kinds and their rules, sectors and categories.

pub mod kinds;
pub mod repo;
pub mod review;
pub mod routes;
