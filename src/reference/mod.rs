//! Reference data: regions (GB/T 2260), agencies and what they decide, sectors and categories.

pub mod repo;
pub mod routes;
