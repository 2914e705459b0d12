//! Product registry: the Qinghai register of consumer-goods enterprises, products, standards,
//! certifications and designations. See docs/ARCHITECTURE.md for the layout and docs/RULES.md for
//! the rules it enforces.

pub mod api_clients;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod changes;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod enterprises;
pub mod error;
pub mod exports;
pub mod gis;
pub mod health;
pub mod http;
pub mod imports;
pub mod net;
pub mod observe;
pub mod openapi;
pub mod pagination;
pub mod products;
pub mod publication;
pub mod records;
pub mod reference;
pub mod search;
pub mod seeds;
pub mod sessions;
pub mod signing;
pub mod spot_checks;
pub mod standards;
pub mod startup;
pub mod state;
pub mod stats;
pub mod supervision;
pub mod synthetic;
pub mod users;
pub mod verify;
pub mod web;
pub mod webhooks;
