//! Product registry: the Qinghai register of consumer-goods enterprises, products, standards,
//! certifications and designations. See DESIGN.md in the project's shared folder.

pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod enterprises;
pub mod error;
pub mod health;
pub mod http;
pub mod openapi;
pub mod pagination;
pub mod products;
pub mod reference;
pub mod seeds;
pub mod standards;
pub mod startup;
pub mod state;
pub mod users;
